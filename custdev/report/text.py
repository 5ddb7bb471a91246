"""Numbers and words as the report writes them (plural forms, decimal commas, quotation marks) and its sentences.

Every label comes from the message catalogs (:mod:`custdev.i18n`): the functions take the report's
:class:`~custdev.i18n.Translator` (``t``) and numbers go through :func:`custdev.i18n.decimal` (Babel), so the report,
the CLI and the site write 12,5% in Russian and 12.5% in English alike.
"""

from __future__ import annotations

from custdev import i18n
from custdev.i18n import N_, NP_, Translator
from custdev.report.data import Opportunity, ReportData

# ---------------------------------------------------------------------------------------------------------------
# Formatting helpers

PLURALS = {
    "interviews": NP_("interview", "interviews"),
    "respondents": NP_("respondent", "respondents"),
    "segments": NP_("segment", "segments"),
    "quotes": NP_("quote", "quotes"),
}
STATUS = {  # verdicts of pains and statuses of hypotheses, as the report writes them
    "systemic": N_("systemic"), "local": N_("local"), "unclear": N_("unclear"),
    "supported": N_("supported"), "refuted": N_("refuted"),
}


def status(kind: str, t: Translator) -> str:
    return t.gettext(STATUS[kind]) if kind in STATUS else kind


def count(n: int, key: str, t: Translator) -> str:
    """'1 quote', '3 quotes'; Russian: '1 цитата', '3 цитаты', '5 цитат', '21 цитата'."""
    return f"{n} {word(n, key, t)}"


def word(n: int, key: str, t: Translator) -> str:
    """The word for ``n`` things of ``key`` (interviews, respondents, segments, quotes) in the catalog's plural form."""
    return t.plural(PLURALS[key], n)


def pct(share: float | None, lang: str = "en") -> str:
    """12.5% (12,5% in Russian); at most one decimal."""
    return i18n.percent(share, lang)


def signed(value: float | None, lang: str = "en") -> str:
    if value is None:
        return "—"
    text = i18n.decimal(abs(value), lang)
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


def _opp_where(op: Opportunity, d: ReportData, t: Translator, seg_titles: dict[str, str]) -> str:
    _ = t.gettext
    if not op.where or d.segment:
        return _("{share} of all interviews").format(share=pct(op.pain.share, d.language))
    names = [f"{seg_titles.get(s.segment, s.segment)} ({s.interviews} {_('of')} {s.segment_interviews})" for s in op.where]
    joined = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {_('and')} {names[-1]}"
    return _("most common among {segments}: {share}").format(segments=joined, share=pct(op.where[0].share, d.language))


def _sat_line(d: ReportData, t: Translator) -> str:
    _ = t.gettext
    s = d.saturation
    if s.saturated:
        pains = t.ngettext("{n} pain", "{n} pains", s.total_pains).format(n=s.total_pains)
        return _("Saturated: the last {k} interviews added no new pain ({pains} in {n} interviews).").format(k=s.window, pains=pains, n=len(s.steps))
    return _("Not saturated yet: {reason}.").format(reason=s.explain(t))


def number(x: float | None, lang: str = "en") -> str:
    """A count estimate: whole numbers as such, otherwise one decimal (decimal comma in Russian)."""
    if x is None:
        return "—"
    return i18n.decimal(x, lang)


def headline(d: ReportData, t: Translator) -> list[str]:
    """The opening sentences: which pains are systemic for sure, which are unclear (never stronger than the interval)."""
    _ = t.gettext
    th = pct(d.threshold, d.language)
    sys_pains = [tp.stat.title for tp in d.top_pains if tp.stat.verdict == "systemic"]
    out = [_("For sure (the whole 95% interval at or above {t}): {pains}.").format(t=th, pains=", ".join(sys_pains)) if sys_pains else _("No pain is systemic for sure yet (no 95% interval lies wholly at or above {t}).").format(t=th)]
    if d.unclear:
        out.append(_("Unclear, the interval straddles {t}: {pains}.").format(t=th, pains=", ".join(f"{p.title} ({pct(p.share, d.language)})" for p in d.unclear[:5])))
    return out


def unheard_line(d: ReportData, t: Translator) -> str:
    _ = t.gettext
    r = d.richness
    if r is None or not r.observed:
        return _("No pains are coded yet, so nothing can be said about unheard ones.")
    lang = d.language
    return _("About {chao1} pains exist (95% CI {low}–{high}); {observed} heard so far, so about {unheard} not heard yet. Chance the next interview brings a new pain: {chance}.").format(chao1=number(r.chao1, lang), low=number(r.chao1_low, lang), high=number(r.chao1_high, lang),
                               observed=r.observed, unheard=number(r.unheard, lang), chance=pct(r.new_pain_chance, lang))


MONEY_UNITS = ((1e9, N_("{n}B")), (1e6, N_("{n}M")), (1e3, N_("{n}k")))  # Russian: {n} млрд, {n} млн, {n} тыс.


def money(x: float | None, t: Translator, lang: str, cur: str = "") -> str:
    """1234 → 1,234 (1 234 in Russian); 2590476 → 2.59M (2,59 млн); with the codebook's currency sign."""
    if x is None:
        return "—"
    for div, unit in MONEY_UNITS:
        if abs(x) >= div * (10 if div == 1e3 else 1):
            scaled = float(f"{x / div:.3g}")  # three significant digits
            return cur + t.gettext(unit).format(n=i18n.decimal(scaled, lang, 2))
    return cur + i18n.decimal(x, lang, 0)


def _money_fields(p, t: Translator, lang: str, cur: str) -> dict | None:
    m = p.money[0] if p.money else None
    if m is None or m.accounts is None and m.revenue is None:
        return None
    f = {"pain": p.title}
    if m.accounts is not None:
        f |= {"accounts": money(m.accounts, t, lang), "a_low": money(m.accounts_low, t, lang), "a_high": money(m.accounts_high, t, lang)}
    if m.revenue is not None:
        f |= {"revenue": money(m.revenue, t, lang, cur), "r_low": money(m.revenue_low, t, lang, cur), "r_high": money(m.revenue_high, t, lang, cur)}
    return f


def money_open(d: ReportData, t: Translator) -> str | None:
    """The opening sentence in money: the pains that are systemic for sure, with accounts and revenue as intervals."""
    _ = t.gettext
    items = []
    for tp in d.top_pains:
        if tp.stat.verdict != "systemic":
            continue
        f = _money_fields(tp.stat, t, d.language, d.currency)
        if f and "accounts" in f:
            items.append((_("{pain} — {accounts} accounts ({a_low}–{a_high}), {revenue} of revenue ({r_low}–{r_high})") if "revenue" in f
                          else _("{pain} — {accounts} accounts ({a_low}–{a_high})")).format(**f))
    return _("At stake: {items}.").format(items="; ".join(items[:3])) if items else None


def money_close(d: ReportData, t: Translator) -> str | None:
    """The closing sentence: what solving the first opportunity reaches, in accounts and revenue."""
    for op in d.opportunities:
        f = _money_fields(op.pain, t, d.language, d.currency)
        if f and "accounts" in f:
            if "revenue" in f:
                return t.gettext("Bottom line: solving “{pain}” first reaches {accounts} accounts ({a_low}–{a_high}) and {revenue} of revenue at risk ({r_low}–{r_high}).").format(**f)
            return t.gettext("Bottom line: solving “{pain}” first reaches {accounts} accounts ({a_low}–{a_high}).").format(**f)
    return None


MORE = {
    "more": N_("about {n} more interviews would settle it if the share held"),
    "more_h": N_("about {n} more interviews with evidence would settle it"),
}


def more_line(n: int | None, t: Translator, key: str = "more") -> str | None:
    return t.gettext(MORE[key]).format(n=n) if n else None


def _method(d: ReportData, t: Translator) -> list[str]:
    _ = t.gettext
    return [
        _("Share: interviews that mention a pain at least once ÷ interviews considered. A pain mentioned several times in one interview counts once; an interview in two segments counts in both."),
        _("95% CI: Wilson score interval for the share; with few interviews it is wide."),
        _("Systemic: the whole 95% interval is at or above {threshold}; local: the whole interval is below it; otherwise unclear, with how many more interviews would settle it if the share held (setting analysis.systemic_threshold).").format(threshold=pct(d.threshold, d.language)),
        _("NPS = % promoters (9–10) − % detractors (0–6), over interviews with a score."),
        _("Hypotheses: supported with ≥ {m} interviews for and the 95% interval of the share for (of the interviews with evidence) above 50%; refuted the other way round; otherwise unclear.").format(m=d.hypothesis_min),
        _("Saturation: the last {k} interviews in date order added no pain not heard before.").format(k=d.saturation.window),
        _("Unheard pains: Chao1 (bias-corrected) = heard + (T−1)/T · f1(f1−1)/(2(f2+1)) with f1, f2 the pains heard in exactly one and two of T interviews (Chao 1987), with Chao’s log-normal 95% interval; the chance of a new pain is f1 ÷ T (Good–Turing)."),
        _("Money: accounts affected = share × the segment’s size, revenue at risk = share × its revenue (codebook), each with the 95% interval × size; totals add the segments up."),
        _("Quotes: verbatim, from different interviews, respondents first; each with interview id and timestamp."),
        _("Every figure is reproducible from the base’s database (views pain_prevalence, pain_by_segment, nps_by_segment, saturation, hypothesis_evidence, pain_richness)."),
    ]
