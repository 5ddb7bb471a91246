"""Meaning benchmark: suggestion quality against BM25, embedding throughput, and time and memory at scale.

    python bench/meaning_bench.py [--scale-interviews 10000]

1. Quality: `custdev suggest --evaluate` (leave-one-interview-out, precision@1, recall@3, right pain in top 3, with
   BM25 over pain titles and descriptions in the same run) on the sample base, and on the sample base plus a larger
   coded set (tests/data/meaning/coded_statements.tsv: 100 statements of the sample's ten pains in ten interviews).
2. Throughput of the embedding model on the sample's respondent sentences (wall and per CPU-second) and model load.
3. Scale: a base of --scale-interviews synthetic interviews (bench/generate.py) is built, its every respondent
   sentence and quote gets a vector (the model's vectors of the sample's real sentences stand in, see PoolEmbedder:
   embedding invented words for hours would measure nothing more), and `search --similar`, `suggest INTERVIEW` and
   `clusters` run as commands on it: wall time and peak memory each. The model's time for that base is the text count
   over the measured throughput.
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


def throughput() -> tuple[float, list[str]]:
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
    return len(texts) / cpu, texts


class PoolEmbedder:
    """Stands in for the model on a synthetic base: each text gets the real model's vector of one of a pool of real
    sentences (chosen by a hash of the text) plus a little noise. The generated interviews are invented words, so
    embedding them for hours would measure nothing more than the pool does; the storage, the reads, suggest and
    clusters all run for real on vectors of the base's true count and size."""

    def __init__(self, model, pool: np.ndarray):
        self.model = model
        self.pool = pool
        self.rng = np.random.default_rng(0)
        self.texts = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        import zlib

        self.texts += len(texts)
        idx = np.fromiter((zlib.crc32(t.encode("utf-8")) % len(self.pool) for t in texts), dtype=np.int64, count=len(texts))
        m = self.pool[idx] + self.rng.standard_normal((len(texts), self.pool.shape[1])).astype(np.float32) * 0.02
        return m / np.linalg.norm(m, axis=1, keepdims=True)


# The command runs in a fresh interpreter that reports its own peak resident memory (VmHWM) as it exits: the
# rusage of a child started from this big process would count the memory it inherited before exec.
_CHILD = """import atexit, re, runpy, sys
def _peak():
    with open("/proc/self/status") as f:
        sys.stderr.write("PEAK_KB " + re.search(r"VmHWM:\\s+(\\d+)", f.read()).group(1) + "\\n")
atexit.register(_peak)
sys.argv = ["custdev", *sys.argv[1:]]
runpy.run_module("custdev", run_name="__main__")
"""


def run_cli(*args: str) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, stdout) of one `custdev` command in its own process."""
    import re
    import subprocess

    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _CHILD, *args], capture_output=True)
    wall = time.perf_counter() - t
    err = proc.stderr.decode(errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"custdev {' '.join(args)} failed: {err.strip()[-300:]}")
    peak = re.search(r"PEAK_KB (\d+)", err)
    return wall, (int(peak.group(1)) / 1024 if peak else float("nan")), proc.stdout.decode()


def scale(work: Path, interviews: int, pool_texts: list[str], per_cpu_s: float, base: Path | None) -> None:
    """suggest, clusters and search --similar, run as commands on a base of ``interviews`` synthetic interviews."""
    import json

    from bench.generate import generate_base

    from custdev.meaning import store
    from custdev.meaning.model import load_model

    os.environ["CUSTDEV_EMBEDDINGS"] = "off"
    root = base or work / "gen"
    if not (root / "custdev.db").exists():
        generate_base(root, interviews)
        t = time.perf_counter()
        build_base(root)
        print(f"scale: generated and built {interviews:,} synthetic interviews (no embeddings) in {time.perf_counter() - t:.1f} s")
    db = open_db(root / "custdev.db")
    n_iv = db.execute("SELECT count(*) FROM interviews").fetchone()[0]
    model = load_model()
    pool = model.embed(pool_texts)
    stand_in = PoolEmbedder(model.model, pool)
    c0, t0 = time.process_time(), time.perf_counter()
    res = store.embed_base(db, embedder=stand_in)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    n_vec = db.execute("SELECT count(*) FROM embeddings").fetchone()[0]
    size = db.execute("SELECT sum(length(vector)) FROM embeddings").fetchone()[0] or 0
    print(f"scale: {n_iv:,} interviews hold {stand_in.texts:,} distinct texts to embed ({n_vec:,} vectors, "
          f"{size / 1e9:.2f} GB float16); the model would take ~{stand_in.texts / per_cpu_s / 3600:.1f} CPU-hours at the "
          f"measured rate (~{stand_in.texts / per_cpu_s / 2 / 3600:.1f} h on two free cores); storing them took "
          f"{wall:.1f} s ({cpu:.1f} CPU-s) with pool vectors standing in for the model ({res.interviews:,} interviews)")
    b = ["--base", str(root)]
    os.environ["CUSTDEV_EMBEDDINGS"] = "on"
    one = db.execute("SELECT interview_id FROM utterances WHERE speaker_role = 'respondent' ORDER BY interview_id DESC LIMIT 1").fetchone()[0]
    rows = []
    for label, args in (
        ("search --similar (respondent turns)", ["search", "--similar", "клиенты платят с задержкой", "--json", *b]),
        ("search --similar --quotes", ["search", "--similar", "too expensive for us", "--quotes", "--json", *b]),
        (f"suggest {one} (one interview)", ["suggest", one, "--json", *b]),
        ("clusters", ["clusters", "--json", *b]),
    ):
        wall, rss, out = run_cli(*args)
        data = json.loads(out)
        n = len(data) if isinstance(data, list) else len(data.get("themes", data.get("turns", [])) or [])
        rows.append((label, wall, rss, n))
    print(f"commands on the {n_iv:,}-interview base (each in its own process, model load included where it embeds a query):")
    print("| command | wall s | peak RSS MB | results |")
    print("| --- | --- | --- | --- |")
    for label, wall, rss, n in rows:
        print(f"| {label} | {wall:.1f} | {rss:.0f} | {n} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale-interviews", type=int, default=10000)
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--base", type=Path, help="reuse this generated base (built; its vectors are replaced)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="custdev-meaning-"))
    os.environ.setdefault("CUSTDEV_CACHE", str(work / "cache"))
    print(f"cpus={os.cpu_count()} load average {os.getloadavg()[0]:.1f}")
    try:
        if not args.skip_quality:
            quality(work)
        rate, texts = throughput()
        scale(work, args.scale_interviews, texts, rate, args.base)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
