"""Evidence commands beyond prevalence: co-occurrence, the interview × code matrix, coder agreement, journey."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from custdev.cli import BaseOpt, JsonOpt, app, errors, out, print_json
from custdev.cli.analysis import _pct, _table, _verdict
from custdev.i18n import N_, decimal, translator


@app.command()
def cooccurrence(
    base: BaseOpt = None,
    top: Annotated[int, typer.Option("--top", "-n", min=1, help=N_("How many pairs to list (most often together first)."))] = 20,
    json_: JsonOpt = False,
) -> None:
    """Which pains are mentioned in the same interviews: pairs with how often together and their Jaccard index.

    Together = interviews that mention both pains; Jaccard = together / interviews that mention either (0..1).
    The same numbers are the pain_cooccurrence view; the report and the site draw them as a heatmap.
    """
    from custdev.analysis import analyse_cooccurrence
    from custdev.config import load_base

    with errors():
        b = load_base(base)
        c = analyse_cooccurrence(b)
    if json_:
        print_json(c.to_dict())
        return
    tr = translator(b.config.language)
    _ = tr.gettext
    if not c.pairs:
        out.print(_("No two pains are mentioned in the same interview yet."), markup=False)
        return
    t = _table(tr.ngettext("Pains mentioned together: {n} pair", "Pains mentioned together: {n} pairs", len(c.pairs)).format(n=len(c.pairs)))
    for col, just in ((_("Pain"), "left"), (_("With"), "left"), (_("Together"), "right"), ("Jaccard", "right")):
        t.add_column(col, justify=just)
    for p in c.pairs[:top]:
        t.add_row(p.pain_a, p.pain_b, f"{p.together} ({p.interviews_a}, {p.interviews_b})", decimal(p.jaccard, tr.language, 2, fixed=True))
    out.print(t)
    out.print(_("Together: interviews mentioning both (and each one's interviews). Jaccard: together / interviews mentioning either."), style="dim", markup=False)


@app.command()
def matrix(
    base: BaseOpt = None,
    out_path: Annotated[Optional[Path], typer.Option("--out", "-o", help=N_("Write it here (default: CSV on stdout). A .xlsx name implies --format xlsx."), show_default=False)] = None,
    fmt: Annotated[Optional[str], typer.Option("--format", "-f", help=N_("csv or xlsx (default: from --out's suffix, else csv)."), show_default=False)] = None,
    json_: JsonOpt = False,
) -> None:
    """Interview x code matrix (0/1) for mixed-methods work, with segment, NPS and respondent columns.

    One row per interview (date order); columns interview, date, respondent, company, segments (joined by ;),
    nps, then pain/<slug>, h/<slug>, h/<slug>/against and tag/<name>: 1 when any quote of the interview carries it.
    """
    from custdev.config import load_base
    from custdev.matrix import export_matrix

    with errors():
        b = load_base(base)
        result = export_matrix(b, out=out_path, fmt=fmt)
    if json_:
        print_json(result.to_dict())
    elif result.path is None:
        import sys

        sys.stdout.write(result.text or "")
        sys.stdout.flush()
    else:
        from custdev.i18n import translator

        tr = translator(b.config.language)
        out.print(tr.gettext("Wrote {path} ({format}, {interviews} × {codes}).").format(
            path=result.path, format=result.format,
            interviews=tr.ngettext("{n} interview", "{n} interviews", result.interviews).format(n=result.interviews),
            codes=tr.ngettext("{n} code", "{n} codes", result.codes).format(n=result.codes)), markup=False)


def _stat(x: float | None, lang: str = "en") -> str:
    return "—" if x is None else decimal(x, lang, 3, fixed=True)


@app.command()
def agreement(
    a: Annotated[Path, typer.Argument(help=N_("Coder A's copy: a folder of interview files (or one file)."), show_default=False)],
    b: Annotated[Path, typer.Argument(help=N_("Coder B's copy of the same transcripts (e.g. review/anna/)."), show_default=False)],
    base: BaseOpt = None,
    include_uncoded: Annotated[bool, typer.Option("--include-uncoded", help=N_("Also count paragraphs neither coder coded (inflates agreement)."))] = False,
    limit: Annotated[int, typer.Option("--limit", min=0, help=N_("How many disagreements to list (all in --json)."))] = 30,
    json_: JsonOpt = False,
) -> None:
    """Coder agreement per code and overall: Cohen's kappa and Krippendorff's alpha at the paragraph level.

    Unit: a paragraph = one speaker turn, matched by position in interviews with the same id in A and B. A
    coder applies a code to a paragraph when any highlight in it carries the code. Paragraphs neither coder
    coded are left out (they would count as agreement and inflate every code), unless --include-uncoded.
    Lists the disagreements with their text. Slugs are checked against the base's codebook.
    """
    from custdev.agreement import compare
    from custdev.config import load_base

    with errors():
        b_ = load_base(base)
        r = compare(a, b, codebook=b_.codebook, include_uncoded=include_uncoded, db_path=b_.db_path)
    if json_:
        print_json(r.to_dict())
        return
    tr = translator(b_.config.language)
    _ = tr.gettext
    lang = tr.language
    skipped = "".join(_("; only in {which}: {ids}").format(which=w, ids=", ".join(ids)) for w, ids in (("A", r.only_in_a), ("B", r.only_in_b)) if ids)
    uncoded = _("every paragraph") if r.include_uncoded else _("paragraphs at least one coder coded")
    t = _table(_("Agreement of A ({a}) and B ({b}): {n} interviews, {units} of {paragraphs} paragraphs ({uncoded}){skipped}").format(
        a=r.a, b=r.b, n=len(r.interviews), units=r.units, paragraphs=r.paragraphs, uncoded=uncoded, skipped=skipped))
    for col, just in ((_("Code"), "left"), ("A", "right"), ("B", "right"), (_("Both"), "right"), (_("Agree"), "right"), ("Kappa", "right"), ("Alpha", "right")):
        t.add_column(col, justify=just)
    for c in [*r.codes, r.overall]:
        t.add_row(_("all codes") if c is r.overall else c.code, str(c.applied_a), str(c.applied_b), str(c.both), _pct(c.agreement, lang),
                  _stat(c.kappa, lang), _stat(c.alpha, lang), style="bold" if c is r.overall else None)
    out.print(t)
    out.print(_("Unit: paragraph (one speaker turn). A/B: paragraphs each coder gave the code; Kappa: Cohen's; Alpha: Krippendorff's, nominal;"
                " — where undefined (a code nobody varies on)."), style="dim", markup=False)
    if r.disagreements:
        d = _table(_("Disagreements ({n})").format(n=len(r.disagreements)))
        for col in (_("Interview"), "¶", _("Time"), _("Code"), _("Only"), _("Text")):
            d.add_column(col, overflow="fold")
        for x in r.disagreements[:limit]:
            text = x.text if len(x.text) <= 160 else x.text[:159] + "…"
            d.add_row(x.interview, str(x.paragraph), x.timestamp, x.code, x.coded_by, text)
        out.print(d)
        if len(r.disagreements) > limit:
            out.print(_("… {n} more (--limit, or --json for all).").format(n=len(r.disagreements) - limit), style="dim", markup=False)


@app.command()
def journey(
    base: BaseOpt = None,
    segment: Annotated[Optional[str], typer.Option("--segment", "-s", help=N_("Show only this segment next to the whole base."), show_default=False)] = None,
    json_: JsonOpt = False,
) -> None:
    """Journey map: the codebook's stages in order, each with its pains (share, verdict) and touchpoint score.

    Stages come from 'stages:' in codebook.yml, a pain's stage from its 'stage:', touchpoint scores from an
    interview's 'nps_by_stage: {stage: 0-10}'. Columns: the whole base and each segment. Score: mean (n scored,
    NPS over those scores). The same numbers are the journey and stage_scores views.
    """
    from custdev.analysis import analyse_journey, check_known, open_analysis_db
    from custdev.config import load_base

    with errors():
        b = load_base(base)
        if segment is not None:
            db = open_analysis_db(b)
            try:
                check_known(db, "segment", segment, b)
            finally:
                db.close()
        j = analyse_journey(b)
    if json_:
        print_json(j.to_dict())
        return
    tr = translator(b.config.language)
    _ = tr.gettext
    if not j.stages:
        out.print(_("No journey stages yet: list them under 'stages:' in codebook.yml and give each pain a 'stage:'."), markup=False)
        return
    cols = [("", _("all"))] + [(s, s) for s, _t in j.segments if segment is None or s == segment]
    t = _table(_("Journey map: pains by stage (share, verdict) and touchpoint scores"))
    t.add_column(_("Stage / pain"), overflow="fold")
    for _k, label in cols:
        t.add_column(label, justify="right", overflow="fold")
    for st in j.stages:
        row = [f"{st.position or '–'}. {st.title}"]
        for k, _label in cols:
            sc = st.scores.get(k)
            row.append("—" if sc is None else _("score {score} (n={n}, NPS {nps})").format(
                score=decimal(sc.mean_score, tr.language, 2), n=sc.scored, nps=("+" if sc.nps >= 0 else "") + decimal(sc.nps, tr.language, 2)))
        t.add_row(*row, style="bold")
        for p in st.pains:
            cells = [f"  {p.pain}"]
            for k, _label in cols:
                c = p.cells.get(k)
                cells.append("—" if c is None or c.share is None else f"{_pct(c.share, tr.language)} {c.interviews}/{c.scope_interviews} {_verdict(c.verdict, c.more_interviews, tr).plain}")
            t.add_row(*cells)
    out.print(t)
    out.print(_("Score: mean touchpoint score 0-10 (interviews scored, NPS over those scores). Verdicts as in 'custdev pains'."), style="dim", markup=False)
