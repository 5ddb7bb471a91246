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

    Left out: <code>, <pre> and <textarea> (table names, SQL) and the "all fields" box of a row (the raw record): identifiers, not labels.
    Words inside tags and paths (#h/x/against, interviews/a.md) are data too."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0
        self._skipping: list[str] = []

    def handle_starttag(self, tag, attrs):
        # code: identifiers (table names, SQL); the cd-record box: the raw database row, its column names and tables
        if tag in ("style", "script", "code", "textarea", "pre") or (tag == "details" and "cd-record" in (dict(attrs).get("class") or "")):
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


def english_leftovers(text: str, data: list[str] = ()) -> list[str]:
    """Catalog messages whose Russian differs from the English but whose English shows up in ``text`` (the base's
    own texts, ``data``, taken out first: an English codebook is data, not a label)."""
    if text.lstrip().startswith("<"):
        text = visible_text(text)
    for d in data:
        if len(d) >= 3:
            text = text.replace(d, " ¶ ")
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


# Words that are Latin in any language: names of things, formats, statistics and the product itself.
LATIN_OK = {
    "custdev", "datasette", "sqlite", "sql", "csv", "json", "tsv", "html", "svg", "md", "url", "id", "ok", "nps", "fts",
    "chao1", "chao", "jaccard", "wilson", "cohen", "krippendorff", "good", "turing", "whisper", "ledgerly", "or", "not",
    "and", "near", "api", "xlsx", "qdpx", "refi", "yaml", "toml", "utf", "https", "http", "github", "n", "k", "f1", "f2",
}


def data_strings(root: Path) -> list[str]:
    """What a base itself says (codebook titles and descriptions, interview titles, people, ids): shown as written."""
    import sqlite3

    import yaml

    out: list[str] = []

    def walk(x):
        if isinstance(x, str):
            out.append(x)
        elif isinstance(x, dict):
            for k, v in x.items():
                walk(k)
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(yaml.safe_load((root / "codebook.yml").read_text(encoding="utf-8")))
    db = sqlite3.connect(root / "custdev.db")
    for table in ("interviews", "quotes", "utterances", "respondents", "segments", "pains", "hypotheses", "tags", "stages"):
        cols = [r[1] for r in db.execute(f"PRAGMA table_info({table})") if r[2].upper() in ("TEXT", "")]
        for col in cols:
            out += [v for (v,) in db.execute(f"SELECT DISTINCT {col} FROM {table}") if isinstance(v, str)]
    db.close()
    return sorted({x.strip() for x in out if x and x.strip()}, key=len, reverse=True)


_WORD = re.compile(r"^[(«\"“'‘\[]*([A-Za-z][A-Za-z'’]*(?:-[A-Za-z]+)*)[)»\"”'’\],.:;!?…]*$")


def english_runs(page: str, data: list[str] = ()) -> list[str]:
    """Runs of two or more English words in what a reader sees, whether or not they are catalog strings.

    A word is a whitespace-separated chunk of Latin letters (with surrounding punctuation); identifiers (with _, /, .,
    digits or @ inside), Cyrillic words and the LATIN_OK names break a run. The base's own texts (``data``: codebook
    titles, interview titles, quotes, people) are data, not labels, and are taken out first, also when a chart wraps
    or shortens them ("Manual bank…")."""
    parts = visible_text(page).split("\n") if page.lstrip().startswith("<") else page.split("\n")
    runs = []
    for part in parts:
        text = part.strip()
        if not text:
            continue
        bare = text.rstrip("…").strip()
        if any(bare and bare in d for d in data if len(d) >= len(bare)):
            continue  # a piece of the base's own text (a wrapped or shortened title)
        for d in data:
            if len(d) >= 3 and d in text:
                text = text.replace(d, " ¶ ")
        run: list[str] = []
        for chunk in text.split() + ["¶"]:
            m = _WORD.match(chunk)
            if m and m.group(1).lower() not in LATIN_OK:
                run.append(m.group(1))
                continue
            if len(run) >= 2:
                runs.append(" ".join(run))
            run = []
    return sorted(set(runs))


@pytest.fixture(scope="module")
def russian_base(tmp_path_factory) -> Path:
    base = make_base(tmp_path_factory.mktemp("i18n") / "ru")
    toml = base / "custdev.toml"
    toml.write_text(toml.read_text().replace('language = "en"', 'language = "ru"'))
    return base


@pytest.mark.parametrize("args", [
    ["pains"], ["pains", "--segment", "smb"], ["pains", "--pain", "late-payments"], ["segments"],
    ["saturation"], ["saturation", "--segment", "smb"], ["hypotheses"],
    ["report"], ["report", "--format", "html"], ["cooccurrence"], ["journey"],
])
def test_russian_base_cli_tables_and_reports_have_no_english_labels(russian_base, args, tmp_path):
    result = runner.invoke(app, [*args, "--base", str(russian_base)], env={"TERMINAL_WIDTH": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert english_leftovers(result.stdout) == []
    assert re.search(r"[а-яё]{4}", result.stdout)
    # one number format: a decimal comma in the CLI tables as in the report (12,5%), never 12.5%
    shown = visible_text(result.stdout) if result.stdout.lstrip().startswith("<") else result.stdout
    assert re.search(r"\d,\d", shown) and not re.search(r"\d\.\d+%|\b0\.\d\d\b", shown)


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


def test_the_archive_estimate_note_follows_the_language():
    from custdev.sampling import ArchiveEstimate

    sample = ArchiveEstimate(30, 10, 10, True, "", archive="calls")
    outside = ArchiveEstimate(None, 12, 13, False, "", archive="calls")
    assert sample.explain(translator("ru")).startswith("выборка из 10 из 30 записей архива calls")
    assert outside.explain(translator("ru")).startswith("1 из 13 интервью не из выборки")
    assert english_leftovers(sample.explain(translator("ru")) + "\n" + outside.explain(translator("ru"))) == []
    assert outside.explain().startswith("1 of the 13 interviews are not from the sample of calls")


def test_russian_base_channels_line_is_russian(russian_base):
    result = runner.invoke(app, ["channels", "--base", str(russian_base)], env={"TERMINAL_WIDTH": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert "упоминается в" in result.stdout and " из " in result.stdout and english_leftovers(result.stdout) == []


def test_russian_base_agreement_table_is_russian(russian_base):
    copy = russian_base / "interviews"
    result = runner.invoke(app, ["agreement", str(copy), str(copy), "--base", str(russian_base)], env={"TERMINAL_WIDTH": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert "Согласие" in result.stdout and "все коды" in result.stdout and english_leftovers(result.stdout) == []
    assert re.search(r"\d,\d{3}", result.stdout)  # kappa 1,000: the decimal comma


def test_russian_base_import_lines_are_russian(tmp_path):
    """`custdev import` into a Russian base (the first command after init): its per-file lines and its summary read
    as Russian, with Russian plurals; an English base says "1 interview", not "1 interviews"."""
    env = {"TERMINAL_WIDTH": "200", "NO_COLOR": "1"}
    ru, en = tmp_path / "ru", tmp_path / "en"
    for root, language in ((ru, "ru"), (en, "en")):
        assert runner.invoke(app, ["init", str(root), "--language", language]).exit_code == 0
    (tmp_path / "call.txt").write_text("Интервьюер: Как вы выставляете счета?\nРеспондент: Вручную, в экселе.\n", encoding="utf-8")
    (tmp_path / "nps.csv").write_text("text,nps\nДолго ждать ответа,5\nВсё отлично,10\n", encoding="utf-8")
    first = runner.invoke(app, ["import", str(tmp_path / "call.txt"), "--base", str(ru)], env=env)
    again = runner.invoke(app, ["import", str(tmp_path / "call.txt"), "--base", str(ru)], env=env)
    survey = runner.invoke(app, ["import", "--channel", "survey", str(tmp_path / "nps.csv"), "--base", str(ru)], env=env)
    for result in (first, again, survey):
        assert result.exit_code == 0, result.output
        assert english_leftovers(result.stdout) == [] and english_runs(result.stdout) == [], result.stdout
    assert f"Создано: interviews/call.md (2 реплики) из {tmp_path / 'call.txt'}" in first.stdout
    assert "Импортировано 1, уже были 0, с ошибками 0; custdev.db: 1 интервью" in first.stdout
    assert f"Пропущено: {tmp_path / 'call.txt'} уже импортирован как interviews/call.md" in again.stdout
    assert "Импортирован nps.csv: 2 ответа в channels/survey/" in survey.stdout and "(1 файл)" in survey.stdout
    assert "custdev.db: 1 интервью, 2 ответа из каналов" in survey.stdout
    shared = runner.invoke(app, ["publish", str(tmp_path / "shared"), "--base", str(ru)], env=env)
    assert shared.exit_code == 0, shared.output
    assert "Записана обезличенная копия" in shared.stdout and "Открыть её на сайте: custdev serve --base" in shared.stdout
    assert "Примечание: 1 интервью не вошло в копию" in shared.stderr  # no consent to publish
    assert english_leftovers(shared.output) == []
    md = ru / "interviews" / "call.md"
    md.write_text(md.read_text(encoding="utf-8").replace("\n---\n", "\nconsent: publish\n---\n", 1), encoding="utf-8")
    shared = runner.invoke(app, ["publish", str(tmp_path / "shared"), "--base", str(ru)], env=env)
    assert shared.exit_code == 0 and ": 1 интервью;" in shared.stdout, shared.output
    import sqlite3

    people = sqlite3.connect(tmp_path / "shared" / "custdev.db").execute("SELECT name FROM respondents").fetchall()
    assert people == [("Респондент 1",)]  # a Russian copy's neutral labels are Russian, as its speakers are
    english = runner.invoke(app, ["import", str(tmp_path / "call.txt"), "--base", str(en)], env=env)
    assert f"Created interviews/call.md (2 turns) from {tmp_path / 'call.txt'}" in english.stdout
    assert "1 imported, 0 already there, 0 failed; custdev.db: 1 interview\n" in english.stdout


def test_errors_of_a_russian_base_read_as_russian(tmp_path):
    """The error a new user meets first (an analysis of a base with no interviews yet) in the base's language; a
    base in English, or no base at all, keeps English."""
    for root, language in ((tmp_path / "ru", "ru"), (tmp_path / "en", "en")):
        assert runner.invoke(app, ["init", str(root), "--language", language]).exit_code == 0
    ru = runner.invoke(app, ["pains", "--base", str(tmp_path / "ru")])  # right after init: no database yet
    assert ru.exit_code == 1 and ru.stderr == f"Ошибка: в {tmp_path / 'ru'} ещё нет базы данных; сначала запустите 'custdev build'\n"
    assert runner.invoke(app, ["build", "--base", str(tmp_path / "ru")]).exit_code == 0
    ru = runner.invoke(app, ["pains", "--base", str(tmp_path / "ru")])
    assert ru.exit_code == 1 and ru.stderr.startswith("Ошибка: в базе ещё нет интервью") and english_leftovers(ru.stderr) == []
    empty = runner.invoke(app, ["search", "  ", "--base", str(tmp_path / "ru")])
    assert empty.exit_code == 1 and empty.stderr == "Ошибка: пустой поисковый запрос\n"
    slug = runner.invoke(app, ["search", "счёт", "--segment", "example-segmen", "--base", str(tmp_path / "ru")])
    assert slug.exit_code == 1 and slug.stderr == "Ошибка: неизвестный сегмент 'example-segmen' (может быть, 'example-segment'?)\n"
    en = runner.invoke(app, ["pains", "--base", str(tmp_path / "en")])
    assert en.exit_code == 1 and en.stderr.startswith("Error: ") and "has no database yet; run 'custdev build' first" in en.stderr
    none = runner.invoke(app, ["pains", "--base", str(tmp_path / "missing")])
    assert none.exit_code == 1 and none.stderr.startswith("Error: ") and "is not a custdev research base" in none.stderr


def test_russian_base_matrix_file_line_is_russian(russian_base, tmp_path):
    result = runner.invoke(app, ["matrix", "--out", str(tmp_path / "m.csv"), "--base", str(russian_base)], env={"NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert re.search(r"Записан \S+m\.csv \(csv, 7 интервью × \d+ код(а|ов)?\)\.", result.stdout), result.stdout
    assert english_leftovers(result.stdout) == []


@pytest.fixture(scope="module")
def new_bases(tmp_path_factory) -> dict[str, Path]:
    """A base in each language right after 'custdev init' (the tests below put back what they change)."""
    root = tmp_path_factory.mktemp("new")
    for language in ("ru", "en"):
        assert runner.invoke(app, ["init", str(root / language), "--language", language]).exit_code == 0
    return {language: root / language for language in ("ru", "en")}


def error_lines(result) -> list[str]:
    """The stderr lines of a command that failed as a user should see it: exit 1, no traceback."""
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.stderr.splitlines()


def test_a_config_error_of_a_russian_base_reads_as_russian(new_bases):
    """A wrong value in custdev.toml, a custdev.toml that is not TOML at all and a broken codebook: said in the
    language the base declares (also when the rest of the file cannot be read), in English in an English base."""
    said = {
        "ru": ("Ошибка: {toml}: analysis.systemic_threshold должен быть от 0 до 1", "Ошибка: {toml}:{line}: ошибка в TOML: ключ или раздел [ ] задан дважды",
               "Ошибка: {codebook}: 'segments' должен быть списком записей со slug и title"),
        "en": ("Error: {toml}: analysis.systemic_threshold must be between 0 and 1", "Error: {toml}:{line}: invalid TOML: a key or a [section] set twice",
               "Error: {codebook}: 'segments' must be a list of entries with slug and title"),
    }
    for language, (threshold, toml_error, codebook_error) in said.items():
        base = new_bases[language]
        toml, codebook = base / "custdev.toml", base / "codebook.yml"
        text, book = toml.read_text(encoding="utf-8"), codebook.read_text(encoding="utf-8")
        try:
            toml.write_text(text.replace("systemic_threshold = 0.30", "systemic_threshold = 5"), encoding="utf-8")
            assert error_lines(runner.invoke(app, ["pains", "--base", str(base)])) == [threshold.format(toml=toml)]
            toml.write_text(text + "\n[base\n", encoding="utf-8")
            lines = error_lines(runner.invoke(app, ["build", "--base", str(base)]))
            assert lines == [toml_error.format(toml=toml, line=len(text.splitlines()) + 2)], lines
            toml.write_text(text, encoding="utf-8")
            codebook.write_text("segments: 5\n", encoding="utf-8")
            assert error_lines(runner.invoke(app, ["build", "--base", str(base)])) == [codebook_error.format(codebook=codebook)]
        finally:
            toml.write_text(text, encoding="utf-8")
            codebook.write_text(book, encoding="utf-8")


BAD_FILES = {  # an interview file a user gets wrong -> what build says of it, in Russian and in English
    "a.md": ("---\nid: a\ntitle: A\nsegments: [example-segmen]\n---\n\n**[00:00:05] Анна:** Счета выставляю вручную.\n",
             "interviews/a.md:4: неизвестный сегмент 'example-segmen' (может быть, 'example-segment'?)",
             "interviews/a.md:4: unknown segment 'example-segmen' (did you mean 'example-segment'?)"),
    "b.md": ("Просто заметки без заголовка.\n",
             "interviews/b.md:1: нет заголовка YAML (файл должен начинаться со строки '---')",
             "interviews/b.md:1: missing YAML front matter (the file must start with a '---' line)"),
    "c.md": ("---\nid: c\nnps: 11\n---\n\n**[00:00:05] Анна:** Всё хорошо.\n",
             "interviews/c.md:3: поле заголовка 'nps' должно быть целым числом от 0 до 10, а не 11",
             "interviews/c.md:3: front matter 'nps' must be a whole number from 0 to 10, not 11"),
    "d.md": ("---\nid: d\n---\n\n**[00:00:75] Анна:** Всё хорошо.\n",
             "interviews/d.md:5: неверная отметка времени [00:00:75] (формат ЧЧ:ММ:СС)",
             "interviews/d.md:5: bad timestamp [00:00:75] (use HH:MM:SS)"),
    "e.md": ("---\nid: e\nconsent: maybe\n---\n\n**[00:00:05] Анна:** ==Дорого #pain/example-pai==\n",
             "interviews/e.md:3: поле заголовка 'consent' должно быть internal, publish или withdrawn, а не 'maybe'",
             "interviews/e.md:3: front matter 'consent' must be internal, publish or withdrawn, not 'maybe'"),
    "f.md": ("---\nid: f\n---\n\n**[00:00:05] Анна:** ==Дорого #pain/example-pai==\n",
             "interviews/f.md:5: неизвестная боль 'example-pai' (может быть, 'example-pain'?)",
             "interviews/f.md:5: unknown pain 'example-pai' (did you mean 'example-pain'?)"),
}


def test_parse_errors_of_bad_interview_files_read_as_russian(new_bases):
    """`custdev build` over bad interview files: one line per file, in the base's language, exit 1."""
    for language, (prefix, at) in {"ru": ("Ошибка: ", 1), "en": ("Error: ", 2)}.items():
        folder = new_bases[language] / "interviews"
        for name, (text, *_) in BAD_FILES.items():
            (folder / name).write_text(text, encoding="utf-8")
        try:
            result = runner.invoke(app, ["build", "--base", str(new_bases[language])], env={"NO_COLOR": "1"})
        finally:
            for name in BAD_FILES:
                (folder / name).unlink()
        lines = [line for line in error_lines(result) if line.strip()]
        assert sorted(lines) == [prefix + said[at] for said in BAD_FILES.values()], lines
        if language == "ru":
            assert result.stdout.strip().endswith("с ошибками 6") and english_leftovers(result.output) == []


def test_a_parse_error_keeps_its_english_text_and_says_it_in_russian():
    import pickle

    from custdev.errors import ParseError
    from custdev.i18n import N_

    exc = ParseError("interviews/a.md", 7, N_("bad timestamp [{ts}] (use HH:MM:SS)"), ts="1:2:3:4")
    assert (exc.path, exc.line, exc.message) == ("interviews/a.md", 7, "bad timestamp [1:2:3:4] (use HH:MM:SS)")
    assert str(exc) == "interviews/a.md:7: bad timestamp [1:2:3:4] (use HH:MM:SS)"
    assert exc.localized(translator("ru")) == "interviews/a.md:7: неверная отметка времени [1:2:3:4] (формат ЧЧ:ММ:СС)"
    copy = pickle.loads(pickle.dumps(exc))  # a big build parses in worker processes
    assert str(copy) == str(exc) and copy.localized(translator("ru")) == exc.localized(translator("ru"))
    again = ParseError(copy.path, copy.line, copy.message)  # rebuilt from its parts (bigfile's parts)
    assert again.localized(translator("ru")) == exc.localized(translator("ru"))
    plain = ParseError("x.md", None, "a message the catalogs do not have")
    assert str(plain) == "x.md: a message the catalogs do not have" == plain.localized(translator("ru"))


def test_import_errors_of_a_russian_base_read_as_russian(new_bases, tmp_path):
    (tmp_path / "call.vtt").write_text("00:00:01.000 --> 00:00:02.000\nАнна: привет\n", encoding="utf-8")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4\n")
    said = {
        "ru": ["Ошибка: {vtt}: не файл WebVTT (первая строка должна быть 'WEBVTT')",
               "Ошибка: {pdf}: неподдерживаемый тип файла '.pdf' (записи: mp3, m4a, wav, ogg, flac, webm, mp4…; расшифровки: "],
        "en": ["Error: {vtt}: not a WebVTT file (the first line must be 'WEBVTT')",
               "Error: {pdf}: unsupported file type '.pdf' (recordings: mp3, m4a, wav, ogg, flac, webm, mp4…; transcripts: "],
    }
    for language, (vtt, pdf) in said.items():
        result = runner.invoke(app, ["import", str(tmp_path / "call.vtt"), str(tmp_path / "notes.pdf"), "--base",
                                     str(new_bases[language]), "--no-build"], env={"NO_COLOR": "1", "TERMINAL_WIDTH": "300"})
        lines = error_lines(result)
        assert vtt.format(vtt=tmp_path / "call.vtt") in lines, lines
        assert any(line.startswith(pdf.format(pdf=tmp_path / "notes.pdf")) for line in lines), lines
        if language == "ru":
            assert english_leftovers(result.output) == []
    # a warning about a file that is imported: said in the base's language too
    call = tmp_path / "call.txt"
    call.write_text("Анна: Как вы выставляете счета?\nБорис: Вручную.\nАнна: Долго?\nБорис: Часа два.\n", encoding="utf-8")
    warned = {"ru": "Предупреждение: {call}: --interviewer 'Пётр' в файле не говорит; интервьюером взят 'Анна' (задаёт больше всего вопросов)",
              "en": "Warning: {call}: --interviewer 'Пётр' does not speak in the file; taking 'Анна' (asks the most questions)"}
    for language, line in warned.items():
        result = runner.invoke(app, ["import", str(call), "--interviewer", "Пётр", "--no-build", "--base", str(new_bases[language])],
                               env={"NO_COLOR": "1", "TERMINAL_WIDTH": "300"})
        (new_bases[language] / "interviews" / "call.md").unlink()
        assert result.exit_code == 0 and line.format(call=call) in result.stderr.splitlines(), result.output


def test_doctor_in_a_russian_base_reads_as_russian(new_bases):
    env = {"NO_COLOR": "1", "TERMINAL_WIDTH": "300"}
    ru = runner.invoke(app, ["doctor", "--base", str(new_bases["ru"])], env=env)
    assert "Кэш моделей: " in ru.stdout and "Модель по умолчанию 'base': " in ru.stdout and "CPU: " in ru.stdout
    assert "Векторы предложений: " in ru.stdout and english_leftovers(ru.stdout) == [], ru.stdout
    en = runner.invoke(app, ["doctor", "--base", str(new_bases["en"])], env=env)
    assert ru.exit_code == en.exit_code
    assert "Model cache: " in en.stdout and "Default model 'base': " in en.stdout and "Sentence embeddings: " in en.stdout


def test_init_says_its_errors_in_the_language_of_the_base_it_makes(tmp_path):
    (tmp_path / "notes").write_text("not a folder\n", encoding="utf-8")
    ru = runner.invoke(app, ["init", str(tmp_path / "notes"), "--language", "ru"])
    assert error_lines(ru) == [f"Ошибка: {tmp_path / 'notes'} уже есть, и это не папка"]
    en = runner.invoke(app, ["init", str(tmp_path / "notes")])
    assert error_lines(en) == [f"Error: {tmp_path / 'notes'} exists and is not a folder"]
