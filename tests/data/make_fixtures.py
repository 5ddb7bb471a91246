"""Regenerate the small audio and transcript fixtures in tests/data/ and the sample recording in recordings/.

Needs espeak-ng and sox (Debian packages) and the project's virtualenv (PyAV encodes Opus/MP3). The outputs
are committed, so the tests themselves need neither espeak-ng nor sox:

    .venv/bin/python tests/data/make_fixtures.py
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import av
import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
RATE = 16000
JFK = Path("/work/shared/audio/jfk.flac")

# Voices: the interviewer is a female variant (~200 Hz), the respondent a male American one (~100 Hz).
INTERVIEWER_VOICE = "en+f3"
RESPONDENT_VOICE = "en-us+m3"
SAMPLE_INTERVIEWER_VOICE = "en-gb"  # clearer for Whisper base than the female variant; stereo needs no pitch gap

CALL = [
    ("interviewer", "Thanks for joining. How do you send invoices to your customers today?"),
    ("respondent", "Every month I export the orders to a spreadsheet and build each invoice by hand."),
    ("interviewer", "What is the hardest part of that?"),
    ("respondent", "Matching the payments to the invoices. It takes me two full days every month."),
]

SAMPLE_NAME = "2026-05-20-northwind-logistics.ogg"
SAMPLE_TITLE = "Northwind Logistics: invoices from a spreadsheet"
SAMPLE = [
    ("interviewer", "Thank you for taking the time today, Mark. Could you tell me what your role is at the company?"),
    ("respondent", "Sure. I run finance operations at a logistics startup, so billing and collections are on me."),
    ("interviewer", "How do you bill your customers at the moment?"),
    ("respondent", "We export shipments from our system at the end of the month, and then I build the invoices in a spreadsheet."),
    ("interviewer", "What goes wrong with that?"),
    ("respondent", "Reconciliation is the worst part. Payments arrive without invoice numbers, so I match them by hand. It takes two days every month."),
    ("interviewer", "Have you tried any tools to fix it?"),
    ("respondent", "We tried an invoicing app last year, but the onboarding was painful and nobody could connect it to our bank."),
    ("interviewer", "If that problem were solved, what would it be worth to you?"),
    ("respondent", "Honestly, two days a month back. I would pay for that tomorrow."),
]

RU = "Добрый день. Расскажите, пожалуйста, как вы сейчас выставляете счета клиентам."


def speak(text: str, voice: str, path: Path, *, speed: int = 165) -> np.ndarray:
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), text], check=True)
    out = path.with_suffix(".16k.wav")
    subprocess.run(["sox", str(path), "-r", str(RATE), "-c", "1", "-b", "16", str(out)], check=True)
    return read_wav(out)


def read_wav(path: Path) -> np.ndarray:
    with av.open(str(path)) as c:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        chunks = [f.to_ndarray().reshape(-1) for frame in c.decode(audio=0) for f in resampler.resample(frame)]
        chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(chunks).astype(np.float32)


def conversation(turns, tmp: Path, *, gap: float = 0.6, lead: float = 0.5, interviewer_voice: str = INTERVIEWER_VOICE) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """Left = interviewer, right = respondent. Returns (left, right, script with start/end seconds)."""
    left: list[np.ndarray] = [np.zeros(int(lead * RATE), np.float32)]
    right: list[np.ndarray] = [np.zeros(int(lead * RATE), np.float32)]
    t = lead
    script = []
    for n, (role, text) in enumerate(turns):
        voice = interviewer_voice if role == "interviewer" else RESPONDENT_VOICE
        audio = speak(text, voice, tmp / f"turn{n}.wav")
        audio = audio * (0.5 / max(1e-6, float(np.abs(audio).max())))
        silence = np.zeros_like(audio)
        (left if role == "interviewer" else right).append(audio)
        (right if role == "interviewer" else left).append(silence)
        script.append({"role": role, "start": round(t, 2), "end": round(t + len(audio) / RATE, 2), "text": text})
        t += len(audio) / RATE + gap
        pause = np.zeros(int(gap * RATE), np.float32)
        left.append(pause)
        right.append(pause)
    return np.concatenate(left), np.concatenate(right), script


def encode(path: Path, channels: list[np.ndarray], *, codec: str = "libopus", bitrate: int = 24000, title: str | None = None) -> None:
    """Encode float32 channels at 16 kHz (Opus: resampled to 48 kHz by PyAV) into ``path``."""
    layout = "mono" if len(channels) == 1 else "stereo"
    data = np.stack(channels).astype(np.float32)  # planar (channels, samples)
    with av.open(str(path), "w") as out:
        if title:
            out.metadata["title"] = title
        rate = 48000 if codec == "libopus" else RATE
        stream = out.add_stream(codec, rate=rate, layout=layout)
        stream.bit_rate = bitrate
        resampler = av.AudioResampler(format=stream.codec_context.format.name, layout=layout, rate=rate)
        step = RATE  # one second per frame fed to the resampler
        for i in range(0, data.shape[1], step):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data[:, i : i + step]), format="fltp", layout=layout)
            frame.sample_rate = RATE
            for rf in resampler.resample(frame):
                for packet in stream.encode(rf):
                    out.mux(packet)
        for rf in resampler.resample(None):
            for packet in stream.encode(rf):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def main() -> None:
    if not shutil.which("espeak-ng") or not shutil.which("sox"):
        sys.exit("needs espeak-ng and sox (apt-get install espeak-ng sox)")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        left, right, script = conversation(CALL, tmp)
        encode(HERE / "call_stereo.ogg", [left, right])
        encode(HERE / "call_mono.ogg", [np.clip(left + right, -1, 1)])
        (HERE / "call_script.json").write_text(json.dumps(script, indent=1) + "\n", encoding="utf-8")

        ru = speak(RU, "ru", tmp / "ru.wav", speed=150)
        encode(HERE / "ru_mono.ogg", [ru * (0.5 / float(np.abs(ru).max()))])

        encode(HERE / "silence.ogg", [np.zeros(4 * RATE, np.float32)])

        # A truncated MP3: the first 40 % of the bytes of a good file.
        encode(tmp / "full.mp3", [left + right], codec="libmp3lame", bitrate=32000)
        data = (tmp / "full.mp3").read_bytes()
        (HERE / "truncated.mp3").write_bytes(data[: int(len(data) * 0.4)])

        if JFK.exists():
            encode(HERE / "jfk.ogg", [read_wav(JFK)], bitrate=32000)

        s_left, s_right, s_script = conversation(SAMPLE, tmp, gap=0.7, interviewer_voice=SAMPLE_INTERVIEWER_VOICE)
        recordings = ROOT / "recordings"
        recordings.mkdir(exist_ok=True)
        encode(recordings / SAMPLE_NAME, [s_left, s_right], bitrate=32000, title=SAMPLE_TITLE)
        (HERE / "sample_script.json").write_text(json.dumps(s_script, indent=1) + "\n", encoding="utf-8")
    make_docx(HERE / "otter.docx")
    for p in sorted(HERE.iterdir()):
        print(f"{p.stat().st_size:>9}  {p.relative_to(ROOT)}")


def make_docx(path: Path) -> None:
    """An Otter-style .docx export: a 'Name  0:03' paragraph, then the text paragraph."""
    import docx

    doc = docx.Document()
    doc.add_heading("Acme onboarding call", level=1)
    doc.add_paragraph("Tue, 3/10 2:15PM · 12mins")
    for name, ts, text in [
        ("Maria Lopez", "0:03", "Thanks for joining. How did the first week with the product go?"),
        ("Tom Becker", "0:09", "Honestly, the setup took us three days because the importer rejected our CSV."),
        ("Maria Lopez", "1:15", "What did you do then?"),
        ("Tom Becker", "1:19", "I called support, and they fixed it by hand."),
    ]:
        doc.add_paragraph(f"{name}  {ts}")
        doc.add_paragraph(text)
    doc.add_paragraph("Transcribed by https://otter.ai")
    doc.save(str(path))


# Issue 14: a language switch (English, then German, as in faster-whisper's own test data) and a noise-only file.
SWITCH = [
    ("en-us", "Thanks for joining. Every month I send about two hundred invoices to our customers by hand."),
    ("de", "Jeden Monat schreiben wir alle Rechnungen von Hand, und die Kunden bezahlen oft viel zu spät."),
]


def main_trust() -> None:
    """python tests/data/make_fixtures.py trust: only the fixtures of the transcript-trust tests."""
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        parts = [np.zeros(int(0.5 * RATE), np.float32)]
        for n, (voice, text) in enumerate(SWITCH):
            audio = speak(text, voice, tmp / f"switch{n}.wav", speed=150)
            parts += [audio * (0.5 / float(np.abs(audio).max())), np.zeros(int(1.2 * RATE), np.float32)]
        encode(HERE / "en_de_switch.ogg", [np.concatenate(parts)])
        rng = np.random.default_rng(14)
        white = rng.standard_normal(6 * RATE).astype(np.float32)
        brown = np.cumsum(white) / RATE * 40
        brown -= np.convolve(brown, np.ones(800) / 800, mode="same")  # no DC drift
        noise = 0.05 * white + 0.5 * brown / float(np.abs(brown).max())
        encode(HERE / "noise.ogg", [np.clip(noise, -1, 1).astype(np.float32)])
    for name in ("en_de_switch.ogg", "noise.ogg"):
        print(f"{(HERE / name).stat().st_size:>9}  tests/data/{name}")


def main_bad() -> None:
    """python tests/data/make_fixtures.py bad: the bad-input files of issue 14 (item 8), made from jfk.ogg.

    * ``video_only.mp4``: a real MPEG-4 video with no audio stream;
    * ``zero.wav``: a valid WAV of 0 seconds (``sox -n -r 16000 -c 1 zero.wav trim 0 0``);
    * ``jfk_damaged.ogg``: JFK with 3 kB of garbage over its middle Ogg pages (the demuxer drops about 2 s at 5 s);
    * ``jfk_damaged.mp3``: JFK as MP3 with 3 kB of garbage in the middle (the decoder fails at about 5.5 s).
    """
    with av.open(str(HERE / "video_only.mp4"), "w") as out:
        stream = out.add_stream("mpeg4", rate=5)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for _ in range(5):
            frame = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    subprocess.run(["sox", "-n", "-r", str(RATE), "-c", "1", "-b", "16", str(HERE / "zero.wav"), "trim", "0", "0"], check=True)
    jfk = read_wav(HERE / "jfk.ogg")
    garbage = bytes((i * 37) % 256 for i in range(3000))
    with tempfile.TemporaryDirectory() as d:
        encode(Path(d) / "jfk.mp3", [jfk], codec="libmp3lame", bitrate=24000)
        for src, name in ((HERE / "jfk.ogg", "jfk_damaged.ogg"), (Path(d) / "jfk.mp3", "jfk_damaged.mp3")):
            data = bytearray(src.read_bytes())
            middle = len(data) // 2
            data[middle : middle + len(garbage)] = garbage
            (HERE / name).write_bytes(bytes(data))
    for name in ("video_only.mp4", "zero.wav", "jfk_damaged.ogg", "jfk_damaged.mp3"):
        print(f"{(HERE / name).stat().st_size:>9}  tests/data/{name}")


if __name__ == "__main__":
    {"trust": main_trust, "bad": main_bad}.get(sys.argv[1] if sys.argv[1:] else "", main)()
