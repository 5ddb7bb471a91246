"""How fast this machine runs custdev's kind of work right now: a fixed workload, timed in CPU seconds.

    python bench/machine_speed.py [--rounds 3]

On a shared virtual machine the same code can take a third or more longer in one hour than in another (other guests
share the host's caches and memory bandwidth). bench/speed_all.sh runs this before and after its figures so that two
runs' figures can be compared: if the workload took 1.4x longer, so will the build. The workload is what the build
and the site spend their time on: Python that turns words into their index forms, and SQLite that writes and searches
a full-text index. The best of ``--rounds`` is printed (CPU seconds; lower is faster).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import time

WORDS = ("платёж счёт реквизит кредит лимит тариф подписка возврат invoice payment refund billing report "
         "клиент менеджер договор поддержка ответ звонок заявка support ticket account limit plan").split()


def workload(seed: int = 0) -> float:
    rnd = random.Random(seed)
    t0 = time.process_time()
    texts = [" ".join(rnd.choice(WORDS) + rnd.choice(("", "а", "ы", "ом", "s", "ing")) for _ in range(24)) for _ in range(40_000)]
    forms: dict[str, str] = {}
    rows = []
    for n, text in enumerate(texts):
        words = text.split()
        rows.append((n, " ".join(forms.setdefault(w, w.lower().replace("ё", "е")[:6]) for w in words)))
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE f USING fts5(t, tokenize='unicode61')")
    conn.executemany("INSERT INTO f(rowid, t) VALUES (?, ?)", rows)
    conn.execute("INSERT INTO f(f) VALUES ('optimize')")
    for w in WORDS[:12]:
        conn.execute("SELECT rowid FROM f WHERE f MATCH ? ORDER BY bm25(f) LIMIT 50", [w[:6]]).fetchall()
    conn.close()
    return time.process_time() - t0


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    times = [workload() for _ in range(args.rounds)]
    print(f"machine speed: a fixed workload took {min(times):.2f} s CPU (best of {args.rounds}: "
          + ", ".join(f"{t:.2f}" for t in times) + "); lower is faster")


if __name__ == "__main__":
    main()
