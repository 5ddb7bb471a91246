"""Sequential ``custdev import`` vs ``custdev import --ray`` on a local Ray cluster, measured in one run.

    python bench/ray_bench.py [--files 20] [--seconds 60] [--workers 2]

Makes ``--files`` English recordings of about ``--seconds`` each with espeak-ng (different text in each), imports
them into two fresh bases: once on this machine (one process, all cores), once through a local Ray cluster with
``--workers`` CPUs (one task per recording, one CPU and one thread per task). Prints wall times, the speed-up, the
Ray start-up overhead (starting the cluster, shipping the model), the real-time factor, and peak memory per Ray
worker (RSS of the worker processes, sampled every 0.2 s). Needs ``pip install -e '.[ray]'`` and espeak-ng.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

WORDS = (
    "customer invoice payment reminder support ticket refund delay bank account monthly report team manager "
    "spreadsheet export import price plan contract renewal discount onboarding training call email phone "
    "problem issue week month quarter deadline approval order delivery warehouse shipment tracking budget"
).split()


def make_recordings(folder: Path, files: int, seconds: float) -> list[Path]:
    rng = random.Random(12)
    out = []
    for i in range(files):
        sentences = []
        words_needed = int(seconds * 2.6)  # espeak-ng speaks about 160 words a minute at -s 160
        while sum(len(s.split()) for s in sentences) < words_needed:
            n = rng.randint(6, 12)
            sentences.append(" ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + rng.choice([".", ".", "?"]))
        path = folder / f"call-{i + 1:02d}.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(path), " ".join(sentences)], check=True)
        out.append(path)
    return out


def audio_seconds(paths: list[Path]) -> float:
    from custdev.speech import probe

    return sum(probe(p).duration or 0 for p in paths)


class RssSampler:
    """Peak RSS per Ray worker process (children of this process titled ray::…), sampled in a thread."""

    def __init__(self) -> None:
        self.peak: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    if not (entry / "cmdline").read_bytes().startswith(b"ray::"):
                        continue
                    pid, parent = int(entry.name), int(entry.name)
                    for _ in range(6):
                        parent = int((Path("/proc") / str(parent) / "stat").read_text().rsplit(")", 1)[1].split()[1])
                        if parent in (me, 1):
                            break
                    if parent != me:
                        continue
                    rss = next(int(line.split()[1]) for line in (entry / "status").read_text().splitlines() if line.startswith("VmRSS:"))
                    self.peak[pid] = max(self.peak.get(pid, 0), rss * 1024)
                except (OSError, ValueError, StopIteration, IndexError):
                    continue
            time.sleep(0.2)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def fresh_base(root: Path) -> Path:
    from custdev.config import init_base

    base, _ = init_base(root)
    return base


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    if not shutil.which("espeak-ng"):
        sys.exit("espeak-ng is needed (apt-get install espeak-ng)")
    import ray

    from custdev.config import load_base
    from custdev.ingest import ImportOptions, import_paths
    from custdev.speech.models import cpu_threads

    tmp = Path(tempfile.mkdtemp(prefix="custdev-ray-bench-"))
    os.environ.setdefault("CUSTDEV_CACHE", str(tmp / "cache"))
    try:
        folder = tmp / "calls"
        folder.mkdir()
        paths = make_recordings(folder, args.files, args.seconds)
        total_s = audio_seconds(paths)
        print(f"{len(paths)} recordings, {total_s / 60:.1f} min of audio ({total_s / len(paths):.0f} s each); "
              f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} at start")
        from custdev.speech import base_model_dir

        base_model_dir()  # assemble the model once, outside both timings

        base = load_base(fresh_base(tmp / "sequential"))
        t0 = time.perf_counter()
        seq = import_paths(base, [folder], ImportOptions(build=False))
        seq_s = time.perf_counter() - t0
        assert seq.count("created") == len(paths), seq.to_dict()
        print(f"sequential: {seq_s:.1f} s wall, {total_s / seq_s:.1f}x real time ({cpu_threads()} threads, one process)")

        base = load_base(fresh_base(tmp / "ray"))
        t0 = time.perf_counter()
        ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False,
                 runtime_env={"env_vars": {"CUSTDEV_CACHE": os.environ["CUSTDEV_CACHE"]}})
        init_s = time.perf_counter() - t0
        try:
            with RssSampler() as rss:
                t1 = time.perf_counter()
                dist = import_paths(base, [folder], ImportOptions(build=False, ray="auto"))
                run_s = time.perf_counter() - t1
        finally:
            ray.shutdown()
        ray_s = init_s + run_s
        assert dist.count("created") == len(paths), dist.to_dict()
        st = dist.cluster or {}
        print(f"ray ({args.workers} local workers, 1 thread each): {ray_s:.1f} s wall = {init_s:.1f} s starting the cluster + "
              f"{run_s:.1f} s importing; {total_s / ray_s:.1f}x real time overall, {total_s / run_s:.1f}x once started")
        print(f"speed-up over sequential: {seq_s / ray_s:.2f}x including start-up, {seq_s / run_s:.2f}x excluding it")
        workers = sorted(rss.peak.values(), reverse=True)
        busy = [w for w in workers if w > 200 * 2**20]  # workers that loaded the model
        print(f"ray start-up overhead: {init_s:.1f} s ray.init; first result after the model reached the workers "
              f"(the progress line's speed: {st.get('speed_x_real_time')}x)")
        if busy:
            print(f"memory per worker that transcribed: peak RSS {', '.join(f'{w / 2**20:.0f} MB' for w in busy)} "
                  f"(mean {sum(busy) / len(busy) / 2**20:.0f} MB); {len(workers)} Ray worker processes seen")
        print(f"load average at the end {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
