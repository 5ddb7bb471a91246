"""The stakeholder report: markdown or a self-contained HTML page, in the "sandwich" order.

1. **What customers value** – quotes tagged ``#value`` (or ``#value/…``, ``#ценность``), at most 6, one per
   interview; then the hypotheses the evidence supports.
2. **Top pains** – every systemic pain (share ≥ ``analysis.systemic_threshold``), topped up with the most common
   local pains to at least 3 and capped at 8; each with its prevalence, 95% Wilson interval, journey stage and 2–3
   verbatim quotes with interview id and timestamp.
3. **Opportunities** – for each systemic pain, the segment where it is most common (where solving it pays first);
   quotes tagged ``#opportunity``, ``#idea``, ``#wish`` or ``#feature-request`` (and children, ``#возможность``,
   ``#идея``); hypotheses still lacking evidence, as the next questions to ask.

Then NPS by segment, a pain × segment heatmap (an SVG drawn by custdev.charts, embedded in the HTML, written next to a
markdown file), hypotheses, saturation and how to read the numbers. Labels follow ``base.language`` (en/ru).

Quote choice (deterministic): quotes from different interviews; respondent turns before interviewer turns; quotes of
40–300 characters before shorter or longer ones; the most recent interviews first; then file order.
Every figure comes from the analysis views, so the report, the CLI and Datasette agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from custdev.config import Base, atomic_write_text
from custdev.errors import CustdevError, os_reason
from custdev.i18n import N_
from custdev.paths import format_by_name
from custdev.report.data import ReportData, collect
from custdev.report.render import heatmap_svg, render_html, render_markdown, saturation_svg

__all__ = ["FORMATS", "ReportData", "ReportResult", "collect", "heatmap_svg", "make_report", "render_html", "render_markdown", "saturation_svg"]

FORMATS = ("md", "html")

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
        fmt = format_by_name(out, {".md": "md", ".markdown": "md", ".txt": "md", ".html": "html", ".htm": "html"}, "md")
        if fmt is None:
            raise CustdevError(N_("{name}: custdev writes a report as .md or .html, not {suffix}; name the file so, or give --format"),
                               name=out.name, suffix=out.suffix)
        return fmt
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise CustdevError(N_("unknown report format '{fmt}'; use md or html"), fmt=fmt)
    return fmt


def _check_writable(path: Path) -> None:
    try:
        _check_target(path)
    except OSError as exc:
        raise CustdevError(N_("cannot write the report to {path}: {error}"), path=path, error=os_reason(exc)) from None


def _check_target(path: Path) -> None:
    if path.is_dir():
        raise CustdevError(N_("cannot write the report to {path}: it is a folder"), path=path)
    parent = path.parent
    if parent.exists() and not parent.is_dir():
        raise CustdevError(N_("cannot write the report to {path}: {parent} is not a folder"), path=path, parent=parent)
    if not parent.is_dir():
        raise CustdevError(N_("cannot write the report to {path}: folder {parent} does not exist"), path=path, parent=parent)


def _write(path: Path, text: str) -> None:
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise CustdevError(N_("cannot write the report to {path}: {error}"), path=path, error=os_reason(exc)) from None


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
