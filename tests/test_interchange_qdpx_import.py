"""custdev import project.qdpx: a hand-written REFI-QDA project, the export -> import round trip, hostile archives."""

from __future__ import annotations

import io
import sqlite3
import zipfile
from pathlib import Path

import pytest
import xmlschema
from typer.testing import CliRunner

from conftest import REPO, copy_base
from custdev.cli import app

runner = CliRunner()

# Written by hand from the REFI-QDA 1.5 standard (QDA-XML project schema), not by custdev's exporter.
G = "00000000-0000-4000-8000-{:012d}".format
HAND_TEXT = (
    "Интервьюер: Как вы получаете оплату? 🙂\r\n"
    "Ирина: Клиенты 😤 платят с опозданием на месяц, и я сама им звоню.\r\n"
    "Интервьюер: А сверка?\r\n"
    "Ирина: Сверяю выписку вручную по вечерам, #это боль.\r\n"
)
HAND_QDE = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Пилот" origin="written by hand" creatingUserGUID="{G(1)}" creationDateTime="2026-03-02T10:00:00Z">
  <Users><User guid="{G(1)}" name="Researcher"/></Users>
  <CodeBook>
    <Codes>
      <Code guid="{G(10)}" name="Problems" isCodable="false" color="#FF0000">
        <Code guid="{G(11)}" name="Chasing late payments" isCodable="true" color="#FF3300"/>
        <Code guid="{G(12)}" name="Reconciliation by hand" isCodable="true"/>
      </Code>
      <Code guid="{G(13)}" name="Emotions" isCodable="true" color="#00AA00">
        <Description>How the respondent feels</Description>
        <Code guid="{G(14)}" name="Frustration" isCodable="true"/>
      </Code>
    </Codes>
  </CodeBook>
  <Variables>
    <Variable guid="{G(20)}" name="Segment" typeOfVariable="Text"/>
    <Variable guid="{G(21)}" name="NPS" typeOfVariable="Integer"/>
    <Variable guid="{G(22)}" name="Company" typeOfVariable="Text"/>
    <Variable guid="{G(23)}" name="Date" typeOfVariable="Date"/>
  </Variables>
  <Cases>
    <Case guid="{G(30)}" name="Ирина Соколова">
      <VariableValue><VariableRef targetGUID="{G(20)}"/><TextValue>smb-owners</TextValue></VariableValue>
      <VariableValue><VariableRef targetGUID="{G(21)}"/><IntegerValue>4</IntegerValue></VariableValue>
      <VariableValue><VariableRef targetGUID="{G(22)}"/><TextValue>ИП Соколова</TextValue></VariableValue>
      <SourceRef targetGUID="{G(40)}"/>
    </Case>
  </Cases>
  <Sources>
    <TextSource guid="{G(40)}" name="Интервью с Ириной" plainTextPath="internal://{G(40)}.txt">
      <PlainTextSelection guid="{G(41)}" name="Клиенты платят" startPosition="47" endPosition="63">
        <Coding guid="{G(42)}"><CodeRef targetGUID="{G(14)}"/></Coding>
      </PlainTextSelection>
      <PlainTextSelection guid="{G(43)}" startPosition="57" endPosition="85">
        <Coding guid="{G(44)}"><CodeRef targetGUID="{G(11)}"/></Coding>
      </PlainTextSelection>
      <PlainTextSelection guid="{G(45)}" startPosition="137" endPosition="170">
        <Coding guid="{G(46)}"><CodeRef targetGUID="{G(12)}"/></Coding>
      </PlainTextSelection>
      <VariableValue><VariableRef targetGUID="{G(23)}"/><DateValue>2026-03-01</DateValue></VariableValue>
    </TextSource>
    <AudioSource guid="{G(50)}" name="Звонок поддержки" path="internal://{G(50)}.wav">
      <AudioSelection guid="{G(51)}" name="жалоба на задержки" begin="61000" end="75500">
        <Coding guid="{G(52)}"><CodeRef targetGUID="{G(11)}"/></Coding>
      </AudioSelection>
    </AudioSource>
    <PictureSource guid="{G(60)}" name="Whiteboard" path="internal://{G(60)}.png"/>
  </Sources>
</Project>
"""
WAV = b"RIFF" + b"\x00" * 40  # the recording's bytes are copied, not decoded


def make_qdpx(path: Path, qde: str = HAND_QDE, members: dict[str, bytes] | None = None) -> Path:
    members = {f"sources/{G(40)}.txt": HAND_TEXT.encode("utf-8"), f"sources/{G(50)}.wav": WAV, f"sources/{G(60)}.png": b"\x89PNG"} if members is None else members
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.qde", qde.encode("utf-8"))
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def base_with_sample_codebook(root: Path) -> Path:
    root.mkdir(parents=True)
    for name in ("custdev.toml", "codebook.yml"):
        (root / name).write_bytes((REPO / name).read_bytes())
    (root / "interviews").mkdir()
    return root


def test_hand_written_project_is_valid_by_the_schema():
    xmlschema.XMLSchema(REPO / "custdev" / "interchange" / "xsd" / "Project-mrt2019.xsd").validate(HAND_QDE)
    assert HAND_TEXT[47:63] == "Клиенты 😤 платят" and HAND_TEXT[137:170] == "Сверяю выписку вручную по вечерам"


def test_hand_written_project_first_run_writes_the_mapping_then_imports(tmp_path):
    base = base_with_sample_codebook(tmp_path / "base")
    project = make_qdpx(tmp_path / "pilot.qdpx")
    first = run("import", project, "--base", base)
    assert first.exit_code == 1
    mapping = base / "qdpx-mappings" / "pilot.yml"
    text = mapping.read_text(encoding="utf-8")
    assert '"Problems/Chasing late payments": "pain/late-payments"' in text
    assert '"Problems/Reconciliation by hand": "problems/reconciliation-by-hand"  # not in the codebook' in text
    assert '"Emotions/Frustration": "emotions/frustration"  # not in the codebook' in text
    assert "Problems/Reconciliation by hand -> #problems/reconciliation-by-hand" in first.stderr
    assert "run the same command again" in first.stderr
    assert list((base / "interviews").iterdir()) == []  # nothing imported before the researcher looked

    mapping.write_text(text.replace('"problems/reconciliation-by-hand"', '"pain/manual-reconciliation"'), encoding="utf-8")
    second = run("import", project, "--base", base)
    assert second.exit_code == 0, second.output
    assert "Imported pilot.qdpx: 2 interviews, 3 quotes" in second.stdout
    assert "1 picture source not imported" in second.stderr
    assert "overlapping selections merged" in second.stderr or "overlapping selection merged" in second.stderr
    assert "Emotions/Frustration -> #emotions/frustration" in second.stderr  # reported every time, never dropped

    iv = (base / "interviews" / "интервью-с-ириной.md").read_text(encoding="utf-8")
    assert "respondent: Ирина Соколова" in iv and "company: ИП Соколова" in iv and "nps: 4" in iv
    assert "segments:\n- smb-owners" in iv and "date: '2026-03-01'" in iv
    assert "**Ирина:** ==Клиенты 😤 платят с опозданием на месяц==" in iv
    assert "\\#это боль" in iv  # a '#' in the text is escaped, not a tag
    db = sqlite3.connect(base / "custdev.db")
    quotes = db.execute(
        "SELECT q.text, group_concat(DISTINCT p.pain), group_concat(DISTINCT t.tag) FROM quotes q "
        "LEFT JOIN quote_pains p ON p.quote_id = q.id LEFT JOIN quote_tags t ON t.quote_id = q.id GROUP BY q.id ORDER BY q.id"
    ).fetchall()
    assert sorted(quotes) == [
        ("Клиенты 😤 платят с опозданием на месяц", "late-payments", "emotions/frustration"),  # two overlapping selections
        ("Сверяю выписку вручную по вечерам", "manual-reconciliation", None),
        ("жалоба на задержки", "late-payments", None),  # an audio selection, at its time
    ]
    call = db.execute("SELECT audio, id FROM interviews WHERE audio IS NOT NULL").fetchone()
    assert (base / call[0]).read_bytes() == WAV  # the recording is kept
    start = db.execute("SELECT start_s FROM quotes WHERE interview_id = ?", [call[1]]).fetchone()[0]
    assert start == 61.0  # the selection's time
    utt = db.execute("SELECT text FROM utterances WHERE interview_id = (SELECT id FROM interviews WHERE title = 'Интервью с Ириной')").fetchall()
    assert [u[0] for u in utt][-1] == "Сверяю выписку вручную по вечерам, #это боль."

    again = run("import", project, "--base", base)
    assert again.exit_code == 0 and "0 interviews" in again.stdout and "2 already there" in again.stdout


def _facts(db_path: Path) -> dict:
    db = sqlite3.connect(db_path)
    quotes = sorted(db.execute(
        "SELECT q.interview_id, q.text, "
        "(SELECT group_concat(pain) FROM (SELECT pain FROM quote_pains WHERE quote_id = q.id ORDER BY pain)), "
        "(SELECT group_concat(tag) FROM (SELECT tag FROM quote_tags WHERE quote_id = q.id ORDER BY tag)), "
        "(SELECT group_concat(hypothesis || ':' || stance) FROM (SELECT * FROM quote_hypotheses WHERE quote_id = q.id ORDER BY hypothesis, stance)) "
        "FROM quotes q"
    ).fetchall())
    cases = sorted(db.execute("SELECT name, company, role FROM respondents").fetchall())
    interviews = sorted(db.execute(
        "SELECT i.id, i.title, i.date, i.interviewer, i.nps, i.language, (SELECT group_concat(segment) FROM interview_segments WHERE interview_id = i.id), "
        "i.turn_count FROM interviews i"
    ).fetchall())
    speakers = sorted(db.execute("SELECT interview_id, seq, speaker, speaker_role, start_s FROM utterances").fetchall())
    return {"quotes": quotes, "cases": cases, "interviews": interviews, "speakers": speakers}


def test_round_trip_export_then_import_into_an_empty_base(tmp_path):
    from custdev.build import build_base

    original = copy_base(REPO, tmp_path / "original")
    build_base(original)
    out = tmp_path / "ledgerly.qdpx"
    assert run("export", "qdpx", out, "--base", original).exit_code == 0
    target = base_with_sample_codebook(tmp_path / "target")
    result = run("import", out, "--base", target)
    assert result.exit_code == 0, result.output
    assert not result.stderr.strip()  # every code maps back; nothing to report
    before, after = _facts(original / "custdev.db"), _facts(target / "custdev.db")
    assert len(before["quotes"]) > 50
    assert after["quotes"] == before["quotes"]
    assert after["cases"] == before["cases"]
    assert after["interviews"] == before["interviews"]
    assert after["speakers"] == before["speakers"]


@pytest.mark.parametrize("case, expected", [
    ("not-zip", "not a REFI-QDA project (not a zip archive)"),
    ("no-qde", "no project.qde inside"),
    ("bad-xml", "project.qde is not well-formed XML (line 3)"),
    ("wrong-root", "is not a REFI-QDA project (root 'CodeBook'"),
    ("missing-source", f"source 'Интервью с Ириной' (internal://{G(40)}.txt) is missing from the archive"),
    ("external-source", "refers to a file outside the archive (/etc/passwd)"),
    ("traversal", "unsafe path '../../evil.txt' inside the archive"),
    ("absolute", "unsafe path '/tmp/evil.txt' inside the archive"),
    ("bomb", "would expand"),
    ("selection-outside", "lies outside its text"),
    ("entities", "declares a DOCTYPE/entities"),
])
def test_bad_projects_get_one_line_and_write_nothing(tmp_path, case, expected):
    base = base_with_sample_codebook(tmp_path / "base")
    path = tmp_path / "p.qdpx"
    ok = {f"sources/{G(40)}.txt": HAND_TEXT.encode("utf-8"), f"sources/{G(50)}.wav": WAV}
    if case == "not-zip":
        path.write_bytes(b"PK\x03\x04 this is not really a zip")
    elif case == "no-qde":
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("sources/x.txt", "hi")
    elif case == "bad-xml":
        make_qdpx(path, '<?xml version="1.0"?>\n<Project xmlns="urn:QDA-XML:project:1.0" name="x">\n<Sources></Project>', ok)
    elif case == "wrong-root":
        make_qdpx(path, '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes/></CodeBook>', ok)
    elif case == "missing-source":
        make_qdpx(path, HAND_QDE, {f"sources/{G(50)}.wav": WAV})
    elif case == "external-source":
        make_qdpx(path, HAND_QDE.replace(f'plainTextPath="internal://{G(40)}.txt"', 'plainTextPath="/etc/passwd"'), ok)
    elif case == "traversal":
        make_qdpx(path, HAND_QDE, {**ok, "../../evil.txt": b"x"})
    elif case == "absolute":
        make_qdpx(path, HAND_QDE, {**ok, "/tmp/evil.txt": b"x"})
    elif case == "bomb":
        make_qdpx(path, HAND_QDE, {**ok, "sources/zeros.bin": bytes(50 << 20)})
    elif case == "selection-outside":
        make_qdpx(path, HAND_QDE.replace('endPosition="170"', 'endPosition="9999"'), ok)
    elif case == "entities":
        make_qdpx(path, '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><Project xmlns="urn:QDA-XML:project:1.0" name="&a;"/>', ok)
    result = run("import", path, "--base", base)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: p.qdpx: ") and expected in lines[0], result.stderr
    assert "Traceback" not in result.output
    assert sorted(p.name for p in base.iterdir()) == ["codebook.yml", "custdev.toml", "interviews"]
    assert list((base / "interviews").iterdir()) == []
    assert not (tmp_path / "evil.txt").exists() and not Path("/tmp/evil.txt").exists()
