"""CPU time per request of the site's search pages, in process (no HTTP server, no clients competing for the cores).

    python bench/site_cpu.py --base DIR [--n 60] [--unique]

Serves the base's Datasette in this process (``Datasette.client``) and requests each search path one after another,
measuring this process's CPU time (all threads: Datasette's SQL threads too) per request: the search page, its JSON
and Datasette's table search. On a shared machine this is the figure to compare; wall-clock load tests are not.

``--sql-only`` runs just the SQLite work of the same requests on one connection (the search's match, its ranking
as the site ranks (custdev.site.rank) and 50 best hits; the table search's count and first page, as the site rewrites them), with a trivial snippet
function: the floor under any web layer, and what it leaves for 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


async def measure(ds, paths: list[tuple[str, str]], rounds: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """CPU ms per request of each kind: the whole process, and its main thread alone (the web layer: Datasette's
    views, custdev's page data, templates; SQLite runs in Datasette's threads)."""
    out: dict[str, list[float]] = {}
    web: dict[str, list[float]] = {}
    for r in range(rounds):
        for kind, path in paths:
            c0, t0 = time.process_time(), time.thread_time()
            resp = await ds.client.get(path)
            ms, web_ms = (time.process_time() - c0) * 1000, (time.thread_time() - t0) * 1000
            if resp.status_code != 200:
                raise SystemExit(f"{path}: HTTP {resp.status_code}")
            if r or rounds == 1:  # the first round of several warms templates and caches
                out.setdefault(kind, []).append(ms)
                web.setdefault(kind, []).append(web_ms)
    return out, web


def main(argv=None) -> None:
    from bench.load_bench import QUERIES, path_for, unique_queries
    from custdev.config import load_base
    from custdev.site.app import make_datasette, quiet_tracebacks

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=Path, required=True)
    ap.add_argument("--n", type=int, default=60, help="unique queries (with --unique)")
    ap.add_argument("--unique", action="store_true", help="different searches each (as load_bench's run), else the 16 fixed ones twice")
    ap.add_argument("--kind", default="", help="only this kind: search, json or table")
    ap.add_argument("--no-meaning", action="store_true", help="leave out the meaning part of search (as on a base without vectors)")
    ap.add_argument("--sql-only", action="store_true", help="only the SQLite work of each request (see above)")
    args = ap.parse_args(argv)
    if args.sql_only:
        return sql_only(args)
    if args.no_meaning:
        import custdev.site.meaning

        async def no_vectors(db):
            return False

        custdev.site.meaning._has_vectors = no_vectors
    quiet_tracebacks()
    ds = make_datasette(load_base(args.base))
    queries = unique_queries(args.n, seed=3) if args.unique else QUERIES
    paths = [(k, path_for(k, p)) for k, p in queries if not args.kind or k == args.kind]

    async def run():
        for kind, path in paths[:3]:  # warm templates, plugin and page cache
            await ds.client.get(path)
        warm_up = getattr(ds, "_custdev_warm_up", None)
        if warm_up is not None:  # the server's start-up loading (dictionaries, facet maps) is no request's cost
            await warm_up
        return await measure(ds, paths, 1 if args.unique else 2)

    res, web = asyncio.run(run())
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; CPU ms per request, in process "
          "(web: the main thread alone)")
    mix = MIX
    for kind, ms in sorted(res.items()):
        print(f"  {kind:7s} n={len(ms):3d}  median {statistics.median(ms):6.1f}  mean {statistics.fmean(ms):6.1f}  max {max(ms):6.1f}"
              f"  web median {statistics.median(web[kind]):5.1f}")
    if set(res) == set(mix):
        mean = sum(statistics.fmean(res[k]) * w for k, w in mix.items())
        print(f"  bench mix (70/20/10): {mean:.1f} ms CPU per request -> at most {2000 / mean:.0f} requests/s on 2 cores")


MIX = {"search": 0.7, "json": 0.2, "table": 0.1}  # load_bench's unique searches: 70 % pages, 20 % JSON, 10 % table


def sql_only(args) -> None:
    import sqlite3

    from bench.load_bench import unique_queries
    from custdev.db import MMAP_BYTES
    from custdev.site.common import db_stamp
    from custdev.site.queries import _materialise_hits, table_search_sql
    from custdev.site.searchsql import BEST_OF_HITS_SQL, SEARCH_FILTERS, load_base_lemmas, site_fts_query

    conn = sqlite3.connect(args.base / "custdev.db")
    conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
    for name in ("custdev_match", "escape_fts"):
        conn.create_function(name, 1, site_fts_query, deterministic=True)
    conn.create_function("custdev_snippet", 2, lambda text, q: text, deterministic=True)
    load_base_lemmas(conn, str(args.base / "custdev.db"))
    columns = ", ".join(r[1] for r in conn.execute("pragma table_info(utterances)"))
    count_sql = table_search_sql("select count(*) from utterances where id in (select rowid from utterances_fts "
                                 "where utterances_fts match escape_fts(:search)) ")
    page_sql = table_search_sql(f"select {columns} from utterances where id in (select rowid from utterances_fts "
                                "where utterances_fts match escape_fts(:search)) order by id limit 101")

    stamp = (str(args.base / "custdev.db"), db_stamp(str(args.base / "custdev.db")))

    def run(kind: str, params: dict) -> None:
        if kind == "table":
            search = {"search": params["_search"]}
            conn.execute(count_sql, search).fetchall()
            conn.execute(page_sql, search).fetchall()
            return
        values = {k: params.get(k, "") for k in ("q", *SEARCH_FILTERS)}
        conn.execute("drop table if exists temp.custdev_hits")
        _materialise_hits(conn, stamp, site_fts_query(values["q"]), values)  # ranked as the site ranks
        conn.execute(BEST_OF_HITS_SQL, values).fetchall()

    queries = [(k, p) for k, p in unique_queries(max(args.n, 60), seed=3) if not args.kind or k == args.kind]
    for kind, params in queries[:5]:
        site_fts_query(params.get("q") or params.get("_search"))  # pymorphy3's dictionaries, outside the figures
        run(kind, params)
    res: dict[str, list[float]] = {}
    for kind, params in queries:
        site_fts_query(params.get("q") or params.get("_search"))  # the words' forms: Python, outside the figures
        c0 = time.process_time()
        run(kind, params)
        res.setdefault(kind, []).append((time.process_time() - c0) * 1000)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; CPU ms of SQLite work per request")
    for kind, ms in sorted(res.items()):
        print(f"  {kind:7s} n={len(ms):4d}  median {statistics.median(ms):6.1f}  mean {statistics.fmean(ms):6.1f}  max {max(ms):6.1f}")
    if set(res) == set(MIX):
        mean = sum(statistics.fmean(res[k]) * w for k, w in MIX.items())
        print(f"  bench mix (70/20/10): {mean:.1f} ms -> even with nothing else, at most {2000 / mean:.0f} requests/s on 2 cores")


if __name__ == "__main__":
    main()
