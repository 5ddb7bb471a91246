"""custdev export qdpx / qdc: REFI-QDA 1.5 files that validate against the official schemas and read back with an
independent reader (tests/refi_reader.py, written from the standard), with the big tools' import pitfalls handled."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import xmlschema
from typer.testing import CliRunner

from conftest import REPO, copy_base
from custdev.cli import app
from refi_reader import read_qdpx

XSD = REPO / "custdev" / "interchange" / "xsd"
runner = CliRunner()

INTERVIEW = """---
id: ru-emoji
title: Ольга 🍞, пекарня
date: 2026-03-01
interviewer: Мария
respondent: Ольга Ким
company: ООО «Ёлка» 🎄
role: Владелец
segments: [smb-owners]
nps: 9
language: ru
---

**[00:00:05] Мария:** Как вы выставляете счета? 🙂

**[00:00:12] Ольга:** Раньше 😩 ==сверяли платежи вручную 🧾 в Excel== #pain/manual-reconciliation #workaround/excel

Во втором абзаце: ==клиенты платят с опозданием 💸== #pain/late-payments #h/payment-reminders

**[00:01:00] Мария:** А напоминания?

**[00:01:10] Ольга:** ==Напоминания не помогают== #h/payment-reminders/against #billing/invoices #billing
"""


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    base = copy_base(REPO, tmp_path_factory.mktemp("qdpx") / "base")
    (base / "interviews" / "2026-03-01-ru-emoji.md").write_text(INTERVIEW, encoding="utf-8")
    out = base / "out.qdpx"
    result = runner.invoke(app, ["export", "qdpx", str(out), "--base", str(base)])
    assert result.exit_code == 0, result.output
    qdc = base / "out.qdc"
    result2 = runner.invoke(app, ["export", "qdc", str(qdc), "--base", str(base)])
    assert result2.exit_code == 0, result2.output
    return base, out, qdc, result.stdout


def test_project_validates_against_the_refi_qda_project_schema(exported):
    _, out, _, stdout = exported
    schema = xmlschema.XMLSchema(XSD / "Project-mrt2019.xsd")
    with zipfile.ZipFile(out) as zf:
        schema.validate(zf.read("project.qde").decode("utf-8"))
    assert "9 interviews" in stdout


def test_codebook_validates_against_the_refi_qda_codebook_schema(exported):
    _, _, qdc, _ = exported
    xmlschema.XMLSchema(XSD / "Codebook.xsd").validate(str(qdc))
    data = qdc.read_bytes()
    assert data.startswith(b"<?xml") and b'xmlns="urn:QDA-XML:codebook:1.0"' in data


def test_schemas_reject_what_they_should(exported):
    """The committed schemas are real constraints, not permissive stand-ins."""
    schema = xmlschema.XMLSchema(XSD / "Project-mrt2019.xsd")
    bad = '<Project xmlns="urn:QDA-XML:project:1.0" name="x"><Sources><TextSource guid="not-a-guid"/></Sources></Project>'
    assert not schema.is_valid(bad)
    out_of_order = ('<Project xmlns="urn:QDA-XML:project:1.0" name="x"><Sources><TextSource guid="5b0f4a52-4d43-4c1e-9c53-1f0e6a1b7c10"/>'
                    '</Sources><Users><User guid="5b0f4a52-4d43-4c1e-9c53-1f0e6a1b7c11"/></Users></Project>')
    assert not schema.is_valid(out_of_order)


def test_archive_layout_no_bom_lowercase_sources(exported):
    _, out, qdc, _ = exported
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        assert "project.qde" in names
        others = [n for n in names if n != "project.qde"]
        assert others and all(n.startswith("sources/") for n in others)  # lower case: NVivo/ATLAS.ti need it
        for name in names:
            assert not zf.read(name).startswith(b"\xef\xbb\xbf"), name
        assert zf.read("project.qde").startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    assert not qdc.read_bytes().startswith(b"\xef\xbb\xbf")


def test_text_sources_have_crlf_and_no_rich_text_path(exported):
    _, out, _, _ = exported
    project = read_qdpx(out)
    assert len(project.sources) == 9
    for src in project.sources:
        assert "richTextPath" not in src.attrs  # ATLAS.ti: plain text only
        assert b"\r\n" in src.raw and b"\n" not in src.raw.replace(b"\r\n", b"")  # MAXQDA wants CRLF
        assert not src.raw.startswith(b"\xef\xbb\xbf")


def test_positions_are_code_points_with_emoji_and_cyrillic(exported):
    _, out, _, _ = exported
    project = read_qdpx(out)
    src = next(s for s in project.sources if s.name == "Ольга 🍞, пекарня")
    assert src.text.startswith("[00:00:05] Мария: Как вы выставляете счета? 🙂\r\n\r\n[00:00:12] Ольга: Раньше 😩 сверяли")
    texts = [s.text for s in src.selections]
    assert texts == ["сверяли платежи вручную 🧾 в Excel", "клиенты платят с опозданием 💸", "Напоминания не помогают"]
    # The same selection measured in UTF-16 units or UTF-8 bytes would land elsewhere: code points it is.
    first = src.selections[0]
    utf16_start = len(src.text[: first.start].encode("utf-16-le")) // 2
    assert utf16_start != first.start
    assert len(src.text[: first.start].encode("utf-8")) != first.start
    # A quote in a turn's second paragraph: the paragraph break is CRLF CRLF inside the line block.
    assert "\r\n\r\nВо втором абзаце: клиенты" in src.text


def test_quotes_are_coded_with_pains_hypotheses_and_tags(exported):
    _, out, _, _ = exported
    project = read_qdpx(out)
    src = next(s for s in project.sources if s.name == "Ольга 🍞, пекарня")
    codes = [sorted(s.codes) for s in src.selections]
    assert codes[0] == ["Pains/Manual bank reconciliation", "Tags/workaround/excel"]
    assert any(p.startswith("Hypotheses/") and p.endswith("/supports") for p in codes[1])
    assert "Pains/Chasing late payments" in codes[1]
    assert sorted(p.split("/", 2)[0] + "/" + p.rsplit("/", 1)[-1] for p in codes[2] if p.startswith("Hypotheses/")) == ["Hypotheses/refutes"]
    assert {"Tags/billing/invoices", "Tags/billing"} <= set(codes[2])
    # Every quote of the sample base is there, each selection's text being its quote.
    total = sum(len(s.selections) for s in project.sources)
    assert total > 50


def test_code_tree_is_a_coloured_hierarchy(exported):
    _, out, _, _ = exported
    project = read_qdpx(out)
    by_path = {c.path: c for c in project.codes.values()}
    assert not by_path["Pains"].codable and by_path["Pains/Manual bank reconciliation"].codable
    assert by_path["Tags/billing"].codable and by_path["Tags/billing/invoices"].codable
    assert all(c.color and c.color.startswith("#") for c in project.codes.values())
    assert by_path["Pains/Manual bank reconciliation"].description.endswith("custdev: pain/manual-reconciliation")
    hyp_folders = [c for c in project.codes.values() if c.path.count("/") == 1 and c.path.startswith("Hypotheses/")]
    assert hyp_folders and all(not c.codable for c in hyp_folders)


def test_respondents_are_cases_with_variables(exported):
    _, out, _, _ = exported
    project = read_qdpx(out)
    case = next(c for c in project.cases if c.name == "Ольга Ким")
    assert case.variables == {"Segments": "smb-owners", "NPS": "9", "Company": "ООО «Ёлка» 🎄", "Role": "Владелец"}
    assert case.sources == ["Ольга 🍞, пекарня"]
    src = next(s for s in project.sources if s.name == "Ольга 🍞, пекарня")
    assert src.variables["Interview date"] == "2026-03-01" and src.variables["Interviewer"] == "Мария"
    assert len(project.cases) == 9


def test_export_is_reproducible_except_for_timestamps(exported):
    base, out, _, _ = exported
    again = base / "again.qdpx"
    assert runner.invoke(app, ["export", "qdpx", str(again), "--base", str(base)]).exit_code == 0
    import re

    strip = lambda b: re.sub(rb'creationDateTime="[^"]+"', b"", b)  # noqa: E731
    with zipfile.ZipFile(out) as a, zipfile.ZipFile(again) as b:
        assert strip(a.read("project.qde")) == strip(b.read("project.qde"))


def test_bad_interview_or_destination_gives_one_line_and_writes_nothing(tmp_path):
    base = copy_base(REPO, tmp_path / "b")
    (base / "interviews" / "bad.md").write_text("---\nid: bad\n---\n\n**[00:00:01] A:** ==x== #pain/nope\n", encoding="utf-8")
    out = tmp_path / "x.qdpx"
    result = runner.invoke(app, ["export", "qdpx", str(out), "--base", str(base)])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == ["Error: interviews/bad.md:5: unknown pain 'nope' (fix it, then export again)"]
    assert not out.exists()
    (base / "interviews" / "bad.md").unlink()
    result = runner.invoke(app, ["export", "qdpx", str(tmp_path / "missing" / "x.qdpx"), "--base", str(base)])
    assert result.exit_code == 1 and "no such folder" in result.stderr


def test_pyrefiqda_reads_the_project_and_the_codebook(exported, tmp_path):
    """pyrefiqda (PyPI; pydantic models generated from the same XSD) is a second independent reader."""
    from pyrefiqda import RefiCodebook, RefiProject

    _, out, qdc, _ = exported
    project = RefiProject.load(out, extract_dir=str(tmp_path / "x"))
    sources = project.sources.text_source
    assert len(sources) == 9
    src = next(s for s in sources if s.name == "Ольга 🍞, пекарня")
    path = RefiProject.resolve_source_path(src.plain_text_path, tmp_path / "x")
    text = path.read_bytes().decode("utf-8")
    sel = src.plain_text_selection[0]
    assert text[int(sel.start_position):int(sel.end_position)] == "сверяли платежи вручную 🧾 в Excel"
    assert src.rich_text_path is None
    names = {c.name for c in project.code_book.codes.code}
    assert names == {"Pains", "Hypotheses", "Tags"}
    assert {c.name for c in project.cases.case} >= {"Ольга Ким"}
    book = RefiCodebook.load(qdc)
    assert {c.name for c in book.codes.code} == {"Pains", "Hypotheses", "Tags"}
