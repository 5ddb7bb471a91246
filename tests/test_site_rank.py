"""The search page ranks by custdev.site.rank: FTS5's bm25() numbers, row by row, without recounting each word's rows.

Every hit of many searches on a built base (the sample interviews, plus one interview whose index forms bm25() would
read otherwise: Latin letters with accents, an underscore) must get exactly the rank bm25() gives it, and the page must
show the same hits in the same order.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from custdev.build import build_base
from custdev.config import load_base
from custdev.site import make_datasette, rank
from custdev.site.common import db_stamp
from custdev.site.searchsql import HITS_SCORED_SQL, HITS_SQL, SEARCH_SQL, site_fts_query, snippet_sql

REPO = Path(__file__).resolve().parent.parent

ODD = """---
id: 2026-06-01-odd-words
title: "Café owner"
date: 2026-06-01
interviewer: Мария
respondent: Zoë
segments: [smb-owners]
language: en
---

**[00:00:04] Мария:** Zebra café?

**[00:00:21] Zoë:** Zebra résumé, zebra_final.
"""

# Plain words (one, several, with lemma alternatives), operators, stop words; and what bm25() itself must rank.
QUERIES = [
    "оплаты", "счета", "invoice", "invoices excel", "оплата счетов", "счёт", "долги", "бухгалтер сверка",
    "excel OR таблица", "оплаты NOT excel", "(счета OR invoice) AND оплата", "в", "the invoice", "1С", "1C",
    "клиенты", "spreadsheet", "банк", "деньги", "late payments",
]
BM25_ONLY = ['"ручная сверка"', "reconcil*", '"bank statement" invoice']


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    from conftest import copy_base

    root = copy_base(REPO, tmp_path_factory.mktemp("rank") / "base")
    (root / "interviews" / "2026-06-01-odd-words.md").write_text(ODD, encoding="utf-8")
    assert build_base(root).failed == 0
    return root


def connect(base: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{base / 'custdev.db'}?mode=ro", uri=True)
    conn.create_function("custdev_match", 1, site_fts_query, deterministic=True)
    conn.create_function("custdev_snippet", 2, snippet_sql, deterministic=True)
    return conn


def params(q: str) -> dict:
    return {"q": q, "segment": "", "pain": "", "tag": "", "speaker": "", "interview": ""}


def ranks(conn, sql: str, q: str) -> dict:
    return {(kind, utterance): r for kind, _, utterance, _, _, r in conn.execute(sql, params(q))}


@pytest.mark.parametrize("q", QUERIES)
def test_every_hit_gets_the_rank_bm25_gives_it(base, q):
    conn = connect(base)
    key = (str(base / "custdev.db"), db_stamp(str(base / "custdev.db")))
    scorers = rank.scorers(conn, key, site_fts_query(q))
    assert scorers is not None, q
    expected = ranks(conn, HITS_SQL, q)
    got = ranks(conn, HITS_SCORED_SQL, q)
    assert expected, q
    assert got == expected  # the same hits, each with bm25()'s number to the last bit


def test_words_bm25_would_read_otherwise_are_ranked_by_bm25(base):
    """A hit whose index forms hold characters FTS5's tokenizer folds or splits (é, _) is ranked by bm25() itself,
    and the page still shows it; quoted phrases and prefixes too."""
    conn = connect(base)
    key = (str(base / "custdev.db"), db_stamp(str(base / "custdev.db")))
    scorers = rank.scorers(conn, key, site_fts_query("zebra"))
    assert set(ranks(conn, HITS_SCORED_SQL, "zebra").values()) == {None}  # the odd interview's turns
    assert scorers.unsafe
    for q in BM25_ONLY:
        assert rank.scorers(conn, key, site_fts_query(q)) is None, q
    site = make_datasette(load_base(base))
    got = asyncio.run(site.client.get("/custdev/search.json", params={"q": "zebra", "_shape": "objects"})).json()["rows"]
    want = connect(base).execute(SEARCH_SQL, params("zebra")).fetchall()
    assert [(r["kind"], r["utterance_id"], r["rank"]) for r in got] == [(r[0], r[2], r[12]) for r in want]
    assert any(r["interview_id"] == "2026-06-01-odd-words" for r in got)


def test_search_page_and_json_show_bm25s_order(base):
    site = make_datasette(load_base(base))
    conn = connect(base)
    for q in QUERIES + BM25_ONLY + ["zebra"]:
        got = asyncio.run(site.client.get("/custdev/search.json", params={"q": q, "_shape": "objects"})).json()["rows"]
        want = conn.execute(SEARCH_SQL, params(q)).fetchall()
        assert [(r["kind"], r["utterance_id"], r["rank"]) for r in got] == [(r[0], r[2], r[12]) for r in want], q


def test_words_rows_are_counted_once_per_database_state(base):
    conn = connect(base)
    key = ("test-once", "state-1")
    rank.scorers(conn, key, site_fts_query("оплаты invoice"))
    stats = rank._stats.get((*key, "utterances_fts"))
    assert set(stats.counts) >= {"оплата", "invoic"}
    asked = []
    conn.set_trace_callback(asked.append)
    rank.scorers(conn, key, site_fts_query("invoice"))
    assert not [s for s in asked if "count(*)" in s]  # known at this state
    rank.scorers(conn, ("test-once", "state-2"), site_fts_query("invoice"))
    assert [s for s in asked if "count(*)" in s]  # a new state counts again
    conn.set_trace_callback(None)


def test_phrases_are_those_fts5_numbers():
    assert rank.phrases('text_stem : ("оплата" AND ("счет" OR "счета"))') == ["оплата", "счет", "счета"]
    assert rank.phrases('text_stem : ("invoic" NOT "excel")') == ["invoic", "excel"]
    assert rank.phrases('text_stem : ("bank statement")') is None
    assert rank.phrases('text_stem : ("reconcil"*)') is None
    assert rank.phrases('text_stem : ("café")') is None
    assert rank.phrases('""') is None
    assert rank.phrases('text_stem : (NEAR("a" "b"))') is None


def test_an_index_of_another_layout_is_ranked_by_bm25(tmp_path):
    """A full-text index that also indexes the text, or with another tokenizer, counts other tokens: bm25() ranks."""
    for columns in ("text, text_stem, tokenize='unicode61'", "text UNINDEXED, text_stem, tokenize='porter unicode61'"):
        conn = sqlite3.connect(tmp_path / f"{len(columns)}.db")
        for table in rank.FTS_TABLES.values():
            conn.execute(f"create virtual table {table} using fts5({columns})")
            conn.execute(f"insert into {table}(text, text_stem) values ('Оплата', 'оплата')")
        conn.commit()
        assert rank.scorers(conn, (str(tmp_path), columns), 'text_stem : ("оплата")') is None
    conn = sqlite3.connect(tmp_path / "ours.db")
    for table in rank.FTS_TABLES.values():
        conn.execute(f"create virtual table {table} using fts5(text UNINDEXED, text_stem, tokenize='unicode61')")
        conn.execute(f"insert into {table}(text, text_stem) values ('Оплата', 'оплата')")
    conn.commit()
    assert rank.scorers(conn, (str(tmp_path), "ours"), 'text_stem : ("оплата")') is not None
