"""The site's cheaper search paths (custdev.site.queries) show exactly what the plain queries show.

The search page matches once and counts its facets from that one pass; Datasette's table search counts on the
full-text index alone. Both must give the rows, counts and facets that SEARCH_SQL, FACETS_SQL and Datasette's own
table-search SQL give, on a real built base (the sample interviews).
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path

import pytest

from custdev.build import build_base
from custdev.config import load_base
from custdev.site import make_datasette, queries
from custdev.site.searchsql import FACETS_SQL, HITS_SQL, SEARCH_SQL, site_fts_query, snippet_sql

REPO = Path(__file__).resolve().parent.parent

SEARCHES = [
    {"q": "оплаты"},
    {"q": "счета", "segment": "smb-owners"},
    {"q": "invoice", "speaker": "respondent"},
    {"q": "оплата", "pain": "late-payments"},
    {"q": "excel", "tag": "workaround"},
    {"q": '"ручная сверка" OR invoices'},
    {"q": "reconcil*"},
    {"q": "оплаты AND"},  # broken syntax: the plain words are searched
]


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    from conftest import copy_base

    root = copy_base(REPO, tmp_path_factory.mktemp("speed") / "base")
    assert build_base(root).failed == 0
    return root


@pytest.fixture(scope="module")
def ds(base):
    return make_datasette(load_base(base))


def plain(base: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{base / 'custdev.db'}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    conn.create_function("custdev_match", 1, site_fts_query, deterministic=True)
    conn.create_function("escape_fts", 1, site_fts_query, deterministic=True)
    conn.create_function("custdev_snippet", 2, snippet_sql, deterministic=True)
    return conn


def params(search: dict) -> dict:
    return {"q": "", "segment": "", "pain": "", "tag": "", "speaker": "", "interview": "", **search}


@pytest.mark.parametrize("search", SEARCHES, ids=lambda s: " ".join(s.values()))
def test_search_hits_and_facets_are_those_of_the_plain_queries(ds, base, search):
    conn = plain(base)
    p = params(search)
    expected_rows = [dict(r) for r in conn.execute(SEARCH_SQL, p)]
    got = asyncio.run(ds.client.get("/custdev/search.json", params={**search, "_shape": "objects"})).json()["rows"]
    assert got == expected_rows
    expected_facets: dict = {}
    for r in conn.execute(FACETS_SQL, p):
        expected_facets.setdefault(r["facet"], []).append((r["value"], r["n"]))
    conn.execute("create temp table custdev_hits as " + HITS_SQL, p)
    for maps in (True, False):  # from the per-base maps, and by SQL while a build is writing
        facets = queries.facet_counts(conn, ("test", search["q"]), maps=maps)
        assert {k: sorted(v, key=repr) for k, v in facets.items()} == {k: sorted(v, key=repr) for k, v in expected_facets.items()}
        assert facets.get("interview") == expected_facets.get("interview")  # the same 12, in the same order


def test_search_page_facet_counts_are_those_of_the_facet_query(ds, base):
    p = params({"q": "оплаты"})
    by = {}
    for r in plain(base).execute(FACETS_SQL, p):
        by.setdefault(r["facet"], {})[r["value"]] = r["n"]
    page = asyncio.run(ds.client.get("/custdev/search", params={"q": "оплаты"})).text
    shown = {
        (facet, value): int(n.replace(",", ""))
        for facet, block in re.findall(r'data-facet="(\w+)">(.*?)</section>', page, re.S)
        for value, n in re.findall(r'data-value="([^"]*)">[^<]*</a> <span class="cd-num">([\d,]+)</span>', block)
    }
    assert shown and all(by[facet][value] == n for (facet, value), n in shown.items() if facet != "channel")
    assert sum(by["kind"].values()) > 0


@pytest.mark.parametrize("table", ["utterances", "quotes"])
def test_table_search_count_and_first_page_come_from_the_index_unchanged(ds, base, table):
    conn = plain(base)
    count_sql = f"select count(*) from {table} where id in (select rowid from {table}_fts where {table}_fts match escape_fts(:search)) "
    page_sql = f"select id from {table} where id in (select rowid from {table}_fts where {table}_fts match escape_fts(:search)) order by id limit 3"
    assert queries.table_search_sql(count_sql) != count_sql and queries.table_search_sql(page_sql) != page_sql
    for word in ("оплаты", "invoices", "excel"):
        assert conn.execute(queries.table_search_sql(count_sql), {"search": word}).fetchall() == conn.execute(count_sql, {"search": word}).fetchall()
        assert [r[0] for r in conn.execute(queries.table_search_sql(page_sql), {"search": word})] == [r[0] for r in conn.execute(page_sql, {"search": word})]
    n = conn.execute(count_sql, {"search": "оплаты"}).fetchone()[0]
    page = asyncio.run(ds.client.get(f"/custdev/{table}", params={"_search": "оплаты"})).text
    assert n > 0 and re.search(rf"\b{n}\b", page)
    # Any other table SQL (another filter, another order) is Datasette's own.
    other = count_sql.replace(") ", ") and speaker_role = :p0 ")
    assert queries.table_search_sql(other) == other
    assert queries.table_search_sql(page_sql.replace("order by id", "order by seq")) == page_sql.replace("order by id", "order by seq")


def test_table_pages_follow_a_schema_change_while_the_site_runs(base):
    """The site answers Datasette's schema questions from a cache (custdev.site.schema_cache): a column added while
    it runs (as a build's migration would) shows on the next page, and a dropped table is gone."""
    root = base
    site = make_datasette(load_base(root))

    async def pages():
        first = await site.client.get("/custdev/tags")
        await site.client.get("/custdev/tags")  # answered from the cache now
        with sqlite3.connect(root / "custdev.db") as conn:
            conn.execute("alter table tags add column custdev_new_column text")
            conn.execute("create table custdev_scratch (id integer primary key)")
        added = await site.client.get("/custdev/tags")
        scratch = await site.client.get("/custdev/custdev_scratch")
        with sqlite3.connect(root / "custdev.db") as conn:
            conn.execute("drop table custdev_scratch")
            conn.execute("alter table tags drop column custdev_new_column")  # the module's base as it was
        gone = await site.client.get("/custdev/custdev_scratch")
        return first, added, scratch, gone

    first, added, scratch, gone = asyncio.run(pages())
    assert first.status_code == 200 and "custdev_new_column" not in first.text
    assert added.status_code == 200 and "custdev_new_column" in added.text
    assert scratch.status_code == 200 and gone.status_code == 404


def test_the_site_loads_the_facet_maps_and_dictionaries_when_it_starts(base):
    """`custdev serve` warms each server process in the background at start-up, so the first search page does not
    wait for the facet maps (and pymorphy3's dictionaries) to load."""
    from custdev.site.common import db_stamp

    site = make_datasette(load_base(base))
    queries._maps_cache.data.clear()  # earlier search pages of this module loaded them

    async def start():
        await site.invoke_startup()
        await site._custdev_warm_up
        return site.get_database("custdev")

    db = asyncio.run(start())
    assert queries._maps_cache.get((db.path, db_stamp(db.path))) is not None



def test_search_page_counts_facets_of_a_base_with_text_that_is_not_utf8(base):
    """The facet counts read the hits with Python's own UTF-8 decoder (custdev build writes nothing else). A base
    another tool wrote bytes into that are not UTF-8 still gets its page and its counts, by the facet query."""
    site = make_datasette(load_base(base))
    with sqlite3.connect(base / "custdev.db") as conn:
        qid, interview = conn.execute("select q.id, q.interview_id from quotes_fts f join quotes q on q.id = f.rowid "
                                      "where quotes_fts match ? limit 1", [site_fts_query("оплаты")]).fetchone()
        conn.execute("update quotes set interview_id = cast(x'4dc3ff' as text) where id = ?", [qid])
    try:
        page = asyncio.run(site.client.get("/custdev/search", params={"q": "оплаты"}))
    finally:
        with sqlite3.connect(base / "custdev.db") as conn:
            conn.execute("update quotes set interview_id = ? where id = ?", [interview, qid])
    assert page.status_code == 200
    assert 'data-facet="segment"' in page.text and 'data-facet="interview"' in page.text


# The search page's hit list as _custdev_search_results.html wrote it with a Jinja loop (before
# custdev.site.queries.search_hits_html): the reference the Python version must match byte for byte.
HITS_LOOP = """{%- set label_quote, label_turn, label_interviewer, label_respondent = _("Quote"), _("Turn"), _("interviewer"), _("respondent") %}
    {%- set interviews_url, quotes_url = urls.table(database, "interviews")|string ~ "/", urls.table(database, "quotes")|string ~ "/" %}
    <ol class="cd-hits">
      {% for row in hits %}
      {%- set interview_url = interviews_url ~ row["interview_id"]|custdev_pk %}
      <li class="cd-hit cd-hit-{{ row["kind"] }}">
        <div class="cd-hit-meta">
          <span class="cd-badge cd-badge-{{ row["kind"] }}">{% if row["kind"] == "quote" %}{{ label_quote }}{% else %}{{ label_turn }}{% endif %}</span>
          <span class="cd-speaker role-{{ row["speaker_role"] }}">{{ row["speaker"] }}</span>
          <span class="cd-muted">{% if row["speaker_role"] == "interviewer" %}{{ label_interviewer }}{% elif row["speaker_role"] == "respondent" %}{{ label_respondent }}{% else %}{{ row["speaker_role"] }}{% endif %}</span>
          {% if row["start_s"] is not none %}<span class="cd-time-label">{{ row["start_s"]|custdev_time }}</span>{% endif %}
          {% if row["meaning_only"] %}<span class="cd-badge cd-badge-meaning" title="{{ _("None of the words match: close in meaning (sentence embeddings), in any language") }}">{{ _("close in meaning") }}</span>{% endif %}
        </div>
        <p class="cd-snippet">
          {% if row["kind"] == "quote" %}<a href="{{ quotes_url ~ row["quote_id"]|custdev_pk }}">{% else %}<a href="{{ interview_url }}#turn-{{ row["utterance_id"] }}">{% endif %}{{ row["text"]|custdev_highlight(s.q) }}</a>
        </p>
        {% if row["unsure"] %}{% set doubt = row["unsure"]|custdev_unsure %}{% if doubt %}<p class="cd-unsure cd-unsure-small" role="note">⚠ {{ _("Rests on uncertain words:") }} {% for w in doubt %}<q class="cd-unsure-word">{{ w }}</q>{% if not loop.last %}, {% endif %}{% endfor %}</p>{% endif %}{% endif %}
        <p class="cd-hit-source"><a href="{{ interview_url }}">{{ row["interview_title"] or row["interview_id"] }}</a></p>
      </li>
      {% endfor %}
    </ol>"""


def hit_list(page: str) -> str:
    return page[page.index('\n    <ol class="cd-hits">'):page.index("</ol>") + 5]


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_search_page_hits_are_those_of_the_template_loop(ds, lang):
    """The search page writes its hits in Python (custdev.site.queries.search_hits_html): the same HTML as the
    template's loop wrote, for the base's hits and for hits with every branch (quotes and turns, roles, no time,
    meaning-only hits, uncertain words, markup characters, ids that need encoding)."""
    asyncio.run(ds.invoke_startup())  # the plugin's filters and globals
    sync = ds.jinja_env.overlay()
    sync.is_async = False
    loop = sync.from_string(HITS_LOOP)
    calls = sync.from_string('{%- set label_quote, label_turn, label_interviewer, label_respondent = _("Quote"), _("Turn"), '
                             '_("interviewer"), _("respondent") %}' + HITS_LOOP[HITS_LOOP.index("\n    {%- set interviews_url"):
                                                                                   HITS_LOOP.index("<ol")]
                             + '<ol class="cd-hits">\n      {{ custdev_search_hits(hits, s.q, interviews_url, quotes_url, '
                             '{"quote": label_quote, "turn": label_turn, "interviewer": label_interviewer, "respondent": '
                             'label_respondent, "meaning_title": _("None of the words match: close in meaning (sentence '
                             'embeddings), in any language"), "meaning": _("close in meaning"), "unsure": _("Rests on '
                             'uncertain words:")}) }}\n    </ol>')
    context = {"urls": ds.urls, "database": "custdev", "custdev_lang": lang}
    for q in ("invoice", "оплаты", "excel"):
        path = f"/custdev/search?q={q}&_lang={lang}"
        page = asyncio.run(ds.client.get(path)).text
        hits = asyncio.run(ds.client.get(f"/custdev/search.json?q={q}&_shape=objects")).json()["rows"]
        assert hits and hit_list(page) == loop.render(hits=hits, s={"q": q}, **context), path
    odd = [
        {"kind": "quote", "quote_id": "q/1 ~x", "utterance_id": 7, "interview_id": "a&b <c>", "interview_title": None,
         "speaker": 'Tom "T" O\'Neil', "speaker_role": "respondent", "start_s": 3725.4, "text": "<b>invoice</b> & co",
         "unsure": '["счёт", "<x>"]'},
        {"kind": "utterance", "quote_id": None, "utterance_id": 8, "interview_id": "i-1", "interview_title": "Title & more",
         "speaker": "Interviewer", "speaker_role": "interviewer", "start_s": None, "text": "Which invoice?", "unsure": "[]"},
        {"kind": "utterance", "quote_id": None, "utterance_id": 9, "interview_id": "i-1", "interview_title": "T",
         "speaker": None, "speaker_role": None, "start_s": 0, "text": "", "unsure": "not json"},
        {"kind": "quote", "quote_id": 12, "utterance_id": None, "interview_id": "i-2", "interview_title": "T2",
         "speaker": "Anna", "speaker_role": "other", "start_s": 61, "text": "close in meaning", "cos": 0.4,
         "meaning_only": True},
    ]
    expected = loop.render(hits=odd, s={"q": "invoice"}, **context)
    assert calls.render(hits=odd, s={"q": "invoice"}, **context) == expected
    assert "cd-badge-meaning" in expected and "cd-unsure-word" in expected and "&lt;b&gt;" in expected
