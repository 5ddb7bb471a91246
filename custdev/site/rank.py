"""The site's search ranking: FTS5's bm25, the same number, without recounting each word's rows on every search.

FTS5's ``bm25()`` (sqlite/ext/fts5/fts5_aux.c) weighs each phrase of a query by its IDF,
``log((N - n + 0.5) / (n + 0.5))`` (at least 1e-6), where ``N`` is the rows of the index and ``n`` the rows that
hold the phrase, and scores a row as the sum over the phrases of ``idf * f * (k1 + 1) / (f + k1 * (1 - b + b * D /
avgdl))`` (``f`` the phrase's occurrences in the row, ``D`` the row's tokens, ``k1`` 1.2, ``b`` 0.75), negated. It
counts ``n`` anew for every search, by reading the phrase's whole list of rows: a word in 5 % of 1.5 million turns
took 6.5-7.3 ms of a search's CPU (2026-12-01, a slow hour), and the per-row part about 4 µs more a ranked row.

Here ``n`` is counted once per word and database state (:func:`custdev.site.common.db_stamp`), ``N`` and the
average length come from the index's own totals, and each ranked row's ``f`` and ``D`` from its index forms
(``text_stem``: the words ``custdev build`` indexed, joined by spaces), in the same arithmetic in the same order, so
the scores are FTS5's own (tests/test_site_rank.py compares them with ``bm25()`` row by row). That holds where the
index forms are what FTS5's unicode61 tokenizer keeps unchanged (lower-case Latin and Cyrillic letters and digits)
and the query is made of single words: the forms :func:`custdev.search.fts_query` writes for plain words and
``AND``/``OR``/``NOT``. A phrase in quotes, a ``prefix*`` or a row with any other character is ranked by ``bm25()``
itself (:attr:`Scorers.unsafe` tells the caller so).
"""

from __future__ import annotations

import math
import re
import sqlite3
import threading

from custdev.site.common import LRU

K1, B = 1.2, 0.75  # FTS5's bm25 constants
_SAFE = re.compile(r"[0-9a-zа-яё ]*")  # characters unicode61 neither folds nor splits, and the space between forms
_PHRASE = re.compile(r'"([^"]*)"(\*?)')
_REST = re.compile(r"(?:text_stem : \(|[()]|AND|OR|NOT| )*")  # what fts_query writes around its phrases
FTS_TABLES = {"utterances": "utterances_fts", "quotes": "quotes_fts"}  # each table's index holds exactly its rows
_COLUMNS = ["text UNINDEXED", "text_stem", "tokenize='unicode61'"]  # the indexes as migration m1303 writes them

_stats = LRU(8)  # (path, stamp, fts table) -> _Stats
_stats_lock = threading.Lock()


class Scorers(dict):
    """The SQL functions of one query, by name; ``unsafe`` turns true when one of them met a row it cannot rank as
    bm25() would: its ranks are then null, and the caller runs the statement again with bm25(). (They never raise:
    Datasette turns on sqlite3's callback tracebacks, which would print each one on the server's terminal.)"""

    unsafe = False


def phrases(expr: str) -> list[str] | None:
    """The phrases of an FTS5 expression in FTS5's order, where each is one word of safe characters; else None."""
    found = _PHRASE.findall(expr)
    if not found or not _REST.fullmatch(_PHRASE.sub("", expr)):
        return None
    out = []
    for text, star in found:
        if star or not text or " " in text or not _SAFE.fullmatch(text):
            return None
        out.append(text)
    return out


def _varints(data: bytes) -> list[int]:
    """SQLite's variable-length integers, one after another (FTS5 writes its totals with them)."""
    out, i = [], 0
    while i < len(data):
        value = 0
        for n in range(9):
            byte = data[i]
            i += 1
            if n == 8:
                value = (value << 8) | byte
                break
            value = (value << 7) | (byte & 0x7F)
            if byte < 0x80:
                break
        out.append(value)
    return out


class _Stats:
    """One index's totals at one database state, and its words' row counts as searches ask for them."""

    def __init__(self, conn: sqlite3.Connection, fts: str):
        self.fts = fts
        self.counts: dict[str, int] = {}
        row = conn.execute("select sql from sqlite_master where name = ?", [fts]).fetchone()
        args = row[0][row[0].find("(") + 1:row[0].rfind(")")].split(",") if row and row[0] else []
        if [a.strip() for a in args[:3]] != _COLUMNS:  # another layout or tokenizer: bm25() ranks
            self.rows, self.avgdl = 0, 0.0
            return
        row = conn.execute(f"select block from {fts}_data where id = 1").fetchone()  # FTS5's averages record
        totals = _varints(row[0]) if row and row[0] else []
        self.rows = totals[0] if totals else 0
        self.avgdl = sum(totals[1:]) / self.rows if self.rows else 0.0

    def idf(self, conn: sqlite3.Connection, word: str) -> float:
        n = self.counts.get(word)
        if n is None:
            n = conn.execute(f"select count(*) from {self.fts} where {self.fts} match ?", [f'text_stem : "{word}"']).fetchone()[0]
            if len(self.counts) > 100_000:
                self.counts.clear()
            self.counts[word] = n
        idf = math.log((self.rows - n + 0.5) / (n + 0.5))
        return idf if idf > 0.0 else 1e-6


def _stats_of(conn: sqlite3.Connection, key: tuple, fts: str) -> _Stats:
    with _stats_lock:  # Datasette's SQL threads share the cache
        stats = _stats.get((*key, fts))
        if stats is None:
            stats = _Stats(conn, fts)
            _stats.put((*key, fts), stats)
    return stats


def scorers(conn: sqlite3.Connection, stamp_key: tuple, expr: str) -> Scorers | None:
    """SQL functions ``custdev_rank_<table>(text_stem)`` giving bm25() of each table's FTS index for the query
    ``expr``, registered on ``conn``; None where bm25() itself must rank (see the module's docstring)."""
    words = phrases(expr)
    if words is None:
        return None
    out = Scorers()
    for table, fts in FTS_TABLES.items():
        stats = _stats_of(conn, stamp_key, fts)
        if not stats.rows or stats.avgdl <= 0.0:
            return None
        out[f"custdev_rank_{table}"] = _scorer([(w, stats.idf(conn, w)) for w in words], stats.avgdl, out)
    for name, fn in out.items():
        conn.create_function(name, 1, fn, deterministic=True)
    return out


def _scorer(weights: list[tuple[str, float]], avgdl: float, owner: Scorers):
    k1_plus_1 = K1 + 1.0
    safe = _SAFE.fullmatch

    def score(stem):
        # Forms of safe characters, one space between each: D is the spaces plus one, and a word's occurrences are
        # found as text (a whole form: a space or an end on each side) without splitting the row.
        if owner.unsafe or stem is None or not safe(stem) or "  " in stem or stem[:1] == " " or stem[-1:] == " ":
            owner.unsafe = True
            return None
        D = float(stem.count(" ") + 1)
        s = 0.0
        for word, idf in weights:  # fts5Bm25Function's arithmetic, in its order
            n = stem.count(word)
            if n == 1:
                i = stem.find(word)
                j = i + len(word)
                f = 1.0 if (i == 0 or stem[i - 1] == " ") and (j == len(stem) or stem[j] == " ") else 0.0
            elif n:
                f = float(stem.split().count(word))
            else:
                f = 0.0
            s += idf * ((f * k1_plus_1) / (f + K1 * (1 - B + B * D / avgdl)))
        return -1.0 * s

    return score
