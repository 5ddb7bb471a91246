"""The init / build / search commands as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from custdev.cli import app

runner = CliRunner()

INTERVIEW = """---
id: en1
interviewer: Kate
respondent: John Miller
segments: [example-segment]
language: en
---

**[00:00:01] Kate:** How do you send invoices?

**[00:00:05] John:** ==Every invoice is typed by hand== #pain/example-pain
"""


def run(*args: str):
    return runner.invoke(app, list(args))


def test_init_creates_a_base_and_rerun_changes_nothing(tmp_path):
    first = run("init", str(tmp_path / "research"))
    assert first.exit_code == 0
    assert "Created research base" in first.stdout
    assert {p.name for p in (tmp_path / "research").iterdir()} == {"interviews", "custdev.toml", "codebook.yml"}
    toml_before = (tmp_path / "research" / "custdev.toml").read_text()
    second = run("init", str(tmp_path / "research"))
    assert second.exit_code == 0
    assert "already a research base; nothing changed" in second.stdout
    assert (tmp_path / "research" / "custdev.toml").read_text() == toml_before


def test_commands_outside_a_base_say_how_to_create_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CUSTDEV_BASE")
    result = run("build")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert "custdev init" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_base_comes_from_option_then_env_then_cwd(empty_base, monkeypatch, tmp_path):
    (empty_base / "interviews" / "en1.md").write_text(INTERVIEW, encoding="utf-8")
    assert run("build", "--base", str(empty_base), "--quiet").exit_code == 0
    monkeypatch.setenv("CUSTDEV_BASE", str(empty_base))
    assert json.loads(run("search", "invoices", "--json").stdout)[0]["interview_id"] == "en1"
    monkeypatch.delenv("CUSTDEV_BASE")
    monkeypatch.chdir(empty_base)
    assert "en1" in run("search", "invoices").stdout


def test_build_reports_counts_and_bad_files(empty_base):
    (empty_base / "interviews" / "en1.md").write_text(INTERVIEW, encoding="utf-8")
    (empty_base / "interviews" / "bad.md").write_text(INTERVIEW.replace("id: en1", "id: bad").replace("example-pain", "exampel-pain"), encoding="utf-8")
    result = run("build", "--base", str(empty_base))
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: interviews/bad.md:11: unknown pain 'exampel-pain' (did you mean 'example-pain'?)"
    assert "1 interview in custdev.db: 1 built, 0 unchanged, 0 removed, 1 with errors" in result.stdout
    as_json = json.loads(run("build", "--base", str(empty_base), "--json").stdout)
    assert as_json["skipped"] == 1 and as_json["failed"] == 1


def test_search_output_and_json(empty_base):
    (empty_base / "interviews" / "en1.md").write_text(INTERVIEW, encoding="utf-8")
    run("build", "--base", str(empty_base), "--quiet")
    text = run("search", "invoice", "--base", str(empty_base), "--speaker", "respondent")
    assert text.exit_code == 0
    assert text.stdout.strip() == "en1 00:00:05 John (respondent): Every [invoice] is typed by hand"
    hits = json.loads(run("search", "typing", "--base", str(empty_base), "--json").stdout)
    assert [(h["interview_id"], h["start_s"], h["snippet"]) for h in hits] == [("en1", 5.0, "Every invoice is [typed] by hand")]
    assert set(hits[0]) >= {"interview_id", "start_s", "text", "snippet"}
    assert run("search", "nothing-like-this", "--base", str(empty_base)).stdout.strip() == "No matches."


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("search", "invoice AND"), "Error: AND in the search query 'invoice AND' needs words on both sides"),
        (("search", "invoice", "--segment", "example-segmnt"), "Error: unknown segment 'example-segmnt' (did you mean 'example-segment'?)"),
        (("search", "invoice", "--pain", "nope"), "Error: unknown pain 'nope'"),
        (("search", "invoice", "--speaker", "boss"), "Error: --speaker must be 'respondent' or 'interviewer'"),
    ],
)
def test_bad_search_input_is_one_line(empty_base, args, message):
    (empty_base / "interviews" / "en1.md").write_text(INTERVIEW, encoding="utf-8")
    run("build", "--base", str(empty_base), "--quiet")
    result = run(*args, "--base", str(empty_base))
    assert result.exit_code == 1
    assert result.stderr.startswith(message)
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_search_before_build_says_to_build(empty_base):
    result = run("search", "x", "--base", str(empty_base))
    assert result.exit_code == 1 and "run 'custdev build' first" in result.stderr


def test_every_command_has_help_text():
    import typer.main

    group = typer.main.get_group(app)
    assert group.commands, "no commands registered"
    for name, command in group.commands.items():
        assert (command.help or "").strip(), f"custdev {name} has no help text"
        assert run(name, "--help").exit_code == 0


def test_init_of_a_russian_base_writes_a_russian_config_and_codebook(tmp_path):
    """Seen: `custdev init --language ru` wrote English comments and an "Example segment" / "Example pain" codebook,
    which the Russian site, reports and tables then showed."""
    import re

    from custdev.config import load_base

    assert run("init", str(tmp_path / "ru"), "--language", "ru").exit_code == 0
    assert run("init", str(tmp_path / "en")).exit_code == 0
    for name in ("custdev.toml", "codebook.yml"):
        text = (tmp_path / "ru" / name).read_text(encoding="utf-8")
        comments_and_titles = [line.split("#", 1)[-1] if "#" in line else line.split(":", 1)[-1]
                               for line in text.splitlines() if "#" in line or re.match(r"\s+(title|description):", line)]
        assert comments_and_titles and all(re.search("[а-яё]", part, re.I) for part in comments_and_titles), name
    ru, en = load_base(tmp_path / "ru"), load_base(tmp_path / "en")
    assert ru.config.language == "ru" and en.config.language == "en"
    assert [p.title for p in ru.codebook.pains.values()] == ["Пример боли"]
    assert [s.title for s in ru.codebook.segments.values()] == ["Пример сегмента"]
    assert [s.title for s in ru.codebook.stages.values()] == ["Подключение"]
    assert [p.title for p in en.codebook.pains.values()] == ["Example pain"]
    assert '"en" or "ru"' in (tmp_path / "en" / "custdev.toml").read_text() and '"en" или "ru"' in (tmp_path / "ru" / "custdev.toml").read_text()


def test_build_and_import_in_a_pipe_write_nothing_to_stderr(empty_base, tmp_path):
    """Seen: `custdev build 2>log` and `custdev import … 2>log` left an empty line in the log (the progress bar's,
    which only a terminal shows)."""
    (empty_base / "interviews" / "en1.md").write_text(INTERVIEW, encoding="utf-8")
    result = run("build", "--base", str(empty_base))
    assert result.exit_code == 0 and result.stderr == "" and "1 built" in result.stdout, (result.stdout, result.stderr)
    (tmp_path / "call.txt").write_text("Interviewer: How do you invoice?\nRespondent: By hand.\n", encoding="utf-8")
    result = run("import", str(tmp_path / "call.txt"), "--base", str(empty_base))
    assert result.exit_code == 0 and result.stderr == "" and "1 imported" in result.stdout, (result.stdout, result.stderr)
