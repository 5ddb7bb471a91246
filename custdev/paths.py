"""Which files of a base may be read and served: nothing through a symlink out of the base, recordings only
from ``audio/`` and only media files (by extension, which also gives the type the site sends)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from custdev.config import AUDIO_DIR, MEDIA_TYPES


def outside_base(base_root: Path, path: Path, resolved_root: Path | None = None) -> bool:
    """True when ``path`` (a symlink, or inside a symlinked folder) really lives outside the base folder.
    ``resolved_root``: ``base_root.resolve()`` when the caller has it already (a parse worker, once per chunk of files:
    resolving costs about 35 µs, half of this check)."""
    try:
        path.resolve().relative_to(base_root.resolve() if resolved_root is None else resolved_root)
    except (ValueError, OSError, RuntimeError):
        return True
    return False


def media_type(path: str | Path) -> str | None:
    """The media type of a recording by its extension, or None when it is not a recording custdev serves."""
    return MEDIA_TYPES.get(PurePosixPath(str(path)).suffix.lower())


def is_media_ref(audio: str | None) -> bool:
    """Is this ``audio:`` value (relative to the base) a media file name under ``audio/``? (Text only; no disk.)"""
    if not audio or "\\" in audio or "\0" in audio:
        return False
    parts = PurePosixPath(audio).parts
    return len(parts) >= 2 and parts[0] == AUDIO_DIR and ".." not in parts and not audio.startswith("/") and media_type(audio) is not None


def media_file(base_root: Path | None, audio: str | None) -> Path | None:
    """The recording ``audio`` points at when it is a media file under the base's ``audio/`` folder (after
    resolving every symlink), else None. The only way the site and the tools turn an ``audio:`` into a file."""
    if base_root is None or not is_media_ref(audio):
        return None
    folder = (base_root / AUDIO_DIR).resolve()
    try:
        path = (base_root / audio).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    if not path.is_relative_to(folder) or media_type(path) is None or not path.is_file():
        return None
    return path


# Names of document formats: an output file named so is expected to be one. custdev writes a report as markdown or
# HTML and a matrix as CSV or Excel; written under another of these names (report.pdf, matrix.xls) it would not open.
DOCUMENT_SUFFIXES = frozenset((".pdf", ".doc", ".docx", ".odt", ".rtf", ".ppt", ".pptx", ".odp", ".xls", ".xlsx", ".ods",
                               ".csv", ".tsv", ".json", ".xml", ".html", ".htm", ".md", ".markdown", ".txt", ".png",
                               ".jpg", ".jpeg", ".svg", ".zip"))


def format_by_name(out: Path | None, suffixes: dict[str, str], default: str) -> str | None:
    """The format the output file's name asks for: ``suffixes`` maps the names custdev writes to its formats; no name,
    or a suffix that names no document format, gets ``default``; None for a document format custdev does not write."""
    if out is None:
        return default
    suffix = out.suffix.lower()
    if suffix in suffixes:
        return suffixes[suffix]
    return None if suffix in DOCUMENT_SUFFIXES else default
