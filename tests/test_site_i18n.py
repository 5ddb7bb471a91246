"""The research site of a Russian base reads as Russian; ?_lang= and `serve --language` switch per viewer."""

from __future__ import annotations

import asyncio
import html
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from custdev.build import build_base
from custdev.cli import app
from custdev.config import load_base
from test_i18n import data_strings, english_leftovers, english_runs, visible_text

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def ru_base(tmp_path_factory) -> Path:
    """The sample base's Russian interviews, with language = "ru"."""
    root = tmp_path_factory.mktemp("site-ru") / "base"
    (root / "interviews").mkdir(parents=True)
    shutil.copy(REPO / "codebook.yml", root / "codebook.yml")
    toml = '[base]\ntitle = "Исследование Ledgerly"\ndescription = "Интервью с клиентами о счетах и оплатах."\nlanguage = "ru"\n'
    (root / "custdev.toml").write_text(toml, encoding="utf-8")
    for path in (REPO / "interviews").glob("*.md"):
        if "\nlanguage: ru\n" in path.read_text(encoding="utf-8"):
            shutil.copy(path, root / "interviews" / path.name)
    assert build_base(load_base(root)).failed == 0
    return root


@pytest.fixture(scope="module")
def site(ru_base):
    from custdev.site import make_datasette

    return make_datasette(load_base(ru_base))


def get(ds, path: str, **kw):
    return asyncio.run(ds.client.get(path, **kw))


def pages(root: Path) -> list[str]:
    conn = sqlite3.connect(root / "custdev.db")
    quote, interview = conn.execute("SELECT id, interview_id FROM quotes ORDER BY id LIMIT 1").fetchone()
    pain = conn.execute("SELECT pain FROM quote_pains LIMIT 1").fetchone()[0]
    segment = conn.execute("SELECT segment FROM interview_segments LIMIT 1").fetchone()[0]
    conn.close()
    return [
        "/", "/custdev/search", "/custdev/search?q=счета", "/custdev/search?q=счета&speaker=respondent",
        "/custdev/search?q=зубочистка", f"/custdev/quotes/{quote}", f"/custdev/interviews/{interview}", "/-/charts",
        "/custdev/pains_by_segment", f"/custdev/pains_by_segment?segment={segment}", f"/custdev/quotes_of_pain?pain={pain}",
        "/custdev/interviews_of_segment", f"/custdev/interviews_of_segment?segment={segment}",
        # meaning: close in meaning (search), similar quotes (the quote page above), the themes board; the journey
        "/custdev/search?q=дорого", "/-/themes", "/-/journey",
        # Datasette's own pages: the database, a table, a view, a row, the SQL editor (crumbs, menu and footer on all)
        "/custdev", "/custdev/quotes", "/custdev/pain_prevalence", f"/custdev/segments/{segment}", "/custdev?sql=select+1",
    ]


def test_every_page_of_a_russian_base_has_no_english_label(site, ru_base):
    """No catalog string left in English, and no run of English words at all in what a reader sees (the codebook's
    own English titles are data), on every page: custdev's and Datasette's."""
    data = data_strings(ru_base)
    for path in pages(ru_base):
        r = get(site, path)
        assert r.status_code == 200, path
        assert english_leftovers(r.text, data) == [], path
        assert english_runs(r.text, data) == [], path
        assert re.search(r"[а-яё]{4}", r.text), path
        assert not re.search(r"\d\.\d+ ч\b|\d\.\d+%", visible_text(r.text)), path  # numbers with a decimal comma


def test_english_runs_sees_english_that_no_catalog_holds():
    page = "<p>Всё готово.</p><p>Powered by Datasette · Queries took 3ms</p><p>SQL · CSV · custdev build</p><code>select pain from quotes</code>"
    assert english_runs(page) == ["Powered by", "Queries took"]
    assert english_runs("<p>Manual bank reconciliation</p>", ["Manual bank reconciliation"]) == []


def test_login_page_of_a_shared_russian_base(ru_base, monkeypatch):
    from custdev.site import make_datasette
    from custdev.site.auth import hash_password

    monkeypatch.setenv("CUSTDEV_PASSWORD_HASH", hash_password("correct horse"))
    ds = make_datasette(load_base(ru_base), share=True, secret="s" * 32)
    page = get(ds, "/-/login").text
    assert "Вход" in page and "Пароль" in page and english_leftovers(page) == []
    expired = asyncio.run(ds.client.post("/-/login", data={"username": "custdev", "password": "wrong", "csrftoken": ""}))
    assert english_leftovers(expired.text) == []
    assert expired.status_code == 403 and "Форма устарела; войдите ещё раз." in expired.text

    async def wrong_passwords(n):
        page = await ds.client.get("/-/login")
        token = re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)
        form = {"username": "custdev", "password": "wrong", "csrftoken": token}
        return [await ds.client.post("/-/login", data=form, cookies=dict(page.cookies)) for _ in range(n)]

    from custdev.site.auth import MAX_FAILURES

    answers = asyncio.run(wrong_passwords(MAX_FAILURES + 1))
    assert "Неверное имя пользователя или пароль." in answers[0].text
    # past the limit: the login page again, saying how long to wait (it was a JSON error, in English)
    locked = answers[-1]
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    assert "text/html" in locked.headers["content-type"]
    assert "Слишком много неверных паролей; попробуйте снова через 1 мин." in locked.text
    assert english_leftovers(locked.text) == []


def test_plain_answers_of_the_site_are_in_russian(site, ru_base):
    """`custdev purge` deletes recordings past retain_audio_until; the audio route then says so, in Russian. So does
    the local site's answer to a request for another host name (DNS rebinding)."""
    interview = sqlite3.connect(ru_base / "custdev.db").execute("SELECT id FROM interviews LIMIT 1").fetchone()[0]
    r = get(site, f"/-/custdev/audio/{interview}")
    assert r.status_code == 404 and r.text == "У этого интервью нет записи"
    assert get(site, f"/-/custdev/audio/{interview}?_lang=en").text == "No recording for this interview"
    other = get(site, "/", headers={"host": "evil.example"})
    assert other.status_code == 403 and other.text == "Неизвестное имя хоста: этот сайт отвечает только по своему адресу."
    english = get(site, "/?_lang=en", headers={"host": "evil.example"})
    assert english.status_code == 403 and english.text == "Unknown host: this site only answers on its own address."


def test_lang_argument_switches_a_viewer_to_english_and_is_remembered(site):
    r = get(site, "/?_lang=en")
    assert "Search everything" in r.text and "Most mentioned pains" in r.text
    assert "custdev_lang=en" in r.headers.get("set-cookie", "")
    follow = get(site, "/custdev/search", cookies={"custdev_lang": "en"})
    assert "Words in any form" in follow.text
    assert "Поиск по всему" in get(site, "/custdev/search").text  # other viewers still see Russian
    assert "Поиск по всему" in get(site, "/?_lang=de").text  # an unknown language is ignored


def test_serve_language_overrides_the_base(ru_base):
    from custdev.site import make_datasette

    ds = make_datasette(load_base(ru_base), language="en")
    assert "Most mentioned pains" in get(ds, "/").text
    result = CliRunner().invoke(__import__("custdev.cli", fromlist=["app"]).app,
                                ["serve", "--base", str(ru_base), "--language", "de", "--no-build", "--no-open"])
    assert result.exit_code == 1 and "Ошибка: --language должен быть 'en' или 'ru', а не 'de'" in result.stderr  # a Russian base


def test_russian_plurals_on_the_home_page(site):
    page = get(site, "/").text
    assert re.search(r"<strong>4</strong> интервью", page)
    assert re.search(r"<strong>\d+</strong> (цитата|цитаты|цитат)<", page)


def test_serve_first_line_is_russian(ru_base):
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "custdev", "serve", "--base", str(ru_base), "--port", "0", "--no-open", "--no-build", "--workers", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        first = proc.stdout.readline()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert re.fullmatch(r"Сайт «Исследование Ledgerly» открыт по адресу http://127\.0\.0\.1:\d+/\n", first), first


def _schema(root: Path) -> dict[str, list[str]]:
    """Every table and view of a built base (not SQLite's or FTS5's own) with its columns."""
    conn = sqlite3.connect(root / "custdev.db")
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE "
                                        "'sqlite_%' AND name NOT LIKE '%_fts' AND name NOT LIKE '%_fts_%' ORDER BY name")]
    out = {name: [r[1] for r in conn.execute(f'PRAGMA table_info("{name}")')] for name in names}
    conn.close()
    return out


def test_every_table_and_column_of_a_base_has_a_heading(ru_base):
    """A migration that adds a table or a column adds its heading too (custdev/site/labels.py)."""
    from custdev.site.labels import COLUMN_LABELS, TABLE_LABELS

    schema = _schema(ru_base)
    assert len(schema) > 30
    assert [t for t in schema if t not in TABLE_LABELS] == []
    assert sorted({c for cols in schema.values() for c in cols} - set(COLUMN_LABELS)) == []


def _headings(page: str, tag: str) -> list[str]:
    return [" ".join(re.sub(r"<[^>]+>|[▼▲]|&nbsp;", " ", h).split()) for h in re.findall(rf"(?s)<{tag}[^>]*>(.*?)</{tag}>", page)]


def test_every_table_page_of_a_russian_base_has_russian_headings(site, ru_base):
    """Seen: "utterances", "respondents", "quote_pains" as page titles, "title", "turn_count", "description" as column
    headings, "home" in the crumbs of an interview or quote, "sorted by date descending" under a table's title."""
    latin_only = {"id", "NPS", "Markdown"}
    for table in _schema(ru_base):
        page = get(site, f"/custdev/{table}?_nofacet=1").text
        headings = _headings(page, "h1") + _headings(page, "th")
        assert headings, table
        assert [h for h in headings if not re.search("[а-яё]", h, re.I) and h not in latin_only] == [], table
    conn = sqlite3.connect(ru_base / "custdev.db")
    interview, quote = conn.execute("SELECT interview_id, id FROM quotes LIMIT 1").fetchone()
    conn.close()
    for path in (f"/custdev/interviews/{interview}", f"/custdev/quotes/{quote}"):
        crumbs = re.search(r'(?s)<p class="crumbs">(.*?)</p>', get(site, path).text).group(1)
        assert " ".join(re.sub(r"<[^>]+>", " ", crumbs).split()) == "главная / custdev / " + ("Интервью" if "interviews" in path else "Цитаты")
    page = get(site, "/custdev/utterances?_search=счета&speaker_role=respondent&_sort_desc=start_s").text
    assert "где поиск находит «счета» и Роль говорящего = «respondent»; сортировка: Время, по убыванию" in page
    assert "sorted by" not in get(site, "/custdev/interviews").text
    english = get(site, "/custdev/utterances?_search=invoice&speaker_role=respondent&_sort_desc=start_s&_lang=en").text
    assert 'where search matches "invoice" and Speaker role = "respondent" sorted by Time descending' in html.unescape(english)


def test_error_pages_of_a_russian_base_are_russian(site, ru_base):
    """Seen: a mistyped link showed "Error 404 / Table not found" on a Russian site."""
    for path, status, text in (("/custdev/nosuchtable", 404, "Таблица не найдена"), ("/custdev/quotes/999", 404, "Запись не найдена"),
                               ("/custdev/interviews?_sort=nope", 400, "Таблицу нельзя сортировать по nope")):
        r = get(site, path)
        assert r.status_code == status and f"Ошибка {status}" in r.text and text in r.text, path
        assert '<html lang="ru">' in r.text
    from custdev.site import make_datasette

    english = get(make_datasette(load_base(ru_base), language="en"), "/custdev/nosuchtable").text
    assert "Error 404" in english and "Table not found" in english and '<html lang="en">' in english


def test_error_pages_follow_the_viewers_language(site, ru_base):
    """Seen: an English viewer (?_lang=en, or the cookie it leaves) of a Russian base got «Ошибка 404 / Таблица не
    найдена», a Russian viewer of an English site "Error 404": Datasette renders error pages without the request."""
    english = get(site, "/custdev/nosuchtable?_lang=en")
    assert english.status_code == 404 and "Error 404" in english.text and "Table not found" in english.text
    assert '<html lang="en">' in english.text and "Ошибка" not in english.text
    assert english.cookies.get("custdev_lang") == "en"
    remembered = get(site, "/custdev/quotes/999", cookies={"custdev_lang": "en"}).text
    assert "Error 404" in remembered and "Record not found" in remembered
    assert "Ошибка 404" in get(site, "/custdev/nosuchtable").text  # the next viewer without a choice: the base's
    from custdev.site import make_datasette

    english_site = make_datasette(load_base(ru_base), language="en")
    russian = get(english_site, "/custdev/nosuchtable?_lang=ru").text
    assert "Ошибка 404" in russian and "Таблица не найдена" in russian and '<html lang="ru">' in russian
    assert "Ошибка 404" in get(english_site, "/custdev/nosuchtable", cookies={"custdev_lang": "ru"}).text
    assert "Error 404" in get(english_site, "/custdev/nosuchtable").text


def test_a_binary_cell_reads_in_the_viewers_language(site, ru_base):
    """Seen: "<Binary: 1,024 bytes>" in the vector column of «Векторы смысла» (embeddings) on a Russian base."""
    conn = sqlite3.connect(ru_base / "custdev.db")
    interview = conn.execute("SELECT id FROM interviews LIMIT 1").fetchone()[0]
    with conn:  # a vector of its own: a base built without the meaning model has none
        conn.execute("INSERT INTO embeddings VALUES ('quote', -1, 0, ?, 'test', ?)", [interview, bytes(1024)])
    try:
        for path in ("/custdev/embeddings?item_id=-1", "/custdev/embeddings/quote,-1,0",
                     "/custdev?sql=select+vector+from+embeddings+where+item_id+%3D+-1"):
            page = get(site, path).text
            assert ('title="1,0 КБ">&lt;Двоичные&nbsp;данные:&nbsp;1\xa0024&nbsp;байта&gt;</a>' in page and "Binary" not in page), path
            english = get(site, path + ("&" if "?" in path else "?") + "_lang=en").text
            assert 'title="1.0 KB">&lt;Binary:&nbsp;1,024&nbsp;bytes&gt;</a>' in english, path  # Datasette's own words
            link = re.search(r'<a class="blob-download" href="([^"]+)"', page).group(1)
            assert get(site, html.unescape(link)).content == bytes(1024), path  # the link still downloads it
    finally:
        with conn:
            conn.execute("DELETE FROM embeddings WHERE item_id = -1")
        conn.close()


def test_verdicts_in_tables_follow_the_viewers_language(site):
    """Seen: an English viewer (?_lang=en) of a Russian base read «системная», «неясно» in the verdict column of
    pain_prevalence: render_cell sees no request, so it said the base's language."""
    cells = lambda page: re.findall(r'<td class="col-verdict[^>]*>(.*?)</td>', page)  # noqa: E731
    russian = cells(get(site, "/custdev/pain_prevalence").text)
    assert russian and set(russian) <= {"системная", "локальная", "неясно"}, russian
    for english in (get(site, "/custdev/pain_prevalence?_lang=en").text,
                    get(site, "/custdev/pain_prevalence", cookies={"custdev_lang": "en"}).text):
        assert cells(english) and set(cells(english)) <= {"systemic", "local", "unclear"}, cells(english)


def test_a_table_link_with_a_bad_sort_or_page_size_is_a_russian_400(site):
    """Seen: ?_sort=nope said «Ошибка 500» (Datasette's status for it), and ?_size=abc / ?_size=5000 explained
    themselves in English."""
    sort = get(site, "/custdev/utterances?_sort=nope")
    assert sort.status_code == 400 and "Ошибка 400" in sort.text and "Таблицу нельзя сортировать по nope" in sort.text
    assert get(site, "/custdev/utterances?_sort_desc=nope").status_code == 400
    size = get(site, "/custdev/utterances?_size=abc")
    assert size.status_code == 400 and "Размер страницы (_size) должен быть целым положительным числом" in size.text
    too_big = get(site, "/custdev/utterances?_size=5000")
    assert too_big.status_code == 400 and "Размер страницы (_size) — не больше 1000" in too_big.text
    assert "The page size (_size) can be at most 1000" in get(site, "/custdev/utterances?_size=5000&_lang=en").text
    for page in (sort, size, too_big):
        assert "_size must" not in page.text and "Cannot sort" not in page.text


def test_a_view_description_names_its_columns_as_the_page_shows_them(site):
    """Seen: the page of the view «Боли, которые упоминают вместе» explained its columns as «together — интервью, где
    упомянуты обе; jaccard — together ÷ интервью хотя бы с одной из них», while its headings read «Вместе» and «Индекс
    Жаккара»."""
    page = get(site, "/custdev/pain_cooccurrence").text
    assert "«Вместе» — интервью, где упомянуты обе; индекс Жаккара — «Вместе» ÷ интервью хотя бы с одной из них" in page, page
    assert not re.search(r"\b(together|jaccard)\b", visible_text(page)), visible_text(page)


def test_a_column_description_names_a_table_by_its_russian_title(site):
    """Seen: the interviews page described its respondent column as «Респондент (см. respondents).», while that table
    is titled «Респонденты» everywhere on the site."""
    text = visible_text(get(site, "/custdev/interviews").text)
    assert "Респондент (см. таблицу «Респонденты»)." in text and "см. respondents" not in text, text


def test_counts_past_a_thousand_on_the_site_of_a_russian_base_are_grouped_the_russian_way(tmp_path):
    """Seen: the search page of a Russian base with many matches said «Больше 1,000 совпадений: 0 цитат и 1,000 других
    реплик… учитывают первые 1,000 совпадений каждого вида», and facet counts read «1,100»: English grouping, where
    the rest of the site writes 1 000."""
    from custdev.site import make_datasette

    root = tmp_path / "ru"
    assert CliRunner().invoke(app, ["init", str(root), "--language", "ru"]).exit_code == 0
    turns = "".join(f"**Анна:** Сверка выписки номер {n}\n\n" for n in range(1100))
    (root / "interviews" / "big.md").write_text(f"---\nid: big\n---\n\n{turns}", encoding="utf-8")
    assert build_base(load_base(root)).failed == 0
    site = make_datasette(load_base(root))
    text = visible_text(get(site, "/custdev/search?q=сверка").text).replace("\u00a0", " ")
    assert "1 000 других реплик" in text and "первые 1 000 совпадений" in text, text
    assert not re.search(r"\d,\d{3}", text), text
    facets = visible_text(get(site, "/custdev/utterances?_facet=speaker").text).replace("\u00a0", " ")
    assert "1 100" in facets and "1,100" not in facets, facets


def test_the_channel_facet_of_the_search_page_of_a_russian_base_is_russian(tmp_path):
    """Seen: with survey answers imported, the search page of a Russian base showed its facet «Channel: Interviews 3 ·
    Survey comments 1» in English among Russian facets («Сегмент», «Говорящий»)."""
    from custdev.site import make_datasette

    root = tmp_path / "ru"
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(root), "--language", "ru"]).exit_code == 0
    (root / "interviews" / "a.md").write_text("---\nid: a\n---\n\n**Анна:** Сверка выписки вручную\n", encoding="utf-8")
    export = tmp_path / "nps.csv"
    export.write_text("Комментарий\nСверка выписки занимает весь вечер\n", encoding="utf-8")
    assert runner.invoke(app, ["import", str(export), "--channel", "survey", "--base", str(root)]).exit_code == 0
    site = make_datasette(load_base(root))
    text = " ".join(visible_text(get(site, "/custdev/search?q=сверка").text).split())
    assert "Канал Интервью 1 Комментарии опросов 1" in text, text
    assert english_runs(text, ["Сверка выписки вручную"]) == [] and "Channel" not in text, text


def test_the_channel_search_query_of_a_russian_base_has_russian_headings(tmp_path):
    """Seen: the canned query «Поиск по опросам, обращениям и чатам» of a Russian base headed two of its columns
    «snippet» and «rank», beside «Канал», «Строка выгрузки», «Текст»."""
    from custdev.site import make_datasette

    root = tmp_path / "ru"
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(root), "--language", "ru"]).exit_code == 0
    export = tmp_path / "nps.csv"
    export.write_text("Комментарий\nСверка выписки занимает весь вечер\n", encoding="utf-8")
    assert runner.invoke(app, ["import", str(export), "--channel", "survey", "--base", str(root)]).exit_code == 0
    site = make_datasette(load_base(root))
    headings = _headings(get(site, "/custdev/search_responses?q=сверка&channel=survey").text, "th")
    assert "Канал" in headings and "Фрагмент" in headings and "Ранг (bm25)" in headings, headings
    assert [h for h in headings if not re.search("[а-яё]", h, re.I) and h not in {"NPS"}] == [], headings


def test_figures_in_the_analysis_tables_of_the_site_read_as_the_cli_writes_them(site, ru_base):
    """Seen: the site's analysis views showed SQLite's floats, «0.3057423946026273» for a Wilson bound and «0.625» for
    a share, with an English decimal point on a Russian page, where `custdev pains` writes «62,5%» and «30,6–86,3%».
    Now each figure reads as the CLI and the report write it, in the viewer's language; JSON keeps the numbers."""
    from custdev.i18n import decimal, percent

    def cells(page: str, column: str) -> list[str]:
        found = [html.unescape(c) for c in re.findall(rf'<td class="col-{column} [^>]*>(.*?)</td>', page)]
        return [c for c in found if c.strip()]  # an empty cell (no figure) is &nbsp;

    conn = sqlite3.connect(ru_base / "custdev.db")
    prevalence = conn.execute("SELECT share, ci_low, ci_high FROM pain_prevalence").fetchall()
    jaccard = [r[0] for r in conn.execute("SELECT jaccard FROM pain_cooccurrence LIMIT 100")]
    nps = [r[0] for r in conn.execute("SELECT nps FROM nps_by_segment WHERE nps IS NOT NULL")]
    chao1 = [r[0] for r in conn.execute("SELECT chao1 FROM pain_richness WHERE chao1 IS NOT NULL")]
    conn.close()
    assert prevalence and jaccard and nps and chao1
    signed = lambda v, lang: ("+" if v > 0 else "-" if v < 0 else "") + decimal(abs(v), lang, fixed=True)  # noqa: E731
    for lang, query in (("ru", ""), ("en", "?_lang=en")):
        page = get(site, f"/custdev/pain_prevalence{query}").text
        for n, column in enumerate(("share", "ci_low", "ci_high")):  # (the page sorts the view by its metadata)
            assert sorted(cells(page, column)) == sorted(percent(r[n], lang, fixed=True) for r in prevalence), (lang, column)
        assert sorted(cells(get(site, f"/custdev/pain_cooccurrence{query}").text, "jaccard")) == sorted(decimal(v, lang, 2, fixed=True) for v in jaccard)
        assert sorted(cells(get(site, f"/custdev/nps_by_segment{query}").text, "nps")) == sorted(signed(v, lang) for v in nps)
        assert sorted(cells(get(site, f"/custdev/pain_richness{query}").text, "chao1")) == sorted(decimal(v, lang, fixed=True) for v in chao1)
        assert not re.search(r">\s*-?\d+\.\d{4,}\s*<", page), lang  # no raw float anywhere on the page
    rows = get(site, "/custdev/pain_prevalence.json?_shape=array").json()
    assert sorted((r["share"], r["ci_low"], r["ci_high"]) for r in rows) == sorted(prevalence)
