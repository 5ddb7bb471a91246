"""The stakeholder report: markdown or a self-contained HTML page, in the "sandwich" order.

1. **What customers value** – quotes tagged ``#value`` (or ``#value/…``, ``#ценность``), at most 6, one per
   interview; then the hypotheses the evidence supports.
2. **Top pains** – every systemic pain (share ≥ ``analysis.systemic_threshold``), topped up with the most common
   local pains to at least 3 and capped at 8; each with its prevalence, 95% Wilson interval, journey stage and 2–3
   verbatim quotes with interview id and timestamp.
3. **Opportunities** – for each systemic pain, the segment where it is most common (where solving it pays first);
   quotes tagged ``#opportunity``, ``#idea``, ``#wish`` or ``#feature-request`` (and children, ``#возможность``,
   ``#идея``); hypotheses still lacking evidence, as the next questions to ask.

Then NPS by segment, a pain × segment heatmap (an SVG drawn here, embedded in the HTML, written next to a
markdown file), hypotheses, saturation and how to read the numbers. Labels follow ``base.language`` (en/ru).

Quote choice (deterministic): quotes from different interviews; respondent turns before interviewer turns; quotes of
40–300 characters before shorter or longer ones; the most recent interviews first; then file order.
Every figure comes from the analysis views, so the report, the CLI and Datasette agree.
"""

from __future__ import annotations

import datetime as _dt
import html
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from custdev import analysis as an
from custdev import charts
from custdev.config import Base, atomic_write_text
from custdev.errors import CustdevError
from custdev.i18n import N_, NP_, Translator, translator
from custdev.markdown import format_timestamp
from custdev.search import tag_condition

VALUE_TAGS = ("value", "ценность")
OPPORTUNITY_TAGS = ("opportunity", "idea", "wish", "feature-request", "возможность", "идея")
MAX_VALUE_QUOTES = 6
MAX_OPPORTUNITY_QUOTES = 6
MIN_TOP_PAINS, MAX_TOP_PAINS = 3, 8
QUOTES_PER_PAIN = 3
FORMATS = ("md", "html")

LABELS: dict[str, str] = {
    "kind": N_("Customer research report"),
    "generated": N_("Generated"),
    "scope_all": N_("All interviews"),
    "scope_segment": N_("Segment"),
    "interviews": N_("interviews"),
    "respondents": N_("respondents"),
    "segments": N_("segments"),
    "period": N_("Period"),
    "nps": N_("NPS"),
    "value": N_("What customers value"),
    "value_none": N_("No quotes are tagged #value yet. Tag what customers praise with #value to fill this section."),
    "value_confirmed": N_("Confirmed by the evidence"),
    "pains": N_("Top pains"),
    "pains_none": N_("No pains are coded yet. Code quotes with #pain/<slug> to fill this section."),
    "bar_help": N_("Bar: share of interviews that mention the pain; black whisker: its 95% confidence interval; dashed line: the systemic threshold."),
    "sat_chart": N_("Distinct pains heard, cumulative, by interview in date order"),
    "of_interviews": N_("of interviews"),
    "interviews_of": N_("{k} of {n} interviews"),
    "ci": N_("95% CI"),
    "stage": N_("Stage"),
    "quotes": N_("quotes"),
    "systemic": N_("systemic"),
    "local": N_("local"),
    "opportunities": N_("Opportunities"),
    "opp_solve": N_("Solve “{pain}”"),
    "opp_where": N_("most common among {segments}: {share}"),
    "and": N_("and"),
    "of": N_("of"),
    "opp_everywhere": N_("{share} of all interviews"),
    "opp_words": N_("In customers’ words"),
    "opp_next": N_("Next questions to ask"),
    "opp_next_item": N_("{title} ({f} for, {a} against)"),
    "opp_none": N_("No systemic pains yet: keep interviewing before committing to a solution."),
    "nps_by_segment": N_("NPS by segment"),
    "segment": N_("Segment"),
    "scored": N_("Scored"),
    "promoters": N_("Promoters"),
    "passives": N_("Passives"),
    "detractors": N_("Detractors"),
    "all": N_("All"),
    "heatmap": N_("Pains by segment"),
    "heatmap_caption": N_("Share of each segment’s interviews that mention the pain. n = interviews in the segment; an empty segment is grey."),
    "pain": N_("Pain"),
    "hypotheses": N_("Hypotheses"),
    "hypothesis": N_("Hypothesis"),
    "for": N_("For"),
    "against": N_("Against"),
    "status": N_("Status"),
    "supported": N_("supported"),
    "refuted": N_("refuted"),
    "not enough evidence": N_("not enough evidence"),
    "saturation": N_("Saturation"),
    "saturated_yes": N_("Saturated: the last {k} interviews added no new pain ({total} pains in {n} interviews)."),
    "saturated_no": N_("Not saturated yet: {reason}."),
    "method": N_("How to read these numbers"),
    "m_share": N_("Share: interviews that mention a pain at least once ÷ interviews considered. A pain mentioned several times in one interview counts once; an interview in two segments counts in both."),
    "m_ci": N_("95% CI: Wilson score interval for the share; with few interviews it is wide."),
    "m_verdict": N_("Systemic: share ≥ {threshold}; otherwise local (setting analysis.systemic_threshold)."),
    "m_nps": N_("NPS = % promoters (9–10) − % detractors (0–6), over interviews with a score."),
    "m_hyp": N_("Hypotheses: supported with ≥ {m} interviews for and at least twice as many for as against; refuted the other way round; otherwise not enough evidence."),
    "m_sat": N_("Saturation: the last {k} interviews in date order added no pain not heard before."),
    "m_quotes": N_("Quotes: verbatim, from different interviews, respondents first; each with interview id and timestamp."),
    "m_source": N_("Every figure is reproducible from the base’s database (views pain_prevalence, pain_by_segment, nps_by_segment, saturation, hypothesis_evidence)."),
    "threshold": N_("systemic ≥ {t}"),
}

# Plural nouns counted in the report: PLURALS[key] is shown with translator.plural(pair, n).
PLURALS: dict[str, tuple[str, str]] = {
    "interviews": NP_("interview", "interviews"),
    "respondents": NP_("respondent", "respondents"),
    "segments": NP_("segment", "segments"),
    "quotes": NP_("quote", "quotes"),
}


# ---------------------------------------------------------------------------------------------------------------
# Data


@dataclass
class QuoteRef:
    id: int
    interview_id: str
    start_s: float | None
    text: str
    date: str | None = None
    segments: list[str] = field(default_factory=list)  # segment slugs of the interview

    @property
    def timestamp(self) -> str:
        return format_timestamp(self.start_s) if self.start_s is not None else ""


@dataclass
class TopPain:
    stat: an.PainStat
    quotes: list[QuoteRef]


@dataclass
class Opportunity:
    pain: an.PainStat
    where: list[an.SegmentShare]  # the segment(s) where the pain is most common (ties all listed; empty: none)


@dataclass
class ReportData:
    title: str
    description: str
    language: str
    generated: str
    segment: str | None
    segment_title: str | None
    interviews: int
    respondents: int
    segments_count: int
    quotes: int
    date_from: str | None
    date_to: str | None
    nps: an.NpsStat
    threshold: float
    hypothesis_min: int
    value_quotes: list[QuoteRef]
    supported: list[an.HypothesisStat]
    top_pains: list[TopPain]
    opportunities: list[Opportunity]
    opportunity_quotes: list[QuoteRef]
    open_hypotheses: list[an.HypothesisStat]
    pains: an.PainsResult  # whole-base prevalence, with per-segment shares (heatmap rows)
    segments: list[an.SegmentSummary]
    hypotheses: list[an.HypothesisStat]
    saturation: an.Saturation
    extra: dict = field(default_factory=dict)


_ORDER = (
    "ORDER BY (u.speaker_role = 'respondent') DESC, (length(q.text) BETWEEN 40 AND 300) DESC, "
    "i.date IS NULL, i.date DESC, q.interview_id, q.seq, q.id"
)


def _scope_sql(segment: str | None) -> tuple[str, list]:
    if segment is None:
        return "", []
    return " AND q.interview_id IN (SELECT interview_id FROM interview_segments WHERE segment = ?)", [segment]


def _pick(rows, limit: int, used: set[int] | None = None) -> list[QuoteRef]:
    """First quote per interview in the rows' (already ranked) order, up to ``limit``; quotes already shown elsewhere
    in the report (``used``) only when nothing else is left. The picks are added to ``used``."""
    used = used if used is not None else set()
    picked: list[QuoteRef] = []
    seen: set[str] = set()
    for fresh_only in (True, False):
        for qid, iid, start, text, date in rows:
            if len(picked) >= limit:
                break
            if iid in seen or (fresh_only and qid in used):
                continue
            seen.add(iid)
            picked.append(QuoteRef(qid, iid, start, text, date))
    rank = {row[0]: n for n, row in enumerate(rows)}
    picked.sort(key=lambda q: (q.id in used, rank[q.id]))
    used.update(q.id for q in picked)
    return picked


def _with_segments(db: Database, quotes: list[QuoteRef]) -> list[QuoteRef]:
    ids = sorted({q.interview_id for q in quotes})
    if ids:
        marks = ",".join("?" * len(ids))
        segs: dict[str, list[str]] = {}
        for iid, seg in db.execute(
            f"SELECT x.interview_id, x.segment FROM interview_segments AS x JOIN segments AS s ON s.slug = x.segment "
            f"WHERE x.interview_id IN ({marks}) ORDER BY s.rowid",
            ids,
        ):
            segs.setdefault(iid, []).append(seg)
        for q in quotes:
            q.segments = segs.get(q.interview_id, [])
    return quotes


def pain_quotes(db: Database, pain: str, *, segment: str | None = None, limit: int = QUOTES_PER_PAIN, used: set[int] | None = None) -> list[QuoteRef]:
    where, params = _scope_sql(segment)
    rows = db.execute(
        "SELECT q.id, q.interview_id, q.start_s, q.text, i.date FROM quote_pains AS qp "
        "JOIN quotes AS q ON q.id = qp.quote_id JOIN interviews AS i ON i.id = q.interview_id "
        "JOIN utterances AS u ON u.id = q.utterance_id "
        f"WHERE qp.pain = ?{where} {_ORDER} LIMIT 500",
        [pain, *params],
    ).fetchall()
    return _with_segments(db, _pick(rows, limit, used))


def tagged_quotes(db: Database, roots: tuple[str, ...], *, segment: str | None = None, limit: int, used: set[int] | None = None) -> list[QuoteRef]:
    """Quotes tagged with any of ``roots`` or a child tag (``value`` matches ``value/price``)."""
    tag_sql = " OR ".join(tag_condition("qt.tag") for _ in roots)
    tag_params = [r for r in roots for _ in range(3)]
    where, params = _scope_sql(segment)
    rows = db.execute(
        "SELECT q.id, q.interview_id, q.start_s, q.text, i.date FROM quotes AS q "
        "JOIN interviews AS i ON i.id = q.interview_id JOIN utterances AS u ON u.id = q.utterance_id "
        f"WHERE q.id IN (SELECT qt.quote_id FROM quote_tags AS qt WHERE {tag_sql}){where} {_ORDER} LIMIT 500",
        [*tag_params, *params],
    ).fetchall()
    return _with_segments(db, _pick(rows, limit, used))


def collect(base: Base, *, segment: str | None = None, generated: str | None = None) -> ReportData:
    """Gather every figure and quote of the report (no formatting)."""
    db = an.open_analysis_db(base)
    try:
        an.require_interviews(db)
        threshold = base.config.systemic_threshold
        shares = an.segment_shares(db, threshold)  # the pain_by_segment view, read once
        overall = an.pain_prevalence(db, threshold, by_segment=shares)
        scoped = an.pain_prevalence(db, threshold, segment=segment, by_segment=shares) if segment else overall
        segments = an.segments_summary(db, threshold, by_segment=shares)
        hyps = an.hypotheses(db)
        sat = an.saturation(db, base.config.saturation_window, segment=segment)

        if segment:
            ids_sql, ids_params = "WHERE id IN (SELECT interview_id FROM interview_segments WHERE segment = ?)", [segment]
            nps_row = next(s for s in segments if s.segment == segment)
            nps = an.NpsStat(nps_row.scored, nps_row.promoters, nps_row.passives, nps_row.detractors, nps_row.nps, nps_row.interviews, nps_row.respondents)
        else:
            ids_sql, ids_params = "", []
            nps = an.nps_overall(db)
        date_from, date_to = db.execute(f"SELECT MIN(date), MAX(date) FROM interviews {ids_sql}", ids_params).fetchone()
        quotes = db.execute(
            f"SELECT COUNT(*) FROM quotes WHERE interview_id IN (SELECT id FROM interviews {ids_sql})", ids_params
        ).fetchone()[0]

        mentioned = [p for p in scoped.pains if p.interviews > 0]
        top = [p for p in mentioned if p.verdict == an.SYSTEMIC][:MAX_TOP_PAINS]
        for p in mentioned:
            if len(top) >= MIN_TOP_PAINS:
                break
            if p not in top:
                top.append(p)
        used: set[int] = set()
        value_quotes = tagged_quotes(db, VALUE_TAGS, segment=segment, limit=MAX_VALUE_QUOTES, used=used)
        top_pains = [TopPain(p, pain_quotes(db, p.pain, segment=segment, used=used)) for p in top]
        opportunity_quotes = tagged_quotes(db, OPPORTUNITY_TAGS, segment=segment, limit=MAX_OPPORTUNITY_QUOTES, used=used)

        opportunities: list[Opportunity] = []
        for p in top:
            if p.verdict != an.SYSTEMIC:
                continue
            segs = [s for s in p.segments.values() if s.segment_interviews > 0 and s.interviews > 0]
            if segment:
                segs = [s for s in segs if s.segment == segment]
            top_share = max((s.share or 0 for s in segs), default=None)
            best = [s for s in segs if top_share is not None and abs((s.share or 0) - top_share) < 1e-12]
            opportunities.append(Opportunity(p, best))

        return ReportData(
            title=base.config.title,
            description=base.config.description,
            language=base.config.language,
            generated=generated or _dt.date.today().isoformat(),
            segment=segment,
            segment_title=scoped.scope_title,
            interviews=scoped.total_interviews,
            respondents=nps.respondents,
            segments_count=len(segments),
            quotes=quotes,
            date_from=date_from,
            date_to=date_to,
            nps=nps,
            threshold=threshold,
            hypothesis_min=an.hypothesis_min_interviews(base.config),
            value_quotes=value_quotes,
            supported=[h for h in hyps if h.status == an.SUPPORTED],
            top_pains=top_pains,
            opportunities=opportunities,
            opportunity_quotes=opportunity_quotes,
            open_hypotheses=[h for h in hyps if h.status == an.NOT_ENOUGH],
            pains=overall,
            segments=segments,
            hypotheses=hyps,
            saturation=sat,
        )
    finally:
        db.close()


# ---------------------------------------------------------------------------------------------------------------
# Formatting helpers


class Labels(dict):
    """The report's labels in one language (``L["pains"]``), with its translator for plurals."""

    def __init__(self, language: str):
        self.t: Translator = translator(language)
        super().__init__({k: self.t.gettext(v) for k, v in LABELS.items()})


def labels(language: str) -> Labels:
    return Labels(language)


def count(n: int, key: str, L: Labels) -> str:
    """'1 quote', '3 quotes'; Russian: '1 цитата', '3 цитаты', '5 цитат', '21 цитата'."""
    return f"{n} {word(n, key, L)}"


def word(n: int, key: str, L: Labels) -> str:
    return L.t.plural(PLURALS[key], n)


def pct(share: float | None, lang: str = "en") -> str:
    if share is None:
        return "—"
    text = f"{share * 100:.1f}".rstrip("0").rstrip(".")
    if lang == "ru":
        text = text.replace(".", ",")
    return f"{text}%"


def signed(value: float | None, lang: str = "en") -> str:
    if value is None:
        return "—"
    text = f"{abs(value):.1f}".rstrip("0").rstrip(".")
    if lang == "ru":
        text = text.replace(".", ",")
    if value > 0:
        return f"+{text}"
    if value < 0:
        return f"−{text}"
    return "0"


def _quoted(text: str, lang: str) -> str:
    """Quotation marks of the quote's own language: «…» for Russian text, “…” for English."""
    russian = any("\u0400" <= ch <= "\u04ff" for ch in text)
    return f"«{text}»" if russian or (lang == "ru" and not any(ch.isascii() and ch.isalpha() for ch in text)) else f"“{text}”"


def _period(d: ReportData) -> str:
    if not d.date_from:
        return "—"
    return d.date_from if d.date_from == d.date_to else f"{d.date_from} – {d.date_to}"


def _segment_titles(d: ReportData) -> dict[str, str]:
    return {s.segment: s.title for s in d.segments}


def _opp_where(op: Opportunity, d: ReportData, L: Labels, seg_titles: dict[str, str]) -> str:
    if not op.where or d.segment:
        return L["opp_everywhere"].format(share=pct(op.pain.share, d.language))
    names = [f"{seg_titles.get(s.segment, s.segment)} ({s.interviews} {L['of']} {s.segment_interviews})" for s in op.where]
    joined = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {L['and']} {names[-1]}"
    return L["opp_where"].format(segments=joined, share=pct(op.where[0].share, d.language))


def _sat_line(d: ReportData, L: Labels) -> str:
    s = d.saturation
    if s.saturated:
        return L["saturated_yes"].format(k=s.window, total=s.total_pains, n=len(s.steps))
    return L["saturated_no"].format(reason=s.explain(L.t))


def _method(d: ReportData, L: Labels) -> list[str]:
    return [
        L["m_share"],
        L["m_ci"],
        L["m_verdict"].format(threshold=pct(d.threshold, d.language)),
        L["m_nps"],
        L["m_hyp"].format(m=d.hypothesis_min),
        L["m_sat"].format(k=d.saturation.window),
        L["m_quotes"],
        L["m_source"],
    ]


# ---------------------------------------------------------------------------------------------------------------
# Charts (drawn by custdev.charts, the one module that draws SVG for the site and the report)


def heatmap_svg(d: ReportData) -> str:
    L = labels(d.language)
    pains = d.pains.pains
    by_slug = {p.pain: p for p in pains}
    columns = [charts.HeatColumn("", L["all"], d.pains.total_interviews)]
    columns += [charts.HeatColumn(s.segment, s.title, s.interviews) for s in d.segments]

    def cell(pain: str, column: str):
        p = by_slug[pain]
        if not column:
            return p.interviews, p.share
        s = p.segments.get(column)
        return (s.interviews, s.share) if s else None

    return str(charts.heatmap([(p.pain, p.title) for p in pains], columns, cell, t=L.t, threshold=d.threshold, digits=1))


def saturation_svg(d: ReportData) -> str:
    steps = [charts.SatStep(st.seq, st.interview_id, st.cumulative_pains, len(st.new_pains)) for st in d.saturation.steps]
    return str(charts.saturation_svg(steps, d.saturation.window, d.saturation.saturated))


# ---------------------------------------------------------------------------------------------------------------
# Markdown


def render_markdown(d: ReportData, *, heatmap_file: str | None = None) -> str:
    L = labels(d.language)
    lang = d.language
    seg_titles = _segment_titles(d)
    o: list[str] = []
    scope = f"{L['scope_segment']}: {d.segment_title}" if d.segment else L["scope_all"]
    o.append(f"# {d.title}")
    o.append("")
    o.append(f"*{L['kind']} · {scope} · {L['generated']} {d.generated}*")
    o.append("")
    if d.description:
        o += [d.description, ""]
    o.append(
        f"**{count(d.interviews, 'interviews', L)} · {count(d.respondents, 'respondents', L)} · {count(d.segments_count, 'segments', L)} · "
        f"{L['period']}: {_period(d)} · {L['nps']} {signed(d.nps.nps, lang)}**"
    )
    o.append("")

    def quote_md(q: QuoteRef) -> list[str]:
        where = f"{q.interview_id}, {q.timestamp}" if q.timestamp else q.interview_id
        segs = ", ".join(seg_titles.get(s, s) for s in q.segments)
        return [f"> {_quoted(' '.join(q.text.split()), lang)}", f"> — *{where}*" + (f" · {segs}" if segs else ""), ""]

    o += [f"## 1. {L['value']}", ""]
    if d.value_quotes:
        for q in d.value_quotes:
            o += quote_md(q)
    else:
        o += [L["value_none"], ""]
    if d.supported:
        o += [f"**{L['value_confirmed']}:**", ""]
        for h in d.supported:
            o.append(f"- {h.title} ({L['for'].lower()}: {h.interviews_for}, {L['against'].lower()}: {h.interviews_against})")
        o.append("")

    o += [f"## 2. {L['pains']}", ""]
    if not d.top_pains:
        o += [L["pains_none"], ""]
    for n, tp in enumerate(d.top_pains, 1):
        p = tp.stat
        o.append(f"### 2.{n}. {p.title} — {pct(p.share, lang)} {L['of_interviews']} · {L[p.verdict] if p.verdict else ''}")
        o.append("")
        bits = [L["interviews_of"].format(k=p.interviews, n=p.total_interviews), f"{L['ci']} {pct(p.ci_low, lang)}–{pct(p.ci_high, lang)}", count(p.quotes, "quotes", L)]
        if p.stage:
            bits.insert(0, f"{L['stage']}: {p.stage}")
        o += [" · ".join(bits), ""]
        for q in tp.quotes:
            o += quote_md(q)

    o += [f"## 3. {L['opportunities']}", ""]
    if d.opportunities:
        for op in d.opportunities:
            p = op.pain
            where = _opp_where(op, d, L, seg_titles)
            o.append(f"- **{L['opp_solve'].format(pain=p.title)}** — {where}")
        o.append("")
    else:
        o += [L["opp_none"], ""]
    if d.opportunity_quotes:
        o += [f"**{L['opp_words']}:**", ""]
        for q in d.opportunity_quotes:
            o += quote_md(q)
    if d.open_hypotheses:
        o += [f"**{L['opp_next']}:**", ""]
        for h in d.open_hypotheses:
            o.append(f"- {L['opp_next_item'].format(title=h.title, f=h.interviews_for, a=h.interviews_against)}")
        o.append("")

    o += [f"## {L['nps_by_segment']}", ""]
    o.append(f"| {L['segment']} | {L['interviews'].capitalize()} | {L['scored']} | {L['promoters']} | {L['passives']} | {L['detractors']} | NPS |")
    o.append("|---|---:|---:|---:|---:|---:|---:|")
    for s in d.segments:
        o.append(f"| {s.title} | {s.interviews} | {s.scored} | {s.promoters} | {s.passives} | {s.detractors} | {signed(s.nps, lang)} |")
    if not d.segment:
        n = d.nps
        o.append(f"| **{L['all']}** | {n.interviews} | {n.scored} | {n.promoters} | {n.passives} | {n.detractors} | **{signed(n.nps, lang)}** |")
    o.append("")

    o += [f"## {L['heatmap']}", ""]
    if heatmap_file:
        o += [f"![{L['heatmap']}]({heatmap_file})", ""]
    header = [L["pain"], f"{L['all']} (n={d.pains.total_interviews})"] + [f"{s.title} (n={s.interviews})" for s in d.segments]
    o.append("| " + " | ".join(header) + " |")
    o.append("|---" + "|---:" * (len(header) - 1) + "|")
    for p in d.pains.pains:
        cells = [p.title, f"{pct(p.share, lang)} ({p.interviews})"]
        for s in d.segments:
            ss = p.segments.get(s.segment)
            cells.append("—" if ss is None or ss.share is None else f"{pct(ss.share, lang)} ({ss.interviews})")
        o.append("| " + " | ".join(cells) + " |")
    o += ["", f"*{L['heatmap_caption']}*", ""]

    if d.hypotheses:
        o += [f"## {L['hypotheses']}", ""]
        o.append(f"| {L['hypothesis']} | {L['for']} | {L['against']} | {L['status']} |")
        o.append("|---|---:|---:|---|")
        for h in d.hypotheses:
            o.append(f"| {h.title} | {h.interviews_for} | {h.interviews_against} | {L[h.status]} |")
        o.append("")

    o += [f"## {L['saturation']}", "", _sat_line(d, L), ""]
    o += [f"## {L['method']}", ""]
    o += [f"- {line}" for line in _method(d, L)]
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
footer { color: var(--muted); font-size: 12px; margin-top: 28px; text-align: center; }
@media print { body { background: #fff; } section { break-inside: avoid; border: 0; padding: 0; } main { padding: 0; } }
@media (max-width: 760px) { .kpis { grid-template-columns: repeat(2, 1fr); } .quotes-grid { grid-template-columns: 1fr; } }
"""


def render_html(d: ReportData) -> str:
    L = labels(d.language)
    lang = d.language
    e = html.escape
    seg_titles = _segment_titles(d)
    scope = f"{L['scope_segment']}: {d.segment_title}" if d.segment else L["scope_all"]

    def quote(q: QuoteRef) -> str:
        where = f"{e(q.interview_id)} · {e(q.timestamp)}" if q.timestamp else e(q.interview_id)
        if q.segments:
            where += f' <span class="seg">· {e(", ".join(seg_titles.get(s, s) for s in q.segments))}</span>'
        return f'<blockquote><p>{e(_quoted(" ".join(q.text.split()), lang))}</p><cite>— {where}</cite></blockquote>'

    def badge(kind: str | None) -> str:
        if not kind:
            return ""
        css = "nee" if kind == an.NOT_ENOUGH else kind
        return f'<span class="badge {css}">{e(L[kind])}</span>'

    def nps_cell(v: float | None, strong: bool = False) -> str:
        css = "pos" if v is not None and v > 0 else "neg" if v is not None and v < 0 else ""
        return f'<td class="npsv {css}">{e(signed(v, lang))}</td>'

    h: list[str] = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(d.title)} — {e(L['kind'])}</title><style>{_CSS}</style></head><body><main>",
        '<header class="top">',
        f'<div class="kicker">{e(L["kind"])} · {e(scope)} · {e(L["generated"])} {e(d.generated)}</div>',
        f"<h1>{e(d.title)}</h1>",
    ]
    if d.description:
        h.append(f'<p class="desc">{e(d.description)}</p>')
    kpis = [
        (str(d.interviews), word(d.interviews, "interviews", L)),
        (str(d.respondents), word(d.respondents, "respondents", L)),
        (str(d.segments_count), word(d.segments_count, "segments", L)),
        (_period(d), L["period"].lower()),
        (signed(d.nps.nps, lang), f"NPS · {d.nps.scored} {L['scored'].lower()}"),
    ]
    h.append('<div class="kpis">' + "".join(
        f'<div class="kpi"><div class="v{" small" if len(v) > 10 else ""}">{e(v)}</div><div class="l">{e(l)}</div></div>' for v, l in kpis
    ) + "</div>")
    h.append("</header>")

    # 1. value
    h.append(f'<section class="value"><h2><span class="n">1</span>{e(L["value"])}</h2>')
    if d.value_quotes:
        h.append('<div class="quotes-grid">' + "".join(quote(q) for q in d.value_quotes) + "</div>")
    else:
        h.append(f'<p class="muted">{e(L["value_none"])}</p>')
    if d.supported:
        h.append(f"<h4>{e(L['value_confirmed'])}</h4><ul>")
        for hy in d.supported:
            h.append(f"<li>{e(hy.title)} {badge(hy.status)} <span class=\"muted\">{e(L['for'])}: {hy.interviews_for} · {e(L['against'])}: {hy.interviews_against}</span></li>")
        h.append("</ul>")
    h.append("</section>")

    # 2. pains
    h.append(f'<section class="pains"><h2><span class="n">2</span>{e(L["pains"])}</h2>')
    if not d.top_pains:
        h.append(f'<p class="muted">{e(L["pains_none"])}</p>')
    else:
        h.append(f'<p class="caption" style="margin-top:-6px">{e(L["bar_help"])}</p>')
    for n, tp in enumerate(d.top_pains, 1):
        p = tp.stat
        share = p.share or 0
        lo, hi = p.ci_low or 0, p.ci_high or 0
        meta = [L["interviews_of"].format(k=p.interviews, n=p.total_interviews), f"{L['ci']} {pct(p.ci_low, lang)}–{pct(p.ci_high, lang)}", count(p.quotes, "quotes", L)]
        if p.stage:
            meta.insert(0, f"{L['stage']}: {p.stage}")
        h.append('<div class="pain">')
        h.append(f'<h3><span class="rank">{n}.</span>{e(p.title)} <span class="share">{pct(p.share, lang)}</span> {badge(p.verdict)}</h3>')
        h.append(f'<div class="meta">{e(" · ".join(meta))}</div>')
        h.append(
            f'<div class="bar" title="{e(pct(p.share, lang))}"><div class="fill" style="width:{share * 100:.2f}%"></div>'
            f'<div class="ci" style="left:{lo * 100:.2f}%;width:{max(0.0, hi - lo) * 100:.2f}%"></div>'
            f'<div class="thr" style="left:{d.threshold * 100:.2f}%" title="{e(L["threshold"].format(t=pct(d.threshold, lang)))}"></div></div>'
        )
        h.append("".join(quote(q) for q in tp.quotes))
        h.append("</div>")
    h.append("</section>")

    # 3. opportunities
    h.append(f'<section class="opps"><h2><span class="n">3</span>{e(L["opportunities"])}</h2>')
    if d.opportunities:
        h.append('<ul class="opps">')
        for op in d.opportunities:
            p = op.pain
            where = _opp_where(op, d, L, seg_titles)
            h.append(f"<li><strong>{e(L['opp_solve'].format(pain=p.title))}</strong> <span class=\"muted\">— {e(where)}</span></li>")
        h.append("</ul>")
    else:
        h.append(f'<p class="muted">{e(L["opp_none"])}</p>')
    if d.opportunity_quotes:
        h.append(f"<h4>{e(L['opp_words'])}</h4>" + '<div class="quotes-grid">' + "".join(quote(q) for q in d.opportunity_quotes) + "</div>")
    if d.open_hypotheses:
        h.append(f"<h4>{e(L['opp_next'])}</h4><ul>")
        for hy in d.open_hypotheses:
            h.append(f"<li>{e(L['opp_next_item'].format(title=hy.title, f=hy.interviews_for, a=hy.interviews_against))}</li>")
        h.append("</ul>")
    h.append("</section>")

    # NPS
    h.append(f'<section><h2>{e(L["nps_by_segment"])}</h2><table><thead><tr>')
    for col in (L["segment"], L["interviews"], L["scored"], L["promoters"], L["passives"], L["detractors"], "NPS"):
        h.append(f"<th>{e(col)}</th>")
    h.append("</tr></thead><tbody>")
    for s in d.segments:
        h.append(f"<tr><td>{e(s.title)}</td><td>{s.interviews}</td><td>{s.scored}</td><td>{s.promoters}</td><td>{s.passives}</td><td>{s.detractors}</td>{nps_cell(s.nps)}</tr>")
    if not d.segment:
        n = d.nps
        h.append(f'<tr class="total"><td>{e(L["all"])}</td><td>{n.interviews}</td><td>{n.scored}</td><td>{n.promoters}</td><td>{n.passives}</td><td>{n.detractors}</td>{nps_cell(n.nps)}</tr>')
    h.append("</tbody></table></section>")

    # heatmap
    h.append(f'<section><h2>{e(L["heatmap"])}</h2><div class="heat">{heatmap_svg(d)}</div><p class="caption">{e(L["heatmap_caption"])}</p></section>')

    # hypotheses
    if d.hypotheses:
        h.append(f'<section><h2>{e(L["hypotheses"])}</h2><table><thead><tr><th>{e(L["hypothesis"])}</th><th>{e(L["for"])}</th><th>{e(L["against"])}</th><th class="status">{e(L["status"])}</th></tr></thead><tbody>')
        for hy in d.hypotheses:
            h.append(f"<tr><td>{e(hy.title)}</td><td>{hy.interviews_for}</td><td>{hy.interviews_against}</td><td class='status'>{badge(hy.status)}</td></tr>")
        h.append("</tbody></table></section>")

    h.append(f'<section><h2>{e(L["saturation"])}</h2><p>{e(_sat_line(d, L))}</p>{saturation_svg(d)}'
             f'<p class="caption">{e(L["sat_chart"])}</p></section>')
    h.append(f'<section class="method"><h2>{e(L["method"])}</h2><ul>' + "".join(f"<li>{e(x)}</li>" for x in _method(d, L)) + "</ul></section>")
    h.append(f"<footer>custdev · {e(d.generated)}</footer></main></body></html>")
    return "\n".join(h)


# ---------------------------------------------------------------------------------------------------------------
# Entry point


@dataclass
class ReportResult:
    format: str
    path: str | None  # None: the text is returned for stdout
    text: str | None
    heatmap_path: str | None
    interviews: int
    top_pains: list[str]

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("format", "path", "heatmap_path", "interviews", "top_pains")} | (
            {"text": self.text} if self.path is None else {}
        )


def resolve_format(fmt: str | None, out: Path | None) -> str:
    if fmt is None:
        if out is not None and out.suffix.lower() in (".html", ".htm"):
            return "html"
        return "md"
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise CustdevError(f"unknown report format '{fmt}'; use md or html")
    return fmt


def _check_writable(path: Path) -> None:
    try:
        _check_target(path)
    except OSError as exc:
        raise CustdevError(f"cannot write the report to {path}: {exc.strerror or exc}") from None


def _check_target(path: Path) -> None:
    if path.is_dir():
        raise CustdevError(f"cannot write the report to {path}: it is a folder")
    parent = path.parent
    if parent.exists() and not parent.is_dir():
        raise CustdevError(f"cannot write the report to {path}: {parent} is not a folder")
    if not parent.is_dir():
        raise CustdevError(f"cannot write the report to {path}: folder {parent} does not exist")


def _write(path: Path, text: str) -> None:
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise CustdevError(f"cannot write the report to {path}: {exc.strerror or exc}") from None


def make_report(base: Base, *, fmt: str | None = None, out: Path | None = None, segment: str | None = None, generated: str | None = None) -> ReportResult:
    """Build the report; write it to ``out`` (markdown also gets ``<out stem>-heatmap.svg``) or return its text."""
    fmt = resolve_format(fmt, out)
    if out is not None:
        out = Path(out).expanduser()
        _check_writable(out)
    data = collect(base, segment=segment, generated=generated)
    top = [tp.stat.pain for tp in data.top_pains]
    if fmt == "html":
        text = render_html(data)
        if out is None:
            return ReportResult(fmt, None, text, None, data.interviews, top)
        _write(out, text)
        return ReportResult(fmt, str(out), None, None, data.interviews, top)
    if out is None:
        return ReportResult(fmt, None, render_markdown(data), None, data.interviews, top)
    svg_path = out.with_name(f"{out.stem}-heatmap.svg")
    _write(svg_path, heatmap_svg(data))
    _write(out, render_markdown(data, heatmap_file=svg_path.name))
    return ReportResult(fmt, str(out), None, str(svg_path), data.interviews, top)
