"""Named schema migrations, applied in order whenever a base's database is opened.

Each step is a function named ``mNNN_what``; never edit a step that has shipped, add a new one.
SQL lives in ``schema/`` so the schema can be read without reading Python.
"""

from __future__ import annotations

from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("custdev")


def schema_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "schema", here.parent / "schema"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("custdev schema/ directory is missing from the installation")


def run_sql_file(db: Database, name: str) -> None:
    sql = (schema_dir() / name).read_text(encoding="utf-8")
    for statement in _split_sql(sql):
        db.execute(statement)


def _split_sql(sql: str) -> list[str]:
    """Split a schema file on ';' at line ends (our SQL files keep one statement per ';'-terminated block)."""
    import sqlite3

    statements, current = [], []
    for line in sql.splitlines():
        if line.strip().startswith("--") and not current:
            continue
        current.append(line)
        chunk = "\n".join(current)
        if sqlite3.complete_statement(chunk):
            if chunk.strip():
                statements.append(chunk.strip())
            current = []
    return statements


@migrations()
def m001_initial(db: Database) -> None:
    run_sql_file(db, "001_initial.sql")


@migrations()
def m002_fts(db: Database) -> None:
    # Search runs on text_stem (stemmed, ё→е); text is indexed too so exact-form phrase search works.
    # No triggers: custdev.build keeps the index in step inside each interview's transaction, which builds
    # twice as fast as row triggers (measured: 2.9 vs 6.1 ms per 150-turn interview).
    for table in ("utterances", "quotes"):
        db[table].enable_fts(["text", "text_stem"], fts_version="FTS5", create_triggers=False, tokenize="unicode61")


@migrations()
def m003_analysis_views(db: Database) -> None:
    # pain_prevalence, pain_by_segment, nps_by_segment, saturation, hypothesis_evidence (custdev/analysis.py).
    run_sql_file(db, "003_analysis_views.sql")


@migrations()
def m900_evidence_views(db: Database) -> None:
    # Three-outcome verdicts from the intervals, hypotheses by interval, pain_richness (Chao1, Good–Turing),
    # pain_cooccurrence. Drops and recreates pain_prevalence, pain_by_segment and hypothesis_evidence.
    run_sql_file(db, "900_evidence_views.sql")


@migrations()
def m901_journey_money(db: Database) -> None:
    # stages, interview_stage_scores, segments.size/revenue; views stage_scores, journey, pain_money, pain_money_total.
    run_sql_file(db, "901_journey_money.sql")


@migrations()
def m1000_channels(db: Database) -> None:
    # Survey, ticket and chat responses (custdev/channels/), in tables of their own with a channel column, so
    # interview analysis is never diluted by them; searchable like utterances (same stemmed shadow).
    run_sql_file(db, "1000_channels.sql")
    db["responses"].enable_fts(["text", "text_stem"], fts_version="FTS5", create_triggers=False, tokenize="unicode61")


@migrations()
def m902_evidence_views_faster(db: Database) -> None:
    # journey, pain_money, pain_money_total recreated with materialized inputs (same columns and numbers).
    run_sql_file(db, "902_evidence_views_faster.sql")


@migrations()
def m1100_embeddings(db: Database) -> None:
    # Sentence embeddings for meaning search, suggestions and clusters (custdev/meaning/).
    run_sql_file(db, "1100_embeddings.sql")


@migrations()
def m1400_transcript_trust(db: Database) -> None:
    # utterances/quotes.confidence and .unsure from {?…?} / [inaudible] marks; utterances.language for "[de]" turns.
    run_sql_file(db, "1400_transcript_trust.sql")


@migrations()
def m800_consent(db: Database) -> None:
    # interviews.consent and interviews.retain_audio_until (custdev/consent.py; `publish` and `purge` read them).
    run_sql_file(db, "800_consent.sql")


@migrations()
def m1300_permanent_links(db: Database) -> None:
    # quotes.seq, link_aliases; every interview is rewritten by the next build (custdev/links.py).
    run_sql_file(db, "1300_permanent_links.sql")


@migrations()
def m1301_lemma_search(db: Database) -> None:
    # The search shadow (text_stem) now holds dictionary forms (pymorphy3) and normalised look-alike letters
    # (custdev/search.py): recompute it for every stored row and rebuild both full-text indexes.
    from custdev.search import stem_text

    for table in ("utterances", "quotes", "responses"):
        if not db[table].exists():
            continue
        rows = db.execute(f"SELECT rowid, text FROM {table}").fetchall()
        db.conn.executemany(f"UPDATE {table} SET text_stem = ? WHERE rowid = ?", [(stem_text(t or ""), i) for i, t in rows])
        if db[f"{table}_fts"].exists():
            db.execute(f"INSERT INTO {table}_fts({table}_fts) VALUES ('rebuild')")


@migrations()
def m1302_build_cache(db: Database) -> None:
    # lemmas (each distinct word's dictionary forms) and file_stamps (size and mtime of each hashed file): caches
    # that keep `custdev build` fast (custdev/build.py).
    run_sql_file(db, "1302_build_cache.sql")


@migrations()
def m1303_fts_index_forms(db: Database) -> None:
    # utterances_fts and quotes_fts index text_stem only (every search matches that column); text is UNINDEXED.
    run_sql_file(db, "1303_fts_index_forms.sql")
