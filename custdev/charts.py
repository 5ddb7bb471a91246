"""Charts as server-side SVG: they work with arbitrary SQL off, without JavaScript, on the site and in reports."""

from __future__ import annotations

from typing import Callable

from markupsafe import Markup, escape


def _color(share: float | None) -> str:
    if share is None:
        return "#f3f4f6"
    # from a pale to a deep blue
    lo, hi = (239, 246, 255), (30, 64, 175)
    t = max(0.0, min(1.0, float(share)))
    return "#%02x%02x%02x" % tuple(round(a + (b - a) * t) for a, b in zip(lo, hi))


def _text_width(text: str, size: float = 13) -> float:
    return len(text) * size * 0.56


def _wrap(text: str, width: int, max_lines: int) -> list[str]:
    """Greedy word wrap; the last line is shortened with an ellipsis when the text does not fit."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1] + " …"
    return [line if len(line) <= width else line[: width - 1] + "…" for line in lines]


def heatmap_svg(rows: list[dict], pain_order: list[str], link: Callable[[str, str], str]) -> Markup:
    """Pain × segment prevalence: one cell per (pain, segment), colour = share of the segment's interviews."""
    segments: dict[str, dict] = {}
    pains: dict[str, str] = {}
    cells: dict[tuple[str, str], dict] = {}
    for r in rows:
        segments.setdefault(r["segment"], {"title": r["segment_title"] or r["segment"], "n": r["segment_interviews"]})
        pains.setdefault(r["pain"], r["pain_title"] or r["pain"])
        cells[(r["pain"], r["segment"])] = r
    if not segments or not pains:
        return Markup("")
    order = [p for p in pain_order if p in pains] + sorted(p for p in pains if p not in pain_order)
    seg_order = sorted(segments, key=lambda s: (-(segments[s]["n"] or 0), segments[s]["title"]))
    label_w = max(_text_width(pains[p]) for p in order) + 16
    cell_w, cell_h, head_h = 132, 34, 78
    width = label_w + cell_w * len(seg_order) + 4
    height = head_h + cell_h * len(order) + 4
    out = [f'<svg class="chart heatmap" role="img" viewBox="0 0 {width:.0f} {height}" width="{width:.0f}" height="{height}" '
           f'xmlns="http://www.w3.org/2000/svg"><title>Pain prevalence by segment</title>']
    for j, s in enumerate(seg_order):
        x = label_w + j * cell_w + cell_w / 2
        title = segments[s]["title"]
        lines = _wrap(title, int(cell_w / 7.2), 3)
        tspans = "".join(
            f'<tspan x="{x:.0f}" dy="{0 if k == 0 else 15}">{escape(line)}</tspan>' for k, line in enumerate(lines)
        )
        top = 46 - 15 * (len(lines) - 1)
        out.append(f'<text class="col-label" x="{x:.0f}" y="{top}" text-anchor="middle"><title>{escape(title)}</title>{tspans}</text>')
        out.append(f'<text class="col-sub" x="{x:.0f}" y="64" text-anchor="middle">n = {segments[s]["n"] or 0}</text>')
    for i, p in enumerate(order):
        y = head_h + i * cell_h
        out.append(f'<text class="row-label" x="{label_w - 10:.0f}" y="{y + cell_h / 2 + 4:.0f}" text-anchor="end">{escape(pains[p])}</text>')
        for j, s in enumerate(seg_order):
            c = cells.get((p, s), {})
            share = c.get("share")
            x = label_w + j * cell_w
            tip = f"{pains[p]} · {segments[s]['title']}: " + (
                f"{c.get('interviews', 0)} of {c.get('segment_interviews', 0)} interviews ({share * 100:.0f}%)" if share is not None else "no interviews"
            )
            label = f"{share * 100:.0f}%" if share is not None else "–"
            fg = "#ffffff" if share is not None and share >= 0.5 else "#1f2937"
            out.append(
                f'<a href="{escape(link(p, s))}"><g class="cell" data-pain="{escape(p)}" data-segment="{escape(s)}" data-share="{share if share is not None else ""}">'
                f'<title>{escape(tip)}</title>'
                f'<rect x="{x + 2:.0f}" y="{y + 2}" width="{cell_w - 4}" height="{cell_h - 4}" rx="4" fill="{_color(share)}"/>'
                f'<text x="{x + cell_w / 2:.0f}" y="{y + cell_h / 2 + 5:.0f}" text-anchor="middle" fill="{fg}">{label}</text></g></a>'
            )
    out.append("</svg>")
    return Markup("".join(out))


def nps_svg(rows: list[dict], link: Callable[[str], str]) -> Markup:
    """NPS by segment: 100% stacked bars of detractors / passives / promoters, with the score."""
    rows = [r for r in rows if r.get("segment")]
    if not rows:
        return Markup("")
    label_w = max(_text_width(r["segment_title"] or r["segment"]) for r in rows) + 16
    bar_w, row_h, score_w = 420, 36, 150
    width = label_w + bar_w + score_w
    height = 30 + row_h * len(rows)
    colors = {"detractors": "#dc2626", "passives": "#9ca3af", "promoters": "#16a34a"}
    out = [f'<svg class="chart nps" role="img" viewBox="0 0 {width:.0f} {height}" width="{width:.0f}" height="{height}" '
           f'xmlns="http://www.w3.org/2000/svg"><title>NPS by segment</title>']
    lx = label_w
    for name, color in colors.items():
        out.append(f'<rect x="{lx:.0f}" y="6" width="12" height="12" rx="2" fill="{color}"/>'
                   f'<text class="legend" x="{lx + 17:.0f}" y="16">{name}</text>')
        lx += 110
    for i, r in enumerate(rows):
        y = 30 + i * row_h
        title = r["segment_title"] or r["segment"]
        out.append(f'<text class="row-label" x="{label_w - 10:.0f}" y="{y + row_h / 2 + 4:.0f}" text-anchor="end">{escape(title)}</text>')
        scored = r.get("scored") or 0
        group = [f'<a href="{escape(link(r["segment"]))}"><g class="nps-row" data-segment="{escape(r["segment"])}" data-nps="{"" if r.get("nps") is None else r["nps"]}">']
        if scored:
            x = label_w
            for name in ("detractors", "passives", "promoters"):
                n = r.get(name) or 0
                w = bar_w * n / scored
                if w > 0:
                    group.append(f'<rect x="{x:.1f}" y="{y + 5}" width="{w:.1f}" height="{row_h - 10}" fill="{colors[name]}">'
                                 f'<title>{escape(title)}: {n} {name} of {scored} scored</title></rect>')
                    if w >= 26:
                        group.append(f'<text class="in-bar" x="{x + w / 2:.1f}" y="{y + row_h / 2 + 4:.0f}" text-anchor="middle">{n}</text>')
                x += w
            nps = r.get("nps")
            shown = f"+{nps:.0f}" if nps > 0 else (f"−{abs(nps):.0f}" if nps < 0 else "0")
            group.append(f'<text class="score" x="{label_w + bar_w + 12:.0f}" y="{y + row_h / 2 + 5:.0f}">NPS {shown}</text>'
                         f'<text class="col-sub" x="{label_w + bar_w + 96:.0f}" y="{y + row_h / 2 + 5:.0f}">n={scored}</text>')
        else:
            group.append(f'<rect x="{label_w:.0f}" y="{y + 5}" width="{bar_w}" height="{row_h - 10}" fill="#f3f4f6"/>'
                         f'<text class="col-sub" x="{label_w + 10:.0f}" y="{y + row_h / 2 + 4:.0f}">no scores yet</text>')
        group.append("</g></a>")
        out.extend(group)
    out.append("</svg>")
    return Markup("".join(out))


def prevalence_svg(rows: list[dict], threshold: float | None, link: Callable[[str], str]) -> Markup:
    """Share of interviews mentioning each pain, with its 95% interval and the systemic threshold."""
    if not rows:
        return Markup("")
    label_w = max(_text_width(r["title"] or r["pain"]) for r in rows) + 16
    bar_w, row_h = 420, 28
    width = label_w + bar_w + 120
    height = 34 + row_h * len(rows)
    out = [f'<svg class="chart prevalence" role="img" viewBox="0 0 {width:.0f} {height}" width="{width:.0f}" height="{height}" '
           f'xmlns="http://www.w3.org/2000/svg"><title>Pain prevalence</title>']
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        x = label_w + bar_w * tick
        out.append(f'<line class="grid" x1="{x:.0f}" x2="{x:.0f}" y1="20" y2="{height - 4}"/>'
                   f'<text class="col-sub" x="{x:.0f}" y="14" text-anchor="middle">{tick * 100:.0f}%</text>')
    if threshold:
        x = label_w + bar_w * threshold
        out.append(f'<line class="threshold" x1="{x:.0f}" x2="{x:.0f}" y1="20" y2="{height - 4}"><title>systemic threshold {threshold * 100:.0f}%</title></line>')
    for i, r in enumerate(rows):
        y = 24 + i * row_h
        share = r.get("share") or 0.0
        title = r["title"] or r["pain"]
        systemic = r.get("verdict") == "systemic"
        out.append(f'<text class="row-label" x="{label_w - 10:.0f}" y="{y + row_h / 2 + 4:.0f}" text-anchor="end">{escape(title)}</text>')
        out.append(f'<a href="{escape(link(r["pain"]))}"><g class="bar" data-pain="{escape(r["pain"])}" data-share="{share}">'
                   f'<title>{escape(title)}: {r.get("interviews", 0)} of {r.get("total_interviews", 0)} interviews</title>'
                   f'<rect x="{label_w:.0f}" y="{y + 5}" width="{max(bar_w * share, 1):.1f}" height="{row_h - 10}" rx="3" '
                   f'fill="{"#1d4ed8" if systemic else "#93c5fd"}"/></g></a>')
        lo, hi = r.get("ci_low"), r.get("ci_high")
        if lo is not None and hi is not None:
            x1, x2, cy = label_w + bar_w * lo, label_w + bar_w * hi, y + row_h / 2
            out.append(f'<path class="ci" d="M{x1:.1f} {cy:.1f}H{x2:.1f}M{x1:.1f} {cy - 5:.1f}V{cy + 5:.1f}M{x2:.1f} {cy - 5:.1f}V{cy + 5:.1f}"/>')
        out.append(f'<text class="value" x="{label_w + bar_w + 10:.0f}" y="{y + row_h / 2 + 4:.0f}">{share * 100:.0f}% '
                   f'<tspan class="col-sub">({r.get("interviews", 0)}/{r.get("total_interviews", 0)})</tspan></text>')
    out.append("</svg>")
    return Markup("".join(out))
