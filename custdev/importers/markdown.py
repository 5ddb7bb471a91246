"""Markdown transcripts: a custdev interview file (front matter + ``**[00:01:23] Name:** text`` turns), or a
markdown file without front matter whose paragraphs are ``**Name:** text`` or ``Name: text`` lines."""

from __future__ import annotations

from pathlib import Path

from custdev.errors import ParseError
from custdev.i18n import N_
from custdev.importers import ImportContext, Imported, ImportError_, RawTurn, build_interview, file_date, guess_language, read_text
from custdev.markdown import markdown_body, parse_interview


def import_markdown(path: Path, ctx: ImportContext) -> Imported:
    text = read_text(path)
    warnings: list[str] = []
    if text.lstrip("\ufeff").startswith("---"):
        try:
            interview = parse_interview(text, str(path), ctx.codebook)
        except ParseError as exc:
            raise ImportError_(exc.as_message()) from None
        if not interview.turns:
            raise ImportError_(N_("{path}: no speaker turns found (start paragraphs with **[00:00:00] Name:**)"), path=path)
        for key in ("respondent", "interviewer", "company", "role", "language"):
            value = getattr(ctx, key)
            if value:
                setattr(interview, key, value)
        if ctx.segments:
            interview.segments = list(dict.fromkeys([*interview.segments, *ctx.segments]))
        if not interview.date:
            interview.date = file_date(path)
        # The body (turns, highlights, codes, notes) is kept byte for byte; only the front matter is rewritten.
        return Imported(interview=interview, warnings=warnings, kind="transcript", body=markdown_body(text))
    rows = _rows(path, text)
    language = guess_language(" ".join(r.text for r in rows))
    interview = build_interview(rows, ctx, path, language=language, warnings=warnings)
    return Imported(interview=interview, warnings=warnings, kind="transcript")


def _rows(path: Path, text: str) -> list[RawTurn]:
    wrapped = "---\nid: x\n---\n\n" + text
    try:
        parsed = parse_interview(wrapped, str(path))
    except ParseError:
        parsed = None
    if parsed is not None and parsed.turns:
        return [RawTurn(t.speaker, t.start_s, t.text) for t in parsed.turns]
    from custdev.importers.txt import parse_txt

    return parse_txt(path, text.replace("**", ""))
