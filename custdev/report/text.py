"""Numbers and words as the report writes them (plural forms, decimal commas, quotation marks) and its sentences."""

from __future__ import annotations

from custdev.i18n import translator
from custdev.report.data import Opportunity, ReportData

# ---------------------------------------------------------------------------------------------------------------
# Formatting helpers


def count(n: int, key: str, L: dict[str, str]) -> str:
    """'1 quote', '3 quotes'; Russian: '1 цитата', '3 цитаты', '5 цитат', '21 цитата'."""
    return f"{n} {word(n, key, L)}"


def word(n: int, key: str, L: dict[str, str]) -> str:
    forms = L[f"n_{key}"].split("|")
    if len(forms) == 2:
        return forms[0] if n == 1 else forms[1]
    if n % 10 == 1 and n % 100 != 11:
        return forms[0]
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return forms[1]
    return forms[2]


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


def _opp_where(op: Opportunity, d: ReportData, L: dict[str, str], seg_titles: dict[str, str]) -> str:
    if not op.where or d.segment:
        return L["opp_everywhere"].format(share=pct(op.pain.share, d.language))
    names = [f"{seg_titles.get(s.segment, s.segment)} ({s.interviews} {L['of']} {s.segment_interviews})" for s in op.where]
    joined = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {L['and']} {names[-1]}"
    return L["opp_where"].format(segments=joined, share=pct(op.where[0].share, d.language))


def _sat_line(d: ReportData, L: dict[str, str]) -> str:
    s = d.saturation
    if s.saturated:
        return L["saturated_yes"].format(k=s.window, total=s.total_pains, n=len(s.steps))
    return L["saturated_no"].format(reason=s.explain(translator(d.language)))


def number(x: float | None, lang: str = "en") -> str:
    """A count estimate: whole numbers as such, otherwise one decimal (decimal comma in Russian)."""
    if x is None:
        return "—"
    text = f"{x:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if lang == "ru" else text


def headline(d: ReportData, L: dict[str, str]) -> list[str]:
    """The opening sentences: which pains are systemic for sure, which are unclear (never stronger than the interval)."""
    t = pct(d.threshold, d.language)
    sys_pains = [tp.stat.title for tp in d.top_pains if tp.stat.verdict == "systemic"]
    out = [L["headline_sys"].format(t=t, pains=", ".join(sys_pains)) if sys_pains else L["headline_none"].format(t=t)]
    if d.unclear:
        out.append(L["headline_unclear"].format(t=t, pains=", ".join(f"{p.title} ({pct(p.share, d.language)})" for p in d.unclear[:5])))
    return out


def unheard_line(d: ReportData, L: dict[str, str]) -> str:
    r = d.richness
    if r is None or not r.observed:
        return L["unheard_none"]
    lang = d.language
    return L["unheard"].format(chao1=number(r.chao1, lang), low=number(r.chao1_low, lang), high=number(r.chao1_high, lang),
                               observed=r.observed, unheard=number(r.unheard, lang), chance=pct(r.new_pain_chance, lang))


def money(x: float | None, L: dict[str, str], lang: str, cur: str = "") -> str:
    """1234 → 1,234 (1 234 in Russian); 2590476 → 2.59M (2,59 млн); with the codebook's currency sign."""
    if x is None:
        return "—"
    for div, key in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div * (10 if div == 1e3 else 1):
            text = f"{x / div:.3g}"
            if lang == "ru":
                text = text.replace(".", ",")
            return f"{cur}{text}{L[key]}"
    text = f"{x:,.0f}"
    return cur + (text.replace(",", "\u00a0") if lang == "ru" else text)


def _money_fields(p, L: dict[str, str], lang: str, cur: str) -> dict | None:
    m = p.money[0] if p.money else None
    if m is None or m.accounts is None and m.revenue is None:
        return None
    f = {"pain": p.title}
    if m.accounts is not None:
        f |= {"accounts": money(m.accounts, L, lang), "a_low": money(m.accounts_low, L, lang), "a_high": money(m.accounts_high, L, lang)}
    if m.revenue is not None:
        f |= {"revenue": money(m.revenue, L, lang, cur), "r_low": money(m.revenue_low, L, lang, cur), "r_high": money(m.revenue_high, L, lang, cur)}
    return f


def money_open(d: ReportData, L: dict[str, str]) -> str | None:
    """The opening sentence in money: the pains that are systemic for sure, with accounts and revenue as intervals."""
    items = []
    for tp in d.top_pains:
        if tp.stat.verdict != "systemic":
            continue
        f = _money_fields(tp.stat, L, d.language, d.currency)
        if f and "accounts" in f:
            items.append(L["money_item" if "revenue" in f else "money_item_acc"].format(**f))
    return L["money_open"].format(items="; ".join(items[:3])) if items else None


def money_close(d: ReportData, L: dict[str, str]) -> str | None:
    """The closing sentence: what solving the first opportunity reaches, in accounts and revenue."""
    for op in d.opportunities:
        f = _money_fields(op.pain, L, d.language, d.currency)
        if f and "accounts" in f:
            return L["money_close" if "revenue" in f else "money_close_acc"].format(**f)
    return None


def more_line(n: int | None, L: dict[str, str], key: str = "more") -> str | None:
    return L[key].format(n=n) if n else None


def _method(d: ReportData, L: dict[str, str]) -> list[str]:
    return [
        L["m_share"],
        L["m_ci"],
        L["m_verdict"].format(threshold=pct(d.threshold, d.language)),
        L["m_nps"],
        L["m_hyp"].format(m=d.hypothesis_min),
        L["m_sat"].format(k=d.saturation.window),
        L["m_unheard"],
        L["m_money"],
        L["m_quotes"],
        L["m_source"],
    ]
