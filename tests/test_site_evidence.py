"""The site shows the evidence numbers of the CLI: verdicts, unheard pains with the curve, pains together, journey.

Served in-process from the hand-computed fixture base (tests/fixtures/analysis_base, README there).
"""

from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from custdev.config import load_base
from test_analysis import cli_json, make_base


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return make_base(tmp_path_factory.mktemp("site-evidence") / "base")


@pytest.fixture(scope="module")
def site(base):
    from custdev.site import make_datasette

    return make_datasette(load_base(base))


def get(site, path: str):
    r = asyncio.run(site.client.get(path))
    assert r.status_code == 200, (path, r.status_code)
    return r.text


def test_charts_page_shows_verdicts_unheard_pains_and_pains_together(site, base):
    page = get(site, "/-/charts")
    verdicts = dict(re.findall(r'<g class="bar" data-pain="([^"]+)" data-share="[^"]*" data-verdict="([^"]*)">', page))
    assert verdicts == {p["pain"]: p["verdict"] for p in cli_json(base, "pains")["pains"]}
    assert verdicts["late-payments"] == "unclear" and "about 42 more interviews would settle it" in page
    heat = page[page.index('<svg class="chart heatmap"'):]
    heat = heat[:heat.index("</svg>")]
    assert "Late payments · Small businesses: 2 of 4 interviews (50%), unclear (about 17 more interviews would settle it)" in heat
    assert heat.count('stroke="#111827" stroke-width="2"') == 1  # only manual-reconciliation in smb (3/4: 30.1–95.4%) is systemic
    # Chao1 of the base: 4.0 pains, 95% CI 4–6, chance of a new pain 1/7 = 14.3% (the CLI's numbers)
    assert "about <strong>4.0</strong> pains exist" in page and "95% interval 4–6" in page and "<strong>14.3%</strong>" in page
    svg = page[page.index('<svg class="chart accumulation"'):]
    ET.fromstring(svg[:svg.index("</svg>") + 6])
    assert 'class="chao1"' in svg[:svg.index("</svg>")]
    assert re.search(r'<tr data-segment="enterprise"><td>enterprise</td><td>3</td><td>4</td><td>3</td><td>1</td>\s*<td>5.0</td><td>4–15</td>\s*<td>100.0%</td>', page)
    pairs = {(a, b): (int(k), float(j)) for a, b, k, j in re.findall(r'<g class="pair" data-a="([^"]+)" data-b="([^"]+)" data-together="(\d+)" data-jaccard="([\d.]+)">', page)}
    assert pairs[("manual-reconciliation", "slow-reports")] == (2, pytest.approx(0.4))
    assert pairs[("slow-reports", "manual-reconciliation")] == (2, pytest.approx(0.4))
    assert pairs[("late-payments", "onboarding-confusion")] == (1, pytest.approx(1 / 3))


def test_journey_page_shows_stages_in_order_with_scores_and_verdicts(site, base):
    page = get(site, "/-/journey")
    assert re.findall(r'<tr class="cd-stage" data-stage="([^"]+)">', page) == ["onboarding", "billing", "reporting"]
    billing = page[page.index('data-stage="billing"'):page.index('data-stage="reporting"')]
    scores = re.findall(r'data-mean="([^"]+)" data-nps="([^"]+)" data-scored="(\d+)"', billing)
    assert scores[:3] == [("7.25", "0.0", "4"), ("6.67", "-33.3", "3"), ("9.5", "100.0", "2")]  # all, smb, enterprise
    manual = billing[billing.index('data-pain="manual-reconciliation"'):]
    manual = manual[:manual.index("</tr>")]
    assert re.findall(r'data-verdict="(\w+)"', manual) == ["systemic", "systemic", "unclear"]
    assert "unclear +4" in manual
    assert "Journey" in get(site, "/")


def test_journey_page_without_stages_says_how_to_add_them(tmp_path):
    from custdev.build import build_base
    from custdev.site import make_datasette

    root = make_base(tmp_path / "b")
    cb = root / "codebook.yml"
    text = cb.read_text()
    cb.write_text(text[:text.index("stages:")] + text[text.index("segments:"):])
    for f in (root / "interviews").glob("*.md"):
        f.write_text(re.sub(r"nps_by_stage: .*\n", "", f.read_text()))
    build_base(load_base(root))
    page = get(make_datasette(load_base(root)), "/-/journey")
    # pains still name their stage, so the map lists those stages (in name order), without scores
    assert re.findall(r'<tr class="cd-stage" data-stage="([^"]+)">', page) == ["billing", "onboarding", "reporting"]
    assert "data-mean" not in page


def test_pages_without_the_analysis_views_still_open(tmp_path):
    import sqlite3

    from custdev.site import make_datasette

    root = make_base(tmp_path / "old")
    conn = sqlite3.connect(root / "custdev.db")
    for v in ("journey", "pain_money_total", "pain_money", "pain_by_segment", "pain_prevalence"):
        conn.execute(f"DROP VIEW IF EXISTS {v}")
    conn.commit()
    conn.close()
    site = make_datasette(load_base(root))
    assert "analysis views" in get(site, "/-/charts")
    assert "does not have yet" in get(site, "/-/journey")
