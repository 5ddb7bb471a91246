"""Meaning on the site: the "close in meaning" part of search, and "similar quotes" on a quote's page.

Both read the vectors ``custdev build`` stored (custdev.meaning); the quote panel needs no model at all, search loads
the embedding model once per server process on the first query (about two seconds), then embeds each query in
milliseconds. A base without vectors shows neither, silently.
"""

from __future__ import annotations

from custdev.site.common import has_rows, has_tables

# Meaning hits are shown from MIN_SCORE and within WITHIN of the best one: unrelated sentences of the model sit around
# 0.1-0.2, and a one-word query ("дорого") reaches only about 0.2 even with its best paraphrase.
MIN_SCORE = 0.15
WITHIN = 0.10
SIMILAR_MIN = 0.25  # the quote panel compares whole quotes, which score higher
SHOWN = 8


async def _has_vectors(db) -> bool:
    return await has_tables(db, "embeddings", "embedded_interviews") and await has_rows(db, "embedded_interviews")


# Reciprocal rank fusion (Cormack et al. 2009; the hybrid ranking of Elasticsearch, OpenSearch and Vespa): a hit's score
# is the sum over the two lists of 1 / (RRF_K + its rank there), so a passage that matches the words AND is close in
# meaning rises above one that is only either. 60 is the paper's constant.
RRF_K = 60


async def fuse(db, q: str, filters: dict, rows) -> list[dict]:
    """The site search's keyword hits (``rows``, bm25 order) and the passages closest in meaning to ``q`` as ONE list,
    ranked by reciprocal rank fusion. Hits found only by meaning carry ``meaning_only``. Without vectors, or when
    nothing is close, the keyword hits come back as they were."""
    rows = [dict(r) for r in rows]
    if not q or filters.get("speaker") == "interviewer" or not await _has_vectors(db):
        return rows

    def run(conn):
        from custdev.errors import CustdevError
        from custdev.meaning import store
        from custdev.meaning.similar import embed_query, item_scores, similar

        from custdev.search import plain_words

        text = plain_words(q) or q  # embed what it says, not its operators
        try:
            query = embed_query(text)  # once, for both lists
            hits = similar(conn, text, segment=filters.get("segment") or None, pain=filters.get("pain") or None,
                           tag=filters.get("tag") or None, limit=40, db_key=db.path, query_vector=query)
            turn_cos = item_scores(store.load_vectors(conn, "utterance", db.path), query,
                                   sorted({r["utterance_id"] for r in rows}))
        except CustdevError:
            return rows
        floor = max(MIN_SCORE, (hits[0].score if hits else 0) - WITHIN)
        items = [{**r, "cos": turn_cos.get(r["utterance_id"]), "kw_rank": n} for n, r in enumerate(rows, 1)]
        by_turn = {r["utterance_id"]: r for r in items}
        by_quote = {r["quote_id"]: r for r in items if r["quote_id"] is not None}
        for h in hits:
            if h.score < floor or (filters.get("interview") and h.interview_id != filters["interview"]):
                continue
            known = by_quote.get(h.id) if h.kind == "quote" else by_turn.get(h.id)
            if known is not None:
                known["cos"] = max(known["cos"] or -1.0, h.score)
                continue
            items.append({
                "kind": h.kind, "quote_id": h.id if h.kind == "quote" else None,
                "utterance_id": None if h.kind == "quote" else h.id, "interview_id": h.interview_id,
                "interview_title": h.interview_title, "speaker": h.speaker, "speaker_role": h.speaker_role,
                "start_s": h.start_s, "text": h.text, "cos": h.score, "kw_rank": None, "meaning_only": True,
            })
        close = sorted((r for r in items if r["cos"] is not None and r["cos"] >= MIN_SCORE), key=lambda r: -r["cos"])
        for n, r in enumerate(close, 1):
            r["cos_rank"] = n
        for r in items:
            r["fused"] = sum(1 / (RRF_K + k) for k in (r["kw_rank"], r.get("cos_rank")) if k)
        items.sort(key=lambda r: (-r["fused"], r["kw_rank"] or 10**9))
        return items

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
