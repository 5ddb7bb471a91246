"""Interview markdown files <-> :class:`Interview`. Pure: text in, dataclasses out (no file I/O).

The format (documented in the README)::

    ---
    id: acme-anna
    date: 2026-03-12
    interviewer: Мария
    respondent: Анна Петрова
    segments: [smb-finance]
    language: ru
    ---

    **[00:00:05] Мария:** Как вы выставляете счета?

    **[00:00:12] Анна:** Каждый месяц ==вручную сверяем счета в Excel== #pain/manual-reconciliation #billing

A paragraph that starts with a bold ``[HH:MM:SS] Name:`` header opens a speaker turn (the timestamp may be
``MM:SS``, carry fractions ``00:01:02.5``, or be left out); following paragraphs without a header continue it.
``==…==`` marks a quote. ``#pain/slug``, ``#h/slug`` (``#h/slug/against``) and ``#tag`` (``#a/b``) written in a
paragraph code every quote of that paragraph; a paragraph with codes and no highlight is quoted whole.
Paragraphs before the first turn or under a heading are notes, not transcript.

Honest uncertainty: ``{?words?}`` marks words the transcriber was unsure of, and ``[inaudible]`` /
``[неразборчиво]`` speech it could not make out. The braces are not part of the turn's plain text; their spans are recorded (``Turn.unsure``) and give each turn and quote a confidence (the
share of its words that are not marked). Deleting the braces (a researcher checked the words) clears it.
A turn in another language than the interview's says so in its header: ``**[00:01:02] Anna [de]:**``.
"""

from __future__ import annotations

import datetime as _dt
import re
from functools import lru_cache
from dataclasses import dataclass, field

import yaml
from markdown_it import MarkdownIt
from markdown_it.common.utils import isMdAsciiPunct, isPunctChar, isWhiteSpace
from mdit_py_plugins.front_matter import front_matter_plugin


from custdev.config import suggest
from custdev.consent import check_consent, check_date
from custdev.mdmark import mark_plugin
from custdev.errors import ParseError
from custdev.models import Codebook, Interview, Quote, Turn
from custdev.i18n import is_language, language_error

FRONT_MATTER_KEYS = ("id", "title", "date", "interviewer", "respondent", "company", "role", "segments", "nps", "language", "audio")

_HEADER = re.compile(r"^\s*\[(?P<ts>\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?)\]\s*(?P<name>[^:\[\]]+?)(?:\s*\[(?P<lang>[a-z]{2,3})\])?\s*:?\s*$")
_HEADER_NO_TS = re.compile(r"^\s*(?P<name>[^:\[\]]{1,60}?)(?:\s*\[(?P<lang>[a-z]{2,3})\])?\s*:\s*$")
UNSURE_OPEN, UNSURE_CLOSE = "{?", "?}"  # {?words the transcriber was unsure of?}
_UNSURE = re.compile(r"\{\?(.+?)\?\}")
_INAUDIBLE = re.compile(r"\[(?:inaudible|неразборчиво)\]", re.IGNORECASE)
_WORDS = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
# A "#" not preceded by a word character, "&", "/" or "#" (the look-behind sits after the "#", so the regex engine can
# search for the "#" literally: 3x faster than leading with it, same matches).
_CODE = re.compile(r"#(?<![\w&/#]#)(?P<code>[^\W\d_][\w-]*(?:/[\w-]+)*)")
_KEY_LINE = re.compile(r"^([A-Za-z_][\w-]*)\s*:")
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: 10x faster front matter
_OPEN, _CLOSE, _U_OPEN, _U_CLOSE = "\x02", "\x03", "\x04", "\x05"
_SENTINELS = re.compile("([\x02-\x05])")


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}).use(front_matter_plugin).use(mark_plugin)
    # Transcripts need paragraphs, headings, bold speaker headers and ==marks==; links and HTML are not parsed
    # (brackets in "[00:01:23]" would otherwise send every turn through the link parser).
    md.disable(["code", "html_block", "html_inline", "linkify", "image", "table", "link", "autolink", "reference", "entity"], ignoreInvalid=True)
    # Inline content is parsed per paragraph by inline_children(): markdown-it's inline parser for anything with
    # markup, a fast path for plain text (most of a transcript).
    md.disable(["inline", "text_join"])
    return md


_MD = _parser()


def parse_timestamp(ts: str) -> float:
    """'01:02:03.5' -> 3723.5; 'MM:SS' also accepted."""
    ts = ts.replace(",", ".")
    parts = ts.split(":")
    seconds = float(parts[-1])
    minutes = int(parts[-2]) if len(parts) >= 2 else 0
    hours = int(parts[-3]) if len(parts) >= 3 else 0
    if seconds >= 60 or minutes >= 60:
        raise ValueError(ts)
    return hours * 3600 + minutes * 60 + seconds


def format_timestamp(seconds: float | None) -> str:
    if seconds is None:
        return ""
    total = int(seconds)
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


@dataclass
class _Tok:
    type: str
    content: str = ""
    map: list[int] | None = None


_BLOCK_START = re.compile(r"[ \t>`~|<]|[-+*](?:[ \t]|$)|\d{1,9}[.)](?:[ \t]|$)|([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_ATX = re.compile(r"#{1,6}(?:[ \t]|$)")
FAST_BLOCKS = True  # tests switch it off to compare with markdown-it
FAST_INLINE = True  # likewise for inline_children


def fast_block_tokens(text: str) -> list | None:
    """The block tokens markdown-it would give (less the paragraph_open/close that parse_interview skips), for the
    common shape of a transcript: front matter, then one-line
    paragraphs and ``#`` headings separated by blank lines. Anything else (a paragraph over several lines, a list,
    a quote, a fence, CR line ends…) returns None and goes through markdown-it. parse_interview reads this shape
    without building the tokens (fast_turns); tests/test_markdown.py checks both give the same interviews."""
    split = fast_split(text)
    if split is None:
        return None
    front, first_line, lines = split
    tokens: list = [_Tok("front_matter", front, [0, first_line])]
    prev_blank = True
    for n, line in enumerate(lines):
        if not line.strip():
            prev_blank = True
            continue
        if not prev_blank or _BLOCK_START.match(line):
            return None
        prev_blank = False
        number = first_line + n
        if _ATX.match(line):
            tokens += [_Tok("heading_open"), _Tok("inline", line, [number, number + 1]), _Tok("heading_close")]
        else:
            tokens.append(_Tok("inline", line.strip(), [number, number + 1]))  # paragraph_open/close: parse_interview skips them
    return tokens


@dataclass
class _Para:
    line: int
    text: str = ""
    quotes: list[tuple[int, int, str, int]] = field(default_factory=list)  # (start, end, text, line)
    codes: list[tuple[str, int]] = field(default_factory=list)  # (code, line)
    header: tuple[str, float | None, str | None] | None = None  # (speaker, start, language)
    unsure: list[tuple[int, int]] = field(default_factory=list)  # {?…?} and [inaudible] spans in text


def parse_interview(text: str, path: str = "<interview>", codebook: Codebook | None = None) -> Interview:
    """Parse one interview file's text. Raises :class:`ParseError` naming ``path`` and the line."""
    if not text.strip():
        raise ParseError(path, None, "the file is empty")
    if text.startswith("\ufeff"):
        text = text[1:]
    interview = _fast_interview(text, path, codebook)
    if interview is None:
        interview = _token_interview(text, path, codebook)
    finish_turns(interview.turns, path)
    return interview


def _interview_head(front: str, path: str, codebook: Codebook | None) -> Interview:
    meta = _front_matter(front, path)
    meta_lines = {m.group(1): n for n, line in enumerate(front.splitlines(), 2) if (m := _KEY_LINE.match(line))}
    return _interview_from_meta(meta, meta_lines, path, codebook)


def _token_interview(text: str, path: str, codebook: Codebook | None) -> Interview:
    """The general path: markdown-it's block tokens."""
    tokens = _MD.parse(text)
    if not tokens or tokens[0].type != "front_matter":
        raise ParseError(path, 1, "missing YAML front matter (the file must start with a '---' line)")
    interview = _interview_head(tokens[0].content, path, codebook)

    turns: list[Turn] = []
    current: Turn | None = None
    in_notes = True
    i = 1
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "heading_open":
            current, in_notes = None, True
            i += 3
            continue
        if tok.type == "inline" and tok.map is not None:
            current, in_notes = _place_paragraph(_paragraph(tok, path), current, in_notes, turns, path, codebook)
        i += 1
    interview.turns = turns
    return interview


def fast_split(text: str) -> tuple[str, int, list[str]] | None:
    """(front matter, number of the body's first line, the body's lines) of a file in the shape the fast block path
    may read (it still checks every line), or None: markdown-it reads it."""
    head = fast_head(text)
    return None if head is None else (head[0], head[1], head[2].split("\n"))


def fast_head(text: str) -> tuple[str, int, str] | None:
    """fast_split with the body as one string."""
    if not FAST_BLOCKS or "\r" in text or not text.startswith("---\n"):
        return None
    end = text.find("\n---\n", 3)
    if end == -1:
        return None
    front = text[4 : end + 1]
    if "\n---" in front[:-1] or front.startswith("---"):
        return None
    return front[:-1], front.count("\n") + 2, text[end + 5 :]


def fast_cut(body: str, near: int) -> int | None:
    """An offset in ``body`` (see fast_head), at or after ``near``, where a paragraph that is a plain turn header starts
    after a blank line: fast_turns of the lines before it and of the lines from it, joined, are the turns of the whole
    body. None if there is none."""
    pos = near
    while True:
        pos = body.find("\n\n**[", pos)
        if pos == -1:
            return None
        start = pos + 2
        end = body.find("\n", start)
        content = (body[start:] if end == -1 else body[start:end]).strip()
        m = _PLAIN_TURN.match(content)
        if m is not None and _NOT_PLAIN.search(content, m.end()) is None:
            return start
        pos = start


def _fast_interview(text: str, path: str, codebook: Codebook | None) -> Interview | None:
    split = fast_split(text)
    if split is None:
        return None
    front, first_line, lines = split
    try:
        interview = _interview_head(front, path, codebook)
    except ParseError:
        if fast_lines_ok(lines, 0):  # markdown-it would read the same front matter
            raise
        return None
    turns = fast_turns(lines, first_line, path, codebook)
    if turns is None:
        return None
    interview.turns = turns
    return interview


def fast_lines_ok(lines: list[str], start: int, prev_blank: bool = True) -> bool:
    """Whether ``lines[start:]`` are one-line paragraphs and headings separated by blank lines (the fast block path's
    shape; see fast_block_tokens)."""
    block = _BLOCK_START.match
    for line in lines[start:] if start else lines:
        if not line.strip():
            prev_blank = True
            continue
        if not prev_blank or block(line):
            return False
        prev_blank = False
    return True


# The commonest paragraph of a transcript: "**[HH:MM:SS] Name:**" then plain text. A name with none of the characters
# either header regex treats specially and no space at its ends; anything else takes _quick_paragraph or markdown-it.
_PLAIN_TURN = re.compile(r"\*\*\[(\d{1,2}):([0-5]\d):([0-5]\d)\] ([^\s*_=`\\\[\]:](?:[^*_=`\\\[\]:\n]*[^\s*_=`\\\[\]:])?):\*\*(?= |$)")
# Characters after which a paragraph is not plain text for this path (markup, codes, {?unsure?}, [inaudible]).
_NOT_PLAIN = re.compile(r"[*_=`\\#\[{]")


def fast_turns(lines: list[str], first_line: int, path: str, codebook: Codebook | None) -> list[Turn] | None:
    """The turns of body ``lines`` (the first is line ``first_line`` of the file) read by the fast block path, the same
    as markdown-it's tokens give them; None when a line is not in its shape (markdown-it then reads the file).

    A ParseError is raised only when every line is in the shape (as markdown-it would raise it too). Lines may be a
    part of a body that starts at a turn header after a blank line: the turns read from the parts, joined, are the
    turns of the whole (custdev.build reads a very long file's parts in parallel)."""
    turns: list[Turn] = []
    current: Turn | None = None
    in_notes = True
    prev_blank = True
    block, plain_turn, not_plain, atx = _BLOCK_START.match, _PLAIN_TURN.match, _NOT_PLAIN.search, _ATX.match
    fast_inline = FAST_INLINE
    n = -1
    try:
        for n, line in enumerate(lines):
            content = line.strip()
            if not content:
                prev_blank = True
                continue
            if not prev_blank or block(line):
                return None
            prev_blank = False
            if line[0] == "#" and atx(line):
                current, in_notes = None, True
                continue
            if fast_inline:
                m = plain_turn(content)
                if m is not None:
                    h, mi, s = m.group(1, 2, 3)
                    if not_plain(content, m.end()) is None:
                        current = Turn(m.group(4), float(int(h) * 3600 + int(mi) * 60 + int(s)), " ".join(content[m.end():].split()),
                                       line=first_line + n + 1)
                        turns.append(current)
                        in_notes = False
                        continue
                    # a turn with ==highlights== or #codes: the header is read already
                    para = _quick_paragraph(content, first_line + n + 1, path,
                                            ((m.group(4), float(int(h) * 3600 + int(mi) * 60 + int(s)), None), m.end()))
                    if para is not None:
                        current = Turn(speaker=m.group(4), start_s=para.header[1], text="", line=para.line)
                        turns.append(current)
                        in_notes = False
                        _add_paragraph(current, para, path, codebook)
                        continue
                elif not_plain(content) is None:  # plain text (no bold: no header): a turn's next paragraph, or notes
                    if current is not None and not in_notes:
                        piece = " ".join(content.split())
                        if current.text and piece:
                            current.text += "\n\n"
                        current.text += piece
                    continue
            para = _paragraph_at(content, first_line + n + 1, path)
            current, in_notes = _place_paragraph(para, current, in_notes, turns, path, codebook)
    except ParseError:
        if fast_lines_ok(lines, n + 1, False):
            raise
        return None
    return turns


def finish_turns(turns: list[Turn], path: str) -> None:
    """Check that the timestamps never go back, and set each turn's (and its quotes') end: the next timed turn's start."""
    last_ts: float | None = None
    for turn in turns:
        if turn.start_s is not None:
            if last_ts is not None and turn.start_s < last_ts:
                raise ParseError(path, turn.line, f"timestamp {format_timestamp(turn.start_s)} is earlier than the turn before it ({format_timestamp(last_ts)})")
            last_ts = turn.start_s
    nxt: float | None = None  # the next timed turn's start, walking backwards (linear, also for untimed transcripts)
    for turn in reversed(turns):
        turn.end_s = nxt
        for q in turn.quotes:
            q.start_s, q.end_s = turn.start_s, nxt
        if turn.start_s is not None:
            nxt = turn.start_s


def _front_matter(content: str, path: str) -> dict:
    try:
        meta = yaml.load(content, Loader=_YAML_LOADER) if content.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ParseError(path, (mark.line + 2) if mark else 1, f"malformed YAML front matter: {problem}") from None
    if not isinstance(meta, dict):
        raise ParseError(path, 2, "the front matter must be 'key: value' lines")
    return meta


def _meta_str(meta: dict, key: str, path: str, lines: dict[str, int]) -> str | None:
    value = meta.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        raise ParseError(path, lines.get(key, 2), f"front matter '{key}' must be text")
    return str(value).strip()


def _interview_from_meta(meta: dict, lines: dict[str, int], path: str, codebook: Codebook | None) -> Interview:
    stem = path.replace("\\", "/").rsplit("/", 1)[-1]
    stem = stem[:-3] if stem.endswith(".md") else stem
    interview = Interview(id=_meta_str(meta, "id", path, lines) or stem)
    for key in ("title", "date", "interviewer", "respondent", "company", "role", "audio"):
        setattr(interview, key, _meta_str(meta, key, path, lines))
    segments = meta.get("segments") or []
    if isinstance(segments, str):
        segments = [s.strip() for s in segments.split(",") if s.strip()]
    if not isinstance(segments, list) or not all(isinstance(s, str) for s in segments):
        raise ParseError(path, lines.get("segments", 2), "front matter 'segments' must be a list of segment slugs")
    if codebook is not None:
        for slug in segments:
            if slug not in codebook.segments:
                raise ParseError(path, lines.get("segments", 2), f"unknown segment '{slug}'{suggest(slug, codebook.segments)}")
    interview.segments = list(dict.fromkeys(segments))
    nps = meta.get("nps")
    if nps is not None and nps != "":
        if isinstance(nps, bool) or not isinstance(nps, int) or not 0 <= nps <= 10:
            raise ParseError(path, lines.get("nps", 2), f"front matter 'nps' must be a whole number from 0 to 10, not {nps!r}")
        interview.nps = nps
    language = _meta_str(meta, "language", path, lines)
    if language is not None and not is_language(language):
        raise ParseError(path, lines.get("language", 2), f"front matter 'language' {language_error(language)}")
    interview.language = language
    interview.extra = {k: v for k, v in meta.items() if k not in FRONT_MATTER_KEYS}
    interview.nps_by_stage = _nps_by_stage(meta, lines, path, codebook)
    for key, check in (("consent", check_consent), ("retain_audio_until", check_date)):
        if key in interview.extra:
            try:
                interview.extra[key] = check(interview.extra[key])
            except ValueError as exc:
                raise ParseError(path, lines.get(key, 2), str(exc)) from None
            if interview.extra[key] is None:
                del interview.extra[key]
    return interview


def _nps_by_stage(meta: dict, lines: dict[str, int], path: str, codebook: Codebook | None) -> dict[str, int]:
    """Touchpoint scores: ``nps_by_stage: {onboarding: 6, billing: 9}``, 0–10 each, stages from the codebook."""
    scores = meta.get("nps_by_stage")
    if scores is None or scores == "":
        return {}
    line = lines.get("nps_by_stage", 2)
    if not isinstance(scores, dict):
        raise ParseError(path, line, "front matter 'nps_by_stage' must map journey stages to scores, e.g. {onboarding: 6}")
    out: dict[str, int] = {}
    for stage, score in scores.items():
        stage = str(stage)
        if codebook is not None and codebook.stages and stage not in codebook.stages:
            raise ParseError(path, line, f"unknown stage '{stage}' in nps_by_stage{suggest(stage, codebook.stages)}")
        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
            raise ParseError(path, line, f"nps_by_stage score for '{stage}' must be a whole number from 0 to 10, not {score!r}")
        out[stage] = score
    return out


# Characters that any enabled inline rule reacts to (emphasis, ==mark==, code spans, escapes).
_MARKUP = re.compile(r"[*_=`\\]")
# The canonical turn header, exactly as markdown-it reads it: "**[00:01:23] Name:**" (or "**Name:**") then a space or the end.
_FAST_HEADER = re.compile(r"\*\*((?:\[[\d:.,]+\])?[^*_=`\\\n\[\]]*:)\*\*(?= |$)")


def inline_children(content: str) -> list[tuple[str, str]]:
    """(type, content) inline tokens of a paragraph.

    Plain text (no character any enabled inline rule reacts to) and one-line paragraphs whose only markup is
    ``==highlights==``, optionally after a canonical turn header, give the same tokens markdown-it would, without
    running its inline parser (most of the cost of a build); everything else goes through markdown-it.
    tests/test_markdown.py checks both paths agree, on the sample base and on generated interviews.
    """
    if not FAST_INLINE:
        return slow_inline_children(content)
    header = _FAST_HEADER.match(content)
    start = header.end() if header else 0
    markup = _MARKUP.search(content, start)
    if markup is not None:
        marks = _fast_marks(content, start) if markup.group() == "=" and "\n" not in content else None
        if marks is None:
            return slow_inline_children(content)
        if header:
            return [("strong_open", ""), ("text", header.group(1)), ("strong_close", ""), *marks]
        return marks
    out: list[tuple[str, str]] = []
    if header:
        out += [("strong_open", ""), ("text", header.group(1)), ("strong_close", "")]
    lines = content[start:].split("\n")
    for n, line in enumerate(lines):
        if n:
            out.append(("softbreak", ""))
            line = line.lstrip(" ")
        if n < len(lines) - 1:
            line = line.rstrip(" ")
        out.append(("text", line))
    return out


_OTHER_MARKUP = re.compile(r"[*_`\\]")
_EQ_RUN = re.compile(r"=+")


def _flanking(content: str, s: int, e: int) -> tuple[bool, bool]:
    """(can open, can close) of the delimiter run content[s:e], exactly as markdown-it's scanDelims decides them for
    a run that may split words (the ``==`` rule's setting)."""
    return _flank(content[s - 1] if s > 0 else " ", content[e] if e < len(content) else " ")


@lru_cache(maxsize=4096)
def _flank(last: str, nxt: str) -> tuple[bool, bool]:
    last_punct = isMdAsciiPunct(ord(last)) or isPunctChar(last)
    next_punct = isMdAsciiPunct(ord(nxt)) or isPunctChar(nxt)
    last_space, next_space = isWhiteSpace(ord(last)), isWhiteSpace(ord(nxt))
    left = not (next_space or (next_punct and not (last_space or last_punct)))
    right = not (last_space or (last_punct and not (next_space or next_punct)))
    return left, right


def _fast_marks(content: str, start: int) -> list[tuple[str, str]] | None:
    """Inline tokens of a one-line paragraph whose only markup is ``==`` highlights (runs of exactly two ``=``),
    as markdown-it with the mark plugin gives them: each closing run pairs with the nearest unpaired opening run
    before it (markdown-it's delimiter balancing, where the rule of 3 never applies to ``==``); unpaired runs stay
    text. None for anything else (other markup, ``=`` runs of another length): markdown-it parses those."""
    if _OTHER_MARKUP.search(content, start):
        return None
    runs: list[tuple[int, bool, bool]] = []
    for m in _EQ_RUN.finditer(content, start):
        s, e = m.span()
        if e - s != 2:
            return None
        runs.append((s, *_flanking(content, s, e)))
    kind: dict[int, str] = {}
    openers: list[int] = []
    for k, (_, can_open, can_close) in enumerate(runs):
        if can_close and openers:
            kind[openers.pop()] = "mark_open"
            kind[k] = "mark_close"
        elif can_open:
            openers.append(k)
    out: list[tuple[str, str]] = []
    pos = start
    for k, (s, _, _) in enumerate(runs):
        if k in kind:
            if s > pos:
                out.append(("text", content[pos:s]))
            out.append((kind[k], ""))
            pos = s + 2
    if pos < len(content):
        out.append(("text", content[pos:]))
    return out


def slow_inline_children(content: str) -> list[tuple[str, str]]:
    tokens: list = []
    _MD.inline.parse(content, _MD, {}, tokens)
    return [("text" if t.type == "text_special" else t.type, t.content) for t in tokens]


def _header(inner: str, path: str, line: int) -> tuple[str, float | None, str | None] | None:
    """(speaker, start, language) of a bold header's text ending in ':' ("[00:01:23] Anna:", "Anna [de]:"), or None."""
    m = _HEADER.match(inner)
    if m:
        try:
            start = parse_timestamp(m.group("ts"))
        except ValueError:
            raise ParseError(path, line, f"bad timestamp [{m.group('ts')}] (use HH:MM:SS)") from None
        return m.group("name").strip(), start, m.group("lang")
    if not inner.lstrip().startswith("[") and (m2 := _HEADER_NO_TS.match(inner)):
        return m2.group("name").strip(), None, m2.group("lang")
    return None


def _quick_paragraph(content: str, line: int, path: str, known: tuple[tuple, int] | None = None) -> _Para | None:
    """_paragraph for the usual one-line turn: an optional canonical header, then text whose only markup is
    ``==highlights==``. The same result as the general path (tests/test_markdown.py compares them), without
    building inline tokens; None for anything else. ``known``: the header (speaker, start, language) and where
    it ends, when the caller has read it already."""
    para = _Para(line=line)
    start = 0
    if known is not None:
        para.header, start = known
    elif (header := _FAST_HEADER.match(content)) is not None:
        para.header = _header(header.group(1), path, line)
        if para.header is None:
            return None  # bold text that is no header stays in the text: the general path handles it
        start = header.end()
    if _MARKUP.search(content, start) is None:
        raw = content[start:]
        spans: list[tuple[int, int, int]] = []
        if "#" in raw:
            para.codes = [(m.group("code"), line) for m in _CODE.finditer(raw)]
            raw = _CODE.sub("", raw)
    else:
        marks = _fast_marks(content, start)
        if marks is None:
            return None
        parts: list[str] = []
        length = 0
        mark_start: int | None = None
        spans = []
        for kind, piece in marks:
            if kind == "text":
                if "==" in piece:
                    return None  # an unclosed highlight: the general path names it
                if "#" in piece:
                    para.codes += [(m.group("code"), line) for m in _CODE.finditer(piece)]
                    piece = _CODE.sub("", piece)
                parts.append(piece)
                length += len(piece)
            elif kind == "mark_open":
                mark_start = length
            else:
                if mark_start is not None:
                    spans.append((mark_start, length, line))
                mark_start = None
        raw = "".join(parts)
    return _finish_paragraph(para, raw, spans)


def _paragraph(tok, path: str) -> _Para:
    return _paragraph_at(tok.content, tok.map[0] + 1, path)


def _paragraph_at(content: str, line: int, path: str) -> _Para:
    if FAST_INLINE and "\n" not in content:
        quick = _quick_paragraph(content, line, path)
        if quick is not None:
            return quick
    para = _Para(line=line)
    children = [c for c in inline_children(content) if not (c[0] == "text" and not c[1])]
    # A bold "[00:01:23] Name:" header opens a turn (the colon may sit inside or right after the bold).
    if len(children) >= 3 and children[0][0] == "strong_open":
        close = next((k for k, c in enumerate(children) if c[0] == "strong_close"), None)
        if close is not None:
            inner = "".join(content for kind, content in children[1:close] if kind == "text")
            after = children[close + 1][1] if close + 1 < len(children) and children[close + 1][0] == "text" else ""
            colon_after = after.startswith(":")
            if inner.rstrip().endswith(":") or colon_after:
                para.header = _header(inner if inner.rstrip().endswith(":") else inner + ":", path, line)
            if para.header is not None:
                children = children[close + 1 :]
                if colon_after:
                    children[0] = ("text", after[1:])
    parts: list[str] = []
    length = 0
    mark_start: int | None = None
    mark_line = line
    cur_line = line
    spans: list[tuple[int, int, int]] = []
    for kind, content in children:
        if kind in ("softbreak", "hardbreak"):
            cur_line += 1
            piece = " "
        elif kind == "code_inline":
            piece = content
        elif kind == "text":
            if "==" in content:
                raise ParseError(path, cur_line, "a highlight '==' is never closed")
            if "#" in content:
                for m in _CODE.finditer(content):
                    para.codes.append((m.group("code"), cur_line))
                piece = _CODE.sub("", content)
            else:
                piece = content
        elif kind == "mark_open":
            mark_start, mark_line = length, cur_line
            continue
        elif kind == "mark_close":
            if mark_start is not None:
                spans.append((mark_start, length, mark_line))
            mark_start = None
            continue
        else:
            continue
        parts.append(piece)
        length += len(piece)
    return _finish_paragraph(para, "".join(parts), spans)


def _finish_paragraph(para: _Para, raw: str, spans: list[tuple[int, int, int]]) -> _Para:
    """Set the paragraph's text (whitespace collapsed), its quotes from the highlight spans of ``raw`` and its
    uncertain spans."""
    if not spans and UNSURE_OPEN not in raw and "[" not in raw:
        para.text = " ".join(raw.split())
        return para
    # Mark span edges with sentinels, collapse whitespace, then read the edges back.
    pieces, pos = [], 0
    for s, e, _ in spans:
        pieces += [raw[pos:s], _OPEN, raw[s:e], _CLOSE]
        pos = e
    pieces.append(raw[pos:])
    marked = "".join(pieces)
    if UNSURE_OPEN in marked:
        marked = _UNSURE.sub(_U_OPEN + r"\1" + _U_CLOSE, marked)
    if "[" in marked:
        marked = _INAUDIBLE.sub(_U_OPEN + r"\g<0>" + _U_CLOSE, marked)
    marked = " ".join(marked.split())
    text_parts, offsets, cur = [], [], 0
    unsure_start = None
    for chunk in _SENTINELS.split(marked):
        if chunk == _OPEN or chunk == _CLOSE:
            offsets.append(cur)
        elif chunk == _U_OPEN:
            unsure_start = cur
        elif chunk == _U_CLOSE:
            if unsure_start is not None and cur > unsure_start:
                para.unsure.append((unsure_start, cur))
            unsure_start = None
        else:
            text_parts.append(chunk)
            cur += len(chunk)
    text = "".join(text_parts)
    para.text = text
    for n, (_, _, ln) in enumerate(spans):
        qs, qe = offsets[2 * n], offsets[2 * n + 1]
        quoted = text[qs:qe]
        lead = len(quoted) - len(quoted.lstrip())
        para.quotes.append((qs + lead, qs + len(quoted.rstrip()), quoted.strip(), ln))
    return para


def _place_paragraph(para: _Para, current: Turn | None, in_notes: bool, turns: list[Turn], path: str,
                     codebook: Codebook | None) -> tuple[Turn | None, bool]:
    """One parsed paragraph into the turns: a header starts a turn, other text joins the current one, text outside a
    turn (notes) is dropped unless it holds a highlight. Returns the (current turn, in notes) after it."""
    if para.header is not None:
        name, start, lang = para.header
        current = Turn(speaker=name, start_s=start, text="", line=para.line, language=lang)
        turns.append(current)
        in_notes = False
    if in_notes or current is None:
        if para.quotes:
            raise ParseError(path, para.quotes[0][3], "a highlight outside a speaker turn (start the paragraph with **[00:00:00] Name:**)")
        return current, in_notes
    _add_paragraph(current, para, path, codebook)
    return current, in_notes


def _add_paragraph(turn: Turn, para: _Para, path: str, codebook: Codebook | None) -> None:
    offset = 0
    if turn.text and para.text:
        turn.text += "\n\n"
    offset = len(turn.text)
    turn.text += para.text
    turn.unsure += [(offset + a, offset + b) for a, b in para.unsure]
    pains: list[str] = []
    tags: list[str] = []
    hyps: list[tuple[str, str]] = []
    for code, ln in para.codes:
        if code.startswith("pain/"):
            slug = code[5:]
            if codebook is not None and slug not in codebook.pains:
                raise ParseError(path, ln, f"unknown pain '{slug}'{suggest(slug, codebook.pains)}")
            pains.append(slug)
        elif code.startswith("h/"):
            rest = code[2:]
            stance = "for"
            if rest.endswith("/against"):
                rest, stance = rest[: -len("/against")], "against"
            if codebook is not None and rest not in codebook.hypotheses:
                raise ParseError(path, ln, f"unknown hypothesis '{rest}'{suggest(rest, codebook.hypotheses)}")
            hyps.append((rest, stance))
        else:
            tags.append(code)
    quotes = para.quotes
    if not quotes and (pains or tags or hyps) and para.text:
        quotes = [(0, len(para.text), para.text, para.line)]
    for s, e, qtext, ln in quotes:
        if not qtext:
            continue
        turn.quotes.append(
            Quote(
                text=qtext,
                start_s=None,
                end_s=None,
                pains=list(dict.fromkeys(pains)),
                tags=list(dict.fromkeys(tags)),
                hypotheses=list(dict.fromkeys(hyps)),
                char_start=offset + s,
                char_end=offset + e,
                line=ln,
                confidence=confidence(turn.text, turn.unsure, offset + s, offset + e),
            )
        )


# What would not read back as plain text inside a turn: a '#' that starts a code, '==' (a highlight), emphasis and
# code marks, backslashes; at a paragraph's start also list, quote and heading markers.
_ESCAPE = re.compile(r"(?<![\w&/#])#(?=[^\W\d_])|==|[\\`*_]")
_LEADING = re.compile(r"^([ \t]*)([-+>]|\d+[.)]|#+(?=\s|$))")


def escape_text(text: str, at_start: bool = True) -> str:
    """Plain text that reads back as itself inside a turn: markup is backslash-escaped, so a ``#word`` never becomes
    a code and ``==`` never a highlight, and (``at_start``) a leading ``-``/``1.``/``#`` never a list or heading.
    Text with nothing to escape is returned as it is (and keeps the parser's fast path)."""
    text = _ESCAPE.sub(lambda m: "".join("\\" + ch for ch in m.group()), text)
    if at_start:
        text = _LEADING.sub(lambda m: m.group(1) + "\\" + m.group(2), text)
    return text


def confidence(text: str, unsure: list[tuple[int, int]], start: int = 0, end: int | None = None) -> float:
    """Share of the words of ``text[start:end]`` that no ``{?…?}`` / inaudible mark covers (1.0: nothing marked)."""
    if not unsure:
        return 1.0
    end = len(text) if end is None else end
    words = [(m.start(), m.end()) for m in _WORDS.finditer(text, start, end)]
    if not words:
        return 0.0 if any(a < end and b > start for a, b in unsure) else 1.0
    doubted = sum(1 for ws, we in words if any(a < we and b > ws for a, b in unsure))
    return round(1.0 - doubted / len(words), 3)


def unsure_words(text: str, unsure: list[tuple[int, int]], start: int = 0, end: int | None = None) -> list[str]:
    """The marked passages inside ``text[start:end]`` (what a reader should check against the recording)."""
    end = len(text) if end is None else end
    return [text[max(a, start) : min(b, end)] for a, b in unsure if a < end and b > start]


def markdown_body(text: str) -> str:
    """An interview file's text after its front matter (the transcript as written)."""
    text = text.lstrip("\ufeff")
    if text.startswith("---"):
        end = text.find("\n---", 3)
        if end != -1:
            return text[end + 4 :].lstrip("\n")
    return text


def render_interview(interview: Interview) -> str:
    """Interview -> markdown file text (front matter + one paragraph per turn)."""
    meta: dict = {"id": interview.id}
    for key in FRONT_MATTER_KEYS[1:]:
        value = getattr(interview, key)
        if value not in (None, [], ""):
            meta[key] = value
    meta.update(interview.extra)
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, default_flow_style=False).strip()
    lines = ["---", front, "---", ""]
    for turn in interview.turns:
        ts = f"[{format_timestamp(turn.start_s)}] " if turn.start_s is not None else ""
        lang = f" [{turn.language}]" if turn.language and turn.language != interview.language else ""
        text = mark_unsure(turn.text, turn.unsure)
        body = "\n\n".join(" ".join(p.split()) for p in text.split("\n\n"))
        lines.append(f"**{ts}{turn.speaker}{lang}:** {body}".rstrip())
        lines.append("")
    return "\n".join(lines)


def mark_unsure(text: str, unsure: list[tuple[int, int]]) -> str:
    """Plain text + unsure spans -> text with ``{?…?}`` marks (inaudible markers need none)."""
    out, pos = [], 0
    for a, b in sorted(unsure):
        if a < pos:
            continue
        piece = text[a:b]
        out += [text[pos:a], piece if _INAUDIBLE.fullmatch(piece) else f"{UNSURE_OPEN}{piece}{UNSURE_CLOSE}"]
        pos = b
    out.append(text[pos:])
    return "".join(out)
