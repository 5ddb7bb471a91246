"""Commands that hand the base to other tools: export qdpx, export qdc, export quotes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from custdev.cli import BaseOpt, JsonOpt, QuietOpt, app, error_line, errors, out, print_json
from custdev.i18n import N_, NP_, translator

export_app = typer.Typer(
    help=N_("Hand the base to other tools: REFI-QDA projects and codebooks (QualCoder, NVivo, ATLAS.ti, MAXQDA), spreadsheets."),
    no_args_is_help=True,
)
app.add_typer(export_app, name="export")


def _done(result, json_: bool, quiet: bool, line) -> None:
    """JSON, or ``line`` (in the base's language)."""
    if json_:
        print_json(result.to_dict())
    elif not quiet:
        out.print(line, markup=False)


def _counts(tr, *items: tuple[tuple[str, str], int]) -> str:
    return ", ".join(tr.ngettext(one, many, n).format(n=n) for (one, many), n in items)


@export_app.command("qdpx")
def export_qdpx(
    file: Annotated[Path, typer.Argument(help=N_("The project file to write (e.g. research.qdpx); replaced if it exists."), show_default=False)],
    base: BaseOpt = None,
    json_: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Write the base as a REFI-QDA 1.5 project (.qdpx): interviews as text sources, quotes coded with pains, hypotheses and tags, respondents as cases.

    Opens in QualCoder, NVivo, ATLAS.ti and MAXQDA. Reads interviews/*.md directly (no build needed).
    """
    from custdev.config import load_base
    from custdev.interchange.qdpx_export import export_qdpx as run

    with errors():
        b = load_base(base)
        result = run(b, file)
    tr = translator(b.config.language)
    counts = _counts(tr, (NP_("{n} interview", "{n} interviews"), result.interviews), (NP_("{n} coded quote", "{n} coded quotes"), result.quotes),
                     (NP_("{n} code", "{n} codes"), result.codes), (NP_("{n} case", "{n} cases"), result.cases))
    _done(result, json_, quiet, tr.gettext("Wrote {file}: {counts}").format(file=file, counts=counts))


@export_app.command("qdc")
def export_qdc(
    file: Annotated[Path, typer.Argument(help=N_("The codebook file to write (e.g. codebook.qdc); replaced if it exists."), show_default=False)],
    base: BaseOpt = None,
    json_: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Write the codebook alone as a REFI-QDA codebook (.qdc): pains, hypotheses (supports/refutes) and the tags in use."""
    from custdev.config import load_base
    from custdev.interchange.qdpx_export import export_qdc as run

    with errors():
        b = load_base(base)
        result = run(b, file)
    tr = translator(b.config.language)
    _done(result, json_, quiet, tr.gettext("Wrote {file}: {counts}").format(file=file, counts=_counts(tr, (NP_("{n} code", "{n} codes"), result.codes))))


@export_app.command("quotes")
def export_quotes(
    file: Annotated[Path, typer.Argument(help=N_("The spreadsheet to write (quotes.csv or quotes.xlsx); replaced if it exists."), show_default=False)],
    format_: Annotated[Optional[str], typer.Option("--format", "-f", help=N_("csv or xlsx (default: from the file name)."))] = None,
    site_url: Annotated[str, typer.Option(help=N_("Where stakeholders open the research site; each row links to its quote there."))] = "http://127.0.0.1:8001",
    segment: Annotated[Optional[str], typer.Option("--segment", "-s", help=N_("Only quotes from interviews of this segment (slug)."))] = None,
    pain: Annotated[Optional[str], typer.Option(help=N_("Only quotes coded with this pain (slug)."))] = None,
    delimiter: Annotated[Optional[str], typer.Option(help=N_("CSV field separator (default: ';' for a Russian base, as Excel expects there; ',' otherwise)."))] = None,
    build: Annotated[bool, typer.Option("--build/--no-build", help=N_("Bring custdev.db up to date first."))] = True,
    base: BaseOpt = None,
    json_: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Write every quote as a spreadsheet row for stakeholders: interview, date, speaker, time, quote, pains, hypotheses, tags, segments and a link to its page on the site.

    The CSV is UTF-8 with a byte-order mark, so Excel keeps Cyrillic intact.
    """
    from custdev.config import load_base
    from custdev.interchange.quotes import export_quotes as run

    if delimiter is not None and len(delimiter) != 1:
        raise typer.BadParameter(N_("one character, such as ; or ,"), param_hint="--delimiter")
    built = None
    with errors():
        b = load_base(base)
        if build and not b.is_published_copy:  # a published copy has no interview files: exported as it is
            from custdev.build import build_base

            built = build_base(b)
        result = run(b, file, fmt=format_, site_url=site_url, segment=segment, pain=pain, delimiter=delimiter)
    for message in built.errors if built else ():  # a file the build could not read: its quotes are not in the sheet
        error_line(message, b.config.language)
    tr = translator(b.config.language)
    _done(result, json_, quiet, tr.gettext("Wrote {file}: {quotes} ({format})").format(
        file=file, quotes=tr.ngettext("{n} quote", "{n} quotes", result.rows).format(n=result.rows), format=result.format))
    if built is not None and built.failed:
        raise typer.Exit(1)
