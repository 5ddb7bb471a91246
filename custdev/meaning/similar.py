"""Find by meaning: turns and quotes closest to a text or to a quote, in any language (exact search in numpy).

Exact search: a base's vectors are read once per process and version (``store.load_vectors``) and scored with one
matrix product. On the 10,000-interview synthetic base that is well under the time of a keyword search's ranking
(figures in the README), so no approximate index is kept: it would add a native extension that the stdlib
``sqlite3`` here cannot load, and lose exactness.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from custdev.errors import SearchError
from custdev.i18n import N_
from custdev.meaning import store
from custdev.search import filter_clauses


@dataclass
class SimilarHit:
    kind: str  # "utterance" or "quote"
    id: int
    interview_id: str
    interview_title: str | None
    speaker: str
    speaker_role: str
    start_s: float | None
    text: str
    score: float  # cosine similarity, -1..1

    def to_dict(self) -> dict:
        return asdict(self)


def _allowed(db, kind: str, *, segment=None, pain=None, tag=None, speaker=None) -> set[int] | None:
    """Ids of ``kind`` passing the filters, or None when there is no filter."""
    if not (segment or pain or tag or speaker):
        return None
    table = "quotes" if kind == "quote" else "utterances"
    where, params = filter_clauses(kind, segment=segment, pain=pain, tag=tag, speaker=speaker)
    return {r[0] for r in db.execute(f"SELECT r.id FROM {table} r WHERE " + " AND ".join(where), params)}


def rank(vectors: store.Vectors, query: np.ndarray, *, limit: int, allowed: set[int] | None = None, exclude: set[int] = frozenset()) -> list[tuple[int, float]]:
    """(item id, cosine) of the ``limit`` rows of ``vectors`` closest to ``query``."""
    if not len(vectors):
        return []
    scores = vectors.scores(query)
    if allowed is not None or exclude:
        ids = vectors.ids  # one vectorised membership test, not a Python loop over every row (24,000 on 300 interviews)
        mask = np.ones(len(ids), dtype=bool) if allowed is None else np.isin(ids, np.fromiter(allowed, dtype=ids.dtype, count=len(allowed)))
        if exclude:
            mask &= ~np.isin(ids, np.fromiter(exclude, dtype=ids.dtype, count=len(exclude)))
        scores = np.where(mask, scores, -np.inf)
    # A turn has a row per sentence and scores as its best sentence: take enough rows to fill ``limit`` items.
    out: dict[int, float] = {}
    k = min(len(scores), limit * 4)
    while True:
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")]
        out = {}
        for i in top:
            if not np.isfinite(scores[i]):
                break
            out.setdefault(int(vectors.ids[i]), float(scores[i]))
            if len(out) == limit:
                break
        if len(out) == limit or k >= len(scores) or not np.isfinite(scores[top[-1]]):
            return list(out.items())
        k = min(len(scores), k * 4)


def item_scores(vectors: store.Vectors, query: np.ndarray, ids: list[int]) -> dict[int, float]:
    """Cosine of each of ``ids`` with ``query`` (a turn scores as its closest sentence); ids without vectors are left out."""
    out: dict[int, float] = {}
    if not len(vectors) or not ids:
        return out
    q = query.astype(np.float32)
    lo = np.searchsorted(vectors.ids, ids, side="left")
    hi = np.searchsorted(vectors.ids, ids, side="right")
    for i, a, b in zip(ids, lo.tolist(), hi.tolist()):
        if b > a:
            out[i] = float((vectors.matrix[a:b].astype(np.float32) @ q).max())
    return out


def embed_query(text: str) -> np.ndarray:
    if not text or not text.strip():
        raise SearchError(N_("the text to find similar passages for is empty"))
    from custdev.meaning.model import load_model

    return load_model().embed([text])[0]


def hydrate(db, kind: str, ranked: list[tuple[int, float]]) -> list[SimilarHit]:
    if not ranked:
        return []
    marks = ",".join("?" * len(ranked))
    if kind == "quote":
        sql = f"""SELECT q.id, q.interview_id, i.title, u.speaker, u.speaker_role, q.start_s, q.text FROM quotes q
        JOIN utterances u ON u.id = q.utterance_id JOIN interviews i ON i.id = q.interview_id WHERE q.id IN ({marks})"""
    else:
        sql = f"""SELECT u.id, u.interview_id, i.title, u.speaker, u.speaker_role, u.start_s, u.text FROM utterances u
        JOIN interviews i ON i.id = u.interview_id WHERE u.id IN ({marks})"""
    rows = {r[0]: r for r in db.execute(sql, [i for i, _ in ranked])}
    return [SimilarHit(kind, *rows[i][:7], score=round(s, 4)) for i, s in ranked if i in rows]


def similar(
    db,
    text: str,
    *,
    quotes_only: bool = False,
    segment: str | None = None,
    pain: str | None = None,
    tag: str | None = None,
    speaker: str | None = None,
    limit: int = 20,
    db_key: str | None = None,
    query_vector: np.ndarray | None = None,
) -> list[SimilarHit]:
    """Respondent turns (or, with ``quotes_only``/``pain``/``tag``, quotes) closest in meaning to ``text``
    (``query_vector``: its embedding, when the caller has it already)."""
    if limit < 1:
        raise SearchError(N_("--limit must be at least 1"))
    kind = "quote" if (quotes_only or pain or tag) else "utterance"
    store.require_vectors(db)
    vectors = store.load_vectors(db, kind, db_key)
    query = embed_query(text) if query_vector is None else query_vector
    allowed = _allowed(db, kind, segment=segment, pain=pain, tag=tag, speaker=speaker)
    return hydrate(db, kind, rank(vectors, query, limit=limit, allowed=allowed))


def similar_quotes(db, quote_id: int, *, limit: int = 5, db_key: str | None = None) -> list[SimilarHit]:
    """Quotes of other turns closest in meaning to quote ``quote_id`` (no model load: the quote's vector is stored)."""
    vectors = store.load_vectors(db, "quote", db_key)
    where = np.nonzero(vectors.ids == quote_id)[0]  # quotes have one row each
    if not len(where):
        return []
    row = db.execute("SELECT utterance_id FROM quotes WHERE id = ?", [quote_id]).fetchone()
    same_turn = {r[0] for r in db.execute("SELECT id FROM quotes WHERE utterance_id = ?", [row[0]])} if row else {quote_id}
    return hydrate(db, "quote", rank(vectors, vectors.matrix[where[0]].astype(np.float32), limit=limit, exclude=same_turn | {quote_id}))
