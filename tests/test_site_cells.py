"""custdev's table pages show the very HTML Datasette's own per-cell pipeline shows (custdev.site.cells).

custdev prepares the cells of its own database's table pages itself, calling its ``render_cell`` directly instead
of through the plugin hook per cell. Every page here is rendered both ways (``cells.ENABLED`` off: Datasette 0.65's
``display_columns_and_rows``) and must be byte-identical: searches, sorts, filters, pages after the first, labels,
foreign keys, compound keys, views with translated verdicts, and a table of odd cells (blobs, nulls, empty strings,
URLs, markup characters, text longer than Datasette's cut). Another plugin that renders cells gets its way.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path

import pytest
from datasette import hookimpl
from datasette.plugins import pm

from custdev.build import build_base
from custdev.config import load_base
from custdev.site import cells, make_datasette

REPO = Path(__file__).resolve().parent.parent

PAGES = [
    "/custdev/utterances?_search=оплаты",
    "/custdev/utterances?_search=invoice&_sort_desc=start_s",
    "/custdev/utterances?speaker_role=respondent&_sort=start_s&_size=7",
    "/custdev/utterances?_size=5&_next=5",
    "/custdev/utterances?_search=оплаты&_lang=en",
    "/custdev/quotes",
    "/custdev/quotes?_search=excel&_labels=off",
    "/custdev/interviews",
    "/custdev/interviews?_sort=nps&_label=respondent_id",
    "/custdev/quote_tags?_size=30",
    "/custdev/interview_segments?segment=smb-owners",
    "/custdev/pain_prevalence",
    "/custdev/pain_by_segment?verdict=systemic",
    "/custdev/hypothesis_evidence",
    "/custdev/meta",
    "/custdev/cells_check",
    "/custdev/cells_check?_sort_desc=n&_size=3",
    "/custdev/cells_check?note__isnull=1",
    "/custdev/cells_check?_lang=en",
    "/custdev/cells_keys",
    "/custdev/cells_keys?_sort_desc=note",
]


QUERY_TIME = re.compile(r"&middot; [^<&]*?\d+([.,]\d+)? (ms|мс)\n")


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    from conftest import copy_base

    root = copy_base(REPO, tmp_path_factory.mktemp("cells") / "base")
    toml = root / "custdev.toml"
    toml.write_text(re.sub(r'(?m)^language = "en"', 'language = "ru"', toml.read_text(encoding="utf-8")), encoding="utf-8")
    assert build_base(root).failed == 0
    with sqlite3.connect(root / "custdev.db") as conn:  # a rowid table of odd cells, one of them an interview link
        conn.execute("create table cells_keys (id text primary key, note text)")  # keys to encode, labels to expand
        conn.executemany("insert into cells_keys values (?, ?)", [("a/b c", "<a & b>"), ("ключ~1.x", ""), ("plain_key-1", "P")])
        conn.execute("create table cells_check (note text, n real, data blob, url text, "
                     "interview_id text references interviews(id), key_ref text references cells_keys(id))")
        interview = conn.execute("select id from interviews order by id limit 1").fetchone()[0]
        conn.executemany("insert into cells_check values (?, ?, ?, ?, ?, ?)", [
            ("<b>Tom & \"Jerry\"</b> it's", 1.5, b"\x00\x01\x02", "https://example.com/a?b=1&c=<2>", interview, "a/b c"),
            (None, None, None, None, None, None),
            ("", 0, b"\x00", " http://example.com/lead ", "no-such-interview", "ключ~1.x"),
            ("Ё" * 2100, -2, b"x" * 5000, "https://example.com/" + "x" * 2100, interview, "plain_key-1"),
            ("http://not a url", 3, b"", "ftp://example.com", None, "missing"),
        ])
    return make_datasette(load_base(root))


def pages(ds, paths: list[str], fast: bool) -> dict[str, str]:
    async def get_all():
        cells.ENABLED = fast
        try:
            out = {}
            for path in paths:
                response = await ds.client.get(path)
                assert response.status_code == 200, path
                out[path] = QUERY_TIME.sub("", response.text)  # the footer's "Queries took 4.1 ms"
            return out
        finally:
            cells.ENABLED = True

    return asyncio.run(get_all())


def render_cell_hook_calls(ds, paths: list[str], fast: bool) -> int:
    calls = []
    undo = pm.add_hookcall_monitoring(lambda name, impls, kwargs: calls.append(name) if name == "render_cell" else None,
                                      lambda outcome, name, impls, kwargs: None)
    try:
        pages(ds, paths, fast)
    finally:
        undo()
    return len(calls)


def test_table_pages_are_those_of_datasettes_own_cells(ds):
    datasette = pages(ds, PAGES, fast=False)
    ours = pages(ds, PAGES, fast=True)
    for path in PAGES:
        assert ours[path] == datasette[path], path
    # What the pages show: the cells a reader sees, through either path.
    search = ours["/custdev/utterances?_search=оплаты"]
    assert re.search(r'<td class="col-id type-pk"><a href="/custdev/utterances/\d+">\d+</a></td>', search)
    assert re.search(r'<td class="col-interview_id type-str"><a href="/custdev/interviews/[\w-]+">[^<]+</a>&nbsp;<em>[\w-]+</em></td>', search)
    assert "системная" in ours["/custdev/pain_prevalence"]  # the verdicts in the base's language
    odd = ours["/custdev/cells_check"]
    assert "&lt;b&gt;Tom &amp; &#34;Jerry&#34;&lt;/b&gt; it&#39;s" in odd
    # a blob: Datasette's link, its words in the page's language (custdev.site.lang.blob_cell)
    assert '<a class="blob-download" href="/custdev/cells_check/1.blob?_blob_column=data">&lt;Двоичные&nbsp;данные:&nbsp;3&nbsp;байта&gt;</a>' in odd
    assert '<a class="blob-download" href="/custdev/cells_check/1.blob?_blob_column=data">&lt;Binary:&nbsp;3&nbsp;bytes&gt;</a>' in ours["/custdev/cells_check?_lang=en"]
    assert '<a href="https://example.com/a?b=1&amp;c=&lt;2&gt;">https://example.com/a?b=1&amp;c=&lt;2&gt;</a>' in odd
    assert '<a href="http://example.com/lead">http://example.com/lead</a>' in odd
    assert '<td class="col-note type-none">&nbsp;</td>' in odd and '<td class="col-note type-str">&nbsp;</td>' in odd
    assert "Ё" * 2048 + "\u2026" in odd and "Ё" * 2049 not in odd  # Datasette's cut of long text
    assert '<td class="col-interview_id type-str">no-such-interview</td>' in odd  # a key without its row: no link
    assert '<td class="col-note type-str">http://not a url</td>' in odd
    assert '<a href="/custdev/cells_keys/a~2Fb+c">&lt;a &amp; b&gt;</a>&nbsp;<em>a/b c</em>' in odd  # labels, encoded keys
    assert '<a href="/custdev/cells_keys/~D0~BA~D0~BB~D1~8E~D1~87~7E1~2Ex">-</a>&nbsp;<em>ключ~1.x</em>' in odd
    assert '<td class="col-id type-pk"><a href="/custdev/cells_keys/a~2Fb+c">a/b c</a></td>' in ours["/custdev/cells_keys"]


def test_table_pages_skip_the_per_cell_hook(ds):
    paths = ["/custdev/utterances?_search=оплаты", "/custdev/pain_prevalence"]
    assert render_cell_hook_calls(ds, paths, fast=False) > 100
    assert render_cell_hook_calls(ds, paths, fast=True) == 0


class _Shouting:
    @hookimpl
    def render_cell(self, value, column, database):
        if database == "custdev" and column == "speaker_role" and value:
            return value.upper()
        return None


def test_another_plugin_rendering_cells_gets_its_way(ds):
    """With a second render_cell implementation installed, every cell goes through the hook as Datasette does it."""
    path = "/custdev/utterances?_search=оплаты"
    pm.register(_Shouting(), name="test-shouting-cells")
    try:
        shouted = pages(ds, [path], fast=True)[path]
        assert shouted == pages(ds, [path], fast=False)[path]
        assert "RESPONDENT" in shouted
    finally:
        pm.unregister(name="test-shouting-cells")
    assert "RESPONDENT" not in pages(ds, [path], fast=True)[path]
