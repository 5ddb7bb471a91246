"""How the site runs its two heaviest queries, for the same results at a fraction of the cost.

* The ``search`` canned query (the "Search everything" page and its JSON): the matches are materialised once per
  request (``HITS_SQL``, the same CTEs, filters and cap as ``SEARCH_SQL``) and both the 50 best hits (the tail of
  ``SEARCH_SQL``, same columns and order) and, for the HTML page, the facet counts come from them. Before, the page
  ran the full-text match twice (``SEARCH_SQL``, then ``FACETS_SQL``) and counted the facets with an index probe per
  match; now the counts are summed in Python from per-base maps (interview → segments, quote → pains and tags),
  reloaded whenever the database file changes. The matches are ranked by :mod:`custdev.site.rank` (bm25()'s numbers,
  without FTS5 recounting every word's rows on each search) wherever it can give bm25()'s numbers, else by bm25().
* Datasette's table search (``/custdev/utterances?_search=…``) counts its matches with
  ``count(*) … where id in (select rowid from utterances_fts …)``: a look-up in the 1.5 M-row table per match
  (74,000 for a common word). The full-text index holds exactly the rows of its table (``custdev build`` writes both
  in one transaction), so the count is taken on the index alone; the first page takes the first matches from the
  index in id order, instead of collecting every match first. The same numbers and rows, from the index.

Both are installed on the base's Datasette database object at start-up (:func:`install`), with the cache of its
schema questions (:mod:`custdev.site.schema_cache`); any other SQL runs as Datasette would run it.
"""

from __future__ import annotations

import heapq
import os
import re
import sqlite3
import threading
import time
from collections import Counter

from markupsafe import Markup

from custdev.site import rank, schema_cache
from custdev.site.common import LRU, db_stamp, html_text
from custdev.site.searchsql import (BEST_OF_HITS_SQL, FACETS_OF_HITS_SQL, HITS_SCORED_SQL, HITS_SQL, SEARCH_FILTERS, SEARCH_SQL,
                                   site_fts_query)

FACETS_TIME_LIMIT_MS = 1500  # as the facet query had: past it the page says the counts were skipped

# Datasette's table-search SQL for a table whose FTS index has exactly its rows (rowid = id): rank.FTS_TABLES.
_TABLE_COUNT = re.compile(r"select count\(\*\) from (\w+) where id in \(select rowid from (\w+) where \2 match escape_fts\(:search\)\) ")
_TABLE_PAGE = re.compile(
    r"(select [\w, ]+ from (\w+) where id in \(select rowid from (\w+) where \3 match escape_fts\(:search\))\) order by id limit (\d+)"
)


def table_search_sql(sql: str) -> str:
    """Datasette's count and first page of a table search on the full-text index alone (other SQL unchanged)."""
    m = _TABLE_COUNT.fullmatch(sql)
    if m and rank.FTS_TABLES.get(m.group(1)) == m.group(2):
        return f"select count(*) from {m.group(2)} where {m.group(2)} match escape_fts(:search)"
    m = _TABLE_PAGE.fullmatch(sql)
    if m and rank.FTS_TABLES.get(m.group(2)) == m.group(3):
        return f"{m.group(1)} order by rowid limit {m.group(4)}) order by id limit {m.group(4)}"
    return sql


_maps_cache = LRU(2)
_maps_lock = threading.Lock()


def _facet_maps(conn: sqlite3.Connection, key) -> tuple[dict, dict, dict, dict]:
    """interview → segments, quote → pains, quote → tags, quote → its turn's speaker role, for the database as it is
    now (cached per file stamp)."""
    maps = _maps_cache.get(key)
    if maps is None:
        with _maps_lock:
            maps = _maps_cache.get(key)
            if maps is None:
                def group(sql: str) -> dict:
                    out: dict = {}
                    for k, v in conn.execute(sql):
                        out.setdefault(k, []).append(v)
                    return out

                maps = (group("select interview_id, segment from interview_segments"),
                        group("select quote_id, pain from quote_pains"),
                        group("select quote_id, tag from quote_tags"),
                        dict(conn.execute("select q.id, u.speaker_role from quotes q join utterances u on u.id = q.utterance_id")))
                _maps_cache.put(key, maps)
    return maps


SETTLE_S = 2.0  # a database file unchanged this long is not being built: worth loading the facet maps for
_first_seen: dict = {}


def _settled(stamp_key) -> bool:
    now = time.monotonic()
    if stamp_key not in _first_seen:
        if len(_first_seen) > 256:
            _first_seen.clear()
        _first_seen[stamp_key] = now
    return now - _first_seen[stamp_key] >= SETTLE_S


def _fetch_utf8(conn: sqlite3.Connection, sql: str) -> list[tuple]:
    """Plain tuples, text through Python's own UTF-8 decoder instead of the connection's ``text_factory``
    (Datasette's is a Python call per value, for bytes that are not UTF-8): up to 2,000 hits a page. custdev build
    writes only UTF-8; text that is not raises sqlite3.OperationalError, and the caller counts by SQL instead."""
    factory = conn.text_factory
    cursor = conn.cursor()
    cursor.row_factory = None
    conn.text_factory = str
    try:
        return cursor.execute(sql).fetchall()
    finally:
        conn.text_factory = factory
        cursor.close()  # a failed fetch leaves no statement open on the temp table the caller drops


def facet_counts(conn: sqlite3.Connection, stamp_key, *, maps: bool | None = None) -> dict[str, list[tuple]]:
    """The facet counts of the hits in ``temp.custdev_hits``: what FACETS_SQL gives, as {facet: [(value, n)]}.

    From the per-base maps (``maps=True``) or, while the database file keeps changing (a build is writing), by SQL
    over the materialised hits: reloading the maps on every change would cost more than the counts."""
    if maps is None:
        maps = _maps_cache.get(stamp_key) is not None or _settled(stamp_key)
    if not maps:
        by: dict[str, list[tuple]] = {}
        for facet, value, n in conn.execute(FACETS_OF_HITS_SQL):
            by.setdefault(facet, []).append((value, n))
        return by
    hits = _fetch_utf8(conn, "select quote_id, interview_id, role from temp.custdev_hits")
    segments, pains, tags, roles = _facet_maps(conn, stamp_key)
    quote_ids = [q for q, _, _ in hits if q is not None]
    kind = Counter({"quote": len(quote_ids), "utterance": len(hits) - len(quote_ids)})
    interview = Counter(i for _, i, _ in hits)
    speaker = Counter(r for q, _, r in hits if q is None)
    speaker.update(roles[q] for q in quote_ids if q in roles)  # a quote's speaker is its turn's
    segment: Counter = Counter()
    for interview_id, n in interview.items():
        for s in segments.get(interview_id, ()):
            segment[s] += n
    pain = Counter(p for q in quote_ids for p in pains.get(q, ()))
    tag = Counter(t for q in quote_ids for t in tags.get(q, ()))
    top = heapq.nsmallest(12, interview.items(), key=lambda vn: (-vn[1], vn[0]))  # = sorted(...)[:12], as the SQL's order by n desc, id
    out = {"kind": [(k, n) for k, n in kind.items() if n], "speaker": list(speaker.items()), "segment": list(segment.items()),
           "pain": list(pain.items()), "tag": list(tag.items()), "interview": top}
    return {k: v for k, v in out.items() if v}


WARM_UP_QUERY = "оплата счетов"  # a Russian word makes pymorphy3 load its dictionaries


async def warm_up(db) -> None:
    """What the first search of a server process would otherwise load while the user waits: pymorphy3's
    dictionaries, the dictionary forms the build stored in the base, the facet maps (10,000-interview base: the first
    search page of each process took 0.4 and 0.7 s, now 0.27 and 0.32 s). Never fails: a base without these tables
    is searched without them, as before."""
    def run(conn):
        site_fts_query(WARM_UP_QUERY)
        try:
            _facet_maps(conn, (db.path, db_stamp(db.path)))
        except sqlite3.Error:
            pass

    try:
        await db.execute_fn(run)
    except Exception:  # noqa: BLE001 - only a warm-up: the first search loads what it needs itself
        pass


def install(datasette, db) -> None:
    """Route the ``search`` canned query and table-search counts of ``db`` (the base) through this module."""
    if getattr(db, "_custdev_queries", False):
        return
    db._custdev_queries = True
    original = db.execute
    schema_cache.install(db)
    # Datasette writes each failing query to stderr with its parameters ("ERROR: …, params = {'p0':
    # 'olga-kuznetsova'}"): a viewer's filter values, respondents' ids among them. The page still shows the error;
    # the terminal gets nothing unless CUSTDEV_DEBUG=1 (as with tracebacks, custdev.site.app.quiet_tracebacks), even
    # where Datasette asks for the log (its custom SQL and canned query pages always do).
    log_errors = bool(os.environ.get("CUSTDEV_DEBUG"))

    async def execute(sql, params=None, truncate=False, custom_time_limit=None, page_size=None, log_sql_errors=False):
        if sql is SEARCH_SQL or sql == SEARCH_SQL:
            try:
                return await _search(datasette, db, params, custom_time_limit)
            except _NoTempTable:  # a connection that may not even write its temp tables (PRAGMA query_only)
                pass

        def run():
            return original(table_search_sql(sql), params, truncate=truncate, custom_time_limit=custom_time_limit,
                            page_size=page_size, log_sql_errors=log_sql_errors and log_errors)

        cached = await schema_cache.table_name_rows(db, sql, params, run)
        return cached if cached is not None else await run()

    db.execute = execute


class _NoTempTable(Exception):
    pass


async def _search(datasette, db, params, custom_time_limit):
    import datasette.database as dd

    raw = {k: (params.get(k) if params is not None else None) or "" for k in ("q", *SEARCH_FILTERS)}
    values = {k: str(v) for k, v in raw.items()}
    request = getattr(params, "_request", None)  # Datasette's MagicParameters of the canned query
    stripped = {k: v.strip() for k, v in values.items()}
    # The HTML page shows facet counts (custdev.site.pages.search_data); the JSON and CSV do not.
    want_facets = (request is not None and not request.url_vars.get("format") and stripped["q"] and stripped == values)
    time_limit = datasette.sql_time_limit_ms
    if custom_time_limit and custom_time_limit < time_limit:
        time_limit = custom_time_limit

    def run(conn):
        stamp = (db.path, db_stamp(db.path))
        # The query's FTS expression once before the time limit starts: the first Russian word a server process sees
        # loads pymorphy3's dictionaries (seconds on a busy machine), which must not count as the query's time.
        expr = site_fts_query(values["q"])
        try:
            with dd.sqlite_timelimit(conn, time_limit):
                if conn.execute("pragma query_only").fetchone()[0]:
                    raise _NoTempTable()
                conn.execute("drop table if exists temp.custdev_hits")
                _materialise_hits(conn, stamp, expr, values)
                cursor = conn.execute(BEST_OF_HITS_SQL, values)
                rows = cursor.fetchall()
                description = cursor.description
        except sqlite3.OperationalError as e:
            if e.args == ("interrupted",):
                raise dd.QueryInterrupted(e, SEARCH_SQL, values)
            raise
        facets = None
        if want_facets:
            try:
                with dd.sqlite_timelimit(conn, FACETS_TIME_LIMIT_MS):
                    facets = facet_counts(conn, stamp)
            except sqlite3.OperationalError:
                facets = None  # the page runs its own facet query then, with its own time limit and message
        conn.execute("drop table if exists temp.custdev_hits")
        if facets is not None:
            from custdev.site.pages import _facet_cache

            _facet_cache.put((db.path, stamp[1], tuple(sorted(stripped.items()))), facets)
        return dd.Results(rows, False, description)

    return await db.execute_fn(run)


def _materialise_hits(conn: sqlite3.Connection, stamp, expr: str, values: dict) -> None:
    """temp.custdev_hits: HITS_SQL's rows, ranked by custdev.site.rank (bm25's numbers without its recount of each
    word's rows) where it can, else by bm25()."""
    scorers = rank.scorers(conn, stamp, expr)
    if scorers is not None:
        conn.execute("create temp table custdev_hits as " + HITS_SCORED_SQL, values)
        if not scorers.unsafe:
            return
        conn.execute("drop table temp.custdev_hits")
    conn.execute("create temp table custdev_hits as " + HITS_SQL, values)


# The search page's HTML: Datasette's own view, less the cells it formats for a template that never shows them.
SEARCH_TEMPLATE = "query-custdev-search.html"


def search_route(datasette):
    """The route of ``/custdev/search`` (and its .json and .csv): Datasette's canned-query view (pinned to 0.65 in
    pyproject.toml), except that for custdev's search page template it skips ``display_rows``: 50 rows × 13 cells
    through the ``render_cell`` hook, which Datasette's generic query template shows and ours does not."""
    from datasette.utils import tilde_decode
    from datasette.views.database import QueryView
    from datasette.views.table import TableView

    class SearchQueryView(QueryView):
        async def data(self, request, sql, **kwargs):
            result = await super().data(request, sql, **kwargs)
            if not isinstance(result, tuple) or len(result) != 4 or not callable(result[1]):
                return result
            data, extra_template, templates, status = result
            if self.ds.jinja_env.select_template(templates).name != SEARCH_TEMPLATE:
                return result  # a --template-dir override of the page: it gets every extra

            async def without_display_rows():
                rows = data["rows"]  # the very list the extras iterate; empty while they are made
                kept = list(rows)
                rows.clear()
                try:
                    return await extra_template()
                finally:
                    rows[:] = kept

            return data, without_display_rows, templates, status

    class SearchTableView(TableView):
        async def data(self, request, default_labels=False, _next=None, _size=None):
            db = self.ds.get_database(route=tilde_decode(request.url_vars["database"]))
            canned = await self.ds.get_canned_query(db.name, tilde_decode(request.url_vars["table"]), request.actor)
            if not canned or canned.get("write"):
                return await super().data(request, default_labels, _next, _size)
            return await SearchQueryView(self.ds).data(
                request, canned["sql"], metadata=canned, editable=False, canned_query=canned["name"],
                named_parameters=canned.get("params"), write=False,
            )

    return SearchTableView.as_view(datasette)


RESULTS_TEMPLATE = "_custdev_search_results.html"


def search_results_renderer(env):
    """The global ``custdev_search_results(hits)`` of the search page: its facets and hits, rendered by a synchronous
    copy of the site's Jinja environment (same loader, filters, globals and catalogs). Datasette renders pages with
    Jinja's async mode, where every loop step and call of the 50 hits is awaited; this part of the page costs ~4 ms
    of CPU this way (with the link prefixes made once a page, the search page's server CPU went 59 -> 50 ms)."""
    from jinja2 import pass_context

    sync = env.overlay(cache_size=50)  # its own cache: the async env's compiled templates must not be reused here
    sync.is_async = False

    @pass_context
    def render(ctx, hits) -> Markup:
        return Markup(sync.get_template(RESULTS_TEMPLATE).render({**ctx.get_all(), "hits": hits}))

    return render


def search_hits_html(hits, q, interviews_url: str, quotes_url: str, labels: dict) -> Markup:
    """The search page's list of hits (``_custdev_search_results.html``), written in Python: Jinja's loop over the 50
    hits was 2.4 ms of a search page's CPU. The same markup and escaping as that loop (tests/test_site_speed.py keeps
    a copy of it to compare); ``labels`` are the page's translated labels, from the template."""
    from custdev.site.common import format_time, row_pk, unsure_words
    from custdev.site.searchsql import highlight_html

    quote, turn = html_text(labels["quote"]), html_text(labels["turn"])
    roles = {"interviewer": html_text(labels["interviewer"]), "respondent": html_text(labels["respondent"])}
    meaning = (f'<span class="cd-badge cd-badge-meaning" title="{html_text(labels["meaning_title"])}">'
               f'{html_text(labels["meaning"])}</span>')
    out = []
    for row in hits:
        kind, role = row["kind"], row["speaker_role"]
        interview_url = html_text(interviews_url + row_pk(row["interview_id"]))
        if kind == "quote":
            link = f'<a href="{html_text(quotes_url + row_pk(row["quote_id"]))}">'
        else:
            link = f'<a href="{interview_url}#turn-{html_text(row["utterance_id"])}">'
        start = row["start_s"]
        doubt = unsure_words(row["unsure"]) if row.get("unsure") else None
        if doubt:
            words = ", ".join(f'<q class="cd-unsure-word">{html_text(w)}</q>' for w in doubt)
            doubt = f'<p class="cd-unsure cd-unsure-small" role="note">⚠ {html_text(labels["unsure"])} {words}</p>'
        kind_html = html_text(kind)
        out.append(
            f'\n      <li class="cd-hit cd-hit-{kind_html}">'
            f'\n        <div class="cd-hit-meta">'
            f'\n          <span class="cd-badge cd-badge-{kind_html}">{quote if kind == "quote" else turn}</span>'
            f'\n          <span class="cd-speaker role-{html_text(role)}">{html_text(row["speaker"])}</span>'
            f'\n          <span class="cd-muted">{roles[role] if role in roles else html_text(role)}</span>'
            f'\n          {"" if start is None else f"""<span class="cd-time-label">{html_text(format_time(start))}</span>"""}'
            f'\n          {meaning if row.get("meaning_only") else ""}'
            f'\n        </div>'
            f'\n        <p class="cd-snippet">'
            f'\n          {link}{html_text(highlight_html(row["text"], q))}</a>'
            f'\n        </p>'
            f'\n        {doubt or ""}'
            f'\n        <p class="cd-hit-source"><a href="{interview_url}">{html_text(row["interview_title"] or row["interview_id"])}</a></p>'
            f'\n      </li>'
            f'\n      '
        )
    return Markup("".join(out))
