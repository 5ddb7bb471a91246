"""``custdev build`` for channels: ``channels/**/*.md`` (+ ``.responses.json``) -> the ``responses`` tables.

Incremental like interviews: a part whose bytes (and sidecar) are unchanged is skipped, a changed one replaces its
rows in one transaction, a deleted one's rows go, and a bad one is reported and keeps its last good rows. Parts are
parsed with the interview parser and checked against the same codebook, so a response is coded like an interview.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from custdev.channels.ingest import CHANNELS_DIR, SIDECAR
from custdev.errors import Message, ParseError, os_reason
from custdev.i18n import N_
from custdev.markdown import parse_interview
from custdev.search import stem_text


def channel_files(root: Path) -> list[Path]:
    folder = root / CHANNELS_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*.md") if p.is_file() and not any(x.startswith(".") for x in p.relative_to(folder).parts))


def _hash(md: Path) -> str:
    h = hashlib.sha256(md.read_bytes())
    side = md.with_name(md.stem + SIDECAR)
    if side.exists():
        h.update(b"\0sidecar\0")
        h.update(side.read_bytes())
    return h.hexdigest()


def _rows(root: Path, md: Path, codebook):
    rel = md.relative_to(root).as_posix()
    try:
        text = md.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ParseError(rel, None, N_("the file is not UTF-8 text; re-save it as UTF-8")) from None
    iv = parse_interview(text, rel, codebook)
    channel = str(iv.extra.get("channel") or md.relative_to(root / CHANNELS_DIR).parts[0])
    if channel not in ("survey", "ticket", "chat"):
        raise ParseError(rel, 2, N_("front matter 'channel' must be survey, ticket or chat, not {value!r}"), value=channel)
    side = md.with_name(md.stem + SIDECAR)
    metas: list[dict] = []
    if side.exists():
        try:
            metas = json.loads(side.read_text(encoding="utf-8")).get("turns", [])
        except (ValueError, UnicodeDecodeError, AttributeError):
            raise ParseError(rel, None, N_("{name} is not valid JSON; re-import the export to rebuild it"), name=side.name) from None
    if metas and len(metas) != len(iv.turns):
        raise ParseError(rel, None, N_("{turns} turns but {entries} entries in {name}: a response was added or removed by hand; "
                                       "edit only the text and codes, or re-import"), turns=len(iv.turns), entries=len(metas), name=side.name)
    rows = []
    for seq, turn in enumerate(iv.turns, 1):
        meta = metas[seq - 1] if metas else {}
        role = meta.get("role") or "respondent"
        codes = set()
        for q in turn.quotes:
            codes |= {("pain", p, "") for p in q.pains} | {("tag", t, "") for t in q.tags} | {("hypothesis", h, st) for h, st in q.hypotheses}
        nps = meta.get("nps")
        rows.append((channel, str(meta.get("item") or f"{rel}:{seq}"), seq, meta.get("row"), turn.speaker, role, meta.get("date"),
                     meta.get("respondent"), meta.get("segment"), nps if isinstance(nps, int) and 0 <= nps <= 10 else None,
                     turn.text, stem_text(turn.text), turn.line, sorted(codes)))
    return channel, str(iv.extra.get("import") or md.parent.name), rows


def _delete(conn, rel: str) -> None:
    conn.execute("INSERT INTO responses_fts(responses_fts, rowid, text, text_stem) SELECT 'delete', id, text, text_stem FROM responses WHERE path = ?", [rel])
    conn.execute("DELETE FROM response_codes WHERE response_id IN (SELECT id FROM responses WHERE path = ?)", [rel])
    conn.execute("DELETE FROM responses WHERE path = ?", [rel])
    conn.execute("DELETE FROM channel_files WHERE path = ?", [rel])


def _prepare(args):
    """Parse one part (runs in worker processes for big builds): (rel, hash, channel, import, rows) or (rel, error)."""
    root, md, h, codebook = args
    rel = md.relative_to(root).as_posix()
    try:
        return (rel, h, *_rows(root, md, codebook))
    except ParseError as exc:
        return (rel, exc.as_message())


def _prepared(jobs: list, workers: int):
    if len(jobs) < 4 or workers < 2:
        yield from map(_prepare, jobs)
        return
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(_prepare, jobs)


def build_channels(db, base, result, *, full: bool = False, workers: int | None = None) -> None:
    """Bring the responses tables up to date; counts and errors go into the interview build's ``result``."""
    import os

    conn = db.conn
    root = base.root
    stored = {row[0]: row[1] for row in conn.execute("SELECT path, content_hash FROM channel_files")}
    files = channel_files(root)
    present = {f.relative_to(root).as_posix() for f in files}
    for rel in stored:
        if rel not in present:
            conn.execute("BEGIN IMMEDIATE")
            _delete(conn, rel)
            conn.execute("COMMIT")
    jobs = []
    for md in files:
        rel = md.relative_to(root).as_posix()
        try:
            h = _hash(md)
        except OSError as exc:
            result.failed += 1
            result.errors.append(Message(N_("{path}: cannot read ({error})"), path=rel, error=os_reason(exc)))
            continue
        if full or stored.get(rel) != h:
            jobs.append((root, md, h, base.codebook))
    n_workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
    for prepared in _prepared(jobs, n_workers):
        if len(prepared) == 2:
            result.failed += 1
            result.errors.append(prepared[1])
            continue
        rel, h, channel, import_name, rows = prepared
        conn.execute("BEGIN IMMEDIATE")
        try:
            _delete(conn, rel)
            first = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM responses").fetchone()[0]
            conn.execute("INSERT INTO channel_files(path, channel, import, content_hash, items, responses) VALUES (?,?,?,?,?,?)",
                         [rel, channel, import_name, h, len({r[1] for r in rows}), len(rows)])
            conn.executemany(
                "INSERT INTO responses(id, path, channel, item, seq, row, speaker, speaker_role, date, respondent, segment, nps, text, text_stem, line) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [(first + n, rel, *r[:13]) for n, r in enumerate(rows)],
            )
            conn.executemany("INSERT INTO response_codes(response_id, kind, code, stance) VALUES (?,?,?,?)",
                             [(first + n, *c) for n, r in enumerate(rows) for c in r[13]])
            conn.execute("INSERT INTO responses_fts(rowid, text, text_stem) SELECT id, text, text_stem FROM responses WHERE path = ?", [rel])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
