"""Evidence analysis: which pains matter, to whom, and how sure we are.

Every number here is read from the SQL views of ``schema/003_analysis_views.sql`` (``pain_prevalence``,
``pain_by_segment``, ``nps_by_segment``, ``saturation``, ``hypothesis_evidence``), so what the CLI prints and
what Datasette shows are the same figures. Python only orders, filters and applies the config's settings.

Definitions (also in the views' SQL and the README):

* An interview *mentions* a pain when at least one of its quotes is coded ``#pain/<slug>``. Several quotes with
  the same pain in one interview count that interview once; ``quotes`` counts every coded quote.
* ``share`` = interviews that mention the pain / interviews considered (the whole base, or one segment). An
  interview listed in two segments counts in both.
* ``ci_low``/``ci_high``: the 95% Wilson score interval of ``share`` (better than ±1.96·SE for small n and for
  shares near 0 or 1).
* ``verdict``: ``systemic`` when the interval's lower bound reaches ``analysis.systemic_threshold`` (default 0.30),
  ``local`` when its upper bound stays below it, otherwise ``unclear``; an unclear verdict comes with
  ``more_interviews``, how many more interviews would likely settle it if the share held (``custdev.stats``).
* NPS = % promoters (9–10) − % detractors (0–6), over the interviews that have a score; −100…100.
* Saturation: interviews in date order; an interview's *new* pains are those no earlier interview mentioned. The
  base (or a segment) is *saturated* when it has more than K interviews, at least one pain, and the last K
  (``analysis.saturation_window``, default 3) added no new pain.
* Hypotheses: ``#h/<slug>`` quotes support, ``#h/<slug>/against`` refute; with f/a interviews for/against and
  m = ``analysis.hypothesis_min_interviews`` (default 3) and the Wilson interval of f / (f + a): *supported* if f ≥ m
  and the interval lies above 1/2, *refuted* if a ≥ m and it lies below 1/2, else *unclear* (with more_interviews).
* Richness (``pain_richness``): Chao1 (bias-corrected) with its 95% interval and the Good–Turing chance of a new pain.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlite_utils import Database

from custdev.config import ANALYSIS_DEFAULTS, Base, Config, check_slug
from custdev.errors import CustdevError, UnknownSlug
from custdev.i18n import N_, NP_, Translator, translator
from custdev.stats import (  # noqa: F401 - re-exported: the statistics live in custdev.stats
    LOCAL, MAJORITY, REFUTED, SUPPORTED, SYSTEMIC, UNCLEAR, Z95, Richness, hypothesis_more, hypothesis_status,
    more_interviews, richness, verdict, wilson_interval,
)

DEFAULT_HYPOTHESIS_MIN = ANALYSIS_DEFAULTS["hypothesis_min_interviews"]
NOT_ENOUGH = UNCLEAR  # the old name of a hypothesis without a settled status


class AnalysisError(CustdevError):
    """The base cannot be analysed yet (no database, no interviews)."""


def nps_score(scores: list[int]) -> float | None:
    """NPS of a list of 0–10 scores, rounded to one decimal like the views; None for no scores."""
    if not scores:
        return None
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return round(100.0 * (promoters - detractors) / len(scores), 1)


# ---------------------------------------------------------------------------------------------------------------
# Results


@dataclass
class SegmentShare:
    segment: str
    title: str
    interviews: int
    segment_interviews: int
    share: float | None
    ci_low: float | None
    ci_high: float | None
    quotes: int
    verdict: str | None
    more_interviews: int | None = None


@dataclass
class PainStat:
    pain: str
    title: str
    stage: str | None
    interviews: int
    total_interviews: int  # interviews considered: the base, or the segment with --segment
    share: float | None
    ci_low: float | None
    ci_high: float | None
    quotes: int
    verdict: str | None
    description: str = ""
    segments: dict[str, SegmentShare] = field(default_factory=dict)
    more_interviews: int | None = None
    money: list[Any] = field(default_factory=list)  # Money rows: the total first, then per segment (when sizes are known)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PainsResult:
    scope: str | None  # segment slug, or None for the whole base
    scope_title: str | None
    total_interviews: int
    threshold: float
    pains: list[PainStat]
    segments: list[tuple[str, str]]  # (slug, title) of every segment, codebook order

    currency: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "segment": self.scope,
            "total_interviews": self.total_interviews,
            "systemic_threshold": self.threshold,
            "currency": self.currency,
            "pains": [p.to_dict() for p in self.pains],
        }


@dataclass
class SegmentSummary:
    segment: str
    title: str
    description: str
    interviews: int
    respondents: int
    scored: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None
    top_pains: list[SegmentShare] = field(default_factory=list)  # segment-level shares, pain slug in .segment

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["top_pains"] = [
            {"pain": s.segment, "title": s.title, "interviews": s.interviews, "share": s.share, "ci_low": s.ci_low,
             "ci_high": s.ci_high, "verdict": s.verdict, "more_interviews": s.more_interviews}
            for s in self.top_pains
        ]
        return d


@dataclass
class NpsStat:
    scored: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None
    interviews: int
    respondents: int


@dataclass
class SaturationStep:
    seq: int
    interview_id: str
    date: str | None
    pains: int  # distinct pains the interview mentions
    new_pains: list[str]
    cumulative_pains: int
    file_date: bool = False  # date_source: file: no date in the recording or its name, so its place in the order is uncertain


# Saturation: interviews dated only by their file (date_source: file), whose order is uncertain.
FILE_DATED = NP_(
    "{n} interview has only a file date (no date in the recording or its name), so its place in this order is uncertain: {ids}",
    "{n} interviews have only a file date (no date in the recording or its name), so their order is uncertain: {ids}",
)
# Why a base is (not) saturated: one message per case, translated where it is shown (CLI, report, site).
SATURATION_REASONS: dict[str, str | tuple[str, str]] = {
    "no_pains": N_("no pains are coded in {scope} yet"),
    "too_few": NP_("{n} interview in {scope}; saturation needs more than {k}", "{n} interviews in {scope}; saturation needs more than {k}"),
    "saturated": N_("the last {k} interviews added no new pain ({total} pains, last new one in interview #{since})"),
    "added": NP_("the last {k} interviews added {added} new pain", "the last {k} interviews added {added} new pains"),
}
SCOPE_BASE = N_("the base")
SCOPE_SEGMENT = N_("segment '{segment}'")
# The count that picks the plural form of each plural reason.
_REASON_COUNT = {"too_few": "n", "added": "added"}


@dataclass
class Saturation:
    segment: str | None
    window: int
    steps: list[SaturationStep]
    saturated: bool
    reason_key: str  # a key of SATURATION_REASONS
    reason_args: dict[str, Any] = field(default_factory=dict)

    @property
    def total_pains(self) -> int:
        return self.steps[-1].cumulative_pains if self.steps else 0

    def explain(self, t: Translator) -> str:
        """The reason in ``t``'s language, one line."""
        message = SATURATION_REASONS[self.reason_key]
        scope = t.gettext(SCOPE_SEGMENT).format(segment=self.segment) if self.segment else t.gettext(SCOPE_BASE)
        if isinstance(message, tuple):
            text = t.plural(message, self.reason_args[_REASON_COUNT[self.reason_key]])
        else:
            text = t.gettext(message)
        return text.format(scope=scope, **self.reason_args)

    @property
    def reason(self) -> str:
        """The reason in English (JSON output)."""
        return self.explain(translator("en"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "segment": self.segment,
            "window": self.window,
            "saturated": self.saturated,
            "reason": self.reason,
            "total_pains": self.total_pains,
            "interviews": [asdict(s) for s in self.steps],
            "file_dated": self.file_dated,
        }

    @property
    def file_dated(self) -> list[str]:
        """Interviews dated only by their file's time (``date_source: file``): their order is uncertain."""
        return [s.interview_id for s in self.steps if s.file_date]

    def file_date_note(self, t: Translator) -> str | None:
        """One line saying which interviews have only a file date, or None."""
        ids = self.file_dated
        if not ids:
            return None
        shown = ", ".join(ids[:10]) + (", …" if len(ids) > 10 else "")
        return t.plural(FILE_DATED, len(ids)).format(n=len(ids), ids=shown)


@dataclass
class HypothesisStat:
    hypothesis: str
    title: str
    description: str
    interviews_for: int
    interviews_against: int
    quotes_for: int
    quotes_against: int
    status: str
    evidence: int = 0  # interviews with evidence: for + against
    support_share: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    more_interviews: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------------------------------------------
# Opening the database


def hypothesis_min_interviews(config: Config) -> int:
    return config.hypothesis_min_interviews


def sync_settings(db: Database, config: Config) -> None:
    """Copy the config's analysis settings into ``meta`` so the views (and Datasette) use them too.

    Writes only what changed; a read-only database is left as it is (the views then fall back to defaults).
    """
    wanted = config.analysis_settings()
    try:
        have = dict(db.execute("SELECT key, value FROM meta WHERE key LIKE 'analysis.%'").fetchall())
        changed = {k: v for k, v in wanted.items() if have.get(k) != v}
        if changed:
            with db.conn:
                db.conn.executemany(
                    "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    list(changed.items()),
                )
    except sqlite3.OperationalError:
        pass


def _ensure_sqrt(db: Database) -> None:
    """The views need sqrt(), ln() and exp(); SQLite builds without math functions get Python ones."""
    for name, fn in (("sqrt", math.sqrt), ("ln", math.log), ("exp", math.exp)):
        try:
            db.execute(f"SELECT {name}(1.0)").fetchone()
        except sqlite3.OperationalError:
            db.conn.create_function(name, 1, lambda x, fn=fn: None if x is None else fn(x), deterministic=True)


def open_analysis_db(base: Base) -> Database:
    """The base's database, migrated, with the config's settings synced. Raises if it was never built."""
    from custdev.db import open_db

    if not base.db_path.exists():
        raise AnalysisError(N_("{root} has no database yet; run 'custdev build' first"), root=base.root)
    db = open_db(base.db_path)
    _ensure_sqrt(db)
    sync_settings(db, base.config)
    return db


def interview_count(db: Database) -> int:
    return db.execute("SELECT COUNT(*) FROM interviews").fetchone()[0]


def require_interviews(db: Database) -> int:
    n = interview_count(db)
    if n == 0:
        raise AnalysisError(N_("the base has no interviews yet; add markdown files to interviews/ and run 'custdev build'"))
    return n


def _known(db: Database, table: str) -> dict[str, str]:
    return {slug: title for slug, title in db.execute(f"SELECT slug, title FROM {table} ORDER BY rowid")}


def check_known(db: Database, kind: str, slug: str, base: Base | None = None) -> None:
    """UnknownSlug naming the closest slug; a slug in the codebook but not yet in the db says to rebuild."""
    table = {"segment": "segments", "pain": "pains", "hypothesis": "hypotheses"}[kind]
    known = _known(db, table)
    if slug in known:
        return
    if base is not None:
        in_codebook = {"segment": base.codebook.segments, "pain": base.codebook.pains, "hypothesis": base.codebook.hypotheses}[kind]
        if slug in in_codebook:
            message = {
                "segment": N_("segment '{slug}' is in the codebook but not in the database yet; run 'custdev build'"),
                "pain": N_("pain '{slug}' is in the codebook but not in the database yet; run 'custdev build'"),
                "hypothesis": N_("hypothesis '{slug}' is in the codebook but not in the database yet; run 'custdev build'"),
            }[kind]
            raise UnknownSlug(message, slug=slug)
    check_slug(kind, slug, known)


# ---------------------------------------------------------------------------------------------------------------
# Queries


def segment_shares(db: Database, threshold: float) -> dict[str, dict[str, SegmentShare]]:
    """pain -> segment -> SegmentShare, from the pain_by_segment view."""
    out: dict[str, dict[str, SegmentShare]] = {}
    rows = db.execute(
        "SELECT pain, segment, segment_title, interviews, segment_interviews, share, ci_low, ci_high, quotes, verdict, "
        "more_interviews FROM pain_by_segment"
    ).fetchall()
    for pain, seg, title, k, n, share, lo, hi, quotes, v, more in rows:
        out.setdefault(pain, {})[seg] = SegmentShare(seg, title, k, n, share, lo, hi, quotes, v, more)
    return out


def _sort_key(p: PainStat):
    return (-(p.share or 0.0), -p.quotes, p.pain)


def pain_prevalence(
    db: Database, threshold: float, *, segment: str | None = None, pain: str | None = None,
    by_segment: dict[str, dict[str, SegmentShare]] | None = None,
) -> PainsResult:
    """Every pain with its prevalence (whole base, or within ``segment``), sorted by share, most common first.

    ``by_segment`` (from :func:`segment_shares`) saves re-reading the pain_by_segment view."""
    require_interviews(db)
    segments = list(_known(db, "segments").items())
    if segment is not None:
        check_known(db, "segment", segment)
    if pain is not None:
        check_known(db, "pain", pain)
    if by_segment is None:
        by_segment = segment_shares(db, threshold)
    stats: list[PainStat] = []
    if segment is None:
        rows = db.execute(
            "SELECT pain, title, stage, interviews, total_interviews, share, ci_low, ci_high, quotes, verdict, description, "
            "more_interviews FROM pain_prevalence"
        ).fetchall()
        total = rows[0][4] if rows else interview_count(db)
        for slug, title, stage, k, n, share, lo, hi, quotes, v, desc, more in rows:
            stats.append(PainStat(slug, title, stage, k, n, share, lo, hi, quotes, v, desc or "", by_segment.get(slug, {}), more))
        scope_title = None
    else:
        meta = {r[0]: (r[1], r[2], r[3] or "") for r in db.execute("SELECT slug, title, stage, description FROM pains")}
        scope_title = dict(segments)[segment]
        total = db.execute("SELECT COUNT(*) FROM interview_segments WHERE segment = ?", [segment]).fetchone()[0]
        for slug, segs in by_segment.items():
            s = segs[segment]
            title, stage, desc = meta.get(slug, (slug, None, ""))
            stats.append(PainStat(slug, title, stage, s.interviews, s.segment_interviews, s.share, s.ci_low, s.ci_high, s.quotes, s.verdict, desc, segs, s.more_interviews))
        if total == 0:
            raise AnalysisError(N_("segment '{segment}' has no interviews yet; list interviews in it with 'segments: [{segment}]' in their front matter"), segment=segment)
    if pain is not None:
        stats = [p for p in stats if p.pain == pain]
    money = pain_money(db, by_segment)
    for p in stats:
        rows = money.get(p.pain, [])
        p.money = rows if segment is None else [m for m in rows if m.segment == segment]
    stats.sort(key=_sort_key)
    currency = (db.execute("SELECT value FROM meta WHERE key = 'codebook.currency'").fetchone() or [""])[0]
    return PainsResult(segment, scope_title, total, threshold, stats, segments, currency)


def nps_overall(db: Database) -> NpsStat:
    row = db.execute("SELECT scored, promoters, passives, detractors, nps, interviews, respondents FROM nps_overall").fetchone()
    return NpsStat(*row)


def segments_summary(
    db: Database, threshold: float, *, top: int = 3, by_segment: dict[str, dict[str, SegmentShare]] | None = None
) -> list[SegmentSummary]:
    """Per segment: interviews, respondents, NPS and its ``top`` most common pains (pains with no mention left out)."""
    require_interviews(db)
    if by_segment is None:
        by_segment = segment_shares(db, threshold)
    titles = _known(db, "pains")
    out: list[SegmentSummary] = []
    rows = db.execute(
        "SELECT n.segment, n.segment_title, COALESCE(s.description, ''), n.interviews, n.respondents, n.scored, "
        "n.promoters, n.passives, n.detractors, n.nps FROM nps_by_segment AS n JOIN segments AS s ON s.slug = n.segment "
        "ORDER BY s.rowid"
    ).fetchall()
    for seg, title, desc, n, resp, scored, pro, pas, det, nps in rows:
        pains = []
        for pain, segs in by_segment.items():
            s = segs.get(seg)
            if s is not None and s.interviews > 0:
                pains.append(SegmentShare(pain, titles.get(pain, pain), s.interviews, s.segment_interviews, s.share, s.ci_low, s.ci_high, s.quotes, s.verdict, s.more_interviews))
        pains.sort(key=lambda s: (-(s.share or 0), -s.quotes, s.segment))
        out.append(SegmentSummary(seg, title, desc, n, resp, scored, pro, pas, det, nps, pains[:top]))
    return out


def saturation(db: Database, window: int, *, segment: str | None = None) -> Saturation:
    """Interview-by-interview new pains in date order, and whether the last ``window`` interviews added none."""
    require_interviews(db)
    if window < 1:
        raise AnalysisError(N_("the saturation window must be at least 1 interview"))
    if segment is None:
        rows = db.execute(
            "SELECT seq, interview_id, date, pains, new_pains, new_pain_slugs, cumulative_pains FROM saturation ORDER BY seq"
        ).fetchall()
    else:
        check_known(db, "segment", segment)
        rows = db.execute(
            "SELECT seq, interview_id, date, pains, new_pains, new_pain_slugs, cumulative_pains FROM saturation_by_segment "
            "WHERE segment = ? ORDER BY seq",
            [segment],
        ).fetchall()
    file_dated = {r[0] for r in db.execute("SELECT id FROM interviews WHERE date_source = 'file'")}
    steps = [
        SaturationStep(seq, iid, date, pains, sorted((slugs or "").split()), cum, iid in file_dated)
        for seq, iid, date, pains, _new, slugs, cum in rows
    ]
    n = len(steps)
    if n == 0:
        raise AnalysisError(N_("segment '{segment}' has no interviews yet; list interviews in it with 'segments: [{segment}]' in their front matter"), segment=segment)
    total = steps[-1].cumulative_pains
    last = steps[-window:]
    added = sum(len(s.new_pains) for s in last)
    if total == 0:
        saturated, key, args = False, "no_pains", {}
    elif n <= window:
        saturated, key, args = False, "too_few", {"n": n, "k": window}
    elif added == 0:
        since = max(s.seq for s in steps if s.new_pains)
        saturated, key, args = True, "saturated", {"k": window, "total": total, "since": since}
    else:
        saturated, key, args = False, "added", {"k": window, "added": added}
    return Saturation(segment, window, steps, saturated, key, args)


def hypotheses(db: Database) -> list[HypothesisStat]:
    """Evidence for and against each codebook hypothesis, with its status (rule in the module docstring)."""
    require_interviews(db)
    rows = db.execute(
        "SELECT h.hypothesis, h.title, COALESCE(h.description, ''), h.interviews_for, h.interviews_against, h.quotes_for, "
        "h.quotes_against, h.status, h.evidence, h.support_share, h.ci_low, h.ci_high, h.more_interviews FROM hypothesis_evidence AS h JOIN hypotheses AS x ON x.slug = h.hypothesis ORDER BY x.rowid"
    ).fetchall()
    return [HypothesisStat(*r) for r in rows]


# ---------------------------------------------------------------------------------------------------------------
# Entry points used by the CLI: base in, results out


def analyse_pains(base: Base, *, segment: str | None = None, pain: str | None = None) -> PainsResult:
    db = open_analysis_db(base)
    try:
        return pain_prevalence(db, base.config.systemic_threshold, segment=segment, pain=pain)
    finally:
        db.close()


def analyse_segments(base: Base, *, top: int = 3) -> tuple[list[SegmentSummary], NpsStat]:
    db = open_analysis_db(base)
    try:
        return segments_summary(db, base.config.systemic_threshold, top=top), nps_overall(db)
    finally:
        db.close()


def analyse_saturation(base: Base, *, segment: str | None = None, window: int | None = None) -> Saturation:
    db = open_analysis_db(base)
    try:
        return saturation(db, window if window is not None else base.config.saturation_window, segment=segment)
    finally:
        db.close()


def analyse_hypotheses(base: Base) -> list[HypothesisStat]:
    db = open_analysis_db(base)
    try:
        return hypotheses(db)
    finally:
        db.close()


# ---------------------------------------------------------------------------------------------------------------
# How much is still unheard, and which pains come together


def _incidence(db: Database) -> dict[str, set[str]]:
    """interview -> the pains it mentions (the interview_pains relation, read straight from the tables once)."""
    out: dict[str, set[str]] = {}
    for iid, pain in db.execute("SELECT DISTINCT q.interview_id, qp.pain FROM quote_pains AS qp JOIN quotes AS q ON q.id = qp.quote_id"):
        out.setdefault(iid, set()).add(pain)
    return out


def pain_richness(db: Database) -> list[Richness]:
    """Chao1 and Good–Turing for the whole base (segment None) and each segment (codebook order): the numbers of the
    pain_richness view, computed by custdev.stats from the interview × pain incidence (tests check both agree)."""
    require_interviews(db)
    inc = _incidence(db)
    scopes: list[tuple[str | None, list[str]]] = [(None, [r[0] for r in db.execute("SELECT id FROM interviews")])]
    members: dict[str, list[str]] = {slug: [] for slug in _known(db, "segments")}
    for iid, seg in db.execute("SELECT interview_id, segment FROM interview_segments"):
        members.setdefault(seg, []).append(iid)
    scopes += list(members.items())
    out = []
    for seg, ids in scopes:
        freq: dict[str, int] = {}
        for iid in ids:
            for pain in inc.get(iid, ()):
                freq[pain] = freq.get(pain, 0) + 1
        out.append(richness(list(freq.values()), len(ids), seg))
    return out


@dataclass
class PairStat:
    pain_a: str
    title_a: str
    pain_b: str
    title_b: str
    together: int
    interviews_a: int
    interviews_b: int
    jaccard: float


@dataclass
class Cooccurrence:
    pains: list[tuple[str, str]]  # (slug, title) of the pains heard, most mentioned first
    interviews: dict[str, int]  # interviews mentioning each pain
    pairs: list[PairStat]  # pairs heard together, most often first

    def cell(self, a: str, b: str) -> PairStat | None:
        key = (a, b) if a < b else (b, a)
        return self._index.get(key)

    def __post_init__(self) -> None:
        self._index = {(p.pain_a, p.pain_b): p for p in self.pairs}

    def to_dict(self) -> dict[str, Any]:
        return {
            "pains": [{"pain": s, "title": t, "interviews": self.interviews[s]} for s, t in self.pains],
            "pairs": [asdict(p) for p in self.pairs],
        }


def cooccurrence(db: Database) -> Cooccurrence:
    """Pairs of pains mentioned in the same interviews, with counts and Jaccard: the pain_cooccurrence view's numbers,
    counted from the interview × pain incidence read once (tests check both agree)."""
    from itertools import combinations

    require_interviews(db)
    titles = _known(db, "pains")
    inc = _incidence(db)
    n: dict[str, int] = {}
    together: dict[tuple[str, str], int] = {}
    for pains in inc.values():
        for p in pains:
            n[p] = n.get(p, 0) + 1
        for a, b in combinations(sorted(pains), 2):
            together[(a, b)] = together.get((a, b), 0) + 1
    pairs = [PairStat(a, titles.get(a, a), b, titles.get(b, b), k, n[a], n[b], k / (n[a] + n[b] - k)) for (a, b), k in together.items()]
    pairs.sort(key=lambda x: (-x.together, -x.jaccard, x.pain_a, x.pain_b))
    heard = sorted(n, key=lambda s: (-n[s], s))
    return Cooccurrence([(s, titles.get(s, s)) for s in heard], n, pairs)


def analyse_richness(base: Base) -> tuple[list[Richness], Saturation]:
    db = open_analysis_db(base)
    try:
        return pain_richness(db), saturation(db, base.config.saturation_window)
    finally:
        db.close()


def analyse_cooccurrence(base: Base) -> Cooccurrence:
    db = open_analysis_db(base)
    try:
        return cooccurrence(db)
    finally:
        db.close()


# ---------------------------------------------------------------------------------------------------------------
# Journey map and money


@dataclass
class StageScore:
    scored: int
    mean_score: float
    nps: float


@dataclass
class JourneyCell:
    interviews: int
    scope_interviews: int
    share: float | None
    ci_low: float | None
    ci_high: float | None
    verdict: str | None
    more_interviews: int | None


@dataclass
class JourneyPain:
    pain: str
    title: str
    cells: dict[str, JourneyCell]  # "" = the whole base, else segment slug


@dataclass
class JourneyStage:
    stage: str
    title: str
    position: int | None  # None: a stage a pain names but the codebook's stages: list does not
    scores: dict[str, StageScore]  # "" = the whole base, else segment slug
    pains: list[JourneyPain]


@dataclass
class Journey:
    segments: list[tuple[str, str]]
    stages: list[JourneyStage]

    def to_dict(self) -> dict[str, Any]:
        def key(k: str) -> str:
            return k or "all"
        return {
            "segments": [{"segment": s, "title": t} for s, t in self.segments],
            "stages": [
                {"stage": st.stage, "title": st.title, "position": st.position,
                 "scores": {key(k): asdict(v) for k, v in st.scores.items()},
                 "pains": [{"pain": p.pain, "title": p.title, "cells": {key(k): asdict(v) for k, v in p.cells.items()}} for p in st.pains]}
                for st in self.stages
            ],
        }


def journey(db: Database) -> Journey:
    """Stages in the codebook's order (unlisted stages after them, alphabetically): pains with share and verdict for the
    base and each segment (the rows of the journey view), and touchpoint scores (the stage_scores view)."""
    require_interviews(db)
    stages: dict[str, JourneyStage] = {}
    for slug, title, pos in db.execute("SELECT slug, title, position FROM stages ORDER BY position"):
        stages[slug] = JourneyStage(slug, title, pos, {}, [])
    # The journey view's rows, computed from pain_prevalence and pain_by_segment read once each.
    pain_stage = {slug: stage for slug, stage in db.execute("SELECT slug, stage FROM pains WHERE stage IS NOT NULL")}
    by_segment = segment_shares(db, 0.0)
    for pain, title, k, n, share, lo, hi, verdict_, more in db.execute(
        "SELECT pain, title, interviews, total_interviews, share, ci_low, ci_high, verdict, more_interviews FROM pain_prevalence"
    ):
        stage = pain_stage.get(pain)
        if stage is None:
            continue
        st = stages.setdefault(stage, JourneyStage(stage, stage, None, {}, []))
        jp = JourneyPain(pain, title, {"": JourneyCell(k, n, share, lo, hi, verdict_, more)})
        for seg, s in by_segment.get(pain, {}).items():
            jp.cells[seg] = JourneyCell(s.interviews, s.segment_interviews, s.share, s.ci_low, s.ci_high, s.verdict, s.more_interviews)
        st.pains.append(jp)
    for stage, stitle, pos, seg, scored, mean, nps in db.execute(
        "SELECT stage, stage_title, position, segment, scored, mean_score, nps FROM stage_scores"
    ):
        st = stages.setdefault(stage, JourneyStage(stage, stitle, pos, {}, []))
        st.scores[seg or ""] = StageScore(scored, mean, nps)
    for st in stages.values():
        st.pains.sort(key=lambda p: (-(p.cells[""].share or 0), p.pain))
    ordered = sorted(stages.values(), key=lambda s: (s.position is None, s.position or 0, s.stage))
    return Journey(list(_known(db, "segments").items()), ordered)


@dataclass
class Money:
    pain: str
    title: str
    segment: str | None  # None: summed over the segments with a size or revenue
    accounts: float | None
    accounts_low: float | None
    accounts_high: float | None
    revenue: float | None
    revenue_low: float | None
    revenue_high: float | None


def _times(x: float | None, m: float | None) -> float | None:
    return None if x is None or m is None else x * m


def _total(values: list[float | None]) -> float | None:
    got = [v for v in values if v is not None]
    return sum(got) if got else None  # like SQL's SUM: NULLs skipped, all NULL gives NULL


def pain_money(db: Database, by_segment: dict[str, dict[str, SegmentShare]] | None = None) -> dict[str, list[Money]]:
    """pain -> money rows: the total over the segments first (segment None), then each segment with a size or
    revenue and interviews. The same arithmetic as the pain_money and pain_money_total views (share × size), done on
    the pain_by_segment rows already read, so a command does not compute the views again."""
    sizes = {slug: (size, revenue) for slug, size, revenue in db.execute(
        "SELECT slug, size, revenue FROM segments WHERE size IS NOT NULL OR revenue IS NOT NULL")}
    if not sizes:
        return {}
    if by_segment is None:
        by_segment = segment_shares(db, 0.0)
    titles = _known(db, "pains")
    out: dict[str, list[Money]] = {}
    for pain, segs in by_segment.items():
        rows = []
        for seg in sorted(segs):
            s = segs[seg]
            if seg not in sizes or not s.segment_interviews:
                continue
            size, revenue = sizes[seg]
            rows.append(Money(pain, titles.get(pain, pain), seg, _times(s.share, size), _times(s.ci_low, size), _times(s.ci_high, size),
                              _times(s.share, revenue), _times(s.ci_low, revenue), _times(s.ci_high, revenue)))
        if rows:
            total = Money(pain, titles.get(pain, pain), None, *(_total([getattr(r, f) for r in rows]) for f in (
                "accounts", "accounts_low", "accounts_high", "revenue", "revenue_low", "revenue_high")))
            out[pain] = [total, *rows]
    return out


def analyse_journey(base: Base) -> Journey:
    db = open_analysis_db(base)
    try:
        return journey(db)
    finally:
        db.close()
