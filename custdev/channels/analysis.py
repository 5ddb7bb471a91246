"""Pains and NPS per channel: interviews and each channel apart by default, pooled only on request.

A channel's unit is its item: a survey response, a ticket, a chat conversation. An item mentions a pain when any of
its turns is coded ``#pain/<slug>``; a pain's share in a channel is items mentioning it ÷ the channel's items, with a
95% Wilson interval. Interviews count as in ``custdev pains`` (an interview mentions a pain when a quote is coded
with it). ``combine`` pools every unit (interviews + items) into one share — only meaningful when the channels ask the
same population, so it is never the default. Survey NPS is one score per response, by segment, with its own n.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from custdev.analysis import nps_score
from custdev.i18n import N_, NP_, decimal, percent, translator
from custdev.stats import wilson_interval

CHANNEL_ORDER = ("interview", "survey", "ticket", "chat")
# What each channel counts, as a plural pair for the catalogs (custdev.i18n): 1 ответ опроса, 2 ответа, 5 ответов.
NOUNS = {
    "interview": NP_("%(n)s interview", "%(n)s interviews"), "survey": NP_("%(n)s survey comment", "%(n)s survey comments"),
    "ticket": NP_("%(n)s support ticket", "%(n)s support tickets"), "chat": NP_("%(n)s chat conversation", "%(n)s chat conversations"),
    "all": NP_("%(n)s source", "%(n)s sources"),
}
OF = N_("%(pct)s of %(things)s")


@dataclass
class ChannelShare:
    channel: str
    mentions: int
    total: int
    share: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass
class ChannelPain:
    pain: str
    title: str
    shares: list[ChannelShare] = field(default_factory=list)


@dataclass
class ChannelsResult:
    totals: dict[str, int]
    pains: list[ChannelPain]
    nps: list[dict]
    combined: bool

    def to_dict(self) -> dict:
        return {"totals": self.totals, "combined": self.combined, "pains": [asdict(p) for p in self.pains], "survey_nps": self.nps}


def _share(channel: str, k: int, n: int) -> ChannelShare:
    lo, hi = wilson_interval(k, n)
    return ChannelShare(channel, k, n, (k / n) if n else None, lo, hi)


def channel_pains(db, *, combine: bool = False, pain: str | None = None, channel: str | None = None) -> ChannelsResult:
    conn = db.conn
    totals = {"interview": conn.execute("SELECT count(*) FROM interviews").fetchone()[0]}
    for ch, items in conn.execute("SELECT channel, items FROM channel_totals"):
        totals[ch] = items
    mentions: dict[str, dict[str, int]] = {}
    for slug, k in conn.execute("SELECT qp.pain, count(DISTINCT q.interview_id) FROM quote_pains qp JOIN quotes q ON q.id = qp.quote_id GROUP BY qp.pain"):
        mentions.setdefault(slug, {})["interview"] = k
    for ch, slug, k in conn.execute("SELECT channel, pain, items FROM channel_pain_prevalence"):
        mentions.setdefault(slug, {})[ch] = k
    titles = dict(conn.execute("SELECT slug, title FROM pains"))
    channels = [c for c in CHANNEL_ORDER if c in totals and (totals[c] or c == "interview")]
    if channel:
        channels = [c for c in channels if c == channel]
    pains = []
    for slug in sorted(set(titles) | set(mentions)):
        if pain and slug != pain:
            continue
        got = mentions.get(slug, {})
        entry = ChannelPain(slug, titles.get(slug, slug))
        if combine:
            k = sum(got.get(c, 0) for c in channels)
            n = sum(totals.get(c, 0) for c in channels)
            entry.shares.append(_share("all", k, n))
        else:
            entry.shares = [_share(c, got.get(c, 0), totals.get(c, 0)) for c in channels]
        pains.append(entry)
    pains.sort(key=lambda p: (-max((s.share or 0) for s in p.shares) if p.shares else 0, p.pain))
    nps = []
    for segment, n, promoters, passives, detractors, score in conn.execute(
        "SELECT segment, n, promoters, passives, detractors, nps FROM channel_nps_by_segment ORDER BY segment = '', segment"
    ):
        nps.append({"segment": segment or None, "n": n, "promoters": promoters, "passives": passives, "detractors": detractors, "nps": score})
    scores = [r[0] for r in conn.execute("SELECT max(nps) FROM responses WHERE channel = 'survey' AND nps IS NOT NULL GROUP BY item")]
    if scores:
        nps.insert(0, {"segment": "all", "n": len(scores), "nps": nps_score(scores)})
    return ChannelsResult({c: totals[c] for c in channels}, pains, nps, combine)


def describe(share: ChannelShare, language: str = "en") -> str:
    """'38% of 8 interviews' / '12% of 4,210 survey comments' (Russian: '12% из 4 210 ответов опроса'): whole
    percentages, written as every other share of custdev (custdev.i18n.percent)."""
    t = translator(language)
    pct = percent(share.share, language, 0)
    things = t.plural(NOUNS[share.channel], share.total) % {"n": decimal(share.total, language, 0)}
    return t.gettext(OF) % {"pct": pct, "things": things}