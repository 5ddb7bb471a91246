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

This module reads the front matter and the blocks (markdown-it's tokens, or the fast line-by-line path for the usual
shape of a transcript) and writes files back; :mod:`custdev.mdparagraph` reads each paragraph (header, text,
highlights, codes, uncertain spans) and places it into the turns.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass

import yaml

from custdev import mdparagraph
from custdev.config import closest, language_choices, unknown_slug, yaml_problem
from custdev.consent import check_consent, check_date
from custdev.errors import ParseError
from custdev.i18n import N_, is_language
from custdev.mdparagraph import (  # noqa: F401  (parse_timestamp and confidence are imported from here elsewhere)
    _INAUDIBLE, _MD, UNSURE_CLOSE, UNSURE_OPEN, _add_paragraph, _paragraph, _paragraph_at, _place_paragraph,
    _quick_paragraph, confidence, parse_timestamp,
)
from custdev.models import Codebook, Interview, Turn

FRONT_MATTER_KEYS = ("id", "title", "date", "interviewer", "respondent", "company", "role", "segments", "nps", "language", "audio")

_KEY_LINE = re.compile(r"^([A-Za-z_][\w-]*)\s*:")
_DAY_FIRST = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")  # ДД.ММ.ГГГГ
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: 10x faster front matter


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


def parse_interview(text: str, path: str = "<interview>", codebook: Codebook | None = None) -> Interview:
    """Parse one interview file's text. Raises :class:`ParseError` naming ``path`` and the line."""
    if not text.strip():
        raise ParseError(path, None, N_("the file is empty"))
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
        if text.startswith("---") and text[3:].split("\n", 1)[0].strip() == "":
            raise ParseError(path, 1, N_("the YAML front matter is not closed: add a '---' line after it"))
        raise ParseError(path, 1, N_("missing YAML front matter (the file must start with a '---' line)"))
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
# A whole line that is a plain turn: _PLAIN_TURN, then text with none of _NOT_PLAIN's characters (one match instead of a
# match and a search: the search's character class tried at every position was the dearest step of a plain turn).
_PLAIN_LINE = re.compile(_PLAIN_TURN.pattern + r"([^*_=`\\#\[{]*)\Z")
# A plain turn's start in seconds by its "HH:MM:SS" text, kept by the process: a transcript's clock readings repeat from
# file to file, and a look-up costs a third of reading the three numbers (0.5 against 1.5 µs a turn with its groups).
_CLOCK_SECONDS: dict[str, float] = {}


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
    fast_inline = mdparagraph.FAST_INLINE
    plain_line = _PLAIN_LINE.match if fast_inline else None
    seconds = _CLOCK_SECONDS
    n = -1
    try:
        for n, line in enumerate(lines):
            # The commonest line, a plain turn after a blank line: what the general steps below make of it (a line
            # that starts "**[" is no block start; its text, stripped or not, splits into the same words).
            if prev_blank and plain_line is not None and (m := plain_line(line)) is not None:
                name, rest = m.group(4, 5)
                clock = line[3 : m.end(3)]  # "HH:MM:SS" (the line starts "**[")
                start = seconds.get(clock)
                if start is None:
                    h, mi, s = m.group(1, 2, 3)
                    if len(seconds) >= 100_000:
                        seconds.clear()
                    start = seconds[clock] = float(int(h) * 3600 + int(mi) * 60 + int(s))
                words = rest.split()
                said = " ".join(words)
                # positional, with the lists written out: a third of the keyword call with default_factory lists
                current = Turn(name, start, said, None, [], first_line + n + 1, [], None, [], (said, words))
                turns.append(current)
                in_notes = prev_blank = False
                continue
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
                        words = content[m.end():].split()
                        said = " ".join(words)
                        current = Turn(m.group(4), float(int(h) * 3600 + int(mi) * 60 + int(s)), said, line=first_line + n + 1,
                                       split=(said, words))
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
                raise ParseError(path, turn.line, N_("timestamp {ts} is earlier than the turn before it ({before})"),
                                 ts=format_timestamp(turn.start_s), before=format_timestamp(last_ts))
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
        problem, line = yaml_problem(exc)
        raise ParseError(path, (line + 1) if line else 1, N_("malformed YAML front matter: {problem}"), problem=problem) from None
    except ValueError:  # YAML reads 2026-13-45 as a date, and datetime refuses it
        _impossible_date(content, path)
        raise
    if not isinstance(meta, dict):
        raise ParseError(path, 2, N_("the front matter must be 'key: value' lines"))
    return meta


def _impossible_date(content: str, path: str) -> None:
    """Raise the ParseError of the front matter's first line whose value looks like a date that does not exist."""
    for n, line in enumerate(content.splitlines(), 2):
        m = _KEY_LINE.match(line)
        if not m:
            continue
        try:
            yaml.load(line, Loader=_YAML_LOADER)
        except ValueError:
            raise ParseError(path, n, N_("front matter '{key}' is not a real date: {value}"), key=m.group(1),
                             value=line[m.end():].strip()) from None
        except yaml.YAMLError:
            continue


def _meta_str(meta: dict, key: str, path: str, lines: dict[str, int]) -> str | None:
    value = meta.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        raise ParseError(path, lines.get(key, 2), N_("front matter '{key}' must be text"), key=key)
    return str(value).strip()


_LOOSE_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")  # 2026-3-5: YAML leaves it text
_SORTABLE = re.compile(r"\d{4}(-\d{2}(-\d{2}([T ].*)?)?)?")  # a date, a date and time, or just its month or year


def _interview_date(value: str, path: str, line: int) -> str:
    """The interview's date as it sorts: ISO (2026-02-10) from 10.02.2026, as dates are written in Russian, or from
    2026-2-10; a month (2026-02) or a year stays as it is. Anything else (вчера, 31.02.2026) is the file's error line,
    since interviews are ordered by date (saturation, samples by month, the report's period)."""
    m = _DAY_FIRST.fullmatch(value)
    parts = (m.group(3), m.group(2), m.group(1)) if m else (m := _LOOSE_ISO.fullmatch(value)) and m.groups()
    if parts:
        try:
            return _dt.date(*map(int, parts)).isoformat()
        except ValueError:
            raise ParseError(path, line, N_("front matter '{key}' is not a real date: {value}"), key="date", value=value) from None
    if _SORTABLE.fullmatch(value):
        return value
    raise ParseError(path, line, N_("front matter 'date' must be a date (YYYY-MM-DD or DD.MM.YYYY), not {value!r}"), value=value)


def _interview_from_meta(meta: dict, lines: dict[str, int], path: str, codebook: Codebook | None) -> Interview:
    stem = path.replace("\\", "/").rsplit("/", 1)[-1]
    stem = stem[:-3] if stem.endswith(".md") else stem
    interview = Interview(id=_meta_str(meta, "id", path, lines) or stem)
    for key in ("title", "date", "interviewer", "respondent", "company", "role", "audio"):
        setattr(interview, key, _meta_str(meta, key, path, lines))
    if interview.date:
        interview.date = _interview_date(interview.date, path, lines.get("date", 2))
    segments = meta.get("segments") or []
    if isinstance(segments, str):
        segments = [s.strip() for s in segments.split(",") if s.strip()]
    if not isinstance(segments, list) or not all(isinstance(s, str) for s in segments):
        raise ParseError(path, lines.get("segments", 2), N_("front matter 'segments' must be a list of segment slugs"))
    if codebook is not None:
        for slug in segments:
            if slug not in codebook.segments:
                raise ParseError(path, lines.get("segments", 2), unknown_slug("segment", slug, codebook.segments))
    interview.segments = list(dict.fromkeys(segments))
    nps = meta.get("nps")
    if nps is not None and nps != "":
        if isinstance(nps, bool) or not isinstance(nps, int) or not 0 <= nps <= 10:
            raise ParseError(path, lines.get("nps", 2), N_("front matter 'nps' must be a whole number from 0 to 10, not {value!r}"), value=nps)
        interview.nps = nps
    language = _meta_str(meta, "language", path, lines)
    if language is not None and not is_language(language):
        raise ParseError(path, lines.get("language", 2), N_("front matter 'language' must be {choices}, not {value!r}"),
                         choices=language_choices(), value=language)
    interview.language = language
    interview.extra = {k: v for k, v in meta.items() if k not in FRONT_MATTER_KEYS}
    interview.nps_by_stage = _nps_by_stage(meta, lines, path, codebook)
    for key, check in (("consent", check_consent), ("retain_audio_until", check_date)):
        if key in interview.extra:
            try:
                interview.extra[key] = check(interview.extra[key])
            except ValueError as exc:
                raise ParseError(path, lines.get(key, 2), exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)) from None
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
        raise ParseError(path, line, N_("front matter 'nps_by_stage' must map journey stages to scores, e.g. {example}"), example="{onboarding: 6}")
    out: dict[str, int] = {}
    for stage, score in scores.items():
        stage = str(stage)
        if codebook is not None and codebook.stages and stage not in codebook.stages:
            close = closest(stage, codebook.stages)
            if close is None:
                raise ParseError(path, line, N_("unknown stage '{stage}' in nps_by_stage"), stage=stage)
            raise ParseError(path, line, N_("unknown stage '{stage}' in nps_by_stage (did you mean '{close}'?)"), stage=stage, close=close)
        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
            raise ParseError(path, line, N_("nps_by_stage score for '{stage}' must be a whole number from 0 to 10, not {value!r}"),
                             stage=stage, value=score)
        out[stage] = score
    return out


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