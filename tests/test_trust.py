"""Transcripts you can quote (issue 14), without the model: uncertainty marks, language headers, loops, coverage."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from custdev.build import build_base
from custdev.cli import app
from custdev.markdown import confidence, mark_unsure, parse_interview, render_interview, unsure_words
from custdev.speech.transcribe import cut_loop, looks_like_loop, uncovered

runner = CliRunner()

INTERVIEW = """---
id: doubt
respondent: John
language: en
segments: [example-segment]
---

**[00:00:01] Kate:** How do you {?send invoices?} today?

**[00:00:05] John:** ==Every month I {?type each?} invoice by hand== #pain/example-pain and then [inaudible] it.

**[00:00:12] John [de]:** Jeden Monat schreiben wir alle Rechnungen von Hand.
"""


def test_uncertainty_marks_parse_render_and_give_confidence():
    iv = parse_interview(INTERVIEW, "doubt.md")
    kate, john, german = iv.turns
    assert kate.text == "How do you send invoices today?"  # the braces are not part of what was said
    assert unsure_words(kate.text, kate.unsure) == ["send invoices"]
    assert confidence(kate.text, kate.unsure) == round(1 - 2 / 6, 3)
    (quote,) = john.quotes
    assert quote.text == "Every month I type each invoice by hand"
    assert quote.confidence == round(1 - 2 / 8, 3)
    assert unsure_words(john.text, john.unsure) == ["type each", "[inaudible]"]  # inaudible speech counts as doubt
    assert german.language == "de" and german.speaker == "John" and german.unsure == []
    # the file renders back as written: marks, the language header and the plain text survive a round trip
    again = parse_interview(render_interview(iv), "doubt.md")
    assert [(t.speaker, t.language, t.text, t.unsure) for t in again.turns] == [(t.speaker, t.language, t.text, t.unsure) for t in iv.turns]
    assert "**[00:00:12] John [de]:** Jeden Monat" in render_interview(iv)
    # marks never collide with highlights, tags or question marks
    assert mark_unsure("Is it ok? Yes", [(6, 9)]) == "Is it {?ok??} Yes"
    assert parse_interview("---\nid: q\n---\n\n**[00:00:01] A:** Is it {?ok??} Yes ==really== #tag\n").turns[0].text == "Is it ok? Yes really"


def test_build_stores_confidence_search_shows_it_and_removing_the_mark_clears_it(empty_base):
    path = empty_base / "interviews" / "doubt.md"
    path.write_text(INTERVIEW, encoding="utf-8")
    assert build_base(empty_base).errors == []
    with sqlite3.connect(empty_base / "custdev.db") as db:
        rows = db.execute("SELECT text, confidence, unsure, language FROM utterances ORDER BY seq").fetchall()
        quote = db.execute("SELECT confidence, unsure FROM quotes").fetchone()
    assert rows[0] == ("How do you send invoices today?", 0.667, '["send invoices"]', None)
    assert rows[2][1:] == (1.0, None, "de")
    assert quote == (0.75, '["type each"]')
    result = runner.invoke(app, ["search", "invoice", "--pain", "example-pain", "--json", "--base", str(empty_base)])
    assert result.exit_code == 0, result.output
    (hit,) = json.loads(result.stdout)
    assert hit["confidence"] == 0.75 and hit["unsure"] == ["type each"]
    plain = runner.invoke(app, ["search", "invoices", "--base", str(empty_base)], env={"TERMINAL_WIDTH": "300"})
    assert "(uncertain words: send invoices)" in plain.stdout
    # a researcher listened and confirmed the words: deleting the braces clears the doubt
    path.write_text(INTERVIEW.replace("{?type each?}", "type each"), encoding="utf-8")
    build_base(empty_base)
    hit = json.loads(runner.invoke(app, ["search", "invoice", "--pain", "example-pain", "--json", "--base", str(empty_base)]).stdout)[0]
    assert hit["confidence"] == 1.0 and hit["unsure"] == []
    # a German turn is kept verbatim and found by its own words
    found = json.loads(runner.invoke(app, ["search", "Rechnungen", "--json", "--base", str(empty_base)]).stdout)
    assert [h["text"] for h in found] == ["Jeden Monat schreiben wir alle Rechnungen von Hand."]


def test_loops_are_detected_and_cut():
    assert looks_like_loop("и к вины, и к вины, и к вины, и к вины, и к вины")
    assert looks_like_loop("Thank you. Thank you. Thank you. Thank you.")
    assert looks_like_loop("no no no no no no")
    assert not looks_like_loop("Каждый месяц мы выставляем около двухсот счетов, и это очень долго.")
    assert not looks_like_loop("very very good")
    words = [[i, i + 0.5, w, 0.9, False] for i, w in enumerate("я сказал и к вины и к вины и к вины и к вины потом".split())]
    assert [w[2] for w in cut_loop(words)] == "я сказал и к вины потом".split()


def test_uncovered_speech_is_found():
    speech = [(0.0, 5.0), (6.0, 12.0)]
    words = [(0.2, 1.0), (1.1, 4.8), (6.1, 7.0)]  # the second region loses its last five seconds
    assert uncovered(speech, words) == [(7.0, 12.0)]
    assert uncovered(speech, words + [(7.0, 11.9)]) == []
    assert uncovered([(0.0, 1.0)], []) == []  # shorter than GAP_S: a breath, not a dropped sentence


SPANISH_VTT = """WEBVTT

00:00:01.000 --> 00:00:04.000
Hola, ¿cómo envían ustedes las facturas a los clientes?

00:00:05.000 --> 00:00:09.000
Cada mes escribo todas las facturas a mano, y los clientes pagan tarde.
"""


def test_transcript_imports_tell_the_truth(empty_base, tmp_path):
    """A Spanish subtitle file is Spanish (kept verbatim); a warning does not fail an import unless --strict."""
    (tmp_path / "es.vtt").write_text(SPANISH_VTT, encoding="utf-8")
    result = runner.invoke(app, ["import", str(tmp_path / "es.vtt"), "--base", str(empty_base)])
    assert result.exit_code == 0, result.output
    assert "1 imported, 0 already there, 0 failed" in result.stdout
    assert "Warning:" in result.stderr and "no speaker names" in result.stderr and "'es'" in result.stderr
    iv = parse_interview((empty_base / "interviews" / "es.md").read_text(encoding="utf-8"))
    assert iv.language is None and iv.extra["languages"] == ["es"]  # not "en"
    assert "escribo todas las facturas a mano" in iv.turns[0].text
    found = runner.invoke(app, ["search", "facturas", "--json", "--base", str(empty_base)])
    assert len(json.loads(found.stdout)) == 1  # both lines: one turn (no speaker names)
    (tmp_path / "es2.vtt").write_text(SPANISH_VTT.replace("Hola", "Buenos días"), encoding="utf-8")
    strict = runner.invoke(app, ["import", str(tmp_path / "es2.vtt"), "--strict", "--base", str(empty_base)])
    assert strict.exit_code == 1 and "1 imported" in strict.stdout


def test_the_site_says_a_quote_rests_on_uncertain_words(empty_base):
    """Quote page, search page and interview page, in English and Russian; a file date is flagged as such."""
    import asyncio

    from custdev.config import load_base
    from custdev.site import make_datasette

    text = INTERVIEW.replace("language: en\n", "language: en\ndate: 2026-03-01\ndate_source: file\n")
    (empty_base / "interviews" / "doubt.md").write_text(text, encoding="utf-8")
    build_base(empty_base)
    with sqlite3.connect(empty_base / "custdev.db") as db:
        qid = db.execute("SELECT id FROM quotes").fetchone()[0]
    ds = make_datasette(load_base(empty_base))
    get = lambda path: asyncio.run(ds.client.get(path)).text  # noqa: E731
    page = get(f"/custdev/quotes/{qid}")
    assert "This quote rests on uncertain words: <q class=\"cd-unsure-word\">type each</q> (75% of its words are certain)" in page
    found = get("/custdev/search?q=invoice")
    assert found.count('class="cd-unsure cd-unsure-small"') == 2  # the quote and the question, each with its words
    assert "Rests on uncertain words: <q class=\"cd-unsure-word\">type each</q>" in found
    assert "Rests on uncertain words: <q class=\"cd-unsure-word\">send invoices</q>" in found
    interview = get("/custdev/interviews/doubt")
    assert ("<mark>Every month I type each invoice by hand</mark></a><span class=\"cd-unsure cd-unsure-inline\" role=\"note\">"
            "⚠ Rests on uncertain words: <q class=\"cd-unsure-word\">type each</q></span> and then [inaudible] it.") in interview
    assert "today? <span class=\"cd-unsure cd-unsure-inline\" role=\"note\">⚠ Uncertain words: <q class=\"cd-unsure-word\">send invoices</q>" in interview
    assert "2026-03-01 <span class=\"cd-date-file\"" in interview and "(file date)" in interview
    assert "(file date)" in get("/")
    ru = get(f"/custdev/quotes/{qid}?_lang=ru")
    assert "Цитата опирается на неуверенно распознанные слова: <q class=\"cd-unsure-word\">type each</q> (75% её слов" in ru
    assert "Есть неуверенно распознанные слова:" in get("/custdev/search?q=invoice&_lang=ru")
    assert "(дата файла)" in get("/custdev/interviews/doubt?_lang=ru")


def test_the_report_says_a_quote_rests_on_uncertain_words(empty_base):
    (empty_base / "interviews" / "doubt.md").write_text(INTERVIEW, encoding="utf-8")
    build_base(empty_base)
    md = runner.invoke(app, ["report", "--base", str(empty_base)])
    assert md.exit_code == 0, md.output
    assert "⚠ rests on uncertain words: “type each”" in md.stdout


def test_placeholder_labels_are_labels_not_people(empty_base, tmp_path):
    """import -> build -> pains -> publish --redact on interviews whose speakers have no names."""
    (tmp_path / "a.vtt").write_text("WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nSpeaker 1: How do you send invoices?\n\n"
                                    "00:00:05.000 --> 00:00:09.000\nSpeaker 2: I type each invoice by hand.\n", encoding="utf-8")
    (tmp_path / "b.vtt").write_text("WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nEvery invoice is typed by hand.\n", encoding="utf-8")
    result = runner.invoke(app, ["import", str(tmp_path / "a.vtt"), str(tmp_path / "b.vtt"), "--base", str(empty_base)])
    assert result.exit_code == 0, result.output
    a = parse_interview((empty_base / "interviews" / "a.md").read_text(encoding="utf-8"))
    b = parse_interview((empty_base / "interviews" / "b.md").read_text(encoding="utf-8"))
    assert (a.respondent, b.respondent) == ("Respondent 1", "Respondent 2")  # two strangers, never merged
    assert a.extra["date_source"] == "file"  # no date in the name or the file: the site and saturation can flag it
    path = empty_base / "interviews" / "a.md"
    path.write_text(path.read_text(encoding="utf-8").replace("by hand.", "by hand. #pain/example-pain"), encoding="utf-8")
    assert runner.invoke(app, ["build", "--base", str(empty_base)]).exit_code == 0
    with sqlite3.connect(empty_base / "custdev.db") as db:
        assert db.execute("SELECT count(DISTINCT respondent_id) FROM interviews").fetchone()[0] == 2
        assert db.execute("SELECT date_source FROM interviews WHERE id = 'a'").fetchone()[0] == "file"
    pains = runner.invoke(app, ["pains", "--json", "--base", str(empty_base)])
    assert pains.exit_code == 0, pains.output
    out = tmp_path / "published"
    # imported transcripts carry no consent: publish them on purpose (issue #8's consent rule)
    published = runner.invoke(app, ["publish", str(out), "--base", str(empty_base), "--include-unconsented"])
    assert published.exit_code == 0, published.output
    with sqlite3.connect(out / "custdev.db") as db:
        assert db.execute("SELECT count(*) FROM quotes").fetchone()[0] == 1
        assert {r[0] for r in db.execute("SELECT DISTINCT speaker FROM utterances")} <= {"Interviewer", "Respondent"}


def test_speakers_name_a_transcripts_speakers_and_saturation_flags_file_dates(empty_base, tmp_path):
    """--speakers "Мария,Анна" names a VTT's speakers in order of first appearance (the first is the interviewer);
    interviews dated only by their file are flagged by saturation, whose order they make uncertain."""
    (tmp_path / "call.vtt").write_text("WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nSpeaker 1: Как вы выставляете счета?\n\n"
                                       "00:00:05.000 --> 00:00:09.000\nSpeaker 2: Вручную, каждый месяц. #pain/example-pain\n",
                                       encoding="utf-8")
    (tmp_path / "2026-03-14-notes.vtt").write_text("WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nKate: How do you send invoices?\n\n"
                                                   "00:00:05.000 --> 00:00:09.000\nJohn: By hand. #pain/example-pain\n", encoding="utf-8")
    result = runner.invoke(app, ["import", str(tmp_path / "call.vtt"), "--speakers", "Мария,Анна", "--base", str(empty_base)])
    assert result.exit_code == 0, result.output
    iv = parse_interview((empty_base / "interviews" / "call.md").read_text(encoding="utf-8"))
    assert [t.speaker for t in iv.turns] == ["Мария", "Анна"] and (iv.interviewer, iv.respondent) == ("Мария", "Анна")
    assert runner.invoke(app, ["import", str(tmp_path / "2026-03-14-notes.vtt"), "--base", str(empty_base)]).exit_code == 0
    sat = runner.invoke(app, ["saturation", "--base", str(empty_base)], env={"TERMINAL_WIDTH": "300"})
    assert sat.exit_code == 0, sat.output
    assert ("1 interview has only a file date (no date in the recording or its name), so its place in this order is "
            "uncertain: call") in sat.stdout
    data = json.loads(runner.invoke(app, ["saturation", "--json", "--base", str(empty_base)]).stdout)
    assert data["file_dated"] == ["call"]
    assert {s["interview_id"]: s["file_date"] for s in data["interviews"]} == {"call": True, "2026-03-14-notes": False}
