"""``custdev import`` end to end: files and folders -> interviews/*.md -> custdev.db, as a researcher runs it."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from custdev.cli import app
from custdev.config import load_base
from custdev.importers import ImportContext
from custdev.ingest import ImportOptions, import_paths
from custdev.markdown import parse_interview
from custdev.speech import TranscribeOptions, cache_dir

DATA = Path(__file__).parent / "data"
runner = CliRunner()

VTT = """WEBVTT

00:00:01.000 --> 00:00:04.000
Kate: How do you send invoices today?

00:00:05.000 --> 00:00:09.000
John: Every month I type each invoice by hand.
"""

TXT = "Sarah: Why did you leave your last tool?\nDana: Support never answered.\n"


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def rows(base: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(base / "custdev.db") as db:
        return db.execute(sql).fetchall()


@pytest.fixture
def sources(tmp_path) -> Path:
    folder = tmp_path / "exports"
    (folder / "march").mkdir(parents=True)
    (folder / "march" / "acme-call.vtt").write_text(VTT, encoding="utf-8")
    (folder / "globex.txt").write_text(TXT, encoding="utf-8")
    (folder / ".DS_Store").write_bytes(b"\0\1")
    (folder / "agenda.pdf").write_bytes(b"%PDF-1.4")
    return folder


def test_import_a_folder_of_transcripts_then_again(empty_base, sources):
    result = run("import", sources, "--base", empty_base, "--company", "Acme", "--segment", "example-segment")
    assert result.exit_code == 0, result.output
    assert "Created interviews/acme-call.md (2 turns) from" in result.stdout
    assert "Created interviews/globex.md (2 turns)" in result.stdout
    assert "agenda.pdf: not a recording or transcript, ignored" in result.stderr
    assert ".DS_Store" not in result.output
    assert "2 imported, 0 already there, 0 failed; custdev.db: 2 interviews" in result.stdout
    md = (empty_base / "interviews" / "acme-call.md").read_text(encoding="utf-8")
    interview = parse_interview(md, "acme-call.md", load_base(empty_base).codebook)
    assert interview.company == "Acme" and interview.segments == ["example-segment"]
    assert interview.extra["source"] == "acme-call.vtt" and len(interview.extra["source_sha256"]) == 64
    assert rows(empty_base, "SELECT speaker, speaker_role, start_s FROM utterances WHERE interview_id = 'acme-call' ORDER BY seq") == [
        ("Kate", "interviewer", 1.0), ("John", "respondent", 5.0)]

    again = run("import", sources, "--base", empty_base)
    assert again.exit_code == 0
    assert "0 imported, 2 already there" in again.stdout
    # the same content under another name is recognised by its hash
    copy = sources.parent / "renamed.vtt"
    shutil.copy(sources / "march" / "acme-call.vtt", copy)
    third = run("import", copy, "--base", empty_base, "--json")
    summary = json.loads(third.stdout)
    assert summary["skipped"] == 1 and summary["files"][0]["interview"] == "interviews/acme-call.md"
    assert sorted(p.name for p in (empty_base / "interviews").iterdir()) == ["acme-call.md", "globex.md"]


def test_bad_files_get_one_line_each_and_the_rest_is_imported(empty_base, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.mp3").write_bytes(b"")
    (bad / "notes.mp3").write_text("These are notes, not a recording.\n" * 10)
    (bad / "broken.vtt").write_text("hello\n")
    (bad / "weird.xyz").write_text("?")
    good = tmp_path / "good.vtt"
    good.write_text(VTT)
    result = run("import", bad / "empty.mp3", bad / "notes.mp3", bad / "broken.vtt", bad / "weird.xyz",
                 tmp_path / "missing.m4a", good, "--base", empty_base)
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 5, result.stderr
    for name, words in [
        ("empty.mp3", "the file is empty (0 bytes)"),
        ("notes.mp3", "not a readable audio or video file"),
        ("broken.vtt", "not a WebVTT file"),
        ("weird.xyz", "unsupported file type '.xyz'"),
        ("missing.m4a", "no such file or folder"),
    ]:
        assert any(name in line and words in line for line in errors), (name, errors)
    assert "Traceback" not in result.output
    assert "1 imported, 0 already there, 5 failed" in result.stdout
    assert (empty_base / "interviews" / "good.md").exists()


def test_unknown_segment_stops_before_anything_is_imported(empty_base, sources):
    result = run("import", sources, "--base", empty_base, "--segment", "example-segmnt")
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: unknown segment 'example-segmnt' (did you mean 'example-segment'?)"
    assert list((empty_base / "interviews").iterdir()) == []


def test_same_names_in_two_folders_get_two_ids(empty_base, tmp_path):
    for sub, text in (("a", VTT), ("b", VTT.replace("by hand", "in Excel"))):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "call.vtt").write_text(text)
    summary = import_paths(load_base(empty_base), [tmp_path / "a", tmp_path / "b"], ImportOptions(build=False))
    assert [f.interview for f in summary.files] == ["interviews/call.md", "interviews/call-2.md"]


def test_transcript_and_recording_with_one_name_make_one_interview(empty_base, tmp_path):
    (tmp_path / "zoom").mkdir()
    (tmp_path / "zoom" / "call.vtt").write_text(VTT)
    shutil.copy(DATA / "call_stereo.ogg", tmp_path / "zoom" / "call.ogg")
    summary = import_paths(load_base(empty_base), [tmp_path / "zoom"], ImportOptions(build=False))
    assert [(f.status, f.kind) for f in summary.files] == [("created", "transcript")]  # no transcription needed
    interview = parse_interview((empty_base / "interviews" / "call.md").read_text(), "call.md")
    assert interview.audio == "audio/call.ogg"  # copied into the base, which lives elsewhere
    assert (empty_base / "audio" / "call.ogg").read_bytes() == (DATA / "call_stereo.ogg").read_bytes()


def test_interrupted_batch_resumes_and_never_leaves_half_files(empty_base, sources):
    base = load_base(empty_base)
    seen = []

    def interrupt_on_second_file(event):
        if event.kind == "start" and event.index == 2:
            raise KeyboardInterrupt
        seen.append(event.kind)

    summary = import_paths(base, [sources], ImportOptions(), progress=interrupt_on_second_file)
    assert summary.interrupted and summary.count("created") == 1
    files = sorted(p.name for p in (empty_base / "interviews").iterdir())
    assert len(files) == 1 and files[0].endswith(".md")  # one whole file, no temp files
    summary = import_paths(base, [sources], ImportOptions())
    assert (summary.count("created"), summary.count("skipped")) == (1, 1)
    assert rows(empty_base, "SELECT count(*) FROM interviews") == [(2,)]


def test_markdown_interviews_keep_their_coding(empty_base, tmp_path):
    text = ("---\nid: coded\nrespondent: John\nlanguage: en\n---\n\n**[00:00:01] Kate:** How?\n\n"
            "**[00:00:05] John:** ==Every invoice is typed by hand== #pain/example-pain #billing\n")
    (tmp_path / "coded.md").write_text(text)
    result = run("import", tmp_path / "coded.md", "--base", empty_base, "--segment", "example-segment")
    assert result.exit_code == 0, result.output
    assert rows(empty_base, "SELECT q.text, p.pain FROM quotes q JOIN quote_pains p ON p.quote_id = q.id") == [
        ("Every invoice is typed by hand", "example-pain")]
    # an unknown pain in an imported file is reported with its line, like any interview file
    (tmp_path / "typo.md").write_text(text.replace("example-pain", "exampel-pain").replace("id: coded", "id: typo"))
    result = run("import", tmp_path / "typo.md", "--base", empty_base)
    assert result.exit_code == 1
    assert f"Error: {tmp_path / 'typo.md'}:9: unknown pain 'exampel-pain' (did you mean 'example-pain'?)" in result.stderr
    assert not (empty_base / "interviews" / "typo.md").exists()


def test_doctor_reports_the_bundled_model(empty_base):
    result = run("doctor", "--base", empty_base, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ready"] and report["default_model"] == "base"
    assert report["devices"]["cpu"]["available"]
    text = run("doctor", "--base", empty_base)
    assert "Default model 'base': ready" in text.stdout and "CUDA:" in text.stdout
    broken = empty_base / "custdev.toml"
    broken.write_text(broken.read_text().replace('model = "base"', 'model = "/nowhere/model"'))
    result = run("doctor", "--base", empty_base)
    assert result.exit_code == 1 and "model folder /nowhere/model does not exist" in result.stdout


# --- with the real Whisper model ----------------------------------------------------------------------------------


@pytest.mark.model
def test_sample_recording_end_to_end(sample_base):
    recordings = sample_base / "recordings"
    before = {p.name for p in (sample_base / "interviews").glob("*.md")}
    result = run("import", recordings, "--base", sample_base, "--respondent", "Mark Ellison", "--interviewer", "Daniel",
                 "--company", "Northwind Logistics", "--role", "Finance operations lead", "--segment", "mid-market-finance")
    assert result.exit_code == 0, result.output
    created = {p.name for p in (sample_base / "interviews").glob("*.md")} - before
    assert created == {"2026-05-20-northwind-logistics.md"}
    md_path = sample_base / "interviews" / "2026-05-20-northwind-logistics.md"
    interview = parse_interview(md_path.read_text(), md_path.name, load_base(sample_base).codebook)
    assert interview.title == "Northwind Logistics: invoices from a spreadsheet"  # from the file's metadata
    assert interview.date == "2026-05-20" and interview.audio == "audio/2026-05-20-northwind-logistics.ogg"
    assert [t.speaker for t in interview.turns] == ["Daniel", "Mark Ellison"] * 5
    assert interview.extra["transcription"]["speakers"] == "channels"
    sidecar = json.loads(md_path.with_name(md_path.stem + ".words.json").read_text())
    assert len(sidecar["turns"]) == 10

    # A researcher highlights a passage; the quote gets the time of its first and last word.
    text = md_path.read_text()
    target = next(t for t in interview.turns if "spreadsheet" in t.text)
    words = target.text.split()
    k = next(i for i, w in enumerate(words) if w.startswith("spreadsheet"))
    passage = " ".join(words[k - 3 : k + 1])
    md_path.write_text(text.replace(passage, f"=={passage}== #pain/manual-reconciliation"))
    assert run("build", "--base", sample_base).exit_code == 0
    (start, end, quote), = rows(sample_base, f"SELECT q.start_s, q.end_s, q.text FROM quotes q WHERE q.interview_id = '{interview.id}'")
    side_turn = next(t for t in sidecar["turns"] if int(t["start"]) == int(target.start_s))
    first = next(w for w in side_turn["words"] if w[2] == words[k - 3])
    assert quote == passage and start == first[0] and start != int(start)
    assert target.start_s < start < end <= side_turn["end"]

    found = run("search", "spreadsheet", "--base", sample_base, "--json")
    assert any(hit["interview_id"] == interview.id for hit in json.loads(found.stdout))
    again = run("import", recordings, "--base", sample_base)
    assert "0 imported, 1 already there" in again.stdout


@pytest.mark.model
def test_silent_recording_is_a_clear_warning_and_a_killed_import_resumes(empty_base, tmp_path):
    shutil.copy(DATA / "silence.ogg", tmp_path / "silence.ogg")
    shutil.copy(DATA / "noise.ogg", tmp_path / "noise.ogg")
    result = run("import", tmp_path / "silence.ogg", tmp_path / "noise.ogg", "--base", empty_base)
    assert result.exit_code == 1
    assert f"Error: no speech found in {tmp_path / 'silence.ogg'}; nothing imported (4.0 s of silence or noise)" in result.stderr
    assert f"Error: no speech found in {tmp_path / 'noise.ogg'}; nothing imported (6.0 s of silence or noise)" in result.stderr
    assert list((empty_base / "interviews").iterdir()) == [] and not (empty_base / "audio").exists()

    base = load_base(empty_base)
    options = ImportOptions(transcribe=TranscribeOptions(window_s=8, language="en", beam_size=1), build=False,
                            context=ImportContext(respondent="John"))

    def kill_in_second_window(event):
        if event.kind == "progress" and event.done_s > 9:
            raise KeyboardInterrupt

    summary = import_paths(base, [DATA / "call_stereo.ogg"], options, progress=kill_in_second_window)
    assert summary.interrupted
    checkpoints = list((cache_dir() / "imports").glob("*.json"))
    assert len(checkpoints) == 1 and list((empty_base / "interviews").iterdir()) == []
    saved = json.loads(checkpoints[0].read_text())["offset"] / 16000
    assert saved > 4
    starts = []
    summary = import_paths(base, [DATA / "call_stereo.ogg"], options,
                           progress=lambda e: starts.append(e.done_s) if e.kind == "progress" else None)
    assert summary.count("created") == 1 and starts[0] == pytest.approx(saved)  # resumed after the first window
    assert not checkpoints[0].exists()
    interview = parse_interview((empty_base / "interviews" / "call_stereo.md").read_text(), "x.md")
    assert [t.speaker for t in interview.turns] == ["Interviewer", "John", "Interviewer", "John"]


@pytest.mark.model
def test_speakers_are_named_in_order_of_first_appearance_and_keep_their_times(empty_base, keep_transcripts):
    # the default options (language detected, 300 s windows): test_transcribe.py's stereo test asserts its own
    # things about this very transcript (keep_transcripts) instead of transcribing call_stereo.ogg again
    options = ImportOptions(transcribe=TranscribeOptions(), build=False,
                            context=ImportContext(speaker_names=["Мария", "Анна"]))
    summary = import_paths(load_base(empty_base), [DATA / "call_stereo.ogg"], options)
    assert summary.count("created") == 1, summary.to_dict()
    interview = parse_interview((empty_base / "interviews" / "call_stereo.md").read_text(), "x.md")
    assert [t.speaker for t in interview.turns] == ["Мария", "Анна", "Мария", "Анна"]
    assert (interview.interviewer, interview.respondent) == ("Мария", "Анна")
    script = json.loads((DATA / "call_script.json").read_text())
    assert all(abs(t.start_s - s["start"]) < 1.5 for t, s in zip(interview.turns, script))  # each turn's real start
    assert interview.extra["languages"] == ["en"]
