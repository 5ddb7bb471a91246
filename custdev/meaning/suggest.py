"""Suggested codes for uncoded respondent turns, from the base's own coded quotes (nearest neighbours).

A turn's similarity to a coded quote is the cosine of the quote and the turn's closest sentence. The K most similar
coded quotes vote for their codes (pains and tags), each vote weighted by its similarity above ``FLOOR``; a code's
score is its share of the votes. A code is suggested when its best supporting quote is at least ``MIN_SIMILARITY``
close. Each suggestion names the quotes that support it. Rejected suggestions (``custdev suggest --apply``) are kept
in ``rejected-suggestions.jsonl`` in the base, keyed by the turn's text, and never proposed again for that text.

:func:`evaluate` measures it leave-one-interview-out against a BM25 baseline over the pains' titles and descriptions.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from custdev.meaning import store
from custdev.i18n import N_

K = 10  # neighbours that vote for tags
FLOOR = 0.15  # similarity that earns no vote (unrelated sentences of this model sit around 0.1-0.2)
MIN_SIMILARITY = 0.35  # a pain's score must reach this (tags: TAG_MARGIN more); measured on the sample base
TAG_MARGIN = 0.15
QUOTE_WEIGHT = 0.2  # pains: weight of the coded quotes against the pain's own title and description (measured)
TOP = 2  # pains and tags suggested per turn (each)
REJECTED_FILE = "rejected-suggestions.jsonl"


@dataclass
class Support:
    quote_id: int
    interview_id: str
    text: str
    similarity: float


@dataclass
class Suggestion:
    code: str  # "pain/<slug>" or a tag
    score: float  # share of the neighbours' votes, 0..1
    similarity: float  # of the closest supporting quote
    support: list[Support] = field(default_factory=list)


@dataclass
class TurnSuggestions:
    utterance_id: int
    interview_id: str
    path: str
    line: int | None
    start_s: float | None
    speaker: str
    text: str
    suggestions: list[Suggestion]

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Coded:
    """The coded quotes: vectors and codes (the training set)."""

    ids: np.ndarray
    interview_ids: list[str]
    matrix: np.ndarray
    codes: list[list[str]]
    _index: dict[str, np.ndarray] | None = None

    def index(self) -> dict[str, np.ndarray]:
        """Code -> row numbers of the quotes coded with it (built once)."""
        if self._index is None:
            rows: dict[str, list[int]] = defaultdict(list)
            for n, cs in enumerate(self.codes):
                for c in cs:
                    rows[c].append(n)
            self._index = {c: np.array(v, dtype=np.int64) for c, v in rows.items()}
        return self._index


def coded_quotes(db, *, pains_only: bool = False) -> Coded:
    vec = store.load_vectors(db, "quote")
    codes: dict[int, list[str]] = defaultdict(list)
    for qid, pain in db.execute("SELECT quote_id, pain FROM quote_pains"):
        codes[qid].append(f"pain/{pain}")
    if not pains_only:
        for qid, tag in db.execute("SELECT quote_id, tag FROM quote_tags"):
            codes[qid].append(tag)
    keep = [n for n, i in enumerate(vec.ids.tolist()) if codes.get(i)]
    return Coded(
        ids=vec.ids[keep], interview_ids=[vec.interview_ids[n] for n in keep], matrix=vec.matrix[keep],
        codes=[codes[int(vec.ids[n])] for n in keep],
    )


@dataclass
class Prototypes:
    """Each pain of the codebook as text: its title, and its title with the description (two vectors per pain)."""

    codes: list[str]
    title: np.ndarray
    full: np.ndarray


def pain_prototypes(db, embed=None) -> Prototypes:
    pains = db.execute("SELECT slug, title, description FROM pains ORDER BY slug").fetchall()
    if embed is None:
        from custdev.meaning.model import load_model

        embed = load_model().embed
    return Prototypes(
        codes=[f"pain/{s}" for s, _, _ in pains],
        title=embed([t or s for s, t, _ in pains]) if pains else np.zeros((0, 1), np.float32),
        full=embed([f"{t or s}. {d or ''}".strip() for s, t, d in pains]) if pains else np.zeros((0, 1), np.float32),
    )


def score_turn(
    sent_vectors: np.ndarray, coded: Coded, protos: Prototypes | None = None, *, mask: np.ndarray | None = None,
    top_pains: int = 2, top_tags: int = 2, min_score: float = MIN_SIMILARITY,
) -> list[Suggestion]:
    """Codes for a turn given its sentence vectors (rows). ``mask`` hides coded quotes (leave-one-out).

    Pains: (1 - QUOTE_WEIGHT) × similarity to the pain's title/description + QUOTE_WEIGHT × the mean similarity of
    the two closest quotes coded with it. Tags (which have no description): the best similarity among the K nearest
    coded quotes that carry the tag, ranked by their weighted votes.
    """
    if not len(sent_vectors):
        return []
    sims = (coded.matrix @ sent_vectors.T).max(axis=1) if len(coded.ids) else np.zeros(0, np.float32)
    if mask is not None and len(sims):
        sims = np.where(mask, sims, -np.inf)
    index = coded.index()

    def nearest_of(c: str, k: int = 2) -> np.ndarray:
        rows = index.get(c)
        if rows is None or not len(sims):
            return np.zeros(0, dtype=np.int64)
        vals = sims[rows]
        if len(rows) > k:
            part = np.argpartition(-vals, k - 1)[:k]
            rows, vals = rows[part], vals[part]
        keep = np.isfinite(vals)
        rows, vals = rows[keep], vals[keep]
        return rows[np.argsort(-vals)]

    out: list[Suggestion] = []

    def support(c: str) -> list[Support]:
        return [Support(int(coded.ids[n]), coded.interview_ids[n], "", round(float(sims[n]), 3)) for n in nearest_of(c).tolist()]

    if protos is not None and protos.codes:
        proto = np.maximum((protos.title @ sent_vectors.T).max(axis=1), (protos.full @ sent_vectors.T).max(axis=1))
        pains = []
        for c, p in zip(protos.codes, proto.tolist()):
            near = [float(sims[n]) for n in nearest_of(c).tolist()]
            score = (1 - QUOTE_WEIGHT) * p + QUOTE_WEIGHT * (sum(near) / len(near) if near else 0.0)
            pains.append((score, c, max(near) if near else None))
        pains.sort(key=lambda x: (-x[0], x[1]))
        for score, c, best in pains[:top_pains]:
            if score >= min_score:
                out.append(Suggestion(code=c, score=round(score, 3), similarity=round(best if best is not None else score, 3), support=support(c)))
    if top_tags:
        k = min(K, len(sims))
        top = np.argpartition(-sims, k - 1)[:k] if 0 < k < len(sims) else np.arange(len(sims))
        nearest = [n for n in top[np.argsort(-sims[top])].tolist() if np.isfinite(sims[n])]
        votes: Counter = Counter()
        best: dict[str, float] = {}
        for n in nearest:
            for c in coded.codes[n]:
                if c.startswith("pain/"):
                    continue
                votes[c] += max(0.0, float(sims[n]) - FLOOR)
                best[c] = max(best.get(c, -1.0), float(sims[n]))
        tags = sorted((c for c in votes if votes[c] > 0 and best[c] >= min_score + TAG_MARGIN), key=lambda c: (-votes[c], c))
        for c in tags[:top_tags]:
            out.append(Suggestion(code=c, score=round(best[c], 3), similarity=round(best[c], 3), support=support(c)))
    return out


def _turn_vectors(db, interview_id: str | None = None) -> dict[int, np.ndarray]:
    vec = store.load_vectors(db, "utterance", interview_id=interview_id)
    return {uid: vec.matrix[s:e] for uid, s, e in vec.runs()}


def load_rejected(root: Path) -> set[tuple[str, str]]:
    path = root / REJECTED_FILE
    out: set[tuple[str, str]] = set()
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            d = json.loads(line)
            out.add((d["text_hash"], d["code"]))
        except (ValueError, KeyError, TypeError):
            continue
    return out


def remember_rejected(root: Path, entries: list[dict]) -> None:
    """Append rejections (written whole: the old file plus the new lines, via a temp file and a rename)."""
    from custdev.config import atomic_write_text

    path = root / REJECTED_FILE
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if old and not old.endswith("\n"):
        old += "\n"
    atomic_write_text(path, old + "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries))


def suggest(db, root: Path, interview_id: str | None = None, *, top: int = TOP, min_similarity: float = MIN_SIMILARITY) -> list[TurnSuggestions]:
    """Suggestions for every uncoded respondent turn (of one interview, or of the base)."""
    store.require_vectors(db)
    coded = coded_quotes(db)
    turns = _turn_vectors(db, interview_id)
    protos = pain_prototypes(db)
    rejected = load_rejected(root)
    sql = """SELECT u.id, u.interview_id, i.path, u.line, u.start_s, u.speaker, u.text FROM utterances u
    JOIN interviews i ON i.id = u.interview_id
    WHERE u.speaker_role = 'respondent' AND NOT EXISTS (
        SELECT 1 FROM quotes q WHERE q.utterance_id = u.id AND (
            EXISTS (SELECT 1 FROM quote_pains p WHERE p.quote_id = q.id) OR EXISTS (SELECT 1 FROM quote_tags t WHERE t.quote_id = q.id)))"""
    params: list = []
    if interview_id:
        sql += " AND u.interview_id = ?"
        params.append(interview_id)
    sql += " ORDER BY u.interview_id, u.seq"
    out = []
    quote_text: dict[int, str] = {}
    for uid, iid, path, line, start, speaker, text in db.execute(sql, params).fetchall():
        vecs = turns.get(uid)
        if vecs is None:
            continue
        h = store.text_hash(text)
        sugg = [s for s in score_turn(vecs, coded, protos, top_pains=top + 2, top_tags=top + 2, min_score=min_similarity) if (h, s.code) not in rejected]
        sugg = [s for s in sugg if s.code.startswith("pain/")][:top] + [s for s in sugg if not s.code.startswith("pain/")][:top]
        if not sugg:
            continue
        for s in sugg:
            for sup in s.support:
                if sup.quote_id not in quote_text:
                    quote_text[sup.quote_id] = db.execute("SELECT text FROM quotes WHERE id = ?", [sup.quote_id]).fetchone()[0]
                sup.text = quote_text[sup.quote_id]
        out.append(TurnSuggestions(uid, iid, path, line, start, speaker, text, sugg))
    return out


# ---------------------------------------------------------------------------------------------------------------
# Writing accepted codes into the markdown


def apply_codes(root: Path, rel_path: str, line: int, codes: list[str], expected_hash: str) -> None:
    """Append ``#code`` marks to the paragraph that starts at ``line`` of the interview file (atomic write).

    Refuses when the file changed since the last build (its hash is not ``expected_hash``): the line numbers would
    no longer point at the same turn.
    """
    from custdev.build import file_hash
    from custdev.config import atomic_write_text
    from custdev.errors import CustdevError

    path = root / rel_path
    if file_hash(path) != expected_hash:
        raise CustdevError(N_("{path} changed since the last build; run 'custdev build' and then suggest again"), path=rel_path)
    lines = path.read_text(encoding="utf-8").split("\n")
    if not 1 <= line <= len(lines) or not lines[line - 1].strip():
        raise CustdevError(N_("{path}:{line}: the turn is not where the base says; run 'custdev build --full'"), path=rel_path, line=line)
    end = line - 1
    while end + 1 < len(lines) and lines[end + 1].strip():
        end += 1
    marks = " ".join("#" + c for c in codes if ("#" + c) not in lines[end].split())
    if marks:
        lines[end] = lines[end].rstrip() + " " + marks
        atomic_write_text(path, "\n".join(lines))


# ---------------------------------------------------------------------------------------------------------------
# Measuring: leave one interview out, against BM25 over the pains' titles and descriptions


@dataclass
class Scores:
    turns: int = 0
    p_at_1: float = 0.0
    recall_at_3: float = 0.0
    hit_at_3: float = 0.0


def _metrics(ranked: list[list[str]], gold: list[set[str]]) -> Scores:
    n = len(gold)
    if not n:
        return Scores()
    p1 = sum(1 for r, g in zip(ranked, gold) if r[:1] and r[0] in g) / n
    r3 = sum(len(set(r[:3]) & g) / len(g) for r, g in zip(ranked, gold)) / n
    h3 = sum(1 for r, g in zip(ranked, gold) if set(r[:3]) & g) / n
    return Scores(n, round(p1, 3), round(r3, 3), round(h3, 3))


class BM25:
    """Okapi BM25 (k1 = 1.2, b = 0.75) over short documents of stemmed words."""

    def __init__(self, docs: dict[str, str], k1: float = 1.2, b: float = 0.75):
        from custdev.search import STOPWORDS, stem_word, words

        self._tok = lambda text: [stem_word(w) for w in words(text) if w not in STOPWORDS]
        self.docs = {k: Counter(self._tok(v)) for k, v in docs.items()}
        self.len = {k: sum(c.values()) for k, c in self.docs.items()}
        self.avg = (sum(self.len.values()) / len(self.len)) if self.len else 1.0
        df: Counter = Counter()
        for c in self.docs.values():
            df.update(c.keys())
        n = len(self.docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.k1, self.b = k1, b

    def rank(self, text: str) -> list[str]:
        q = self._tok(text)
        scores = {}
        for k, c in self.docs.items():
            s = 0.0
            for t in q:
                f = c.get(t, 0)
                if f:
                    s += self.idf[t] * f * (self.k1 + 1) / (f + self.k1 * (1 - self.b + self.b * self.len[k] / self.avg))
            if s > 0:
                scores[k] = s
        return sorted(scores, key=lambda k: -scores[k])


def evaluate(db) -> dict:
    """Leave-one-interview-out on pains: each respondent turn holding pain-coded quotes is scored with the coded quotes
    of the other interviews; gold = the turn's pains. Returns the embedding method's and BM25's scores and timing."""
    store.require_vectors(db)
    coded = coded_quotes(db, pains_only=True)
    turns = _turn_vectors(db)
    rows = db.execute(
        """SELECT u.id, u.interview_id, u.text, group_concat(DISTINCT p.pain) FROM utterances u
        JOIN quotes q ON q.utterance_id = u.id JOIN quote_pains p ON p.quote_id = q.id
        WHERE u.speaker_role = 'respondent' GROUP BY u.id ORDER BY u.id"""
    ).fetchall()
    bm25 = BM25({f"pain/{slug}": f"{title} {desc or ''}" for slug, title, desc in db.execute("SELECT slug, title, description FROM pains")})
    iv = np.array(coded.interview_ids, dtype=object)
    ours, base, gold = [], [], []
    started = time.perf_counter()
    protos = pain_prototypes(db)
    for uid, iid, text, pains in rows:
        vecs = turns.get(uid)
        if vecs is None:
            continue
        gold.append({f"pain/{p}" for p in pains.split(",")})
        mask = iv != iid
        ours.append([s.code for s in score_turn(vecs, coded, protos, mask=mask, top_pains=3, top_tags=0, min_score=-1.0)])
        base.append(bm25.rank(text)[:3])
    seconds = time.perf_counter() - started
    return {
        "interviews": len({r[1] for r in rows}),
        "coded_quotes": len(coded.ids),
        "embeddings": asdict(_metrics(ours, gold)),
        "bm25": asdict(_metrics(base, gold)),
        "seconds": round(seconds, 3),
    }
