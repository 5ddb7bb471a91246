"""``custdev record``: the microphone -> ``audio/<id>.ogg`` (Opus), written so that a crash loses at most a moment.

* Capture: sounddevice (PortAudio), imported lazily; mono, the device's own rate (Opus wants 48 kHz: resampled).
* Encoding: PyAV's libopus into Ogg with pages of at most 200 ms, each page flushed to the file as it is written
  (``flush_packets``), and the file fsynced every second: after a crash, a kill or a power loss the file plays and
  holds every second recorded up to then (an Ogg file without its last page is still a valid stream).
* The callback only copies blocks into a queue; encoding runs on the caller's thread, so a slow disk never drops
  audio (the queue absorbs it) and the meter costs nothing.
"""

from __future__ import annotations

import math
import os
import queue
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from custdev.errors import CustdevError
from custdev.i18n import N_

OPUS_RATE = 48000
PAGE_US = 200_000  # Ogg page duration: the most a crash can lose
BITRATE = 32000


class RecordError(CustdevError):
    """No microphone, no PortAudio, or the recording cannot be written."""


def _sd():
    try:
        import sounddevice as sd
    except OSError:
        raise RecordError(N_("recording needs the PortAudio library (Debian/Ubuntu: apt-get install libportaudio2)")) from None
    except ImportError:
        raise RecordError(N_("recording needs the sounddevice package (pip install sounddevice)")) from None
    return sd


@dataclass
class InputDevice:
    index: int
    name: str
    channels: int
    rate: float
    default: bool


def list_devices() -> list[InputDevice]:
    """Microphones and other inputs PortAudio can record from."""
    sd = _sd()
    try:
        devices = sd.query_devices()
        default_in = sd.default.device[0] if sd.default.device else -1
    except sd.PortAudioError as exc:
        raise RecordError(N_("cannot list audio devices ({error})"), error=exc) from None
    return [
        InputDevice(i, d["name"], int(d["max_input_channels"]), float(d["default_samplerate"]), i == default_in)
        for i, d in enumerate(devices)
        if d["max_input_channels"] > 0
    ]


def _pick(device: str | None) -> tuple[int | None, float]:
    found = list_devices()
    if not found:
        raise RecordError(N_("no microphone or other audio input found (--list-devices shows what PortAudio sees)"))
    if device is None:
        chosen = next((d for d in found if d.default), found[0])
    elif device.isdigit():
        chosen = next((d for d in found if d.index == int(device)), None)
    else:
        chosen = next((d for d in found if device.casefold() in d.name.casefold()), None)
    if chosen is None:
        names = ", ".join(f"{d.index}: {d.name}" for d in found)
        raise RecordError(N_("no input device matches '{device}' (inputs: {names})"), device=device, names=names)
    return chosen.index, chosen.rate


@dataclass
class Level:
    elapsed_s: float
    rms_db: float  # dBFS of the last block (-inf for silence)
    peak: float


@dataclass
class Recording:
    path: Path
    duration_s: float
    cpu_s: float  # CPU seconds this process used from the first block of sound on (for the < 10 % of one core check)
    wall_s: float


def record(
    path: str | Path,
    *,
    device: str | None = None,
    seconds: float | None = None,
    on_level: Callable[[Level], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Recording:
    """Record ``device`` (default input) into ``path`` (Ogg Opus) until Ctrl-C, ``should_stop()`` or ``seconds``.

    Ctrl-C (KeyboardInterrupt) ends the recording cleanly: the file is finished and returned, not lost.
    """
    import av

    sd = _sd()
    path = Path(path)
    index, rate = _pick(device)
    rate = int(rate) or OPUS_RATE
    blocks: queue.Queue = queue.Queue()

    def callback(indata, frames, time_info, status) -> None:  # PortAudio's thread: copy only
        blocks.put(indata[:, 0].copy())

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        out = av.open(str(path), "w", format="ogg", options={"page_duration": str(PAGE_US), "flush_packets": "1"})
    except (av.error.FFmpegError, OSError) as exc:
        raise RecordError(N_("cannot write {path} ({error})"), path=path, error=exc) from None
    # CPU share is measured in the steady state, from the first block of sound on: opening the device (a PulseAudio
    # or ALSA connection) is a one-off cost that would dominate a short recording.
    cpu0: float | None = None
    wall0 = time.perf_counter()
    samples = 0
    fd: int | None = None

    def sync() -> None:
        """fsync what the muxer wrote (any descriptor of the file flushes its pages to the disk)."""
        nonlocal fd
        if fd is None and path.exists():
            fd = os.open(path, os.O_RDONLY)
        if fd is not None:
            os.fsync(fd)

    try:
        stream = out.add_stream("libopus", rate=OPUS_RATE, layout="mono")
        stream.bit_rate = BITRATE
        resampler = av.AudioResampler(format=stream.codec_context.format.name, layout="mono", rate=OPUS_RATE)
        last_sync = time.monotonic()

        def encode(block: np.ndarray | None) -> None:
            if block is None:
                frames = resampler.resample(None)
            else:
                frame = av.AudioFrame.from_ndarray(block.reshape(1, -1).astype(np.float32), format="flt", layout="mono")
                frame.sample_rate = rate
                frames = resampler.resample(frame)
            for f in frames:
                for packet in stream.encode(f):
                    out.mux(packet)

        try:
            with sd.InputStream(device=index, channels=1, samplerate=rate, dtype="float32", blocksize=int(rate * 0.1), callback=callback):
                while True:
                    try:
                        block = blocks.get(timeout=0.5)
                    except queue.Empty:
                        block = None
                    if block is not None:
                        if cpu0 is None:
                            cpu0, wall0 = time.process_time(), time.perf_counter()
                        samples += len(block)
                        encode(block)
                        if on_level:
                            rms = float(np.sqrt(np.mean(block.astype(np.float64) ** 2))) if len(block) else 0.0
                            on_level(Level(samples / rate, 20 * math.log10(rms) if rms > 0 else -math.inf, float(np.abs(block).max(initial=0.0))))
                    if time.monotonic() - last_sync >= 1.0:
                        sync()
                        last_sync = time.monotonic()
                    if (seconds is not None and samples >= seconds * rate) or (should_stop and should_stop()):
                        break
        except KeyboardInterrupt:
            pass  # Ctrl-C: finish the file below
        except sd.PortAudioError as exc:
            raise RecordError(N_("the audio device failed ({error})"), error=exc) from None
        while not blocks.empty():  # what arrived before the stream closed
            block = blocks.get_nowait()
            samples += len(block)
            encode(block)
        encode(None)
        for packet in stream.encode(None):
            out.mux(packet)
    finally:
        out.close()
        sync()
        if fd is not None:
            os.close(fd)
    return Recording(path=path, duration_s=samples / rate, cpu_s=time.process_time() - (cpu0 if cpu0 is not None else time.process_time()), wall_s=time.perf_counter() - wall0)


def level_bar(level: Level, width: int = 30) -> str:
    """A text meter: -60 dBFS empty, 0 dBFS full."""
    db = max(-60.0, min(0.0, level.rms_db)) if level.rms_db != -math.inf else -60.0
    filled = int(round((db + 60) / 60 * width))
    return "█" * filled + "·" * (width - filled)
