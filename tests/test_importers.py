"""Transcript importers (VTT, SRT, TXT, DOCX, Markdown) and the word-timestamp sidecar. No Whisper model needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from custdev.importers import ImportContext, ImportError_, clean_text, import_transcript
from custdev.markdown import parse_interview, render_interview
from custdev.models import Word
from custdev.wordtimes import apply_sidecar, sidecar_data

DATA = Path(__file__).parent / "data"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def turns(interview):
    return [(t.speaker, t.start_s, t.text) for t in interview.turns]


ZOOM_VTT = """WEBVTT

1
00:00:01.500 --> 00:00:04.000
Kate Hill: How do you send invoices today?

2
00:00:04.200 --> 00:00:09.000
John Miller: Every month I export orders to Excel.

3
00:00:09.100 --> 00:00:12.000
John Miller: Then I type each invoice by hand.

4
00:01:02.000 --> 00:01:05.000
Kate Hill: What does that cost you?
"""


def test_zoom_vtt_keeps_speakers_and_times_and_merges_a_speakers_cues(tmp_path):
    imported = import_transcript(write(tmp_path, "2026-03-12 acme call.vtt", ZOOM_VTT), ImportContext())
    iv = imported.interview
    assert turns(iv) == [
        ("Kate Hill", 1.5, "How do you send invoices today?"),
        ("John Miller", 4.2, "Every month I export orders to Excel. Then I type each invoice by hand."),
        ("Kate Hill", 62.0, "What does that cost you?"),
    ]
    assert iv.interviewer == "Kate Hill"  # asks the questions
    assert iv.respondent == "John Miller"
    assert iv.date == "2026-03-12"  # from the file name
    assert iv.id == "2026-03-12-acme-call"
    assert iv.language == "en"
    assert imported.sidecar is None


def test_teams_vtt_voice_tags_and_cue_ids(tmp_path):
    text = """WEBVTT

b6f0c2a1-1/12-0
00:00:03.120 --> 00:00:06.500
<v Мария Иванова>Как вы сейчас выставляете счета?</v>

b6f0c2a1-1/13-0
00:00:07.000 --> 00:00:15.000 align:start
<v Анна Петрова>Вручную, в <i>Excel</i>. Каждый месяц — два дня на сверку.</v>
"""
    iv = import_transcript(write(tmp_path, "teams.vtt", text), ImportContext()).interview
    assert turns(iv) == [
        ("Мария Иванова", 3.12, "Как вы сейчас выставляете счета?"),
        ("Анна Петрова", 7.0, "Вручную, в Excel. Каждый месяц — два дня на сверку."),
    ]
    assert iv.language == "ru"
    assert iv.interviewer == "Мария Иванова"


def test_srt_with_and_without_names(tmp_path):
    named = """1
00:00:01,000 --> 00:00:03,000
Kate: Why did you switch?

2
00:00:03,500 --> 00:00:06,000
John: Support took a week to answer.
"""
    iv = import_transcript(write(tmp_path, "named.srt", named), ImportContext()).interview
    assert turns(iv) == [("Kate", 1.0, "Why did you switch?"), ("John", 3.5, "Support took a week to answer.")]

    plain = """1
00:00:01,000 --> 00:00:03,000
<i>We reconcile by hand.</i>

2
00:00:03,500 --> 00:00:06,000
It takes two days.
"""
    imported = import_transcript(write(tmp_path, "plain.srt", plain), ImportContext(respondent="Olga"))
    assert turns(imported.interview) == [("Olga", 1.0, "We reconcile by hand. It takes two days.")]
    assert any("no speaker names" in w for w in imported.warnings)


def test_txt_formats(tmp_path):
    text = """Customer call, notes by Kate

[00:00:05] Kate: How do you chase late payments?
[00:00:11] Speaker 2: I send reminders by hand
every Friday.
00:01:30 Kate: Anything else?
Speaker 2 (00:01:34): The bank export is broken.
"""
    iv = import_transcript(write(tmp_path, "call.txt", text), ImportContext(respondent="Lucy Morgan")).interview
    assert turns(iv) == [
        ("Kate", 5.0, "How do you chase late payments?"),
        ("Lucy Morgan", 11.0, "I send reminders by hand every Friday."),  # generic label renamed
        ("Kate", 90.0, "Anything else?"),
        ("Lucy Morgan", 94.0, "The bank export is broken."),
    ]
    assert iv.respondent == "Lucy Morgan" and iv.interviewer == "Kate"


def test_generic_labels_take_the_given_names(tmp_path):
    text = "Speaker 1: Hi! How do you invoice?\nSpeaker 2: In a spreadsheet.\nSpeaker 1: Why?\nSpeaker 2: Habit.\n"
    iv = import_transcript(write(tmp_path, "otter.txt", text), ImportContext(interviewer="Sarah", respondent="Dana")).interview
    assert [t.speaker for t in iv.turns] == ["Sarah", "Dana", "Sarah", "Dana"]
    assert iv.interviewer == "Sarah" and iv.respondent == "Dana"


def test_interviewer_option_matches_a_first_name(tmp_path):
    # John asks more questions here, but the researcher says Kate is the interviewer.
    text = "Kate Hill: Tell me about billing.\nJohn Miller: What do you mean? Which part?\nKate Hill: The last invoice you sent.\n"
    iv = import_transcript(write(tmp_path, "x.txt", text), ImportContext(interviewer="Kate")).interview
    assert iv.interviewer == "Kate Hill"
    assert iv.speaker_role("John Miller") == "respondent"


def test_default_names_are_russian_for_a_russian_transcript(tmp_path):
    text = "Спикер 1: Как вы выставляете счета клиентам?\nСпикер 2: Вручную, раз в месяц, в таблице.\n"
    iv = import_transcript(write(tmp_path, "ru.txt", text), ImportContext()).interview
    assert [t.speaker for t in iv.turns] == ["Интервьюер", "Респондент"]


def test_otter_docx():
    imported = import_transcript(DATA / "otter.docx", ImportContext())
    iv = imported.interview
    assert iv.title == "Acme onboarding call"
    assert turns(iv) == [
        ("Maria Lopez", 3.0, "Thanks for joining. How did the first week with the product go?"),
        ("Tom Becker", 9.0, "Honestly, the setup took us three days because the importer rejected our CSV."),
        ("Maria Lopez", 75.0, "What did you do then?"),
        ("Tom Becker", 79.0, "I called support, and they fixed it by hand."),
    ]
    assert iv.interviewer == "Maria Lopez"


def test_custdev_markdown_is_kept_verbatim_with_options_applied(tmp_path):
    text = """---
id: kept
respondent: John
language: en
---

Notes before the transcript.

**[00:00:01] Kate:** How do you send invoices?

**[00:00:05] John:** ==Every invoice is typed by hand== #pain/manual
"""
    imported = import_transcript(write(tmp_path, "kept.md", text), ImportContext(company="Acme", segments=["smb"]))
    assert imported.body is not None and "==Every invoice is typed by hand== #pain/manual" in imported.body
    assert imported.interview.company == "Acme" and imported.interview.segments == ["smb"]


def test_markdown_without_front_matter(tmp_path):
    text = "**Kate:** How do you invoice?\n\n**John:** By hand.\n"
    iv = import_transcript(write(tmp_path, "bare.md", text), ImportContext()).interview
    assert [(t.speaker, t.text) for t in iv.turns] == [("Kate", "How do you invoice?"), ("John", "By hand.")]


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("empty.vtt", "", "the file is empty"),
        ("bad.vtt", "Kate: hello\n", "not a WebVTT file"),
        ("bad.srt", "just some words\n", "not a SubRip file"),
        ("notes.txt", "We met on Monday and talked about billing.\n", "no speaker lines found"),
    ],
)
def test_bad_transcripts_name_the_file(tmp_path, name, text, message):
    path = write(tmp_path, name, text)
    with pytest.raises(ImportError_) as exc:
        import_transcript(path, ImportContext())
    assert str(path) in str(exc.value) and message in str(exc.value)


def test_broken_docx(tmp_path):
    path = write(tmp_path, "broken.docx", "not a zip")
    with pytest.raises(ImportError_, match="not a readable .docx"):
        import_transcript(path, ImportContext())


def test_text_that_looks_like_markup_survives_the_round_trip(tmp_path):
    text = "Kate: Is #1 priority billing? Is it == to support?\nJohn: Our #billing channel and a **bold** claim.\n"
    iv = import_transcript(write(tmp_path, "m.txt", text), ImportContext()).interview
    parsed = parse_interview(render_interview(iv), "m.md")
    assert [q for t in parsed.turns for q in t.quotes] == []  # no accidental highlight or code
    assert parsed.turns[1].text.startswith("Our # billing channel")
    assert clean_text("a ==b== #tag") == "a = =b= = # tag"


# --- word timestamps -------------------------------------------------------------------------------------------

TRANSCRIBED = """---
id: t
interviewer: Kate
language: en
---

**[00:00:01] Kate:** How do you send invoices?

**[00:00:04] John:** Every month I export the orders. Then I type each invoice by hand, and it takes two days.
"""


def sidecar():
    def words(start, text, step=0.4):
        return [Word(w, start + i * step, start + i * step + 0.3) for i, w in enumerate(text.split())]

    return sidecar_data([
        (1.2, 3.0, words(1.2, "How do you send invoices?")),
        (4.6, 12.0, words(4.6, "Every month I export the orders. Then I type each invoice by hand, and it takes two days.")),
    ])


def test_quote_times_come_from_the_highlighted_words():
    text = TRANSCRIBED.replace("I type each invoice by hand", "I ==type each invoice by hand==")
    iv = parse_interview(text, "t.md")
    quote = iv.turns[1].quotes[0]
    assert quote.start_s == 4.0  # the turn's whole-second time, before the sidecar
    apply_sidecar(iv, sidecar())
    # words: Every(0) month(1) I(2) export(3) the(4) orders.(5) Then(6) I(7) type(8) each(9) invoice(10) by(11) hand,(12)
    assert quote.start_s == pytest.approx(4.6 + 8 * 0.4)
    assert quote.end_s == pytest.approx(4.6 + 12 * 0.4 + 0.3)
    assert [w.text for w in iv.turns[0].words] == ["How", "do", "you", "send", "invoices?"]


def test_quote_times_survive_small_edits_by_the_researcher():
    text = TRANSCRIBED.replace("I type each invoice by hand, and it takes two days", "I ==typed every invoice by hand and it took two days==")
    iv = parse_interview(text, "t.md")
    apply_sidecar(iv, sidecar())
    quote = iv.turns[1].quotes[0]
    assert quote.start_s == pytest.approx(4.6 + 8 * 0.4)  # "type"
    assert quote.end_s == pytest.approx(4.6 + 17 * 0.4 + 0.3)  # "days."


def test_repeated_phrase_maps_to_the_right_occurrence():
    body = "**[00:00:04] John:** by hand, always by hand, and ==by hand== again."
    iv = parse_interview(TRANSCRIBED.split("**[00:00:01]")[0] + body + "\n", "t.md")
    words = [Word(w, 4.0 + i, 4.5 + i) for i, w in enumerate("by hand, always by hand, and by hand again.".split())]
    apply_sidecar(iv, sidecar_data([(4.0, 14.0, words)]))
    assert iv.turns[0].quotes[0].start_s == 10.0  # the third "by"


def test_split_turn_gets_its_words_and_rewritten_quote_falls_back_to_turn_time():
    text = TRANSCRIBED.replace(
        "Every month I export the orders. Then I type",
        "Every month I export the orders.\n\n**[00:00:07] John:** Then I type",
    ).replace("and it takes two days.", "==and it takes two days==")
    iv = parse_interview(text, "t.md")
    apply_sidecar(iv, sidecar())
    assert [w.text for w in iv.turns[1].words][-1] == "orders."
    assert iv.turns[2].words[0].text == "Then"
    assert iv.turns[2].quotes[0].end_s == pytest.approx(4.6 + 17 * 0.4 + 0.3)
    # A quote whose words are not in the recording keeps the turn's time.
    text = TRANSCRIBED.replace("Every month I export the orders.", "==Something completely different was said here.==")
    iv = parse_interview(text, "t.md")
    apply_sidecar(iv, sidecar())
    assert iv.turns[1].quotes[0].start_s == 4.0


def test_bad_sidecar_is_ignored():
    iv = parse_interview(TRANSCRIBED.replace("Every month", "==Every month=="), "t.md")
    apply_sidecar(iv, {"version": 99})
    apply_sidecar(iv, {"version": 1, "turns": [{"words": [["x"]]}]})
    assert iv.turns[1].quotes[0].start_s == 4.0
