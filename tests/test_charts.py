"""Charts never clip: every text of every chart stays inside its SVG, measured by a real Chromium, in Russian and
English, on the sample base and on a base whose segments and pains have 60-character Cyrillic titles."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
import yaml

from custdev import charts
from custdev.build import build_base
from custdev.config import load_base
from custdev.report import make_report

REPO = Path(__file__).resolve().parent.parent
LONG = [
    "Сложности с налогами и отчётностью для самозанятых и фрилансеров",
    "Неработающая синхронизация с «1С:Бухгалтерией» при выгрузке счетов",
    "Предприниматели-самозанятые, фрилансеры и индивидуальные мастера",
    "Бухгалтерские агентства, обслуживающие десятки клиентов одновременно",
    "Автоматизированнаясверкабанковскихвыписоксучётнойсистемойпредприятия",  # one 60+ letter word
]

MEASURE = """() => {
  const out = [];
  for (const svg of document.querySelectorAll('svg')) {
    const vb = svg.viewBox.baseVal;
    if (!vb || !vb.width) continue;
    const cells = Array.from(svg.querySelectorAll('g.cell rect, g.bar rect, g.nps-row rect')).map(r => r.getBBox().x);
    const left = cells.length ? Math.min(...cells) : Infinity;
    for (const t of svg.querySelectorAll('text')) {
      const b = t.getBBox();
      if (!t.textContent.trim()) continue;
      const outside = b.x < vb.x - 0.5 || b.y < vb.y - 0.5 || b.x + b.width > vb.x + vb.width + 0.5 || b.y + b.height > vb.y + vb.height + 0.5;
      const overlaps = t.classList.contains('row-label') && b.x + b.width > left + 0.5;
      if (outside || overlaps) out.push({chart: svg.getAttribute('class'), text: t.textContent, x: b.x, w: b.width, vb: vb.width, outside, overlaps});
    }
  }
  return {bad: out, svgs: document.querySelectorAll('svg').length, texts: document.querySelectorAll('svg text').length,
          font: getComputedStyle(document.querySelector('svg text') || document.body).fontFamily};
}"""


def long_title_base(root: Path) -> Path:
    from conftest import copy_base

    copy_base(REPO, root)
    book = yaml.safe_load((root / "codebook.yml").read_text(encoding="utf-8"))
    for n, entry in enumerate(book["segments"] + book["pains"]):
        entry["title"] = LONG[n % len(LONG)][:60] + ("" if n < len(LONG) else f" {n}")
    (root / "codebook.yml").write_text(yaml.safe_dump(book, allow_unicode=True), encoding="utf-8")
    toml = root / "custdev.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('language = "en"', 'language = "ru"'), encoding="utf-8")
    assert build_base(load_base(root)).failed == 0
    return root


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    from conftest import copy_base

    sample = copy_base(REPO, tmp_path_factory.mktemp("charts") / "sample")
    assert build_base(load_base(sample)).failed == 0
    return {"sample": sample, "long": long_title_base(tmp_path_factory.mktemp("charts") / "long")}


def chart_pages(root: Path, lang: str) -> dict[str, str]:
    """The site's charts page (CSS inlined) in ``lang``, and the HTML report (in the base's language)."""
    from custdev.site import make_datasette
    from custdev.site.settings import STATIC_DIR

    ds = make_datasette(load_base(root))
    css = (STATIC_DIR / "custdev.css").read_text(encoding="utf-8")
    pages = {}
    html = asyncio.run(ds.client.get(f"/-/charts?_lang={lang}")).text
    pages[f"site-{lang}"] = re.sub(r"<link[^>]+custdev\.css[^>]*>", f"<style>{css}</style>", html)
    pages["report"] = make_report(load_base(root), fmt="html").text
    return pages


def test_labels_are_measured_and_wrapped():
    assert charts.text_width("Ж") > charts.text_width("i") * 3
    lines = charts.fit(LONG[0], 200)
    assert len(lines) == 2 and all(charts.text_width(line) <= 200 for line in lines)
    assert charts.fit(LONG[4], 200)[0].endswith("…") and charts.text_width(charts.fit(LONG[4], 200)[0]) <= 200


@pytest.mark.browser
def test_no_chart_text_leaves_its_svg_in_chromium(bases):
    from test_browser import ARGS, CHROMIUM

    # the sample base in English, the long Cyrillic titles in Russian: both languages, both bases, site and report
    # (four pages; every page of the matrix measured the same, and the Chromium start dominates the test's time)
    rendered = {name: chart_pages(root, "en" if name == "sample" else "ru") for name, root in bases.items()}

    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:  # pragma: no cover
        pytest.skip("playwright is not installed")
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        except Error as exc:
            pytest.skip(f"Chromium cannot start here: {str(exc).splitlines()[0]}")
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            for name, html_pages in rendered.items():
                for kind, html in html_pages.items():
                    page.set_content(html, wait_until="load")
                    got = page.evaluate(MEASURE)
                    assert got["svgs"] >= (3 if kind.startswith("site") else 2), (name, kind)
                    assert got["texts"] > 20
                    assert "DejaVu Sans" in got["font"]  # site and report: custdev.charts, measured in DejaVu Sans
                    assert got["bad"] == [], (name, kind, got["bad"][:5])
        finally:
            browser.close()
