"""``custdev build``: interviews/*.md + codebook.yml -> custdev.db, incrementally.

Each file's bytes (plus its word-timestamp sidecar, if any) are hashed. Unchanged files are skipped, a changed
file replaces exactly its own rows in one transaction, a deleted file's rows go. A bad file is reported and
skipped: its last good version stays in the database, so nothing a researcher stored is lost. A change of the
codebook re-checks every file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from custdev.config import Base, load_base
from custdev.db import BUSY_TIMEOUT_S, get_meta, open_db, set_meta
from custdev import links
from custdev.errors import CustdevError, Message, os_reason
from custdev.i18n import N_
from custdev.models import Codebook, Interview
from custdev import search
from custdev.prepare import Prepared, _file_order, _prepare_many, hash_content, paused_gc, sidecar_path

Progress = Callable[[int, int, str], None]

# Below this many changed files, parsing in worker processes costs more than it saves.
PARALLEL_THRESHOLD = 64


@dataclass
class BuildResult:
    built: int = 0
    skipped: int = 0
    removed: int = 0
    failed: int = 0
    total: int = 0  # interviews in the database after the build
    errors: list[str] = field(default_factory=list)
    responses: int = 0  # survey, ticket and chat responses in the database after the build (custdev/channels)
    embedded: int = 0  # texts that went through the embedding model
    embed_s: float = 0.0
    embeddings: str = ""  # "on", "auto", or why they were not computed
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        keys = ("built", "skipped", "removed", "failed", "total", "errors", "embedded", "embed_s", "embeddings", "warnings")
        return {k: getattr(self, k) for k in keys}


def slugify(text: str) -> str:
    return re.sub(r"[^\w]+", "-", text.casefold()).strip("-") or "unknown"


def interview_files(base: Base) -> list[Path]:
    root = base.interviews_dir
    if not root.is_dir():
        return []
    return sorted(
        p for p in root.rglob("*.md")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


def file_stamp(md_path: Path) -> tuple[str, float]:
    """(size, times and inode of the file and of its sidecar, newest modification time): when this is unchanged, the
    file is taken as unchanged without reading it (as git's index does)."""
    st = md_path.stat()
    parts = [f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"]
    newest = max(st.st_mtime, st.st_ctime)
    try:
        side = sidecar_path(md_path).stat()
    except OSError:
        parts.append("-")
    else:
        parts.append(f"{side.st_size}:{side.st_mtime_ns}:{side.st_ctime_ns}:{side.st_ino}")
        newest = max(newest, side.st_mtime, side.st_ctime)
    return " ".join(parts), newest


# A stamp is remembered only for files last changed this long before the build looked at them: a file written again
# within the same clock tick as it was read would otherwise keep a stamp that matches its new content.
STAMP_SETTLE_S = 2.0


def file_hash(md_path: Path) -> str:
    side = sidecar_path(md_path)
    return hash_content(md_path.read_bytes(), side.read_bytes() if side.exists() else None)


# ---------------------------------------------------------------------------------------------------------------
# Writing


# Interviews are written in transactions of up to this many interviews (or this many seconds), each interview in its
# own savepoint: a failing interview rolls back alone and none is ever half-written. Committing every interview
# separately costs 2.3 ms per commit (FTS5 flushes a segment on each commit), more than writing the interview.
# FTS5 also flushes a segment at every savepoint once its table is part of the transaction (2.6 ms per interview,
# a quarter of writing it), so the full-text changes of a batch are queued and applied just before its COMMIT, in
# the same transaction: the rows and their index still become visible together.
BATCH_INTERVIEWS = 200
BUILD_CACHE_KB = 65536
BATCH_SECONDS = 1.0

# A first build keeps its savepoints' journals in memory (PRAGMA temp_store = MEMORY). Each interview's savepoint
# journals the pages it changes that were there before it, 80-160 KB of a generated interview, and past 64 KB SQLite
# spilled that journal into a temporary file, page by page: 158,000 write calls for 1,000 interviews, 39,000 without
# (the writer's system CPU 8.1 -> 6.7 s per 4,000 interviews). A first build's interviews are new, so few of their
# pages were there before them; a later build's savepoint may journal a whole rewritten interview, and keeps
# SQLite's default.


class _Writer:
    """Writes interviews in batches (see above). ``bulk``: the database held no interview when the build began (a
    first build): every interview then goes into one transaction. Each batch's full-text changes are still applied
    as the batch ends (the index grows while workers parse), but no batch ends in a COMMIT: every commit past the
    first few megabytes set off a checkpoint that waited for the disk (fsync), about 2.4 s per 1,000 interviews.
    An interruption (Ctrl-C, an error) still commits the interviews written whole before it; a build killed
    outright leaves the database as it was before the build.

    ``journal``: that transaction goes straight into the database file, under a rollback journal, instead of
    through the WAL (see _rollback_journal); the WAL is turned back on when it is committed."""

    def __init__(self, db, *, bulk: bool = False):
        self.db = db
        self.conn = db.conn
        self.bulk = bulk
        self.journal = False
        self.fts_saved: dict | None = None  # a first build's full-text settings to put back (see _fts_bulk)
        self.pending = 0  # interviews written since BEGIN
        self.batch = 0  # ... and since the full-text changes were last applied
        self.started = 0.0
        self.fts: list[tuple[str, str, list]] = []  # (FTS table, what, rows) to apply before COMMIT (see _fts)

    def write(self, fn, *args) -> None:
        if self.pending == 0:
            if self.bulk:
                self.conn.execute("PRAGMA temp_store = MEMORY")  # its savepoint journals (see above)
            self.conn.execute("BEGIN IMMEDIATE")
        if not self.started:
            self.started = time.monotonic()
        self.conn.execute("SAVEPOINT interview")
        queued = len(self.fts)
        self.db.fts_queue = self.fts
        try:
            fn(*args)
        except BaseException:
            del self.fts[queued:]
            self.conn.execute("ROLLBACK TO interview")
            self.conn.execute("RELEASE interview")
            if self.pending == 0:
                self.conn.execute("ROLLBACK")
            raise
        finally:
            self.db.fts_queue = None
        self.conn.execute("RELEASE interview")
        self.pending += 1
        self.batch += 1
        if self.batch >= BATCH_INTERVIEWS or time.monotonic() - self.started > BATCH_SECONDS:
            if self.bulk:
                self._apply_queued()
            else:
                self.commit()

    def _apply_queued(self) -> None:
        self.batch = 0
        self.started = 0.0
        try:
            if self.bulk and self.fts_saved is None:
                self.fts_saved = _fts_bulk(self.conn) or {}
            _apply_fts(self.conn, self.fts)
        except BaseException:
            self.conn.execute("ROLLBACK")  # the whole transaction, rows and index alike: nothing half-written
            self.pending = 0
            self.fts_saved = None  # rolled back with it
            self.conn.execute("PRAGMA temp_store = DEFAULT")
            raise
        finally:
            self.fts.clear()

    def commit(self) -> None:
        if self.pending:
            self._apply_queued()
            if self.fts_saved:  # back as they were, and no trace of the bulk settings in the tables
                _fts_bulk(self.conn, self.fts_saved)
            self.fts_saved = None
            if self.bulk:
                _fts_optimize(self.conn)
            self.pending = 0
            self.conn.execute("COMMIT")
            self.conn.execute("PRAGMA temp_store = DEFAULT")
        if self.journal:
            self.journal = False
            with contextlib.suppress(sqlite3.OperationalError):  # a reader holds it: the next open_db switches back
                self.conn.execute("PRAGMA journal_mode=WAL")


# A first build writes each full-text index with these FTS5 settings (fts5.html#fts5_configuration_options), put back
# before its COMMIT (see _fts_bulk):
# - hashsize: each index gathers 64 MB of terms in memory before it writes a segment (FTS5's default is 1 MB). A
#   batch's terms (a second of interviews, 2-3 MB) then become one segment instead of three or four: utterances_fts
#   3.0 -> 2.0 s CPU per 1,000 generated interviews. (Not in the documented list, but an option since 2015,
#   fts5_config.c.)
# - automerge 0, crisismerge at its maximum: no merging of segments while the rows stream in, since _fts_optimize
#   merges them all into one at the end anyway. With FTS5's defaults (4 and 16) every row's terms were merged again
#   at each level as the segments piled up: 1.5 million rows (10,000 generated interviews) took 26.9 s to index and
#   optimize, 18.8 s without (bench, load 3-7).
# Only the index's layout changes on the way: the same rows match, with the same rank, and it ends as one segment.
FTS_BULK_SETTINGS = {"hashsize": 64 << 20, "automerge": 0, "crisismerge": 1999}
FTS_DEFAULT_SETTINGS = {"hashsize": 1 << 20, "automerge": 4, "crisismerge": 16}
FTS_TABLES = ("utterances_fts", "quotes_fts")


def _fts_optimize(conn: sqlite3.Connection) -> None:
    """Merge each full-text index into one segment, at the end of a first build (inside its transaction).

    A search probes every segment of the index for every term and merges their doclists; the ten segments a first
    build of 10,000 interviews leaves made each search a third slower (median 21.5 -> 14.2 ms over bench/build_bench's
    200 queries) for 3.3 s of CPU once. Later builds add a few small segments that FTS5's automerge folds in."""
    for table in FTS_TABLES:
        conn.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")


def _fts_bulk(conn: sqlite3.Connection, saved: dict | None = None) -> dict | None:
    """Give this connection's full-text indexes FTS_BULK_SETTINGS, returning what their ``_config`` tables held for
    those keys (None: SQLite refused a setting, and the indexes keep their own); or, given that (``saved``), put it
    back, in memory and in the tables, so the database ends as without the bulk settings."""
    keys = tuple(FTS_BULK_SETTINGS)
    marks = ",".join("?" * len(keys))
    if saved is None:
        saved = {table: conn.execute(f"SELECT k, v FROM {table}_config WHERE k IN ({marks})", keys).fetchall() for table in FTS_TABLES}
        try:
            for table in FTS_TABLES:
                for key, value in FTS_BULK_SETTINGS.items():
                    conn.execute(f"INSERT INTO {table}({table}, rank) VALUES (?, ?)", [key, value])
        except sqlite3.OperationalError:
            _fts_bulk(conn, saved)
            return None
        return saved
    for table in FTS_TABLES:
        old = dict(saved.get(table, ()))
        for key, value in FTS_DEFAULT_SETTINGS.items():
            with contextlib.suppress(sqlite3.OperationalError):
                conn.execute(f"INSERT INTO {table}({table}, rank) VALUES (?, ?)", [key, old.get(key, value)])
        conn.execute(f"DELETE FROM {table}_config WHERE k IN ({marks})", keys)
        conn.executemany(f"INSERT INTO {table}_config(k, v) VALUES (?, ?)", saved.get(table, ()))
    return None


def _rollback_journal(conn: sqlite3.Connection) -> bool:
    """Switch a first build's database from WAL to a rollback journal, when no other program has it open.

    Through the WAL, the build's one transaction was written twice: into the WAL, then (at COMMIT) copied into the
    database by a checkpoint that waited for the disk at the end of the build (2.3 s CPU per 1,000 interviews). A
    rollback journal holds only the few pages the database had before, and a killed build is rolled back from it
    the next time the database is opened. Readers wait while the first build writes (they saw an empty base)."""
    conn.execute("PRAGMA busy_timeout = 0")  # another connection open: keep the WAL rather than wait for it
    try:
        return conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0] == "delete"
    except sqlite3.OperationalError:
        return False
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")


def _fts(db, table: str, rows: list, *, delete: bool = False, stored: bool = False) -> None:
    """Add rows (rowid, text, text_stem) to ``table``'s index, or remove them (``delete``): now, or inside a _Writer
    at the batch's COMMIT (see above). ``stored``: ``rows`` are only the rowids, in ascending order, of rows just
    written to the index's content table (``table`` without ``_fts``) and not changed again before the COMMIT; their
    text is read back from there."""
    queue = getattr(db, "fts_queue", None)
    item = (table, "stored" if stored else "delete" if delete else "add", rows)
    if queue is None:
        _apply_fts(db.conn, [item])
    else:
        queue.append(item)


def _apply_fts(conn, queued: list[tuple[str, str, list]]) -> None:
    """Removals first, then additions, each in rowid order: FTS5 flushes its in-memory segment whenever a rowid is
    lower than the one before, so a batch applied in order makes one segment instead of one per interview. (A row
    removed and added again in one batch, an unchanged turn of a rewritten interview, keeps its order.)

    Stored rows (a first build's) are added by one statement that reads them back by rowid: each row costs SQLite a
    look-up of a page it has just written, instead of this process a tuple made, kept, sorted and bound (0.4 s of the
    writer's CPU per 1,000 generated interviews)."""
    for table in dict.fromkeys(t for t, _, _ in queued):
        gone = sorted(r for t, k, rows in queued if t == table and k == "delete" for r in rows)
        new = sorted(r for t, k, rows in queued if t == table and k == "add" for r in rows)
        stored = sorted(i for t, k, ids in queued if t == table and k == "stored" for i in ids)
        if gone:
            conn.executemany(f"INSERT INTO {table}({table}, rowid, text, text_stem) VALUES ('delete', ?, ?, ?)", gone)
        if new:
            conn.executemany(f"INSERT INTO {table}(rowid, text, text_stem) VALUES (?, ?, ?)", new)
        if stored:  # CROSS JOIN: in the order of the (sorted) rowids given
            conn.execute(
                f"INSERT INTO {table}(rowid, text, text_stem) SELECT c.rowid, c.text, c.text_stem "
                f"FROM json_each(?) AS j CROSS JOIN {table.removesuffix('_fts')} AS c ON c.rowid = j.value",
                ["[" + ",".join(map(str, stored)) + "]"],
            )


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection):
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _sync_codebook(db, codebook: Codebook) -> None:
    with _transaction(db.conn):
        for table, entries, has_stage in (("segments", codebook.segments, False), ("pains", codebook.pains, True), ("hypotheses", codebook.hypotheses, False)):
            for e in entries.values():
                if has_stage:
                    db.execute(
                        "INSERT INTO pains(slug, title, description, stage) VALUES (?,?,?,?) "
                        "ON CONFLICT(slug) DO UPDATE SET title=excluded.title, description=excluded.description, stage=excluded.stage",
                        [e.slug, e.title, e.description, e.stage],
                    )
                elif table == "segments":
                    db.execute(
                        "INSERT INTO segments(slug, title, description, size, revenue) VALUES (?,?,?,?,?) "
                        "ON CONFLICT(slug) DO UPDATE SET title=excluded.title, description=excluded.description, "
                        "size=excluded.size, revenue=excluded.revenue",
                        [e.slug, e.title, e.description, e.size, e.revenue],
                    )
                else:
                    db.execute(
                        f"INSERT INTO {table}(slug, title, description) VALUES (?,?,?) "
                        "ON CONFLICT(slug) DO UPDATE SET title=excluded.title, description=excluded.description",
                        [e.slug, e.title, e.description],
                    )
        db.execute("INSERT INTO meta(key, value) VALUES ('codebook.currency', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [codebook.currency])
        db.execute("DELETE FROM stages")
        db.conn.executemany("INSERT INTO stages(slug, title, position) VALUES (?,?,?)",
                            [(e.slug, e.title, n) for n, e in enumerate(codebook.stages.values(), 1)])


def _prune_codebook(db, codebook: Codebook) -> None:
    """Drop codebook rows no longer in the codebook and no longer used by any stored interview."""
    with _transaction(db.conn):
        for table, entries, ref in (
            ("segments", codebook.segments, "SELECT segment FROM interview_segments"),
            ("pains", codebook.pains, "SELECT pain FROM quote_pains"),
            ("hypotheses", codebook.hypotheses, "SELECT hypothesis FROM quote_hypotheses"),
        ):
            keep = list(entries)
            marks = ",".join("?" * len(keep)) or "NULL"
            db.execute(f"DELETE FROM {table} WHERE slug NOT IN ({marks}) AND slug NOT IN ({ref})", keep)
        db.execute("DELETE FROM tags WHERE name NOT IN (SELECT tag FROM quote_tags)")
        db.execute("DELETE FROM respondents WHERE id NOT IN (SELECT respondent_id FROM interviews WHERE respondent_id IS NOT NULL)")


def _delete_interview(db, interview_id: str) -> None:
    quote_ids = "SELECT id FROM quotes WHERE interview_id = ?"
    for table in ("utterances", "quotes"):  # the FTS index has no triggers: remove the rows from it first
        old = db.conn.execute(f"SELECT id, text, text_stem FROM {table} WHERE interview_id = ? ORDER BY id", [interview_id]).fetchall()
        if old:
            _fts(db, f"{table}_fts", old, delete=True)
    db.execute(f"DELETE FROM quote_pains WHERE quote_id IN ({quote_ids})", [interview_id])
    db.execute(f"DELETE FROM quote_tags WHERE quote_id IN ({quote_ids})", [interview_id])
    db.execute(f"DELETE FROM quote_hypotheses WHERE quote_id IN ({quote_ids})", [interview_id])
    db.execute("DELETE FROM quotes WHERE interview_id = ?", [interview_id])
    db.execute("DELETE FROM utterances WHERE interview_id = ?", [interview_id])
    db.execute("DELETE FROM interview_segments WHERE interview_id = ?", [interview_id])
    db.execute("DELETE FROM interview_stage_scores WHERE interview_id = ?", [interview_id])
    db.execute("DELETE FROM interviews WHERE id = ?", [interview_id])


def _old_rows(conn, interview_ids: set[str]) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(id, text) of the turns and quotes stored for these interviews, in file order."""
    marks = ",".join("?" * len(interview_ids))
    ids = sorted(interview_ids)
    turns = conn.execute(f"SELECT id, text FROM utterances WHERE interview_id IN ({marks}) ORDER BY interview_id, seq", ids).fetchall()
    quotes = conn.execute(f"SELECT id, text FROM quotes WHERE interview_id IN ({marks}) ORDER BY interview_id, seq, id", ids).fetchall()
    return turns, quotes


def _free_ids(conn, table: str, ids: list[int], ranges: set[int] | None = None) -> list[int]:
    """``ids`` with any id another interview already holds moved to the next free one (a 1 in 2^52 event).

    ``ranges``: the table held no row when this build began, and these are the id ranges (the interview's high
    bits, custdev.links) of every id the build has written to it since. Ids outside them cannot be taken, so they
    are not looked up (a first build then reads nothing back)."""
    if ranges is not None:
        mine = {i >> links.TEXT_BITS for i in ids}
        if mine.isdisjoint(ranges) and len(set(ids)) == len(ids):
            ranges |= mine
            return ids
    out = _free_ids_looked_up(conn, table, ids)
    if ranges is not None:
        ranges.update(i >> links.TEXT_BITS for i in out)
    return out


def _free_ids_looked_up(conn, table: str, ids: list[int]) -> list[int]:
    taken = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        taken.update(r[0] for r in conn.execute(f"SELECT id FROM {table} WHERE id IN ({','.join('?' * len(chunk))})", chunk))
    if not taken and len(set(ids)) == len(ids):
        return ids
    out, used = [], set()
    checked = set(ids)  # every one of these was looked up above (the taken ones are in `taken`)
    for i in ids:
        while i in taken or i in used or (i not in checked and conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", [i]).fetchone()):
            i += 1
        used.add(i)
        out.append(i)
    return out


def _link_ids(conn, iv: Interview, p: Prepared, old_turns, old_quotes, fresh: bool = False,
              ranges: dict[str, set[int]] | None = None) -> tuple[list[int], list[int]]:
    """Permanent ids for the interview's turns and quotes (custdev.links); vanished old ids go to link_aliases."""
    turn_ids = p.turn_ids or links.derived_ids(iv.id, "turn", [u[5] for u in p.utterances])
    quote_ids = p.quote_ids or links.derived_ids(iv.id, "quote", [q[3] for q in p.quotes])
    lost: list[tuple[str, int, str]] = []
    if old_turns or old_quotes:
        turn_ids, gone_turns = links.keep_old_ids(list(zip(turn_ids, (u[5] for u in p.utterances))), old_turns)
        quote_ids, gone_quotes = links.keep_old_ids(list(zip(quote_ids, (q[3] for q in p.quotes))), old_quotes)
        lost = [("turn", i, t) for i, t in gone_turns] + [("quote", i, t) for i, t in gone_quotes]
    ranges = ranges or {}
    turn_ids = _free_ids(conn, "utterances", turn_ids, ranges.get("utterances"))
    quote_ids = _free_ids(conn, "quotes", quote_ids, ranges.get("quotes"))
    conn.executemany(
        "INSERT INTO link_aliases(kind, id, interview_id, target_id, text) VALUES (?,?,?,NULL,?) "
        "ON CONFLICT(kind, id) DO UPDATE SET interview_id = excluded.interview_id, target_id = NULL, text = excluded.text",
        [(kind, i, iv.id, text[:200]) for kind, i, text in lost],
    )
    for kind, ids in (("turn", turn_ids), ("quote", quote_ids)) if not fresh else ():
        for start in range(0, len(ids), 500):  # an id in use again (a text restored) is no longer an alias
            chunk = ids[start:start + 500]
            conn.execute(f"DELETE FROM link_aliases WHERE kind = ? AND id IN ({','.join('?' * len(chunk))})", [kind, *chunk])
    return turn_ids, quote_ids


def _write(db, p: Prepared, old_id: str | None) -> None:
    """Replace one interview's rows (runs inside the savepoint _Writer opens). A ``fresh`` interview has nothing to
    replace and no old links to keep, so none of that is looked up (the whole of a first build)."""
    fresh = p.fresh
    iv = p.interview
    assert iv is not None
    conn = db.conn
    old_turns, old_quotes = [], []
    if not fresh:
        old_turns, old_quotes = _old_rows(conn, {x for x in (old_id, iv.id) if x is not None})
        if old_id is not None:
            _delete_interview(db, old_id)
        if old_id != iv.id:
            _delete_interview(db, iv.id)
    respondent_id = None
    if iv.respondent:
        respondent_id = slugify(f"{iv.respondent} {iv.company or ''}")
        conn.execute(
            "INSERT INTO respondents(id, name, company, role) VALUES (?,?,?,?) "
            "ON CONFLICT(id) DO UPDATE SET name=excluded.name, company=excluded.company, role=coalesce(excluded.role, respondents.role)",
            [respondent_id, iv.respondent, iv.company, iv.role],
        )
    rows = p.utterance_rows  # from a parse worker: ready to insert while the ids stay the derived ones
    if rows is not None and not fresh:  # old ids are paired by text in file order (_link_ids)
        p.utterances, p.utterance_rows, rows = _file_order(rows), None, None
    utts = p.utterances
    duration = None
    if rows:
        duration = max((r[6] or r[5] or 0) for r in rows) or None
    elif utts:
        duration = max((u[4] or u[3] or 0) for u in utts) or None
    conn.execute(
        "INSERT INTO interviews(id, title, date, interviewer, respondent_id, company, role, nps, language, audio, path, content_hash, turn_count, quote_count, duration_s, body, consent, retain_audio_until) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [iv.id, iv.title, iv.date, iv.interviewer, respondent_id, iv.company, iv.role, iv.nps, iv.language, iv.audio,
         p.rel, p.content_hash, len(rows) if rows is not None else len(utts), len(p.quotes), duration, iv.extra.get("_body"), iv.extra.get("consent"), iv.extra.get("retain_audio_until")],
    )
    if iv.extra.get("date_source"):  # the date is only the file's time: the site and saturation can flag it
        conn.execute("UPDATE interviews SET date_source = ? WHERE id = ?", [str(iv.extra["date_source"]), iv.id])
    conn.executemany("INSERT INTO interview_segments(interview_id, segment) VALUES (?, ?)", [(iv.id, s) for s in iv.segments])
    conn.executemany("INSERT INTO interview_stage_scores(interview_id, stage, score) VALUES (?, ?, ?)", list((iv.id, s, v) for s, v in iv.nps_by_stage.items()))
    turn_ids, quote_ids = _link_ids(conn, iv, p, old_turns, old_quotes, fresh, getattr(db, "id_ranges", None))
    # Rows go in in id order, and so does the full-text index: FTS5 flushes its in-memory segment whenever a rowid
    # is lower than the one before, so the (hash-derived, unordered) ids in file order made one tiny segment per row
    # or two, and merging them cost more than the rest of the write (3x slower for a 400k-turn interview).
    if rows is not None and (turn_ids is p.turn_ids or turn_ids == p.turn_ids):
        utt_rows = rows
        seq_to_id = {r[2]: r[0] for r in rows}
    else:
        if rows is not None:  # an id moved (_free_ids): pair them with the rows in file order as below
            p.utterances = utts = _file_order(rows)
            p.utterance_rows = None
        utt_rows = sorted((turn_ids[n], iv.id, *u) for n, u in enumerate(utts))
        seq_to_id = {u[0]: turn_ids[n] for n, u in enumerate(utts)}
    conn.executemany(
        "INSERT INTO utterances(id, interview_id, seq, speaker, speaker_role, start_s, end_s, text, text_stem, line, language, confidence, unsure) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        utt_rows,
    )
    quote_rows = sorted((quote_ids[n], iv.id, seq_to_id[q[0]], *q[1:6], *q[9:11], n + 1) for n, q in enumerate(p.quotes))
    conn.executemany(
        "INSERT INTO quotes(id, interview_id, utterance_id, start_s, end_s, text, text_stem, line, confidence, unsure, seq) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        quote_rows,
    )
    tags = {t for q in p.quotes for t in q[7]}
    conn.executemany("INSERT OR IGNORE INTO tags(name) VALUES (?)", [(t,) for t in sorted(tags)])
    conn.executemany("INSERT INTO quote_pains(quote_id, pain) VALUES (?, ?)", [(quote_ids[n], x) for n, q in enumerate(p.quotes) for x in q[6]])
    conn.executemany("INSERT INTO quote_tags(quote_id, tag) VALUES (?, ?)", [(quote_ids[n], x) for n, q in enumerate(p.quotes) for x in q[7]])
    conn.executemany(
        "INSERT INTO quote_hypotheses(quote_id, hypothesis, stance) VALUES (?, ?, ?)",
        [(quote_ids[n], h, st) for n, q in enumerate(p.quotes) for h, st in q[8]],
    )
    if p.stamp is not None:  # in the interview's savepoint: a stamp counts only while its interview is stored
        conn.execute("INSERT OR REPLACE INTO file_stamps(path, stamp, content_hash) VALUES (?,?,?)", [p.rel, p.stamp, p.content_hash])
    if fresh:  # no row of this interview is changed again in this build (see _fts)
        _fts(db, "utterances_fts", [r[0] for r in utt_rows], stored=True)
        _fts(db, "quotes_fts", [r[0] for r in quote_rows], stored=True)
    else:
        _fts(db, "utterances_fts", [(r[0], r[7], r[8]) for r in utt_rows])
        _fts(db, "quotes_fts", [(r[0], r[5], r[6]) for r in quote_rows])


def build_base(base: Base | str | Path | None = None, *, full: bool = False, progress: Progress | None = None, workers: int | None = None) -> BuildResult:
    """Build (or bring up to date) the base's database. Returns counts and one message per bad file."""
    if not isinstance(base, Base):
        base = load_base(base)
    _check_buildable(base)
    result = BuildResult()
    db = _open_for_build(base, full)
    db.conn.isolation_level = None  # transactions are explicit below
    # 64 MB of page cache (default 2 MB): a big interview's rows and index pages stay in memory until commit instead
    # of spilling to the WAL mid-transaction (a 400k-turn file writes 30 % faster).
    db.conn.execute(f"PRAGMA cache_size = -{BUILD_CACHE_KB}")
    writer = _Writer(db)
    try:
        codebook_hash = hashlib.sha256(base.codebook_path.read_bytes()).hexdigest() if base.codebook_path.exists() else ""
        _sync_codebook(db, base.codebook)
        with _transaction(db.conn):  # the views read the analysis settings from meta: never their SQL fallbacks
            for key, value in base.config.analysis_settings().items():
                if get_meta(db, key) != value:
                    set_meta(db, key, value)
        if full or get_meta(db, "codebook_hash") != codebook_hash:
            # Every file must be re-checked; forgetting the hashes (with the new codebook's, atomically) means an
            # interrupted re-check resumes where it stopped.
            with _transaction(db.conn):
                db.execute("UPDATE interviews SET content_hash = ''")
                set_meta(db, "codebook_hash", codebook_hash)

        stored = {row[0]: (row[1], row[2]) for row in db.execute("SELECT path, id, content_hash FROM interviews")}
        files = interview_files(base)
        present = {f.relative_to(base.root).as_posix() for f in files}

        # Files gone from disk: their interviews go too.
        for rel, (iid, _) in list(stored.items()):
            if rel not in present:
                with _transaction(db.conn):
                    _delete_interview(db, iid)
                result.removed += 1
                del stored[rel]

        jobs: list[tuple[Path, str]] = []
        known_stamps = {path: (stamp, h) for path, stamp, h in db.execute("SELECT path, stamp, content_hash FROM file_stamps")}
        new_stamps: list[tuple[str, str, str]] = []
        settled = time.time() - STAMP_SETTLE_S
        # A file with nothing stored for its path is parsed whatever its hash: the parse hashes it, from the bytes it
        # reads (a parse worker), instead of this process reading every file first while the workers wait (10,000
        # files: about 0.8 s). Its stamp is stored with its interview (_write).
        later_stamps: dict[str, str] = {}
        for f in files:
            rel = f.relative_to(base.root).as_posix()
            try:
                stamp, changed_at = file_stamp(f)
                if rel in stored and stored[rel][1] and known_stamps.get(rel) == (stamp, stored[rel][1]):
                    result.skipped += 1  # same size, times and inode as when it was hashed: not read again
                    continue
                h = file_hash(f) if rel in stored else None
            except OSError as exc:
                result.failed += 1
                result.errors.append(Message(N_("{path}: cannot read ({error})"), path=rel, error=os_reason(exc)))
                continue
            if h is None:
                if changed_at < settled:
                    later_stamps[rel] = stamp
                jobs.append((f, h))
                continue
            if changed_at < settled:
                new_stamps.append((rel, stamp, h))
            if rel in stored and stored[rel][1] == h:
                result.skipped += 1
                continue
            jobs.append((f, h))
        gone_stamps = [(path,) for path in known_stamps if path not in present]
        if new_stamps or gone_stamps:
            with _transaction(db.conn):  # a stamp counts only while the interview stored for it has its content hash
                db.conn.executemany("INSERT OR REPLACE INTO file_stamps(path, stamp, content_hash) VALUES (?,?,?)", new_stamps)
                db.conn.executemany("DELETE FROM file_stamps WHERE path = ?", gone_stamps)
        if jobs:
            _load_lemmas(db, forget=result.removed > 0)
        fresh_ok = not db.execute("SELECT EXISTS (SELECT 1 FROM link_aliases)").fetchone()[0]
        writer.bulk = fresh_ok and not stored  # a first build: one transaction (see _Writer)
        writer.journal = writer.bulk and bool(jobs) and _rollback_journal(db.conn)
        db.id_ranges = None
        if writer.bulk and not db.execute("SELECT EXISTS (SELECT 1 FROM utterances) OR EXISTS (SELECT 1 FROM quotes)").fetchone()[0]:
            db.id_ranges = {"utterances": set(), "quotes": set()}  # see _free_ids

        total = len(jobs)
        id_owner = {iid: rel for rel, (iid, _) in stored.items()}
        n_workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
        # No cyclic GC while the rows stream in (parse and write make no cycles): each collection walked every row
        # object alive, the workers' unpickled results included.
        with paused_gc():
            for done, p in enumerate(_prepare_many(base.root, jobs, base.codebook, n_workers, parallel=len(jobs) >= PARALLEL_THRESHOLD), 1):
                if p.error is None:
                    assert p.interview is not None
                    owner = id_owner.get(p.interview.id)
                    if owner is not None and owner != p.rel and owner in present:
                        p.error = Message(N_("{path}: duplicate interview id '{id}' (already used by {owner}); give each interview its own id"),
                                          path=p.rel, id=p.interview.id, owner=owner)
                if p.error is not None:
                    result.failed += 1
                    result.errors.append(p.error)
                else:
                    old = stored.get(p.rel)
                    if p.lemmas:
                        search.add_lemmas(p.lemmas)
                    p.fresh = fresh_ok and old is None and p.interview.id not in id_owner
                    p.stamp = later_stamps.get(p.rel)
                    try:
                        writer.write(_write, db, p, old[0] if old else None)
                    except sqlite3.IntegrityError as exc:
                        result.failed += 1
                        result.errors.append(Message(N_("{path}: cannot store the interview ({error})"), path=p.rel, error=exc))
                    else:
                        if old and old[0] in id_owner and id_owner[old[0]] == p.rel:
                            del id_owner[old[0]]
                        id_owner[p.interview.id] = p.rel
                        stored[p.rel] = (p.interview.id, p.content_hash)
                        result.built += 1
                if progress:
                    progress(done, total, p.rel)

        writer.commit()
        from custdev.channels.store import build_channels

        build_channels(db, base, result, full=full, workers=workers)
        _store_lemmas(db)
        _prune_codebook(db, base.codebook)
        with _transaction(db.conn):  # the analysis views (CLI and Datasette alike) read their thresholds from here
            for key, value in base.config.analysis_settings().items():
                set_meta(db, key, value)
        result.total = db.execute("SELECT count(*) FROM interviews").fetchone()[0]
        result.responses = db.execute("SELECT count(*) FROM responses").fetchone()[0]
        _embed(db, base, result, progress)
    finally:
        writer.commit()  # keep what was completely written before an interruption: the next build resumes there
        db.close()
    return result


def _load_lemmas(db, *, forget: bool) -> None:
    """Give this process (and the build workers it forks) the lemmas the base has stored (custdev.search).

    ``forget``: interviews were removed (a withdrawn respondent's files, for instance): their words go from the
    cache too, so it is emptied and refilled from the files read from now on."""
    search.take_new_lemmas()  # words this process analysed before (queries, say) are not the base's to store
    key = search.lemma_cache_key()
    with _transaction(db.conn):
        if forget or get_meta(db, "lemmas.key") != key:
            db.execute("DELETE FROM lemmas")
            set_meta(db, "lemmas.key", key)
    if not forget:
        search.load_lemmas(db.execute("SELECT word, forms FROM lemmas"))


def _store_lemmas(db) -> None:
    new = search.take_new_lemmas()
    if new:
        with _transaction(db.conn):
            db.conn.executemany("INSERT OR IGNORE INTO lemmas(word, forms) VALUES (?, ?)", [(w, " ".join(f)) for w, f in new.items()])


def _embed(db, base: Base, result: BuildResult, progress: Progress | None) -> None:
    """Sentence embeddings of the changed interviews (custdev.meaning), when the [meaning] setting allows."""
    from custdev.meaning import store

    turns = None
    if result.total <= base.config.embeddings_auto_max:  # a base of a few huge files: count what would be embedded
        turns = db.execute("SELECT count(*) FROM utterances WHERE speaker_role = 'respondent'").fetchone()[0]
    on, why = store.enabled(base.config, result.total, turns)
    result.embeddings = why
    if not on:
        return
    try:
        done = store.embed_base(db, progress=progress)
    except CustdevError as exc:  # the model is missing or damaged: the base still builds
        if store.setting(base.config) == "on":
            raise
        result.warnings.append(Message(N_("no sentence embeddings: {error}"), error=exc))
        result.embeddings = str(exc)
        return
    result.embedded = done.texts
    result.embed_s = round(done.seconds, 3)


def _check_buildable(base: Base) -> None:
    """Refuse to build where a build would only remove data: a published copy, or a base that lost interviews/."""
    if base.is_published_copy:
        raise CustdevError(
            N_("{root} is a published copy (custdev publish): it has no interview files, and building would empty its "
               "database; build in the original research base and publish again"), root=base.root,
        )
    if not base.interviews_dir.is_dir() and base.db_path.exists():
        try:
            conn = sqlite3.connect(f"file:{base.db_path}?mode=ro", uri=True)
            try:
                stored = conn.execute("SELECT count(*) FROM interviews").fetchone()[0]
            finally:
                conn.close()
        except sqlite3.DatabaseError:
            stored = 0
        if stored:
            raise CustdevError(
                N_("{root} has no {folder}/ folder but its database holds {n} interviews; building would remove them all "
                   "(restore the folder, or create it empty to really start over)"), root=base.root, folder=base.interviews_dir.name, n=stored,
            )


def _open_for_build(base: Base, full: bool):
    try:
        return open_db(base.db_path)
    except CustdevError:
        if not full:
            raise
        # A damaged database is only derived data: with --full, set it aside and start again.
        broken = base.db_path.with_name(base.db_path.name + ".broken")
        os.replace(base.db_path, broken)
        for suffix in ("-wal", "-shm"):
            extra = base.db_path.with_name(base.db_path.name + suffix)
            if extra.exists():
                extra.unlink()
        return open_db(base.db_path)
