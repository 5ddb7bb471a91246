"""WebVTT (.vtt) transcripts: Zoom, Microsoft Teams and Google Meet exports.

Speakers come from ``<v Name>`` voice tags (Teams) or a ``Name: `` prefix (Zoom, Meet). Cue identifiers, NOTE,
STYLE and REGION blocks, cue settings, inline timestamps and styling tags are ignored.
"""

from __future__ import annotations

import re
from pathlib import Path

from custdev.importers import ImportError_, RawTurn
from custdev.i18n import N_
from custdev.importers.txt import split_speaker

_TIMING = re.compile(
    r"^\s*(?P<a>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s+-->\s+(?P<b>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})(?:\s.*)?$"
)
_VOICE = re.compile(r"<v(?:\.[\w.-]+)?\s+([^>]+)>(.*?)(?:</v>|(?=<v[\s.])|$)", re.S)
_TAG = re.compile(r"</?[^>]+>")


def cue_time(ts: str) -> float:
    parts = ts.replace(",", ".").split(":")
    seconds = float(parts[-1])
    minutes = int(parts[-2])
    hours = int(parts[-3]) if len(parts) > 2 else 0
    return hours * 3600 + minutes * 60 + seconds


def parse_vtt(path: Path, text: str) -> list[RawTurn]:
    lines = text.split("\n")
    if not lines or not lines[0].lstrip("\ufeff").startswith("WEBVTT"):
        raise ImportError_(N_("{path}: not a WebVTT file (the first line must be 'WEBVTT')"), path=path)
    rows: list[RawTurn] = []
    i = 1
    while i < len(lines):
        m = _TIMING.match(lines[i])
        if not m:
            i += 1
            continue
        start, end = cue_time(m.group("a")), cue_time(m.group("b"))
        i += 1
        payload: list[str] = []
        while i < len(lines) and lines[i].strip():
            payload.append(lines[i])
            i += 1
        body = "\n".join(payload)
        voices = _VOICE.findall(body)
        if voices:
            for name, said in voices:
                said = _TAG.sub("", said).strip()
                if said:
                    rows.append(RawTurn(name.strip(), start, " ".join(said.split()), end))
            continue
        body = _TAG.sub("", body)
        for line in body.split("\n"):
            speaker, said = split_speaker(line)
            if said.strip():
                rows.append(RawTurn(speaker, start, said.strip(), end))
    if not rows:
        raise ImportError_(N_("{path}: no cues with text found"), path=path)
    return rows
