"""CPU time per request of the site's search pages, in process (no HTTP server, no clients competing for the cores).

    python bench/site_cpu.py --base DIR [--n 60] [--unique]

Serves the base's Datasette in this process (``Datasette.client``) and requests each search path one after another,
measuring this process's CPU time (all threads: Datasette's SQL threads too) per request: the search page, its JSON
and Datasette's table search. On a shared machine this is the figure to compare; wall-clock load tests are not.
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


async def measure(ds, paths: list[tuple[str, str]], rounds: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for r in range(rounds):
        for kind, path in paths:
            c0 = time.process_time()
            resp = await ds.client.get(path)
            ms = (time.process_time() - c0) * 1000
            if resp.status_code != 200:
                raise SystemExit(f"{path}: HTTP {resp.status_code}")
            if r or rounds == 1:  # the first round of several warms templates and caches
                out.setdefault(kind, []).append(ms)
    return out


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
    args = ap.parse_args(argv)
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
        return await measure(ds, paths, 1 if args.unique else 2)

    res = asyncio.run(run())
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; CPU ms per request, in process")
    mix = {"search": 0.7, "json": 0.2, "table": 0.1}
    for kind, ms in sorted(res.items()):
        print(f"  {kind:7s} n={len(ms):3d}  median {statistics.median(ms):6.1f}  mean {statistics.fmean(ms):6.1f}  max {max(ms):6.1f}")
    if set(res) == set(mix):
        mean = sum(statistics.fmean(res[k]) * w for k, w in mix.items())
        print(f"  bench mix (70/20/10): {mean:.1f} ms CPU per request -> at most {2000 / mean:.0f} requests/s on 2 cores")


if __name__ == "__main__":
    main()
