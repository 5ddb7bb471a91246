"""Consent and retention end to end: publish takes only consenting interviews, and `custdev purge` (a dry run
first) deletes expired recordings and everything of a respondent who withdrew, with an audit line per file."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from custdev.build import build_base
from custdev.search import fts_query
from custdev.cli import app

runner = CliRunner()

CODEBOOK = "segments:\n  - slug: smb\n    title: Small business\npains:\n  - slug: late-payments\n    title: Late payments\n"


def interview(iid: str, respondent: str, extra: str, word: str) -> str:
    return (
        f"---\nid: {iid}\ntitle: Call {iid}\ninterviewer: Maria\nrespondent: {respondent}\ncompany: Acme\nsegments: [smb]\n"
        f"language: en\n{extra}---\n\n**[00:00:01] Maria:** How do invoices go?\n\n"
        f"**[00:00:05] {respondent.split()[0]}:** ==Clients pay late, {word} every month== #pain/late-payments\n"
    )


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def base(empty_base: Path) -> Path:
    (empty_base / "codebook.yml").write_text(CODEBOOK, encoding="utf-8")
    (empty_base / "audio").mkdir()
    files = {
        "kept": ("Anna Lee", "consent: publish\n", "zebrafish"),
        "internal": ("Olga Berg", "consent: internal\n", "quasar"),
        "silent": ("Ivan Roth", "", "marmalade"),
        "leaving": ("Mark Stone", "consent: publish\naudio: audio/leaving.ogg\n", "xylophone"),
        "leaving-2": ("Mark Stone", "consent: publish\n", "kumquat"),  # withdrawn by the tests
        "expired": ("Lena Fox", "consent: publish\naudio: audio/expired.ogg\nretain_audio_until: 2020-01-31\n", "pangolin"),
        "current": ("Tim Hale", "consent: publish\naudio: audio/current.ogg\nretain_audio_until: 2999-01-01\n", "saxophone"),
    }
    for name, (who, extra, word) in files.items():
        (empty_base / "interviews" / f"{name}.md").write_text(interview(name, who, extra, word), encoding="utf-8")
    for name in ("leaving", "expired", "current"):
        (empty_base / "audio" / f"{name}.ogg").write_bytes(b"OggS" + name.encode())
    (empty_base / "interviews" / "leaving.words.json").write_text('{"version": 1, "turns": []}', encoding="utf-8")
    assert build_base(empty_base).failed == 0
    return empty_base


def words(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return " ".join(r[0] for r in conn.execute("SELECT text FROM utterances UNION ALL SELECT text FROM quotes"))
    finally:
        conn.close()


def test_bad_consent_values_are_one_line_errors(base):
    (base / "interviews" / "bad.md").write_text(interview("bad", "Zed Q", "consent: maybe\n", "x"), encoding="utf-8")
    result = run("build", "--base", base)
    assert result.exit_code == 1
    assert "Error: interviews/bad.md:9: front matter 'consent' must be internal, publish or withdrawn, not 'maybe'" in result.output


def withdraw(base: Path) -> None:
    path = base / "interviews" / "leaving-2.md"
    path.write_text(path.read_text().replace("consent: publish", "consent: withdrawn"), encoding="utf-8")
    assert build_base(base).failed == 0


def test_publish_takes_only_interviews_with_consent_unless_told(base, tmp_path):
    withdraw(base)
    result = run("publish", tmp_path / "shared", "--base", base)
    assert result.exit_code == 0, result.output
    assert "4 interviews left out" in result.output
    said = words(tmp_path / "shared" / "custdev.db")
    assert all(w in said for w in ("zebrafish", "pangolin", "saxophone"))
    assert not any(w in said for w in ("quasar", "marmalade", "kumquat", "xylophone"))  # all of a withdrawn respondent
    wide = run("publish", tmp_path / "wide", "--base", base, "--include-unconsented")
    assert wide.exit_code == 0, wide.output
    assert "--include-unconsented: 2 interviews without 'consent: publish' are in this copy" in wide.output
    said = words(tmp_path / "wide" / "custdev.db")
    assert "quasar" in said and "marmalade" in said and "kumquat" not in said and "xylophone" not in said  # withdrawn: never


def test_purge_shows_first_then_deletes_everything_of_a_withdrawn_respondent(base, tmp_path):
    assert run("publish", tmp_path / "shared", "--base", base).exit_code == 0
    assert "xylophone" in words(tmp_path / "shared" / "custdev.db")
    withdraw(base)  # after the copy was shared

    dry = run("purge", "--base", base)
    assert dry.exit_code == 0, dry.output
    assert "Would delete interviews/leaving.md (consent withdrawn)" in dry.output
    assert "Would delete audio/expired.ogg (audio retention ended 2020-01-31)" in dry.output
    assert "Dry run: nothing was deleted" in dry.output
    toml = base / "custdev.toml"
    english = toml.read_text(encoding="utf-8")
    toml.write_text(english.replace("[base]\n", '[base]\nlanguage = "ru"\n', 1) if "language" not in english
                    else english.replace('language = "en"', 'language = "ru"'), encoding="utf-8")
    try:
        ru = run("purge", "--base", base)  # the same plan, said in a Russian base's language
    finally:
        toml.write_text(english, encoding="utf-8")
    assert "Будет удалён interviews/leaving.md (согласие отозвано)" in ru.output, ru.output
    assert "Будет удалён audio/expired.ogg (срок хранения записи истёк 2020-01-31)" in ru.output
    assert "Пробный запуск: ничего не удалено" in ru.output
    assert (base / "interviews" / "leaving.md").exists() and (base / "audio" / "expired.ogg").exists()

    done = run("purge", "--base", base, "--yes", "--json")
    assert done.exit_code == 0, done.output
    plan = json.loads(done.stdout)
    assert plan["applied"] and sorted(plan["withdrawn"]) == ["leaving", "leaving-2"] and plan["expired_audio"] == ["expired"]
    for gone in ("interviews/leaving.md", "interviews/leaving-2.md", "interviews/leaving.words.json", "audio/leaving.ogg", "audio/expired.ogg"):
        assert not (base / gone).exists(), gone
    assert (base / "audio" / "current.ogg").exists() and (base / "interviews" / "expired.md").exists()
    assert "audio:" not in (base / "interviews" / "expired.md").read_text().split("\n---")[0]
    # the database, its search index and the published copy forget the withdrawn respondent
    conn = sqlite3.connect(base / "custdev.db")
    assert conn.execute("SELECT count(*) FROM interviews WHERE id LIKE 'leaving%'").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM respondents WHERE name = 'Mark Stone'").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM utterances_fts WHERE utterances_fts MATCH ?", [fts_query("xylophone OR kumquat")]).fetchone()[0] == 0
    assert conn.execute("SELECT audio FROM interviews WHERE id = 'expired'").fetchone()[0] is None
    conn.close()
    raw = (base / "custdev.db").read_bytes()
    assert b"xylophone" not in raw and b"kumquat" not in raw and b"Mark Stone" not in raw
    assert "xylophone" not in words(tmp_path / "shared" / "custdev.db")
    assert b"xylophone" not in (tmp_path / "shared" / "custdev.db").read_bytes()
    log = (base / ".custdev" / "audit.log").read_text().splitlines()
    assert len(log) == len(plan["actions"]) == 8
    assert any(line.endswith("\tdelete\tinterviews/leaving.md\tconsent withdrawn") for line in log)
    assert run("purge", "--base", base).output.startswith("Nothing to purge")
