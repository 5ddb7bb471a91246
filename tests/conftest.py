"""Shared fixtures. Tests never touch a real base or the user's model cache."""

from __future__ import annotations

import copy
import hashlib
import os
import shutil
import signal
from pathlib import Path
from typing import Any, Callable

import pytest

REPO = Path(__file__).resolve().parent.parent

# Sentence embeddings cost seconds per base: off for every test and fixture (module- and session-scoped ones build
# before the autouse fixture below runs); tests of meaning turn them on (tests/test_meaning.py).
os.environ["CUSTDEV_EMBEDDINGS"] = "off"

# With no base at hand the command line speaks the user's locale (custdev.cli.lang): the tests run in a neutral one,
# so that they read the same on a machine set up in Russian; tests of the locale set their own.
for _name in ("LANGUAGE", "LC_MESSAGES"):
    os.environ.pop(_name, None)
os.environ["LC_ALL"] = os.environ["LANG"] = "C.UTF-8"


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory) -> Path:
    """One model cache for the whole run: the Whisper model is reassembled once, not per test."""
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(autouse=True)
def _isolate(monkeypatch, tmp_path, model_cache):
    monkeypatch.setenv("CUSTDEV_BASE", str(tmp_path / "no-base-here"))
    monkeypatch.setenv("CUSTDEV_CACHE", str(model_cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("CUSTDEV_DEBUG", raising=False)
    # Sentence embeddings cost seconds per base: only tests of meaning turn them on (tests/test_meaning.py).
    monkeypatch.setenv("CUSTDEV_EMBEDDINGS", "off")


# --- one transcription per file and options for the whole run ------------------------------------------------

_TRANSCRIPTS: dict[tuple[str, str], dict] = {}


def _transcript_key(path: Path, options: Any) -> tuple[str, str]:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest(), options.fingerprint()


def shared_transcript(path: Path, options: Any, transcribe: Callable[[], Any]) -> Any:
    """The transcript of the recording at ``path`` with ``options``: the one an earlier test of this run made
    (through ``keep_transcripts``, or here), else ``transcribe()``'s. Whole-file runs only, never one resumed from a
    checkpoint; each caller gets its own copy, so what one test (or an import) changes no other sees."""
    from custdev.speech.transcribe import Transcript

    key = _transcript_key(path, options)
    if key not in _TRANSCRIPTS:
        _TRANSCRIPTS[key] = transcribe().to_dict()
    return Transcript.from_dict(copy.deepcopy(_TRANSCRIPTS[key]))


@pytest.fixture
def keep_transcripts(monkeypatch):
    """Keeps what every whole-file ``Transcriber.transcribe`` of this test returns (the real model's work, not a
    stub), so a later test asserting other things about the same recording with the same options reads it through
    :func:`shared_transcript` instead of transcribing it again (e.g. test_ingest's speaker-names import feeds
    test_transcribe's stereo test)."""
    from custdev.speech import transcribe as T

    real = T.Transcriber.transcribe

    def transcribe(self, path, *, state=None, **kw):
        tr = real(self, path, state=state, **kw)
        if state is None:
            _TRANSCRIPTS.setdefault(_transcript_key(path, self.options), tr.to_dict())
        return tr

    monkeypatch.setattr(T.Transcriber, "transcribe", transcribe)


def demo_output(src: Path):
    """An ignore function for copytree: interviews that `scripts/demo` made from recordings/ are not sample data."""
    made = {p.stem for p in (src / "recordings").glob("*")} if (src / "recordings").is_dir() else set()

    def ignore(folder, names):
        return [n for n in names if n.split(".")[0] in made]

    return ignore


def copy_base(src: Path, dest: Path) -> Path:
    """Copy a base's source files (config, codebook, interviews, recordings/audio) without its database.

    Interviews transcribed from recordings/ by `scripts/demo` are left out, so tests see the committed sample.
    """
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("custdev.toml", "codebook.yml"):
        if (src / name).exists():
            shutil.copy2(src / name, dest / name)
    for folder in ("interviews", "audio", "recordings"):
        if (src / folder).is_dir():
            shutil.copytree(src / folder, dest / folder, ignore=demo_output(src) if folder == "interviews" else None)
    return dest


@pytest.fixture
def sample_base(tmp_path) -> Path:
    """A private copy of the repository's sample base (not yet built)."""
    return copy_base(REPO, tmp_path / "sample")


@pytest.fixture
def empty_base(tmp_path) -> Path:
    from custdev.config import init_base

    root, _ = init_base(tmp_path / "base")
    return root


def default_ctrl_c() -> None:
    """``preexec_fn`` for a child a test stops with Ctrl-C (SIGINT): the child takes SIGINT by default even when the
    test run ignores it. A CI job started in the background without job control inherits SIGINT ignored, Python
    then never raises KeyboardInterrupt, and the test waited out its timeout (600 s) instead."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
