"""Parse-time benchmark: one interview file with many turns, built from scratch (parsing must be linear).

    python bench/parse_bench.py [--turns 400000] [--sidecar] [--only-full]

Prints the file size and the seconds `custdev build` took (wall clock, and the CPU time of this process and of the
worker process that reads half of a long file, custdev.bigfile) for 1/8, 1/4,
1/2 and all of the turns, so a quadratic step shows as a growing time per turn, and how much of it was the sentence
embeddings of custdev.meaning (on by default for a one-interview base; the file repeats four lines, so the model
embeds only those and the step is mostly loading the model and storing one vector a text). The issue's bar: a
400,000-turn file builds in at most 30 s on 2 cores.

A busy machine inflates CPU time too (shared caches): the first line prints the load and the CPU time of a fixed
Python loop, which is about 10 µs on an idle modern core, so figures taken under different loads can be compared.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import tempfile
import time
import timeit
from pathlib import Path

from custdev.build import build_base
from custdev.config import init_base

LINES = [
    "Как вы выставляете счета? Каждый месяц сверяем выписку банка вручную.",
    "We chase late payments by e-mail, and ==half of the clients pay a month late== #pain/late-payments",
    "Второй абзац той же реплики.\n\nИ ещё один.",
    "Short answer.",
]


def write_base(root: Path, turns: int, sidecar: bool) -> Path:
    init_base(root, title="bench")
    (root / "codebook.yml").write_text("pains:\n  - slug: late-payments\n    title: Late payments\n", encoding="utf-8")
    parts = ["---\nid: big\ntitle: Big\ninterviewer: Maria\nrespondent: Anna\nlanguage: en\n---\n"]
    side = []
    for n in range(turns):
        t = n * 3 // 4  # seconds: 400,000 turns end at 83 h (a header's hours have at most 2 digits: past 99 h the turns
        # read as continuations of one giant turn, which is what made 400k turns look slow before)
        h, m, s = t // 3600, t % 3600 // 60, t % 60
        who = "Maria" if n % 2 == 0 else "Anna"
        parts.append(f"**[{h:02d}:{m:02d}:{s:02d}] {who}:** {LINES[n % len(LINES)]}\n")
        if sidecar:
            side.append({"start": t, "end": t + 1.5, "words": [[t + 0.1, t + 0.5, "Short"], [t + 0.5, t + 0.9, "answer"]]})
    path = root / "interviews" / "big.md"
    path.write_text("\n".join(parts), encoding="utf-8")
    if sidecar:
        (root / "interviews" / "big.words.json").write_text(json.dumps({"version": 1, "turns": side}), encoding="utf-8")
    return path


def _children_cpu() -> float:
    """CPU seconds of the worker processes this process started and waited for (a long file is read by two)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=400_000)
    ap.add_argument("--sidecar", action="store_true", help="also write a word-timestamp sidecar for every turn")
    ap.add_argument("--only-full", action="store_true", help="build only the file with all the turns")
    args = ap.parse_args()
    loop = min(timeit.Timer("sum(range(1000))", timer=time.process_time).repeat(7, 2000)) / 2000 * 1e6
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; sum(range(1000)) takes {loop:.1f} µs CPU")
    for frac in ((1,) if args.only_full else (8, 4, 2, 1)):
        n = args.turns // frac
        tmp = Path(tempfile.mkdtemp(prefix="custdev-parse-bench-"))
        try:
            path = write_base(tmp / "base", n, args.sidecar)
            size = path.stat().st_size
            t0, c0, k0 = time.perf_counter(), time.process_time(), _children_cpu()
            result = build_base(tmp / "base")
            took, cpu, kids = time.perf_counter() - t0, time.process_time() - c0, _children_cpu() - k0
            assert result.built == 1 and not result.errors, result.errors
            print(f"{n:>8,} turns ({size / 1e6:6.1f} MB): build {took:6.1f} s wall, {cpu + kids:6.1f} s CPU ({kids:.1f} s of it in "
                  f"worker processes), {(cpu + kids) / n * 1e6:5.0f} µs CPU per turn; of the wall time {result.embed_s:.1f} s "
                  f"embeddings ({result.embeddings})")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
