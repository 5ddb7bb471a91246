"""``custdev import responses.csv --channel survey|ticket|chat``: an export -> grouped markdown files in ``channels/``.

Each import writes ``channels/<channel>/<import>/part-0001.md`` … with up to :data:`PART_SIZE` responses (surveys,
tickets) or conversations (chats) each, plus a ``.responses.json`` sidecar per part with each turn's row number, date,
respondent, segment and NPS. A response is one turn (``**R17:** text``, R17 = its row in the export); a conversation
is a ``## heading`` followed by its messages as turns. Researchers code them exactly like interviews (``#pain/slug``
after the text, or ``==highlights==``). Parts are written whole (temp file, rename) as they fill, and the import is
skipped when the same export (by SHA-256) was imported before.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from custdev.channels.read import CHANNELS, BadRows, ChannelError, Row, read_rows
from custdev.config import Base, atomic_write_text, sha256_file
from custdev.errors import Joined, Message
from custdev.i18n import N_
from custdev.markdown import escape_text

CHANNELS_DIR = "channels"
PART_SIZE = 1000
SIDECAR = ".responses.json"
CUSTOMER_SPEAKERS = {"user", "customer", "client", "visitor", "клиент", "пользователь", "покупатель", "посетитель", "human"}


@dataclass
class ChannelImport:
    source: str
    channel: str
    folder: str | None = None
    parts: int = 0
    items: int = 0
    responses: int = 0
    skipped: bool = False
    message: str | None = None
    bad: BadRows = field(default_factory=BadRows)
    unknown_segments: dict[str, int] = field(default_factory=dict)
    build: dict | None = None
    segments_seen: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"source": self.source, "channel": self.channel, "folder": self.folder, "parts": self.parts, "items": self.items,
                "responses": self.responses, "skipped": self.skipped, "message": self.message, "bad_rows": self.bad.count,
                "bad": self.bad.reasons, "unknown_segments": self.unknown_segments, "build": self.build}


def saved_columns(base: Base, channel: str) -> dict[str, str]:
    """``[channels.<channel>.columns]`` from custdev.toml (field = "Header")."""
    section = base.config.raw.get("channels", {}).get(channel, {}).get("columns", {})
    return {str(k): str(v) for k, v in section.items()} if isinstance(section, dict) else {}


def existing_imports(base: Base) -> dict[str, str]:
    found = {}
    root = base.root / CHANNELS_DIR
    if root.is_dir():
        for manifest in root.glob("*/*/import.json"):
            try:
                data = json.loads(manifest.read_text(encoding="utf-8"))
                found[data["source_sha256"]] = manifest.parent.relative_to(base.root).as_posix()
            except (OSError, ValueError, KeyError):
                continue
    return found


def _folder(base: Base, channel: str, source: Path) -> Path:
    stem = re.sub(r"[^\w]+", "-", source.stem.casefold()).strip("-") or "import"
    name = f"{_dt.date.today().isoformat()}-{stem}"[:80]
    folder, n = base.root / CHANNELS_DIR / channel / name, 1
    while folder.exists():
        n += 1
        folder = base.root / CHANNELS_DIR / channel / f"{name}-{n}"
    return folder


def import_responses(base: Base, source: str | Path, channel: str, *, columns: dict[str, str] | None = None,
                     encoding: str | None = None, progress: Callable[[int], None] | None = None) -> ChannelImport:
    """Import one export file into ``channels/``. Raises ChannelError (one line, nothing written) for an unusable file."""
    if channel not in CHANNELS:
        raise ChannelError(N_("unknown channel '{channel}' (use {choices})"), channel=channel, choices=', '.join(CHANNELS))
    source = Path(source)
    result = ChannelImport(str(source), channel)
    if not source.is_file():
        raise ChannelError(N_("{source}: no such file"), source=source)
    digest = sha256_file(source)
    done = existing_imports(base).get(digest)
    if done:
        result.skipped, result.folder = True, done
        result.message = Message(N_("{path}: already imported as {interview}"), path=source, interview=done)
        return result
    given = {**saved_columns(base, channel), **(columns or {})}
    segments = {}
    for slug, entry in base.codebook.segments.items():
        segments[slug.casefold()] = slug
        segments[entry.title.casefold()] = slug
    folder = _folder(base, channel, source)
    rows = read_rows(source, channel, given, result.bad, encoding=encoding, segments=segments)
    written: list[Path] = []
    try:
        if channel == "chat":
            _write_chats(base, folder, source, digest, rows, result, written, progress)
        else:
            _write_responses(base, folder, source, digest, channel, rows, result, written, progress)
        if not result.responses:
            if result.bad.count:
                # every row was bad: say why, as the warnings of an import that went through do
                raise ChannelError(N_("{name}: no usable rows: {reasons}"), name=source.name, reasons=Joined("; ", result.bad.lines()))
            raise ChannelError(N_("{name}: no usable rows"), name=source.name)
        atomic_write_text(folder / "import.json", json.dumps({
            "channel": channel, "source": source.name, "source_sha256": digest, "imported": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "items": result.items, "responses": result.responses, "bad_rows": result.bad.count,
        }, ensure_ascii=False, indent=1) + "\n")
    except BaseException:
        for path in written:  # an import that stops midway leaves nothing behind: re-running starts clean
            for p in (path, path.with_name(path.stem + SIDECAR)):
                if p.exists():
                    p.unlink()
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
        raise
    result.folder = folder.relative_to(base.root).as_posix()
    result.unknown_segments = {s: n for s, n in result.segments_seen.items() if s not in base.codebook.segments}
    return result


def _count_segment(result: ChannelImport, segment: str | None) -> None:
    if segment:
        result.segments_seen[segment] = result.segments_seen.get(segment, 0) + 1


def _front(channel: str, source: Path, digest: str, part: int, folder: Path) -> str:
    return (f"---\nid: {channel}-{folder.name}-part-{part:04d}\nchannel: {channel}\nimport: {folder.name}\n"
            f"source: {json.dumps(source.name, ensure_ascii=False)}\nsource_sha256: {digest}\npart: {part}\n---\n\n")


def _meta(row: Row, item: str, role: str | None = None) -> dict:
    meta = {"item": item, "row": row.number}
    for key in ("date", "respondent", "segment", "nps", "id"):
        value = getattr(row, key)
        if value is not None:
            meta[key] = value
    if role:
        meta["role"] = role
    return meta


def _body(text: str) -> str:
    paras = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if p.strip()]
    return "\n\n".join(escape_text(p) for p in paras) or escape_text(" ".join(text.split()))


def _flush(folder: Path, part: int, header: str, chunks: list[str], metas: list[dict], written: list[Path]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    md = folder / f"part-{part:04d}.md"
    atomic_write_text(md.with_name(md.stem + SIDECAR), json.dumps({"turns": metas}, ensure_ascii=False, separators=(",", ":")) + "\n")
    atomic_write_text(md, header + "\n\n".join(chunks) + "\n")
    written.append(md)


def _write_responses(base, folder, source, digest, channel, rows, result, written, progress) -> None:
    chunks: list[str] = []
    metas: list[dict] = []
    part = 0
    for row in rows:
        label = f"R{row.number}"
        chunks.append(f"**{label}:** {_body(row.text)}")
        metas.append(_meta(row, f"{folder.name}:{label}"))
        _count_segment(result, row.segment)
        result.items += 1
        result.responses += 1
        if len(chunks) >= PART_SIZE:
            part += 1
            _flush(folder, part, _front(channel, source, digest, part, folder), chunks, metas, written)
            chunks, metas = [], []
            if progress:
                progress(result.items)
    if chunks:
        part += 1
        _flush(folder, part, _front(channel, source, digest, part, folder), chunks, metas, written)
    result.parts = part


def _write_chats(base, folder, source, digest, rows, result, written, progress) -> None:
    # Messages of one conversation may be spread over the export: group them first (chat exports are small next to
    # survey exports; a conversation is the unit of analysis).
    conversations: dict[str, list[Row]] = {}
    for row in rows:
        conversations.setdefault(row.conversation or f"row-{row.number}", []).append(row)
    chunks: list[str] = []
    metas: list[dict] = []
    part = 0
    for key, messages in conversations.items():
        item = f"{folder.name}:{key}"
        lines = [f"## {escape_text(key)}"]
        for row in messages:
            speaker = _speaker(row.speaker)
            role = "respondent" if (row.speaker or "").strip().casefold() in CUSTOMER_SPEAKERS or row.speaker is None else "interviewer"
            lines.append(f"**{speaker}:** {_body(row.text)}")
            metas.append(_meta(row, item, role))
            result.responses += 1
        _count_segment(result, messages[0].segment)
        chunks.append("\n\n".join(lines))
        result.items += 1
        if len(chunks) >= PART_SIZE:
            part += 1
            _flush(folder, part, _front("chat", source, digest, part, folder), chunks, metas, written)
            chunks, metas = [], []
            if progress:
                progress(result.items)
    if chunks:
        part += 1
        _flush(folder, part, _front("chat", source, digest, part, folder), chunks, metas, written)
    result.parts = part


def _speaker(name: str | None) -> str:
    from custdev.importers import clean_name

    return clean_name(name) or "Customer"
