"""Plain dataclasses passed between custdev modules.

No module outside ``custdev.speech`` ever sees a faster-whisper type and no module outside the ``site`` package
sees a Datasette type: everything crosses module boundaries as one of these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable


@dataclass
class Word:
    """One transcribed word with its time in the recording (seconds)."""

    text: str
    start: float
    end: float
    probability: float | None = None
    unsure: bool = False  # the transcriber doubts this word (rendered as {?word?})


@dataclass
class Segment:
    """One piece of transcribed speech (what the recogniser emits)."""

    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    speaker: str | None = None
    language: str | None = None  # the language this stretch of speech was transcribed in
    flags: list[str] = field(default_factory=list)  # "inaudible", "loop", "redecoded", "recovered"


@dataclass
class Quote:
    """A highlighted ``==…==`` passage of a turn, with the codes written in the same paragraph."""

    text: str
    start_s: float | None
    end_s: float | None
    pains: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    # (hypothesis slug, "for" | "against")
    hypotheses: list[tuple[str, str]] = field(default_factory=list)
    char_start: int = 0  # offset of the quote inside its turn's plain text
    char_end: int = 0
    line: int | None = None
    confidence: float = 1.0  # share of the quote's words not marked {?uncertain?} / [inaudible]


@dataclass
class Turn:
    """One speaker turn. ``text`` is plain text: highlights unwrapped, ``#codes`` removed.

    custdev.markdown.fast_turns makes turns with positional arguments (the fields in this order)."""

    speaker: str
    start_s: float | None
    text: str
    end_s: float | None = None
    quotes: list[Quote] = field(default_factory=list)
    line: int | None = None
    words: list[Word] = field(default_factory=list)
    language: str | None = None  # set when the turn is in another language than the interview
    unsure: list[tuple[int, int]] = field(default_factory=list)  # {?…?} / [inaudible] spans in text
    # (text, text.split()) as the parser made them (a plain one-paragraph turn): whoever needs the words of ``text``
    # takes them from here while ``text`` is still that same string (custdev.prepare); not part of the turn's value.
    split: tuple[str, list[str]] | None = field(default=None, compare=False, repr=False)


@dataclass
class Interview:
    """One interview: front matter plus turns. ``extra`` keeps unknown front-matter keys."""

    id: str
    title: str | None = None
    date: str | None = None
    interviewer: str | None = None
    respondent: str | None = None
    company: str | None = None
    role: str | None = None
    segments: list[str] = field(default_factory=list)
    nps: int | None = None
    language: str | None = None
    audio: str | None = None
    turns: list[Turn] = field(default_factory=list)
    nps_by_stage: dict[str, int] = field(default_factory=dict)  # touchpoint scores 0–10 (front matter nps_by_stage)
    extra: dict[str, Any] = field(default_factory=dict)

    def speaker_roles(self) -> dict[str, str]:
        """Case-folded speaker name -> ``interviewer`` or ``respondent``.

        A speaker is the interviewer when the name (or its first word) matches the front matter's ``interviewer``, the
        respondent when it matches ``respondent``; with no interviewer named, whoever speaks first is the interviewer.
        """
        return speaker_roles(self.interviewer, self.respondent, (turn.speaker for turn in self.turns))

    def speaker_role(self, speaker: str) -> str:
        return self.speaker_roles().get(speaker.strip().casefold(), "respondent")


def speaker_roles(interviewer: str | None, respondent: str | None, speakers: Iterable[str]) -> dict[str, str]:
    """Interview.speaker_roles for the turns' speakers, in order."""
    roles: dict[str, str] = {}
    interviewer = (interviewer or "").strip().casefold()
    respondent = (respondent or "").strip().casefold()
    first = None
    for speaker in speakers:
        name = speaker.strip().casefold()
        if first is None:
            first = name
        if name in roles:
            continue
        if interviewer and (name == interviewer or name == interviewer.split()[0]):
            roles[name] = "interviewer"
        elif respondent and (name == respondent or name == respondent.split()[0]):
            roles[name] = "respondent"
        elif not interviewer and name == first:
            roles[name] = "interviewer"
        else:
            roles[name] = "respondent"
    return roles


@dataclass
class CodebookEntry:
    slug: str
    title: str
    description: str = ""
    stage: str | None = None  # journey stage, pains only
    size: float | None = None  # segments only: accounts in the segment
    revenue: float | None = None  # segments only: revenue from the segment (per year, in the codebook's currency)


@dataclass
class Codebook:
    segments: dict[str, CodebookEntry] = field(default_factory=dict)
    pains: dict[str, CodebookEntry] = field(default_factory=dict)
    hypotheses: dict[str, CodebookEntry] = field(default_factory=dict)
    stages: dict[str, CodebookEntry] = field(default_factory=dict)  # journey stages, in order
    currency: str = ""  # how revenue is written, e.g. "$" or "₽"
