"""SubRip (.srt) subtitles. Speakers: a ``Name: `` or ``[Name]`` prefix; cues without one continue the speaker."""

from __future__ import annotations

import re
from pathlib import Path

from custdev.importers import ImportError_, RawTurn
from custdev.i18n import N_
from custdev.importers.txt import split_speaker
from custdev.importers.vtt import cue_time

_TIMING = re.compile(r"^\s*(?P<a>\d{1,2}:\d{2}:\d{2}[,.]\d{1,3})\s*-->\s*(?P<b>\d{1,2}:\d{2}:\d{2}[,.]\d{1,3})")
_TAG = re.compile(r"</?[^>]+>|\{\\[^}]*\}")


def parse_srt(path: Path, text: str) -> list[RawTurn]:
    rows: list[RawTurn] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [ln for ln in block.split("\n") if ln.strip()]
        k = next((n for n, ln in enumerate(lines[:2]) if _TIMING.match(ln)), None)
        if k is None:
            continue
        m = _TIMING.match(lines[k])
        start, end = cue_time(m.group("a")), cue_time(m.group("b"))
        for line in lines[k + 1 :]:
            line = _TAG.sub("", line).strip()
            if line.startswith(">>"):
                line = line[2:].strip()
            speaker, said = split_speaker(line)
            if said.strip():
                rows.append(RawTurn(speaker, start, said.strip(), end))
    if not rows:
        raise ImportError_(N_("{path}: not a SubRip file (no '00:00:01,000 --> 00:00:04,000' cues found)"), path=path)
    return rows
