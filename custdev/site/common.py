"""Helpers shared by the site's pages and routes: the site's options, small SQL helpers, links, caches."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from markupsafe import escape

from custdev.i18n import N_
from custdev.site.settings import DB_NAME, SiteOptions

METHOD_NOT_ALLOWED = N_("Method not allowed")  # the answer of custdev's own routes to a method they do not take


def html_text(value) -> str:
    """What Jinja's autoescaped ``{{ value }}`` writes: Markup as it is, anything else escaped (None as "None"). A plain
    str with markupsafe's five replacements, without its Markup object: the table and search pages write thousands."""
    if type(value) is str:
        return value.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;").replace("'", "&#39;").replace('"', "&#34;")
    return str(escape(value))


def site_options(datasette) -> SiteOptions:
    options = getattr(datasette, "_custdev_site", None)
    if options is None:
        # Plain `datasette custdev.db`: audio paths are relative to the database's folder.
        root = None
        if DB_NAME in datasette.databases and datasette.databases[DB_NAME].path:
            root = Path(datasette.databases[DB_NAME].path).resolve().parent
        options = SiteOptions(root=root)
        datasette._custdev_site = options
    return options


def is_custdev(datasette) -> bool:
    return DB_NAME in datasette.databases


async def has_tables(db, *names: str) -> bool:
    key = (db.path, db_stamp(db.path)) if db.path else None
    present = _names_cache.get(key) if key else None
    if present is None:  # two queries of sqlite_master, for every page: kept until the database file changes
        present = frozenset(await db.table_names()) | frozenset(await db.view_names())
        if key:
            _names_cache.put(key, present)
    return all(n in present for n in names)


async def has_rows(db, table: str) -> bool:
    """Whether ``table`` holds any row (asked on every search page: kept until the database file changes)."""
    key = (db.path, db_stamp(db.path), table) if db.path else None
    known = _rows_cache.get(key) if key else None
    if known is None:
        known = bool((await db.execute(f"select exists(select 1 from [{table}])")).rows[0][0])
        if key:
            _rows_cache.put(key, known)
    return known


async def fetch_rows(db, sql: str, params=None) -> list[dict]:
    result = await db.execute(sql, params or [])
    return [dict(r) for r in result.rows]


def link_to(datasette, path: str, **args) -> str:
    args = {k: v for k, v in args.items() if v not in (None, "")}
    return datasette.urls.path(path) + (("?" + urlencode(args)) if args else "")


def format_time(seconds) -> str:
    if seconds is None or seconds == "":
        return ""
    total = int(float(seconds))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def unsure_words(value) -> list[str]:
    """Jinja filter ``custdev_unsure``: a quote's or turn's ``unsure`` column (JSON list or NULL) -> the doubted words."""
    import json

    if not value:
        return []
    try:
        words = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return []
    return [str(w) for w in words] if isinstance(words, list) else []


@lru_cache(maxsize=8192)  # 100 links a search page, the same interviews again and again; tilde_encode works per byte
def row_pk(value) -> str:
    from datasette.utils import tilde_encode

    return tilde_encode(str(value))


def db_stamp(path: str | None) -> tuple:
    stamp = []
    for suffix in ("", "-wal"):
        try:
            st = os.stat(f"{path}{suffix}")
            stamp.append((st.st_mtime_ns, st.st_size))
        except OSError:
            stamp.append(None)
    return tuple(stamp)


class LRU:
    """A small least-recently-used cache. Keys carry the database file's stamp, so a build invalidates them."""

    def __init__(self, size: int):
        from collections import OrderedDict

        self.size = size
        self.data: "OrderedDict[Any, Any]" = OrderedDict()

    def get(self, key):
        if key in self.data:
            self.data.move_to_end(key)
            return self.data[key]
        return None

    def put(self, key, value) -> None:
        self.data[key] = value
        self.data.move_to_end(key)
        while len(self.data) > self.size:
            self.data.popitem(last=False)


_codebook_cache = LRU(8)
_rows_cache = LRU(16)
_names_cache = LRU(8)


async def codebook_titles(db) -> dict[str, dict[str, str]]:
    """Segment, pain and tag titles by slug (cached until the database changes)."""
    key = (db.path, db_stamp(db.path))
    cached = _codebook_cache.get(key)
    if cached is None:
        cached = {"segment": {}, "pain": {}, "tag": {}}
        if await has_tables(db, "segments", "pains", "tags"):
            cached["segment"] = {r["slug"]: r["title"] for r in await fetch_rows(db, "select slug, title from segments order by title")}
            cached["pain"] = {r["slug"]: r["title"] for r in await fetch_rows(db, "select slug, title from pains order by title")}
            cached["tag"] = {r["name"]: r["name"] for r in await fetch_rows(db, "select name from tags order by name")}
        _codebook_cache.put(key, cached)
    return cached


async def require_view(datasette, request) -> None:
    await datasette.ensure_permissions(request.actor, [("view-database", DB_NAME), "view-instance"])
