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
            verdict = c.get("verdict")
            if verdict:
                tip += f", {verdict}" + (f" (about {c['more_interviews']} more interviews would settle it)" if c.get("more_interviews") else "")
            edge = ' stroke="#111827" stroke-width="2"' if verdict == "systemic" else ""
            label = f"{share * 100:.0f}%" if share is not None else "–"
            fg = "#ffffff" if share is not None and share >= 0.5 else "#1f2937"
            out.append(
                f'<a href="{escape(link(p, s))}"><g class="cell" data-pain="{escape(p)}" data-segment="{escape(s)}" data-share="{share if share is not None else ""}">'
                f'<title>{escape(tip)}</title>'
                f'<rect x="{x + 2:.0f}" y="{y + 2}" width="{cell_w - 4}" height="{cell_h - 4}" rx="4" fill="{_color(share)}"{edge}/>'
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
        verdict = r.get("verdict")
        fill = {"systemic": "#1d4ed8", "unclear": "#60a5fa"}.get(verdict, "#bfdbfe")
        out.append(f'<text class="row-label" x="{label_w - 10:.0f}" y="{y + row_h / 2 + 4:.0f}" text-anchor="end">{escape(title)}</text>')
        more = f", about {r['more_interviews']} more interviews would settle it" if r.get("more_interviews") else ""
        out.append(f'<a href="{escape(link(r["pain"]))}"><g class="bar" data-pain="{escape(r["pain"])}" data-share="{share}" data-verdict="{escape(verdict or "")}">'
                   f'<title>{escape(title)}: {r.get("interviews", 0)} of {r.get("total_interviews", 0)} interviews, {escape(verdict or "")}{escape(more)}</title>'
                   f'<rect x="{label_w:.0f}" y="{y + 5}" width="{max(bar_w * share, 1):.1f}" height="{row_h - 10}" rx="3" '
                   f'fill="{fill}"/></g></a>')
        lo, hi = r.get("ci_low"), r.get("ci_high")
        if lo is not None and hi is not None:
            x1, x2, cy = label_w + bar_w * lo, label_w + bar_w * hi, y + row_h / 2
            out.append(f'<path class="ci" d="M{x1:.1f} {cy:.1f}H{x2:.1f}M{x1:.1f} {cy - 5:.1f}V{cy + 5:.1f}M{x2:.1f} {cy - 5:.1f}V{cy + 5:.1f}"/>')
        out.append(f'<text class="value" x="{label_w + bar_w + 10:.0f}" y="{y + row_h / 2 + 4:.0f}">{share * 100:.0f}% '
                   f'<tspan class="col-sub">({r.get("interviews", 0)}/{r.get("total_interviews", 0)})</tspan></text>')
    out.append("</svg>")
    return Markup("".join(out))


def accumulation_svg(cumulative: list[int], richness=None) -> Markup:
    """Distinct pains heard (cumulative) by interview in date order, with the Chao1 estimate (dashed line) and its 95%
    interval (band). ``richness`` is a custdev.stats.Richness, or None."""
    n = len(cumulative)
    if not n:
        return Markup("")
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
           f'xmlns="http://www.w3.org/2000/svg"><title>Distinct pains heard by interview, with the Chao1 estimate</title>',
           f'<line class="grid" x1="{pad_l}" x2="{pad_l + iw}" y1="{y(0):.1f}" y2="{y(0):.1f}"/>',
           f'<text class="col-sub" x="{pad_l - 6}" y="{y(0) + 4:.1f}" text-anchor="end">0</text>',
           f'<text class="col-sub" x="{pad_l - 6}" y="{y(top) + 4:.1f}" text-anchor="end">{top}</text>',
           f'<text class="col-sub" x="{x(0):.1f}" y="{height - 8}">1</text>',
           f'<text class="col-sub" x="{x(n):.1f}" y="{height - 8}" text-anchor="end">{n} interviews</text>']
    if est:
        tip = escape(f"Chao1 {richness.chao1:.1f} pains (95% CI {richness.chao1_low}–{richness.chao1_high})")
        out.append(f'<rect class="chao1-band" x="{pad_l}" y="{y(richness.chao1_high):.1f}" width="{iw}" '
                   f'height="{max(0.5, y(richness.chao1_low) - y(richness.chao1_high)):.1f}" fill="#1d4ed8" opacity="0.10"><title>{tip}</title></rect>')
        out.append(f'<line class="chao1" x1="{pad_l}" x2="{pad_l + iw}" y1="{y(richness.chao1):.1f}" y2="{y(richness.chao1):.1f}" '
                   f'stroke="#1d4ed8" stroke-width="1.5" stroke-dasharray="6 4"><title>{tip}</title></line>')
        out.append(f'<text class="col-sub" x="{pad_l + iw + 6}" y="{y(richness.chao1) + 4:.1f}">≈{richness.chao1:.1f}</text>')
    out.append(f'<polyline class="heard" points="{" ".join(pts)}" fill="none" stroke="#111827" stroke-width="2" stroke-linejoin="round"/>')
    out.append("</svg>")
    return Markup("".join(out))


def cooccurrence_svg(pains: list[tuple[str, str]], interviews: dict[str, int], pairs: dict, link: Callable[[str], str]) -> Markup:
    """Pain × pain: interviews that mention both (number), coloured by Jaccard. ``pairs`` maps (a, b) with a < b."""
    if len(pains) < 2:
        return Markup("")
    cell = 40
    label_w = max(_text_width(f"{i + 1}. {t}", 12) for i, (_s, t) in enumerate(pains)) + 14
    width = int(label_w + cell * len(pains) + 10)
    height = 24 + cell * len(pains) + 6
    out = [f'<svg class="chart cooccurrence" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
           f'xmlns="http://www.w3.org/2000/svg"><title>Pains mentioned in the same interviews</title>']
    for i, (slug, title) in enumerate(pains):
        out.append(f'<text class="col-sub" x="{label_w + i * cell + cell / 2:.0f}" y="16" text-anchor="middle">{i + 1}</text>')
        y = 24 + i * cell
        out.append(f'<a href="{escape(link(slug))}"><text class="row-label" x="{label_w - 8:.0f}" y="{y + cell / 2 + 4:.0f}" '
                   f'text-anchor="end">{escape(f"{i + 1}. {title}")}</text></a>')
        for j, (slug_b, title_b) in enumerate(pains):
            x = label_w + j * cell
            if i == j:
                out.append(f'<rect x="{x + 1:.0f}" y="{y + 1}" width="{cell - 2}" height="{cell - 2}" fill="#f3f4f6"/>'
                           f'<text class="col-sub" x="{x + cell / 2:.0f}" y="{y + cell / 2 + 4:.0f}" text-anchor="middle">{interviews.get(slug, 0)}</text>')
                continue
            p = pairs.get((slug, slug_b) if slug < slug_b else (slug_b, slug))
            jac, k = (p.jaccard, p.together) if p else (0.0, 0)
            out.append(f'<g class="pair" data-a="{escape(slug)}" data-b="{escape(slug_b)}" data-together="{k}" data-jaccard="{jac:.6f}">'
                       f'<title>{escape(title)} + {escape(title_b)}: {k} interviews together, Jaccard {jac:.2f}</title>'
                       f'<rect x="{x + 1:.0f}" y="{y + 1}" width="{cell - 2}" height="{cell - 2}" fill="{_color(jac)}"/>')
            if k:
                ink = "#ffffff" if jac >= 0.5 else "#111827"
                out.append(f'<text x="{x + cell / 2:.0f}" y="{y + cell / 2 + 4:.0f}" text-anchor="middle" font-size="12" fill="{ink}">{k}</text>')
            out.append("</g>")
    out.append("</svg>")
    return Markup("".join(out))
