"""The report's SVG charts (plain SVG, no plotting dependency): the pain × segment heatmap and the saturation curve."""

from __future__ import annotations

import html
import math

from custdev import charts
from custdev.report.data import ReportData
from custdev.i18n import translator
from custdev.report.text import pct

# ---------------------------------------------------------------------------------------------------------------
# Heatmap (plain SVG, no plotting dependency)


def _mix(share: float) -> str:
    """White → deep red; the colour of a share 0..1."""
    lo, hi = (247, 248, 250), (180, 35, 24)
    t = max(0.0, min(1.0, share)) ** 0.8
    r, g, b = (round(a + (c - a) * t) for a, c in zip(lo, hi))
    return f"#{r:02x}{g:02x}{b:02x}"


def _text_w(text: str, size: float) -> float:
    """Measured with the font the report's SVG asks for first (custdev.charts: DejaVu Sans advance widths)."""
    return charts.text_width(text, size)


def _wrap(text: str, width_px: float, size: float, max_lines: int = 2) -> list[str]:
    """Wrapped at spaces; a word longer than the room is shortened with "…" (custdev.charts.fit), never clipped."""
    return charts.fit(text, width_px, size, max_lines=max_lines)


def heatmap_svg(d: ReportData) -> str:
    _ = translator(d.language).gettext
    esc = html.escape
    pains = d.pains.pains
    cols: list[tuple[str, str, int]] = [("__all__", _("All"), d.pains.total_interviews)]
    cols += [(s.segment, s.title, s.interviews) for s in d.segments]
    cell_w, cell_h, font = 104, 40, 13
    label_w = min(240, max(140, max((_text_w(p.title, font) for p in pains), default=100) + 24))
    head_lines = max((len(_wrap(title, cell_w - 8, 12, max_lines=3)) for _s, title, _n in cols), default=1)
    head_h = 38 + 14 * head_lines
    legend_h = 56
    gap = 10  # space between the All column and the segments

    def col_x(c: int) -> float:
        return label_w + c * cell_w + (gap if c > 0 else 0)

    width = int(label_w + cell_w * len(cols) + gap + 16)
    height = int(head_h + cell_h * max(1, len(pains)) + legend_h)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'font-family="{charts.FONT_FAMILY}" role="img" '
        f'aria-label="{esc(_("Pains by segment"))}">',
        "<defs>"
        '<pattern id="empty" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="8" height="8" fill="#eef0f3"/><line x1="0" y1="0" x2="0" y2="8" stroke="#d9dde3" stroke-width="3"/></pattern>'
        '<linearGradient id="scale" x1="0" x2="1" y1="0" y2="0">'
        + "".join(f'<stop offset="{k / 10:.1f}" stop-color="{_mix(k / 10)}"/>' for k in range(11))
        + "</linearGradient></defs>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    # column headers
    for c, (slug, title, n) in enumerate(cols):
        x = col_x(c) + cell_w / 2
        lines = _wrap(title, cell_w - 8, 12, max_lines=3)
        y0 = head_h - 22 - 14 * (len(lines) - 1)
        weight = "700" if slug == "__all__" or slug == d.segment else "600"
        for k, line in enumerate(lines):
            parts.append(f'<text x="{x:.1f}" y="{y0 + 14 * k:.1f}" font-size="12" font-weight="{weight}" fill="#1f2937" text-anchor="middle">{esc(line)}</text>')
        parts.append(f'<text x="{x:.1f}" y="{head_h - 7}" font-size="11" fill="#6b7280" text-anchor="middle">n={n}</text>')
    # rows
    for r, p in enumerate(pains):
        y = head_h + r * cell_h
        label = _wrap(p.title, label_w - 16, font, max_lines=2)
        ly0 = y + cell_h / 2 + 4.5 - 7.5 * (len(label) - 1)
        spans = "".join(f'<tspan x="{label_w - 12}" y="{ly0 + 15 * k:.1f}">{esc(line)}</tspan>' for k, line in enumerate(label))
        parts.append(f'<text font-size="{font}" fill="#111827" text-anchor="end">{spans}<title>{esc(p.title)} ({esc(p.pain)})</title></text>')
        for c, (slug, title, n) in enumerate(cols):
            x = col_x(c)
            if slug == "__all__":
                k, share = p.interviews, p.share
            else:
                s = p.segments.get(slug)
                k, share = (s.interviews, s.share) if s else (0, None)
            if share is None:
                parts.append(f'<rect x="{x + 1}" y="{y + 1}" width="{cell_w - 2}" height="{cell_h - 2}" rx="3" fill="url(#empty)"/>')
                parts.append(f'<text x="{x + cell_w / 2}" y="{y + cell_h / 2 + 4.5:.1f}" font-size="12" fill="#9ca3af" text-anchor="middle">—</text>')
                continue
            fill = _mix(share)
            ink = "#ffffff" if share >= 0.45 else "#111827"
            sub = "#fde8e6" if share >= 0.45 else "#6b7280"
            v = p.verdict if slug == "__all__" else (s.verdict if s else None)
            stroke = ' stroke="#111827" stroke-width="1.5"' if v == "systemic" else ' stroke="#111827" stroke-width="1" stroke-dasharray="3 2"' if v == "unclear" and share >= d.threshold - 1e-12 else ""
            parts.append(f'<rect x="{x + 1}" y="{y + 1}" width="{cell_w - 2}" height="{cell_h - 2}" rx="3" fill="{fill}"{stroke}>'
                         f'<title>{esc(p.title)} · {esc(title)}: {k}/{n} = {pct(share, d.language)}</title></rect>')
            parts.append(f'<text x="{x + cell_w / 2}" y="{y + 18}" font-size="13" font-weight="600" fill="{ink}" text-anchor="middle">{pct(share, d.language)}</text>')
            parts.append(f'<text x="{x + cell_w / 2}" y="{y + 32}" font-size="10.5" fill="{sub}" text-anchor="middle">{k}/{n}</text>')
    # legend
    ly = head_h + cell_h * max(1, len(pains)) + 18
    lx, lw = label_w, min(240, cell_w * len(cols) + gap)
    parts.append(f'<rect x="{lx}" y="{ly}" width="{lw}" height="10" rx="2" fill="url(#scale)" stroke="#d1d5db" stroke-width="0.5"/>')
    parts.append(f'<text x="{lx}" y="{ly + 24}" font-size="10.5" fill="#6b7280">0%</text>')
    parts.append(f'<text x="{lx + lw}" y="{ly + 24}" font-size="10.5" fill="#6b7280" text-anchor="end">100%</text>')
    parts.append(f'<text x="{lx + lw / 2}" y="{ly + 24}" font-size="10.5" fill="#6b7280" text-anchor="middle">{esc(_("share of interviews"))}</text>')
    tx = lx + lw + 18
    parts.append(f'<rect x="{tx}" y="{ly - 3}" width="16" height="16" rx="3" fill="{_mix(d.threshold)}" stroke="#111827" stroke-width="1.5"/>')
    parts.append(f'<text x="{tx + 22}" y="{ly + 9}" font-size="11" fill="#374151">{esc(_("systemic ≥ {t}").format(t=pct(d.threshold, d.language)))}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def saturation_svg(d: ReportData, width: int = 900, height: int = 150) -> str:
    """Step chart of distinct pains heard so far, interview by interview (the saturation curve)."""
    steps = d.saturation.steps
    if not steps:
        return ""
    r = d.richness
    est = r is not None and r.observed > 0 and r.chao1_high is not None
    top = max(d.saturation.total_pains, r.chao1_high if est else 0)
    n, total = len(steps), max(1, math.ceil(top - 1e-9))
    pad_l, pad_r, pad_t, pad_b = 36, 12, 10, 24
    iw, ih = width - pad_l - pad_r, height - pad_t - pad_b
    stride = max(1, n // 600)  # a long base: at most ~600 steps, the last always kept
    idx = list(range(0, n, stride))
    if idx[-1] != n - 1:
        idx.append(n - 1)
    x_of = lambda i: pad_l + iw * (i + 1) / n  # noqa: E731 - the right edge of interview i
    y_of = lambda v: pad_t + ih * (1 - v / total)  # noqa: E731
    pts = [f"{pad_l},{y_of(0):.1f}"]
    prev = 0
    for i in idx:
        x0 = pad_l + iw * i / n
        pts.append(f"{x0:.1f},{y_of(prev):.1f}")
        prev = steps[i].cumulative_pains
        pts.append(f"{x0:.1f},{y_of(prev):.1f}")
        pts.append(f"{x_of(i):.1f},{y_of(prev):.1f}")
    dots = ""
    if n <= 60:
        dots = "".join(
            f'<circle cx="{pad_l + iw * (i + 0.5) / n:.1f}" cy="{y_of(st.cumulative_pains):.1f}" r="{4 if st.new_pains else 2.5}" '
            f'fill="{"#ffffff" if st.new_pains else "#98a2b3"}" stroke="#344054" stroke-width="{1.5 if st.new_pains else 0}">'
            f"<title>#{st.seq} {html.escape(st.interview_id)}: +{len(st.new_pains)}</title></circle>"
            for i, st in enumerate(steps)
        )
    window = d.saturation.window
    wx = pad_l + iw * max(0, n - window) / n
    colour = "#067647" if d.saturation.saturated else "#b54708"
    estimate = ""
    if est:
        y_hi, y_lo, y_c = y_of(r.chao1_high), y_of(r.chao1_low), y_of(r.chao1)
        tip = html.escape(f"Chao1 {r.chao1:.1f} ({r.chao1_low:.1f}–{r.chao1_high:.1f})")
        estimate = (
            f'<rect class="chao1-band" x="{pad_l}" y="{y_hi:.1f}" width="{iw}" height="{max(0.5, y_lo - y_hi):.1f}" fill="#175cd3" opacity="0.10"><title>{tip}</title></rect>'
            f'<line class="chao1" x1="{pad_l}" y1="{y_c:.1f}" x2="{pad_l + iw}" y2="{y_c:.1f}" stroke="#175cd3" stroke-width="1.5" stroke-dasharray="6 4"><title>{tip}</title></line>'
            f'<text x="{pad_l + iw - 4}" y="{max(pad_t + 10, y_c - 4):.1f}" font-size="11" fill="#175cd3" text-anchor="end">≈{r.chao1:.1f}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 {width} {height}" role="img" '
        f'font-family="{charts.FONT_FAMILY}" style="max-width:{width}px;display:block">'
        f'<rect x="{wx:.1f}" y="{pad_t}" width="{pad_l + iw - wx:.1f}" height="{ih}" fill="{colour}" opacity="0.08"/>'
        f'<line x1="{pad_l}" y1="{pad_t + ih}" x2="{pad_l + iw}" y2="{pad_t + ih}" stroke="#d0d5dd"/>'
        f'<line x1="{pad_l}" y1="{pad_t}" x2="{pad_l + iw}" y2="{pad_t}" stroke="#eaecf0" stroke-dasharray="3 3"/>'
        f'<text x="{pad_l - 6}" y="{pad_t + 4}" font-size="11" fill="#667085" text-anchor="end">{total}</text>'
        f'<text x="{pad_l - 6}" y="{pad_t + ih}" font-size="11" fill="#667085" text-anchor="end">0</text>'
        f'<text x="{pad_l}" y="{height - 6}" font-size="11" fill="#667085">1</text>'
        f'<text x="{pad_l + iw}" y="{height - 6}" font-size="11" fill="#667085" text-anchor="end">{n}</text>'
        f"{estimate}"
        f'<polyline points="{" ".join(pts)}" fill="none" stroke="{colour}" stroke-width="2" stroke-linejoin="round"/>'
        f"{dots}</svg>"
    )


def cooccurrence_svg(d: ReportData, max_pains: int = 10) -> str:
    """Pain × pain heatmap: interviews that mention both, coloured by Jaccard (the most mentioned pains, at most 10)."""
    c = d.cooccurrence
    if c is None or not c.pairs:
        return ""
    _ = translator(d.language).gettext
    esc = html.escape
    pains = c.pains[:max_pains]
    cell, font = 44, 12
    label_w = min(240, max(120, max((_text_w(t, font) for _s, t in pains), default=100) + 20))
    head_h = 20
    width = int(label_w + cell * len(pains) + 16)
    height = int(head_h + cell * len(pains) + 30)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'font-family="{charts.FONT_FAMILY}" role="img" aria-label="{esc(_("Pains mentioned together"))}">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    for i, (slug, title) in enumerate(pains):
        x = label_w + i * cell + cell / 2
        parts.append(f'<text x="{x:.1f}" y="{head_h - 6}" font-size="11" fill="#374151" text-anchor="middle">{i + 1}<title>{esc(title)}</title></text>')
        y = head_h + i * cell
        label = _wrap(f"{i + 1}. {title}", label_w - 14, font, max_lines=2)
        ly0 = y + cell / 2 + 4.5 - 7.5 * (len(label) - 1)
        spans = "".join(f'<tspan x="{label_w - 8}" y="{ly0 + 15 * k:.1f}">{esc(line)}</tspan>' for k, line in enumerate(label))
        parts.append(f'<text font-size="{font}" fill="#111827" text-anchor="end">{spans}</text>')
        for j, (slug_b, title_b) in enumerate(pains):
            cx = label_w + j * cell
            if i == j:
                n = c.interviews[slug]
                parts.append(f'<rect x="{cx + 1}" y="{y + 1}" width="{cell - 2}" height="{cell - 2}" rx="3" fill="#eef0f3"/>'
                             f'<text x="{cx + cell / 2}" y="{y + cell / 2 + 4}" font-size="11" fill="#6b7280" text-anchor="middle">{n}</text>')
                continue
            pr = c.cell(slug, slug_b)
            jac, k = (pr.jaccard, pr.together) if pr else (0.0, 0)
            ink = "#ffffff" if jac >= 0.45 else "#111827"
            parts.append(f'<rect x="{cx + 1}" y="{y + 1}" width="{cell - 2}" height="{cell - 2}" rx="3" fill="{_mix(jac)}">'
                         f'<title>{esc(title)} + {esc(title_b)}: {k}, Jaccard {jac:.2f}</title></rect>')
            if k:
                parts.append(f'<text x="{cx + cell / 2}" y="{y + cell / 2 + 4}" font-size="12" font-weight="600" fill="{ink}" text-anchor="middle">{k}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
