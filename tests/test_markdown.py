"""The interview file format: what a researcher writes is what custdev reads."""

from __future__ import annotations

import pytest

from custdev.errors import ParseError
from custdev.markdown import format_timestamp, parse_interview, parse_timestamp, render_interview
from custdev.models import Codebook, CodebookEntry, Interview, Turn

CODEBOOK = Codebook(
    segments={"smb": CodebookEntry("smb", "SMB"), "agencies": CodebookEntry("agencies", "Agencies")},
    pains={"manual-reconciliation": CodebookEntry("manual-reconciliation", "Manual"), "late-payments": CodebookEntry("late-payments", "Late")},
    hypotheses={"pay-for-sync": CodebookEntry("pay-for-sync", "Would pay for sync")},
)

GOOD = """---
id: acme-anna
title: Анна, Acme
date: 2026-03-12
interviewer: Мария
respondent: Анна Петрова
company: Acme
role: CFO
segments: [smb, agencies]
nps: 6
language: ru
mood: calm
---

Notes before the transcript are not part of it.

**[00:00:05] Мария:** Как вы выставляете счета?

**[00:00:12] Анна:** Каждый месяц мы ==вручную сверяем счета в Excel== и это
долго. #pain/manual-reconciliation #billing/invoices

Ещё ==клиенты платят поздно== #pain/late-payments #h/pay-for-sync/against

**[00:01:02] Мария**: Понятно. #followup

## Summary

==Not a quote outside a turn== would be an error, so this heading section has none.
"""


def parse(text: str, codebook: Codebook | None = CODEBOOK) -> Interview:
    return parse_interview(text, "interviews/x.md", codebook)


def test_front_matter_and_turns():
    iv = parse(GOOD.replace("==Not a quote outside a turn== would", "A plain note would"))
    assert (iv.id, iv.date, iv.interviewer, iv.respondent, iv.company, iv.nps, iv.language) == (
        "acme-anna", "2026-03-12", "Мария", "Анна Петрова", "Acme", 6, "ru",
    )
    assert iv.segments == ["smb", "agencies"]
    assert iv.extra == {"mood": "calm"}
    assert [(t.speaker, t.start_s, t.end_s) for t in iv.turns] == [("Мария", 5.0, 12.0), ("Анна", 12.0, 62.0), ("Мария", 62.0, None)]
    anna = iv.turns[1]
    assert anna.text == "Каждый месяц мы вручную сверяем счета в Excel и это долго.\n\nЕщё клиенты платят поздно"
    assert "#" not in anna.text


def test_quotes_carry_codes_of_their_paragraph_and_turn_time():
    iv = parse(GOOD.replace("==Not a quote outside a turn== would", "A plain note would"))
    q1, q2 = iv.turns[1].quotes
    assert q1.text == "вручную сверяем счета в Excel"
    assert (q1.pains, q1.tags, q1.hypotheses) == (["manual-reconciliation"], ["billing/invoices"], [])
    assert q2.text == "клиенты платят поздно"
    assert (q2.pains, q2.tags, q2.hypotheses) == (["late-payments"], [], [("pay-for-sync", "against")])
    assert (q1.start_s, q1.end_s) == (12.0, 62.0)
    assert iv.turns[1].text[q2.char_start : q2.char_end] == q2.text
    # codes without a highlight quote the whole paragraph
    (whole,) = iv.turns[2].quotes
    assert whole.text == "Понятно." and whole.tags == ["followup"]


def test_highlight_outside_a_turn_is_an_error_with_its_line():
    with pytest.raises(ParseError) as exc:
        parse(GOOD)
    assert str(exc.value).startswith("interviews/x.md:28:")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("segments: [smb, agencies]", "segments: [smbb]"), "x.md:9: unknown segment 'smbb' (did you mean 'smb'?)"),
        (("#pain/late-payments", "#pain/late-payment"), "x.md:22: unknown pain 'late-payment' (did you mean 'late-payments'?)"),
        (("#h/pay-for-sync/against", "#h/pay-for-snc"), "unknown hypothesis 'pay-for-snc' (did you mean 'pay-for-sync'?)"),
        (("==клиенты платят поздно==", "==клиенты платят поздно"), "x.md:22: a highlight '==' is never closed"),
        (("[00:01:02]", "[00:00:10]"), "x.md:24: timestamp 00:00:10 is earlier than the turn before it (00:00:12)"),
        (("nps: 6", "nps: 11"), "x.md:10: front matter 'nps' must be a whole number from 0 to 10, not 11"),
        (("language: ru", "language: de"), "front matter 'language' must be 'en' or 'ru'"),
        (("title: Анна, Acme", "title: [broken"), "malformed YAML front matter"),
        (("[00:00:05]", "[00:99:05]"), "bad timestamp [00:99:05]"),
    ],
)
def test_bad_input_names_file_line_and_problem(change, message):
    text = GOOD.replace("==Not a quote outside a turn== would", "A plain note would").replace(*change)
    with pytest.raises(ParseError) as exc:
        parse(text)
    assert message in str(exc.value)
    assert str(exc.value).startswith("interviews/x.md")


def test_empty_and_missing_front_matter():
    with pytest.raises(ParseError, match="x.md: the file is empty"):
        parse("  \n\n")
    with pytest.raises(ParseError, match="missing YAML front matter"):
        parse("**[00:00:01] A:** hi\n")


def test_id_defaults_to_file_name_and_timestamps_are_optional():
    iv = parse_interview("---\nlanguage: en\n---\n\n**Kate:** Hello\n\n**John:** Hi ==there== #greeting\n", "interviews/2026-kate.md")
    assert iv.id == "2026-kate"
    assert [(t.speaker, t.start_s) for t in iv.turns] == [("Kate", None), ("John", None)]
    assert iv.turns[1].quotes[0].tags == ["greeting"]


def test_hash_inside_words_and_numbers_is_not_a_tag():
    iv = parse_interview("---\nid: a\n---\n\n**[00:01] A:** issue #1 and C# and mail@x.com#frag ==yes== #real\n", "a.md")
    assert iv.turns[0].quotes[0].tags == ["real"]
    assert "issue #1 and C# and" in iv.turns[0].text


def test_render_round_trips_through_the_parser():
    iv = Interview(
        id="imp-1", title="Imported", date="2026-01-02", interviewer="Kate", respondent="John Miller", segments=["smb"],
        language="en", audio="audio/call.ogg", extra={"source_sha256": "abc"},
        turns=[Turn("Kate", 0.0, "How do you invoice?"), Turn("John", 3.5, "Mostly by hand.\n\nIt takes days."), Turn("Kate", 3723.0, "Thanks")],
    )
    back = parse_interview(render_interview(iv), "imp-1.md", CODEBOOK)
    assert (back.id, back.date, back.audio, back.segments, back.extra) == ("imp-1", "2026-01-02", "audio/call.ogg", ["smb"], {"source_sha256": "abc"})
    assert [(t.speaker, t.start_s, t.text) for t in back.turns] == [
        ("Kate", 0.0, "How do you invoice?"), ("John", 3.0, "Mostly by hand.\n\nIt takes days."), ("Kate", 3723.0, "Thanks"),
    ]


@pytest.mark.parametrize(("text", "seconds"), [("00:01:23", 83.0), ("01:23", 83.0), ("1:02:03.5", 3723.5), ("00:00:07,25", 7.25)])
def test_timestamps(text, seconds):
    assert parse_timestamp(text) == seconds


def test_format_timestamp():
    assert format_timestamp(3723.9) == "01:02:03"
    assert format_timestamp(None) == ""


def _merged(tokens):
    out = []
    for kind, content in tokens:
        kind = "softbreak" if kind == "hardbreak" else kind
        if out and kind == "text" and out[-1][0] == "text":
            out[-1] = ("text", out[-1][1] + content)
        elif not (kind == "text" and not content):
            out.append((kind, content))
    return out


def test_plain_text_fast_path_matches_markdown_it():
    from pathlib import Path

    from bench.generate import interview_text
    from custdev.mdparagraph import _MD, inline_children, slow_inline_children
    import random

    repo = Path(__file__).resolve().parent.parent
    texts = [p.read_text(encoding="utf-8") for p in sorted((repo / "interviews").glob("*.md"))]
    texts.append(interview_text(7, 60, random.Random(3)))
    texts.append(GOOD)
    tricky = [
        "**[00:00:05] Мария:**Text glued", "**[00:00:05] Мария:** ", "**[00:00:05] Мария:**", "**[01:02] Мария**: x",
        "plain  \nhard break", "a\n  b  \n c", "**[00:01] A:** C# and #tag/x and x:y", "**[00:01] A* B:** odd",
        "**[00:00:01] A:** text **bold**", "\\#not-a-tag", "word_with_underscore", "==x== #t",
        "**R17:** untimed header (channel responses)", "**R17:**", "**Name Surname:** a\nb", "**[x] A:** y", "**A:**b",
    ]
    paragraphs = [t.content for text in texts for t in _MD.parse(text) if t.type == "inline"] + tricky
    assert len(paragraphs) > 300
    fast_hits = 0
    for content in paragraphs:
        assert _merged(inline_children(content)) == _merged(slow_inline_children(content)), content
        fast_hits += _MARKUP_FREE(content)
    assert fast_hits > len(paragraphs) // 3  # the fast path is really taken for plain turns


def _MARKUP_FREE(content: str) -> bool:
    from custdev.mdparagraph import _FAST_HEADER, _MARKUP

    m = _FAST_HEADER.match(content)
    return _MARKUP.search(content[m.end():] if m else content) is None


def test_fast_block_path_gives_the_same_interviews_as_markdown_it(monkeypatch):
    """fast_block_tokens (one-line paragraphs and headings) must parse exactly like markdown-it, or step aside."""
    import random
    from pathlib import Path

    import custdev.markdown as md
    from bench.generate import interview_text

    repo = Path(__file__).resolve().parent.parent
    texts = [p.read_text(encoding="utf-8") for p in sorted((repo / "interviews").glob("*.md"))]
    texts += [interview_text(n, 40, random.Random(n)) for n in range(5)]
    texts += [GOOD, GOOD.replace("\n", "\r\n")]
    texts.append("---\nid: part\nchannel: chat\n---\n\n## c1\n\n**user:** Как выставить \\#счёт? #pain/x\n\n**bot:** ==Откройте== раздел\n\n"
                 "## c2\n\n**user:** - not a list\n\n**R7:** 1. item\n\n    indented\n\nplain continuation\n")
    texts.append("---\nid: x\n---\n\n**[00:00:01] A:** one\n\n- a list\n- b\n\n> quote\n\n***\n\n**[00:00:02] B:** two\nlines\n")
    used = 0
    for text in texts:
        monkeypatch.setattr(md, "FAST_BLOCKS", True)
        used += md.fast_block_tokens(text) is not None
        try:
            fast = md.parse_interview(text, "x.md")
        except md.ParseError as exc:
            fast = str(exc)
        monkeypatch.setattr(md, "FAST_BLOCKS", False)
        try:
            slow = md.parse_interview(text, "x.md")
        except md.ParseError as exc:
            slow = str(exc)
        assert fast == slow, text[:80]
    assert used >= len(texts) // 2  # the fast path is really taken for ordinary transcripts


def _fuzz_paragraph(rnd) -> str:
    """A one-line paragraph made of the pieces transcripts are written with, in odd combinations."""
    pieces = ["==", "==", "==", " ", " ", "word", "слово", ".", ",", "!", "«", "»", "—", "(", ")", "#pain/late-payments",
              "#billing", "{?", "?}", "[inaudible]", "=", "===", "\u00a0", "\u2003", "ё", "1", "$", "€", "'", "#1", "a=b"]
    text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 14))).strip()
    if rnd.random() < 0.5:
        text = f"**[00:0{rnd.randint(0, 9)}:1{rnd.randint(0, 9)}] Анна:** {text}"
    return text or "x"


def test_highlight_fast_path_matches_markdown_it_on_fuzzed_paragraphs(monkeypatch):
    """The fast path for ``==highlights==`` pairs and flanks its runs exactly as markdown-it does, or steps aside;
    a paragraph read by the quick path equals the one read from markdown-it's tokens (text, quotes, codes, marks)."""
    import random
    from types import SimpleNamespace

    import custdev.mdparagraph as mp
    from custdev.markdown import ParseError
    from custdev.mdparagraph import inline_children, slow_inline_children

    rnd = random.Random(8)
    cases = [_fuzz_paragraph(rnd) for _ in range(2500)] + [
        "a==b==c", "==a ==b==", "x ==.y==", "==", "===a===", "==a==b==c==", "«==цитата==»", "==a==.", ".==a==",
        "**[00:00:01] A:** ==a== ==b", "**[00:00:01] A:** ==", "==\u00a0a==", "== a ==", "a== ==b", "==(a)==",
        "**[00:00:01] A:** x ==$5 a month== #pain/late-payments", "==a\u2003==",
    ]
    fast = 0
    for content in cases:
        assert _merged(inline_children(content)) == _merged(slow_inline_children(content)), repr(content)
        fast += "==" in content and not _MARKUP_FREE(content) and _only_marks(content)
        got = []
        for on in (True, False):
            monkeypatch.setattr(mp, "FAST_INLINE", on)
            try:
                got.append(mp._paragraph(SimpleNamespace(content=content, map=[4, 5]), "x.md"))
            except ParseError as exc:
                got.append(str(exc))
        assert got[0] == got[1], repr(content)
    assert fast > 300  # the highlight path is really taken


def _only_marks(content: str) -> bool:
    from custdev.mdparagraph import _FAST_HEADER, _fast_marks

    m = _FAST_HEADER.match(content)
    return _fast_marks(content, m.end() if m else 0) is not None


def test_fast_paths_give_the_same_interviews_as_markdown_it(monkeypatch):
    """Whole interviews (sample base, generated interviews, fuzzed turns) parse the same with both fast paths off."""
    import random
    from pathlib import Path

    import custdev.markdown as md
    import custdev.mdparagraph as mp
    from bench.generate import interview_text

    repo = Path(__file__).resolve().parent.parent
    rnd = random.Random(5)
    texts = [p.read_text(encoding="utf-8") for p in sorted((repo / "interviews").glob("*.md"))]
    texts += [interview_text(n, 60, random.Random(n)) for n in range(8)]
    texts.append("---\nid: fuzz\n---\n\n" + "\n\n".join(f"**[00:00:{n:02d}] A:** {_fuzz_paragraph(rnd).split(':** ')[-1]}" for n in range(60)))
    codebook = Codebook(pains={"late-payments": CodebookEntry("late-payments", "Late")})
    for text in texts:
        got = []
        for fast in (True, False):
            monkeypatch.setattr(md, "FAST_BLOCKS", fast)
            monkeypatch.setattr(mp, "FAST_INLINE", fast)
            try:
                got.append(md.parse_interview(text, "x.md", codebook if "fuzz" in text else None))
            except md.ParseError as exc:
                got.append(str(exc))
        assert got[0] == got[1], text[:80]
