"""Message catalogs: complete in both languages, compiled, with Russian plurals; a Russian base reads as Russian."""

from __future__ import annotations

import gettext
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from custdev import i18n_tools
from custdev.cli import app
from custdev.i18n import LANGUAGES, translator
from custdev.report.text import word
from test_analysis import make_base

runner = CliRunner()


def test_catalogs_are_complete_in_every_language():
    template = i18n_tools.extract()
    assert len(template) > 100  # the extraction found the labels (Python and templates)
    for language in LANGUAGES:
        assert i18n_tools.missing(language, template) == [], f"{language} catalog misses messages: run scripts/i18n"


def test_committed_mo_files_are_the_compiled_po_files():
    for language in LANGUAGES:
        assert not i18n_tools.stale(language), f"{i18n_tools.mo_path(language)} is stale: run scripts/i18n and commit it"


@pytest.mark.parametrize(("n", "quote", "interview", "respondent"), [
    (1, "цитата", "интервью", "респондент"),
    (2, "цитаты", "интервью", "респондента"),
    (5, "цитат", "интервью", "респондентов"),
    (11, "цитат", "интервью", "респондентов"),
    (21, "цитата", "интервью", "респондент"),
    (104, "цитаты", "интервью", "респондента"),
])
def test_russian_plural_forms(n, quote, interview, respondent):
    t = translator("ru")
    assert (word(n, "quotes", t), word(n, "interviews", t), word(n, "respondents", t)) == (quote, interview, respondent)
    assert translator("ru").ngettext("{n} respondent", "{n} respondents", n).format(n=n) == f"{n} {respondent}"


def test_english_plural_forms():
    t = translator("en")
    assert [word(n, "quotes", t) for n in (1, 2, 5)] == ["quote", "quotes", "quotes"]
    assert translator("en").ngettext("{n} interview", "{n} interviews", 1) == "{n} interview"


class _Visible(HTMLParser):
    """What a reader sees of an HTML page: text, and the title/alt/aria-label/placeholder attributes (not classes).

    Left out: <code> (table names, SQL) and the "all fields" box of a row (the raw record): identifiers, not labels.
    Words inside tags and paths (#h/x/against, interviews/a.md) are data too."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0
        self._skipping: list[str] = []

    def handle_starttag(self, tag, attrs):
        # code: identifiers (table names, SQL); the cd-record box: the raw database row, its column names and tables
        if tag in ("style", "script", "code") or (tag == "details" and "cd-record" in (dict(attrs).get("class") or "")):
            self._skip += 1
            self._skipping.append(tag)
            return
        if self._skipping and tag == self._skipping[-1]:
            self._skipping.append(tag)
            self._skip += 1
            return
        shown = ("title", "alt", "aria-label", "placeholder") + (("value",) if dict(attrs).get("type") in ("submit", "button") else ())
        self.parts += [v for k, v in attrs if k in shown and v]

    def handle_endtag(self, tag):
        if self._skipping and tag == self._skipping[-1]:
            self._skipping.pop()
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = _Visible()
    parser.feed(page)
    return "\n".join(parser.parts)


def english_leftovers(text: str) -> list[str]:
    """Catalog messages whose Russian differs from the English but whose English shows up in ``text``."""
    if text.lstrip().startswith("<"):
        text = visible_text(text)
    ru = gettext.translation("custdev", localedir=str(i18n_tools.LOCALE_DIR), languages=["ru"])
    found = []
    for msg in i18n_tools.read_po("en"):
        if not msg.id:
            continue
        ids = msg.id if isinstance(msg.id, tuple) else (msg.id,)
        for english in ids:
            translated = ru.ngettext(ids[0], ids[-1], 5) if len(ids) > 1 else ru.gettext(english)
            if translated == english:
                continue
            # the literal text between placeholders; short or letter-less pieces ("NPS", "%") say nothing
            for piece in re.split(r"\{[^}]*\}", english):
                piece = piece.strip(" .,:;()·")
                # whole words only: "segment" inside the view name pain_by_segment is not a label
                if len(piece) >= 6 and re.search(r"[A-Za-z]{3}", piece) and re.search(
                    r"(?<![A-Za-z_./#-])" + re.escape(piece) + r"(?![A-Za-z_/-])", text
                ):
                    found.append(piece)
    return sorted(set(found))


@pytest.fixture(scope="module")
def russian_base(tmp_path_factory) -> Path:
    base = make_base(tmp_path_factory.mktemp("i18n") / "ru")
    toml = base / "custdev.toml"
    toml.write_text(toml.read_text().replace('language = "en"', 'language = "ru"'))
    return base


@pytest.mark.parametrize("args", [
    ["pains"], ["pains", "--segment", "smb"], ["pains", "--pain", "late-payments"], ["segments"],
    ["saturation"], ["saturation", "--segment", "smb"], ["hypotheses"],
    ["report"], ["report", "--format", "html"],
])
def test_russian_base_cli_tables_and_reports_have_no_english_labels(russian_base, args, tmp_path):
    result = runner.invoke(app, [*args, "--base", str(russian_base)], env={"TERMINAL_WIDTH": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert english_leftovers(result.stdout) == []
    assert re.search(r"[а-яё]{4}", result.stdout)
    # one number format: a decimal comma in the CLI tables as in the report (12,5%), never 12.5%
    shown = visible_text(result.stdout) if result.stdout.lstrip().startswith("<") else result.stdout
    assert re.search(r"\d,\d%", shown) and not re.search(r"\d\.\d+%", shown)


def test_russian_report_written_to_a_file_says_so_in_russian(russian_base, tmp_path):
    result = runner.invoke(app, ["report", "--out", str(tmp_path / "r.md"), "--base", str(russian_base)], env={"NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert "Записан" in result.stdout and "7 интервью" in result.stdout
    assert english_leftovers(result.stdout) == []


def test_the_leftover_check_sees_english(russian_base):
    # the check itself: an English CLI table of the same base is caught
    toml = russian_base / "custdev.toml"
    english = runner.invoke(app, ["pains", "--base", str(russian_base)], env={"TERMINAL_WIDTH": "200", "NO_COLOR": "1"})
    assert "Упомянута в" in english.stdout  # still Russian: the check is not trivially empty
    en_out = runner.invoke(app, ["saturation", "--base", str(russian_base)], env={"TERMINAL_WIDTH": "200", "NO_COLOR": "1"}).stdout
    assert english_leftovers(en_out) == []
    toml.write_text(toml.read_text().replace('language = "ru"', 'language = "en"'))
    try:
        out = runner.invoke(app, ["saturation", "--base", str(russian_base)], env={"TERMINAL_WIDTH": "200", "NO_COLOR": "1"}).stdout
        assert "Saturation of the base" in english_leftovers(out)
    finally:
        toml.write_text(toml.read_text().replace('language = "en"', 'language = "ru"'))
