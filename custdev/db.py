"""Opening a base's SQLite database: WAL mode, foreign keys, migrations applied on open."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database

from custdev.errors import CustdevError
from custdev.migrations import migrations


def open_db(path: Path | str, *, migrate: bool = True) -> Database:
    """Open (creating if needed) the research database at ``path`` and apply pending migrations."""
    try:
        conn = sqlite3.connect(str(path), timeout=30)
        db = Database(conn)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA synchronous=NORMAL")
        if migrate:
            migrations.apply(db)
    except sqlite3.DatabaseError as exc:
        raise CustdevError(f"{path}: cannot open the database ({exc}); run 'custdev build --full' to rebuild it") from None
    return db


def get_meta(db: Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_meta(db: Database, key: str, value: str) -> None:
    db.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value])
