"""Load test of the research site: concurrent clients on loopback against the search pages.

    python bench/load_bench.py [--base DIR] [--interviews 10000] [--clients 20] [--requests 1000] [--seconds 120]

Uses (or generates and builds) a synthetic base (bench/generate.py), starts ``custdev serve`` on a free loopback
port, then runs a bounded load: ``--clients`` threads with keep-alive connections share ``--requests`` requests
(stopping early after ``--seconds``) over a mix of search pages: the "Search everything" page with its facets
(Russian and English word forms, phrases, filters), its JSON, and Datasette's stemmed table search. Prints
latency figures (p50 / p95 / p99 / max) per page kind and overall; the target is p95 < 300 ms.

Then the same load runs while ``custdev build`` rewrites part of the base (WAL): every response must be a 200, and
a changed interview's title must read either the old or the new text, never anything else.
Figures go to stdout and to bench/out/load_bench.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

QUERIES = [
    # (kind, path) — word forms the generator's vocabulary uses in other forms
    ("search", {"q": "оплатой"}),
    ("search", {"q": "проблемы с оплатой"}),
    ("search", {"q": "выписку банка"}),
    ("search", {"q": "ошибками в отчётах"}),
    ("search", {"q": "invoices"}),
    ("search", {"q": "reconciling statements"}),
    ("search", {"q": "late payment"}),
    ("search", {"q": '"bank statement"'}),
    ("search", {"q": "сверки", "segment": "agencies"}),
    ("search", {"q": "export", "speaker": "respondent"}),
    ("search", {"q": "интеграцию 1С", "pain": "bank-sync"}),
    ("search", {"q": "spreadsheet", "tag": "workaround"}),
    ("json", {"q": "налогов"}),
    ("json", {"q": "contracts delay"}),
    ("table", {"_search": "платежей"}),
    ("table", {"_search": "overdue invoices"}),
]


def unique_queries(n: int, seed: int = 1) -> list[tuple[str, dict]]:
    """``n`` different searches built from the generator's vocabulary: 1–2 words in some form, sometimes a filter."""
    import random

    from bench.generate import EN_WORDS, PAINS, RU_WORDS, SEGMENTS, TAGS

    rnd = random.Random(seed)
    seen: set[str] = set()
    out: list[tuple[str, dict]] = []
    while len(out) < n:
        words = RU_WORDS if rnd.random() < 0.5 else EN_WORDS
        q = " ".join(rnd.sample(words, rnd.choice((1, 1, 2, 2, 3))))
        params: dict = {"q": q}
        roll = rnd.random()
        if roll < 0.15:
            params["segment"] = rnd.choice(SEGMENTS)
        elif roll < 0.25:
            params["pain"] = rnd.choice(PAINS)[0]
        elif roll < 0.30:
            params["tag"] = rnd.choice(TAGS).split("/")[0]
        elif roll < 0.40:
            params["speaker"] = "respondent"
        roll = rnd.random()
        kind = "json" if roll < 0.2 else "table" if roll < 0.3 else "search"
        if kind == "table":
            params = {"_search": q}
        key = kind + repr(sorted(params.items()))
        if key not in seen:
            seen.add(key)
            out.append((kind, params))
    return out


def path_for(kind: str, params: dict) -> str:
    if kind == "search":
        return "/custdev/search?" + urlencode(params)
    if kind == "json":
        return "/custdev/search.json?" + urlencode({**params, "_shape": "objects"})
    return "/custdev/utterances?" + urlencode(params)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary(samples: list[tuple[str, float, int]]) -> dict:
    def figures(ms: list[float]) -> dict:
        return {
            "n": len(ms), "p50_ms": round(percentile(ms, 50), 1), "p95_ms": round(percentile(ms, 95), 1),
            "p99_ms": round(percentile(ms, 99), 1), "max_ms": round(max(ms), 1) if ms else None,
            "mean_ms": round(statistics.fmean(ms), 1) if ms else None,
        }

    out = {"all": figures([ms for _, ms, _ in samples])}
    for kind in sorted({k for k, _, _ in samples}):
        out[kind] = figures([ms for k, ms, _ in samples if k == kind])
    out["errors"] = sum(1 for _, _, status in samples if status != 200)
    out["error_statuses"] = sorted({status for _, _, status in samples if status != 200})
    return out


def start_server(root: Path) -> tuple[subprocess.Popen, str]:
    log = open(HERE / "out" / "load_bench_server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from custdev.cli import main; main()", "serve", "--base", str(root), "--port", "0",
         "--no-open", "--no-build", "--quiet"],
        stdout=subprocess.PIPE, stderr=log, text=True,
    )
    line = proc.stdout.readline()
    m = re.search(r"http://\S+", line)
    if not m:
        proc.kill()
        raise SystemExit(f"custdev serve did not start: {line!r}; see bench/out/load_bench_server.log")
    return proc, m.group().rstrip("/")


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` and its live descendants (Linux /proc), e.g. the
    server and its worker processes; 0.0 where /proc is missing."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        p = int(entry.parent.name)
        parents[p] = int(fields[1])
        cpu[p] = (int(fields[11]) + int(fields[12])) / ticks
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        total += cpu.get(p, 0.0)
        todo.extend(c for c, parent in parents.items() if parent == p)
    return total


def own_cpu() -> float:
    t = os.times()
    return t.user + t.system


def run_load(url: str, clients: int, requests: int, seconds: float, watch=None, queries=None, think_ms: float = 0) -> tuple[list, float]:
    """``clients`` threads share ``requests`` requests (or stop after ``seconds``). Returns samples and wall time."""
    split = urlsplit(url)
    lock = threading.Lock()
    counter = iter(range(requests))
    samples: list[tuple[str, float, int]] = []
    deadline = time.monotonic() + seconds
    queries = queries or QUERIES
    import random

    def client(n: int) -> None:
        conn = http.client.HTTPConnection(split.hostname, split.port, timeout=60)
        while time.monotonic() < deadline:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            kind, params = queries[i % len(queries)]
            path = quote(path_for(kind, params), safe="/?=&%")
            t = time.perf_counter()
            for attempt in (1, 2):
                try:
                    conn.request("GET", path, headers={"Accept": "text/html"})
                    resp = conn.getresponse()
                    body = resp.read()
                    status = resp.status
                    break
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    conn = http.client.HTTPConnection(split.hostname, split.port, timeout=60)
                    status, body = 599, b""
                    # The server closes idle keep-alive connections (after 5 s); like a browser, reconnect once.
                    stale = isinstance(exc, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError))
                    if not stale:
                        break
            ms = (time.perf_counter() - t) * 1000
            if watch:
                watch(status, body)
            with lock:
                samples.append((kind, ms, status))
            if think_ms:
                time.sleep(random.expovariate(1000 / think_ms))
        conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return samples, time.perf_counter() - t0


def fetch(url: str, path: str) -> tuple[int, bytes]:
    split = urlsplit(url)
    conn = http.client.HTTPConnection(split.hostname, split.port, timeout=60)
    conn.request("GET", quote(path, safe="/?=&%"))
    resp = conn.getresponse()
    return resp.status, resp.read()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=Path, default=HERE / "out" / "site-base")
    ap.add_argument("--interviews", type=int, default=10_000)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=180)
    ap.add_argument("--think-ms", type=float, default=1000, help="mean pause between one client's requests in the 'users' run")
    ap.add_argument("--no-build-check", action="store_true", help="skip the load-during-build part")
    args = ap.parse_args(argv)
    (HERE / "out").mkdir(exist_ok=True)

    from custdev.build import build_base

    root = args.base
    if not (root / "custdev.toml").exists():
        from bench.generate import generate_base

        t = time.perf_counter()
        generate_base(root, args.interviews, turns=150, seed=0)
        print(f"generated {args.interviews} interviews in {time.perf_counter() - t:.1f} s")
    if not (root / "custdev.db").exists():
        t = time.perf_counter()
        build_base(root)
        print(f"built the base in {time.perf_counter() - t:.1f} s")
    import sqlite3

    conn = sqlite3.connect(root / "custdev.db")
    n_interviews, n_utterances = conn.execute("SELECT (SELECT count(*) FROM interviews), (SELECT count(*) FROM utterances)").fetchone()
    conn.close()
    print(f"base: {n_interviews:,} interviews, {n_utterances:,} utterances; {args.clients} clients, {args.requests} requests (at most {args.seconds:.0f} s), {os.cpu_count()} cores")

    proc, url = start_server(root)
    report: dict = {"interviews": n_interviews, "utterances": n_utterances, "clients": args.clients, "cores": os.cpu_count()}
    try:
        # warm-up: each page once, one client (the figures below are with a warm page cache)
        single = []
        for kind, params in QUERIES:
            t = time.perf_counter()
            status, _ = fetch(url, path_for(kind, params))
            single.append((kind, (time.perf_counter() - t) * 1000, status))
        report["single_client_first_pass"] = summary(single)
        queries = unique_queries(args.requests)
        for label, think in (("saturation", 0.0), ("users", args.think_ms)):
            server0, client0 = tree_cpu(proc.pid), own_cpu()
            samples, wall = run_load(url, args.clients, args.requests, args.seconds, queries=queries, think_ms=think)
            server_s, client_s = tree_cpu(proc.pid) - server0, own_cpu() - client0
            report[label] = {**summary(samples), "think_ms": think, "requests": len(samples), "distinct_queries": len(queries),
                             "seconds": round(wall, 1), "per_second": round(len(samples) / wall, 1), "loadavg": os.getloadavg(),
                             "server_cpu_ms_per_request": round(1000 * server_s / max(len(samples), 1), 1),
                             "client_cpu_ms_per_request": round(1000 * client_s / max(len(samples), 1), 1),
                             "cores_busy": round((server_s + client_s) / wall, 2)}
            what = "no pause between requests" if not think else f"a pause of {think:.0f} ms on average between a client's requests"
            print_figures(f"{args.clients} concurrent clients, {what}", report[label])
            f = report[label]
            print(f"  {f['requests']} requests ({f['distinct_queries']} different searches) in {f['seconds']} s = {f['per_second']}/s; "
                  f"errors: {f['errors']}; load average {', '.join(f'{x:.1f}' for x in f['loadavg'])}")
            print(f"  CPU per request: server {f['server_cpu_ms_per_request']} ms, these clients {f['client_cpu_ms_per_request']} ms; "
                  f"{f['cores_busy']} of {os.cpu_count()} cores busy with both")
            print(f"  target p95 < 300 ms: {'met' if f['all']['p95_ms'] < 300 and not f['errors'] else 'NOT met'}")
        if not args.no_build_check:
            report["during_build"] = load_during_build(root, url, args)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    (HERE / "out" / "load_bench.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")


def load_during_build(root: Path, url: str, args) -> dict:
    """Edit some interviews and rebuild while clients load the site: all 200s, titles old-or-new only."""
    files = sorted((root / "interviews").glob("*.md"))[:200]
    first = files[0]
    interview_id = re.search(r"^id: (.+)$", first.read_text(encoding="utf-8"), re.M).group(1).strip()
    title_path = f"/custdev/interviews/{interview_id}.json?_shape=objects"
    old_title = json.loads(fetch(url, title_path)[1])["rows"][0]["title"]
    stamp = time.strftime("%H%M%S")
    new_title = f"{old_title} (edited {stamp})"
    originals = {f: f.read_text(encoding="utf-8") for f in files}
    for f in files:
        text = originals[f]
        text = re.sub(r"^title: .*$", lambda m: f'title: "{new_title}"' if f == first else m.group(0) + "", text, count=1, flags=re.M)
        f.write_text(text + f"\n**[09:59:59] Bench:** edited {stamp}\n", encoding="utf-8")
    seen_titles: dict[str, int] = {}
    bad: list[str] = []

    def watch(status: int, body: bytes) -> None:
        if status != 200:
            bad.append(str(status))

    def titles() -> None:
        while not done.is_set():
            status, body = fetch(url, title_path)
            if status != 200:
                bad.append(f"title {status}")
                continue
            t = json.loads(body)["rows"][0]["title"]
            seen_titles[t] = seen_titles.get(t, 0) + 1
            time.sleep(0.05)

    done = threading.Event()
    poller = threading.Thread(target=titles)
    poller.start()
    build = subprocess.Popen([sys.executable, "-c", "from custdev.cli import main; main()", "build", "--base", str(root), "--quiet"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.perf_counter()
    samples: list = []
    while build.poll() is None:
        more, _ = run_load(url, args.clients, 200, 60, watch, queries=unique_queries(200, seed=7))
        samples += more
    build_s = time.perf_counter() - t0
    done.set()
    poller.join()
    out = {
        **summary(samples), "requests": len(samples), "build_seconds": round(build_s, 1), "build_exit": build.returncode,
        "edited_interviews": len(files), "titles_seen": {("old" if k == old_title else "new" if k == new_title else k): v for k, v in seen_titles.items()},
        "unexpected": bad[:10],
    }
    print_figures(f"{args.clients} clients while 'custdev build' rebuilds {len(files)} edited interviews ({build_s:.1f} s)", out)
    print(f"  non-200 responses: {len(bad)}; the edited interview's title read as: {out['titles_seen']}")
    for f, text in originals.items():  # put the base back as it was
        f.write_text(text, encoding="utf-8")
    subprocess.run([sys.executable, "-c", "from custdev.cli import main; main()", "build", "--base", str(root), "--quiet"], check=False)
    return out


def print_figures(label: str, figures: dict) -> None:
    print(f"{label}:")
    for kind, f in figures.items():
        if isinstance(f, dict) and "n" in f:
            print(f"  {kind:7s} n={f['n']:5d}  p50 {f['p50_ms']:7.1f} ms  p95 {f['p95_ms']:7.1f} ms  p99 {f['p99_ms']:7.1f} ms  max {f['max_ms']:7.1f} ms")


if __name__ == "__main__":
    main()
