"""Every chart custdev draws, as server-side SVG: on the site (heatmap, prevalence, NPS, pains heard, co-occurrence)
and in the report (heatmap, saturation curve, co-occurrence; ``custdev.report.render`` only feeds them the report's
data). They work with arbitrary SQL off, without JavaScript, and in a file mailed to a stakeholder: every SVG names
its font and size itself, so it looks the same with or without the site's CSS.

Labels never clip: every text is measured with the advance widths of DejaVu Sans (``chart_font.json``, read from the
font's own tables), the first font the charts ask for; a label wider than its room is wrapped at spaces, and only a
single word longer than the room is shortened with "…" (the full text stays in a ``<title>`` tooltip). The SVG's
size is computed from the measured texts, so nothing leaves its viewBox, in Russian or English.
Chart words (legends, tooltips) come from the message catalogs: pass the viewer's :class:`~custdev.i18n.Translator`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

from markupsafe import Markup, escape

from custdev import i18n
from custdev.i18n import N_, NP_, Translator, translator

FONT_FAMILY = "'DejaVu Sans', Verdana, 'Segoe UI', Arial, sans-serif"
FONT_SIZE = 13
SMALL = 11.5
_FALLBACK_EM = 1.0  # a character missing from the table (CJK, emoji): as wide as the widest letters

MSG = {
    "heatmap": N_("Pain prevalence by segment"),
    "prevalence": N_("Pain prevalence"),
    "nps": N_("NPS by segment"),
    "all": N_("All"),
    "legend": N_("share of interviews"),
    "threshold": N_("systemic ≥ %(pct)s"),
    "threshold_line": N_("systemic threshold %(pct)s"),
    "no_interviews": N_("no interviews"),
    "no_scores": N_("no scores yet"),
    "detractors": N_("detractors"),
    "passives": N_("passives"),
    "promoters": N_("promoters"),
    "settle": N_(" (about %(n)s more interviews would settle it)"),
    "accumulation": N_("Distinct pains heard by interview, with the Chao1 estimate"),
    "cooccurrence": N_("Pains mentioned in the same interviews"),
    "chao1": N_("Chao1 %(chao1)s pains (95%% CI %(low)s–%(high)s)"),
}
VERDICT_WORDS = {"systemic": N_("systemic"), "local": N_("local"), "unclear": N_("unclear")}
OF_INTERVIEWS = NP_("%(k)s of %(n)s interview", "%(k)s of %(n)s interviews")
OF_SCORED = N_("%(count)s %(group)s of %(n)s scored")


@lru_cache(maxsize=1)
def _metrics() -> dict[str, dict[str, float]]:
    return json.loads((Path(__file__).with_name("chart_font.json")).read_text(encoding="utf-8"))


def text_width(text: str, size: float = FONT_SIZE, bold: bool = False) -> float:
    """Width in px of ``text`` set in DejaVu Sans at ``size`` px (bold: DejaVu Sans Bold)."""
    table = _metrics()["bold" if bold else "regular"]
    return sum(table.get(ch, _FALLBACK_EM) for ch in text) * size


def _shorten(word: str, room: float, size: float, bold: bool) -> str:
    if text_width(word, size, bold) <= room:
        return word
    while word and text_width(word + "…", size, bold) > room:
        word = word[:-1]
    return word + "…"


def fit(text: str, room: float, size: float = FONT_SIZE, max_lines: int = 2, bold: bool = False) -> list[str]:
    """``text`` wrapped at spaces into lines no wider than ``room`` px; at most ``max_lines``, the last one ending in
    "…" when the text does not fit."""
    words = text.split() or [""]
    lines: list[str] = []
    for word in words:
        if lines and text_width(lines[-1] + " " + word, size, bold) <= room:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + [" ".join(lines[max_lines - 1:])]
        last = lines[-1]
        while last and text_width(last + "…", size, bold) > room:
            last = last[:-1].rstrip()
        lines[-1] = last + "…"
    return [_shorten(line, room, size, bold) for line in lines]


def _lines_width(lines: list[str], size: float = FONT_SIZE, bold: bool = False) -> float:
    return max((text_width(line, size, bold) for line in lines), default=0.0)


def _svg_open(css_class: str, width: float, height: float, title: str) -> str:
    # max-width: a chart wider than its column scales down as a whole (its texts stay inside it) instead of overflowing
    return (f'<svg class="chart {css_class}" role="img" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
            f'height="{height:.0f}" font-family="{FONT_FAMILY}" font-size="{FONT_SIZE}" style="max-width:100%;height:auto" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>')


def _tspans(lines: list[str], x: float, first_y: float, step: float) -> str:
    return "".join(f'<tspan x="{x:.1f}" y="{first_y + step * k:.1f}">{escape(line)}</tspan>' for k, line in enumerate(lines))


def pct(share: float | None, language: str = "en", digits: int = 0) -> str:
    """A share as the charts write it (custdev.i18n.percent, the one number format): 71% / 71.4% / 71,4%."""
    return i18n.percent(share, language, digits)


# ---------------------------------------------------------------------------------------------------------------
# Heatmap: pain × segment (site and report)


@dataclass
class HeatColumn:
    key: str  # segment slug, or "" for the whole base
    title: str
    n: int  # interviews in the column


def _heat_color(share: float) -> str:
    lo, hi = (239, 246, 255), (30, 64, 175)  # pale to deep blue
    t = max(0.0, min(1.0, float(share)))
    return "#%02x%02x%02x" % tuple(round(a + (b - a) * t) for a, b in zip(lo, hi))


def heatmap(
    pains: list[tuple[str, str]],
    columns: list[HeatColumn],
    cell: Callable[[str, str], tuple[int, float | None] | None],
    *,
    t: Translator | None = None,
    threshold: float | None = None,
    link: Callable[[str, str], str] | None = None,
    legend: bool = True,
    digits: int = 0,
) -> Markup:
    """Share of each column's interviews that mention each pain. ``pains``: (slug, title) in row order; ``cell(pain,
    column key)`` gives (interviews mentioning, share) or None for an empty column; ``link(pain, column key)`` makes
    cells links; cells at or above ``threshold`` get a dark outline."""
    if not pains or not columns:
        return Markup("")
    t = t or translator("en")
    lang = t.language
    max_label = 260.0
    labels = {slug: fit(title or slug, max_label) for slug, title in pains}
    label_w = max(_lines_width(lines) for lines in labels.values()) + 24
    widest_word = max(text_width(w, 12, bold=True) for c in columns for w in (c.title or c.key).split() or [""])
    cell_w = max(96.0, min(180.0, widest_word + 14))
    heads = {c.key: fit(c.title or c.key, cell_w - 10, 12, max_lines=3, bold=True) for c in columns}
    head_lines = max(len(h) for h in heads.values())
    cell_h, line_h = 40, 15
    head_h = 26 + 14 * head_lines
    legend_h = 46 if legend else 8
    width = label_w + cell_w * len(columns) + 12
    parts: list[str] = []
    for j, c in enumerate(columns):
        x = label_w + j * cell_w + cell_w / 2
        lines = heads[c.key]
        y0 = head_h - 20 - 14 * (len(lines) - 1)
        parts.append(f'<text class="col-label" x="{x:.1f}" y="{y0:.1f}" text-anchor="middle" font-size="12" font-weight="700">'
                     f'<title>{escape(c.title)}</title>{_tspans(lines, x, y0, 14)}</text>')
        parts.append(f'<text class="col-sub" x="{x:.1f}" y="{head_h - 6}" text-anchor="middle" font-size="{SMALL}">n = {c.n}</text>')
    for i, (slug, title) in enumerate(pains):
        y = head_h + i * cell_h
        lines = labels[slug]
        ly = y + cell_h / 2 + 4.5 - line_h / 2 * (len(lines) - 1)
        parts.append(f'<text class="row-label" text-anchor="end"><title>{escape(title)}</title>{_tspans(lines, label_w - 12, ly, line_h)}</text>')
        for j, c in enumerate(columns):
            x = label_w + j * cell_w
            got = cell(slug, c.key)
            share = got[1] if got else None
            k = got[0] if got else 0
            verdict, more = (got[2], got[3]) if got and len(got) > 3 else (None, None)
            if share is None:
                tip = f"{title} · {c.title}: {t.gettext(MSG['no_interviews'])}"
                body = (f'<rect x="{x + 2:.1f}" y="{y + 2}" width="{cell_w - 4:.1f}" height="{cell_h - 4}" rx="4" fill="url(#empty)"/>'
                        f'<text x="{x + cell_w / 2:.1f}" y="{y + cell_h / 2 + 4.5:.1f}" text-anchor="middle" fill="#9ca3af">—</text>')
            else:
                shown = pct(share, lang, digits)
                tip = f"{title} · {c.title}: " + t.plural(OF_INTERVIEWS, c.n) % {"k": k, "n": c.n} + f" ({shown})"
                if verdict:
                    tip += ", " + t.gettext(VERDICT_WORDS.get(verdict, verdict)) + (t.gettext(MSG["settle"]) % {"n": more} if more else "")
                ink = "#ffffff" if share >= 0.5 else "#1f2937"
                systemic = verdict == "systemic" if verdict else (threshold is not None and share > 0 and share >= threshold - 1e-12)
                outline = ' stroke="#111827" stroke-width="2"' if systemic else ""
                body = (f'<rect x="{x + 2:.1f}" y="{y + 2}" width="{cell_w - 4:.1f}" height="{cell_h - 4}" rx="4" fill="{_heat_color(share)}"{outline}/>'
                        f'<text x="{x + cell_w / 2:.1f}" y="{y + 18}" font-weight="600" fill="{ink}" text-anchor="middle">{shown}</text>'
                        f'<text x="{x + cell_w / 2:.1f}" y="{y + 32}" font-size="10.5" fill="{ink}" text-anchor="middle">{k}/{c.n}</text>')
            group = (f'<g class="cell" data-pain="{escape(slug)}" data-segment="{escape(c.key)}" data-share="{"" if share is None else share}">'
                     f'<title>{escape(tip)}</title>{body}</g>')
            parts.append(f'<a href="{escape(link(slug, c.key))}">{group}</a>' if link else group)
    height = head_h + cell_h * len(pains) + legend_h
    parts.insert(0, '<defs><pattern id="empty" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
                    '<rect width="8" height="8" fill="#eef0f3"/><line x1="0" y1="0" x2="0" y2="8" stroke="#d9dde3" stroke-width="3"/>'
                    '</pattern></defs>')
    if legend:
        ly = head_h + cell_h * len(pains) + 14
        lw = min(240.0, cell_w * len(columns))
        lx = label_w
        legend_text = t.gettext(MSG["legend"])
        parts.append('<defs><linearGradient id="cd-scale" x1="0" x2="1" y1="0" y2="0">'
                     + "".join(f'<stop offset="{s / 10:.1f}" stop-color="{_heat_color(s / 10)}"/>' for s in range(11))
                     + "</linearGradient></defs>")
        parts.append(f'<rect x="{lx:.1f}" y="{ly}" width="{lw:.1f}" height="10" rx="2" fill="url(#cd-scale)" stroke="#d1d5db" stroke-width="0.5"/>')
        parts.append(f'<text class="legend" x="{lx:.1f}" y="{ly + 24}" font-size="{SMALL}">0%</text>')
        parts.append(f'<text class="legend" x="{lx + lw:.1f}" y="{ly + 24}" font-size="{SMALL}" text-anchor="end">100%</text>')
        mid = fit(legend_text, max(10.0, lw - 2 * text_width("100%", SMALL) - 16), SMALL, max_lines=1)[0]
        parts.append(f'<text class="legend" x="{lx + lw / 2:.1f}" y="{ly + 24}" font-size="{SMALL}" text-anchor="middle">{escape(mid)}</text>')
        right = lx + lw
        if threshold is not None:
            tx = lx + lw + 18
            label = t.gettext(MSG["threshold"]) % {"pct": pct(threshold, lang)}
            parts.append(f'<rect x="{tx:.1f}" y="{ly - 3}" width="16" height="16" rx="3" fill="{_heat_color(threshold)}" stroke="#111827" stroke-width="1.5"/>'
                         f'<text class="legend" x="{tx + 22:.1f}" y="{ly + 9}" font-size="{SMALL}">{escape(label)}</text>')
            right = tx + 22 + text_width(label, SMALL)
        width = max(width, right + 8)
    return Markup(_svg_open("heatmap", width, height, t.gettext(MSG["heatmap"])) + "".join(parts) + "</svg>")


def heatmap_svg(rows: list[dict], pain_order: list[str], link: Callable[[str, str], str] | None = None, *,
                t: Translator | None = None, threshold: float | None = None) -> Markup:
    """The site's heatmap from ``pain_by_segment`` rows: segments by size, pains in ``pain_order``."""
    segments: dict[str, dict] = {}
    pains: dict[str, str] = {}
    cells: dict[tuple[str, str], dict] = {}
    for r in rows:
        segments.setdefault(r["segment"], {"title": r["segment_title"] or r["segment"], "n": r["segment_interviews"] or 0})
        pains.setdefault(r["pain"], r["pain_title"] or r["pain"])
        cells[(r["pain"], r["segment"])] = r
    order = [p for p in pain_order if p in pains] + sorted(p for p in pains if p not in pain_order)
    seg_order = sorted(segments, key=lambda s: (-segments[s]["n"], segments[s]["title"]))
    columns = [HeatColumn(s, segments[s]["title"], segments[s]["n"]) for s in seg_order]

    def cell(pain: str, seg: str):
        c = cells.get((pain, seg))
        return (c.get("interviews") or 0, c.get("share"), c.get("verdict"), c.get("more_interviews")) if c else None

    return heatmap([(p, pains[p]) for p in order], columns, cell, t=t, threshold=threshold, link=link)


# ---------------------------------------------------------------------------------------------------------------
# Prevalence and NPS (site)


def prevalence_svg(rows: list[dict], threshold: float | None, link: Callable[[str], str] | None = None, *,
                   t: Translator | None = None) -> Markup:
    """Share of interviews mentioning each pain, with its 95% interval and the systemic threshold."""
    if not rows:
        return Markup("")
    t = t or translator("en")
    labels = {r["pain"]: fit(r["title"] or r["pain"], 260) for r in rows}
    label_w = max(_lines_width(v) for v in labels.values()) + 24
    bar_w, row_h = 420, 34
    values = [f'{pct(r.get("share") or 0.0, t.language)} ({r.get("interviews", 0)}/{r.get("total_interviews", 0)})' for r in rows]
    value_w = max(text_width(v) for v in values) + 16
    threshold_label = t.gettext(MSG["threshold_line"]) % {"pct": pct(threshold, t.language)} if threshold else ""
    width = label_w + bar_w + value_w
    height = 34 + row_h * len(rows)
    out = [_svg_open("prevalence", width, height, t.gettext(MSG["prevalence"]))]
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        x = label_w + bar_w * tick
        out.append(f'<line class="grid" x1="{x:.0f}" x2="{x:.0f}" y1="20" y2="{height - 4}" stroke="#eef2f7"/>'
                   f'<text class="col-sub" x="{x:.0f}" y="14" text-anchor="middle" font-size="{SMALL}">{tick * 100:.0f}%</text>')
    if threshold:
        x = label_w + bar_w * threshold
        out.append(f'<line class="threshold" x1="{x:.0f}" x2="{x:.0f}" y1="20" y2="{height - 4}" stroke="#f59e0b" stroke-dasharray="4 3">'
                   f'<title>{escape(threshold_label)}</title></line>')
    for i, (r, value) in enumerate(zip(rows, values)):
        y = 24 + i * row_h
        share = r.get("share") or 0.0
        title = r["title"] or r["pain"]
        lines = labels[r["pain"]]
        ly = y + row_h / 2 + 4 - 7.5 * (len(lines) - 1)
        out.append(f'<text class="row-label" text-anchor="end"><title>{escape(title)}</title>{_tspans(lines, label_w - 12, ly, 15)}</text>')
        verdict = r.get("verdict")
        fill = {"systemic": "#1d4ed8", "unclear": "#60a5fa"}.get(verdict, "#bfdbfe")
        tip = f"{title}: " + t.plural(OF_INTERVIEWS, r.get("total_interviews", 0)) % {"k": r.get("interviews", 0), "n": r.get("total_interviews", 0)}
        if verdict:
            tip += ", " + t.gettext(VERDICT_WORDS.get(verdict, verdict))
        if r.get("more_interviews"):
            tip += t.gettext(MSG["settle"]) % {"n": r["more_interviews"]}
        bar = (f'<g class="bar" data-pain="{escape(r["pain"])}" data-share="{share}" data-verdict="{escape(verdict or "")}"><title>{escape(tip)}</title>'
               f'<rect x="{label_w:.0f}" y="{y + 6}" width="{max(bar_w * share, 1):.1f}" height="{row_h - 12}" rx="3" '
               f'fill="{fill}"/></g>')
        out.append(f'<a href="{escape(link(r["pain"]))}">{bar}</a>' if link else bar)
        lo, hi = r.get("ci_low"), r.get("ci_high")
        if lo is not None and hi is not None:
            x1, x2, cy = label_w + bar_w * lo, label_w + bar_w * hi, y + row_h / 2
            out.append(f'<path class="ci" stroke="#1f2937" fill="none" d="M{x1:.1f} {cy:.1f}H{x2:.1f}M{x1:.1f} {cy - 5:.1f}V{cy + 5:.1f}M{x2:.1f} {cy - 5:.1f}V{cy + 5:.1f}"/>')
        out.append(f'<text class="value" x="{label_w + bar_w + 10:.0f}" y="{y + row_h / 2 + 4:.0f}">{escape(value)}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def nps_svg(rows: list[dict], link: Callable[[str], str] | None = None, *, t: Translator | None = None) -> Markup:
    """NPS by segment: 100% stacked bars of detractors / passives / promoters, with the score."""
    rows = [r for r in rows if r.get("segment")]
    if not rows:
        return Markup("")
    t = t or translator("en")
    labels = {r["segment"]: fit(r["segment_title"] or r["segment"], 260) for r in rows}
    label_w = max(_lines_width(v) for v in labels.values()) + 24
    bar_w, row_h = 420, 38
    colors = {"detractors": "#dc2626", "passives": "#9ca3af", "promoters": "#16a34a"}
    names = {k: t.gettext(MSG[k]) for k in colors}
    no_scores = t.gettext(MSG["no_scores"])
    score_w = text_width("NPS −100", FONT_SIZE, bold=True) + 12 + text_width("n=9999", SMALL) + 16
    legend_w = sum(17 + text_width(n, SMALL) + 18 for n in names.values())
    width = label_w + max(bar_w, legend_w) + score_w
    height = 30 + row_h * len(rows)
    out = [_svg_open("nps", width, height, t.gettext(MSG["nps"]))]
    lx = label_w
    for key, color in colors.items():
        out.append(f'<rect x="{lx:.0f}" y="6" width="12" height="12" rx="2" fill="{color}"/>'
                   f'<text class="legend" x="{lx + 17:.0f}" y="16" font-size="{SMALL}">{escape(names[key])}</text>')
        lx += 17 + text_width(names[key], SMALL) + 18
    for i, r in enumerate(rows):
        y = 30 + i * row_h
        title = r["segment_title"] or r["segment"]
        lines = labels[r["segment"]]
        ly = y + row_h / 2 + 4 - 7.5 * (len(lines) - 1)
        out.append(f'<text class="row-label" text-anchor="end"><title>{escape(title)}</title>{_tspans(lines, label_w - 12, ly, 15)}</text>')
        scored = r.get("scored") or 0
        group = [f'<g class="nps-row" data-segment="{escape(r["segment"])}" data-nps="{"" if r.get("nps") is None else r["nps"]}">']
        if scored:
            x = label_w
            for name in ("detractors", "passives", "promoters"):
                n = r.get(name) or 0
                w = bar_w * n / scored
                if w > 0:
                    tip = t.gettext(OF_SCORED) % {"count": n, "group": names[name], "n": scored}
                    group.append(f'<rect x="{x:.1f}" y="{y + 6}" width="{w:.1f}" height="{row_h - 12}" fill="{colors[name]}">'
                                 f'<title>{escape(title)}: {escape(tip)}</title></rect>')
                    if w >= text_width(str(n), 12, True) + 10:
                        group.append(f'<text class="in-bar" x="{x + w / 2:.1f}" y="{y + row_h / 2 + 4:.0f}" text-anchor="middle" '
                                     f'font-size="12" font-weight="700" fill="#fff">{n}</text>')
                x += w
            nps = r.get("nps")
            shown = f"+{nps:.0f}" if nps > 0 else (f"−{abs(nps):.0f}" if nps < 0 else "0")
            sx = label_w + bar_w + 12
            group.append(f'<text class="score" x="{sx:.0f}" y="{y + row_h / 2 + 5:.0f}" font-weight="700">NPS {shown}</text>'
                         f'<text class="col-sub" x="{sx + text_width("NPS −100", FONT_SIZE, True) + 12:.0f}" y="{y + row_h / 2 + 5:.0f}" font-size="{SMALL}">n={scored}</text>')
        else:
            group.append(f'<rect x="{label_w:.0f}" y="{y + 6}" width="{bar_w}" height="{row_h - 12}" fill="#f3f4f6"/>'
                         f'<text class="col-sub" x="{label_w + 10:.0f}" y="{y + row_h / 2 + 4:.0f}" font-size="{SMALL}">{escape(no_scores)}</text>')
        group.append("</g>")
        out.append(f'<a href="{escape(link(r["segment"]))}">{"".join(group)}</a>' if link else "".join(group))
    out.append("</svg>")
    return Markup("".join(out))


# ---------------------------------------------------------------------------------------------------------------
# Saturation curve (report)


@dataclass
class SatStep:
    seq: int
    interview_id: str
    cumulative: int
    new: int


def saturation_svg(steps: list[SatStep], window: int, saturated: bool, width: int = 900, height: int = 150, *,
                   richness=None, t: Translator | None = None) -> Markup:
    """Step chart of distinct pains heard so far, interview by interview (the saturation curve): the last ``window``
    interviews shaded (green when saturated), and with ``richness`` (a custdev.stats.Richness) the Chao1 estimate
    of all pains as a dashed line in its 95% band."""
    if not steps:
        return Markup("")
    t = t or translator("en")
    est = richness is not None and richness.observed and richness.chao1_high is not None
    n = len(steps)
    total = max(1, math.ceil(max(steps[-1].cumulative, richness.chao1_high if est else 0) - 1e-9))
    pad_l = 12 + text_width(str(total), SMALL)
    pad_r, pad_t, pad_b = 12, 10, 24
    iw, ih = width - pad_l - pad_r, height - pad_t - pad_b
    stride = max(1, n // 600)  # a long base: at most ~600 steps, the last always kept
    idx = list(range(0, n, stride))
    if idx[-1] != n - 1:
        idx.append(n - 1)
    x_of = lambda i: pad_l + iw * (i + 1) / n  # noqa: E731 - the right edge of interview i
    y_of = lambda v: pad_t + ih * (1 - v / total)  # noqa: E731
    pts = [f"{pad_l:.1f},{y_of(0):.1f}"]
    prev = 0
    for i in idx:
        x0 = pad_l + iw * i / n
        pts.append(f"{x0:.1f},{y_of(prev):.1f}")
        prev = steps[i].cumulative
        pts.append(f"{x0:.1f},{y_of(prev):.1f}")
        pts.append(f"{x_of(i):.1f},{y_of(prev):.1f}")
    dots = ""
    if n <= 60:
        dots = "".join(
            f'<circle cx="{pad_l + iw * (i + 0.5) / n:.1f}" cy="{y_of(st.cumulative):.1f}" r="{4 if st.new else 2.5}" '
            f'fill="{"#ffffff" if st.new else "#98a2b3"}" stroke="#344054" stroke-width="{1.5 if st.new else 0}">'
            f"<title>#{st.seq} {escape(st.interview_id)}: +{st.new}</title></circle>"
            for i, st in enumerate(steps)
        )
    wx = pad_l + iw * max(0, n - window) / n
    colour = "#067647" if saturated else "#b54708"
    estimate = ""
    if est:
        y_hi, y_lo, y_c = y_of(richness.chao1_high), y_of(richness.chao1_low), y_of(richness.chao1)
        tip = escape(t.gettext(MSG["chao1"]) % {"chao1": i18n.decimal(richness.chao1, t.language),
                                                "low": richness.chao1_low, "high": richness.chao1_high})
        label = "≈" + i18n.decimal(richness.chao1, t.language)
        estimate = (
            f'<rect class="chao1-band" x="{pad_l:.1f}" y="{y_hi:.1f}" width="{iw:.1f}" height="{max(0.5, y_lo - y_hi):.1f}" fill="#175cd3" opacity="0.10"><title>{tip}</title></rect>'
            f'<line class="chao1" x1="{pad_l:.1f}" y1="{y_c:.1f}" x2="{pad_l + iw:.1f}" y2="{y_c:.1f}" stroke="#175cd3" stroke-width="1.5" stroke-dasharray="6 4"><title>{tip}</title></line>'
            f'<text x="{pad_l + iw - 4:.1f}" y="{max(pad_t + 10, y_c - 4):.1f}" fill="#175cd3" text-anchor="end">{escape(label)}</text>'
        )
    return Markup(
        f'<svg class="chart saturation" xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 {width} {height}" role="img" '
        f'font-family="{FONT_FAMILY}" font-size="{SMALL}" style="max-width:{width}px;display:block">'
        f'<rect x="{wx:.1f}" y="{pad_t}" width="{pad_l + iw - wx:.1f}" height="{ih}" fill="{colour}" opacity="0.08"/>'
        f'<line x1="{pad_l:.1f}" y1="{pad_t + ih}" x2="{pad_l + iw:.1f}" y2="{pad_t + ih}" stroke="#d0d5dd"/>'
        f'<line x1="{pad_l:.1f}" y1="{pad_t}" x2="{pad_l + iw:.1f}" y2="{pad_t}" stroke="#eaecf0" stroke-dasharray="3 3"/>'
        f'<text x="{pad_l - 6:.1f}" y="{pad_t + 8}" fill="#667085" text-anchor="end">{total}</text>'
        f'<text x="{pad_l - 6:.1f}" y="{pad_t + ih}" fill="#667085" text-anchor="end">0</text>'
        f'<text x="{pad_l:.1f}" y="{height - 6}" fill="#667085">1</text>'
        f'<text x="{pad_l + iw:.1f}" y="{height - 6}" fill="#667085" text-anchor="end">{n}</text>'
        f"{estimate}"
        f'<polyline points="{" ".join(pts)}" fill="none" stroke="{colour}" stroke-width="2" stroke-linejoin="round"/>'
        f"{dots}</svg>"
    )


# ---------------------------------------------------------------------------------------------------------------
# Evidence charts (issue 9): pains heard so far with Chao1, pains mentioned together

_color = _heat_color
_text_width = text_width


def accumulation_svg(cumulative: list[int], richness=None, *, t: Translator | None = None) -> Markup:
    """Distinct pains heard (cumulative) by interview in date order, with the Chao1 estimate (dashed line) and its 95%
    interval (band). ``richness`` is a custdev.stats.Richness, or None."""
    n = len(cumulative)
    if not n:
        return Markup("")
    t = t or translator("en")
    n_label = t.ngettext("%(n)s interview", "%(n)s interviews", n) % {"n": n}
    est = richness is not None and richness.observed and richness.chao1_high is not None
    top = max(max(cumulative), richness.chao1_high if est else 0, 1)
    width, height, pad_l, pad_r, pad_t, pad_b = 720, 200, 44, 70, 12, 28
    iw, ih = width - pad_l - pad_r, height - pad_t - pad_b

    def x(i: float) -> float:
        return pad_l + iw * i / n

    def y(v: float) -> float:
        return pad_t + ih * (1 - v / top)

    stride = max(1, n // 600)
    idx = list(range(0, n, stride))
    if idx[-1] != n - 1:
        idx.append(n - 1)
    pts, prev = [f"{x(0):.1f},{y(0):.1f}"], 0
    for i in idx:
        pts.append(f"{x(i):.1f},{y(prev):.1f}")
        prev = cumulative[i]
        pts.append(f"{x(i):.1f},{y(prev):.1f}")
        pts.append(f"{x(i + 1):.1f},{y(prev):.1f}")
    out = [f'<svg class="chart accumulation" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
           f'font-family="{FONT_FAMILY}" font-size="{FONT_SIZE}" xmlns="http://www.w3.org/2000/svg"><title>{escape(t.gettext(MSG["accumulation"]))}</title>',
           f'<line class="grid" x1="{pad_l}" x2="{pad_l + iw}" y1="{y(0):.1f}" y2="{y(0):.1f}"/>',
           f'<text class="col-sub" x="{pad_l - 6}" y="{y(0) + 4:.1f}" text-anchor="end">0</text>',
           f'<text class="col-sub" x="{pad_l - 6}" y="{y(top) + 4:.1f}" text-anchor="end">{top}</text>',
           f'<text class="col-sub" x="{x(0):.1f}" y="{height - 8}">1</text>',
           f'<text class="col-sub" x="{x(n):.1f}" y="{height - 8}" text-anchor="end">{escape(n_label)}</text>']
    if est:
        tip = escape(t.gettext(MSG["chao1"]) % {"chao1": i18n.decimal(richness.chao1, t.language), "low": richness.chao1_low, "high": richness.chao1_high})
        out.append(f'<rect class="chao1-band" x="{pad_l}" y="{y(richness.chao1_high):.1f}" width="{iw}" '
                   f'height="{max(0.5, y(richness.chao1_low) - y(richness.chao1_high)):.1f}" fill="#1d4ed8" opacity="0.10"><title>{tip}</title></rect>')
        out.append(f'<line class="chao1" x1="{pad_l}" x2="{pad_l + iw}" y1="{y(richness.chao1):.1f}" y2="{y(richness.chao1):.1f}" '
                   f'stroke="#1d4ed8" stroke-width="1.5" stroke-dasharray="6 4"><title>{tip}</title></line>')
        out.append(f'<text class="col-sub" x="{pad_l + iw + 6}" y="{y(richness.chao1) + 4:.1f}">≈{i18n.decimal(richness.chao1, t.language)}</text>')
    out.append(f'<polyline class="heard" points="{" ".join(pts)}" fill="none" stroke="#111827" stroke-width="2" stroke-linejoin="round"/>')
    out.append("</svg>")
    return Markup("".join(out))


def cooccurrence_svg(pains: list[tuple[str, str]], interviews: dict[str, int], pairs: dict, link: Callable[[str], str] | None = None, *,
                     t: Translator | None = None) -> Markup:
    """Pain × pain: interviews that mention both (number), coloured by Jaccard. ``pairs`` maps (a, b) with a < b;
    ``link(pain)`` makes the row labels links (the site; the report has none)."""
    if len(pains) < 2:
        return Markup("")
    t = t or translator("en")
    cell = 40
    label_w = max(_text_width(f"{i + 1}. {t}", FONT_SIZE) for i, (_s, t) in enumerate(pains)) + 14
    width = int(label_w + cell * len(pains) + 10)
    height = 24 + cell * len(pains) + 6
    out = [f'<svg class="chart cooccurrence" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
           f'font-family="{FONT_FAMILY}" font-size="{FONT_SIZE}" style="max-width:100%;height:auto" xmlns="http://www.w3.org/2000/svg"><title>{escape(t.gettext(MSG["cooccurrence"]))}</title>']
    for i, (slug, title) in enumerate(pains):
        out.append(f'<text class="col-sub" x="{label_w + i * cell + cell / 2:.0f}" y="16" text-anchor="middle">{i + 1}</text>')
        y = 24 + i * cell
        label = (f'<text class="row-label" x="{label_w - 8:.0f}" y="{y + cell / 2 + 4:.0f}" '
                 f'text-anchor="end">{escape(f"{i + 1}. {title}")}</text>')
        out.append(f'<a href="{escape(link(slug))}">{label}</a>' if link else label)
        for j, (slug_b, title_b) in enumerate(pains):
            x = label_w + j * cell
            if i == j:
                out.append(f'<rect x="{x + 1:.0f}" y="{y + 1}" width="{cell - 2}" height="{cell - 2}" fill="#f3f4f6"/>'
                           f'<text class="col-sub" x="{x + cell / 2:.0f}" y="{y + cell / 2 + 4:.0f}" text-anchor="middle">{interviews.get(slug, 0)}</text>')
                continue
            p = pairs.get((slug, slug_b) if slug < slug_b else (slug_b, slug))
            jac, k = (p.jaccard, p.together) if p else (0.0, 0)
            together = t.ngettext("%(k)s interview together", "%(k)s interviews together", k) % {"k": k}
            out.append(f'<g class="pair" data-a="{escape(slug)}" data-b="{escape(slug_b)}" data-together="{k}" data-jaccard="{jac:.6f}">'
                       f'<title>{escape(title)} + {escape(title_b)}: {escape(together)}, Jaccard {i18n.decimal(jac, t.language, 2, fixed=True)}</title>'
                       f'<rect x="{x + 1:.0f}" y="{y + 1}" width="{cell - 2}" height="{cell - 2}" fill="{_color(jac)}"/>')
            if k:
                ink = "#ffffff" if jac >= 0.5 else "#111827"
                out.append(f'<text x="{x + cell / 2:.0f}" y="{y + cell / 2 + 4:.0f}" text-anchor="middle" font-size="12" fill="{ink}">{k}</text>')
            out.append("</g>")
    out.append("</svg>")
    return Markup("".join(out))
