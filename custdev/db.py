"""Opening a base's SQLite database: WAL mode, foreign keys, migrations applied on open."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlite_utils import Database

from custdev.errors import CustdevError, Message
from custdev.i18n import N_
from custdev.migrations import migrations


# Reads go through a memory map of the file (SQLite clamps this to its own limit, 2 GB by default): search probes
# thousands of rows at random places of a big base, and mapped pages cost no read() call and no copy each.
MMAP_BYTES = 2**31

BUSY_TIMEOUT_S = 30.0  # how long a command waits for another program's write to finish before saying it is locked


def open_db(path: Path | str, *, migrate: bool = True) -> Database:
    """Open (creating if needed) the research database at ``path`` and apply pending migrations.

    A database that cannot be written (a read-only folder, a published copy on a read-only share) is opened read
    only, when it needs no migration; commands that only read then work as usual.
    """
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S)
        db = Database(conn)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
        if migrate:
            migrations.apply(db)
    except sqlite3.OperationalError as exc:
        if is_locked(exc):
            raise CustdevError(N_("{path}: {error}"), path=path, error=Message(LOCKED_MESSAGE)) from None
        if Path(path).is_file() and not writable(Path(path)):
            return open_readonly(path)
        raise CustdevError(N_("{path}: cannot open the database ({error}); run 'custdev build --full' to rebuild it"), path=path, error=exc) from None
    except sqlite3.DatabaseError as exc:
        raise CustdevError(N_("{path}: cannot open the database ({error}); run 'custdev build --full' to rebuild it"), path=path,
                           error=_SQLITE_DAMAGE.get(str(exc), exc)) from None
    return db


# SQLite's words for a custdev.db that is not one, in the user's language (other errors are shown as SQLite says them).
_SQLITE_DAMAGE = {"file is not a database": Message(N_("not an SQLite database file")),
                  "database disk image is malformed": Message(N_("the database file is damaged"))}


LOCKED_MESSAGE = N_("the database is locked by another program (a running custdev build, import or publish?); try again when it is done")


def is_locked(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc).lower()


def is_readonly(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "readonly" in str(exc).lower().replace("read-only", "readonly")


def writable(path: Path) -> bool:
    """Can this process write the database file and create its journal next to it?"""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def open_built(base) -> Database:
    """The database of a base (a :class:`custdev.config.Base`) that was built; one clear error if it never was."""
    if not base.db_path.exists():
        raise CustdevError(N_("{root} has no {name} yet; run 'custdev build' first"), root=base.root, name=base.db_path.name)
    return open_db(base.db_path)


def open_readonly(path: Path | str) -> Database:
    """Open a database nobody can write here (its folder is read only) for reading: no journal, no migrations."""
    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?immutable=1", uri=True)
        conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
        db = Database(conn)
        pending = migrations.pending(db)
    except sqlite3.DatabaseError as exc:
        raise CustdevError(N_("{path}: cannot read the database ({error})"), path=path, error=exc) from None
    if pending:
        raise CustdevError(
            N_("{path}: the database is read only here and was built by an older custdev; copy the base to a writable folder and run 'custdev build'"), path=path
        )
    return db


def get_meta(db: Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_meta(db: Database, key: str, value: str) -> None:
    db.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value])
