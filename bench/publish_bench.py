"""Redacted-publish benchmark: how long `custdev publish --redact` takes on a generated base, and how much of it is
the named-entity models (natasha for Russian, spaCy for English).

    python bench/publish_bench.py [--interviews 500] [--turns 150]

The base comes from bench/generate.py (half Russian, half English), made to read like transcripts: every turn is
cut into sentences of 6–14 words, each starting with a capital (the models look only at sentences with a capital
letter, so the generator's lower-case text would make them look free). Every interview has ``consent: publish``;
embeddings are off (not part of publishing). Prints the time of the build, of the publish and of its model calls,
the sentences the models read, and a linear projection to 10,000 interviews (the issue's large base). Time is
this process's CPU time (the models run in it) and wall clock; the first line prints the load and the CPU time of a
fixed Python loop (about 10 µs on an idle modern core), so runs under different loads can be compared.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import sys
import tempfile
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate import generate_base  # noqa: E402

_TURN = re.compile(r"^(\*\*\[[\d:]+\] [^*]+:\*\* )(.*)$")


def _sentences(body: str, rnd: random.Random) -> str:
    words, out = body.split(" "), []
    while words:
        n = rnd.randint(6, 14)
        chunk, words = words[:n], words[n:]
        sentence = " ".join(chunk)
        out.append(sentence[:1].upper() + sentence[1:] + ("." if words else "."))
    return " ".join(out)


def realistic(root: Path, seed: int = 0) -> None:
    rnd = random.Random(seed)
    for path in sorted((root / "interviews").glob("*.md")):
        lines = path.read_text(encoding="utf-8").split("\n")
        for n, line in enumerate(lines):
            if line == "language: ru" or line == "language: en":
                lines[n] = line + "\nconsent: publish"
            m = _TURN.match(line)
            if m and "==" not in m.group(2):
                lines[n] = m.group(1) + _sentences(m.group(2), rnd)
        path.write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--interviews", type=int, default=500)
    ap.add_argument("--turns", type=int, default=150)
    args = ap.parse_args()
    os.environ["CUSTDEV_EMBEDDINGS"] = "off"
    from custdev.build import build_base
    from custdev.config import load_base
    from custdev.privacy import ner
    from custdev.publish import publish_base

    loop = min(timeit.Timer("sum(range(1000))", timer=time.process_time).repeat(7, 2000)) / 2000 * 1e6
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; sum(range(1000)) takes {loop:.1f} µs CPU")
    print(f"English model: {'installed' if ner.english_available() else 'NOT installed (English third parties not looked for)'}")
    tmp = Path(tempfile.mkdtemp(prefix="custdev-publish-bench-"))
    try:
        root = generate_base(tmp / "base", args.interviews, args.turns, seed=0)
        realistic(root)
        t0, c0 = time.perf_counter(), time.process_time()
        result = build_base(root)
        assert result.built == args.interviews and not result.errors, result.errors
        print(f"build: {args.interviews} interviews, {time.perf_counter() - t0:.1f} s wall, {time.process_time() - c0:.1f} s CPU")

        model = {"s": 0.0, "sentences": 0}
        original = ner._run_models

        def timed(segments):
            started = time.process_time()
            try:
                return original(segments)
            finally:
                model["s"] += time.process_time() - started
                model["sentences"] += len(segments)

        ner._run_models = timed
        t0, c0 = time.perf_counter(), time.process_time()
        published = publish_base(load_base(root), tmp / "copy")
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        scale = 10_000 / args.interviews
        print(f"publish --redact: {published.interviews} interviews, {published.replacements:,} replacements, "
              f"{wall:.1f} s wall, {cpu:.1f} s CPU ({cpu / args.interviews * 1000:.0f} ms CPU an interview)")
        print(f"  of which the name models: {model['s']:.1f} s CPU on {model['sentences']:,} distinct sentences "
              f"({model['s'] / max(1, model['sentences']) * 1e3:.2f} ms a sentence)")
        print(f"projected to 10,000 interviews of {args.turns} turns: publish about {cpu * scale / 60:.0f} min CPU, "
              f"of which the models {model['s'] * scale / 60:.0f} min")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
