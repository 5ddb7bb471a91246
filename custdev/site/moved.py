"""Old quote and turn links: a URL whose id went away leads to what replaced it, or to its interview with a note.

``custdev build`` keeps an edited quote's id when it can pair it (custdev/links.py) and records the ids it could
not keep in ``link_aliases``. Datasette answers a missing row with a 404; this handler looks the id up first.
"""

from __future__ import annotations

import re

from datasette.utils.asgi import NotFound, Response

from custdev.site.common import fetch_rows, has_tables, row_pk
from custdev.site.settings import DB_NAME

_ROW = re.compile(rf"^/{DB_NAME}/(quotes|utterances)/(\d+)$")
KIND = {"quotes": "quote", "utterances": "turn"}
MOVED_ARG = "_moved"  # ?_moved=quote-<id> on the interview page shows the note


def _row_path(datasette, request) -> str:
    path = request.path
    prefix = datasette.setting("base_url").rstrip("/")
    return path[len(prefix):] if prefix and path.startswith(prefix) else path


async def moved_response(datasette, request, exception):
    """A redirect for a vanished quote/turn id, or None (Datasette's own 404 then)."""
    if not isinstance(exception, NotFound) or request is None or DB_NAME not in datasette.databases:
        return None
    m = _ROW.match(_row_path(datasette, request))
    if not m:
        return None
    db = datasette.get_database(DB_NAME)
    if not await has_tables(db, "link_aliases"):
        return None
    table, kind, old = m.group(1), KIND[m.group(1)], int(m.group(2))
    rows = await fetch_rows(db, """
        select a.interview_id, a.target_id from link_aliases a join interviews i on i.id = a.interview_id
        where a.kind = ? and a.id = ?
    """, [kind, old])
    if not rows:
        return None
    target = rows[0]["target_id"]
    if target is not None and await fetch_rows(db, f"select 1 from {table} where id = ?", [target]):
        return Response.redirect(datasette.urls.row(DB_NAME, table, row_pk(target)), status=301)
    url = datasette.urls.row(DB_NAME, "interviews", row_pk(rows[0]["interview_id"]))
    return Response.redirect(f"{url}?{MOVED_ARG}={kind}-{old}", status=302)


async def moved_note(db, request, interview_id: str) -> dict | None:
    """For ``?_moved=quote-<id>`` on an interview page: what the old link showed, if it belonged here."""
    value = request.args.get(MOVED_ARG) or ""
    m = re.fullmatch(r"(quote|turn)-(\d+)", value)
    if not m or not await has_tables(db, "link_aliases"):
        return None
    rows = await fetch_rows(db, "select kind, text from link_aliases where kind = ? and id = ? and interview_id = ?",
                            [m.group(1), int(m.group(2)), interview_id])
    return rows[0] if rows else None
