"""Gather every figure and quote of the report (no formatting).

Quote choice (deterministic): quotes from different interviews; respondent turns before interviewer turns; quotes of
40–300 characters before shorter or longer ones; the most recent interviews first; then file order.
Every figure comes from the analysis views, so the report, the CLI and Datasette agree.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field

from sqlite_utils import Database

from custdev import analysis as an
from custdev.config import Base
from custdev.markdown import format_timestamp

VALUE_TAGS = ("value", "ценность")
OPPORTUNITY_TAGS = ("opportunity", "idea", "wish", "feature-request", "возможность", "идея")
MAX_VALUE_QUOTES = 6
MAX_OPPORTUNITY_QUOTES = 6
MIN_TOP_PAINS, MAX_TOP_PAINS = 3, 8
QUOTES_PER_PAIN = 3

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
    unsure: list[str] = field(default_factory=list)  # {?words?} the transcriber doubted: the quote rests on them

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
    richness: an.Richness | None = None  # Chao1 and Good–Turing of the report's scope
    unclear: list[an.PainStat] = field(default_factory=list)  # pains whose interval straddles the threshold
    currency: str = ""
    cooccurrence: an.Cooccurrence | None = None
    extra: dict = field(default_factory=dict)


_ORDER = (
    "ORDER BY (u.speaker_role = 'respondent') DESC, (length(q.text) BETWEEN 40 AND 300) DESC, "
    "i.date IS NULL, i.date DESC, q.id"
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
        for qid, iid, start, text, date, unsure in rows:
            if len(picked) >= limit:
                break
            if iid in seen or (fresh_only and qid in used):
                continue
            seen.add(iid)
            picked.append(QuoteRef(qid, iid, start, text, date, unsure=json.loads(unsure) if unsure else []))
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
        "SELECT q.id, q.interview_id, q.start_s, q.text, i.date, q.unsure FROM quote_pains AS qp "
        "JOIN quotes AS q ON q.id = qp.quote_id JOIN interviews AS i ON i.id = q.interview_id "
        "JOIN utterances AS u ON u.id = q.utterance_id "
        f"WHERE qp.pain = ?{where} {_ORDER} LIMIT 500",
        [pain, *params],
    ).fetchall()
    return _with_segments(db, _pick(rows, limit, used))


def tagged_quotes(db: Database, roots: tuple[str, ...], *, segment: str | None = None, limit: int, used: set[int] | None = None) -> list[QuoteRef]:
    """Quotes tagged with any of ``roots`` or a child tag (``value`` matches ``value/price``)."""
    # '/' sorts just before '0', so [root + '/', root + '0') is exactly the children, and uses the tag index.
    tag_sql = " OR ".join("(qt.tag = ? OR (qt.tag >= ? AND qt.tag < ?))" for _ in roots)
    tag_params = [x for r in roots for x in (r, r + "/", r + "0")]
    where, params = _scope_sql(segment)
    rows = db.execute(
        "SELECT q.id, q.interview_id, q.start_s, q.text, i.date, q.unsure FROM quotes AS q "
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
        rich = next((r for r in an.pain_richness(db) if r.segment == segment), None)

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
            richness=rich,
            unclear=[p for p in mentioned if p.verdict == an.UNCLEAR],
            currency=scoped.currency,
            cooccurrence=None if segment else an.cooccurrence(db),
        )
    finally:
        db.close()
