"""Datasette's questions about the base's schema, answered once per database state instead of once per page.

A table page of Datasette 0.65 asks SQLite about the table's columns, keys, foreign keys, definition and name about
16 times (``table_columns`` three times, ``get_table_definition`` four), each a round trip through the database's
small thread pool. Under load every round trip waits behind the searches queued there, so a table search spent
most of its time waiting: 20 round trips a page, 4 once these are cached. The answers depend only on the schema;
they are kept per database file stamp (its and its WAL's size and time), so a build or any other write starts afresh.
"""

from __future__ import annotations

from custdev.site.common import LRU, db_stamp

# Database methods whose result is a function of the schema (and their arguments) only.
SCHEMA_METHODS = (
    "table_exists", "table_names", "view_names", "table_columns", "table_column_details", "primary_keys", "fts_table",
    "label_column_for_table", "foreign_keys_for_table", "hidden_table_names", "get_all_foreign_keys",
    "get_table_definition", "get_view_definition",
)
# The one SQL of Datasette.permission_allowed("view-table"): a table's name as SQLite spells it.
TABLE_NAME_SQL = "select name from sqlite_master where type in ('table', 'view') and name = ? collate nocase"


def _copy(value):
    return list(value) if isinstance(value, list) else dict(value) if isinstance(value, dict) else value


def install(db) -> None:
    """Cache ``db``'s schema methods (on this object only; other databases are untouched)."""
    if getattr(db, "_custdev_schema_cache", None) is not None:
        return
    cache = db._custdev_schema_cache = LRU(512)

    def cached(name, method):
        async def wrapper(*args):
            key = (db_stamp(db.path), name, args)
            hit = cache.get(key)  # (value,): a method may answer None
            if hit is None:
                hit = (await method(*args),)
                cache.put(key, hit)
            return _copy(hit[0])  # callers may extend the lists they get

        wrapper.__name__ = name
        return wrapper

    for name in SCHEMA_METHODS:
        method = getattr(db, name, None)
        if method is not None:
            setattr(db, name, cached(name, method))


async def table_name_rows(db, sql: str, params, run):
    """The rows of TABLE_NAME_SQL from the cache, or None for any other SQL. ``run`` executes it once."""
    if sql != TABLE_NAME_SQL or not params or len(params) != 1:
        return None
    cache = getattr(db, "_custdev_schema_cache", None)
    if cache is None:
        return None
    key = (db_stamp(db.path), "table_name", tuple(params))
    result = cache.get(key)
    if result is None:
        result = await run()
        cache.put(key, result)
    return result
