"""Parse-time benchmark: one interview file with many turns, built from scratch (parsing must be linear).

    python bench/parse_bench.py [--turns 400000] [--sidecar]

Prints the file size and the seconds `custdev build` took (wall clock and this process's CPU time, which a busy
machine does not inflate) for 1/8, 1/4, 1/2 and all of the turns, so a quadratic step shows as a growing time per
turn. The issue's bar: a 400,000-turn file builds in at most 30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
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
        t = n * 2  # seconds
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=400_000)
    ap.add_argument("--sidecar", action="store_true", help="also write a word-timestamp sidecar for every turn")
    args = ap.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    for frac in (8, 4, 2, 1):
        n = args.turns // frac
        tmp = Path(tempfile.mkdtemp(prefix="custdev-parse-bench-"))
        try:
            path = write_base(tmp / "base", n, args.sidecar)
            size = path.stat().st_size
            t0, c0 = time.perf_counter(), time.process_time()
            result = build_base(tmp / "base")
            took, cpu = time.perf_counter() - t0, time.process_time() - c0
            assert result.built == 1 and not result.errors, result.errors
            print(f"{n:>8,} turns ({size / 1e6:6.1f} MB): build {took:6.1f} s wall, {cpu:6.1f} s CPU, "
                  f"{cpu / n * 1e6:5.0f} µs CPU per turn")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
