"""Search finds Russian and English word forms, filters, and explains bad queries."""

from __future__ import annotations

from pathlib import Path

import pytest

from custdev.build import build_base
from custdev.db import open_db
from custdev.errors import SearchError
from custdev.search import fts_query, highlight, search, stem_text

CODEBOOK = """\
segments:
  - {slug: smb, title: SMB}
  - {slug: agencies, title: Agencies}
pains:
  - {slug: late-payments, title: Late payments}
  - {slug: invoice-errors, title: Invoice errors}
"""

RU = """---
id: ru1
interviewer: Мария
respondent: Анна
segments: [smb]
language: ru
---

**[00:00:01] Мария:** Расскажите про оплату.

**[00:00:09] Анна:** Главная проблема оплаты в том, что ==клиенты платят с опозданием== #pain/late-payments #billing

**[00:00:30] Мария:** А ёлка на складе?

**[00:00:40] Анна:** Ёлки мы не продаём, но счета выставляем сами.
"""

EN = """---
id: en1
interviewer: Kate
respondent: John
segments: [agencies]
language: en
---

**[00:00:01] Kate:** How do you send invoices?

**[00:00:05] John:** Every invoice is typed by hand and ==errors in invoicing cost us a client== #pain/invoice-errors #billing/invoices

**[00:00:20] Kate:** Any problems with payment?

**[00:00:25] John:** Problems with payments happen weekly.
"""


@pytest.fixture
def db(empty_base: Path):
    (empty_base / "codebook.yml").write_text(CODEBOOK, encoding="utf-8")
    (empty_base / "interviews" / "ru1.md").write_text(RU, encoding="utf-8")
    (empty_base / "interviews" / "en1.md").write_text(EN, encoding="utf-8")
    assert build_base(empty_base).failed == 0
    return open_db(empty_base / "custdev.db")


def found(hits) -> list[tuple[str, float]]:
    return [(h.interview_id, h.start_s) for h in hits]


def test_stem_text_normalises_case_yo_and_word_forms():
    assert stem_text("Проблемы с ОПЛАТОЙ") == stem_text("проблема с оплата")
    assert stem_text("ёлки") == stem_text("елки")
    assert stem_text("Invoices invoicing") == "invoic invoic"
    assert stem_text("счёт и invoices") == "счет и invoic"


def test_russian_word_forms_meet(db):
    # «проблемы с оплатой» finds «проблема оплаты»: stop word «с» is not required, forms are stemmed
    assert found(search(db, "проблемы с оплатой")) == [("ru1", 9.0)]
    assert sorted(found(search(db, "ёлка"))) == [("ru1", 30.0), ("ru1", 40.0)]
    assert found(search(db, "елки")) == found(search(db, "ёлки"))


def test_english_word_forms_meet(db):
    assert ("en1", 5.0) in found(search(db, "invoices"))
    assert found(search(db, "invoice", speaker="interviewer")) == [("en1", 1.0)]
    assert sorted(found(search(db, "payment problem"))) == [("en1", 20.0), ("en1", 25.0)]


def test_filters(db):
    assert found(search(db, "оплата", segment="agencies")) == []
    assert found(search(db, "клиенты", pain="late-payments")) == [("ru1", 9.0)]
    assert [h.kind for h in search(db, "клиенты", pain="late-payments")] == ["quote"]
    assert found(search(db, "invoicing", tag="billing")) == [("en1", 5.0)]  # a parent tag matches billing/invoices
    assert found(search(db, "invoicing", tag="billing/invoices")) == [("en1", 5.0)]
    assert found(search(db, "invoicing", tag="bill")) == []
    assert len(search(db, "проблема OR invoices", limit=1)) == 1


def test_phrases_operators_and_prefix(db):
    assert found(search(db, '"errors in invoicing"')) == [("en1", 5.0)]
    assert found(search(db, "invoice NOT typed")) == [("en1", 1.0)]
    assert found(search(db, "опозд*")) == [("ru1", 9.0)]


def test_snippet_highlights_matching_word_forms():
    assert highlight("Главная проблема оплаты в том", "проблемы с оплатой") == "Главная [проблема] [оплаты] в том"


@pytest.mark.parametrize("bad", ["foo AND", "(оплата", '"unclosed', "   "])
def test_bad_queries_say_what_is_wrong(db, bad):
    with pytest.raises(SearchError) as exc:
        search(db, bad)
    assert "search" in str(exc.value) or "query" in str(exc.value)


def test_fts_query_drops_stop_words_unless_alone():
    assert fts_query("проблемы с оплатой") == 'text_stem : ("проблема" "оплата")'
    assert fts_query("the") == 'text_stem : ("the")'


def test_ranking_window_and_match_count(db):
    from custdev.search import count_matches

    assert count_matches(db, "оплата") == 2
    assert count_matches(db, "оплата", speaker="interviewer") == 1
    every = search(db, "оплата OR invoices OR payments")
    assert len(every) == count_matches(db, "оплата OR invoices OR payments") == 6
    # with a window of 2 only two matches are ranked: those with the highest (permanent) ids
    newest = search(db, "оплата OR invoices OR payments", limit=2, window=2)
    assert sorted(h.id for h in newest) == sorted(h.id for h in every)[-2:]


def test_cli_says_how_many_matches_exist(empty_base):
    from typer.testing import CliRunner

    from custdev.cli import app

    (empty_base / "codebook.yml").write_text(CODEBOOK, encoding="utf-8")
    (empty_base / "interviews" / "en1.md").write_text(EN, encoding="utf-8")
    build_base(empty_base)
    result = CliRunner().invoke(app, ["search", "invoice", "--limit", "1", "--base", str(empty_base)])
    assert result.stdout.splitlines()[-1] == "1 of 2 matches shown; use --limit, more words or filters to see others."
