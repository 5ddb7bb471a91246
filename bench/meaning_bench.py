"""Meaning benchmark: suggestion quality against BM25, embedding throughput, and time and memory at scale.

    python bench/meaning_bench.py [--scale-interviews 10000]

1. Quality: `custdev suggest --evaluate` (leave-one-interview-out, precision@1, recall@3, right pain in top 3, with
   BM25 over pain titles and descriptions in the same run) on the sample base, and on the sample base plus a larger
   coded set (tests/data/meaning/coded_statements.tsv: 100 statements of the sample's ten pains in ten interviews).
2. Throughput of the embedding model on the sample's respondent sentences (wall and per CPU-second) and model load.
3. Scale: how many texts a base of --scale-interviews synthetic interviews (bench/generate.py) would embed (counted on
   200 generated interviews and multiplied), the projected embedding time, and — on random unit vectors of that
   size — the time and memory of a similar search, of suggest per turn, and of clusters (capped at 4,000 turns).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import numpy as np  # noqa: E402

from custdev.build import build_base  # noqa: E402
from custdev.db import open_db  # noqa: E402


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def coded_set_interviews(dest: Path) -> int:
    rows = []
    for line in (ROOT / "tests/data/meaning/coded_statements.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            pain, text = line.split("\t")
            rows.append((pain, text))
    by_pain: dict[str, list[str]] = {}
    for pain, text in rows:
        by_pain.setdefault(pain, []).append(text)
    n_iv = max(len(v) for v in by_pain.values())
    for n in range(n_iv):
        turns = []
        t = 0
        for pain, texts in by_pain.items():
            if n < len(texts):
                t += 30
                turns.append(f"**[00:{t // 60:02d}:{t % 60:02d}] Interviewer:** Tell me more.")
                turns.append(f"**[00:{(t + 5) // 60:02d}:{(t + 5) % 60:02d}] Respondent:** ==" + texts[n] + f"== #pain/{pain}")
        body = "\n\n".join(turns)
        (dest / f"coded-{n + 1:02d}.md").write_text(
            f"---\nid: coded-{n + 1:02d}\ninterviewer: Interviewer\nrespondent: Respondent {n + 1}\n---\n\n{body}\n", encoding="utf-8")
    return n_iv


def quality(work: Path) -> None:
    from conftest import copy_base

    from custdev.meaning.suggest import evaluate

    os.environ["CUSTDEV_EMBEDDINGS"] = "on"
    sample = copy_base(ROOT, work / "sample")
    build_base(sample)
    larger = copy_base(ROOT, work / "larger")
    n = coded_set_interviews(larger / "interviews")
    build_base(larger)
    print("suggest quality (leave-one-interview-out, pains):")
    print("| set | turns | method | precision@1 | recall@3 | right pain in top 3 |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, root in (("sample base (8 interviews)", sample), (f"sample + coded set ({8 + n} interviews)", larger)):
        r = evaluate(open_db(root / "custdev.db"))
        for method, key in (("meaning (custdev suggest)", "embeddings"), ("BM25 over pain titles + descriptions", "bm25")):
            m = r[key]
            print(f"| {name} | {m['turns']} | {method} | {m['p_at_1']:.0%} | {m['recall_at_3']:.0%} | {m['hit_at_3']:.0%} |")


def throughput() -> float:
    from custdev.config import load_base
    from custdev.markdown import parse_interview
    from custdev.meaning.model import Embedder, verify
    from custdev.meaning.store import sentences

    c0, t0 = time.process_time(), time.perf_counter()
    verify()
    c1 = time.process_time()
    model = Embedder()
    model.embed(["warm up"])
    print(f"model: SHA-256 check {c1 - c0:.2f} CPU-s; load {time.process_time() - c1:.2f} CPU-s ({time.perf_counter() - t0:.2f} s wall)")
    base = load_base(ROOT)
    texts = []
    for p in sorted((ROOT / "interviews").glob("*.md")):
        iv = parse_interview(p.read_text(encoding="utf-8"), p.name, base.codebook)
        roles = iv.speaker_roles()
        for t in iv.turns:
            if roles[t.speaker.strip().casefold()] == "respondent":
                texts.extend(sentences(t.text))
    c0, t0 = time.process_time(), time.perf_counter()
    model.embed(texts)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"throughput on {len(texts)} respondent sentences (mean {sum(map(len, texts)) / len(texts):.0f} chars): "
          f"{len(texts) / wall:.0f} sentences/s wall, {len(texts) / cpu:.0f} per CPU-second")
    return len(texts) / cpu


def scale(work: Path, interviews: int, per_cpu_s: float) -> None:
    from bench.generate import generate_base

    from custdev.meaning import clusters as cl
    from custdev.meaning import store
    from custdev.meaning.similar import rank
    from custdev.meaning.suggest import Coded, score_turn

    os.environ["CUSTDEV_EMBEDDINGS"] = "off"
    root = work / "gen"
    generate_base(root, 200)
    build_base(root)
    db = open_db(root / "custdev.db")
    sents = sum(len(store.sentences(t)) for (t,) in db.execute("SELECT text FROM utterances WHERE speaker_role = 'respondent'"))
    quotes = db.execute("SELECT count(*) FROM quotes").fetchone()[0]
    f = interviews / 200
    n_sent, n_quotes = int(sents * f), int(quotes * f)
    print(f"scale: {interviews:,} synthetic interviews would embed ~{n_sent:,} respondent sentences and ~{n_quotes:,} quotes "
          f"(counted on 200): ~{(n_sent + n_quotes) / per_cpu_s / 3600:.1f} CPU-hours at the measured rate, "
          f"~{(n_sent + n_quotes) / per_cpu_s / 2 / 3600:.1f} h on two free cores; stored float16: "
          f"{(n_sent + n_quotes) * 1024 / 1e9:.1f} GB")
    rng = np.random.default_rng(0)

    def unit(n):
        m = rng.standard_normal((n, 512)).astype(np.float32)
        return m / np.linalg.norm(m, axis=1, keepdims=True)

    before = rss_mb()
    qv = store.Vectors("quote", np.arange(n_quotes, dtype=np.int64), ["x"] * n_quotes, unit(n_quotes))
    q = unit(1)[0]
    rank(qv, q, limit=20)
    t = time.perf_counter()
    for _ in range(20):
        rank(qv, q, limit=20)
    print(f"similar search over {n_quotes:,} quote vectors: {(time.perf_counter() - t) / 20 * 1000:.1f} ms per query, "
          f"+{rss_mb() - before:.0f} MB resident for the vectors")
    coded = Coded(qv.ids, qv.interview_ids, qv.matrix, [["pain/a"]] * n_quotes)
    t = time.perf_counter()
    for _ in range(20):
        score_turn(unit(2), coded, None, top_tags=2)
    per_turn = (time.perf_counter() - t) / 20
    print(f"suggest against {n_quotes:,} coded quotes: {per_turn * 1000:.1f} ms per uncoded turn")
    from sklearn.cluster import AgglomerativeClustering

    m = unit(cl.MAX_TURNS)
    before = rss_mb()
    t = time.perf_counter()
    AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average", distance_threshold=cl.DISTANCE).fit_predict(m)
    print(f"clusters of {cl.MAX_TURNS:,} turns (the cap): {time.perf_counter() - t:.1f} s, peak +{max(0.0, rss_mb() - before):.0f} MB")
    print(f"peak RSS of this benchmark: {rss_mb():.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale-interviews", type=int, default=10000)
    ap.add_argument("--skip-quality", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="custdev-meaning-"))
    os.environ.setdefault("CUSTDEV_CACHE", str(work / "cache"))
    print(f"cpus={os.cpu_count()} load average {os.getloadavg()[0]:.1f}")
    try:
        if not args.skip_quality:
            quality(work)
        rate = throughput()
        scale(work, args.scale_interviews, rate)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
