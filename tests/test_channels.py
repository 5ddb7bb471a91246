"""Voice-of-customer channels: survey, ticket and chat exports imported, built, searched and analysed apart."""

from __future__ import annotations

import json
import sqlite3

import pytest
from typer.testing import CliRunner

from conftest import REPO, copy_base
from custdev.cli import app

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def survey_csv(path):
    data = (
        "id,Submitted at,Email,Plan,Score,Comment\n"
        '1,2026-03-01,anna@example.ru,SMB owners,9,"Всё устраивает, но #счета приходят поздно"\n'
        '2,01.03.2026,bob@example.com,smb-owners,3,"Payments are always late, I chase clients ==every== week"\n'
        "3,2026-03-02,c@example.com,,11,score out of range\n"
        "4,2026-03-02,d@example.com,,5,\n"
        '2,01.03.2026,bob@example.com,smb-owners,3,"Payments are always late, I chase clients ==every== week"\n'
    ).encode("utf-8")
    data += "5,2026-03-03,e@example.com,,7,Привет из Excel\n".encode("cp1251")
    data += '6,2026-03-03,f@example.com,Enterprise,0,"- Сверка выписки вручную, каждый вечер"\n'.encode("utf-8")
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def surveyed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("channels")
    base = copy_base(REPO, tmp / "base")
    result = run("import", survey_csv(tmp / "nps.csv"), "--channel", "survey", "--base", base)
    return base, tmp, result


def test_survey_import_reports_bad_rows_by_number_and_imports_the_rest(surveyed):
    base, _, result = surveyed
    assert result.exit_code == 0, result.output
    assert "Imported nps.csv: 3 responses into channels/survey/" in result.stdout and "4 bad rows skipped" in result.stdout
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert warnings == [
        "Warning: nps.csv: 1 row with a score outside 0–10: row 4",
        "Warning: nps.csv: 1 row with empty text: row 5",
        "Warning: nps.csv: 1 row duplicated: row 6",
        "Warning: nps.csv: 1 row not UTF-8 (cp1251 from Excel? re-save as UTF-8 or use --encoding cp1251): row 7",
    ]
    assert "segments not in the codebook, kept as written: 'Enterprise' (1)" in result.stderr
    assert "custdev.db: 8 interviews, 3 channel responses" in result.stdout


def test_responses_are_grouped_markdown_that_reads_back_as_written(surveyed):
    base, _, _ = surveyed
    parts = sorted((base / "channels" / "survey").rglob("*.md"))
    assert len(parts) == 1  # grouped per import, not one file per row
    text = parts[0].read_text(encoding="utf-8")
    assert "channel: survey" in text
    assert "**R2:** Всё устраивает, но \\#счета приходят поздно" in text  # a '#' in a comment is not a code
    db = sqlite3.connect(base / "custdev.db")
    rows = db.execute("SELECT row, date, respondent, segment, nps, text FROM responses ORDER BY row").fetchall()
    assert rows == [
        (2, "2026-03-01", "anna@example.ru", "smb-owners", 9, "Всё устраивает, но #счета приходят поздно"),
        (3, "2026-03-01", "bob@example.com", "smb-owners", 3, "Payments are always late, I chase clients ==every== week"),
        (8, "2026-03-03", "f@example.com", "Enterprise", 0, "- Сверка выписки вручную, каждый вечер"),
    ]
    assert db.execute("SELECT count(*) FROM response_codes").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM interviews").fetchone()[0] == 8  # interviews untouched


def test_the_same_export_is_not_imported_twice(surveyed):
    base, tmp, _ = surveyed
    again = run("import", tmp / "nps.csv", "--channel", "survey", "--base", base, "--no-build")
    assert again.exit_code == 0 and "Skipped" in again.stdout and "already imported as channels/survey/" in again.stdout


def test_coded_responses_are_analysed_apart_from_interviews_and_searchable(surveyed):
    base, _, _ = surveyed
    part = next((base / "channels" / "survey").rglob("*.md"))
    text = part.read_text(encoding="utf-8")
    text = text.replace("chase clients \\=\\=every\\=\\= week", "chase clients \\=\\=every\\=\\= week #pain/late-payments")
    text = text.replace("каждый вечер", "каждый вечер #pain/manual-reconciliation #work_around/excel")
    part.write_text(text, encoding="utf-8")
    build = run("build", "--base", base)
    assert build.exit_code == 0 and "3 survey/ticket/chat responses" in build.stdout
    result = run("channels", "--base", base)
    assert result.exit_code == 0, result.output
    line = next(line for line in result.stdout.splitlines() if line.startswith("late-payments"))
    assert line == "late-payments  Chasing late payments: mentioned in 50% of 8 interviews · 33% of 3 survey comments"
    assert "NPS from surveys: -33 (n = 3)" in result.stdout and "  smb-owners: +0 (n = 2)" in result.stdout
    pooled = run("channels", "--base", base, "--combine", "--pain", "late-payments")
    assert pooled.stdout.strip() == "late-payments  Chasing late payments: mentioned in 45% of 11 sources\nNPS from surveys: -33 (n = 3)\n  Enterprise: -100 (n = 1)\n  smb-owners: +0 (n = 2)".strip()
    data = json.loads(run("channels", "--base", base, "--json", "--pain", "late-payments").stdout)
    shares = {s["channel"]: (s["mentions"], s["total"]) for s in data["pains"][0]["shares"]}
    assert shares == {"interview": (4, 8), "survey": (1, 3)}
    pains = json.loads(run("pains", "--base", base, "--json").stdout)
    assert pains["total_interviews"] == 8  # interview analysis stays on interviews
    late = next(p for p in pains["pains"] if p["pain"] == "late-payments")
    assert (late["interviews"], late["total_interviews"]) == (4, 8)
    hits = run("search", "сверку выписки", "--channel", "survey", "--base", base)
    assert hits.exit_code == 0 and "survey row 8" in hits.stdout
    coded = run("search", "late", "--channel", "all", "--pain", "late-payments", "--base", base, "--json")
    assert [h["row"] for h in json.loads(coded.stdout)] == [3]
    # a parent tag finds its children (#work_around/excel), as on interviews; a tag is not a LIKE pattern
    parent = run("search", "вечер", "--channel", "survey", "--tag", "work_around", "--base", base, "--json")
    assert [h["row"] for h in json.loads(parent.stdout)] == [8]
    assert json.loads(run("search", "вечер", "--channel", "survey", "--tag", "work%", "--base", base, "--json").stdout) == []


def test_xlsx_with_column_flags_and_jsonl_with_saved_mapping(tmp_path):
    from openpyxl import Workbook

    base = copy_base(REPO, tmp_path / "base")
    wb = Workbook()
    ws = wb.active
    ws.append(["Ticket #", "Opened", "Customer", "Subject", "Body"])
    ws.append([101, "2026-04-01", "Ольга", "Оплата", "Клиенты платят с опозданием"])
    ws.append([102, "2026-04-02", "Tom", "Export", "Report export is broken"])
    ws.append([None, None, None, None, None])
    wb.save(tmp_path / "tickets.xlsx")
    r = run("import", tmp_path / "tickets.xlsx", "--channel", "ticket", "--column", "text=Body", "--column", "id=Ticket #", "--base", base)
    assert r.exit_code == 0, r.output
    assert "Imported tickets.xlsx: 2 tickets" in r.stdout
    (base / "custdev.toml").write_text((base / "custdev.toml").read_text(encoding="utf-8")
                                       + '\n[channels.chat.columns]\ntext = "msg"\nconversation = "dialog"\nspeaker = "who"\n', encoding="utf-8")
    lines = [
        {"dialog": "c1", "who": "user", "msg": "Как выставить счёт?", "ts": "2026-04-03"},
        {"dialog": "c1", "who": "bot", "msg": "Откройте раздел Счета"},
        {"dialog": "c2", "who": "user", "msg": "Invoices never reach my clients"},
        {"dialog": "c1", "who": "user", "msg": "Не работает"},
    ]
    (tmp_path / "chat.jsonl").write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n{broken\n", encoding="utf-8")
    r = run("import", tmp_path / "chat.jsonl", "--channel", "chat", "--base", base)
    assert r.exit_code == 0, r.output
    assert "Imported chat.jsonl: 2 conversations" in r.stdout and "1 row not a JSON object: row 5" in r.stderr
    db = sqlite3.connect(base / "custdev.db")
    assert db.execute("SELECT channel, items, responses FROM channel_totals ORDER BY channel").fetchall() == [("chat", 2, 4), ("ticket", 2, 2)]
    roles = db.execute("SELECT speaker, speaker_role FROM responses WHERE channel = 'chat' ORDER BY id").fetchall()
    assert roles == [("user", "respondent"), ("bot", "interviewer"), ("user", "respondent"), ("user", "respondent")]
    assert db.execute("SELECT item FROM responses WHERE channel = 'ticket' AND text LIKE 'Клиенты%'").fetchone()[0].endswith(":R2")


def test_unusable_exports_give_one_line_and_write_nothing(tmp_path):
    base = copy_base(REPO, tmp_path / "base")
    (tmp_path / "nocol.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    r = run("import", tmp_path / "nocol.csv", "--channel", "survey", "--base", base)
    assert r.exit_code == 1 and r.stderr.strip().startswith("Error: nocol.csv: which column holds the text? Say --column text=HEADER")
    r = run("import", tmp_path / "nocol.csv", "--channel", "survey", "--column", "text=Missing", "--base", base)
    assert r.exit_code == 1 and "no column 'Missing' for text" in r.stderr
    (tmp_path / "empty.csv").write_text("Comment\n\n", encoding="utf-8")
    r = run("import", tmp_path / "empty.csv", "--channel", "survey", "--base", base)
    assert r.exit_code == 1 and "no usable rows" in r.stderr
    r = run("import", tmp_path / "nocol.csv", "--channel", "email", "--base", base)
    assert r.exit_code == 2 and "use survey, ticket, chat" in r.output
    assert not (base / "channels").exists() or not any((base / "channels").rglob("*.md"))


def test_parts_hold_at_most_part_size_responses(tmp_path, monkeypatch):
    import custdev.channels.ingest as ingest

    monkeypatch.setattr(ingest, "PART_SIZE", 2)
    base = copy_base(REPO, tmp_path / "base")
    (tmp_path / "s.csv").write_text("Comment,Score\n" + "".join(f"answer {n},{n % 11}\n" for n in range(5)), encoding="utf-8")
    r = run("import", tmp_path / "s.csv", "--channel", "survey", "--base", base)
    assert r.exit_code == 0 and "(3 files)" in r.stdout
    db = sqlite3.connect(base / "custdev.db")
    assert db.execute("SELECT count(*), count(DISTINCT path) FROM responses").fetchone() == (5, 3)


def test_a_redacted_publish_drops_channel_respondents(tmp_path):
    base = copy_base(REPO, tmp_path / "base")
    (tmp_path / "s.csv").write_text("Comment,Email\n\"Пишу вам, пишите на ivan@example.ru\",ivan@example.ru\n", encoding="utf-8")
    assert run("import", tmp_path / "s.csv", "--channel", "survey", "--base", base).exit_code == 0
    r = run("publish", tmp_path / "pub", "--base", base)
    assert r.exit_code == 0, r.output
    db = sqlite3.connect(tmp_path / "pub" / "custdev.db")
    respondent, text = db.execute("SELECT respondent, text FROM responses").fetchone()
    assert respondent is None and text.startswith("Пишу вам") and "ivan@example.ru" not in text
