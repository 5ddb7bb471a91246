"""Search finds dictionary forms: the field word list, homoglyphs, English forms, snippets at word boundaries."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from custdev.search import fts_query, highlight, stem_text

WORDS = Path(__file__).parent / "data" / "ru_field_words.tsv"


def field_words() -> list[tuple[str, list[str]]]:
    out = []
    for line in WORDS.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            word, forms = line.split("\t")
            out.append((word, forms.split()))
    return out


@pytest.fixture(scope="module")
def index():
    """One row per (word, form): 'Мы обсуждали <form> на встрече', indexed exactly as custdev build does."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE f USING fts5(text, text_stem, tokenize='unicode61')")
    docs = {}
    for n, (word, forms) in enumerate(field_words()):
        for form in [word, *forms]:
            text = f"Мы обсуждали {form} на встрече"
            rowid = conn.execute("INSERT INTO f(text, text_stem) VALUES (?, ?)", [text, stem_text(text)]).lastrowid
            docs[rowid] = (n, form)
    return conn, docs


def hits(index, query: str) -> list[tuple[int, str]]:
    conn, docs = index
    return [docs[r] for (r,) in conn.execute("SELECT rowid FROM f WHERE f MATCH ?", [fts_query(query)])]


def test_field_word_list_recall_both_directions_and_precision(index):
    words = field_words()
    assert len(words) >= 200 and all(len(forms) == 3 for _, forms in words)
    found_forms = found_words = total = true = false = 0
    missed = []
    for n, (word, forms) in enumerate(words):
        got = hits(index, word)  # the dictionary form finds each inflected form...
        true += sum(1 for i, _ in got if i == n)
        false += sum(1 for i, _ in got if i != n)
        for form in forms:
            total += 1
            if (n, form) in got:
                found_forms += 1
            else:
                missed.append(f"{word} → {form}")
            back = hits(index, form)  # ...and each inflected form finds the dictionary form
            true += sum(1 for i, _ in back if i == n)
            false += sum(1 for i, _ in back if i != n)
            if (n, word) in back:
                found_words += 1
            else:
                missed.append(f"{form} → {word}")
    recall_forms, recall_words, precision = found_forms / total, found_words / total, true / (true + false)
    print(f"\nfield words: {len(words)}; recall dictionary→forms {recall_forms:.1%}, forms→dictionary {recall_words:.1%}; "
          f"precision {precision:.1%} ({false} false matches); missed: {', '.join(missed)}")
    assert recall_forms >= 0.98 and recall_words >= 0.98
    assert precision >= 0.98


@pytest.mark.parametrize(("query", "text"), [
    ("реквизит", "В шаблоне остались реквизиты другого клиента, и в реквизитах ошибка"),
    ("кредит", "Нам отказали в кредитах"),
    ("лимит", "упёрлись в лимиты по карте"),
    ("1C", "выгружаем всё в «1С»"),  # Latin C in the query, Cyrillic С in the text
    ("1С", "we export to 1C every night"),  # and the other way round
    ("счёт", "счета выставляем вручную"),
    ("ещё", "еще один счет"),
    ("invoice", "Invoicing takes us a day"),
    ("invoices", "we invoiced them twice"),
    ("invoiced", "the invoice was late"),
])
def test_query_finds_forms_and_homoglyphs(query, text):
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE f USING fts5(text, text_stem)")
    conn.execute("INSERT INTO f VALUES (?, ?)", [text, stem_text(text)])
    assert conn.execute("SELECT count(*) FROM f WHERE f MATCH ?", [fts_query(query)]).fetchone()[0] == 1


def test_mixed_script_word_is_normalised_in_the_index():
    assert stem_text("Cчёт") == stem_text("Счёт") == stem_text("счет")  # Latin C, Cyrillic С, ё/е


@pytest.mark.parametrize("text", [
    "Здравствуйте, меня зовут Анна. " * 6 + "Мы теряем время на сверку платежей каждую неделю, и это " + "очень долго " * 20,
    "Здравствуйте! " + "x" * 300 + " платежей",
    "Короткий текст без совпадения " * 12,
])
def test_snippets_start_and_end_at_word_boundaries(text):
    snippet = highlight(text, "платёж", before="", after="")
    inner = snippet.removeprefix("…").removesuffix("…")
    assert inner and inner in text
    at = text.index(inner)
    assert at == 0 or text[at - 1].isspace()
    end = at + len(inner)
    assert end == len(text) or text[end].isspace()
