"""Vectors in the base: which texts are embedded, when, and how they are read back.

``custdev build`` calls :func:`embed_base` after writing interviews. It embeds every respondent turn and every
quote of the interviews whose file changed since they were last embedded (``embedded_interviews`` remembers the
content hash and the model), reusing the vector of any text that did not change. Each interview's vectors are
written in the same transaction as its ``embedded_interviews`` row, so an interrupted build resumes where it stopped.

Readers only trust vectors of interviews whose stored content hash is the current one, so vectors of an edited
interview are never matched to the wrong turn, even before the next build re-embeds it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import uuid
from array import array
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from custdev.db import get_meta, set_meta
from custdev.errors import CustdevError, Message, Number
from custdev.i18n import N_

Progress = Callable[[int, int, str], None]

SETTING_ENV = "CUSTDEV_EMBEDDINGS"  # on / off / auto: overrides [meaning] embeddings for one run (tests use it)
VERSION_KEY = "meaning.version"  # changes whenever stored vectors change: readers cache on it
MODEL_KEY = "meaning.model"
DIM_KEY = "meaning.dim"

# Interviews embedded per transaction: keeps engine batches full and commits cheap.
GROUP_TEXTS = 512


class MeaningOff(CustdevError):
    pass


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


def setting(config) -> str:
    value = os.environ.get(SETTING_ENV) or config.embeddings
    return str(value).strip().lower()


def enabled(config, interviews: int, turns: int | None = None) -> tuple[bool, str]:
    """(embed?, why) for a base with ``interviews`` interviews (and ``turns`` respondent turns, when known) under the
    config's [meaning] settings."""
    from custdev.config import EMBEDDINGS_AUTO_MAX_TURNS

    value = setting(config)
    if value in ("on", "true", "1", "yes"):
        return True, "on"
    if value in ("off", "false", "0", "no"):
        return False, Message(N_("embeddings are off ([meaning] embeddings = \"off\" in custdev.toml)"))
    if interviews <= config.embeddings_auto_max and turns is not None and turns > EMBEDDINGS_AUTO_MAX_TURNS:
        return False, Message(
            N_("embeddings are off for bases over {limit:,} respondent turns (this one has {n:,}); "
               "set [meaning] embeddings = \"on\" in custdev.toml and run 'custdev build'"), limit=Number(EMBEDDINGS_AUTO_MAX_TURNS), n=Number(turns),
        )
    if interviews <= config.embeddings_auto_max:
        return True, "auto"
    return False, Message(
        N_("embeddings are off for bases over {limit:,} interviews (this one has {n:,}); "
           "set [meaning] embeddings = \"on\" in custdev.toml and run 'custdev build'"), limit=Number(config.embeddings_auto_max), n=Number(interviews),
    )


@dataclass
class EmbedResult:
    interviews: int = 0  # interviews (re-)embedded
    texts: int = 0  # texts that went through the model
    reused: int = 0  # unchanged texts whose vector was kept
    seconds: float = 0.0
    skipped: str | None = None  # why nothing was embedded, when it was off
    warnings: list[str] = field(default_factory=list)


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
MIN_SENTENCE = 40  # characters: shorter pieces join the next sentence ("Yes. Well, …")


def sentences(text: str) -> list[str]:
    """A turn cut into sentences of at least MIN_SENTENCE characters (a long turn's meaning is in its sentences)."""
    out: list[str] = []
    buf = ""
    for piece in _SENTENCE_END.split(text.strip()):
        buf = f"{buf} {piece}".strip() if buf else piece
        if len(buf) >= MIN_SENTENCE:
            out.append(buf)
            buf = ""
    if buf:
        if out and len(buf) < MIN_SENTENCE:
            out[-1] = f"{out[-1]} {buf}"
        else:
            out.append(buf)
    return out


def _items(conn, interview_id: str) -> list[tuple[str, int, int, str]]:
    """(kind, id, part, text) of what gets a vector: each sentence of every respondent turn, and every quote."""
    items = []
    for uid, text in conn.execute("SELECT id, text FROM utterances WHERE interview_id = ? AND speaker_role = 'respondent'", [interview_id]):
        items.extend(("utterance", uid, n, s) for n, s in enumerate(sentences(text or "")))
    for qid, text in conn.execute("SELECT id, text FROM quotes WHERE interview_id = ?", [interview_id]):
        if text and text.strip():
            items.append(("quote", qid, 0, text.strip()))
    return items


def pending(conn, model_name: str) -> list[tuple[str, str]]:
    """(interview id, content hash) of interviews without up-to-date vectors."""
    return conn.execute(
        "SELECT i.id, i.content_hash FROM interviews i LEFT JOIN embedded_interviews e ON e.interview_id = i.id "
        "WHERE i.content_hash != '' AND (e.interview_id IS NULL OR e.content_hash != i.content_hash OR e.model != ?) "
        "ORDER BY i.id",
        [model_name],
    ).fetchall()


def embed_base(db, *, embedder=None, progress: Progress | None = None) -> EmbedResult:
    """Bring the base's vectors up to date (see the module doc). ``embedder`` defaults to the pinned model."""
    conn = db.conn
    result = EmbedResult()
    started = time.perf_counter()
    from custdev.meaning.model import MODEL

    model = embedder.model if embedder is not None else MODEL
    model_name = model.name
    # Interviews gone from the base: their vectors go too (cheap: by index, per interview).
    gone = [r[0] for r in conn.execute("SELECT interview_id FROM embedded_interviews WHERE interview_id NOT IN (SELECT id FROM interviews)")]
    todo = pending(conn, model_name)
    if gone:
        with _tx(conn):
            for iid in gone:
                conn.execute("DELETE FROM embeddings WHERE interview_id = ?", [iid])
                conn.execute("DELETE FROM embedded_interviews WHERE interview_id = ?", [iid])
            set_meta(db, VERSION_KEY, uuid.uuid4().hex)
    if not todo:
        result.seconds = time.perf_counter() - started
        return result
    loaded: list = [embedder]

    def get_embedder():  # the model loads only when some text is new (an edit that only moved codes loads nothing)
        if loaded[0] is None:
            from custdev.meaning.model import load_model

            loaded[0] = load_model()
        return loaded[0]

    total = len(todo)
    group: list[tuple[str, str, list, dict]] = []
    group_texts = 0
    done = 0
    for iid, content_hash in todo:
        items = _items(conn, iid)
        old = {h: v for h, v in conn.execute("SELECT text_hash, vector FROM embeddings WHERE interview_id = ?", [iid])}
        group.append((iid, content_hash, items, old))
        group_texts += len(items)
        if group_texts >= GROUP_TEXTS:
            done += _flush(db, get_embedder, model, group, result)
            group, group_texts = [], 0
            if progress:
                progress(done, total, "embedding")
    if group:
        done += _flush(db, get_embedder, model, group, result)
        if progress:
            progress(done, total, "embedding")
    result.seconds = time.perf_counter() - started
    return result


def _flush(db, get_embedder, model, group, result: EmbedResult) -> int:
    """Embed the new texts of a group of interviews and write each interview's vectors (one transaction)."""
    conn = db.conn
    need: dict[str, str] = {}
    for _, _, items, old in group:
        for _, _, _, text in items:
            h = text_hash(text)
            if h not in old and h not in need:
                need[h] = text
    vectors: dict[str, bytes] = {}
    if need:
        keys = list(need)
        mat = get_embedder().embed([need[k] for k in keys]).astype(np.float16)
        vectors = {k: mat[n].tobytes() for n, k in enumerate(keys)}
        result.texts += len(keys)
    with _tx(conn):
        for iid, content_hash, items, old in group:
            conn.execute("DELETE FROM embeddings WHERE interview_id = ?", [iid])
            rows = []
            for kind, item_id, part, text in items:
                h = text_hash(text)
                vec = old.get(h)
                if vec is None:
                    vec = vectors[h]
                else:
                    result.reused += 1
                rows.append((kind, item_id, part, iid, h, vec))
            conn.executemany("INSERT OR REPLACE INTO embeddings(kind, item_id, part, interview_id, text_hash, vector) VALUES (?,?,?,?,?,?)", rows)
            conn.execute(
                "INSERT INTO embedded_interviews(interview_id, content_hash, model) VALUES (?,?,?) "
                "ON CONFLICT(interview_id) DO UPDATE SET content_hash = excluded.content_hash, model = excluded.model",
                [iid, content_hash, model.name],
            )
            result.interviews += 1
        set_meta(db, MODEL_KEY, model.name)
        set_meta(db, DIM_KEY, str(model.dim))
        set_meta(db, VERSION_KEY, uuid.uuid4().hex)
    return len(group)


class _tx:
    def __init__(self, conn):
        self.conn = conn

    def __enter__(self):
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN IMMEDIATE")
            self.own = True
        else:
            self.own = False

    def __exit__(self, exc_type, *_):
        if self.own:
            self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


# ---------------------------------------------------------------------------------------------------------------
# Reading


@dataclass
class Vectors:
    kind: str
    ids: np.ndarray  # int64 item ids, row order of ``matrix`` (a turn has one row per sentence, in a run)
    interview_ids: list[str]
    matrix: np.ndarray  # L2-normalised rows: float32, or float16 as stored when that would pass FLOAT32_MAX_BYTES

    def runs(self) -> list[tuple[int, int, int]]:
        """(item id, first row, end row) of each item: a turn's sentences are one run of rows."""
        if not len(self.ids):
            return []
        starts = np.flatnonzero(np.r_[True, self.ids[1:] != self.ids[:-1]])
        ends = np.r_[starts[1:], len(self.ids)]
        return [(int(self.ids[s]), s, e) for s, e in zip(starts.tolist(), ends.tolist())]

    def scores(self, query: np.ndarray) -> np.ndarray:
        """Cosine of every row with ``query`` (float32; a float16 matrix is converted a block at a time)."""
        q = query.astype(np.float32)
        if self.matrix.dtype == np.float32:
            return self.matrix @ q
        out = np.empty(len(self.ids), dtype=np.float32)
        for start in range(0, len(out), 65536):
            out[start:start + 65536] = self.matrix[start:start + 65536].astype(np.float32) @ q
        return out

    def __len__(self) -> int:
        return len(self.ids)


_cache: dict[tuple, Vectors] = {}
# Above this size vectors stay float16 in memory (half of it): a 10,000-interview base holds ~800,000 turn vectors.
FLOAT32_MAX_BYTES = 256 * 1024 * 1024


def status(db) -> dict:
    """How many interviews have current vectors, of how many, and with which model."""
    total = db.execute("SELECT count(*) FROM interviews").fetchone()[0]
    current = db.execute(
        "SELECT count(*) FROM embedded_interviews e JOIN interviews i ON i.id = e.interview_id AND i.content_hash = e.content_hash"
    ).fetchone()[0]
    return {"interviews": total, "embedded": current, "model": get_meta(db, MODEL_KEY)}


def load_vectors(db, kind: str, db_key: str | None = None, *, interview_id: str | None = None, items: list[int] | None = None) -> Vectors:
    """Every current vector of ``kind`` ('utterance' or 'quote'), cached per database and vector version; or only
    those of one interview, or of the given item ids (not cached: a 10,000-interview base holds ~800,000 turn
    vectors, 1.6 GB as float32, and a command about one interview or a sample of turns needs none of the rest)."""
    if interview_id is not None or items is not None:
        db_key = None
    version = get_meta(db, VERSION_KEY)
    model = get_meta(db, MODEL_KEY)
    key = (db_key, kind, version, model)
    if db_key is not None and key in _cache:
        return _cache[key]
    dim = int(get_meta(db, DIM_KEY) or 0)
    cursor = db.execute(
        "SELECT e.item_id, e.interview_id, e.vector FROM embeddings e "
        "JOIN embedded_interviews ei ON ei.interview_id = e.interview_id "
        "JOIN interviews i ON i.id = ei.interview_id AND i.content_hash = ei.content_hash "
        "WHERE e.kind = ? AND ei.model = ?"
        + (" AND e.interview_id = ?" if interview_id is not None else "")
        + (" AND e.item_id IN (SELECT value FROM json_each(?))" if items is not None else "")
        + " ORDER BY e.item_id, e.part",
        [kind, model, *([interview_id] if interview_id is not None else []), *([json.dumps(list(items))] if items is not None else [])],
    )
    # Row by row into flat buffers: a list of 800,000 fetched rows would hold the vectors twice over.
    id_buf, interview_ids, blob = array("q"), [], bytearray()
    for item_id, iid, vector in cursor:
        id_buf.append(item_id)
        interview_ids.append(iid)
        blob += vector
    if id_buf and dim:
        ids = np.frombuffer(id_buf, dtype=np.int64).copy()
        matrix = np.frombuffer(blob, dtype=np.float16).reshape(len(ids), dim)
        if matrix.nbytes * 2 <= FLOAT32_MAX_BYTES:
            matrix = matrix.astype(np.float32)
    else:
        ids = np.zeros(0, dtype=np.int64)
        matrix = np.zeros((0, dim or 1), dtype=np.float32)
    vec = Vectors(kind=kind, ids=ids, interview_ids=interview_ids, matrix=matrix)
    if db_key is not None:
        for old in [k for k in _cache if k[0] == db_key and k[1] == kind]:
            del _cache[old]
        _cache[key] = vec
    return vec


def require_vectors(db, base_config=None) -> None:
    """Raise MeaningOff with what to do when the base has no vectors at all."""
    st = status(db)
    if st["interviews"] and not st["embedded"]:
        why = ""
        if base_config is not None:
            on, reason = enabled(base_config, st["interviews"])
            if not on:
                why = reason
        raise MeaningOff(why or Message(N_("the base has no sentence embeddings yet; run 'custdev build' (with [meaning] embeddings on)")))
