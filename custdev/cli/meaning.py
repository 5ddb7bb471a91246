"""Commands that work on meaning: suggest (codes for uncoded turns) and clusters (candidate pains)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from custdev.cli import BaseOpt, JsonOpt, QuietOpt, app, err, error_line, errors, fail, out, print_json
from custdev.i18n import N_, decimal, percent, translator


def _open(base):
    from custdev.config import load_base
    from custdev.db import open_built
    from custdev.meaning import store

    b = load_base(base)
    db = open_built(b)
    store.require_vectors(db, b.config)
    return b, db


@app.command()
def suggest(
    interview: Annotated[Optional[str], typer.Argument(help=N_("Only this interview (its id); default: every interview."), show_default=False)] = None,
    base: BaseOpt = None,
    apply: Annotated[bool, typer.Option("--apply", help=N_("Review each suggestion (accept, reject, skip) and write the accepted codes into the markdown."))] = False,
    min_score: Annotated[float, typer.Option(help=N_("Suggest a pain from this score on (tags need 0.15 more)."))] = 0.35,
    evaluate: Annotated[bool, typer.Option("--evaluate", help=N_("Measure suggestions leave-one-interview-out on the base's coded turns, against a BM25 baseline over the pains' titles and descriptions."))] = False,
    json_: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Suggest pains and tags for uncoded respondent turns, from the codebook and the base's coded quotes."""
    from custdev.meaning import suggest as sg

    with errors():
        b, db = _open(base)
        if evaluate:
            report = sg.evaluate(db)
        else:
            if interview is not None and not db.execute("SELECT 1 FROM interviews WHERE id = ?", [interview]).fetchone():
                from custdev.config import suggest as closest
                from custdev.errors import CustdevError

                ids = [r[0] for r in db.execute("SELECT id FROM interviews")]
                raise CustdevError(N_("unknown interview '{interview}'{hint}"), interview=interview, hint=closest(interview, ids))
            turns = sg.suggest(db, b.root, interview, min_similarity=min_score)
    if evaluate:
        if json_:
            print_json(report)
            return
        e, k = report["embeddings"], report["bm25"]
        tr = translator(b.config.language)
        lang = tr.language
        out.print(tr.gettext("Leave-one-interview-out on {turns} coded respondent turns of {interviews} interviews ({quotes} pain-coded quotes):").format(
            turns=decimal(e["turns"], lang, 0), interviews=decimal(report["interviews"], lang, 0), quotes=decimal(report["coded_quotes"], lang, 0)), markup=False)
        scores = tr.gettext("precision@1 {p1}, recall@3 {r3}, right pain in top 3 {hit3}")
        for label, r in ((tr.gettext("meaning (codebook + coded quotes)"), e), (tr.gettext("BM25 over pain titles/descriptions"), k)):
            out.print(f"  {label}: " + scores.format(p1=percent(r["p_at_1"], lang, 0), r3=percent(r["recall_at_3"], lang, 0), hit3=percent(r["hit_at_3"], lang, 0)), markup=False)
        return
    if json_ and not apply:
        print_json([t.to_dict() for t in turns])
        return
    tr = translator(b.config.language)
    if not turns:
        out.print(tr.gettext("No suggestions: every respondent turn is coded, or none is close enough to a code."), markup=False)
        return
    if not apply:
        _show(turns, tr)
        return
    _review(b, db, turns, quiet)


def _show(turns, tr) -> None:
    from rich.markup import escape

    from custdev.markdown import format_timestamp

    for t in turns:
        ts = format_timestamp(t.start_s) if t.start_s is not None else "--:--:--"
        text = t.text if len(t.text) <= 160 else t.text[:160].rsplit(" ", 1)[0] + "…"
        out.print(f"[cyan]{escape(t.interview_id)}[/cyan] [dim]{ts} {escape(t.path)}:{t.line}[/dim] [green]{escape(t.speaker)}[/green]: {escape(text)}")
        for s in t.suggestions:
            sup = "; ".join(tr.gettext("“{quote}”").format(quote=escape(x.text[:70])) +
                            f" ({escape(x.interview_id)}, {decimal(x.similarity, tr.language, 2, fixed=True)})" for x in s.support)
            like = "  [dim]" + escape(tr.gettext("like {quotes}")).format(quotes=sup) + "[/dim]" if sup else ""
            out.print(f"    [bold]#{escape(s.code)}[/bold] {decimal(s.score, tr.language, 2, fixed=True)}" + like)


def _review(b, db, turns, quiet: bool) -> None:
    """Ask about each suggestion; write accepted codes per interview file, remember rejections, rebuild."""
    import datetime

    from rich.markup import escape

    from custdev.build import build_base
    from custdev.meaning import suggest as sg
    from custdev.meaning.store import text_hash

    tr = translator(b.config.language)
    hashes = {iid: h for iid, h in db.execute("SELECT id, content_hash FROM interviews")}
    accepted: dict[tuple[str, str, int], list[str]] = {}
    rejected: list[dict] = []
    stop = False
    for t in turns:
        if stop:
            break
        _show([t], tr)
        for s in t.suggestions:
            answer = typer.prompt("  " + tr.gettext("#{code}? [a]ccept, [r]eject, [s]kip, [q]uit").format(code=s.code), default="s", show_default=False).strip().lower()[:1]
            if answer == "a":
                accepted.setdefault((t.interview_id, t.path, t.line), []).append(s.code)
            elif answer == "r":
                rejected.append({"text_hash": text_hash(t.text), "code": s.code, "interview": t.interview_id,
                                 "at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")})
            elif answer == "q":
                stop = True
                break
    with errors():
        if rejected:
            sg.remember_rejected(b.root, rejected)
        # Later lines first, so earlier line numbers stay valid; the file hash is checked once per file.
        by_file: dict[str, list[tuple[int, list[str]]]] = {}
        for (iid, path, line), codes in accepted.items():
            by_file.setdefault(path, []).append((line, codes))
        for path, edits in by_file.items():
            iid = next(k[0] for k in accepted if k[1] == path)
            expected = hashes[iid]
            for line, codes in sorted(edits, reverse=True):
                sg.apply_codes(b.root, path, line, codes, expected)
                from custdev.build import file_hash

                expected = file_hash(b.root / path)
        written = sum(len(c) for c in accepted.values())
        if written:
            result = build_base(b)
    if not quiet:
        codes, files = sum(len(c) for c in accepted.values()), len({k[1] for k in accepted})
        out.print(tr.gettext("Codes written: {codes}, files changed: {files}, suggestions rejected: {rejected} (remembered in {path}).").format(
            codes=codes, files=files, rejected=len(rejected), path=sg.REJECTED_FILE), markup=False)
    if accepted and result.failed:
        for m in result.errors:
            error_line(m, b.config.language)
        raise typer.Exit(1)


@app.command()
def clusters(
    base: BaseOpt = None,
    min_interviews: Annotated[int, typer.Option(help=N_("Keep themes that span at least this many interviews."))] = 2,
    limit: Annotated[int, typer.Option(help=N_("Show at most this many themes."))] = 20,
    to_pain: Annotated[Optional[int], typer.Option("--to-pain", help=N_("Add theme N (as numbered by this command) to the codebook as a new pain; needs --slug and --title."), show_default=False)] = None,
    slug: Annotated[Optional[str], typer.Option(help=N_("Slug of the new pain (with --to-pain)."), show_default=False)] = None,
    title: Annotated[Optional[str], typer.Option(help=N_("Title of the new pain (with --to-pain)."), show_default=False)] = None,
    json_: JsonOpt = False,
) -> None:
    """Group uncoded respondent turns into themes (candidate pains), with central quotes and interview span."""
    from custdev.meaning import clusters as cl

    with errors():
        b, db = _open(base)
        if to_pain is not None and not (slug and title):
            raise fail(N_("--to-pain needs --slug and --title for the new pain"))
        result = cl.clusters(db, min_interviews=min_interviews)
        if to_pain is not None:
            theme = next((t for t in result.themes if t.number == to_pain), None)
            if theme is None:
                from custdev.errors import CustdevError

                raise CustdevError(N_("there is no theme {to_pain} (this base has {n}); run 'custdev clusters' to see them"), to_pain=to_pain, n=len(result.themes))
            description = " / ".join(m.text[:120] for m in theme.central[:2])
            cl.add_pain(b.codebook_path, slug, title, translator(b.config.language).gettext(
                "Theme {n} of custdev clusters, e.g.: {description}").format(n=to_pain, description=description))
    if to_pain is not None:
        if json_:
            print_json({"added": slug, "theme": to_pain})
        else:
            out.print(translator(b.config.language).gettext("Added pain '{slug}' ({title}) to {codebook}; code its quotes with #pain/{slug}.").format(
                slug=slug, title=title, codebook=b.codebook_path.name), markup=False)
        return
    if json_:
        print_json(result.to_dict())
        return
    tr = translator(b.config.language)
    if not result.themes:
        out.print(tr.gettext("No themes: too few uncoded respondent turns, or none close enough to each other."), markup=False)
        return
    from rich.markup import escape

    from custdev.markdown import format_timestamp

    note = tr.gettext(" (the newest {n})").format(n=decimal(cl.MAX_TURNS, tr.language, 0)) if result.sampled else ""
    out.print(tr.gettext("Themes: {themes}, among uncoded respondent turns: {turns}{note}:").format(
        themes=len(result.themes), turns=decimal(result.turns, tr.language, 0), note=note), markup=False)
    for t in result.themes[:limit]:
        size = tr.ngettext("{n} turn", "{n} turns", t.size).format(n=t.size)
        span = tr.ngettext("{n} interview", "{n} interviews", t.interviews).format(n=t.interviews)
        out.print(f"[bold]{escape(tr.gettext('Theme {n}').format(n=t.number))}[/bold]: " + escape(tr.gettext("{size} in {interviews}").format(size=size, interviews=span)))
        for m in t.central:
            ts = format_timestamp(m.start_s) if m.start_s is not None else "--:--:--"
            text = m.text if len(m.text) <= 140 else m.text[:140].rsplit(" ", 1)[0] + "…"
            out.print(f"    [cyan]{escape(m.interview_id)}[/cyan] [dim]{ts}[/dim] {escape(text)}")
    out.print("[dim]" + escape(tr.gettext("Make a theme a pain: {command}").format(command="custdev clusters --to-pain N --slug SLUG --title TITLE")) + "[/dim]")
