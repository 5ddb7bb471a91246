"""Meaning on the site: the "close in meaning" part of search, and "similar quotes" on a quote's page.

Both read the vectors ``custdev build`` stored (custdev.meaning); the quote panel needs no model at all, search loads
the embedding model once per server process on the first query (about two seconds), then embeds each query in
milliseconds. A base without vectors shows neither, silently.
"""

from __future__ import annotations

from custdev.site.common import has_tables

# Meaning hits below this cosine are not shown (unrelated sentences of the model sit around 0.1-0.2).
MIN_SCORE = 0.25
SHOWN = 8


async def _has_vectors(db) -> bool:
    if not await has_tables(db, "embeddings", "embedded_interviews"):
        return False
    row = (await db.execute("select exists(select 1 from embedded_interviews)")).rows
    return bool(row and row[0][0])


async def meaning_hits(db, q: str, filters: dict) -> list[dict]:
    """Respondent turns (or quotes, with a pain/tag filter) close in meaning to ``q`` that the keywords missed."""
    if not q or filters.get("speaker") == "interviewer" or not await _has_vectors(db):
        return []

    def run(conn):
        from custdev.errors import CustdevError
        from custdev.meaning.similar import similar
        from custdev.search import STOPWORDS, stem_word, words

        stems = {stem_word(w) for w in words(q) if w not in STOPWORDS}
        try:
            hits = similar(conn, q, segment=filters.get("segment") or None, pain=filters.get("pain") or None,
                           tag=filters.get("tag") or None, limit=40, db_key=db.path)
        except CustdevError:
            return []
        out = []
        for h in hits:
            if h.score < MIN_SCORE or (filters.get("interview") and h.interview_id != filters["interview"]):
                continue
            if stems & {stem_word(w) for w in words(h.text)}:
                continue  # a keyword match: it is in the ranked results already
            out.append(h.to_dict())
            if len(out) == SHOWN:
                break
        return out

    return await db.execute_fn(run)


async def similar_quotes(db, quote_id) -> list[dict]:
    """Quotes of other turns closest in meaning to this one (stored vectors only)."""
    if not await _has_vectors(db):
        return []

    def run(conn):
        from custdev.meaning.similar import similar_quotes as find

        return [h.to_dict() for h in find(conn, int(quote_id), limit=5, db_key=db.path) if h.score >= MIN_SCORE]

    return await db.execute_fn(run)
