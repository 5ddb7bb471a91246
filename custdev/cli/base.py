"""Commands for the research base itself: init, build, search."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from custdev.cli import BaseOpt, JsonOpt, QuietOpt, app, err, error_line, errors, fail, out, print_json, warning_line
from custdev.cli.lang import help_text
from custdev.config import language_choices
from custdev.i18n import DEFAULT_LANGUAGE, N_, SPEAKER_ROLES, decimal, translator



@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help=N_("Folder for the new research base (created if missing)."))] = Path("."),
    title: Annotated[Optional[str], typer.Option(help=N_("Title of the base (default: the folder name)."))] = None,
    language: Annotated[str, typer.Option(help=help_text(N_("Language of reports, tables and site labels: {choices}."), choices=language_choices(quote="")))] = DEFAULT_LANGUAGE,
    json_: JsonOpt = False,
) -> None:
    """Create a research base: interviews/, codebook.yml and custdev.toml. Safe to re-run."""
    from custdev.config import init_base

    with errors():
        root, created = init_base(directory, title=title, language=language)
    if json_:
        print_json({"base": str(root), "created": created})
    elif created:
        _ = translator(language).gettext
        out.print(_("Created research base in {root}: {created}").format(root=root, created=", ".join(created)), markup=False)
        out.print(_("Next: put interviews in interviews/ (or 'custdev import'), then 'custdev build'."), markup=False)
    else:
        out.print(translator(language).gettext("{root} is already a research base; nothing changed.").format(root=root), markup=False)


@app.command()
def build(
    base: BaseOpt = None,
    full: Annotated[bool, typer.Option("--full", help=N_("Re-read every file instead of only changed ones."))] = False,
    json_: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Build the SQLite research base (custdev.db) from interviews/*.md and the codebook."""
    from custdev.build import build_base
    from custdev.config import load_base

    with errors():
        b = load_base(base)
        with _progress(quiet or json_, N_("Building"), b.config.language) as advance:
            result = build_base(b, full=full, progress=advance)
    if json_:
        print_json(result.to_dict())
    else:
        for message in result.errors:
            error_line(message, b.config.language)
        for message in result.warnings:
            warning_line(message, b.config.language)
        if not quiet or result.failed:
            line = translator(b.config.language).ngettext(
                "{total} interview in {db}: {built} built, {skipped} unchanged, {removed} removed, {failed} with errors",
                "{total} interviews in {db}: {built} built, {skipped} unchanged, {removed} removed, {failed} with errors",
                result.total,
            )
            responses = getattr(result, "responses", 0)
            extra = translator(b.config.language).ngettext(
                "; {n} survey/ticket/chat response", "; {n} survey/ticket/chat responses", responses,
            ).format(n=decimal(responses, b.config.language, 0)) if responses else ""
            out.print(line.format(total=result.total, db=b.db_path.name, built=result.built, skipped=result.skipped,
                                  removed=result.removed, failed=result.failed) + extra, markup=False)
        if not quiet and result.embedded:
            out.print(translator(b.config.language).gettext(
                "Embedded {n} turns and quotes in {s} s (custdev search --similar, suggest, clusters)").format(
                n=decimal(result.embedded, b.config.language, 0), s=decimal(result.embed_s, b.config.language, 1, fixed=True)), markup=False)
    if result.failed:
        raise typer.Exit(1)


def _progress(disabled: bool, label: str, language: str = DEFAULT_LANGUAGE):
    """A context manager yielding a progress(done, total, name) callback that drives a rich progress bar on a
    terminal (None elsewhere), its label (a catalog message) in ``language``."""
    import contextlib

    label = translator(language).gettext(label)

    @contextlib.contextmanager
    def manager():
        if disabled or not err.is_terminal:  # a bar only on a terminal: in a log or a pipe it left an empty line
            yield None
            return
        with Progress(TextColumn(f"{label}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err, transient=True) as bar:
            task = bar.add_task(label, total=None)

            def advance(done: int, total: int, name: str) -> None:
                bar.update(task, completed=done, total=total)

            yield advance

    return manager()


@app.command()
def search(
    query: Annotated[Optional[str], typer.Argument(help=N_('Words to find, in any form: "проблемы с оплатой", invoices. "Phrases", OR, NOT, prefix* work too.'), show_default=False)] = None,
    base: BaseOpt = None,
    segment: Annotated[Optional[str], typer.Option(help=N_("Only interviews in this segment (slug)."))] = None,
    pain: Annotated[Optional[str], typer.Option(help=N_("Only quotes coded with this pain (slug)."))] = None,
    tag: Annotated[Optional[str], typer.Option(help=N_("Only quotes with this tag (or a child tag: billing matches billing/invoices)."))] = None,
    speaker: Annotated[Optional[str], typer.Option(help=N_("Only what the respondent or the interviewer said."))] = None,
    quotes: Annotated[bool, typer.Option("--quotes", help=N_("Search highlighted quotes only."))] = False,
    limit: Annotated[int, typer.Option(help=N_("At most this many hits."))] = 20,
    channel: Annotated[Optional[str], typer.Option(help=N_("Search survey, ticket or chat responses instead of interviews: survey, ticket, chat or all."))] = None,
    similar: Annotated[Optional[str], typer.Option("--similar", help=N_('Find respondent turns (or quotes, with --quotes/--pain/--tag) closest in meaning to this text, in Russian or English: "цена кусается" also finds "too expensive".'), show_default=False)] = None,
    json_: JsonOpt = False,
) -> None:
    """Full-text search over what was said, matching Russian and English word forms; --similar searches by meaning."""
    if similar is not None:
        if query is not None:
            raise fail(N_("give either words to find or --similar TEXT, not both"))
        return _similar(similar, base, segment, pain, tag, speaker, quotes, limit, json_)
    if query is None:
        raise fail(N_('give words to find (custdev search "проблемы с оплатой") or --similar TEXT'))
    if channel is not None:
        _search_channel(query, base, channel, segment, pain, tag, limit, json_)
        return
    from custdev.config import check_slug, load_base
    from custdev.db import open_built
    from custdev.markdown import format_timestamp
    from custdev.search import RANK_WINDOW, count_matches
    from custdev.search import search as run_search

    with errors():
        b = load_base(base)
        db = open_built(b)
        if segment:
            check_slug("segment", segment, b.codebook.segments)
        if pain:
            check_slug("pain", pain, b.codebook.pains)
        hits = run_search(
            db, query, segment=segment, pain=pain, tag=tag, speaker=speaker, quotes_only=quotes, limit=limit,
            before="\x00", after="\x01",
        )
        total = len(hits)
        if hits and len(hits) == limit and not json_:
            total = count_matches(db, query, segment=segment, pain=pain, tag=tag, speaker=speaker, quotes_only=quotes)
    if json_:
        rows = []
        for h in hits:
            d = h.to_dict()
            d["snippet"] = d["snippet"].replace("\x00", "[").replace("\x01", "]")
            rows.append(d)
        print_json(rows)
        return
    tr = translator(b.config.language)
    if not hits:
        out.print(tr.gettext("No matches."), markup=False)
        return
    from rich.markup import escape

    for h in hits:
        ts = format_timestamp(h.start_s) if h.start_s is not None else "--:--:--"
        on, off = ("[bold yellow]", "[/bold yellow]") if out.is_terminal else ("\\[", "]")
        snippet = escape(h.snippet).replace("\x00", on).replace("\x01", off)
        role = tr.gettext(SPEAKER_ROLES[h.speaker_role]) if h.speaker_role in SPEAKER_ROLES else h.speaker_role
        doubt = " [magenta](" + escape(tr.gettext("uncertain words: {words}").format(words=", ".join(h.unsure))) + ")[/magenta]" if h.unsure else ""
        out.print(f"[cyan]{escape(h.interview_id)}[/cyan] [dim]{ts}[/dim] [green]{escape(h.speaker)}[/green] ({escape(role)}): {snippet}{doubt}")
    if total > len(hits):
        line = tr.ngettext("{shown} of {total} match shown; use --limit, more words or filters to see others.",
                           "{shown} of {total} matches shown; use --limit, more words or filters to see others.", total)
        if total > RANK_WINDOW:
            line = tr.ngettext("{shown} of {total} match shown, ranked among {window} of them; use --limit, more words or filters to see others.",
                               "{shown} of {total} matches shown, ranked among {window} of them; use --limit, more words or filters to see others.", total)
        out.print(line.format(shown=len(hits), total=decimal(total, tr.language, 0), window=decimal(RANK_WINDOW, tr.language, 0)),
                  style="dim", markup=False)


def _search_channel(query: str, base, channel: str, segment, pain, tag, limit: int, json_: bool) -> None:
    from rich.markup import escape

    from custdev.channels.read import CHANNEL_NAMES
    from custdev.channels.search import search_responses
    from custdev.config import check_slug, load_base
    from custdev.db import open_built
    from custdev.errors import CustdevError

    with errors():
        if channel not in ("survey", "ticket", "chat", "all"):
            raise CustdevError(N_("unknown channel '{channel}' (use survey, ticket, chat or all)"), channel=channel)
        b = load_base(base)
        db = open_built(b)
        if pain:
            check_slug("pain", pain, b.codebook.pains)
        hits = search_responses(db, query, channel=None if channel == "all" else channel, segment=segment,
                                pain=pain, tag=tag, limit=limit, before="\x00", after="\x01")
    if json_:
        print_json([{**h.to_dict(), "snippet": h.snippet.replace("\x00", "[").replace("\x01", "]")} for h in hits])
        return
    if not hits:
        out.print(translator(b.config.language).gettext("No matches."), markup=False)
        return
    on, off = ("[bold yellow]", "[/bold yellow]") if out.is_terminal else ("\\[", "]")
    tr = translator(b.config.language)
    for h in hits:
        channel_name = tr.gettext(CHANNEL_NAMES.get(h.channel, h.channel))
        where = tr.gettext("{channel} row {row}").format(channel=channel_name, row=h.row) if h.row else channel_name
        extra = ", ".join(x for x in (h.date, h.segment, f"NPS {h.nps}" if h.nps is not None else None) if x)
        snippet = escape(" ".join(h.snippet.split())).replace("\x00", on).replace("\x01", off)
        out.print(f"[cyan]{escape(where)}[/cyan] [dim]{escape(extra)}[/dim] {snippet}")


def _similar(text, base, segment, pain, tag, speaker, quotes, limit, json_) -> None:
    from custdev.config import check_slug, load_base
    from custdev.db import open_built
    from custdev.markdown import format_timestamp
    from custdev.meaning.similar import similar as run_similar

    with errors():
        b = load_base(base)
        db = open_built(b)
        if segment:
            check_slug("segment", segment, b.codebook.segments)
        if pain:
            check_slug("pain", pain, b.codebook.pains)
        from custdev.meaning import store

        store.require_vectors(db, b.config)
        hits = run_similar(db, text, quotes_only=quotes, segment=segment, pain=pain, tag=tag, speaker=speaker, limit=limit)
    if json_:
        print_json([h.to_dict() for h in hits])
        return
    if not hits:
        out.print(translator(b.config.language).gettext("No matches."), markup=False)
        return
    from rich.markup import escape

    tr = translator(b.config.language)
    for h in hits:
        ts = format_timestamp(h.start_s) if h.start_s is not None else "--:--:--"
        text_ = h.text if len(h.text) <= 200 else h.text[:200].rsplit(" ", 1)[0] + "…"
        role = tr.gettext(SPEAKER_ROLES[h.speaker_role]) if h.speaker_role in SPEAKER_ROLES else h.speaker_role
        score = decimal(h.score, b.config.language, 2, fixed=True)
        out.print(f"[cyan]{escape(h.interview_id)}[/cyan] [dim]{ts}[/dim] [green]{escape(h.speaker)}[/green] ({escape(role)}) [dim]{score}[/dim]: {escape(text_)}")
