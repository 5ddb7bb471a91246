"""Build and search benchmark on synthetic bases.

    python bench/build_bench.py [--sizes 1000 10000] [--workdir DIR] [--queries 200] [--worker-nice N]

For each size: generate a base (bench/generate.py), time a full `build`, then an incremental build after editing
one file. On the largest base, time `search` (median and p95 over mixed Russian/English queries, including
filters). Prints figures measured in this run and their ratio to the targets (build 10k ≤ 60 s, incremental ≤ 2 s,
search median ≤ 20 ms).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate import generate_base  # noqa: E402
from custdev.build import build_base  # noqa: E402
from custdev.db import open_db  # noqa: E402
from custdev.search import search  # noqa: E402

QUERIES = [
    "проблемы с оплатой", "счета вручную", "выписки банка", "ошибки интеграции", "отчёты", "налоги", "поддержка тариф",
    "invoices", "late payment", "bank reconciliation", "spreadsheet errors", "support", "export reports", "pricing plan",
    '"каждый месяц"', "invoic*", "оплата OR payment",
]
FILTERS = [{}, {}, {"segment": "agencies"}, {"pain": "late-payments"}, {"tag": "billing"}, {"speaker": "respondent"}]


def cpu_split() -> tuple[float, float]:
    """CPU seconds of this process (the build's parent: it writes the database) and of its finished children (the
    build's workers: they parse): fair on a shared machine."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def cpu_s() -> float:
    return sum(cpu_split())


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--keep", action="store_true", help="keep the generated bases")
    ap.add_argument("--worker-nice", type=int, default=None,
                    help="niceness the parse workers add (custdev.prepare.WORKER_NICE, 10 by default; 0 to compare)")
    args = ap.parse_args(argv)
    if args.worker_nice is not None:
        import custdev.prepare

        custdev.prepare.WORKER_NICE = args.worker_nice
    work = args.workdir or Path(tempfile.mkdtemp(prefix="custdev-bench-"))
    import custdev.prepare

    print(f"cpus={os.cpu_count()} workdir={work} worker_nice={custdev.prepare.WORKER_NICE}")
    last = None
    for n in args.sizes:
        root = work / f"base-{n}"
        if root.exists():
            shutil.rmtree(root)
        t = time.perf_counter()
        generate_base(root, n)
        gen_s = time.perf_counter() - t
        t, c, (cp, cw) = time.perf_counter(), cpu_s(), cpu_split()
        result = build_base(root)
        full_s, full_cpu = time.perf_counter() - t, cpu_s() - c
        parent_cpu, workers_cpu = (now - before for now, before in zip(cpu_split(), (cp, cw)))
        assert result.failed == 0, result.errors[:3]
        target = root / "interviews" / f"gen-{n // 2:05d}.md"
        target.write_text(target.read_text(encoding="utf-8").replace("**", "**", 1) + "\n**[09:00:00] X:** edited #money\n", encoding="utf-8")
        t, c = time.perf_counter(), cpu_s()
        inc = build_base(root)
        inc_s, inc_cpu = time.perf_counter() - t, cpu_s() - c
        assert inc.built == 1 and inc.skipped == n - 1
        t = time.perf_counter()
        build_base(root)
        noop_s = time.perf_counter() - t
        size_mb = (root / "custdev.db").stat().st_size / 1e6
        utterances = result.total and open_db(root / "custdev.db").execute("select count(*) from utterances").fetchone()[0]
        print(
            f"build n={n}: generate {gen_s:.1f}s, full build {full_s:.1f}s ({n / full_s:.0f} interviews/s, {utterances} utterances, "
            f"db {size_mb:.0f} MB), incremental after 1 edit {inc_s:.2f}s, no-op {noop_s:.2f}s"
        )
        print(f"  CPU time: full build {full_cpu:.1f}s (all processes: parent {parent_cpu:.1f}s, workers {workers_cpu:.1f}s), "
              f"incremental {inc_cpu:.2f}s; sentence embeddings: "
              f"{result.embeddings or 'on'} ({result.embedded} texts, {result.embed_s:.1f}s); load average {os.getloadavg()[0]:.1f}")
        if n == 10000:
            print(f"  target full ≤ 60 s: {full_s / 60:.2f}× of budget; incremental ≤ 2 s: {inc_s / 2:.2f}× of budget")
        last = root
    if last is None:
        return
    db = open_db(last / "custdev.db")
    rnd = random.Random(1)
    for q in QUERIES:  # warm the page cache once, as a running site would be
        search(db, q, limit=20)
    times = []
    hits = 0
    c = time.process_time()
    for _ in range(args.queries):
        q = rnd.choice(QUERIES)
        f = rnd.choice(FILTERS)
        t = time.perf_counter()
        hits += len(search(db, q, limit=20, **f))
        times.append((time.perf_counter() - t) * 1000)
    search_cpu_ms = (time.process_time() - c) * 1000 / args.queries
    times.sort()
    median = statistics.median(times)
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"search on {last.name}: {len(times)} queries, median {median:.1f} ms, p95 {p95:.1f} ms, max {times[-1]:.1f} ms, {hits / len(times):.1f} hits/query")
    print(f"  CPU time {search_cpu_ms:.1f} ms per query on average; load average {os.getloadavg()[0]:.1f}")
    print(f"  target median ≤ 20 ms: {median / 20:.2f}× of budget")
    if not args.keep and args.workdir is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
