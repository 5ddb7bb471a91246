"""Analysis and report benchmark on a synthetic base.

    python bench/analysis_bench.py [--interviews 10000] [--base DIR] [--runs 5] [--keep]

Generates a base with bench/generate.py (or reuses --base DIR if it already holds a built base), builds it, then
times the commands as a user runs them (a fresh `custdev` process each run, so Python start-up and imports count):
`custdev pains`, `custdev pains --json`, `custdev segments`, `custdev saturation`, `custdev hypotheses`,
`custdev report --out report.html` and `custdev report --out report.md`, and the evidence commands of issue 9
(`cooccurrence`, `journey`, `matrix` as CSV and XLSX, `saturation --json` with Chao1, `agreement` of the interviews
with a coded copy of them). Prints median and worst wall time of --runs runs and their ratio to the target (every
command ≤ 5 s, the whole report ≤ 10 s on 10,000 interviews), then the time of each analysis view queried on its
own.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.generate import generate_base  # noqa: E402
from custdev.build import build_base  # noqa: E402

TARGET_S = 5.0
REPORT_TARGET_S = 10.0
VIEWS = ["pain_prevalence", "pain_by_segment", "nps_by_segment", "nps_overall", "saturation", "saturation_by_segment", "hypothesis_evidence",
         "pain_richness", "pain_cooccurrence", "journey", "stage_scores", "pain_money", "pain_money_total"]


def custdev_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("custdev")
    return [str(exe)] if exe.exists() else [sys.executable, "-c", "from custdev.cli import main; main()"]


def time_command(args: list[str], base: Path | None, runs: int) -> tuple[float, float]:
    times = []
    env = {**os.environ, "TERMINAL_WIDTH": "160", "NO_COLOR": "1"}
    for _ in range(runs):
        t = time.perf_counter()
        extra = ["--base", str(base)] if base is not None else []
        proc = subprocess.run([*custdev_cmd(), *args, *extra], capture_output=True, text=True, env=env)
        times.append(time.perf_counter() - t)
        if proc.returncode != 0:
            raise SystemExit(f"custdev {' '.join(args)} failed: {proc.stderr.strip()}")
    return statistics.median(times), max(times)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--interviews", type=int, default=10000)
    ap.add_argument("--base", type=Path, default=None, help="reuse (or create) the base in this folder")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keep", action="store_true", help="keep the generated base")
    args = ap.parse_args(argv)

    work = None
    if args.base is not None:
        root = args.base
    else:
        work = Path(tempfile.mkdtemp(prefix="custdev-analysis-bench-"))
        root = work / f"base-{args.interviews}"
    print(f"cpus={os.cpu_count()} base={root}")
    if not (root / "custdev.db").exists():
        t = time.perf_counter()
        generate_base(root, args.interviews)
        gen_s = time.perf_counter() - t
        t = time.perf_counter()
        result = build_base(root)
        print(f"generated {args.interviews} interviews in {gen_s:.1f}s, built in {time.perf_counter() - t:.1f}s ({result.failed} failed)")
    conn = sqlite3.connect(root / "custdev.db")
    n, quotes, coded = (conn.execute(q).fetchone()[0] for q in (
        "SELECT COUNT(*) FROM interviews", "SELECT COUNT(*) FROM quotes", "SELECT COUNT(*) FROM quote_pains"))
    print(f"base: {n} interviews, {quotes} quotes, {coded} pain codes")

    out = Path(tempfile.mkdtemp(prefix="custdev-report-"))
    commands = [
        ["pains"], ["pains", "--json"], ["pains", "--segment", "agencies"], ["segments"], ["saturation"], ["hypotheses"],
        ["report", "--out", str(out / "report.html")], ["report", "--out", str(out / "report.md")],
        ["report", "--segment", "agencies", "--format", "html"],
        ["cooccurrence"], ["journey"], ["saturation", "--json"], ["matrix", "--out", str(out / "matrix.csv")],
        ["matrix", "--out", str(out / "matrix.xlsx")], ["hypotheses", "--json"],
        ["agreement", str(root / "interviews"), str(out / "review")],
    ]
    # A second coder's copy of every interview: the same transcripts, one code dropped in every tenth file.
    (out / "review").mkdir()
    for n, f in enumerate(sorted((root / "interviews").glob("*.md"))):
        text = f.read_text(encoding="utf-8")
        if n % 10 == 0:
            text = text.replace(" #time", "", 1)
        (out / "review" / f.name).write_text(text, encoding="utf-8")
    base_med, _ = time_command(["--help"], None, args.runs)
    print(f"custdev --help (start-up alone): median {base_med:.2f}s")
    for cmd in commands:
        med, worst = time_command(cmd, root, args.runs)
        shown = " ".join(Path(c).name if c.startswith((str(out), str(root))) else c for c in cmd)
        budget = REPORT_TARGET_S if cmd[0] == "report" else TARGET_S
        ratio = f"  {med / budget:.2f}× of the {budget:.0f} s budget"
        print(f"custdev {shown:<40} median {med:.2f}s  worst {worst:.2f}s{ratio}")
    print(f"report.html: {(out / 'report.html').stat().st_size / 1e3:.0f} kB")

    # Each view on its own (in-process, warm page cache): where the time goes.
    for v in VIEWS:
        t = time.perf_counter()
        rows = conn.execute(f"SELECT * FROM {v}").fetchall()
        print(f"  SELECT * FROM {v:<22} {len(rows):>6} rows  {1000 * (time.perf_counter() - t):7.1f} ms")
    conn.close()
    shutil.rmtree(out, ignore_errors=True)
    if work is not None and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    elif work is not None:
        print(f"kept {root}")


if __name__ == "__main__":
    main()
