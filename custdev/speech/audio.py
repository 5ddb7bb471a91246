"""Audio input: probe a file's header and decode it to 16 kHz float32 in bounded windows (PyAV, imported lazily).

Audio is decoded with PyAV in pieces and handed out in windows of a few minutes cut at the quietest moment near
each window's end, so a three-hour recording never sits decoded in memory at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from custdev.errors import CustdevError, SystemReason
from custdev.i18n import N_

RATE = 16000


class AudioError(CustdevError):
    """An audio or video file that cannot be decoded."""




@dataclass
class AudioInfo:
    duration: float | None  # from the container header (None when unknown)
    channels: int
    sample_rate: int
    codec: str
    title: str | None = None
    created: str | None = None  # ISO date from the file's metadata, if any


def _open(path: Path):
    import av

    if path.stat().st_size == 0:
        raise AudioError(N_("{path}: the file is empty (0 bytes)"), path=path)
    try:
        return av.open(str(path), mode="r", metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        raise AudioError(N_("{path}: not a readable audio or video file ({error})"), path=path, error=_av_reason(exc)) from None


# FFmpeg's words for the usual reasons, in the user's language (others are shown as FFmpeg says them).
_AV_REASONS = {"Invalid data found when processing input": N_("the data is damaged or in an unknown format"),
               "End of file": N_("the file ends too early")}


def _av_reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    text = text.split(":")[0].strip()[:80] or type(exc).__name__
    return SystemReason(_AV_REASONS[text], text) if text in _AV_REASONS else text


def probe(path: str | Path) -> AudioInfo:
    """Read an audio/video file's header. Raises AudioError for empty, non-audio or corrupt files."""
    path = Path(path)
    with _open(path) as container:
        if not container.streams.audio:
            raise AudioError(N_("{path}: has no audio track"), path=path)
        stream = container.streams.audio[0]
        duration = None
        if stream.duration is not None and stream.time_base:
            duration = float(stream.duration * stream.time_base)
        elif container.duration:
            duration = container.duration / 1_000_000
        meta = {k.lower(): v for k, v in {**container.metadata, **stream.metadata}.items()}
        created = meta.get("creation_time") or meta.get("date")
        if created and not re.match(r"\d{4}-\d{2}-\d{2}", created):
            created = None
        return AudioInfo(
            duration=duration,
            channels=stream.codec_context.channels or 1,
            sample_rate=stream.codec_context.sample_rate or 0,
            codec=stream.codec_context.name,
            title=(meta.get("title") or None),
            created=created[:10] if created else None,
        )


GAP_S = 0.2  # packets this far apart in the recording's own timeline mean something in between was lost


@dataclass
class _DecodeStats:
    bad_packets: int = 0
    samples: int = 0
    damaged: list[tuple[float, float]] = field(default_factory=list)  # (seconds into the recording, seconds lost; 0 = unknown)
    stopped_at: float | None = None  # the rest of the file could not be read from here on


def iter_audio(path: str | Path, *, stereo: bool, chunk_s: float = 20.0, stats: _DecodeStats | None = None) -> Iterator[np.ndarray]:
    """Decode ``path`` to 16 kHz float32 in chunks of about ``chunk_s`` seconds: arrays of shape (channels, n).

    Undecodable packets (a corrupt or truncated file) are skipped and counted in ``stats``.
    """
    import av

    path = Path(path)
    stats = stats or _DecodeStats()
    layout = "stereo" if stereo else "mono"
    target = int(chunk_s * RATE)
    with _open(path) as container:
        if not container.streams.audio:
            raise AudioError(N_("{path}: has no audio track"), path=path)
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=RATE)
        width = 2 if stereo else 1
        pending: list[np.ndarray] = []
        n = 0
        tb = float(stream.time_base) if stream.time_base else 0.0

        def frames() -> Iterator[Any]:
            """Decoded frames; a float is a stretch of lost audio (seconds) to fill with silence, None the end."""
            packets = container.demux(stream)
            end: float | None = None  # where the last good packet ended, in the recording's own timeline
            while True:
                try:
                    packet = next(packets)
                except StopIteration:
                    break
                except (av.error.InvalidDataError, av.error.EOFError):
                    stats.bad_packets += 1
                    stats.stopped_at = end or 0.0
                    break
                at = float(packet.pts) * tb if packet.pts is not None and tb else None
                if at is not None and end is not None and at - end > GAP_S:
                    stats.damaged.append((end, at - end))  # pages the demuxer dropped (bad checksums)
                    yield at - end
                try:
                    decoded = packet.decode()
                except (av.error.FFmpegError, ValueError):
                    stats.bad_packets += 1
                    stats.damaged.append((at if at is not None else end or 0.0, 0.0))
                    continue
                if at is not None:
                    end = at + (float(packet.duration) * tb if packet.duration else 0.0)
                for frame in decoded:
                    frame.pts = None
                    yield frame
            yield None  # flush the resampler

        for frame in frames():
            if isinstance(frame, float):  # lost audio: silence of the same length keeps every later time true
                out_arrays = [np.zeros((width, int(round(frame * RATE))), dtype=np.float32)]
            else:
                try:
                    resampled = resampler.resample(frame)
                except (av.error.FFmpegError, ValueError):
                    stats.bad_packets += 1
                    continue
                out_arrays = []
                for out in resampled:
                    arr = out.to_ndarray()
                    if arr.ndim == 1:
                        arr = arr.reshape(1, -1)
                    out_arrays.append(np.ascontiguousarray(arr, dtype=np.float32))
            for arr in out_arrays:
                pending.append(arr)
                n += arr.shape[1]
                if n >= target:
                    chunk = np.concatenate(pending, axis=1)
                    pending, n = [], 0
                    stats.samples += chunk.shape[1]
                    yield chunk
        if pending:
            chunk = np.concatenate(pending, axis=1)
            stats.samples += chunk.shape[1]
            yield chunk
        del resampler


_HEAP_BOUNDED = False


def bound_heap() -> None:
    """Keep a long transcription's peak memory flat (Linux glibc; a no-op elsewhere).

    glibc keeps the large temporary buffers of the VAD and the decoder in its heap after they are freed, and the next
    window's buffers do not fit the holes, so the peak grew window after window (VAD alone: 260 -> 337 MB over an hour
    of audio). Serving blocks of 1 MB or more straight from mmap gives each back to the system when freed: flat 284 MB.
    """
    global _HEAP_BOUNDED
    if _HEAP_BOUNDED:
        return
    _HEAP_BOUNDED = True
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD = 1 MB
    except (OSError, AttributeError):
        pass


def iter_windows(
    path: str | Path,
    *,
    stereo: bool,
    window_s: float = 300.0,
    skip_samples: int = 0,
    stats: _DecodeStats | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (offset in samples, audio (channels, n)) windows of about ``window_s`` seconds.

    Each window ends at the quietest 100 ms of its last 20 seconds, so words are not cut in half. Memory stays
    at about one window plus one decode chunk whatever the file's length. ``skip_samples`` resumes mid-file.
    """
    window = int(window_s * RATE)
    search = min(int(20 * RATE), window // 2)
    buf: list[np.ndarray] = []
    buffered = 0
    offset = 0
    to_skip = skip_samples
    for chunk in iter_audio(path, stereo=stereo, stats=stats):
        if to_skip:
            drop = min(to_skip, chunk.shape[1])
            chunk = chunk[:, drop:]
            to_skip -= drop
            offset += drop
            if not chunk.shape[1]:
                continue
        buf.append(chunk)
        buffered += chunk.shape[1]
        while buffered >= window + search:
            audio = np.concatenate(buf, axis=1)
            cut = _quiet_cut(audio, window, search)
            yield offset, audio[:, :cut]
            rest = audio[:, cut:]
            buf, buffered = [rest], rest.shape[1]
            offset += cut
    if buffered:
        yield offset, np.concatenate(buf, axis=1)


def _quiet_cut(audio: np.ndarray, window: int, search: int) -> int:
    frame = RATE // 10
    lo = window - search
    seg = np.abs(audio[:, lo:window]).sum(axis=0)
    nframes = len(seg) // frame
    if nframes < 2:
        return window
    energy = seg[: nframes * frame].reshape(nframes, frame).sum(axis=1)
    return lo + int(np.argmin(energy)) * frame + frame // 2


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) if x.size else 0.0
