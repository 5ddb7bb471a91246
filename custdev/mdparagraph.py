"""One paragraph of an interview file -> its text, ``==highlights==``, codes, speaker header and uncertain spans.

The paragraph layer under :mod:`custdev.markdown`: both of its block readers (markdown-it's tokens and the fast
line-by-line path) hand each paragraph's inline content here and place the result into the turns. Inline content
is read by markdown-it's inline parser, or, for plain text and one-line paragraphs whose only markup is
``==highlights==``, by a fast path that gives the same tokens (tests/test_markdown.py compares them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.common.utils import isMdAsciiPunct, isPunctChar, isWhiteSpace
from mdit_py_plugins.front_matter import front_matter_plugin

from custdev.config import unknown_slug
from custdev.errors import ParseError
from custdev.i18n import N_
from custdev.mdmark import mark_plugin
from custdev.models import Codebook, Quote, Turn

_HEADER = re.compile(r"^\s*\[(?P<ts>\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?)\]\s*(?P<name>[^:\[\]]+?)(?:\s*\[(?P<lang>[a-z]{2,3})\])?\s*:?\s*$")
_HEADER_NO_TS = re.compile(r"^\s*(?P<name>[^:\[\]]{1,60}?)(?:\s*\[(?P<lang>[a-z]{2,3})\])?\s*:\s*$")
UNSURE_OPEN, UNSURE_CLOSE = "{?", "?}"  # {?words the transcriber was unsure of?}
_UNSURE = re.compile(r"\{\?(.+?)\?\}")
_INAUDIBLE = re.compile(r"\[(?:inaudible|неразборчиво)\]", re.IGNORECASE)
_WORDS = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
# A "#" not preceded by a word character, "&", "/" or "#" (the look-behind sits after the "#", so the regex engine can
# search for the "#" literally: 3x faster than leading with it, same matches).
_CODE = re.compile(r"#(?<![\w&/#]#)(?P<code>[^\W\d_][\w-]*(?:/[\w-]+)*)")
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

FAST_INLINE = True  # tests switch it off to compare the fast inline paths with markdown-it


@dataclass
class _Para:
    line: int
    text: str = ""
    quotes: list[tuple[int, int, str, int]] = field(default_factory=list)  # (start, end, text, line)
    codes: list[tuple[str, int]] = field(default_factory=list)  # (code, line)
    header: tuple[str, float | None, str | None] | None = None  # (speaker, start, language)
    unsure: list[tuple[int, int]] = field(default_factory=list)  # {?…?} and [inaudible] spans in text


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
            raise ParseError(path, line, N_("bad timestamp [{ts}] (use HH:MM:SS)"), ts=m.group("ts")) from None
        return m.group("name").strip(), start, m.group("lang")
    if not inner.lstrip().startswith("[") and (m2 := _HEADER_NO_TS.match(inner)):
        return m2.group("name").strip(), None, m2.group("lang")
    return None


def header_speaker(inner: str) -> str | None:
    """The speaker of a bold header's text ("[00:01:23] Anna:" → "Anna", "Anna [de]:" → "Anna"), None when it is no
    turn header (the grammar the parser reads, :func:`_header`)."""
    try:
        header = _header(inner, "", 0)
    except ParseError:
        return None
    return header[0] if header else None


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
                raise ParseError(path, cur_line, N_("a highlight '==' is never closed"))
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
            raise ParseError(path, para.quotes[0][3], N_("a highlight outside a speaker turn (start the paragraph with **[00:00:00] Name:**)"))
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
                raise ParseError(path, ln, unknown_slug("pain", slug, codebook.pains))
            pains.append(slug)
        elif code.startswith("h/"):
            rest = code[2:]
            stance = "for"
            if rest.endswith("/against"):
                rest, stance = rest[: -len("/against")], "against"
            if codebook is not None and rest not in codebook.hypotheses:
                raise ParseError(path, ln, unknown_slug("hypothesis", rest, codebook.hypotheses))
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
