"""The report as markdown or as one self-contained HTML page, in the sandwich order."""

from __future__ import annotations

import copy
import dataclasses
import html

from custdev import analysis as an
from custdev import charts
from custdev.report.data import QuoteRef, ReportData
from custdev.i18n import decimal, translator
from custdev.report.text import (
    _method, _opp_where, _period, _quoted, _sat_line, _segment_titles, count, status, headline, money_close, money_open, more_line, pct, signed,
    unheard_line, word,
)

# ---------------------------------------------------------------------------------------------------------------
# Charts: drawn by custdev.charts, the one module that draws every SVG of the site and the report


def heatmap_svg(d: ReportData) -> str:
    """Pain × segment: the whole base, then each segment (the site's heatmap, one decimal)."""
    t = translator(d.language)
    columns = [charts.HeatColumn("", t.gettext("All"), d.pains.total_interviews)]
    columns += [charts.HeatColumn(s.segment, s.title, s.interviews) for s in d.segments]
    stats = {p.pain: p for p in d.pains.pains}

    def cell(pain: str, key: str):
        p = stats[pain]
        if not key:
            return p.interviews, p.share, p.verdict, p.more_interviews
        s = p.segments.get(key)
        return (s.interviews, s.share, s.verdict, s.more_interviews) if s else None

    return str(charts.heatmap([(p.pain, p.title) for p in d.pains.pains], columns, cell, t=t, threshold=d.threshold, digits=1))


def saturation_svg(d: ReportData) -> str:
    """Distinct pains heard so far, interview by interview, with the Chao1 estimate of all pains."""
    steps = [charts.SatStep(s.seq, s.interview_id, s.cumulative_pains, len(s.new_pains)) for s in d.saturation.steps]
    return str(charts.saturation_svg(steps, d.saturation.window, d.saturation.saturated, richness=d.richness, t=translator(d.language)))


def cooccurrence_svg(d: ReportData, max_pains: int = 10) -> str:
    """Pain × pain: interviews that mention both, coloured by Jaccard (the most mentioned pains, at most 10)."""
    c = d.cooccurrence
    if c is None or not c.pairs:
        return ""
    pairs = {(p.pain_a, p.pain_b) if p.pain_a < p.pain_b else (p.pain_b, p.pain_a): p for p in c.pairs}
    return str(charts.cooccurrence_svg(c.pains[:max_pains], c.interviews, pairs, t=translator(d.language)))


# ---------------------------------------------------------------------------------------------------------------
# Markdown


_MD_SPECIAL = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "[": "\\[", "]": "\\]", "`": "\\`"})


def md_text(value) -> str:
    """Text from the base (titles, quotes, ids) as markdown that shows it literally: HTML in the data never runs and
    brackets and backticks stay characters (no links, no code)."""
    return str(value).translate(_MD_SPECIAL)


def _escaped(obj):
    """A copy of the report data with every text escaped by :func:`md_text` (dataclasses, lists and dicts deep)."""
    if isinstance(obj, str):
        return md_text(obj)
    if isinstance(obj, list):
        return [_escaped(x) for x in obj]
    if isinstance(obj, tuple):
        return tuple(_escaped(x) for x in obj)
    if isinstance(obj, dict):
        return {_escaped(k): _escaped(v) for k, v in obj.items()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        new = copy.copy(obj)
        for f in dataclasses.fields(obj):
            object.__setattr__(new, f.name, _escaped(getattr(obj, f.name)))
        return new
    return obj


def render_markdown(d: ReportData, *, heatmap_file: str | None = None) -> str:
    d = _escaped(d)
    t = translator(d.language)
    _ = t.gettext
    lang = d.language
    seg_titles = _segment_titles(d)
    o: list[str] = []
    scope = f"{_('Segment')}: {d.segment_title}" if d.segment else _("All interviews")
    o.append(f"# {d.title}")
    o.append("")
    o.append(f"*{_('Customer research report')} · {scope} · {_('Generated')} {d.generated}*")
    o.append("")
    if d.description:
        o += [d.description, ""]
    o.append(
        f"**{count(d.interviews, 'interviews', t)} · {count(d.respondents, 'respondents', t)} · {count(d.segments_count, 'segments', t)} · "
        f"{_('Period')}: {_period(d)} · {_('NPS')} {signed(d.nps.nps, lang)}**"
    )
    o.append("")
    o += [" ".join(headline(d, t) + ([money_open(d, t)] if money_open(d, t) else [])), ""]

    def quote_md(q: QuoteRef) -> list[str]:
        where = f"{q.interview_id}, {q.timestamp}" if q.timestamp else q.interview_id
        segs = ", ".join(seg_titles.get(s, s) for s in q.segments)
        doubt = f" · ⚠ {_('rests on uncertain words')}: {', '.join(_quoted(w, lang) for w in q.unsure)}" if q.unsure else ""
        return [f"> {_quoted(' '.join(q.text.split()), lang)}", f"> — *{where}*" + (f" · {segs}" if segs else "") + doubt, ""]

    o += [f"## 1. {_('What customers value')}", ""]
    if d.value_quotes:
        for q in d.value_quotes:
            o += quote_md(q)
    else:
        o += [_("No quotes are tagged #value yet. Tag what customers praise with #value to fill this section."), ""]
    if d.supported:
        o += [f"**{_('Confirmed by the evidence')}:**", ""]
        for h in d.supported:
            o.append(f"- {h.title} ({_('For').lower()}: {h.interviews_for}, {_('Against').lower()}: {h.interviews_against})")
        o.append("")

    o += [f"## 2. {_('Top pains')}", ""]
    if not d.top_pains:
        o += [_("No pains are coded yet. Code quotes with #pain/<slug> to fill this section."), ""]
    for n, tp in enumerate(d.top_pains, 1):
        p = tp.stat
        o.append(f"### 2.{n}. {p.title} — {pct(p.share, lang)} {_('of interviews')} · {status(p.verdict, t) if p.verdict else ''}")
        o.append("")
        bits = [_("{k} of {n} interviews").format(k=p.interviews, n=p.total_interviews), f"{_('95% CI')} {pct(p.ci_low, lang)}–{pct(p.ci_high, lang)}", count(p.quotes, "quotes", t)]
        if p.stage:
            bits.insert(0, f"{_('Stage')}: {p.stage}")
        if more_line(p.more_interviews, t):
            bits.append(more_line(p.more_interviews, t))
        o += [" · ".join(bits), ""]
        for q in tp.quotes:
            o += quote_md(q)

    o += [f"## 3. {_('Opportunities')}", ""]
    if d.opportunities:
        for op in d.opportunities:
            p = op.pain
            where = _opp_where(op, d, t, seg_titles)
            o.append(f"- **{_('Solve “{pain}”').format(pain=p.title)}** — {where}")
        o.append("")
    else:
        o += [_("No systemic pains yet: keep interviewing before committing to a solution."), ""]
    if d.opportunity_quotes:
        o += [f"**{_('In customers’ words')}:**", ""]
        for q in d.opportunity_quotes:
            o += quote_md(q)
    if d.open_hypotheses:
        o += [f"**{_('Next questions to ask')}:**", ""]
        for h in d.open_hypotheses:
            o.append(f"- {_('{title} ({f} for, {a} against)').format(title=h.title, f=h.interviews_for, a=h.interviews_against)}")
        o.append("")
    if money_close(d, t):
        o += [f"**{money_close(d, t)}**", ""]

    o += [f"## {_('NPS by segment')}", ""]
    o.append(f"| {_('Segment')} | {_('interviews').capitalize()} | {_('Scored')} | {_('Promoters')} | {_('Passives')} | {_('Detractors')} | NPS |")
    o.append("|---|---:|---:|---:|---:|---:|---:|")
    for s in d.segments:
        o.append(f"| {s.title} | {s.interviews} | {s.scored} | {s.promoters} | {s.passives} | {s.detractors} | {signed(s.nps, lang)} |")
    if not d.segment:
        n = d.nps
        o.append(f"| **{_('All')}** | {n.interviews} | {n.scored} | {n.promoters} | {n.passives} | {n.detractors} | **{signed(n.nps, lang)}** |")
    o.append("")

    o += [f"## {_('Pains by segment')}", ""]
    if heatmap_file:
        o += [f"![{_('Pains by segment')}]({heatmap_file})", ""]
    header = [_("Pain"), f"{_('All')} (n={d.pains.total_interviews})"] + [f"{s.title} (n={s.interviews})" for s in d.segments]
    o.append("| " + " | ".join(header) + " |")
    o.append("|---" + "|---:" * (len(header) - 1) + "|")
    for p in d.pains.pains:
        cells = [p.title, f"{pct(p.share, lang)} ({p.interviews})"]
        for s in d.segments:
            ss = p.segments.get(s.segment)
            cells.append("—" if ss is None or ss.share is None else f"{pct(ss.share, lang)} ({ss.interviews})")
        o.append("| " + " | ".join(cells) + " |")
    o += ["", f"*{_('Share of each segment’s interviews that mention the pain. n = interviews in the segment; an empty segment is grey.')}*", ""]
    c = d.cooccurrence
    if c is not None and c.pairs:
        o += [f"## {_('Pains mentioned together')}", "", f"| {_('Pair')} | {_('Together')} | Jaccard |", "|---|---:|---:|"]
        for pr in c.pairs[:10]:
            o.append(f"| {pr.title_a} + {pr.title_b} | {pr.together} | {_j(pr.jaccard, lang)} |")
        o += ["", f"*{_('Each cell: interviews that mention both pains, coloured by Jaccard (together ÷ interviews that mention either).')}*", ""]

    if d.hypotheses:
        o += [f"## {_('Hypotheses')}", ""]
        o.append(f"| {_('Hypothesis')} | {_('For')} | {_('Against')} | {_('Status')} |")
        o.append("|---|---:|---:|---|")
        for h in d.hypotheses:
            state = status(h.status, t) + (f" ({more_line(h.more_interviews, t, 'more_h')})" if h.more_interviews else "")
            o.append(f"| {h.title} | {h.interviews_for} | {h.interviews_against} | {state} |")
        o.append("")

    o += [f"## {_('Saturation')}", "", _sat_line(d, t), "", unheard_line(d, t), ""]
    o += [f"## {_('How to read these numbers')}", ""]
    o += [f"- {line}" for line in _method(d, t)]
    o.append("")
    return "\n".join(o)


# ---------------------------------------------------------------------------------------------------------------
# HTML

_CSS = """
:root { --ink:#111827; --muted:#6b7280; --line:#e5e7eb; --bg:#f8fafc; --accent:#b42318; --accent-soft:#fef3f2;
        --good:#067647; --good-soft:#ecfdf3; --warn:#b54708; --warn-soft:#fffaeb; --blue:#175cd3; --blue-soft:#eff8ff; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink); font:15px/1.55 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 980px; margin: 0 auto; padding: 40px 32px 64px; }
header.top { border-bottom: 1px solid var(--line); padding-bottom: 20px; margin-bottom: 8px; }
.kicker { text-transform: uppercase; letter-spacing: .08em; font-size: 12px; color: var(--muted); font-weight: 600; }
h1 { font-size: 30px; line-height: 1.2; margin: 6px 0 6px; }
.desc { color: #374151; margin: 0; }
.kpis { display:grid; grid-template-columns: repeat(5, 1fr); gap: 12px; margin: 22px 0 8px; }
.kpi { background:#fff; border:1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.kpi .v { font-size: 22px; font-weight: 700; white-space: nowrap; }
.kpi .v.small { font-size: 15px; line-height: 1.9; }
.kpi .l { font-size: 12px; color: var(--muted); }
section { background:#fff; border:1px solid var(--line); border-radius: 12px; padding: 22px 26px; margin-top: 22px; }
h2 { font-size: 20px; margin: 0 0 14px; display:flex; align-items:center; gap:10px; }
h2 .n { display:inline-flex; width:28px; height:28px; border-radius:50%; align-items:center; justify-content:center; font-size:14px; color:#fff; background: var(--ink); }
section.value h2 .n { background: var(--good); } section.pains h2 .n { background: var(--accent); } section.opps h2 .n { background: var(--blue); }
blockquote { margin: 10px 0; padding: 10px 14px; border-left: 3px solid var(--line); background: #fafafa; border-radius: 0 8px 8px 0; }
blockquote p { margin: 0 0 4px; }
blockquote cite { font-style: normal; font-size: 12.5px; color: var(--muted); font-variant-numeric: tabular-nums; }
section.value blockquote { border-left-color: #75e0a7; background: var(--good-soft); }
section.opps blockquote { border-left-color: #84caff; background: var(--blue-soft); }
.quotes-grid { display:grid; grid-template-columns: 1fr 1fr; gap: 0 16px; }
.pain { border-top: 1px solid var(--line); padding: 16px 0 6px; }
.pain:first-of-type { border-top: 0; padding-top: 0; }
.pain h3 { margin: 0 0 4px; font-size: 17px; display:flex; align-items:baseline; gap:10px; flex-wrap: wrap; }
.pain h3 .rank { color: var(--muted); font-weight: 600; }
.pain .meta { color: var(--muted); font-size: 13px; font-variant-numeric: tabular-nums; }
.bar { position: relative; height: 10px; background: #f2f4f7; border-radius: 5px; margin: 8px 0 10px; max-width: 520px; }
.bar .fill { position:absolute; left:0; top:0; bottom:0; background: var(--accent); border-radius: 5px; opacity: .85; }
.bar .ci { position:absolute; top:-3px; height:16px; border-left:2px solid #111827; border-right:2px solid #111827; }
.bar .ci::after { content:""; position:absolute; left:0; right:0; top:7px; border-top: 2px solid #111827; }
.bar .thr { position:absolute; top:-6px; height:22px; border-left: 2px dashed #98a2b3; }
.badge { display:inline-block; font-size: 12px; font-weight: 600; padding: 2px 9px; border-radius: 999px; white-space: nowrap; }
.badge.systemic { color: var(--accent); background: var(--accent-soft); }
.badge.local { color: #475467; background: #f2f4f7; }
.badge.supported { color: var(--good); background: var(--good-soft); }
.badge.refuted { color: var(--accent); background: var(--accent-soft); }
.badge.nee { color: var(--warn); background: var(--warn-soft); }
.share { font-size: 15px; font-weight: 700; color: var(--accent); font-variant-numeric: tabular-nums; }
ul.opps { padding-left: 0; list-style: none; margin: 0 0 8px; }
ul.opps li { padding: 10px 0; border-bottom: 1px solid var(--line); }
ul.opps li:last-child { border-bottom: 0; }
h4 { margin: 16px 0 6px; font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 8px 10px; border-bottom: 1px solid var(--line); text-align: right; font-size: 14px; }
th:first-child, td:first-child { text-align: left; }
th { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 600; }
td.status, th.status { text-align: left; }
tr.total td { font-weight: 700; border-top: 2px solid var(--ink); }
.npsv.pos { color: var(--good); font-weight: 700; } .npsv.neg { color: var(--accent); font-weight: 700; }
.heat { overflow-x: auto; }
.caption { color: var(--muted); font-size: 13px; margin-top: 6px; }
.method li { color: #374151; font-size: 13.5px; margin: 4px 0; }
.muted { color: var(--muted); }
.headline { margin: 10px 0 0; font-size: 15px; }
footer { color: var(--muted); font-size: 12px; margin-top: 28px; text-align: center; }
@media print { body { background: #fff; } section { break-inside: avoid; border: 0; padding: 0; } main { padding: 0; } }
@media (max-width: 760px) { .kpis { grid-template-columns: repeat(2, 1fr); } .quotes-grid { grid-template-columns: 1fr; } }
"""


def render_html(d: ReportData) -> str:
    t = translator(d.language)
    _ = t.gettext
    lang = d.language
    e = html.escape
    seg_titles = _segment_titles(d)
    scope = f"{_('Segment')}: {d.segment_title}" if d.segment else _("All interviews")

    def quote(q: QuoteRef) -> str:
        where = f"{e(q.interview_id)} · {e(q.timestamp)}" if q.timestamp else e(q.interview_id)
        if q.segments:
            where += f' <span class="seg">· {e(", ".join(seg_titles.get(s, s) for s in q.segments))}</span>'
        if q.unsure:
            where += f' <span class="unsure">· ⚠ {e(_("rests on uncertain words"))}: {e(", ".join(_quoted(w, lang) for w in q.unsure))}</span>'
        return f'<blockquote><p>{e(_quoted(" ".join(q.text.split()), lang))}</p><cite>— {where}</cite></blockquote>'

    def badge(kind: str | None) -> str:
        if not kind:
            return ""
        css = "nee" if kind == an.NOT_ENOUGH else kind
        return f'<span class="badge {css}">{e(status(kind, t))}</span>'

    def more_h(hy) -> str:
        line = more_line(hy.more_interviews, t, "more_h")
        return f' <span class="muted">{e(line)}</span>' if line else ""

    def nps_cell(v: float | None, strong: bool = False) -> str:
        css = "pos" if v is not None and v > 0 else "neg" if v is not None and v < 0 else ""
        return f'<td class="npsv {css}">{e(signed(v, lang))}</td>'

    h: list[str] = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(d.title)} — {e(_('Customer research report'))}</title><style>{_CSS}</style></head><body><main>",
        '<header class="top">',
        f'<div class="kicker">{e(_("Customer research report"))} · {e(scope)} · {e(_("Generated"))} {e(d.generated)}</div>',
        f"<h1>{e(d.title)}</h1>",
    ]
    if d.description:
        h.append(f'<p class="desc">{e(d.description)}</p>')
    kpis = [
        (str(d.interviews), word(d.interviews, "interviews", t)),
        (str(d.respondents), word(d.respondents, "respondents", t)),
        (str(d.segments_count), word(d.segments_count, "segments", t)),
        (_period(d), _("Period").lower()),
        (signed(d.nps.nps, lang), f"NPS · {d.nps.scored} {_('Scored').lower()}"),
    ]
    h.append('<div class="kpis">' + "".join(
        f'<div class="kpi"><div class="v{" small" if len(v) > 10 else ""}">{e(v)}</div><div class="l">{e(l)}</div></div>' for v, l in kpis
    ) + "</div>")
    h.append('<p class="headline">' + " ".join(e(x) for x in headline(d, t) + ([money_open(d, t)] if money_open(d, t) else [])) + "</p>")
    h.append("</header>")

    # 1. value
    h.append(f'<section class="value"><h2><span class="n">1</span>{e(_("What customers value"))}</h2>')
    if d.value_quotes:
        h.append('<div class="quotes-grid">' + "".join(quote(q) for q in d.value_quotes) + "</div>")
    else:
        h.append(f'<p class="muted">{e(_("No quotes are tagged #value yet. Tag what customers praise with #value to fill this section."))}</p>')
    if d.supported:
        h.append(f"<h4>{e(_('Confirmed by the evidence'))}</h4><ul>")
        for hy in d.supported:
            h.append(f"<li>{e(hy.title)} {badge(hy.status)} <span class=\"muted\">{e(_('For'))}: {hy.interviews_for} · {e(_('Against'))}: {hy.interviews_against}</span></li>")
        h.append("</ul>")
    h.append("</section>")

    # 2. pains
    h.append(f'<section class="pains"><h2><span class="n">2</span>{e(_("Top pains"))}</h2>')
    if not d.top_pains:
        h.append(f'<p class="muted">{e(_("No pains are coded yet. Code quotes with #pain/<slug> to fill this section."))}</p>')
    else:
        h.append(f'<p class="caption" style="margin-top:-6px">{e(_("Bar: share of interviews that mention the pain; black whisker: its 95% confidence interval; dashed line: the systemic threshold."))}</p>')
    for n, tp in enumerate(d.top_pains, 1):
        p = tp.stat
        share = p.share or 0
        lo, hi = p.ci_low or 0, p.ci_high or 0
        meta = [_("{k} of {n} interviews").format(k=p.interviews, n=p.total_interviews), f"{_('95% CI')} {pct(p.ci_low, lang)}–{pct(p.ci_high, lang)}", count(p.quotes, "quotes", t)]
        if p.stage:
            meta.insert(0, f"{_('Stage')}: {p.stage}")
        if more_line(p.more_interviews, t):
            meta.append(more_line(p.more_interviews, t))
        h.append('<div class="pain">')
        h.append(f'<h3><span class="rank">{n}.</span>{e(p.title)} <span class="share">{pct(p.share, lang)}</span> {badge(p.verdict)}</h3>')
        h.append(f'<div class="meta">{e(" · ".join(meta))}</div>')
        h.append(
            f'<div class="bar" title="{e(pct(p.share, lang))}"><div class="fill" style="width:{share * 100:.2f}%"></div>'
            f'<div class="ci" style="left:{lo * 100:.2f}%;width:{max(0.0, hi - lo) * 100:.2f}%"></div>'
            f'<div class="thr" style="left:{d.threshold * 100:.2f}%" title="{e(_("systemic ≥ {t}").format(t=pct(d.threshold, lang)))}"></div></div>'
        )
        h.append("".join(quote(q) for q in tp.quotes))
        h.append("</div>")
    h.append("</section>")

    # 3. opportunities
    h.append(f'<section class="opps"><h2><span class="n">3</span>{e(_("Opportunities"))}</h2>')
    if d.opportunities:
        h.append('<ul class="opps">')
        for op in d.opportunities:
            p = op.pain
            where = _opp_where(op, d, t, seg_titles)
            h.append(f"<li><strong>{e(_('Solve “{pain}”').format(pain=p.title))}</strong> <span class=\"muted\">— {e(where)}</span></li>")
        h.append("</ul>")
    else:
        h.append(f'<p class="muted">{e(_("No systemic pains yet: keep interviewing before committing to a solution."))}</p>')
    if d.opportunity_quotes:
        h.append(f"<h4>{e(_('In customers’ words'))}</h4>" + '<div class="quotes-grid">' + "".join(quote(q) for q in d.opportunity_quotes) + "</div>")
    if d.open_hypotheses:
        h.append(f"<h4>{e(_('Next questions to ask'))}</h4><ul>")
        for hy in d.open_hypotheses:
            h.append(f"<li>{e(_('{title} ({f} for, {a} against)').format(title=hy.title, f=hy.interviews_for, a=hy.interviews_against))}</li>")
        h.append("</ul>")
    if money_close(d, t):
        h.append(f'<p class="bottom-line"><strong>{e(money_close(d, t))}</strong></p>')
    h.append("</section>")

    # NPS
    h.append(f'<section><h2>{e(_("NPS by segment"))}</h2><table><thead><tr>')
    for col in (_("Segment"), _("interviews"), _("Scored"), _("Promoters"), _("Passives"), _("Detractors"), "NPS"):
        h.append(f"<th>{e(col)}</th>")
    h.append("</tr></thead><tbody>")
    for s in d.segments:
        h.append(f"<tr><td>{e(s.title)}</td><td>{s.interviews}</td><td>{s.scored}</td><td>{s.promoters}</td><td>{s.passives}</td><td>{s.detractors}</td>{nps_cell(s.nps)}</tr>")
    if not d.segment:
        n = d.nps
        h.append(f'<tr class="total"><td>{e(_("All"))}</td><td>{n.interviews}</td><td>{n.scored}</td><td>{n.promoters}</td><td>{n.passives}</td><td>{n.detractors}</td>{nps_cell(n.nps)}</tr>')
    h.append("</tbody></table></section>")

    # heatmap
    h.append(f'<section><h2>{e(_("Pains by segment"))}</h2><div class="heat">{heatmap_svg(d)}</div><p class="caption">{e(_("Share of each segment’s interviews that mention the pain. n = interviews in the segment; an empty segment is grey."))}</p></section>')
    if d.cooccurrence is not None and d.cooccurrence.pairs:
        h.append(f'<section class="cooc"><h2>{e(_("Pains mentioned together"))}</h2><div class="heat">{cooccurrence_svg(d)}</div><p class="caption">{e(_("Each cell: interviews that mention both pains, coloured by Jaccard (together ÷ interviews that mention either)."))}</p></section>')

    # hypotheses
    if d.hypotheses:
        h.append(f'<section><h2>{e(_("Hypotheses"))}</h2><table><thead><tr><th>{e(_("Hypothesis"))}</th><th>{e(_("For"))}</th><th>{e(_("Against"))}</th><th class="status">{e(_("Status"))}</th></tr></thead><tbody>')
        for hy in d.hypotheses:
            h.append(f"<tr><td>{e(hy.title)}</td><td>{hy.interviews_for}</td><td>{hy.interviews_against}</td><td class='status'>{badge(hy.status)}{more_h(hy)}</td></tr>")
        h.append("</tbody></table></section>")

    h.append(f'<section><h2>{e(_("Saturation"))}</h2><p>{e(_sat_line(d, t))}</p><p class="unheard">{e(unheard_line(d, t))}</p>{saturation_svg(d)}'
             f'<p class="caption">{e(_("Distinct pains heard, cumulative, by interview in date order"))}. {e(_("Dashed line: the estimated total (Chao1), band: its 95% interval."))}</p></section>')
    h.append(f'<section class="method"><h2>{e(_("How to read these numbers"))}</h2><ul>' + "".join(f"<li>{e(x)}</li>" for x in _method(d, t)) + "</ul></section>")
    h.append(f"<footer>custdev · {e(d.generated)}</footer></main></body></html>")
    return "\n".join(h)


def _j(x: float, lang: str) -> str:
    return decimal(x, lang, 2, fixed=True)
