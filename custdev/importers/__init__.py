"""Importers: one source file (a recording or a transcript) -> :class:`custdev.models.Interview`.

Each format module turns its file into :class:`RawTurn` rows (speaker label, start, text); :func:`build_interview`
then does what all formats share: merges a speaker's consecutive lines into one turn, decides who the
interviewer is, renames generic labels ("Speaker 1") after ``--interviewer``/``--respondent``, and fills the
front matter. Recordings go through :mod:`custdev.importers.audio` (Whisper) instead.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from custdev.config import MEDIA_TYPES
from custdev.errors import CustdevError, Message
from custdev.i18n import N_, is_language
from custdev.models import Codebook, Interview, Turn

AUDIO_EXTS = frozenset(MEDIA_TYPES)  # recordings: every media type the site can serve
TRANSCRIPT_EXTS = frozenset(".vtt .srt .txt .docx .md .markdown".split())


class ImportError_(CustdevError):  # noqa: N801 - not the builtin ImportError
    """A source file that cannot be imported. The message names the file."""


@dataclass
class ImportContext:
    """What the researcher said on the command line, applied to every file of a batch."""

    respondent: str | None = None
    interviewer: str | None = None
    company: str | None = None
    role: str | None = None
    segments: list[str] = field(default_factory=list)
    language: str | None = None  # "ru" / "en" / None (auto)
    ui_language: str = "en"  # the base's language: default speaker names
    respondent_number: int | None = None  # set per source by the ingest: "Respondent 3", so strangers never merge
    speaker_names: list[str] = field(default_factory=list)  # --speakers "Мария,Анна": in order of first appearance
    codebook: Codebook | None = None  # to check the codes of imported markdown interviews


@dataclass
class RawTurn:
    speaker: str | None
    start: float | None
    text: str
    end: float | None = None


@dataclass
class Imported:
    interview: Interview
    sidecar: dict | None = None  # word timestamps (custdev.wordtimes format)
    warnings: list[str] = field(default_factory=list)
    duration: float | None = None
    kind: str = "transcript"  # or "recording"
    body: str | None = None  # a markdown body to keep verbatim (importing a custdev interview file)


def kind_of(path: Path) -> str | None:
    ext = path.suffix.lower()
    if ext in AUDIO_EXTS:
        return "recording"
    if ext in TRANSCRIPT_EXTS:
        return "transcript"
    return None


DEFAULT_NAMES = {"en": ("Interviewer", "Respondent"), "ru": ("Интервьюер", "Респондент")}
_GENERIC = re.compile(
    r"^(?:speaker|unknown speaker|unknown|guest|participant|person|spk|s|спикер|говорящий|участник|собеседник|гость)"
    r"[\s_#-]*\d*$",
    re.IGNORECASE,
)


def default_names(ctx: ImportContext, language: str | None) -> tuple[str, str]:
    lang = language if language in DEFAULT_NAMES else ctx.ui_language if ctx.ui_language in DEFAULT_NAMES else "en"
    interviewer, respondent = DEFAULT_NAMES[lang]
    if ctx.respondent_number:
        respondent = f"{respondent} {ctx.respondent_number}"
    return clean_name(ctx.interviewer) or interviewer, clean_name(ctx.respondent) or respondent


PLACEHOLDER = re.compile(r"^(?:%s) (\d+)$" % "|".join(r for _, r in DEFAULT_NAMES.values()))


def clean_name(name: str | None) -> str | None:
    """A speaker name the markdown header can carry: no ':', brackets or asterisks, one line."""
    if not name:
        return None
    name = re.sub(r"[:\[\]*_`=#]+", " ", name)
    name = " ".join(name.split())[:60]
    return name or None


def clean_text(text: str) -> str:
    """Transcript text safe inside a turn paragraph: one line, no accidental highlight or #code."""
    text = " ".join(text.split())
    text = text.replace("==", "= =")
    text = re.sub(r"(?<![\w&/#])#(?=[^\W\d_])", "# ", text)
    return text


def is_generic(label: str) -> bool:
    return bool(_GENERIC.match(label.strip()))


def is_label(name: str | None) -> bool:
    """A placeholder or neutral speaker label ("Respondent 3", "Интервьюер", "Speaker 2"), not a person's name."""
    if not name:
        return False
    name = name.strip()
    defaults = {n.casefold() for pair in DEFAULT_NAMES.values() for n in pair}
    return name.casefold() in defaults or bool(PLACEHOLDER.match(name)) or is_generic(name)


def _same_person(a: str, b: str) -> bool:
    a, b = a.strip().casefold(), b.strip().casefold()
    return bool(a and b) and (a == b or a.split()[0] == b or b.split()[0] == a)


def slug(text: str) -> str:
    s = re.sub(r"[^\w]+", "-", text.casefold()).strip("-_")
    return s[:80] or "interview"


def file_date(path: Path, meta_date: str | None = None) -> str:
    """A YYYY-MM-DD date: from the file name, else the file's own metadata, else its modification time."""
    return dated(path, meta_date)[0]


def dated(path: Path, meta_date: str | None = None) -> tuple[str, str]:
    """(date, where it came from: 'name' | 'metadata' | 'file'). A file time is only a guess (copies reset it)."""
    m = re.search(r"(20\d{2}|19\d{2})[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])", path.stem)
    if m:
        try:
            return _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat(), "name"
        except ValueError:
            pass
    if meta_date:
        return meta_date[:10], "metadata"
    return _dt.date.fromtimestamp(path.stat().st_mtime).isoformat(), "file"


def humanize(stem: str) -> str:
    text = re.sub(r"(20\d{2})[-_.]?\d{2}[-_.]?\d{2}", "", stem)
    text = re.sub(r"[_\-.]+", " ", text).strip()
    return text[:1].upper() + text[1:] if text else stem


def merge_turns(rows: list[RawTurn], *, max_gap: float = 3.0, max_len: float = 60.0) -> list[RawTurn]:
    """Join a speaker's consecutive rows into one turn (a long pause or a very long turn starts a new one)."""
    out: list[RawTurn] = []
    for r in rows:
        text = r.text.strip()
        if not text:
            continue
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.speaker == r.speaker
            and not (r.start is not None and prev.end is not None and r.start - prev.end > max_gap)
            and not (r.start is not None and prev.start is not None and r.start - prev.start > max_len)
        ):
            prev.text = f"{prev.text} {text}"
            prev.end = r.end if r.end is not None else prev.end
            continue
        out.append(RawTurn(r.speaker, r.start, text, r.end))
    return out


def pick_interviewer(turns: list[RawTurn], speakers: list[str]) -> str:
    """The speaker who asks the most questions per turn; a tie goes to whoever speaks first."""
    def score(name: str) -> tuple[float, int]:
        mine = [t for t in turns if t.speaker == name]
        questions = sum(1 for t in mine if "?" in t.text)
        return (questions / max(1, len(mine)), -speakers.index(name))

    return max(speakers, key=score)


def build_interview(
    rows: list[RawTurn],
    ctx: ImportContext,
    source: Path,
    *,
    language: str | None = None,
    title: str | None = None,
    date: str | None = None,
    warnings: list[str] | None = None,
) -> Interview:
    """Rows from any transcript format -> an Interview with names, roles and front matter filled in."""
    warnings = warnings if warnings is not None else []
    rows = [RawTurn(clean_name(r.speaker) if r.speaker else None, r.start, clean_text(r.text), r.end) for r in rows]
    rows = [r for r in rows if r.text]
    if not rows:
        raise ImportError_(N_("{source}: no transcript text found"), source=source)
    language = ctx.language or language
    default_interviewer, default_respondent = default_names(ctx, language)
    unnamed = all(r.speaker is None for r in rows)
    if unnamed and ctx.speaker_names:
        warnings.append(Message(N_("--speakers: the file names no speakers, so the names cannot be matched to its lines")))
    if unnamed:
        warnings.append(Message(N_("no speaker names in the file; every line is attributed to {speaker}"), speaker=default_respondent))
        for r in rows:
            r.speaker = default_respondent
    else:
        last = None
        for r in rows:  # a line without a name continues the previous speaker
            r.speaker = r.speaker or last or default_respondent
            last = r.speaker
    turns = merge_turns(rows)
    speakers = list(dict.fromkeys(t.speaker for t in turns))
    if ctx.speaker_names and not unnamed:
        return _named(turns, speakers, ctx, source, language, title, date, default_respondent)
    interviewer_label = None
    if ctx.interviewer:
        interviewer_label = next((s for s in speakers if _same_person(s, ctx.interviewer)), None)
    if interviewer_label is None and len(speakers) > 1:
        interviewer_label = pick_interviewer(turns, speakers)
        if ctx.interviewer and not is_generic(interviewer_label):
            warnings.append(Message(N_("--interviewer '{interviewer}' does not speak in the file; taking '{label}' (asks the most questions)"),
                                    interviewer=ctx.interviewer, label=interviewer_label))
    others = [s for s in speakers if s != interviewer_label]
    words = {s: sum(len(t.text.split()) for t in turns if t.speaker == s) for s in others}
    respondent_label = None
    if ctx.respondent:
        respondent_label = next((s for s in others if _same_person(s, ctx.respondent)), None)
    if respondent_label is None and others:
        respondent_label = max(others, key=lambda s: words[s])
    rename: dict[str, str] = {}
    if interviewer_label and is_generic(interviewer_label):
        rename[interviewer_label] = default_interviewer
    if respondent_label and is_generic(respondent_label):
        rename[respondent_label] = default_respondent
    if set(rename.values()) & (set(speakers) - set(rename)):
        rename = {}  # a given name already belongs to another speaker: keep the file's labels
    for t in turns:
        t.speaker = rename.get(t.speaker, t.speaker)
    interviewer_name = rename.get(interviewer_label, interviewer_label) if interviewer_label else None
    respondent_name = clean_name(ctx.respondent) or (rename.get(respondent_label, respondent_label) if respondent_label else None)
    interview = Interview(
        id=slug(source.stem),
        title=title or humanize(source.stem),
        date=date or file_date(source),
        interviewer=interviewer_name,
        respondent=respondent_name,
        company=ctx.company,
        role=ctx.role,
        segments=list(ctx.segments),
        language=language if is_language(language) else None,
        turns=[Turn(speaker=t.speaker, start_s=t.start, end_s=t.end, text=t.text) for t in turns],
    )
    _fix_order(interview)
    return interview


def _named(turns: list[RawTurn], speakers: list[str], ctx: ImportContext, source: Path, language: str | None,
           title: str | None, date: str | None, default_respondent: str) -> Interview:
    """--speakers "Мария,Анна" on a transcript: the file's speakers renamed in order of first appearance; the first
    is the interviewer unless --interviewer names another of them (what a recording's import does)."""
    names = {label: clean_name(ctx.speaker_names[i]) or label if i < len(ctx.speaker_names) else label for i, label in enumerate(speakers)}
    spoken = [names[s] for s in speakers]
    wanted = clean_name(ctx.interviewer)
    interviewer = wanted if wanted in spoken else spoken[0] if len(spoken) > 1 else None
    respondent = clean_name(ctx.respondent) or next((n for n in spoken if n != interviewer), default_respondent)
    interview = Interview(
        id=slug(source.stem), title=title or humanize(source.stem), date=date or file_date(source),
        interviewer=interviewer, respondent=respondent, company=ctx.company, role=ctx.role, segments=list(ctx.segments),
        language=language if is_language(language) else None,
        turns=[Turn(speaker=names[t.speaker], start_s=t.start, end_s=t.end, text=t.text) for t in turns],
    )
    _fix_order(interview)
    return interview


def _fix_order(interview: Interview) -> None:
    """Timestamps must not go backwards in the markdown; drop a time that would (it keeps its text)."""
    last = None
    for t in interview.turns:
        if t.start_s is None:
            continue
        if last is not None and int(t.start_s) < int(last):
            t.start_s = None
            continue
        last = t.start_s


# The commonest short words of the languages a transcript may come in: enough to tell them apart in a page of text.
_STOPWORDS = {
    "en": "the and to of a in is it you that i was for on are with this have be not but what we they do",
    "es": "el la de que y en los se del las un por con no una su para es al lo como más pero sus le ya o",
    "de": "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch es an wir ich",
    "fr": "le la les de et des en un une du est que qui dans pour pas au sur ne se ce il nous vous je",
    "it": "il di che e la per un in non una sono del le si della con mi ma ho lo gli io è",
    "pt": "de que não o a do da em um para com uma os no se na por mais as dos eu é",
    "nl": "de het een en van ik te dat die in is niet op zijn met voor wat maar ook",
}
_STOP = {lang: set(words.split()) for lang, words in _STOPWORDS.items()}


def guess_language(text: str) -> str | None:
    """The language of a transcript's text: 'ru' or 'uk' for Cyrillic, else the Latin-script language whose
    common words it uses most ('en', 'es', 'de', …). None when there is too little text to tell."""
    cyr = len(re.findall(r"[А-Яа-яЁёІіЇїЄєҐґ]", text))
    lat = len(re.findall(r"[^\W\d_]", text)) - cyr
    if cyr + lat < 20:
        return None
    if cyr >= lat:
        return "uk" if len(re.findall(r"[ІіЇїЄєҐґ]", text)) > cyr * 0.01 else "ru"
    words = re.findall(r"[^\W\d_]+", text.casefold())
    scores = {lang: sum(1 for w in words if w in stop) for lang, stop in _STOP.items()}
    best = max(scores, key=lambda lang: (scores[lang], lang == "en"))
    return best if scores[best] > scores["en"] else "en"


TranscriptParser = Callable[[Path, str], list[RawTurn]]


def read_text(path: Path) -> str:
    data = path.read_bytes()
    if not data.strip():
        raise ImportError_(N_("{path}: the file is empty"), path=path)
    for enc in ("utf-8-sig", "utf-16"):
        try:
            text = data.decode(enc)
            if enc == "utf-16" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
                raise UnicodeDecodeError(enc, data, 0, 1, "no BOM")
            return text.replace("\r\n", "\n").replace("\r", "\n")
        except UnicodeDecodeError:
            continue
    try:
        return data.decode("cp1251").replace("\r\n", "\n")
    except UnicodeDecodeError:
        raise ImportError_(N_("{path}: not a text file (unknown encoding)"), path=path) from None


def import_transcript(path: Path, ctx: ImportContext) -> Imported:
    """A transcript file (.vtt .srt .txt .docx .md) -> Imported."""
    ext = path.suffix.lower()
    warnings: list[str] = []
    if ext in (".md", ".markdown"):
        from custdev.importers.markdown import import_markdown

        return import_markdown(path, ctx)
    if ext == ".docx":
        from custdev.importers.docx import read_docx

        text, title, created = read_docx(path)
    else:
        text, title, created = read_text(path), None, None
    if ext == ".vtt":
        from custdev.importers.vtt import parse_vtt as parse
    elif ext == ".srt":
        from custdev.importers.srt import parse_srt as parse
    else:
        from custdev.importers.txt import parse_txt as parse
    rows = parse(path, text)
    language = guess_language(" ".join(r.text for r in rows[:200]))
    date, source = dated(path, created)
    interview = build_interview(rows, ctx, path, language=language, title=title, date=date, warnings=warnings)
    if source == "file":
        interview.extra["date_source"] = "file"
    spoken = ctx.language or language
    if spoken:
        interview.extra["languages"] = [spoken]
    if spoken and spoken not in ("ru", "en"):
        warnings.append(Message(N_("the text is in '{language}': kept verbatim, never translated; search finds its exact words "
                                   "(word forms are matched for Russian and English only)"), language=spoken))
    end = max((r.end or r.start or 0.0) for r in rows) if rows else None
    return Imported(interview=interview, warnings=warnings, duration=end or None, kind="transcript")
