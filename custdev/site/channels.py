"""The site's channel facet: how many survey comments, tickets and chat messages match a search, next to the
interview hits, each linking to the ``search_responses`` canned query (datasette_metadata.json)."""

from __future__ import annotations

import sqlite3

from custdev.i18n import N_
from custdev.site.common import has_rows, has_tables, link_to
from custdev.site.settings import DB_NAME, SEARCH_CAP

CHANNEL_LABELS = {"interview": N_("Interviews"), "survey": N_("Survey comments"), "ticket": N_("Support tickets"),
                  "chat": N_("Chat messages")}

CHANNEL_COUNTS_SQL = f"""
select channel, count(*) as n from (
  select r.channel from responses_fts join responses r on r.id = responses_fts.rowid
  where responses_fts match custdev_match(:q)
    and (:segment = '' or r.segment = :segment)
    and (:pain = '' or r.id in (select response_id from response_codes where kind = 'pain' and code = :pain))
  limit {SEARCH_CAP}
) group by channel
"""


async def channel_facet(datasette, db, q: str, current: dict, interview_hits: int | None, _=lambda text: text) -> dict | None:
    """The Channel facet for the search page, or None when the base has no channel responses matching; ``_``: the
    page's gettext."""
    if not q or not await has_tables(db, "responses", "responses_fts") or not await has_rows(db, "responses"):
        return None
    from datasette.database import QueryInterrupted

    try:
        rows = (await db.execute(CHANNEL_COUNTS_SQL, {"q": q, "segment": current.get("segment", ""), "pain": current.get("pain", "")},
                                 custom_time_limit=1000)).rows
    except (QueryInterrupted, sqlite3.DatabaseError):  # the facet is optional: never fail the search page for it
        return None
    counts = {r["channel"]: r["n"] for r in rows}
    if not counts:
        return None
    items = [{"value": "interview", "label": _(CHANNEL_LABELS["interview"]), "count": interview_hits or 0, "selected": True,
              "href": link_to(datasette, f"/{DB_NAME}/search", q=q, **current)}]
    for channel in ("survey", "ticket", "chat"):
        if counts.get(channel):
            items.append({"value": channel, "label": _(CHANNEL_LABELS[channel]), "count": counts[channel], "selected": False,
                          "href": link_to(datasette, f"/{DB_NAME}/search_responses", q=q, channel=channel,
                                          segment=current.get("segment", ""), pain=current.get("pain", ""))})
    return {"name": "channel", "label": _("Channel"), "items": items}
