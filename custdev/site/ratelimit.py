"""Wrong-password counts per client, shared by every server process of a site.

``custdev serve --workers N`` runs N processes on one socket; counting failures in each process's memory gave a
client N times the attempts. The counts live in a small SQLite file in the base's git-ignored ``.custdev/``
(``login_failures.sqlite``), which all the processes open. Checking and counting an attempt is one write
transaction, so concurrent guesses, in one process or in several, cannot slip past the limit. Where the base
cannot be written (a read-only share), each process counts in memory, as before.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections import deque
from pathlib import Path

FILE = "login_failures.sqlite"
MAX_CLIENTS = 10_000  # past this many clients with recent failures the counts start again (a flood of addresses)


class MemoryFailures:
    """Failures per client in this process only."""

    def __init__(self, limit: int, window_s: float):
        self.limit, self.window_s = limit, window_s
        self.failures: dict[str, deque] = {}

    def _recent(self, client: str, now: float) -> deque | None:
        q = self.failures.get(client)
        while q and now - q[0] > self.window_s:
            q.popleft()
        if q is not None and not q:
            del self.failures[client]
            return None
        return q

    def _wait(self, q: deque | None, now: float) -> float:
        if q and len(q) >= self.limit:
            return max(1.0, self.window_s - (now - q[0]))
        return 0.0

    def limited(self, client: str) -> float:
        now = time.time()
        return self._wait(self._recent(client, now), now)

    def attempt(self, client: str) -> float:
        now = time.time()
        wait = self._wait(self._recent(client, now), now)
        if wait:
            return wait
        if len(self.failures) > MAX_CLIENTS:
            self.failures.clear()
        self.failures.setdefault(client, deque()).append(now)
        return 0.0

    def succeeded(self, client: str) -> None:
        q = self.failures.get(client)
        if q:
            q.pop()


class SharedFailures(MemoryFailures):
    """Failures per client in ``path`` (SQLite), seen by every process that opens it; in memory if it cannot be used."""

    def __init__(self, path: Path, limit: int, window_s: float):
        super().__init__(limit, window_s)
        self.path = path
        self._local = threading.local()
        self._broken = False

    def _conn(self) -> sqlite3.Connection | None:
        if self._broken:
            return None
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                self.path.parent.mkdir(mode=0o700, exist_ok=True)
                if not self.path.exists():
                    os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
                conn = sqlite3.connect(self.path, timeout=2.0, isolation_level=None)
                conn.execute("CREATE TABLE IF NOT EXISTS failures(client TEXT NOT NULL, t REAL NOT NULL)")
                conn.execute("CREATE INDEX IF NOT EXISTS failures_client ON failures(client, t)")
            except (OSError, sqlite3.Error):
                self._broken = True  # a read-only base: count in this process's memory
                return None
            self._local.conn = conn
        return conn

    def _count(self, conn: sqlite3.Connection, client: str, now: float) -> float:
        n, first = conn.execute("SELECT count(*), min(t) FROM failures WHERE client = ? AND t > ?", [client, now - self.window_s]).fetchone()
        if n >= self.limit:
            return max(1.0, self.window_s - (now - first))
        return 0.0

    def limited(self, client: str) -> float:
        conn = self._conn()
        if conn is None:
            return super().limited(client)
        try:
            return self._count(conn, client, time.time())
        except sqlite3.Error:
            return super().limited(client)

    def attempt(self, client: str) -> float:
        conn = self._conn()
        if conn is None:
            return super().attempt(client)
        now = time.time()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("DELETE FROM failures WHERE t <= ?", [now - self.window_s])
                wait = self._count(conn, client, now)
                if not wait:
                    if conn.execute("SELECT count(DISTINCT client) FROM failures").fetchone()[0] > MAX_CLIENTS:
                        conn.execute("DELETE FROM failures")
                    conn.execute("INSERT INTO failures(client, t) VALUES (?, ?)", [client, now])
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return wait
        except sqlite3.Error:
            return super().attempt(client)

    def succeeded(self, client: str) -> None:
        conn = self._conn()
        if conn is None:
            return super().succeeded(client)
        try:
            conn.execute("DELETE FROM failures WHERE rowid = (SELECT max(rowid) FROM failures WHERE client = ?)", [client])
        except sqlite3.Error:
            super().succeeded(client)
