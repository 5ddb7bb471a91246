"""custdev export quotes: a spreadsheet stakeholders open in Excel, Cyrillic intact, each quote linked to the site."""

from __future__ import annotations

import csv
import io

import pytest
from typer.testing import CliRunner

from conftest import REPO, copy_base
from custdev.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    root = copy_base(REPO, tmp_path_factory.mktemp("quotes") / "base")
    (root / "interviews" / "zz-formula.md").write_text(
        "---\nid: zz-formula\ndate: 2026-06-01\ninterviewer: Мария\nrespondent: Пётр\nsegments: [smb-owners]\nlanguage: ru\n---\n\n"
        "**[00:00:01] Мария:** Вопрос?\n\n**[00:00:09] Пётр:** ==+7 999 это =СУММ(A1)== #pricing\n",
        encoding="utf-8",
    )
    return root


def test_csv_has_bom_cyrillic_and_links(base, tmp_path):
    out = tmp_path / "quotes.csv"
    result = runner.invoke(app, ["export", "quotes", str(out), "--base", str(base), "--site-url", "https://research.example/"])
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads the file as UTF-8 only with the BOM
    assert b"\r\n" in data
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=","))
    assert rows[0] == ["quote_id", "interview", "date", "speaker", "role", "time", "quote", "pains", "hypotheses", "tags", "segments", "link"]
    anna = [r for r in rows[1:] if r[1] == "2026-02-10-anna-petrova"]
    assert anna and anna[0][3] == "Анна" and anna[0][4] == "respondent" and anna[0][2] == "2026-02-10"
    assert any("Хлеб" in r[6] or "счёт" in r[6] or "счет" in r[6] for r in anna)
    assert all(r[11] == f"https://research.example/custdev/quotes/{r[0]}" for r in rows[1:])
    assert any("late-payments" in r[7] for r in rows[1:]) and any("smb-owners" in r[10] for r in rows[1:])
    formula = next(r for r in rows[1:] if r[1] == "zz-formula")
    assert formula[6] == "'+7 999 это =СУММ(A1)" and formula[5] == "00:00:09"  # never a formula in Excel
    assert f"Wrote {out}: {len(rows) - 1} quotes (csv)" in result.stdout


def test_xlsx_opens_with_openpyxl_text_cells_and_hyperlinks(base, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "quotes.xlsx"
    result = runner.invoke(app, ["export", "quotes", str(out), "--base", str(base), "--segment", "smb-owners"])
    assert result.exit_code == 0, result.output
    ws = load_workbook(out).active
    header = [c.value for c in ws[1]]
    assert header[6] == "quote" and ws.freeze_panes == "A2"
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert rows and all("smb-owners" in r[10] for r in rows)
    formula = next(r for r in ws.iter_rows(min_row=2) if r[1].value == "zz-formula")
    assert formula[6].value == "+7 999 это =СУММ(A1)" and formula[6].data_type == "s"
    assert formula[11].hyperlink.target.startswith("http://127.0.0.1:8001/custdev/quotes/")


def test_bad_options_give_one_line(base, tmp_path):
    r = runner.invoke(app, ["export", "quotes", str(tmp_path / "q.ods"), "--base", str(base)])
    assert r.exit_code == 1 and r.stderr.strip() == "Error: unknown format 'ods' (use csv or xlsx)"
    r = runner.invoke(app, ["export", "quotes", str(tmp_path / "q.csv"), "--base", str(base), "--pain", "late-payment"])
    assert r.exit_code == 1 and "did you mean 'late-payments'" in r.stderr
    ru = copy_base(REPO, tmp_path / "ru")
    toml = (ru / "custdev.toml").read_text(encoding="utf-8").replace('language = "en"', 'language = "ru"')
    (ru / "custdev.toml").write_text(toml, encoding="utf-8")
    r = runner.invoke(app, ["export", "quotes", str(tmp_path / "ru.csv"), "--base", str(ru)])
    # a Russian base's spreadsheet is for Russian readers: ';' for Excel's Russian locale, headers, roles and "(против)"
    # in Russian (seen: the headers, the roles and "(against)" were English)
    text = (tmp_path / "ru.csv").read_bytes().decode("utf-8-sig")
    assert r.exit_code == 0 and text.startswith("id цитаты;Интервью;Дата;Говорящий;Роль говорящего;Время;Цитата;")
    assert ";респондент;" in text and ";respondent;" not in text
    assert " (против)" in text and "(against)" not in text
    r = runner.invoke(app, ["export", "quotes", str(tmp_path / "ru.xlsx"), "--base", str(ru)])
    from openpyxl import load_workbook

    ws = load_workbook(tmp_path / "ru.xlsx").active
    assert r.exit_code == 0 and ws.title == "Цитаты" and ws["G1"].value == "Цитата"
