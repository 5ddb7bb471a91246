"""Meaning on the site: the "close in meaning" part of search, and "similar quotes" on a quote's page.

Both read the vectors ``custdev build`` stored (custdev.meaning); the quote panel needs no model at all, search loads
the embedding model once per server process on the first query (about two seconds), then embeds each query in
milliseconds. A base without vectors shows neither, silently.
"""

from __future__ import annotations

from custdev.site.common import has_tables

# Meaning hits are shown from MIN_SCORE and within WITHIN of the best one: unrelated sentences of the model sit around
# 0.1-0.2, and a one-word query ("дорого") reaches only about 0.2 even with its best paraphrase.
MIN_SCORE = 0.15
WITHIN = 0.10
SIMILAR_MIN = 0.25  # the quote panel compares whole quotes, which score higher
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
        floor = max(MIN_SCORE, (hits[0].score if hits else 0) - WITHIN)
        for h in hits:
            if h.score < floor or (filters.get("interview") and h.interview_id != filters["interview"]):
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

        return [h.to_dict() for h in find(conn, int(quote_id), limit=5, db_key=db.path) if h.score >= SIMILAR_MIN]

    return await db.execute_fn(run)


_themes_cache: dict[tuple, dict] = {}


async def themes_data(datasette) -> dict:
    """The affinity board: themes of uncoded respondent turns (custdev clusters), cached per vector version."""
    from custdev.site.settings import DB_NAME

    db = datasette.get_database(DB_NAME)
    if not await _has_vectors(db):
        return {"themes": [], "no_vectors": True}

    def run(conn):
        from custdev.db import get_meta
        from custdev.meaning import clusters as cl
        from custdev.meaning.store import VERSION_KEY

        key = (db.path, get_meta(conn, VERSION_KEY), conn.execute("select count(*) from quote_pains").fetchone()[0])
        if key not in _themes_cache:
            _themes_cache.clear()
            _themes_cache[key] = cl.clusters(conn, central=4).to_dict()
        return _themes_cache[key]

    data = await db.execute_fn(run)
    return {**data, "no_vectors": False}


async def themes_view(request, datasette):
    from datasette.utils.asgi import Response

    from custdev.site.common import is_custdev, require_view

    if not is_custdev(datasette):
        return Response.text("Not found", status=404)
    await require_view(datasette, request)
    context = {**await themes_data(datasette), "metadata": datasette.metadata()}
    return Response.html(await datasette.render_template("custdev_themes.html", context, request=request, view_name="custdev_themes"))
