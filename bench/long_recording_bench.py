"""Does memory stay flat on long recordings? Peak RSS and CPU time of a whole ``custdev import`` (decode in windows,
VAD, language per stretch, Whisper, checkpoints, interview file) for recordings of growing length.

    .venv/bin/python bench/long_recording_bench.py [--minutes 10,60,360] [--decode-only]

Each recording is mostly quiet room noise (sox brown noise at -40 dB) with JFK's 11 s of real speech at the start
of every 10 minutes, 16 kHz mono FLAC made by sox in bench/out/ (not committed). Each import runs in a fresh process
(its own peak RSS, from ``wait4``). ``--decode-only`` measures only custdev's streaming decode (no model).
On 2 idle cores expect about 1 minute for 10 + 60 minutes and 3-5 minutes for 6 hours (VAD reads every second).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
JFK = Path("/work/shared/audio/jfk.flac")


def make(minutes: int) -> Path:
    """``minutes`` of quiet noise with JFK at the start of every 10 minutes (sox; cached in bench/out/)."""
    path = OUT / f"quiet_{minutes}min.flac"
    if path.exists():
        return path
    if not shutil.which("sox"):
        raise SystemExit("sox is needed (apt-get install sox)")
    OUT.mkdir(parents=True, exist_ok=True)
    speech = OUT / "jfk16k.wav"
    source = JFK if JFK.exists() else ROOT / "tests" / "data" / "jfk.ogg"
    if not speech.exists():
        if source.suffix == ".ogg":  # sox may lack Opus: decode with PyAV
            import wave

            import numpy as np

            from custdev.speech import iter_audio

            pcm = np.concatenate(list(iter_audio(source, stereo=False)), axis=1)[0]
            with wave.open(str(speech), "wb") as w:
                w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
                w.writeframes((np.clip(pcm, -1, 1) * 32767).astype("<i2").tobytes())
        else:
            subprocess.run(["sox", str(source), "-r", "16000", "-c", "1", "-b", "16", str(speech)], check=True)
    length = float(subprocess.run(["soxi", "-D", str(speech)], capture_output=True, text=True, check=True).stdout)
    block = OUT / "quiet_block.wav"  # 10 minutes: speech, then noise
    noise = OUT / "quiet_noise.wav"
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(noise), "synth", f"{600 - length:.3f}",
                    "brownnoise", "vol", "0.01"], check=True)
    subprocess.run(["sox", str(speech), str(noise), str(block)], check=True)
    tmp = path.with_suffix(".tmp.flac")
    subprocess.run(["sox", *[str(block)] * max(1, minutes // 10), str(tmp)], check=True)
    tmp.rename(path)
    noise.unlink()
    block.unlink()
    return path


def measure(argv: list[str]) -> dict:
    """Run a command; its wall time, CPU time and peak RSS (its own, from wait4)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    if proc.returncode:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(argv)}\n{err[-2000:]}")
    return {"wall_s": time.perf_counter() - start, "cpu_s": usage.ru_utime + usage.ru_stime,
            "peak_rss_mb": usage.ru_maxrss / 1024, "stdout": out, "stderr": err}


DECODE = """
import sys
from custdev.speech import iter_windows
n = sum(w.shape[1] for _, w in iter_windows(sys.argv[1], stereo=False))
print(n / 16000)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", default="10,60,360", help="recording lengths in minutes (multiples of 10)")
    parser.add_argument("--decode-only", action="store_true", help="only custdev's streaming decode, no model")
    args = parser.parse_args()
    lengths = [int(m) for m in args.minutes.split(",") if m.strip()]
    print(f"load average at the start: {os.getloadavg()[0]:.1f}; {os.cpu_count()} CPUs")
    what = "decode only (custdev.speech.iter_windows)" if args.decode_only else "custdev import --no-build (Whisper base, CPU)"
    print(f"{what}\n{'minutes':>8} {'wall s':>8} {'CPU s':>8} {'peak RSS MB':>12}  result")
    for minutes in lengths:
        path = make(minutes)
        if args.decode_only:
            res = measure([sys.executable, "-c", DECODE, str(path)])
            result = f"{float(res['stdout'].strip()) / 60:.1f} min decoded"
        else:
            with tempfile.TemporaryDirectory() as tmp:
                base = Path(tmp) / "base"
                subprocess.run([sys.executable, "-m", "custdev", "init", str(base)], check=True, capture_output=True)
                res = measure([sys.executable, "-m", "custdev", "import", str(path), "--language", "en", "--speakers", "1",
                               "--no-build", "--quiet", "--base", str(base)])
                md = next((base / "interviews").glob("*.md")).read_text(encoding="utf-8")
                (OUT / f"quiet_{minutes}min.md").write_text(md, encoding="utf-8")  # to read what was heard
                heard = len(re.findall(r"fellow\W+americans", md.lower()))
                result = f"{heard} of {minutes // 10} speeches transcribed (bench/out/quiet_{minutes}min.md)"
        print(f"{minutes:>8} {res['wall_s']:>8.1f} {res['cpu_s']:>8.1f} {res['peak_rss_mb']:>12.0f}  {result}", flush=True)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
