"""The stakeholder report, built from the hand-computed fixture base (tests/fixtures/analysis_base)."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from custdev.cli import app
from test_analysis import make_base

runner = CliRunner()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return make_base(tmp_path_factory.mktemp("report") / "base")


def cli(base: Path, *args: str):
    return runner.invoke(app, ["report", *args, "--base", str(base)], env={"TERMINAL_WIDTH": "160", "NO_COLOR": "1"})


def report_md(base: Path, *args: str) -> str:
    result = cli(base, *args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def quotes_in_db(base: Path) -> dict[str, tuple[str, float]]:
    conn = sqlite3.connect(base / "custdev.db")
    try:
        return {text: (iid, start) for text, iid, start in conn.execute("SELECT text, interview_id, start_s FROM quotes")}
    finally:
        conn.close()


def test_markdown_report_is_a_sandwich_value_pains_opportunities(built):
    md = report_md(built)
    value, pains, opps = md.index("## 1. What customers value"), md.index("## 2. Top pains"), md.index("## 3. Opportunities")
    assert value < pains < opps < md.index("## NPS by segment") < md.index("## Pains by segment")
    assert "**7 interviews · 6 respondents · 3 segments · Period: 2026-01-10 – 2026-02-03 · NPS +16.7**" in md
    # value: the three #value quotes, newest interview first
    value_part = md[value:pains]
    assert re.findall(r"— \*([\w-]+), (\d\d:\d\d:\d\d)\*", value_part) == [("misc-gleb", "00:01:30"), ("ent-dan", "00:01:50"), ("ent-carol", "00:02:45")]
    assert "> — *ent-dan, 00:01:50* · Small businesses, Enterprise finance\n" in value_part  # with the interview's segments
    assert "> — *misc-gleb, 00:01:30*\n" in value_part  # no segment
    # 3 interviews for, 1 against: 30–95% for, so the report does not call it confirmed (it is a next question)
    assert "Confirmed by the evidence" not in value_part and "Customers will pay" not in value_part
    # top pains: the two systemic ones, then the most common local one to make three
    headings = re.findall(r"^### 2\.\d\. (.+)$", md, re.M)
    assert headings == [
        "Manual reconciliation — 71.4% of interviews · systemic",
        "Late payments — 42.9% of interviews · unclear",
        "Slow reports — 28.6% of interviews · unclear",
    ]
    # never a verdict stronger than its interval: the opening sentence names only the pain whose interval clears 30%
    assert "For sure (the whole 95% interval at or above 30%): Manual reconciliation. Unclear, the interval straddles 30%: " \
        "Late payments (42.9%), Slow reports (28.6%), Onboarding confusion (14.3%)." in md
    assert md.index("For sure") < value
    assert "3 of 7 interviews · 95% CI 15.8%–75% · 3 quotes · about 42 more interviews would settle it if the share held" in md
    assert "Stage: billing · 5 of 7 interviews · 95% CI 35.9%–91.8% · 6 quotes" in md
    # opportunities: where each systemic pain is most common, the #opportunity quote, the open hypothesis
    opp_part = md[opps:md.index("## NPS by segment")]
    assert "**Solve “Manual reconciliation”** — most common among Small businesses (3 of 4): 75%" in opp_part
    assert "ent-carol-2, 00:02:30" in opp_part
    assert "Accountants choose the tool for small businesses (1 for, 1 against)" in opp_part
    assert "Customers will pay for automatic reconciliation (3 for, 1 against)" in opp_part
    assert "Solve “Late payments”" not in opp_part  # an unclear pain is not an opportunity yet


def test_each_top_pain_has_two_or_three_verbatim_quotes_from_different_interviews(built):
    md = report_md(built)
    db_quotes = quotes_in_db(built)
    sections = re.split(r"^### 2\.\d\. ", md[md.index("## 2. Top pains"):md.index("## 3. Opportunities")], flags=re.M)[1:]
    assert len(sections) == 3
    for section in sections:
        quotes = re.findall(r"^> [“«](.+)[”»]\n> — \*([\w-]+), (\d\d):(\d\d):(\d\d)\*", section, re.M)
        assert 2 <= len(quotes) <= 3
        assert len({q[1] for q in quotes}) == len(quotes)  # different interviews
        for text, iid, h, m, s in quotes:
            assert db_quotes[text] == (iid, int(h) * 3600 + int(m) * 60 + int(s))  # verbatim, right interview and time
    # a quote coded with two pains is shown under the second pain only when nothing else is left
    slow = sections[2]
    assert slow.index("smb-boris") < slow.index("ent-carol-2")


def test_nps_and_heatmap_tables_in_markdown(built):
    md = report_md(built)
    assert "| Small businesses | 4 | 4 | 1 | 1 | 2 | −25 |" in md
    assert "| Agencies | 0 | 0 | 0 | 0 | 0 | — |" in md
    assert "| **All** | 7 | 6 | 3 | 1 | 2 | **+16.7** |" in md
    assert "| Manual reconciliation | 71.4% (5) | 75% (3) | 66.7% (2) | — |" in md
    assert "| Export limits | 0% (0) | 0% (0) | 0% (0) | — |" in md


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_html_report_is_self_contained_with_an_svg_heatmap(built, tmp_path):
    out = tmp_path / "report.html"
    result = cli(built, "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == f"Wrote {out} (html, 7 interviews)."
    page = out.read_text(encoding="utf-8")
    parser = _Collect()
    parser.feed(page)
    tags = [t for t, _ in parser.tags]
    assert "svg" in tags and "script" not in tags and "link" not in tags and "img" not in tags  # nothing to fetch
    svg = page[page.index("<svg"):page.index("</svg>") + 6]
    ET.fromstring(svg)  # well-formed
    cells = re.findall(r'font-weight="600" fill="[^"]+" text-anchor="middle">([^<]+)</text>\s*<text[^>]*>(\d+/\d+)</text>', svg)
    # rows = pains by overall share; columns = All, smb, enterprise (agencies is empty: hatched, no number)
    assert cells[:3] == [("71.4%", "5/7"), ("75%", "3/4"), ("66.7%", "2/3")]
    assert len(cells) == 5 * 3
    assert svg.count('fill="url(#empty)"') == 5
    text = " ".join(parser.text)
    assert text.index("What customers value") < text.index("Top pains") < text.index("Opportunities")
    assert "“Every Friday I reconcile the payments by hand in a spreadsheet”" in text and "misc-gleb · 00:00:25" in text


def test_markdown_to_a_file_writes_the_heatmap_svg_next_to_it(built, tmp_path):
    out = tmp_path / "stakeholders.md"
    data = json.loads(cli(built, "--out", str(out), "--json").stdout)
    assert data == {"format": "md", "path": str(out), "heatmap_path": str(tmp_path / "stakeholders-heatmap.svg"), "interviews": 7,
                    "top_pains": ["manual-reconciliation", "late-payments", "slow-reports"]}
    assert "![Pains by segment](stakeholders-heatmap.svg)" in out.read_text(encoding="utf-8")
    root = ET.parse(tmp_path / "stakeholders-heatmap.svg").getroot()
    assert root.tag.endswith("svg")


def test_russian_labels_follow_the_config(tmp_path):
    base = make_base(tmp_path / "ru")
    toml = base / "custdev.toml"
    toml.write_text(toml.read_text().replace('language = "en"', 'language = "ru"'))
    md = report_md(base)
    assert md.index("## 1. Что ценят клиенты") < md.index("## 2. Главные боли") < md.index("## 3. Возможности")
    assert "### 2.1. Manual reconciliation — 71,4% интервью · системная" in md
    # quotation marks follow the quote's language, not the report's
    assert "“Every Friday I reconcile the payments by hand in a spreadsheet”" in md
    assert "«Половина клиентов оплачивает счета с задержкой, а мы узнаём об этом последними»" in md
    assert "Этап: billing · 3 из 7 интервью · 95% ДИ 15,8%–75% · 3 цитаты" in md  # Russian plural forms
    assert "**7 интервью · 6 респондентов · 3 сегмента ·" in md
    assert "## NPS по сегментам" in md and "| Гипотеза | За | Против | Статус |" in md
    assert "опровергнута" in md and "Насыщение достигнуто" in md
    page = cli(base, "--format", "html").stdout
    assert '<html lang="ru">' in page and "Боли по сегментам" in page


def test_segment_report_uses_only_that_segments_interviews(built):
    md = report_md(built, "--segment", "enterprise")
    assert "Segment: Enterprise finance" in md
    assert "**3 interviews · 2 respondents" in md and "NPS +50**" in md
    ids = set(re.findall(r"— \*([\w-]+), \d\d:\d\d:\d\d\*", md))
    assert ids and ids <= {"ent-carol", "ent-dan", "ent-carol-2"}
    assert "### 2.1. Manual reconciliation — 66.7% of interviews · unclear" in md  # 2 of 3: 20.8–93.9%
    assert "about 4 more interviews would settle it" in md


@pytest.mark.parametrize(
    "target, message",
    [
        ("missing-folder/report.html", "missing-folder does not exist"),
        (".", "it is a folder"),
        ("a-file.txt/report.md", "a-file.txt is not a folder"),
        ("r" * 300 + ".html", "File name too long"),  # the OS refuses the write itself
    ],
)
def test_unwritable_out_gives_one_line(built, tmp_path, target, message):
    (tmp_path / "a-file.txt").write_text("x")
    result = cli(built, "--out", str(tmp_path / target))
    assert result.exit_code == 1 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: cannot write the report to ") and message in lines[0]


def test_unknown_format(built):
    result = cli(built, "--format", "pdf")
    assert result.exit_code == 1 and result.stderr.strip() == "Error: unknown report format 'pdf'; use md or html"


@pytest.mark.browser
def test_html_report_lays_out_in_a_real_browser(built, tmp_path):
    """Chromium renders the report at 1200 px: nothing overflows the page and the heatmap fits its section."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed")
    report = tmp_path / "report.html"
    assert cli(built, "--out", str(report)).exit_code == 0
    probe = tmp_path / "probe.html"
    probe.write_text(
        "<html><body style='margin:0'><iframe id=f src='report.html' style='border:0;width:1200px;height:4000px'></iframe>"
        "<pre id=out>pending</pre><script>document.getElementById('f').onload = function () {"
        " var d = this.contentDocument, svg = d.querySelector('.heat svg'), sec = svg.closest('section');"
        " var wide = Array.from(d.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > d.documentElement.clientWidth + 1).length;"
        " document.getElementById('out').textContent = JSON.stringify({overflowing: wide, scrollW: d.documentElement.scrollWidth,"
        " clientW: d.documentElement.clientWidth, svgRight: svg.getBoundingClientRect().right, secRight: sec.getBoundingClientRect().right,"
        " svgH: svg.getBoundingClientRect().height, sections: d.querySelectorAll('section').length}); };</script></body></html>",
        encoding="utf-8",
    )
    dom = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files", "--virtual-time-budget=5000",
         "--window-size=1200,2000", "--dump-dom", probe.as_uri()],
        capture_output=True, text=True, timeout=120,
    ).stdout
    m = re.search(r'<pre id="out">(\{.*?\})</pre>', dom)
    assert m, dom[-500:]
    got = json.loads(m.group(1).replace("&quot;", '"'))
    assert got["overflowing"] == 0 and got["scrollW"] <= got["clientW"]
    assert got["svgRight"] <= got["secRight"] and got["svgH"] > 200
    assert got["sections"] == 9  # + pains mentioned together


def test_report_speaks_in_money_and_shows_unheard_pains_and_cooccurrence(built, tmp_path):
    md = report_md(built)
    head = md[:md.index("## 1. What customers value")]
    # opening: only the pain that is systemic for sure, in accounts and revenue, as intervals (fixture README: Money)
    assert "At stake: Manual reconciliation — 1,000 accounts (392–1,286), $7.8M of revenue ($2.59M–$10.7M)." in head
    opps = md[md.index("## 3. Opportunities"):md.index("## NPS by segment")]
    assert opps.rstrip().endswith("**Bottom line: solving “Manual reconciliation” first reaches 1,000 accounts (392–1,286) and $7.8M of revenue at risk ($2.59M–$10.7M).**")
    assert "About 4 pains exist (95% CI 4–6); 4 heard so far, so about 0 not heard yet. Chance the next interview brings a new pain: 14.3%." in md
    assert "| Manual reconciliation + Slow reports | 2 | 0.40 |" in md
    page = cli(built, "--format", "html").stdout
    assert 'class="chao1"' in page and '<section class="cooc">' in page
    svg = page[page.index('<section class="cooc">'):]
    svg = svg[svg.index("<svg"):svg.index("</svg>") + 6]
    ET.fromstring(svg)
    assert "Manual reconciliation + Slow reports: 2 interviews together, Jaccard 0.40" in svg


def test_russian_money_sentences(tmp_path):
    base = make_base(tmp_path / "ru")
    toml = base / "custdev.toml"
    toml.write_text(toml.read_text().replace('language = "en"', 'language = "ru"'))
    md = report_md(base)
    assert "На кону: Manual reconciliation — 1\u00a0000 клиентов (392–1\u00a0286), выручка $7,8 млн ($2,59 млн–$10,7 млн)." in md
    assert "Наверняка (весь 95% интервал не ниже 30%): Manual reconciliation. Неясно, интервал захватывает 30%:" in md
    assert "| Manual reconciliation + Slow reports | 2 | 0,40 |" in md
