"""A Russian base walked through the doors a new user meets after the first steps: channel exports, REFI-QDA export
and import, publish, the analysis tables. What a person reads there is Russian (with Russian plurals); an English
base reads exactly as before."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from custdev.cli import app
from test_i18n import english_leftovers, english_runs

runner = CliRunner()
ENV = {"TERMINAL_WIDTH": "200", "NO_COLOR": "1"}


def run(*args, base: Path):
    return runner.invoke(app, [*(str(a) for a in args), "--base", str(base)], env=ENV)


@pytest.fixture(scope="module")
def bases(tmp_path_factory) -> dict[str, Path]:
    """A fresh base per language, made as a new user makes one (custdev init)."""
    tmp = tmp_path_factory.mktemp("walk")
    out = {}
    for language in ("ru", "en"):
        root = tmp / language
        assert runner.invoke(app, ["init", str(root), "--language", language]).exit_code == 0
        out[language] = root
    return out


def bad_rows_csv(path: Path) -> Path:
    rows = ["id,Оценка,Комментарий", "1,9,Сверка выписки занимает весь вечер", "2,11,Долго", "3,12,Очень долго", "4,5,"]
    rows += ["5,7,Одно и то же"] * 6  # row 6 imports; rows 7-11 repeat its id
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_bad_rows_of_a_channel_export_are_reported_in_the_bases_language(bases, tmp_path):
    """Seen: `custdev import nps.csv --channel survey` in a Russian base warned «Предупреждение: nps.csv: 1 row with a
    score outside 0–10: row 3»."""
    export = bad_rows_csv(tmp_path / "nps.csv")
    ru = run("import", export, "--channel", "survey", base=bases["ru"])
    assert ru.exit_code == 0, ru.output
    warnings = [line for line in ru.stderr.splitlines() if line.strip()]
    assert warnings == [
        "Предупреждение: nps.csv: 2 строки с оценкой вне 0–10: строки 3, 4",
        "Предупреждение: nps.csv: 1 строка с пустым текстом: строка 5",
        "Предупреждение: nps.csv: 5 строк — повтор: строки 7, 8, 9, 10, 11",
    ], ru.stderr
    assert english_leftovers(ru.output) == [] and english_runs(ru.stderr) == []
    en = run("import", export, "--channel", "survey", base=bases["en"])
    assert en.exit_code == 0, en.output
    assert [line for line in en.stderr.splitlines() if line.strip()] == [
        "Warning: nps.csv: 2 rows with a score outside 0–10: rows 3, 4",
        "Warning: nps.csv: 1 row with empty text: row 5",
        "Warning: nps.csv: 5 rows duplicated: rows 7, 8, 9, 10, 11",
    ]


@pytest.fixture(scope="module")
def fixture_bases(tmp_path_factory) -> dict[str, Path]:
    """The hand-computed analysis fixture (codebook with stages, pains, hypotheses; tags; respondents) in each
    language, not built: export reads the interview files."""
    import shutil

    from test_analysis import FIXTURE

    tmp = tmp_path_factory.mktemp("walk-fixture")
    out = {}
    for language in ("ru", "en"):
        root = tmp / language
        shutil.copytree(FIXTURE, root)
        toml = root / "custdev.toml"
        toml.write_text(toml.read_text().replace('language = "en"', f'language = "{language}"'))
        out[language] = root
    return out


def _project(path: Path):
    import xml.etree.ElementTree as ET
    import zipfile

    with zipfile.ZipFile(path) as zf:
        return ET.fromstring(zf.read("project.qde"))


def _shown(root) -> tuple[set[str], set[str], list[str]]:
    """What a researcher reads in another tool: code names, variable names, and the descriptions custdev writes."""
    q = "{urn:QDA-XML:project:1.0}"
    codes = {c.get("name") for c in root.iter(f"{q}Code")}
    variables = {v.get("name") for v in root.iter(f"{q}Variable")}
    descriptions = [d.text or "" for d in root.iter(f"{q}Description")]
    return codes, variables, descriptions


def test_a_russian_qdpx_export_names_its_codes_and_variables_in_russian(fixture_bases, tmp_path):
    """Seen: `custdev export qdpx` of a Russian base gave QualCoder a code tree "Pains", "Hypotheses" (each with
    "supports" and "refutes"), "Tags", variables "Segments", "Company", "Role", "Interview date", "Interviewer",
    "Language", and descriptions "Journey stage: billing", "custdev interview smb-anna / Respondent: …"."""
    ru = run("export", "qdpx", tmp_path / "ru.qdpx", base=fixture_bases["ru"])
    assert ru.exit_code == 0, ru.output
    codes, variables, descriptions = _shown(_project(tmp_path / "ru.qdpx"))
    assert {"Боли", "Гипотезы", "Теги", "подтверждает", "опровергает"} <= codes
    assert not {"Pains", "Hypotheses", "Tags", "supports", "refutes"} & codes
    assert variables == {"Сегменты", "NPS", "Компания", "Должность", "Дата интервью", "Интервьюер", "Язык", "custdev id"}
    shown = "\n".join(line for d in descriptions for line in d.splitlines() if not line.startswith("custdev: "))
    assert "Этап пути клиента: billing" in shown and "интервью custdev smb-anna" in shown and "Респондент: Анна Петрова (Ромашка)" in shown
    for english in ("Journey stage", "Respondent:", "custdev interview", "evidence for", "free tags", "custdev pains"):
        assert english not in shown
    en = run("export", "qdpx", tmp_path / "en.qdpx", base=fixture_bases["en"])
    assert en.exit_code == 0, en.output
    codes, variables, descriptions = _shown(_project(tmp_path / "en.qdpx"))
    assert {"Pains", "Hypotheses", "Tags", "supports", "refutes"} <= codes
    assert variables == {"Segments", "NPS", "Company", "Role", "Interview date", "Interviewer", "Language", "custdev id"}
    assert any(d == "custdev interview smb-anna\nRespondent: Анна Петрова (Ромашка)" for d in descriptions)


def test_a_russian_qdpx_comes_back_whole_into_a_base_of_either_language(fixture_bases, tmp_path):
    """The Russian variable names are read back: dates, interviewers, respondents, companies, roles, segments, NPS
    and languages survive export and import, into a Russian base and into an English one."""
    import yaml

    assert run("export", "qdpx", tmp_path / "ru.qdpx", base=fixture_bases["ru"]).exit_code == 0
    keys = ("date", "interviewer", "respondent", "company", "role", "segments", "nps", "language")

    def front(path: Path) -> dict:
        meta = yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])
        return {k: str(meta.get(k)) for k in keys if meta.get(k) is not None}

    want = {p.stem: front(p) for p in (fixture_bases["ru"] / "interviews").glob("*.md")}
    for language in ("ru", "en"):
        target = tmp_path / f"into-{language}"
        assert runner.invoke(app, ["init", str(target), "--language", language]).exit_code == 0
        (target / "codebook.yml").write_text((fixture_bases["ru"] / "codebook.yml").read_text(encoding="utf-8"), encoding="utf-8")
        result = run("import", tmp_path / "ru.qdpx", "--no-build", base=target)
        assert result.exit_code == 0, result.output
        got = {p.stem: front(p) for p in (target / "interviews").glob("*.md")}
        # a respondent's NPS is a case variable: Carol's follow-up without a score comes back with her score (10)
        assert got["ent-carol-2"].pop("nps") == "10"
        assert got == want


def test_the_qdpx_mapping_file_speaks_the_bases_language(fixture_bases, tmp_path):
    """Seen: the mapping file the first import writes for the researcher to edit (qdpx-mappings/<project>.yml) had
    English comments ("# How the codes of p.qdpx become custdev codes…", "# not in the codebook") in a Russian base."""
    assert run("export", "qdpx", tmp_path / "p.qdpx", base=fixture_bases["ru"]).exit_code == 0
    for language in ("ru", "en"):
        target = tmp_path / language
        assert runner.invoke(app, ["init", str(target), "--language", language]).exit_code == 0
        result = run("import", tmp_path / "p.qdpx", "--no-build", base=target)  # init's codebook: unknown codes
        assert result.exit_code == 1, result.output
        text = (target / "qdpx-mappings" / "p.yml").read_text(encoding="utf-8")
        comments = "\n".join(line.split("#", 1)[1] for line in text.splitlines() if "#" in line)
        if language == "ru":
            assert "Как коды p.qdpx становятся кодами custdev" in text and "# нет в кодбуке" in text
            assert english_runs(comments) == [], comments
        else:
            assert text.startswith("# How the codes of p.qdpx become custdev codes.") and "# not in the codebook" in text


def test_a_published_copy_of_a_russian_base_has_a_russian_config_comment(bases, tmp_path):
    """Seen: `custdev publish` of a Russian base wrote custdev.toml beginning "# A published copy of a custdev research
    base (custdev publish). Serve it with: …"."""
    for language in ("ru", "en"):
        result = run("publish", tmp_path / language, base=bases[language])
        assert result.exit_code == 0, result.output
        first = (tmp_path / language / "custdev.toml").read_text(encoding="utf-8").splitlines()[0]
        if language == "ru":
            assert first == "# Опубликованная копия исследовательской базы custdev (custdev publish). Открыть на сайте: custdev serve --base ."
        else:
            assert first == "# A published copy of a custdev research base (custdev publish). Serve it with: custdev serve --base ."


def test_a_title_with_a_backslash_leaves_the_base_and_its_published_copy_readable(tmp_path):
    """Seen: `custdev init DIR --title 'Проба C:\\папка'` and `custdev publish` of a base so titled wrote the title
    into custdev.toml unescaped, so every command on the base or the copy then said «Ошибка: …/custdev.toml: ошибка в
    TOML (Unescaped '\\' in a string …)»."""
    from custdev.config import load_base

    title = 'Проба C:\\папка "кавычки"\tи таб'
    root = tmp_path / "ru"
    assert runner.invoke(app, ["init", str(root), "--language", "ru", "--title", title]).exit_code == 0
    assert load_base(root).config.title == title.replace('"', "'")
    result = run("publish", tmp_path / "copy", base=root)
    assert result.exit_code == 0, result.output
    assert load_base(tmp_path / "copy").config.title == title.replace('"', "'")
    again = run("publish", tmp_path / "copy2", base=tmp_path / "copy")  # a command on the copy reads its config
    assert "TOML" not in again.output


def test_channel_search_hits_name_their_channel_in_the_bases_language(bases, tmp_path):
    """Seen: `custdev search сверка --channel survey` in a Russian base printed «survey, строка 2 …»."""
    export = tmp_path / "tickets.csv"
    export.write_text("id,Текст\n1,Сверка выписки вручную занимает весь вечер\n", encoding="utf-8")
    for language, line in (("ru", "обращение, строка 2 "), ("en", "ticket row 2 ")):
        assert run("import", export, "--channel", "ticket", base=bases[language]).exit_code == 0
        result = run("search", "выписки", "--channel", "ticket", base=bases[language])
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(line), result.stdout


def test_an_export_whose_every_row_is_bad_says_why_in_one_line(bases, tmp_path):
    """Seen: an export saved by Excel in cp1251 gave only «Ошибка: cp.csv: нет пригодных строк (с ошибками: 1)»: the
    reason (and the --encoding cp1251 way out), shown as a warning when some rows import, was not said."""
    export = tmp_path / "cp.csv"
    export.write_bytes("Комментарий,Оценка\n".encode() + "Привет из Excel,5\n".encode("cp1251") + "Долго,11\n".encode())
    ru = run("import", export, "--channel", "survey", base=bases["ru"])
    assert ru.exit_code == 1 and [line for line in ru.stderr.splitlines() if line.strip()] == [
        "Ошибка: cp.csv: нет пригодных строк: 1 строка не в UTF-8 (cp1251 из Excel? пересохраните в UTF-8 или укажите "
        "--encoding cp1251): строка 2; 1 строка с оценкой вне 0–10: строка 3"], ru.stderr
    assert "Traceback" not in ru.output and not list((bases["ru"] / "channels").rglob("cp*"))
    en = run("import", export, "--channel", "survey", base=bases["en"])
    assert en.exit_code == 1 and en.stderr.strip() == (
        "Error: cp.csv: no usable rows: 1 row not UTF-8 (cp1251 from Excel? re-save as UTF-8 or use --encoding cp1251): "
        "row 2; 1 row with a score outside 0–10: row 3")


def _qdpx(path: Path, sources: str, files: dict[str, str]) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", '<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="urn:QDA-XML:project:1.0" '
                                   f'name="p"><Sources>{sources}</Sources></Project>')
        for name, text in files.items():
            zf.writestr(f"sources/{name}", text)
    return path


def test_a_project_without_codes_imports_again_and_names_skipped_sources_in_russian(bases, tmp_path):
    """Seen: importing a project with no codes a second time said «Ошибка: …/qdpx-mappings/p.yml: некорректный файл
    сопоставления … исправьте или удалите его» about the file custdev itself had written ('codes:' with nothing under
    it); and a skipped picture source was «1 источник типа picture»."""
    project = _qdpx(tmp_path / "p.qdpx",
                    '<TextSource guid="0b6cd717-a3df-53dc-9010-2f3cdfe67389" name="Беседа" plainTextPath="internal://a.txt"/>'
                    '<PictureSource guid="9cdcd535-a4bf-50a9-9633-e9b50a53bf69" name="фото" path="internal://b.png"/>',
                    {"a.txt": "Мария: Как вы выставляете счета?\nАнна: Вручную.\nМария: Долго?\nАнна: Весь вечер.\n", "b.png": "x"})
    first = run("import", project, "--no-build", base=bases["ru"])
    assert first.exit_code == 0, first.output
    assert [line for line in first.stderr.splitlines() if line.strip()] == [
        "Предупреждение: p.qdpx: 1 источник типа «изображение» не импортирован (custdev хранит текст, аудио и видео)"]
    again = run("import", project, "--no-build", base=bases["ru"])
    assert again.exit_code == 0 and "уже были: 1" in again.stdout, again.output
    en = run("import", project, "--no-build", base=bases["en"])
    assert en.exit_code == 0 and "Warning: p.qdpx: 1 picture source not imported (custdev keeps text, audio and video)" in en.stderr
    assert run("import", project, "--no-build", base=bases["en"]).exit_code == 0


def test_a_published_copy_exports_its_quotes_refuses_qdpx_and_imports_nothing(bases, tmp_path):
    """Seen on a published copy (custdev publish, then --base COPY): `export quotes` failed because it first tried to
    build the copy; `export qdpx` wrote an empty project («0 интервью, 0 кодов», exit 0); `import a.vtt` and
    `import nps.csv --channel survey` wrote interviews/ and channels/ into the copy and only then failed on its build."""
    copy = tmp_path / "copy"
    assert run("publish", copy, base=bases["ru"]).exit_code == 0
    quotes = run("export", "quotes", tmp_path / "q.csv", base=copy)
    assert quotes.exit_code == 0 and (tmp_path / "q.csv").is_file(), quotes.output
    for kind in ("qdpx", "qdc"):
        result = run("export", kind, tmp_path / f"p.{kind}", base=copy)
        assert result.exit_code == 1 and not (tmp_path / f"p.{kind}").exists(), result.output
        assert result.stderr == (f"Ошибка: {copy} — опубликованная копия (custdev publish): в ней нет файлов интервью для "
                                 "выгрузки; выгрузите из исходной базы\n")
    (tmp_path / "a.vtt").write_text("WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Мария>Как вы выставляете счета?\n", encoding="utf-8")
    (tmp_path / "nps.csv").write_text("Комментарий\nДолго\n", encoding="utf-8")
    before = sorted(p.name for p in copy.iterdir())
    for args in (["a.vtt"], ["nps.csv", "--channel", "survey"]):
        result = run("import", tmp_path / args[0], *args[1:], base=copy)
        assert result.exit_code == 1 and result.stdout == "", result.output
        assert result.stderr == (f"Ошибка: {copy} — опубликованная копия (custdev publish): импортируйте в исходную базу и "
                                 "опубликуйте заново; ничего не импортировано\n")
    assert sorted(p.name for p in copy.iterdir()) == before


def test_sampling_notes_and_errors_of_a_russian_base_are_russian(bases, tmp_path):
    """Seen: `custdev sample ARCHIVE --by segment` in a Russian base noted «Примечание: 2 file(s) of the archive are
    not in metadata.csv; they form the stratum (none)», and `--by month` without a month column said «нужен столбец
    a 'month' or 'date'»."""
    archive = tmp_path / "calls"
    archive.mkdir()
    for i in range(1, 5):
        (archive / f"call-{i}.vtt").write_text("WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Мария>Как дела?\n", encoding="utf-8")
    (archive / "metadata.csv").write_text("file,segment\ncall-1.vtt,smb\nnope.vtt,smb\n", encoding="utf-8")
    lines = {}
    for language in ("ru", "en"):
        drawn = run("sample", archive, "--n", 2, "--by", "segment", "--seed", 7, "--dry-run", "--quiet", base=bases[language])
        month = run("sample", archive, "--n", 2, "--by", "month", "--seed", 7, "--dry-run", "--quiet", base=bases[language])
        assert drawn.exit_code == 0 and month.exit_code == 1, drawn.output + month.output
        lines[language] = [line for line in (drawn.stderr + month.stderr).splitlines() if line.strip()]
    meta = archive / "metadata.csv"
    assert lines["ru"] == [
        f"Примечание: {meta}:3: 'nope.vtt' — не запись и не расшифровка из архива; строка пропущена",
        "Примечание: 3 файла архива не указаны в metadata.csv; они образуют страту (none)",
        f"Ошибка: {meta}: для --by month в CSV с метаданными нужен столбец 'month' или 'date'",
    ]
    assert lines["en"] == [
        f"Note: {meta}:3: 'nope.vtt' is not a recording or transcript in the archive; row ignored",
        "Note: 3 file(s) of the archive are not in metadata.csv; they form the stratum (none)",
        f"Error: {meta}: --by month needs a 'month' or 'date' column in the metadata CSV",
    ]


def test_the_pains_tables_of_a_russian_base_keep_whole_verdicts_and_russian_amounts(fixture_bases, monkeypatch):
    """Seen in an 80-column terminal: `custdev pains` of a Russian base cut the verdict column («неясно +3…» for
    «неясно +319»: Russian headers are wider), and its «На кону» table wrote amounts in English form, «6,000
    (1,204–7,622)», «$8.85M ($1.81M–$9.62M)», where the report writes «6 000», «$8,85 млн»."""
    import re

    ru = fixture_bases["ru"]
    assert run("build", base=ru).exit_code == 0
    env = {"COLUMNS": "80", "NO_COLOR": "1"}
    # rich fixes a console's width when it is made if COLUMNS is set then, and pytest-xdist's workers (the README's
    # test command) start with COLUMNS=80: let custdev's console read the width each invocation sets.
    from custdev.cli import out

    monkeypatch.setattr(out, "_width", None)
    shown = runner.invoke(app, ["pains", "--base", str(ru)], env=env)
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert "…" not in "\n".join(lines[:lines.index(next(x for x in lines if x.startswith("Упомянута в:")))])
    assert all(len(line) <= 80 for line in lines if "─" in line)
    assert re.search(r"неясно \+\d+ *$", shown.stdout, re.M)
    narrow = runner.invoke(app, ["pains", "--base", str(ru)], env={**env, "COLUMNS": "70"}).stdout
    table = narrow[:narrow.index("Упомянута в:")]
    assert all(len(line) <= 70 for line in table.splitlines()) and "+3…" not in table  # fits, and the numbers stay whole
    stake = shown.stdout[shown.stdout.index("На кону"):]
    assert re.search(r"\d\s\d{3} \(", stake) and "млн" in stake and "тыс." in stake, stake
    assert not re.search(r"\d,\d{3}|\d\.\d+M|\d+k\b", stake), stake
    en = fixture_bases["en"]
    assert run("build", base=en).exit_code == 0
    english = runner.invoke(app, ["pains", "--base", str(en)], env=env).stdout
    stake = english[english.index("At stake"):]
    assert re.search(r"\d,\d{3} \(", stake) and re.search(r"\$\d+(\.\d+)?M", stake) and re.search(r"\d+k\b", stake), stake


def test_the_segments_table_of_a_russian_base_fits_80_columns_with_whole_headers_and_figures(fixture_bases, monkeypatch):
    """Seen in an 80-column terminal: `custdev segments` of a Russian base cut its header «Респонденты» to
    «Респонден…», and each segment's top pains ran together in one wrapped cell («late-payme… 66,7%,»). Now the
    headers and figures are whole, each pain has its line with its share first, and no line is wider than 80."""
    import json
    import re

    from custdev.cli import out

    monkeypatch.setattr(out, "_width", None)  # see the pains test above: each invocation's COLUMNS counts
    ru = fixture_bases["ru"]
    assert run("build", base=ru).exit_code == 0
    for columns in (80, 70):
        shown = runner.invoke(app, ["segments", "--base", str(ru)], env={"COLUMNS": str(columns), "NO_COLOR": "1"})
        assert shown.exit_code == 0, shown.output
        lines = shown.stdout.splitlines()
        header = next(line for line in lines if "Интервью" in line)
        assert all(word in header for word in ("Сегмент", "Интервью", "Респонденты", "NPS", "П/Н/К")), header
        table = lines[:lines.index(next(x for x in lines if x.startswith("П/Н/К:")))]  # the footnote is a paragraph
        assert all(len(line.rstrip()) <= columns for line in table), shown.stdout
        body = "\n".join(table[table.index(next(x for x in table if "─" in x)) + 1:])
        shares = re.findall(r"(\d+,\d%) ", body)
        data = json.loads(runner.invoke(app, ["segments", "--base", str(ru), "--json"]).stdout)
        expected = [p["share"] for s in data["segments"] for p in s["top_pains"]]
        assert len(shares) == len(expected) and all(float(a[:-1].replace(",", ".")) == round(100 * b, 1)
                                                     for a, b in zip(shares, expected)), body


def test_export_quotes_says_which_interview_files_its_build_could_not_read(tmp_path):
    """Seen: with a bad interview file (an unknown segment), `custdev export quotes q.csv` said only «Записан q.csv: 28
    цитат (csv)», exit 0: the build it runs first had skipped the file, and its quotes were missing from the sheet
    without a word. Now the build's error line, in the base's language, the sheet still written, and exit 1."""
    for language, line in (("ru", "Ошибка: interviews/bad.md:3: неизвестный сегмент 'nope'"),
                           ("en", "Error: interviews/bad.md:3: unknown segment 'nope'")):
        root = tmp_path / language
        assert runner.invoke(app, ["init", str(root), "--language", language]).exit_code == 0
        (root / "interviews" / "bad.md").write_text("---\nid: bad\nsegments: [nope]\n---\n**Мария:** текст\n", encoding="utf-8")
        result = run("export", "quotes", tmp_path / f"{language}.csv", base=root)
        assert result.exit_code == 1 and (tmp_path / f"{language}.csv").is_file(), result.output
        assert [x for x in result.stderr.splitlines() if x.strip()] == [line]


def test_purge_stops_with_one_line_when_it_cannot_read_its_list_of_published_copies(tmp_path):
    """Seen: `.custdev/published.json` holding `[]` made `custdev purge` and `custdev publish` end with «Ошибка:
    непредвиденная ошибка AttributeError / TypeError…» (publish after writing the copy), and a file that was not JSON
    made purge skip every published copy without a word, leaving a withdrawn respondent in them."""
    root = tmp_path / "ru"
    assert runner.invoke(app, ["init", str(root), "--language", "ru"]).exit_code == 0
    interview = root / "interviews" / "a.md"
    interview.write_text("---\nid: a\nconsent: withdrawn\n---\n**[00:00:01] Мария:** Как дела?\n", encoding="utf-8")
    copies = root / ".custdev" / "published.json"
    copies.parent.mkdir(exist_ok=True)
    for text, why in (("[]", "не в формате custdev"), ("garbage", "некорректный JSON")):
        copies.write_text(text, encoding="utf-8")
        result = run("purge", "--yes", base=root)
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        assert result.stderr == (f"Ошибка: .custdev/published.json: не удаётся прочитать список опубликованных копий ({why}); "
                                 "исправьте или удалите его (тогда уберите интервью из копий вручную) и снова запустите "
                                 "'custdev purge'\n")
        assert interview.exists()  # nothing deleted
    copies.write_text("[]", encoding="utf-8")
    published = run("publish", tmp_path / "copy", base=root)
    assert published.exit_code == 0 and "непредвиденная" not in published.output, published.output
    assert str((tmp_path / "copy").resolve()) in copies.read_text(encoding="utf-8")
    purged = run("purge", "--yes", base=root)
    assert purged.exit_code == 0 and not interview.exists(), purged.output


def test_importing_an_empty_folder_says_there_was_nothing_to_import(bases, tmp_path):
    """Seen: `custdev import calls/` on an empty folder (or a wrong one) printed only «Импортировано 0, уже были 0, с
    ошибками 0»: nothing said that the folder held no recordings or transcripts."""
    empty = tmp_path / "calls"
    empty.mkdir()
    for language, note in (("ru", f"Примечание: {empty}: в папке нет записей и расшифровок"),
                           ("en", f"Note: {empty}: no recordings or transcripts in this folder")):
        result = run("import", empty, base=bases[language])
        assert result.exit_code == 0, result.output
        assert [x for x in result.stderr.splitlines() if x.strip()] == [note]


def test_an_impossible_date_in_one_interview_is_one_line_and_the_rest_is_built(tmp_path):
    """Seen: one interview with `date: 2026-13-45` (a typo for a month) stopped `custdev build` of the whole base with
    «Ошибка: непредвиденная ошибка ValueError; запустите снова с CUSTDEV_DEBUG=1…»: no file named, nothing built. Now
    that file's line, in the base's language, and the other interviews are built."""
    for language, line in (("ru", "Ошибка: interviews/bad.md:3: в поле заголовка 'date' несуществующая дата: 2026-13-45"),
                           ("en", "Error: interviews/bad.md:3: front matter 'date' is not a real date: 2026-13-45")):
        root = tmp_path / language
        assert runner.invoke(app, ["init", str(root), "--language", language]).exit_code == 0
        (root / "interviews" / "bad.md").write_text("---\nid: bad\ndate: 2026-13-45\n---\n**Мария:** текст\n", encoding="utf-8")
        (root / "interviews" / "good.md").write_text("---\nid: good\ndate: 2026-02-10\n---\n**Мария:** текст\n", encoding="utf-8")
        result = run("build", base=root)
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        assert [x for x in result.stderr.splitlines() if x.strip()] == [line]
        assert ("собрано 1" if language == "ru" else "1 built") in result.stdout, result.stdout


def test_a_front_matter_without_its_closing_line_is_named_as_such(tmp_path):
    """Seen: an interview whose front matter lacked its closing '---' line was refused with «нет заголовка YAML (файл
    должен начинаться со строки '---')», although the file did start with '---'. Now the line says what is missing."""
    for language, line in (("ru", "Ошибка: interviews/open.md:1: заголовок YAML не закрыт: добавьте строку '---' после него"),
                           ("en", "Error: interviews/open.md:1: the YAML front matter is not closed: add a '---' line after it")):
        root = tmp_path / language
        assert runner.invoke(app, ["init", str(root), "--language", language]).exit_code == 0
        (root / "interviews" / "open.md").write_text("---\nid: open\ndate: 2026-02-10\n\n**Мария:** текст\n", encoding="utf-8")
        result = run("build", base=root)
        assert result.exit_code == 1 and [x for x in result.stderr.splitlines() if x.strip()] == [line], result.output


def test_init_help_and_doctor_say_their_last_english_words_in_russian(bases):
    """Seen: `custdev init --language ru --help` offered «Язык отчётов, таблиц и подписей на сайте: en or ru.», and
    `custdev doctor` of a Russian base described the sentence-embedding model as «Apache-2.0 (package and Google's USE
    multilingual v3 weights)»."""
    def said(text):
        return " ".join(text.replace("│", " ").split())

    shown = said(runner.invoke(app, ["init", "--language", "ru", "--help"], env=ENV).stdout)
    assert "Язык отчётов, таблиц и подписей на сайте: en или ru." in shown, shown
    english = said(runner.invoke(app, ["init", "--help"], env={**ENV, "LANG": "C.UTF-8", "LANGUAGE": None}).stdout)
    assert "Language of reports, tables and site labels: en or ru." in english, english
    doctor = run("doctor", base=bases["ru"])
    line = next(x for x in doctor.stdout.splitlines() if x.startswith("Векторы предложений:"))
    assert "Apache-2.0 (пакет и веса Google USE multilingual v3)" in line and english_runs(line, ["Google USE multilingual v3"]) == [], line
    doctor = run("doctor", base=bases["en"])
    assert "Apache-2.0 (package and Google's USE multilingual v3 weights)" in doctor.stdout, doctor.stdout


def test_help_and_usage_errors_name_the_arguments_in_russian(bases):
    """Seen: in a Russian base the usage lines read «custdev init [ПАРАМЕТРЫ] [directory]», «custdev export quotes
    [ПАРАМЕТРЫ] {file}», «custdev import [ПАРАМЕТРЫ] {paths}...», the «Аргументы» panels listed «file», «query», and
    `custdev export quotes` without its file said «Не указан аргумент 'file'.»."""
    def said(args, base):
        result = runner.invoke(app, args, env={**ENV, "CUSTDEV_BASE": str(base)})
        return result, " ".join((result.stdout + result.stderr).replace("│", " ").split())

    for args, russian, english in (
        (["init", "--help"], "custdev init [ПАРАМЕТРЫ] [папка] ", "custdev init [OPTIONS] [directory] "),
        (["search", "--help"], "custdev search [ПАРАМЕТРЫ] [запрос] ", "custdev search [OPTIONS] [query] "),
        (["import", "--help"], "custdev import [ПАРАМЕТРЫ] {пути}... ", "custdev import [OPTIONS] {paths}... "),
        (["sample", "--help"], "custdev sample [ПАРАМЕТРЫ] {папка} ", "custdev sample [OPTIONS] {folder} "),
        (["suggest", "--help"], "custdev suggest [ПАРАМЕТРЫ] [интервью] ", "custdev suggest [OPTIONS] [interview] "),
        (["export", "quotes", "--help"], "custdev export quotes [ПАРАМЕТРЫ] {файл} ", "custdev export quotes [OPTIONS] {file} "),
        (["export", "quotes"], "Не указан аргумент 'файл'.", "Missing argument 'file'."),
        (["import"], "Не указан аргумент 'пути'.", "Missing argument 'paths'."),
    ):
        result, text = said(args, bases["ru"])
        assert russian in text, (args, text)
        assert not re.search(r"(?<!')\b(directory|query|paths|folder|file)\b(?!')", text), (args, text)  # 'file': a CSV column
        assert english in said(args, bases["en"])[1], args
    _, text = said(["export", "quotes", "--help"], bases["ru"])
    assert "Аргументы ─" in text and " * файл <путь> Файл таблицы" in text, text
    _, text = said(["import", "--help"], bases["ru"])
    assert " * пути... <список[путь]> " in text and " --ray-address АДРЕС " in text and "qdpx-mappings/<проект>.yml" in text, text
    _, text = said(["report", "--help"], bases["ru"])
    assert "<имя>-heatmap.svg" in text, text


def test_the_unheard_pains_by_segment_table_of_a_russian_base_fits_80_columns_with_whole_words(fixture_bases, monkeypatch):
    """Seen in an 80-column terminal: `custdev saturation` of a Russian base printed its «Неуслышанные боли по
    сегментам» table with the header «Охват» broken into «Охва» / «т» and each segment slug cut into four-letter
    pieces («smb-» / «owne» / «rs»): the long header «Новая боль в следующем» took the width. Now that header takes
    more lines, the other headers and the slugs stay whole (a slug folds only when the figures leave it no room) and
    no line is wider than the terminal."""
    from custdev.cli import out

    monkeypatch.setattr(out, "_width", None)  # see the pains test above: each invocation's COLUMNS counts
    for language, scope, title in (("ru", "Охват", "Неуслышанные боли по сегментам"), ("en", "Scope", "Unheard pains by segment")):
        root = fixture_bases[language]
        assert run("build", base=root).exit_code == 0
        slugs = [s["slug"] for s in __import__("yaml").safe_load((root / "codebook.yml").read_text(encoding="utf-8"))["segments"]]
        for columns in (80, 70):
            shown = runner.invoke(app, ["saturation", "--base", str(root)], env={"COLUMNS": str(columns), "NO_COLOR": "1"})
            assert shown.exit_code == 0, shown.output
            lines = shown.stdout.splitlines()
            table = lines[lines.index(title):]
            assert all(len(line.rstrip()) <= columns for line in table), shown.stdout
            rows = "\n".join(table)
            assert re.search(rf"^ *{scope} ", rows, re.M), rows
            if columns == 80:  # at 70 the figures leave a slug 7 characters: it folds (its header still does not)
                assert all(re.search(rf"^ *{re.escape(slug)} ", rows, re.M) for slug in slugs), rows


@pytest.mark.parametrize("front, russian, english", [
    ("title: Встреча: итоги", "второе ':' в строке (значение, в котором есть ': ', возьмите в кавычки)",
     "a second ':' in the line (put a value that has ': ' in quotes)"),
    ("segments: [smb, ent", "список в [ ] не закрыт скобкой ']'", "a list in [ ] is not closed with ']'"),
    ('title: "Встреча', "кавычка не закрыта", "a quote is not closed"),
    ("title: @Анна", "значение не может начинаться с этого символа (табуляция, @, ` или %): отступы — пробелами, "
     "такое значение возьмите в кавычки", "a value cannot start with this character (a tab, @, ` or %): indent with "
     "spaces, put such a value in quotes"),
])
def test_a_broken_front_matter_says_what_is_wrong_in_the_bases_language(tmp_path, front, russian, english):
    """Seen: an interview titled `title: Встреча: итоги` (a colon inside a title, a common slip) was refused with
    «ошибка в заголовке YAML: mapping values are not allowed in this context»: the YAML parser's English. Now the
    common slips are said in the base's language."""
    for language, line in (("ru", f"Ошибка: interviews/bad.md:3: ошибка в заголовке YAML: {russian}"),
                           ("en", f"Error: interviews/bad.md:3: malformed YAML front matter: {english}")):
        root = tmp_path / language
        assert runner.invoke(app, ["init", str(root), "--language", language]).exit_code == 0
        (root / "interviews" / "bad.md").write_text(f"---\nid: bad\n{front}\nnps: 5\n---\n**Мария:** текст\n", encoding="utf-8")
        result = run("build", base=root)
        assert result.exit_code == 1 and [x for x in result.stderr.splitlines() if x.strip()] == [line], result.output


def test_the_pains_table_of_the_sample_base_in_russian_keeps_its_slugs_whole_in_80_columns(tmp_path, monkeypatch):
    """Seen: `custdev pains` of the repository's sample interviews in a Russian base, in an 80-column terminal, cut
    the first pain's slug into «manual-reconciliatio» / «n» (the header «Упомянута в» is 3 characters wider than
    "Heard in"). Now that header takes two lines when the table would not fit, and the slugs stay whole."""
    import shutil

    from custdev.cli import out

    monkeypatch.setattr(out, "_width", None)  # see the pains test above: each invocation's COLUMNS counts
    repo = Path(__file__).resolve().parent.parent
    root = tmp_path / "ru"
    assert runner.invoke(app, ["init", str(root), "--language", "ru"]).exit_code == 0
    shutil.copy(repo / "codebook.yml", root / "codebook.yml")
    for path in (repo / "interviews").glob("*.md"):
        shutil.copy(path, root / "interviews" / path.name)
    assert run("build", base=root).exit_code == 0
    shown = runner.invoke(app, ["pains", "--base", str(root)], env={"COLUMNS": "80", "NO_COLOR": "1"})
    lines = shown.stdout.splitlines()
    table = lines[:lines.index(next(x for x in lines if x.startswith("Упомянута в:")))]
    assert all(len(line.rstrip()) <= 80 for line in table), shown.stdout
    assert re.search(r"^ manual-reconciliation +\d/8 ", shown.stdout, re.M), shown.stdout
    assert "Упомянута" in shown.stdout and re.search(r"неясно \+\d+ *$", shown.stdout, re.M)
    wide = runner.invoke(app, ["pains", "--base", str(root)], env={"COLUMNS": "120", "NO_COLOR": "1"}).stdout
    assert " Упомянута в " in wide, wide  # one line where it fits


def test_help_of_a_russian_base_names_ranged_values_in_russian(bases):
    """Seen: the help of a Russian base showed options that take a bounded number as «<целое range> [x>=1]» (cooccurrence
    --top, serve --port, import --beam-size) and «<число range> [x>=0.5]» (record --seconds)."""
    for args, russian, english in ((["cooccurrence", "--help"], "<целое> [x>=1]", "<int range> [x>=1]"),
                                   (["serve", "--help"], "<целое> [0<=x<=65535]", "<int range> [0<=x<=65535]"),
                                   (["record", "--help"], "<число> [x>=0.5]", "<float range> [x>=0.5]")):
        ru = runner.invoke(app, args, env={**ENV, "CUSTDEV_BASE": str(bases["ru"]), "COLUMNS": "250"}).stdout
        assert russian in ru and " range" not in ru, ru
        en = runner.invoke(app, args, env={**ENV, "CUSTDEV_BASE": str(bases["en"]), "COLUMNS": "250"}).stdout
        assert english in en, en


@pytest.mark.parametrize("query, russian, english", [
    ("AND", "AND в поисковом запросе 'AND' — нужны слова с обеих сторон", "AND in the search query 'AND' needs words on both sides"),
    ("счёт OR", "OR в поисковом запросе 'счёт OR' — нужны слова с обеих сторон", "OR in the search query 'счёт OR' needs words on both sides"),
    ("NOT счёт", "NOT в поисковом запросе 'NOT счёт' — нужны слова с обеих сторон", "NOT in the search query 'NOT счёт' needs words on both sides"),
    ("(счёт", "непарная скобка в поисковом запросе '(счёт'", "unbalanced parenthesis in the search query '(счёт'"),
    ("счёт)", "непарная скобка в поисковом запросе 'счёт)'", "unbalanced parenthesis in the search query 'счёт)'"),
])
def test_a_search_query_with_a_stray_operator_or_parenthesis_says_so_in_the_bases_language(fixture_bases, query, russian, english):
    """Seen: `custdev search AND` and `custdev search "(счёт"` in a Russian base said «не удаётся разобрать поисковый
    запрос 'AND' (syntax error near "AND")» and «… '(счёт' (syntax error near "")»: SQLite's English, and for the
    parenthesis not even where. Now what is wrong, in the base's language."""
    for language, line in (("ru", f"Ошибка: {russian}"), ("en", f"Error: {english}")):
        assert run("build", base=fixture_bases[language]).exit_code == 0
        result = run("search", query, base=fixture_bases[language])
        assert result.exit_code == 1 and result.stderr.strip() == line, result.output


def test_the_unheard_pains_line_of_a_russian_base_agrees_with_its_counts(fixture_bases):
    """Seen: `custdev saturation` of a Russian base ended its «Неуслышанные боли» line with «(f1 = 1 услышаны один раз,
    f2 = 1 дважды, в 7 интервью)»: «1 … услышаны» (and «21 … услышаны»). Now the counts are labels, «f1 = 1 —
    услышанных один раз», right for any number."""
    root = fixture_bases["ru"]
    assert run("build", base=root).exit_code == 0
    shown = " ".join(run("saturation", base=root).stdout.split())
    assert "(f1 = 1 — услышанных один раз, f2 = 1 — дважды, в 7 интервью)" in shown, shown


def test_the_saturation_line_of_a_russian_report_counts_its_pains_in_russian(tmp_path):
    """Seen: the report of a saturated Russian base with one pain said «Насыщение достигнуто: последние 3 интервью не
    добавили новых болей (1 болей в 4 интервью).» («2 болей», «21 болей» too; English «1 pains»)."""
    for language, line in (("ru", "(1 боль в 4 интервью)."), ("en", "(1 pain in 4 interviews).")):
        root = tmp_path / language
        assert runner.invoke(app, ["init", str(root), "--language", language]).exit_code == 0
        for day in range(1, 5):
            tag = " #pain/example-pain" if day == 1 else ""
            (root / "interviews" / f"i{day}.md").write_text(
                f"---\nid: i{day}\ndate: 2026-02-0{day}\n---\n**[00:00:01] Анна:** ==Считаем вручную==" + tag + "\n", encoding="utf-8")
        assert run("build", base=root).exit_code == 0
        report = run("report", base=root)
        assert report.exit_code == 0, report.output
        assert line in report.stdout, report.stdout


@pytest.mark.parametrize("total, russian, english", [
    (1234, "Показано 1 из 1 234 совпадений;", "1 of 1,234 matches shown;"),
    (12341, "Показано 1 из 12 341 совпадения, ранжированы 5 000 из них;", "1 of 12,341 matches shown, ranked among 5,000 of them;"),
])
def test_search_counts_beyond_a_thousand_are_written_in_the_bases_language(fixture_bases, monkeypatch, total, russian, english):
    """Seen: in a Russian base a search with many matches ended «Показано 20 из 1,234 совпадений» and, past the ranking
    window, «Показано 20 из 12,341 совпадений, ранжированы 5,000 из них» — English digit grouping (the rest of custdev
    writes 1 234), and «из 12 341 совпадений» for a count ending in 1."""
    import custdev.search

    monkeypatch.setattr(custdev.search, "count_matches", lambda *a, **k: total)
    for language, line in (("ru", russian), ("en", english)):
        assert run("build", base=fixture_bases[language]).exit_code == 0
        result = run("search", "late OR поздно OR счёт OR invoice", "--limit", 1, base=fixture_bases[language])
        assert result.exit_code == 0, result.output
        assert line in result.stdout.replace("\u00a0", " "), result.stdout


def test_counts_past_a_thousand_in_build_and_embedding_notes_are_grouped_the_russian_way(tmp_path, monkeypatch):
    """Seen: after importing a survey of 1,200 answers, `custdev build` of a Russian base ended its line with «; 1,200
    ответов опросов, обращений и чатов» (English grouping; the import line above it said «1 200»), and the note that
    turns embeddings off in a big base read «… больше 40000 реплик респондентов (в этой — 52345)»."""
    from custdev.config import Config
    from custdev.errors import localize
    from custdev.i18n import translator
    from custdev.meaning.store import SETTING_ENV, enabled

    export = tmp_path / "big.csv"
    export.write_text("Комментарий\n" + "".join(f"Ответ номер {n}\n" for n in range(1200)), encoding="utf-8")
    for language, count in (("ru", "; 1 200 "), ("en", "; 1,200 ")):
        root = tmp_path / language
        assert runner.invoke(app, ["init", str(root), "--language", language]).exit_code == 0
        result = run("import", export, "--channel", "survey", base=root)
        assert result.exit_code == 0, result.output
        built = run("build", base=root).stdout.replace("\u00a0", " ")
        assert count in built, built
    monkeypatch.delenv(SETTING_ENV, raising=False)  # the tests' own setting: embeddings off
    why = enabled(Config(), interviews=10, turns=52_345)[1]
    assert "40 000" in localize(why, translator("ru")).replace("\u00a0", " ") and "52 345" in localize(why, translator("ru")).replace("\u00a0", " ")
    assert "40,000" in str(why) and "52,345" in str(why)


def test_tickets_are_called_obrashcheniya_everywhere_in_a_russian_base(tmp_path):
    """Seen: a Russian base calls tickets «обращения» (import --help, search lines «обращение, строка 2», channels),
    but `custdev build` ended «; 3 ответа из опросов, тикетов и чатов» and the site's canned query was «Поиск по опросам,
    тикетам и чатам»."""
    from custdev.i18n import translator

    root = tmp_path / "ru"
    assert runner.invoke(app, ["init", str(root), "--language", "ru"]).exit_code == 0
    export = tmp_path / "t.csv"
    export.write_text("Текст\nСверка\nОплата\nСчёт\n", encoding="utf-8")
    assert run("import", export, "--channel", "ticket", base=root).exit_code == 0
    built = run("build", base=root).stdout
    assert "; 3 ответа из опросов, обращений и чатов" in built and "тикет" not in built, built
    assert translator("ru").gettext("Search survey comments, tickets and chats") == "Поиск по опросам, обращениям и чатам"


def test_a_broken_codebook_or_config_says_what_is_wrong_in_the_bases_language(tmp_path):
    """Seen: a codebook with `title: Встреча: итоги` gave only «codebook.yml:3: ошибка YAML в кодбуке» (no word of
    what), and a custdev.toml with an unclosed quote «custdev.toml: ошибка в TOML (Illegal character '\\n' (at line 2,
    column 11))»: the TOML parser's English. Now both say the slip, in the base's language, at its line."""
    root = tmp_path / "ru"
    assert runner.invoke(app, ["init", str(root), "--language", "ru"]).exit_code == 0
    codebook = root / "codebook.yml"
    codebook.write_text("segments:\n  - slug: a\n    title: Встреча: итоги\n", encoding="utf-8")
    result = run("pains", base=root)
    assert result.exit_code == 1 and result.stderr.strip() == (
        f"Ошибка: {codebook}:3: ошибка YAML в кодбуке: второе ':' в строке (значение, в котором есть ': ', возьмите в кавычки)")
    codebook.write_text("segments: []\n", encoding="utf-8")
    toml = root / "custdev.toml"
    for text, line, russian in (('[base]\ntitle = "Встреча\nlanguage = "ru"\n', 2, "кавычка не закрыта"),
                                ('[base]\nlanguage = "ru"\ntitle Встреча\n', 3, "строка не вида 'ключ = значение'"),
                                ('[base]\nlanguage = "ru"\ntitle = Встреча\n', 3,
                                 "значение — не текст в кавычках, не число и не true/false")):
        toml.write_text(text, encoding="utf-8")
        result = run("pains", base=root)
        assert result.exit_code == 1 and result.stderr.strip() == f"Ошибка: {toml}:{line}: ошибка в TOML: {russian}", result.stderr


def test_seconds_and_sizes_in_messages_of_a_russian_base_have_a_decimal_comma():
    """Seen: import warnings of a Russian base wrote fractions the English way: «в call.wav нет речи; ничего не
    импортировано (12.5 с тишины или шума)», «4.2 с не прочитались и сохранены как тишина…», «архив распаковался бы в
    2.5 ГиБ»; everywhere else the base writes 12,5."""
    from custdev.errors import Message
    from custdev.i18n import N_, translator

    ru = translator("ru")
    said = Message(N_("no speech found in {path}; nothing imported ({duration:.1f} s of silence or noise)"), path="call.wav", duration=12.5)
    assert said.localized(ru) == "в call.wav нет речи; ничего не импортировано (12,5 с тишины или шума)"
    assert str(said) == "no speech found in call.wav; nothing imported (12.5 s of silence or noise)"
    lost = Message(N_("{lost:.1f} s could not be read and are kept as silence, so later times are unchanged"), lost=4.2)
    assert lost.localized(ru).startswith("4,2 с не прочитались")
    big = Message(N_("{label}: the archive would expand to {size:.1f} GiB (at most {limit} GiB); nothing imported"),
                  label="p.qdpx", size=2.5, limit=2)
    assert "распаковался бы в 2,5 ГиБ (допустимо не больше 2 ГиБ)" in big.localized(ru)


def test_suggestions_of_a_russian_base_write_their_similarities_and_quotes_the_russian_way():
    """Seen: `custdev suggest` in a Russian base printed «#pain/late-payments 0,38  как “Клиенты платят с опозданием”
    (2026-06-01-sergey, 0.34)»: the score with a comma, the similarity beside it with a point, English quotation marks."""
    from types import SimpleNamespace as NS

    from custdev.cli import meaning, out
    from custdev.i18n import translator

    support = [NS(text="Клиенты платят с опозданием", interview_id="2026-06-01-sergey", similarity=0.344)]
    turn = NS(start_s=20.0, text="Платят поздно", interview_id="i1", path="interviews/i1.md", line=9, speaker="Анна",
              suggestions=[NS(code="pain/late-payments", score=0.381, support=support)])
    for language, line in (("ru", "#pain/late-payments 0,38  как «Клиенты платят с опозданием» (2026-06-01-sergey, 0,34)"),
                           ("en", "#pain/late-payments 0.38  like “Клиенты платят с опозданием” (2026-06-01-sergey, 0.34)")):
        with out.capture() as shown:
            meaning._show([turn], translator(language))
        assert line in shown.get(), shown.get()


def test_the_chao1_tooltip_of_a_russian_chart_agrees_with_its_number(fixture_bases, tmp_path):
    """Seen: the saturation chart of a Russian report (and of the site's charts page) titled its estimate «Chao1: 4
    болей (95% ДИ 4–6)» and «Chao1: 10,2 болей …» (4 боли, 10,2 боли). Now «Chao1: болей около 4 (95% ДИ 4–6)», as
    `custdev saturation` says it, right for any number."""
    import re

    root = fixture_bases["ru"]
    assert run("build", base=root).exit_code == 0
    assert run("report", "-o", tmp_path / "r.html", base=root).exit_code == 0
    titles = re.findall(r"<title>(Chao1[^<]*)</title>", (tmp_path / "r.html").read_text(encoding="utf-8"))
    assert titles and all(re.fullmatch(r"Chao1: болей около [\d,]+ \(95% ДИ \d+–\d+\)", t) for t in titles), titles


def test_import_help_of_a_russian_base_names_the_default_speakers_it_writes(bases):
    """Seen: `custdev import --help` in a Russian base said «Имя респондента (по умолчанию: 'Respondent' или имя из
    расшифровки)», while an import of a Russian transcript without names writes «Респондент» / «Интервьюер»."""
    shown = " ".join(runner.invoke(app, ["import", "--help"], env={**ENV, "CUSTDEV_BASE": str(bases["ru"])}).stdout.replace("│", " ").split())
    assert "Имя респондента (по умолчанию: «Респондент», у английской речи — 'Respondent', или имя из расшифровки)." in shown, shown
    assert "Имя интервьюера (по умолчанию: «Интервьюер», у английской речи — 'Interviewer', или имя из расшифровки)." in shown, shown


def test_a_damaged_database_is_named_so_in_the_bases_language(tmp_path):
    """Seen: a custdev.db overwritten by something else gave «…/custdev.db: не удаётся открыть базу данных (file is not a
    database); пересоберите её командой 'custdev build --full'»: SQLite's English in the middle of the line."""
    for language, line in (("ru", "не удаётся открыть базу данных (файл — не база данных SQLite); пересоберите её командой 'custdev build --full'"),
                           ("en", "cannot open the database (not an SQLite database file); run 'custdev build --full' to rebuild it")):
        root = tmp_path / language
        assert runner.invoke(app, ["init", str(root), "--language", language]).exit_code == 0
        (root / "custdev.db").write_text("garbage", encoding="utf-8")
        result = run("pains", base=root)
        assert result.exit_code == 1 and result.stderr.strip().endswith(line), result.stderr
        assert run("build", "--full", base=root).exit_code == 0


def test_a_file_that_cannot_be_written_says_why_in_the_bases_language(fixture_bases, tmp_path):
    """Seen: writing where the system refuses ended Russian lines with the operating system's English: «Ошибка:
    /tmp/x/pub: не удаётся создать папку (Not a directory)», «/proc/q.csv: не удаётся записать (No such file or
    directory)», «не удаётся записать матрицу в …: No such file or directory» (likewise Permission denied, No space
    left on device, Read-only file system)."""
    import errno

    from custdev.errors import Message, os_reason
    from custdev.i18n import translator

    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")  # a file where a folder is expected
    for language, said in (("ru", "не удаётся создать папку (не папка)"), ("en", "cannot create the folder (Not a directory)")):
        result = run("publish", blocker / "pub", base=fixture_bases[language])
        last = result.stderr.strip().splitlines()[-1]  # publish first says what its build did
        assert result.exit_code == 1 and last == ("Ошибка: " if language == "ru" else "Error: ") + f"{blocker / 'pub'}: {said}", result.stderr
    ru = translator("ru")
    for number, russian in ((errno.ENOENT, "нет такого файла или папки"), (errno.EACCES, "нет прав доступа"),
                            (errno.ENOSPC, "на диске нет места"), (errno.EROFS, "файловая система только для чтения")):
        error = OSError(number, os.strerror(number))
        assert Message("{path}: cannot write ({error})", path="q.csv", error=os_reason(error)).localized(ru) == f"q.csv: cannot write ({russian})"
        assert str(os_reason(error)) == os.strerror(number)  # English as the system says it


def test_a_recording_that_is_not_one_says_why_in_the_bases_language(tmp_path):
    """Seen: `custdev import fake.mp3` (a file that is not audio) in a Russian base said «fake.mp3: не удаётся
    прочитать как аудио или видео (Invalid data found when processing input)»: FFmpeg's English."""
    fake = tmp_path / "fake.mp3"
    fake.write_text("garbage garbage", encoding="utf-8")
    for language, line in (("ru", f"Ошибка: {fake}: не удаётся прочитать как аудио или видео (данные повреждены или в неизвестном формате)"),
                           ("en", f"Error: {fake}: not a readable audio or video file (Invalid data found when processing input)")):
        root = tmp_path / language
        assert runner.invoke(app, ["init", str(root), "--language", language]).exit_code == 0
        result = run("import", fake, "--no-build", base=root)
        assert result.exit_code == 1 and [x for x in result.stderr.splitlines() if x.strip()] == [line], result.stderr


def test_a_docx_that_is_not_one_says_why_in_the_bases_language(tmp_path):
    """Seen: `custdev import bad.docx` (a text file renamed .docx, or a damaged one) in a Russian base said «bad.docx: не
    удаётся прочитать как файл .docx (PackageNotFoundError)»: a Python class name for a reason (in English too)."""
    bad = tmp_path / "bad.docx"
    bad.write_text("zzz", encoding="utf-8")
    for language, line in (("ru", f"Ошибка: {bad}: не удаётся прочитать как файл .docx (это не документ Word или он повреждён)"),
                           ("en", f"Error: {bad}: not a readable .docx file (not a Word document, or a damaged one)")):
        root = tmp_path / language
        assert runner.invoke(app, ["init", str(root), "--language", language]).exit_code == 0
        result = run("import", bad, "--no-build", base=root)
        assert result.exit_code == 1 and [x for x in result.stderr.splitlines() if x.strip()] == [line], result.stderr


def test_an_xlsx_export_that_is_not_one_says_why_in_the_bases_language(tmp_path):
    """Seen: `custdev import bad.xlsx --channel survey` (a damaged or renamed file) in a Russian base said «bad.xlsx:
    не удаётся прочитать как книгу .xlsx (BadZipFile)»: a Python class name for a reason (in English too)."""
    bad = tmp_path / "bad.xlsx"
    bad.write_text("zzz", encoding="utf-8")
    for language in ("ru", "en"):
        root = tmp_path / language
        assert runner.invoke(app, ["init", str(root), "--language", language]).exit_code == 0
        result = run("import", bad, "--channel", "survey", base=root)
        line = [x for x in result.stderr.splitlines() if x.strip()]
        assert result.exit_code == 1 and len(line) == 1, result.stderr
        if language == "ru":
            assert line[0].endswith("(это не книга Excel или она повреждена)") and english_runs(line[0]) == [], line
        else:
            assert line[0] == "Error: bad.xlsx: not a readable .xlsx workbook (not an Excel workbook, or a damaged one)", line


def test_dates_written_the_russian_way_are_read_as_dates(tmp_path):
    """Seen: interviews dated the way Russians write dates, `date: 10.02.2026` and `date: 05.03.2026`, were kept as text:
    `custdev saturation` put 05.03.2026 before 10.02.2026 and both before 2026-02-20 (sorted as text), and the report
    said «Период: 05.03.2026 – 2026-02-20». Now ДД.ММ.ГГГГ is read as the date it is (2026-02-10), and one that does
    not exist (31.02.2026) is refused with its line."""
    root = tmp_path / "ru"
    assert runner.invoke(app, ["init", str(root), "--language", "ru"]).exit_code == 0
    for name, date in (("a", "10.02.2026"), ("b", "05.03.2026"), ("c", "2026-02-20")):
        (root / "interviews" / f"{name}.md").write_text(
            f"---\nid: {name}\ndate: {date}\n---\n**[00:00:01] Анна:** ==Считаем вручную== #pain/example-pain\n", encoding="utf-8")
    assert run("build", base=root).exit_code == 0
    rows = [line.split()[:3] for line in run("saturation", base=root).stdout.splitlines() if re.match(r"\s*\d+\s", line)]
    assert rows == [["1", "a", "2026-02-10"], ["2", "c", "2026-02-20"], ["3", "b", "2026-03-05"]], rows
    assert "Период: 2026-02-10 – 2026-03-05" in run("report", base=root).stdout
    (root / "interviews" / "d.md").write_text("---\nid: d\ndate: 31.02.2026\n---\n**Анна:** текст\n", encoding="utf-8")
    result = run("build", base=root)
    assert result.exit_code == 1 and result.stderr.strip() == "Ошибка: interviews/d.md:3: в поле заголовка 'date' несуществующая дата: 31.02.2026"


def test_a_date_that_is_not_a_date_is_the_files_error_line(tmp_path):
    """Seen: `date: вчера` (and `date: March`) was accepted without a word and stored as text, so `custdev saturation`
    ordered that interview after every dated one, and the report's period ended «– вчера». Now it is the file's one
    error line, in the base's language, and the rest is built; 2026-3-5 is read as 2026-03-05, a month (2026-03) or
    a date with a time is kept."""
    for language, line in (("ru", "Ошибка: interviews/x.md:3: в поле заголовка 'date' должна быть дата (ГГГГ-ММ-ДД или ДД.ММ.ГГГГ), а не 'вчера'"),
                           ("en", "Error: interviews/x.md:3: front matter 'date' must be a date (YYYY-MM-DD or DD.MM.YYYY), not 'вчера'")):
        root = tmp_path / language
        assert runner.invoke(app, ["init", str(root), "--language", language]).exit_code == 0
        for name, date in (("a", "2026-3-5"), ("b", "2026-02"), ("c", "2026-02-20 10:30"), ("x", "вчера")):
            (root / "interviews" / f"{name}.md").write_text(
                f"---\nid: {name}\ndate: {date}\n---\n**[00:00:01] Анна:** ==Считаем вручную== #pain/example-pain\n", encoding="utf-8")
        result = run("build", base=root)
        assert result.exit_code == 1 and result.stderr.strip() == line, result.stderr
        import sqlite3

        conn = sqlite3.connect(root / "custdev.db")
        assert dict(conn.execute("SELECT id, date FROM interviews")) == {"a": "2026-03-05", "b": "2026-02", "c": "2026-02-20 10:30"}
        conn.close()


def test_a_report_or_matrix_named_as_a_format_custdev_does_not_write_is_refused(fixture_bases, tmp_path):
    """Seen: `custdev report -o r.pdf` wrote markdown into r.pdf and `custdev matrix -o m.xls` wrote CSV into m.xls,
    exit 0, «Записан r.pdf (md, 7 интервью)»: files that do not open as what their names say. Now one line, in the
    base's language, exit 1, nothing written; .md, .html, .csv, .xlsx and names without a suffix work as before."""
    messages = {
        "ru": ("Ошибка: r.pdf: custdev записывает отчёт в .md или .html, а не в .pdf; назовите файл так или укажите --format",
               "Ошибка: m.xls: custdev записывает матрицу в .csv или .xlsx, а не в .xls; назовите файл так или укажите --format"),
        "en": ("Error: r.pdf: custdev writes a report as .md or .html, not .pdf; name the file so, or give --format",
               "Error: m.xls: custdev writes the matrix as .csv or .xlsx, not .xls; name the file so, or give --format"),
    }
    for language, (report_line, matrix_line) in messages.items():
        base = fixture_bases[language]
        assert run("build", base=base).exit_code == 0
        out = tmp_path / language
        out.mkdir()
        for args, line in ((("report", "-o", out / "r.pdf"), report_line), (("matrix", "-o", out / "m.xls"), matrix_line)):
            result = run(*args, base=base)
            assert result.exit_code == 1 and [x for x in result.stderr.splitlines() if x.strip()] == [line], result.stderr
        assert list(out.iterdir()) == []
        for args, name in ((("report", "-o", out / "r.html"), "r.html"), (("report", "-o", out / "notes"), "notes"),
                           (("report", "-o", out / "r.pdf", "--format", "md"), "r.pdf"), (("matrix", "-o", out / "m.csv"), "m.csv")):
            assert run(*args, base=base).exit_code == 0 and (out / name).exists(), args
        assert (out / "r.html").read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")
