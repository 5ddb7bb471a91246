"""Evidence analysis commands: pains, segments, saturation, hypotheses, report."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from custdev.cli import BaseOpt, JsonOpt, app, errors, out, print_json
from custdev.cli.lang import help_text
from custdev.config import ANALYSIS_DEFAULTS
from custdev.i18n import N_, decimal, nps_text, percent, translator

# Words the analysis returns as values, shown translated.
VERDICTS = {"systemic": N_("systemic"), "local": N_("local"), "unclear": N_("unclear")}
STATUSES = {"supported": N_("supported"), "refuted": N_("refuted"), "unclear": N_("unclear"), "not enough evidence": N_("not enough evidence")}

SegmentOpt = Annotated[
    Optional[str],
    typer.Option("--segment", "-s", help=N_("Only the interviews of this segment (codebook slug)."), show_default=False),
]


def _pct(share: float | None, lang: str = "en") -> str:
    """50.0% (50,0% in a Russian base): the one number format (custdev.i18n.percent), one decimal kept."""
    return percent(share, lang, fixed=True)


def _ci(low: float | None, high: float | None, lang: str = "en") -> str:
    if low is None or high is None:
        return "—"
    return f"{decimal(low * 100, lang, fixed=True)}–{percent(high, lang, fixed=True)}"


def _range(mid: float | None, low: float | None, high: float | None, tr, cur: str = "") -> str:
    """6,000 (1,204–7,622), $8.85M ($1.81M–$9.62M); in Russian 6 000 (1 204–7 622), $8,85 млн (…): the report's format."""
    from custdev.report.text import money

    if mid is None:
        return "—"
    return f"{money(mid, tr, tr.language, cur)} ({money(low or 0, tr, tr.language, cur)}–{money(high or 0, tr, tr.language, cur)})"


def _verdict(v: str | None, more: int | None = None, t=None) -> Text:
    t = t or translator("en")
    if v == "systemic":
        return Text(t.gettext(VERDICTS[v]), style="bold red")
    if v == "unclear":
        return Text(t.gettext(VERDICTS[v]) + (f" +{more}" if more and more < 1000 else " +999+" if more else ""), style="yellow")
    return Text(t.gettext(VERDICTS[v]) if v in VERDICTS else (v or "—"), style="dim")


def _table(title: str | None = None) -> Table:
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, title_style="bold")


def _room(columns: int) -> int:
    """The terminal's width less the padding and edges of a :func:`_table` with this many columns (3 characters
    between two columns, 1 at each edge): what their texts may fill."""
    return out.width - (3 * columns - 1)


def _widths(headers, rows) -> list[int]:
    """Each column's widest header or cell, in characters."""
    return [max([len(h)] + [len(row[n]) for row in rows]) for n, h in enumerate(headers)]


@app.command()
def pains(
    base: BaseOpt = None,
    segment: SegmentOpt = None,
    pain: Annotated[Optional[str], typer.Option("--pain", "-p", help=N_("Only this pain, broken down by segment."), show_default=False)] = None,
    json_: JsonOpt = False,
) -> None:
    """How many interviews mention each pain: share, 95% Wilson interval, quotes, and a verdict.

    An interview counts once per pain however often it mentions it. Systemic: the interval's lower bound reaches
    the base's analysis.systemic_threshold (default 30%); local: its upper bound stays below; otherwise unclear,
    with +N the more interviews that would likely settle it if the share held. The same numbers are the
    pain_prevalence and pain_by_segment views.
    """
    from custdev.analysis import analyse_pains
    from custdev.config import load_base
    from custdev.sampling import correct_pains

    with errors():
        b = load_base(base)
        result = analyse_pains(b, segment=segment, pain=pain)
        archive = correct_pains(b, result)  # a sampled base: intervals for the whole archive
    if json_:
        print_json({**result.to_dict(), **({"archive": archive.to_dict()} if archive else {})})
        return
    tr = translator(b.config.language)
    _ = tr.gettext
    if archive is not None:
        out.print((_("Archive estimate: ") if archive.corrected else _("Note: ")) + archive.explain(tr), markup=False)
    scope = _("segment {slug} ({title})").format(slug=result.scope, title=result.scope_title) if result.scope else _("the base")
    if pain is not None:
        p = result.pains[0]
        t = _table(tr.ngettext(
            "{title} ({slug}) in {scope}: {k} of {n} interview, {share}, {verdict}",
            "{title} ({slug}) in {scope}: {k} of {n} interviews, {share}, {verdict}", p.total_interviews,
        ).format(title=p.title, slug=p.pain, scope=scope, k=p.interviews, n=p.total_interviews, share=_pct(p.share, tr.language),
                 verdict=_verdict(p.verdict, p.more_interviews, tr).plain))
        for col, just in ((_("Segment"), "left"), (_("Interviews"), "right"), (_("Share"), "right"), (_("95% CI"), "right"),
                          (_("Quotes"), "right"), (_("Verdict"), "left")):
            t.add_column(col, justify=just)
        for slug, title in result.segments:
            s = p.segments.get(slug)
            if s is None:
                continue
            t.add_row(title, f"{s.interviews}/{s.segment_interviews}", _pct(s.share, tr.language), _ci(s.ci_low, s.ci_high, tr.language), str(s.quotes), _verdict(s.verdict, s.more_interviews, tr))
        out.print(t)
        return
    t = _table(tr.ngettext(
        "Pains in {scope}: {n} interview; systemic when the whole 95% CI is ≥ {threshold}%",
        "Pains in {scope}: {n} interviews; systemic when the whole 95% CI is ≥ {threshold}%", result.total_interviews,
    ).format(scope=scope, n=result.total_interviews, threshold=f"{result.threshold * 100:g}"))
    verdicts = [_verdict(p.verdict, p.more_interviews, tr) for p in result.pains]
    # In a narrow terminal the header "Heard in" and then the slugs wrap; a verdict is never cut ("неясно +3…" read as +3,
    # not +319): Russian headers are wider than English ones, so an 80-column Russian table is where this showed.
    # The header "Heard in" takes two lines before a slug is cut (rich would fold the widest column, the slugs, first).
    rows = [(p.pain, f"{p.interviews}/{p.total_interviews}", _pct(p.share, tr.language), _ci(p.ci_low, p.ci_high, tr.language),
             str(p.quotes)) for p in result.pains]  # the journey stage is in --json and in 'custdev journey'
    headers = [_("Pain"), _("Heard in"), _("Share"), _("95% CI"), _("Quotes"), _("Verdict")]
    widths = _widths(headers[:-1], rows) + [max([len(headers[-1])] + [v.cell_len for v in verdicts])]
    if sum(widths) > _room(6):
        headers[1] = "\n".join(textwrap.wrap(headers[1], max(len(w) for w in headers[1].split())))
    t.add_column(headers[0], overflow="fold")
    t.add_column(headers[1], justify="right")  # "3/4" never wraps
    t.add_column(headers[2], justify="right", no_wrap=True)
    t.add_column(headers[3], justify="right", no_wrap=True)
    t.add_column(headers[4], justify="right", no_wrap=True)
    t.add_column(headers[5], no_wrap=True, min_width=max((v.cell_len for v in verdicts), default=0))
    for row, verdict in zip(rows, verdicts):
        t.add_row(*row, verdict)
    out.print(t)
    out.print(_("Heard in: interviews that mention the pain / interviews considered. Unclear +N: the 95% CI straddles {threshold}%; about N more interviews would settle it if the share held.").format(threshold=f"{result.threshold * 100:g}"), style="dim", markup=False)
    if result.scope is None and result.segments:
        # Share of each segment's interviews, pains in the same order (an interview in two segments counts in both).
        t = _table(_("Share by segment (interviews mentioning / interviews in the segment)"))
        t.add_column(_("Pain"), no_wrap=True)
        for slug, _title in result.segments:
            t.add_column(slug, justify="right", overflow="fold")
        for p in result.pains:
            row = [p.pain]
            for slug, _title in result.segments:
                s = p.segments.get(slug)
                row.append("—" if s is None or s.share is None else f"{_pct(s.share, tr.language)} {s.interviews}/{s.segment_interviews}")
            t.add_row(*row)
        out.print(t)
    money = [(p, p.money[0]) for p in result.pains if p.money and p.interviews > 0]
    if money:
        cur = result.currency
        t = _table(_("At stake (segments with a size or revenue in the codebook): share × size, interval = 95% CI × size"))
        for n, col in enumerate((_("Pain"), _("Accounts affected"), _("Revenue at risk"))):
            t.add_column(col, justify="left" if n == 0 else "right", no_wrap=n != 0)
        for p, m in money:
            t.add_row(p.pain, _range(m.accounts, m.accounts_low, m.accounts_high, tr), _range(m.revenue, m.revenue_low, m.revenue_high, tr, cur))
        out.print(t)


@app.command()
def segments(base: BaseOpt = None, json_: JsonOpt = False) -> None:
    """Per segment: interviews, respondents, NPS (promoters 9-10 minus detractors 0-6) and its top pains."""
    from custdev.analysis import analyse_segments
    from custdev.config import load_base

    with errors():
        b = load_base(base)
        rows, overall = analyse_segments(b)
    if json_:
        print_json({"segments": [r.to_dict() for r in rows], "all": overall.__dict__})
        return
    tr = translator(b.config.language)
    _ = tr.gettext
    t = _table(_("Segments: {interviews}, {respondents}, NPS {nps} ({scored} scored)").format(
        interviews=tr.ngettext("{n} interview", "{n} interviews", overall.interviews).format(n=overall.interviews),
        respondents=tr.ngettext("{n} respondent", "{n} respondents", overall.respondents).format(n=overall.respondents),
        nps=nps_text(overall.nps, tr.language), scored=overall.scored))
    # Numbers and their headers stay whole («Респонденты» is wider than its numbers) and each top pain has a line, its
    # share first. How many interviews have a score is P + N + D (and the title's total): no column of its own, so the
    # table fits 80 columns in Russian too.
    cells = [[f"{r.title} ({r.segment})", str(r.interviews), str(r.respondents), nps_text(r.nps, tr.language),
              f"{r.promoters}/{r.passives}/{r.detractors}",
              "\n".join(f"{_pct(s.share, tr.language)} {s.segment}" for s in r.top_pains) or "—"] for r in rows]
    headers = (_("Interviews"), _("Respondents"), "NPS", _("P/N/D"))
    numbers = list(zip(headers, _widths(headers, [c[1:5] for c in cells])))
    # What the numbers leave of the terminal is shared by the segment's name (it wraps) and the pains (one line each,
    # cut at the end when long): the pains take up to their longest line, leaving the name at least 12.
    left = _room(6) - sum(w for _c, w in numbers)
    longest_pain = max((len(line) for c in cells for line in c[5].splitlines()), default=1)
    pains_w = max(12, min(longest_pain, max(left - 12, left * 11 // 20)))
    t.add_column(_("Segment"), width=max(10, min(left - pains_w, max((len(c[0]) for c in cells), default=10))), overflow="fold")
    for col, w in numbers:
        t.add_column(col, justify="right", no_wrap=True, width=w)
    t.add_column(_("Top pains"), no_wrap=True, overflow="ellipsis", width=pains_w)
    for c in cells:
        t.add_row(*c)
    out.print(t)
    out.print(_("P/N/D: promoters (9-10) / passives (7-8) / detractors (0-6). An interview in two segments counts in both."), style="dim", markup=False)


@app.command()
def saturation(
    base: BaseOpt = None,
    segment: SegmentOpt = None,
    window: Annotated[Optional[int], typer.Option("--window", "-k", min=1, help=help_text(N_("How many last interviews must add no new pain (default: analysis.saturation_window, {n})."), n=ANALYSIS_DEFAULTS["saturation_window"]), show_default=False)] = None,
    all_rows: Annotated[bool, typer.Option("--all", help=N_("List every interview (default: a long list keeps the ones that added a pain, and the last ones)."))] = False,
    json_: JsonOpt = False,
) -> None:
    """Interview by interview in date order: how many new pains each added, whether the last K added none, and how
    many pains are still unheard.

    Unheard: Chao1 (bias-corrected) estimates how many pains exist from those heard in exactly one (f1) and two (f2)
    interviews, with a 95% interval; the chance that the next interview brings a new pain is f1 / interviews
    (Good-Turing). Overall and per segment; the same numbers are the pain_richness view.
    """
    from custdev.analysis import analyse_richness, analyse_saturation
    from custdev.config import load_base

    with errors():
        b = load_base(base)
        s = analyse_saturation(b, segment=segment, window=window)
        rich, _ = analyse_richness(b)
    scoped = next(r for r in rich if r.segment == segment)
    if json_:
        print_json(s.to_dict() | {"richness": scoped.to_dict(), "richness_by_segment": [r.to_dict() for r in rich if r.segment is not None]})
        return
    tr = translator(b.config.language)
    _ = tr.gettext
    title = _("Saturation of segment {slug}: {interviews}, {pains}") if s.segment else _("Saturation of the base: {interviews}, {pains}")
    t = _table(title.format(
        slug=s.segment,
        interviews=tr.ngettext("{n} interview", "{n} interviews", len(s.steps)).format(n=len(s.steps)),
        pains=tr.ngettext("{n} distinct pain", "{n} distinct pains", s.total_pains).format(n=s.total_pains)))
    for col, just in (("#", "right"), (_("Interview"), "left"), (_("Date"), "left"), (_("Pains"), "right"), (_("New"), "right"),
                      (_("Total"), "right"), (_("New pains"), "left")):
        t.add_column(col, justify=just)
    shown = s.steps
    if not all_rows and len(s.steps) > 40:
        # Keep what tells the story: the interviews that added a pain, and the last window + 5.
        tail = max(s.window + 5, 10)
        keep = {st.seq for st in s.steps if st.new_pains} | {st.seq for st in s.steps[-tail:]}
        shown = [st for st in s.steps if st.seq in keep]
    previous = 0
    for st in shown:
        if st.seq > previous + 1:
            skipped = st.seq - previous - 1
            t.add_row("…", Text(tr.ngettext("{n} interview with no new pain (--all lists them)",
                                            "{n} interviews with no new pain (--all lists them)", skipped).format(n=skipped), style="dim"),
                      "", "", "", "", "")
        previous = st.seq
        t.add_row(str(st.seq), st.interview_id, (st.date or "—") + (" " + _("(file date)") if st.file_date else ""), str(st.pains), str(len(st.new_pains)) if st.new_pains else Text("0", style="dim"),
                  str(st.cumulative_pains), ", ".join(st.new_pains))
    out.print(t)
    verdict = _("Saturated: {reason}.") if s.saturated else _("Not saturated: {reason}.")
    out.print(Text(verdict.format(reason=s.explain(tr)), style="bold green" if s.saturated else "bold yellow"))
    if s.file_date_note(tr):
        out.print(Text(s.file_date_note(tr), style="yellow"))
    out.print(richness_line(scoped, tr), markup=False)
    if segment is None and len(rich) > 1:
        t = _table(_("Unheard pains by segment"))
        rows = [(r.segment or _("all"), str(r.interviews), str(r.observed), str(r.singletons), str(r.doubletons),
                 _num(r.chao1, tr.language), "—" if r.chao1_low is None else f"{r.chao1_low}–{r.chao1_high}",
                 _pct(r.new_pain_chance, tr.language)) for r in rich]
        headers = (_("Scope"), _("Interviews"), _("Heard"), "f1", "f2", "Chao1", _("95% CI"), _("New pain next"))
        # Figures and headers stay whole and the slugs too where the terminal allows: the last header («Новая боль в
        # следующем» is wider than its figures) takes two lines first.
        widths = _widths(headers, rows)
        space = _room(8) - sum(widths[1:-1])  # for the scope and the last column
        figures = max(len(row[-1]) for row in rows)
        words = max(len(w) for w in headers[-1].split())
        # One line, two, or a word a line: the first that leaves the scope whole, else the narrowest.
        shapes = [textwrap.wrap(headers[-1], w) for w in (len(headers[-1]), max(words, (len(headers[-1]) + 1) // 2), words)]
        last = next((lines for lines in shapes if widths[0] + max(figures, *map(len, lines)) <= space), shapes[-1])
        last_w = max(figures, *map(len, last))
        t.add_column(headers[0], width=max(len(headers[0]), min(widths[0], space - last_w)), overflow="fold")
        for n, col in enumerate(headers[1:-1], start=1):
            t.add_column(col, justify="right", no_wrap=True, width=widths[n])
        t.add_column("\n".join(last), justify="right", no_wrap=True, width=last_w)
        for row in rows:
            t.add_row(*row)
        out.print(t)


def _num(x: float | None, lang: str = "en") -> str:
    return "—" if x is None else decimal(x, lang, fixed=True)


def richness_line(r, tr=None) -> str:
    tr = tr or translator("en")
    _ = tr.gettext
    if not r.observed:
        return _("Unheard pains: no pains are coded yet, so nothing can be estimated.")
    return _("Unheard pains: about {chao1} pains exist (Chao1, 95% CI {low}–{high}); {observed} heard, so about {unheard} not heard yet. "
             "Chance the next interview brings a new pain: {chance} (f1 = {f1} heard once, f2 = {f2} twice, in {n} interviews).").format(
        chao1=_num(r.chao1, tr.language), low=r.chao1_low, high=r.chao1_high, observed=r.observed, unheard=_num(r.unheard, tr.language),
        chance=_pct(r.new_pain_chance, tr.language), f1=r.singletons, f2=r.doubletons, n=r.interviews)


@app.command()
def hypotheses(base: BaseOpt = None, json_: JsonOpt = False) -> None:
    """CustDev hypotheses: interviews with quotes for (#h/slug) and against (#h/slug/against), and a status.

    Evidence = interviews for + against. Supported: at least 3 interviews for (analysis.hypothesis_min_interviews)
    and the 95% Wilson interval of for / evidence above 50%. Refuted: the same the other way round. Otherwise
    unclear, with +N the more interviews with evidence that would likely settle it if the split held.
    """
    from custdev.analysis import analyse_hypotheses
    from custdev.config import load_base

    with errors():
        b = load_base(base)
        rows = analyse_hypotheses(b)
    if json_:
        print_json([h.to_dict() for h in rows])
        return
    tr = translator(b.config.language)
    _ = tr.gettext
    if not rows:
        out.print(_("The codebook lists no hypotheses; add them under 'hypotheses:' in codebook.yml and tag quotes #h/<slug>."), markup=False)
        return
    t = _table(_("Hypotheses"))
    t.add_column(_("Hypothesis"), ratio=1)
    for col in (_("For"), _("Against"), _("Share for (95% CI)")):
        t.add_column(col, justify="right", no_wrap=True)
    t.add_column(_("Status"), no_wrap=True)
    style = {"supported": "bold green", "refuted": "bold red"}
    for h in rows:
        status = _(STATUSES.get(h.status, h.status)) + (f" +{h.more_interviews}" if h.more_interviews else "")
        share = "—" if h.support_share is None else f"{_pct(h.support_share, tr.language)} ({_ci(h.ci_low, h.ci_high, tr.language)})"
        t.add_row(f"{h.title} ({h.hypothesis})", str(h.interviews_for), str(h.interviews_against), share,
                  Text(status, style=style.get(h.status, "yellow")))
    out.print(t)
    out.print(_("For/Against count interviews (quotes in --json). Supported: >= {m} for and the 95% CI of the share for above 50%; refuted: the reverse;"
                " unclear +N: about N more interviews with evidence would settle it if the split held.").format(m=b.config.hypothesis_min_interviews),
              style="dim", markup=False)


@app.command()
def report(
    base: BaseOpt = None,
    out_path: Annotated[Optional[Path], typer.Option("--out", "-o", help=N_("Write the report here (default: print it). A .html name implies --format html."), show_default=False)] = None,
    fmt: Annotated[Optional[str], typer.Option("--format", "-f", help=N_("md or html (default: from --out's suffix, else md)."), show_default=False)] = None,
    segment: SegmentOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Stakeholder report: what customers value, top pains with quotes, opportunities, NPS, pain x segment heatmap.

    Labels follow the base's language (en/ru). A markdown report written to a file gets its heatmap as
    <name>-heatmap.svg next to it; the HTML report is one self-contained file.
    """
    from custdev.config import load_base
    from custdev.report import make_report

    with errors():
        b = load_base(base)
        result = make_report(b, fmt=fmt, out=out_path, segment=segment)
    if json_:
        print_json(result.to_dict())
    elif result.path is None:
        import sys

        sys.stdout.write(result.text or "")
        sys.stdout.flush()
    else:
        tr = translator(b.config.language)
        interviews = tr.ngettext("{n} interview", "{n} interviews", result.interviews).format(n=result.interviews)
        if result.heatmap_path:
            line = tr.gettext("Wrote {path} and {heatmap} ({format}, {interviews}).")
        else:
            line = tr.gettext("Wrote {path} ({format}, {interviews}).")
        out.print(line.format(path=result.path, heatmap=Path(result.heatmap_path or "").name, format=result.format,
                              interviews=interviews), markup=False)
