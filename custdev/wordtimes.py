"""Word timestamps: the ``interviews/<stem>.words.json`` sidecar written by ``custdev import``.

Format (version 1)::

    {"version": 1, "turns": [{"start": 12.74, "end": 18.3, "words": [[12.74, 13.1, "Every"], ...]}, ...]}

Turns are in transcript order and words carry seconds from the start of the recording. The markdown file stays
the source of truth: a researcher may fix words, merge or split turns and add highlights. :func:`apply_sidecar`
gives each parsed turn the words that fall inside it and moves each quote's ``start_s``/``end_s`` to the first and
last word of the highlighted passage, matching words loosely (case, punctuation, ё/е and small edits do not
matter). Where nothing matches, the quote keeps its turn's time.
"""

from __future__ import annotations

import bisect
import math
import re
import unicodedata
from difflib import SequenceMatcher

from custdev.models import Interview, Turn, Word

VERSION = 1
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)


def sidecar_data(turns: list[tuple[float, float, list[Word]]]) -> dict:
    """(start, end, words) per turn -> the JSON-ready sidecar dict."""
    return {
        "version": VERSION,
        "turns": [
            {"start": round(start, 3), "end": round(end, 3), "words": [[round(w.start, 3), round(w.end, 3), w.text] for w in words]}
            for start, end, words in turns
        ],
    }


def norm(token: str) -> str:
    token = unicodedata.normalize("NFKC", token).casefold().replace("ё", "е").replace("’", "'")
    return token


def tokens(text: str) -> list[tuple[str, int, int]]:
    """(normalised token, start, end) for each word of ``text``."""
    return [(norm(m.group()), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _word_tokens(words: list[Word]) -> tuple[list[str], list[int]]:
    """Normalised tokens of a word list and, for each token, the index of the word it came from."""
    out: list[str] = []
    owner: list[int] = []
    for i, w in enumerate(words):
        for tok, _, _ in tokens(w.text):
            out.append(tok)
            owner.append(i)
    return out, owner


def _parse(data: dict) -> list[tuple[float, float, list[Word]]]:
    turns = []
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("turns"), list):
        return turns
    for t in data["turns"]:
        try:
            words = [Word(text=str(w[2]), start=float(w[0]), end=float(w[1])) for w in t.get("words", [])]
            start = float(t.get("start", words[0].start if words else 0.0))
            end = float(t.get("end", words[-1].end if words else start))
        except (TypeError, ValueError, IndexError, AttributeError):
            continue
        turns.append((start, end, words))
    return turns


def apply_sidecar(interview: Interview, data: dict) -> None:
    """Give ``interview``'s turns their words and word-accurate quote times (in place). Bad data is ignored."""
    side = _parse(data)
    if not side or not interview.turns:
        return
    starts = [t.start_s for t in interview.turns]
    buckets: list[list[Word]] = [[] for _ in interview.turns]
    timed = [i for i, s in enumerate(starts) if s is not None]
    if not timed:
        return
    by_start: dict[int, int] = {}
    for i in timed:
        by_start.setdefault(int(starts[i]), i)

    timed_starts = [starts[i] for i in timed]  # non-decreasing: the parser refuses times out of order

    def turn_at(t: float) -> int:
        """The last timed turn whose start is at or before ``t`` (markdown times are whole seconds)."""
        k = bisect.bisect_right(timed_starts, t + 1e-6)
        return timed[max(k - 1, 0)]

    # An unedited file: each markdown turn starts at its sidecar turn's whole second (its "home").
    homes = [by_start.get(int(math.floor(start))) for start, _end, _words in side]
    claimed = {h for h in homes if h is not None}
    for (start, _end, words), home in zip(side, homes):
        for w in words:
            at = turn_at(w.start)
            if home is None:
                target = at  # the researcher merged or retimed turns: go by time
            elif at > home and at not in claimed:
                target = at  # the researcher split this turn: words after the split go to the new turn
            else:
                target = home
            buckets[target].append(w)
    for turn, words in zip(interview.turns, buckets):
        words.sort(key=lambda w: w.start)
        turn.words = words
        for q in turn.quotes:
            span = _quote_span(turn, q.char_start, q.char_end, q.text)
            if span is not None:
                q.start_s, q.end_s = span


def _quote_span(turn: Turn, char_start: int, char_end: int, text: str) -> tuple[float, float] | None:
    words = turn.words
    if not words:
        return None
    wtok, owner = _word_tokens(words)
    if not wtok:
        return None
    ttok = tokens(turn.text)
    # Align the whole turn's text with its words, then read off the quote's tokens: right even when the
    # quoted phrase occurs twice in the turn.
    matched: list[int] = []
    if ttok:
        sm = SequenceMatcher(None, [t for t, _, _ in ttok], wtok, autojunk=False)
        mapping: dict[int, int] = {}
        exact: set[int] = set()
        for tag, i1, i2, j1, j2 in sm.get_opcodes():
            if tag == "equal":
                for k in range(i2 - i1):
                    mapping[i1 + k] = j1 + k
                    exact.add(i1 + k)
            elif tag == "replace":  # a word the researcher corrected: spread the edit over the words it replaced
                for k in range(i2 - i1):
                    mapping[i1 + k] = j1 + min(k * (j2 - j1) // (i2 - i1), j2 - j1 - 1)
        inside = [i for i, (_, s, e) in enumerate(ttok) if s < char_end and e > char_start]
        matched = [mapping[i] for i in inside if i in mapping]
        if inside and sum(1 for i in inside if i in exact) < max(1, len(inside) // 2):
            matched = []
    if not matched:
        # The turn was rewritten: look for the quote's own words instead.
        qtok = [t for t, _, _ in tokens(text)]
        if not qtok:
            return None
        sm = SequenceMatcher(None, qtok, wtok, autojunk=False)
        blocks = [b for b in sm.get_matching_blocks() if b.size]
        if sum(b.size for b in blocks) < max(1, math.ceil(len(qtok) * 0.6)):
            return None
        matched = [blocks[0].b, blocks[-1].b + blocks[-1].size - 1]
    first, last = words[owner[min(matched)]], words[owner[max(matched)]]
    return round(first.start, 3), round(last.end, 3)
