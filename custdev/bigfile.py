"""One very long interview file read by two processes at once (the worker side of ``custdev build``).

A build reads many changed files in worker processes (custdev.build), but one file of hundreds of thousands of
turns was read by one process while the other core waited. When such a file is in the shape the fast block path
reads (one-line paragraphs separated by blank lines: how custdev writes transcripts), its body is cut at a plain
turn header after a blank line: a worker process reads the part from there (turns, search stems, confidence, ids)
while this process reads the part before. A turn header starts a new turn whatever came before it (the current
turn, notes or transcript), so the parts' turns, joined, are the file's turns; what depends on the whole file
(timestamp order, each turn's end, speaker roles, numbering, the occurrence count in permanent ids) is done after
the join. The rows are the ones reading the file in one go gives (tests/test_build.py compares them).
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from custdev import links, markdown, search
from custdev.errors import ParseError
from custdev.i18n import N_
from custdev.markdown import confidence
from custdev.models import Codebook, Interview, speaker_roles
from custdev.search import stem_text

# Smaller files are read in one go: starting a worker process and sending the part costs about 0.1 s.
SPLIT_BYTES = 3_000_000
# The share of the body this process reads (the worker also loads its own copy of the lemmatiser and sends its rows
# back; this process joins the parts afterwards).
FIRST_SHARE = 0.5


def turn_rows(turns) -> list[tuple]:
    """What each turn's rows need that depends on the turn alone: (speaker, start, text, stem, line, language,
    confidence, unsure, quotes), a quote as (text, stem, line, pains, tags, hypotheses, confidence, unsure)."""
    from custdev.prepare import _unsure_json

    out = []
    stem = stem_text
    for turn in turns:
        text, unsure = turn.text, turn.unsure
        quotes = [
            (q.text, stem(q.text), q.line, q.pains, q.tags, q.hypotheses, q.confidence,
             _unsure_json(text, unsure, q.char_start, q.char_end) if unsure else None)
            for q in turn.quotes
        ] if turn.quotes else ()
        if unsure:
            out.append((turn.speaker, turn.start_s, text, stem(text), turn.line, turn.language, confidence(text, unsure),
                        _unsure_json(text, unsure), quotes))
        else:
            out.append((turn.speaker, turn.start_s, text, stem(text), turn.line, turn.language, 1.0, None, quotes))
    return out


def _ids(interview_id: str, rows: list[tuple], seen_turns: Counter | None = None, seen_quotes: Counter | None = None):
    turn_ids = links.derived_ids(interview_id, "turn", (r[2] for r in rows), seen_turns)
    quote_ids = links.derived_ids(interview_id, "quote", (q[0] for r in rows for q in r[8]), seen_quotes)
    return turn_ids, quote_ids


def _read_part(body: str, first_line: int, path: str, codebook: Codebook | None, interview_id: str | None):
    """Run in the worker: the rows of a later part of a body, or ("invalid",) / ("error", line, message)."""
    from custdev.prepare import paused_gc

    with paused_gc():
        return _read_part_rows(body, first_line, path, codebook, interview_id)


def _read_part_rows(body: str, first_line: int, path: str, codebook: Codebook | None, interview_id: str | None):
    try:
        turns = markdown.fast_turns(body.split("\n"), first_line, path, codebook)
    except ParseError as exc:
        return ("error", exc.line, exc.message)
    if turns is None:
        return ("invalid",)
    rows = turn_rows(turns)
    ids = _ids(interview_id, rows) if interview_id is not None else None
    turn_keys = _keys(r[2] for r in rows)
    quote_keys = _keys(q[0] for r in rows for q in r[8])
    return ("ok", rows, ids, turn_keys, quote_keys, search.take_new_lemmas())


def _keys(texts) -> list[str | None]:
    """The texts normalised as links.derived_ids does, None where that is the text itself (less to send back)."""
    out: list[str | None] = []
    for text in texts:
        key = " ".join(text.split())
        out.append(None if key == text else key)
    return out


def read_split(text: str, path: str, codebook: Codebook | None):
    """(interview, utterance rows, quote rows, turn ids, quote ids) as custdev.prepare.prepare makes them, read in two
    processes; None when the file is not for it (too short, another shape): read it in one go.
    Raises ParseError as parse_interview would."""
    from custdev.prepare import die_with_parent

    if len(text) < SPLIT_BYTES:
        return None
    head = markdown.fast_head(text)
    if head is None:
        return None
    front, first_line, body = head
    cut = markdown.fast_cut(body, int(len(body) * FIRST_SHARE))
    if cut is None:
        return None
    head_error: ParseError | None = None
    try:
        interview: Interview | None = markdown._interview_head(front, path, codebook)
    except ParseError as exc:
        interview, head_error = None, exc
    lines = body[:cut].split("\n")[:-1]
    if search._morph is None and not search._LEMMAS and search._CYRILLIC.search(text):
        search._analyzer()  # a fresh base: both processes need the lemmatiser, loaded once before the worker forks
    try:
        pool = ProcessPoolExecutor(max_workers=1, initializer=die_with_parent)
    except OSError:  # no process to be had: read it in one go
        return None
    with pool:
        later = pool.submit(_read_part, body[cut:], first_line + len(lines), path, codebook, interview.id if interview else None)
        del body
        error: ParseError | None = None
        rows: list[tuple] = []
        try:
            turns = markdown.fast_turns(lines, first_line, path, codebook)
        except ParseError as exc:
            turns, error = [], exc
        del lines
        readable = error is not None or turns is not None  # every line of the part is in the fast path's shape
        if turns is not None and error is None and head_error is None:
            rows = turn_rows(turns)
            seen_turns: Counter = Counter()
            seen_quotes: Counter = Counter()
            turn_ids, quote_ids = _ids(interview.id, rows, seen_turns, seen_quotes)
        del turns
        try:
            part = later.result()
        except (BrokenProcessPool, OSError):  # the worker died (out of memory?): read it in one go
            return None
    if part[0] == "invalid" or not readable:
        return None  # markdown-it reads the file (it has a line the fast path does not read)
    if head_error is not None:
        raise head_error
    if error is not None:
        raise error
    if part[0] == "error":
        raise ParseError(path, part[1], part[2])
    _, rows2, (turn_ids2, quote_ids2), turn_keys, quote_keys, lemmas = part
    search.add_lemmas(lemmas)
    turn_keys = [r[2] if k is None else k for r, k in zip(rows2, turn_keys)]
    quote_keys = [q[0] if k is None else k for q, k in zip((q for r in rows2 for q in r[8]), quote_keys)]
    turn_ids += links.continued_ids(interview.id, "turn", turn_ids2, turn_keys, seen_turns)
    quote_ids += links.continued_ids(interview.id, "quote", quote_ids2, quote_keys, seen_quotes)
    rows += rows2
    # markdown.finish_turns, on the rows: timestamps never go back; a turn ends where the next timed turn starts
    last = None
    for row in rows:
        start = row[1]
        if start is not None:
            if last is not None and start < last:
                raise ParseError(path, row[4], N_("timestamp {ts} is earlier than the turn before it ({before})"),
                                 ts=markdown.format_timestamp(start), before=markdown.format_timestamp(last))
            last = start
    ends: list = [None] * len(rows)
    nxt = None
    for n in range(len(rows) - 1, -1, -1):
        ends[n] = nxt
        if rows[n][1] is not None:
            nxt = rows[n][1]
    roles = speaker_roles(interview.interviewer, interview.respondent, (r[0] for r in rows))
    role_of = {speaker: roles[speaker.strip().casefold()] for speaker in {r[0] for r in rows}}
    utterances = []
    quotes = []
    for seq, ((speaker, start, text, stem, line, language, conf, unsure, turn_quotes), end) in enumerate(zip(rows, ends), 1):
        utterances.append((seq, speaker, role_of[speaker], start, end, text, stem, line, language, conf, unsure))
        for q in turn_quotes:
            quotes.append((seq, start, end, *q))
    return interview, utterances, quotes, turn_ids, quote_ids
