"""Permanent ids for quotes and turns, so a link sent to a stakeholder still works after edits and rebuilds.

An id is derived from the interview id, the kind (quote/turn) and the text itself (whitespace collapsed), plus the
occurrence number when the same text appears twice in one interview: never from row order. Editing another
paragraph or inserting a turn above leaves every other id as it was.

When an interview is written again, the ids it had before are compared with the new ones. A new quote whose id is
new and an old id that disappeared are paired when their texts are alike (an edited quote, or the same quote after
the interview's id changed): the quote keeps its old id, so its URL still works. Old ids left unpaired are kept in
``link_aliases``: their URL then shows the interview with a short note instead of a 404.

Ids are 52-bit integers: exact in JavaScript numbers, so Datasette's JSON and the site's links carry them intact.
The interview picks the high bits, so one interview's quotes (and turns) sit together in the id space.
"""

from __future__ import annotations

import difflib
import hashlib
from collections import Counter
from typing import Iterable, Sequence

ID_BITS = 52
TEXT_BITS = 26  # two texts of one interview share an id once in ~67 million pairs; build then moves one to the next id
MATCH_RATIO = 0.6  # how alike an edited text must be to keep its id (difflib ratio, 0..1)
MAX_PAIRS = 20_000  # above this many (new × gone) comparisons only identical texts are paired
KINDS = ("quote", "turn")


def _norm(text: str) -> str:
    return " ".join(text.split())


def _bits(key: str, bits: int) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big") >> (64 - bits)


def derived_id(interview_id: str, kind: str, text: str, occurrence: int = 0) -> int:
    """The high 26 bits come from the interview, the low 26 from the text: an interview's rows share one id range,
    so "search within this interview" scans only that range of the full-text index."""
    high = _bits(interview_id, ID_BITS - TEXT_BITS)
    low = _bits("\x1f".join((kind, _norm(text), str(occurrence))), TEXT_BITS)
    return (high << TEXT_BITS | low) or 1


def derived_ids(interview_id: str, kind: str, texts: Iterable[str], seen: Counter[str] | None = None, *,
                normalised: bool = False) -> list[int]:
    """One id per text, in order; the n-th repeat of a text in the interview gets occurrence n (as derived_id).

    ``seen``: the texts counted so far (normalised), updated in place: the ids of a later part of an interview, derived
    with the counter of the parts before it, are the ids of the whole. ``normalised``: the texts are already
    whitespace-collapsed (``" ".join(text.split())``)."""
    seen = Counter() if seen is None else seen
    high = _bits(interview_id, ID_BITS - TEXT_BITS) << TEXT_BITS
    shift = 64 - TEXT_BITS
    blake2b = hashlib.blake2b
    from_bytes = int.from_bytes
    count = seen.get
    out = []
    append = out.append
    for text in texts:
        key = text if normalised else " ".join(text.split())
        n = count(key, 0)
        low = from_bytes(blake2b(f"{kind}\x1f{key}\x1f{n}".encode(), digest_size=8).digest(), "big") >> shift
        append((high | low) or 1)
        seen[key] = n + 1
    return out


def continued_ids(interview_id: str, kind: str, ids: list[int], keys: list[str], seen: Counter[str]) -> list[int]:
    """The ids of a later part of an interview that were derived on their own (each text's repeats counted from the
    part's start; ``keys``: its texts normalised), made the ids of the whole: a text the parts before it (counted in
    ``seen``, updated in place) already had gets its occurrence number in the whole interview."""
    out = list(ids)
    local: Counter[str] = Counter()
    high = _bits(interview_id, ID_BITS - TEXT_BITS) << TEXT_BITS
    for n, key in enumerate(keys):
        k = local[key]
        local[key] = k + 1
        before = seen.get(key)
        if before:
            low = _bits(f"{kind}\x1f{key}\x1f{before + k}", TEXT_BITS)
            out[n] = (high | low) or 1
    seen.update(local)
    return out


def keep_old_ids(new: Sequence[tuple[int, str]], old: Sequence[tuple[int, str]]) -> tuple[list[int], list[tuple[int, str]]]:
    """Pair new rows with vanished old ones by text similarity.

    ``new`` and ``old`` are (id, text). Returns the ids to use for ``new`` (an old id where paired) and the old
    (id, text) that nothing took (their links now lead to the interview).
    """
    ids = [i for i, _ in new]
    old_ids = {i for i, _ in old}
    new_ids = set(ids)
    free = [k for k, (i, _) in enumerate(new) if i not in old_ids]
    gone = [(i, t) for i, t in old if i not in new_ids]
    if not free or not gone:
        return ids, gone
    exact_only = len(free) * len(gone) > MAX_PAIRS
    scored = []
    for k in free:
        text = _norm(new[k][1])
        for n, (_, old_text) in enumerate(gone):
            old_text = _norm(old_text)
            if text == old_text:
                scored.append((1.0, k, n))
            elif not exact_only:
                m = difflib.SequenceMatcher(None, old_text, text, autojunk=False)
                if m.real_quick_ratio() >= MATCH_RATIO and m.quick_ratio() >= MATCH_RATIO:
                    r = m.ratio()
                    if r >= MATCH_RATIO:
                        scored.append((r, k, n))
    scored.sort(key=lambda s: (-s[0], s[1], s[2]))
    used_new: set[int] = set()
    used_old: set[int] = set()
    for _, k, n in scored:
        if k in used_new or n in used_old:
            continue
        used_new.add(k)
        used_old.add(n)
        ids[k] = gone[n][0]
    return ids, [g for n, g in enumerate(gone) if n not in used_old]
