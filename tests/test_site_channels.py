"""The research site's channel facet: survey and ticket hits are counted next to interview hits and open in their own
search, with the same stemming; channel tables have their own pages."""

from __future__ import annotations

import asyncio
import html
import re
from urllib.parse import urlencode

import pytest
from typer.testing import CliRunner

from conftest import REPO, copy_base
from custdev.cli import app
from custdev.config import load_base


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("site-channels")
    root = copy_base(REPO, tmp / "base")
    (tmp / "s.csv").write_text(
        "Comment,Score,Plan\n"
        "Сверка выписки занимает весь вечер,4,smb-owners\n"
        "Сверку делаем вручную в Excel,6,ecommerce\n"
        "Great app,10,smb-owners\n", encoding="utf-8")
    (tmp / "t.csv").write_text("Body\nНе проходит сверка с банком\n", encoding="utf-8")
    for name, channel in (("s.csv", "survey"), ("t.csv", "ticket")):
        r = CliRunner().invoke(app, ["import", str(tmp / name), "--channel", channel, "--base", str(root)])
        assert r.exit_code == 0, r.output
    from custdev.site import make_datasette

    return make_datasette(load_base(root))


def get(ds, path):
    return asyncio.run(ds.client.get(path))


def test_search_page_has_a_channel_facet_linking_to_channel_search(ds):
    page = get(ds, "/custdev/search?q=сверка").text
    section = re.search(r'<section class="cd-facet" data-facet="channel">(.*?)</section>', page, re.S)
    assert section, "no channel facet"
    items = {html.unescape(v): int(n) for v, n in re.findall(r'data-value="([^"]*)">.*?</a> <span class="cd-num">([\d,]+)</span>', section.group(1), re.S)}
    assert items["survey"] == 2 and items["ticket"] == 1 and items["interview"] > 0
    link = html.unescape(re.search(r'href="([^"]*search_responses[^"]*channel=survey[^"]*)"', section.group(1)).group(1))
    rows = get(ds, link.replace("/custdev/search_responses?", "/custdev/search_responses.json?_shape=objects&")).json()["rows"]
    assert sorted(r["row"] for r in rows) == [2, 3]  # both word forms: «сверка», «сверку»
    assert all(r["channel"] == "survey" and "<mark>" in r["snippet"] for r in rows)


def test_channel_search_filters_by_segment_and_the_responses_table_has_facets(ds):
    rows = get(ds, "/custdev/search_responses.json?" + urlencode({"q": "сверка", "channel": "", "segment": "smb-owners", "pain": "", "_shape": "objects"})).json()["rows"]
    assert [r["row"] for r in rows] == [2]
    table = get(ds, "/custdev/responses.json?_facet=channel&_shape=objects").json()
    counts = {f["value"]: f["count"] for f in table["facet_results"]["channel"]["results"]}
    assert counts == {"survey": 3, "ticket": 1}
    nps = get(ds, "/custdev/channel_nps_by_segment.json?_shape=objects").json()["rows"]
    assert {r["segment"]: (r["n"], r["nps"]) for r in nps} == {"ecommerce": (1, -100.0), "smb-owners": (2, 0.0)}
