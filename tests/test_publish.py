"""custdev publish --redact: a copy of the base with no names, companies, e-mails or phone numbers left in it."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from custdev.build import build_base
from custdev.cli import app
from custdev.config import load_base
from custdev.publish import Redactor, publish_base

REPO = Path(__file__).resolve().parent.parent

# Names in their inflected forms, a colleague the codebook never heard of, contacts, and the company in two cases.
CONTACTS = """---
id: 2026-06-10-svetlana-orlova
title: Светлана Орлова из «Зелёной Лампы»
date: 2026-06-10
interviewer: Мария
respondent: Светлана Орлова
company: ООО «Зелёная Лампа»
role: Главный бухгалтер
segments: [smb-owners]
language: ru
consent: publish
---

**[00:00:01] Мария:** Светлана, расскажите, кто у вас ведёт счета?

**[00:00:08] Светлана:** ==Счета веду я, Светлана Орлова, а раньше их вёл Игорь Петрович, но он ушёл из «Зелёной Лампы»== #pain/late-payments

**[00:00:20] Мария:** Как с вами связаться, если будут вопросы?

**[00:00:25] Светлана:** Пишите на svetlana.orlova@zelenaya-lampa.ru или звоните +7 (912) 345-67-89, спросите Светлану Орлову. Анне Петровой я тоже про вас рассказала, и Анны сейчас нет в офисе.

**[00:00:40] Мария:** Спасибо, Светлана Андреевна!
"""

ENGLISH = """---
id: 2026-06-11-mark-jones
title: Mark Jones at Quillfeather Ltd
date: 2026-06-11
interviewer: Kate Hill
respondent: Mark Jones
company: Quillfeather Ltd
role: Finance lead
segments: [ecommerce]
language: en
consent: publish
---

**[00:00:01] Kate:** Thanks Mark. Who sends the invoices at Quillfeather?

**[00:00:06] Mark:** ==I do. Mark Jones, finance lead; reach me at mark@quillfeather.co.uk or (415) 555-0142== #pain/late-payments
"""


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    from conftest import copy_base

    root = copy_base(REPO, tmp_path_factory.mktemp("pub") / "base")
    (root / "interviews" / "2026-06-10-svetlana-orlova.md").write_text(CONTACTS, encoding="utf-8")
    (root / "interviews" / "2026-06-11-mark-jones.md").write_text(ENGLISH, encoding="utf-8")
    assert build_base(root).failed == 0
    return root


@pytest.fixture(scope="module")
def published(source, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pub") / "shared"
    result = publish_base(load_base(source), out)
    assert result.redacted and result.interviews == 10 and result.replacements > 50
    return out


def all_text(path: Path) -> list[tuple[str, str, str]]:
    """(table, column, value) for every text value in every table of the database, FTS shadow tables included."""
    conn = sqlite3.connect(path)
    out = []
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info([{table}])")]
        for row in conn.execute(f"SELECT * FROM [{table}]"):
            for c, v in zip(cols, row):
                if isinstance(v, str):
                    out.append((table, c, v))
                elif isinstance(v, bytes):
                    out.append((table, c, v.decode("utf-8", "replace")))
    return out


PERSONAL = [
    # respondents and interviewers of the sample base and the fixtures, in several cases
    "Анна", "Анны", "Анне", "Анну", "Петрова", "Петровой", "Игорь", "Смирнов", "Елена", "Волкова", "Ольга", "Кузнецова",
    "Мария", "Марии", "Светлана", "Светлану", "Орлова", "Орлову", "James", "Carter", "Priya", "Nair", "Tom Becker",
    "Lucy", "Morgan", "Mark Jones", "Kate",
    # companies
    "Хлебный двор", "Хлебного двора", "ТехноСнаб", "Баланс Плюс", "Кроха", "Зелёная Лампа", "Зелёной Лампы",
    "Brightwave", "Fernwood", "Quillfeather", "Carter & Reed",
    # a colleague nobody listed, and the contacts
    "Игорь Петрович", "svetlana.orlova@", "zelenaya-lampa", "345-67-89", "555-0142", "mark@quillfeather",
]


def test_no_name_company_or_contact_is_left_anywhere(published):
    texts = all_text(published / "custdev.db")
    assert texts
    for word in PERSONAL:
        pattern = re.compile(rf"(?<!\w){re.escape(word)}(?!\w)")
        hits = [(t, c) for t, c, v in texts if pattern.search(v)]
        assert not hits, f"{word!r} left in {hits[:3]}"


def test_the_file_itself_holds_no_trace_of_them(published, source):
    """Free pages and old index segments are gone too: the copy is a fresh file, not an edited one."""
    raw = (published / "custdev.db").read_bytes()
    assert b"SQLite format 3" in raw[:16]
    for word in ("Петрова", "Светлана", "Орлова", "James Carter", "Brightwave", "Quillfeather", "svetlana.orlova", "петров", "орлов", "quillfeath"):
        assert word.encode() not in raw, word
    assert "Петрова".encode() in (source / "custdev.db").read_bytes()  # the original has them


def test_ids_speakers_and_people_are_replaced_by_neutral_labels(published):
    conn = sqlite3.connect(published / "custdev.db")
    ids = [r[0] for r in conn.execute("SELECT id FROM interviews ORDER BY id")]
    assert ids == [f"interview-{n:03d}" for n in range(1, 11)]
    assert {r[0] for r in conn.execute("SELECT name FROM respondents")} == {f"Respondent {n}" for n in range(1, 11)}
    assert conn.execute("SELECT count(*) FROM respondents WHERE company IS NOT NULL").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM interviews WHERE audio IS NOT NULL OR company IS NOT NULL").fetchone()[0] == 0
    speakers = {r[0] for r in conn.execute("SELECT DISTINCT speaker FROM utterances")}
    assert speakers <= {"Interviewer", "Respondent", "Интервьюер", "Респондент"}
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    # the interview file shown as it is names each turn's speaker as the transcript does (it said "**[name]:**")
    for iid, body in conn.execute("SELECT id, body FROM interviews"):
        in_file = set(re.findall(r"(?m)^\*\*(?:\[[\d:]+\] )?([^*\n]+?):\*\*", body))
        assert in_file and in_file == {r[0] for r in conn.execute("SELECT DISTINCT speaker FROM utterances WHERE interview_id = ?", [iid])}, iid


def test_what_was_said_stays_readable_and_searchable(published):
    conn = sqlite3.connect(published / "custdev.db")
    text = conn.execute("SELECT text FROM utterances WHERE text LIKE 'Пишите на%'").fetchone()[0]
    assert text == ("Пишите на [email] или звоните [phone], спросите [имя] [имя]. [имя] [имя] я тоже про вас рассказала, "
                    "и [имя] сейчас нет в офисе.")
    quote = conn.execute("SELECT text FROM quotes WHERE text LIKE 'Счета веду я%'").fetchone()[0]
    assert quote == "Счета веду я, [имя] [имя], а раньше их вёл [имя] [имя], но он ушёл из «[компания]»"
    english = conn.execute("SELECT text FROM quotes WHERE text LIKE 'I do.%'").fetchone()[0]
    assert english == "I do. [name] [name], finance lead; reach me at [email] or [phone]"
    title = conn.execute("SELECT title FROM interviews WHERE title LIKE 'Пекарня%'").fetchone()[0]
    assert title == "Пекарня «[компания]»: счета оптовикам и долги"
    # the search index (dictionary forms) matches the redacted text: word forms still meet, names are not in it
    n = conn.execute("SELECT count(*) FROM utterances_fts WHERE utterances_fts MATCH 'text_stem : (\"оплата\")'").fetchone()[0]
    assert n > 5
    assert conn.execute("SELECT count(*) FROM utterances_fts WHERE utterances_fts MATCH 'text_stem : (\"светла\"*)'").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM utterances WHERE text_stem LIKE '%петров%' OR text_stem LIKE '%орлов%'").fetchone()[0] == 0


def test_the_published_folder_is_a_site_that_serves_as_it_is(published):
    from custdev.site import make_datasette

    assert sorted(p.name for p in published.iterdir()) == [".custdev-published", "custdev.db", "custdev.toml", "datasette_metadata.json"]
    ds = make_datasette(load_base(published))
    first_quote = sqlite3.connect(published / "custdev.db").execute("SELECT min(id) FROM quotes").fetchone()[0]

    async def pages():
        home = await ds.client.get("/")
        hits = await ds.client.get("/custdev/search.json?q=оплаты&_shape=objects")
        quote = await ds.client.get(f"/custdev/quotes/{first_quote}")
        interview = await ds.client.get("/custdev/interviews/interview-001")
        return home, hits, quote, interview

    home, hits, quote, interview = asyncio.run(pages())
    assert home.status_code == 200 and "Ledgerly customer discovery 2026" in home.text
    assert hits.status_code == 200 and hits.json()["rows"]
    assert quote.status_code == 200 and "<audio" not in quote.text
    assert interview.status_code == 200 and "Анна" not in interview.text



def test_the_copy_keeps_what_names_no_one(published, source):
    """Redaction takes names, not the site's own words: every table, view and canned query of the metadata keeps its
    name and its SQL (the copy's pages are found by them), custdev's settings keep their values, and English words
    that read like names in Cyrillic ("When", "Have", "Slow") or a known name's short form ("an") stay as written."""
    import json

    from custdev.site import load_metadata

    shared = json.loads((published / "datasette_metadata.json").read_text(encoding="utf-8"))["databases"]["custdev"]
    own = load_metadata(load_base(source))["databases"]["custdev"]
    assert set(shared["tables"]) == set(own["tables"])
    assert {name: q.get("sql") for name, q in shared["queries"].items()} == {name: q.get("sql") for name, q in own["queries"].items()}
    conn = sqlite3.connect(published / "custdev.db")
    assert dict(conn.execute("SELECT key, value FROM meta")) == dict(sqlite3.connect(source / "custdev.db").execute("SELECT key, value FROM meta"))
    titles = {r[0] for r in conn.execute("SELECT title FROM pains")}
    assert {"Slow month-end close", "Slow support", "Errors in invoices"} <= titles
    said = [r[0] for r in conn.execute("SELECT text FROM utterances")]
    for sentence in ("Have you tried to fix that before?", "When did that last cause a problem?"):
        assert sentence in said
    assert any("for an extra fee" in t for t in said)
    ds_pages = __import__("custdev.site", fromlist=["make_datasette"]).make_datasette(load_base(published))
    page = asyncio.run(ds_pages.client.get("/custdev/quotes_of_pain", params={"pain": "late-payments"}))
    assert page.status_code == 200


def test_the_replacements_it_reports_are_those_in_the_copy(tmp_path):
    """An interview left out (no consent) is not redacted nor counted: the copy never holds it."""
    runner = CliRunner()
    root = tmp_path / "base"
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0
    (root / "interviews" / "a.md").write_text(CONTACTS.replace("consent: publish\n", ""), encoding="utf-8")
    r = runner.invoke(app, ["publish", str(tmp_path / "out"), "--base", str(root), "--json"])
    assert r.exit_code == 0, r.output
    import json

    data = json.loads(r.stdout)
    assert data["interviews"] == 0 and data["replacements"] == 0


def test_publish_again_replaces_the_earlier_copy(source, published):
    before = (published / "custdev.db").stat().st_ino
    result = publish_base(load_base(source), published)
    assert result.db_path.stat().st_ino != before
    assert not list(published.glob(".custdev.db.tmp-*"))


def test_publish_refuses_to_write_into_a_research_base(source, tmp_path):
    from custdev.errors import CustdevError

    with pytest.raises(CustdevError, match="not the research base itself"):
        publish_base(load_base(source), source)
    other = tmp_path / "other"
    (other / "interviews").mkdir(parents=True)
    with pytest.raises(CustdevError, match="is a research base"):
        publish_base(load_base(source), other)
    assert not (other / "custdev.db").exists()


def test_publish_command(source, tmp_path):
    runner = CliRunner()
    r = runner.invoke(app, ["publish", str(tmp_path / "out"), "--base", str(source), "--redact", "--no-build"])
    assert r.exit_code == 0, r.output
    assert "Wrote a redacted copy" in r.stdout and "custdev serve --base" in r.stdout
    plain = runner.invoke(app, ["publish", str(tmp_path / "plain"), "--base", str(source), "--no-redact", "--no-build"])
    assert plain.exit_code == 0 and "NOT redacted" in plain.stderr
    conn = sqlite3.connect(tmp_path / "plain" / "custdev.db")
    assert conn.execute("SELECT count(*) FROM respondents WHERE name = 'Анна Петрова'").fetchone()[0] == 1
    bad = runner.invoke(app, ["publish", str(source), "--base", str(source), "--no-build"])
    assert bad.exit_code == 1 and bad.stderr.startswith("Error: ")


def test_redactor_handles_inflections_phrases_and_leaves_ordinary_words():
    r = Redactor.for_names(["Анна Петрова", "Роман Белов"], ["ООО «Хлебный двор»", "Brightwave Logistics"])
    assert r.text("Мы говорили с Анной Петровой из «Хлебного двора».") == "Мы говорили с [имя] [имя] из «[компания]»."
    assert r.text("У Анны и Анне, Анну, Анной.") == "У [имя] и [имя], [имя], [имя]."
    assert r.text("Во дворе стоит хлебный фургон.") == "Во дворе стоит хлебный фургон."  # the words alone are ordinary
    assert r.text("Brightwave Logistics and other logistics firms") == "[company] and other logistics firms"
    assert r.text("Вчера Роман звонил; роман читаю.") == "Вчера [имя] звонил; роман читаю."
    assert r.text("Светлана из бухгалтерии и Дмитрий.") == "[имя] из бухгалтерии и [имя]."  # not in the list, still a name
    assert r.text("Вера в продукт есть.") == "Вера в продукт есть."  # an ordinary word at the start of a sentence
    assert r.text("Mail a.b-c@example.org, call 8 912 345-67-89 or +44 20 7946 0958.") == "Mail [email], call [phone] or [phone]."
    assert r.text("Invoice 2026-02-10 for 1 200 000 rubles, 52 days, 00:12:30") == "Invoice 2026-02-10 for 1 200 000 rubles, 52 days, 00:12:30"


def test_a_kind_of_organisation_is_no_one_but_a_named_one_is_still_redacted():
    """Seen publishing a Russian base: «Банк возвращает платёж» became «[компания] возвращает платёж» (natasha takes a
    capitalised common noun at a sentence's start for a company, and «Маркетплейс» for a person)."""
    r = Redactor.for_names(["Ольга Петрова"], ["ООО Хлебный двор"])
    for text in ("Банк возвращает платёж, а клиент ждёт.", "Министерство поменяло форму.", "Фонд ответил.",
                 "Пенсионный фонд прислал письмо.", "Маркетплейс удерживает комиссию.", "Клиент-банк не грузит выписку."):
        assert r.text(text) == text
    assert r.text("Банк Точка заблокировал счёт.") == "[компания] заблокировал счёт."
    assert r.text("Ольга Петрова из Хлебного двора звонила.") == "[имя] [имя] из [компания] звонила."


def test_the_files_speakers_are_relabelled_in_every_header_form_the_parser_reads():
    from custdev.publish import _labelled_turns

    labels = {("i", "Ольга"): "Респондент", ("i", "Anna"): "Respondent 2", ("i", "Мария"): "Интервьюер"}
    body = "**[00:00:05] Ольга:** Привет\n\n**Anna [de]:** Hallo\n\n**[01:02] Мария:** Да\n\n**Nobody:** x\n"
    assert _labelled_turns(body, "i", labels) == (
        "**[00:00:05] Респондент:** Привет\n\n**Respondent 2 [de]:** Hallo\n\n**[01:02] Интервьюер:** Да\n\n**Nobody:** x\n")
