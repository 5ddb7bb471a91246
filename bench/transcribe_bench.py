"""Transcription speed, accuracy and memory: real-time factor, WER and peak RSS for Whisper base.

    .venv/bin/python bench/transcribe_bench.py [--device cpu|cuda] [--long-minutes 180] [--skip-long]

Each configuration runs in a fresh subprocess (so peak RSS is its own) through custdev's real pipeline
(custdev.speech.Transcriber: streaming decode, VAD, word timestamps, speaker split):

* sequential beam 5, sequential greedy (beam 1), BatchedInferencePipeline beam 5 and greedy (batch 8);
* audio: the shared real recording (JFK, 11 s) and an espeak-ng English monologue (about two minutes);
* WER against the reference texts (jiwer, after lower-casing and dropping punctuation).

Then a long-file check: a synthetic recording of ``--long-minutes`` (speech every minute, silence between) is
streamed through custdev's window decoder and, for comparison, through ``faster_whisper.decode_audio`` (which
holds the whole decode in memory); both report peak RSS. Outputs go to bench/out/ (not committed).
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
JFK = [ROOT.parent / "shared" / "audio" / "jfk.flac", Path("/work/shared/audio/jfk.flac"), ROOT / "tests" / "data" / "jfk.ogg"]
JFK_TEXT = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
ESPEAK_TEXT = (
    "Every month our finance team exports the orders from the warehouse system into a spreadsheet. "
    "Then someone builds each invoice by hand, checks the customer's address, and sends it by email. "
    "When the payments arrive, the bank statement does not show the invoice numbers, so we match them one by one. "
    "Last quarter this took two full days at the end of every month, and we still made mistakes. "
    "Two customers were invoiced twice, and one paid an old price for three months before anybody noticed. "
    "We tried an invoicing application last year. The trial looked fine, but the onboarding was painful. "
    "Nobody could connect it to our bank, and the support team answered after a week. "
    "Our accountant wants a clean export for the general ledger, with the tax codes in the right columns. "
    "If a tool could send reminders for late payments and reconcile the bank feed automatically, "
    "I would pay for it tomorrow, because those two days are worth more to us than the subscription. "
    "The most important thing is that it works with our bank and our accounting system from the first day."
)
CONFIGS = {
    "sequential beam 5": {"batched": False, "beam_size": 5},
    "sequential greedy": {"batched": False, "beam_size": 1},
    "batched beam 5": {"batched": True, "beam_size": 5},
    "batched greedy": {"batched": True, "beam_size": 1},
    "batched b5 auto-lang": {"batched": True, "beam_size": 5, "language": None},
}


def normalise(text: str) -> str:
    return " ".join(re.findall(r"[\w']+", text.lower()))


def wer(ref: str, hyp: str) -> float:
    """Word error rate: word-level edit distance over the reference length (case and punctuation ignored)."""
    r, h = normalise(ref).split(), normalise(hyp).split()
    d = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(h) + 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (r[i - 1] != h[j - 1]))
    return d[len(h)] / len(r)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- child processes ------------------------------------------------------------------------------------------


def child_transcribe(args) -> None:
    from custdev.speech import TranscribeOptions, Transcriber

    opts = TranscribeOptions(**({"device": args.device, "language": "en", "speakers": 1} | json.loads(args.config)))
    t = Transcriber(opts)
    start = time.perf_counter()
    t.model  # noqa: B018 - load the model outside the timed part
    load_s = time.perf_counter() - start
    results = {}
    for name, path in json.loads(args.files).items():
        start = time.perf_counter()
        tr = t.transcribe(path)
        wall = time.perf_counter() - start
        results[name] = {"audio_s": tr.duration, "wall_s": wall, "text": " ".join(s.text for s in tr.segments)}
    print(json.dumps({"load_s": load_s, "files": results, "peak_rss_mb": peak_rss_mb()}))


def child_decode(args) -> None:
    import numpy as np

    start = time.perf_counter()
    if args.how == "custdev":
        from custdev.speech import iter_windows

        total = 0
        for _, window in iter_windows(args.path, stereo=False, window_s=300):
            total += window.shape[1]
            np.abs(window).mean()  # touch the data
    else:
        from faster_whisper import decode_audio

        total = len(decode_audio(args.path))
    print(json.dumps({"samples": total, "wall_s": time.perf_counter() - start, "peak_rss_mb": peak_rss_mb()}))


def run_child(*argv: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *argv], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"child failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- inputs ---------------------------------------------------------------------------------------------------


def make_espeak(path: Path) -> Path:
    if path.exists():
        return path
    if not shutil.which("espeak-ng"):
        raise SystemExit("espeak-ng is needed for the English test recording (apt-get install espeak-ng)")
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(path), ESPEAK_TEXT], check=True)
    return path


def make_long(path: Path, minutes: int, speech: Path) -> Path:
    """``minutes`` of 16 kHz mono FLAC: the speech clip at the start of every minute, silence in between."""
    if path.exists():
        return path
    import av
    import numpy as np

    from custdev.speech import RATE, iter_audio

    clip = np.concatenate(list(iter_audio(speech, stereo=False)), axis=1)[0]
    minute = np.zeros(60 * RATE, np.float32)
    minute[: min(len(clip), len(minute))] = clip[: len(minute)]
    pcm = (np.clip(minute, -1, 1) * 32767).astype(np.int16).reshape(1, -1)
    tmp = path.with_suffix(".tmp.flac")
    with av.open(str(tmp), "w") as out:
        stream = out.add_stream("flac", rate=RATE, layout="mono")
        for _ in range(minutes):
            frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
            frame.sample_rate = RATE
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    tmp.rename(path)
    return path


# --- main -----------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--long-minutes", type=int, default=180)
    parser.add_argument("--skip-long", action="store_true")
    parser.add_argument("--transcribe-minutes", type=int, default=20, help="length of the long file transcribed end to end (0: skip)")
    parser.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated subset of: " + ", ".join(CONFIGS))
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    jfk = next(p for p in JFK if p.exists())
    files = {"jfk (real, 11 s)": str(jfk), "espeak English": str(make_espeak(OUT / "espeak_en.wav"))}
    refs = {"jfk (real, 11 s)": JFK_TEXT, "espeak English": ESPEAK_TEXT}

    from custdev.speech.models import base_model_dir, cpu_threads

    base_model_dir()  # assemble once, outside the timings
    print(f"Whisper base, {args.device} ({'int8' if args.device == 'cpu' else 'float16'}), {cpu_threads()} CPU threads, "
          f"VAD + word timestamps, custdev pipeline; one fresh process per configuration\n")
    header = f"{'configuration':<20} {'load s':>6} " + " ".join(f"{n[:16]:>16} RTF  WER" for n in files) + f" {'overall RTF':>11} {'peak RSS MB':>11}"
    print(header)
    rows = {}
    for name in [c.strip() for c in args.configs.split(",") if c.strip()]:
        res = run_child("--child-transcribe", "--config", json.dumps(CONFIGS[name]), "--files", json.dumps(files), "--device", args.device)
        audio = sum(f["audio_s"] for f in res["files"].values())
        wall = sum(f["wall_s"] for f in res["files"].values())
        cells = []
        for n, f in res["files"].items():
            f["rtf"] = f["audio_s"] / f["wall_s"]
            f["wer"] = wer(refs[n], f["text"])
            cells.append(f"{f['rtf']:>16.1f}x {f['wer'] * 100:4.1f}%")
        rows[name] = res | {"rtf": audio / wall}
        print(f"{name:<20} {res['load_s']:>6.1f} " + " ".join(cells) + f" {audio / wall:>10.1f}x {res['peak_rss_mb']:>11.0f}")
    if "sequential beam 5" in rows:
        ref = rows["sequential beam 5"]
        print("\nvs sequential beam 5: " + ", ".join(
            f"{n}: {r['rtf'] / ref['rtf']:.2f}x speed, WER " + "/".join(
                f"{r['files'][f]['wer'] * 100:.1f}%" for f in files) for n, r in rows.items()))
    (OUT / "transcribe_bench.json").write_text(json.dumps(rows, indent=1))

    if not args.skip_long:
        long = make_long(OUT / f"long_{args.long_minutes}min.flac", args.long_minutes, jfk)
        print(f"\nLong recording: {args.long_minutes} min ({long.stat().st_size / 1e6:.1f} MB FLAC), decode only")
        for how in ("custdev", "decode_audio"):
            res = run_child("--child-decode", "--how", how, "--path", str(long))
            label = "custdev windows (300 s)" if how == "custdev" else "faster_whisper.decode_audio"
            print(f"  {label:<28} {res['samples'] / 16000 / 60:7.1f} min decoded in {res['wall_s']:6.1f} s, peak RSS {res['peak_rss_mb']:7.0f} MB")
    if args.transcribe_minutes:
        long = make_long(OUT / f"long_{args.transcribe_minutes}min.flac", args.transcribe_minutes, jfk)
        res = run_child("--child-transcribe", "--config", json.dumps({"language": None, "speakers": 2}),
                        "--files", json.dumps({"long": str(long)}), "--device", args.device)
        f = res["files"]["long"]
        print(f"\nLong recording transcribed end to end with the import defaults ({args.transcribe_minutes} min, "
              f"11 s of speech a minute): {f['wall_s']:.0f} s, RTF {f['audio_s'] / f['wall_s']:.1f}x, "
              f"peak RSS {res['peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child-transcribe":
        p = argparse.ArgumentParser()
        p.add_argument("--child-transcribe", action="store_true")
        p.add_argument("--config")
        p.add_argument("--files")
        p.add_argument("--device", default="cpu")
        child_transcribe(p.parse_args())
    elif len(sys.argv) > 1 and sys.argv[1] == "--child-decode":
        p = argparse.ArgumentParser()
        p.add_argument("--child-decode", action="store_true")
        p.add_argument("--how")
        p.add_argument("--path")
        child_decode(p.parse_args())
    else:
        main()
