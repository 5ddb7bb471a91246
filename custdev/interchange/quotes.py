"""``custdev export quotes --format csv|xlsx``: every quote as a spreadsheet row for stakeholders.

Columns: quote id, interview, date, speaker, role, time, quote, pains, hypotheses, tags, segments, link (the quote's
page on the research site). A Russian base's spreadsheet reads as Russian: its headers, sheet, speaker roles and the
"(against)" of a refuting quote come from the catalogs; an English one keeps the column names as headers. The CSV is UTF-8 with a byte-order mark, so Excel shows Cyrillic as Cyrillic, with CRLF
row ends; the XLSX (openpyxl, imported only here) has a bold frozen header, filters, wrapped quotes and clickable
links. A cell that would start with ``=``, ``+``, ``-``, ``@`` or a tab is never written as a formula (CSV: it is
prefixed with ``'``; XLSX: it is stored as text), so a quote cannot run anything in a spreadsheet.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from custdev.config import Base, atomic_write_bytes
from custdev.errors import CustdevError, os_reason
from custdev.i18n import N_, SPEAKER_ROLES, translator
from custdev.markdown import format_timestamp

COLUMNS = ("quote_id", "interview", "date", "speaker", "role", "time", "quote", "pains", "hypotheses", "tags", "segments", "link")
HEADERS = {  # the columns' headers in a base of another language than English
    "quote_id": N_("Quote id"), "interview": N_("Interview"), "date": N_("Date"), "speaker": N_("Speaker"),
    "role": N_("Speaker role"), "time": N_("Time"), "quote": N_("Quote"), "pains": N_("Pains"),
    "hypotheses": N_("Hypotheses"), "tags": N_("Tags"), "segments": N_("Segments"), "link": N_("Link"),
}
_AGAINST = "\x01"  # where the SQL marks a refuting quote's hypothesis; written as the catalog's " (against)"
DEFAULT_SITE = "http://127.0.0.1:8001"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class QuotesExportError(CustdevError):
    pass


@dataclass
class QuotesResult:
    path: str
    rows: int
    format: str

    def to_dict(self) -> dict:
        return {"path": self.path, "rows": self.rows, "format": self.format}


def quote_rows(db, site_url: str, *, segment: str | None = None, pain: str | None = None, language: str = "en"):
    """(column values) per quote, in interview date order, then the order of the file (ids need not follow it); roles
    and "(against)" in ``language``."""
    tr = translator(language)
    against = tr.gettext(" (against)")
    roles = {k: (k if language == "en" else tr.gettext(v)) for k, v in SPEAKER_ROLES.items()}
    where, params = [], []
    if segment:
        where.append("q.interview_id IN (SELECT interview_id FROM interview_segments WHERE segment = ?)")
        params.append(segment)
    if pain:
        where.append("q.id IN (SELECT quote_id FROM quote_pains WHERE pain = ?)")
        params.append(pain)
    sql = f"""
        SELECT q.id, q.interview_id, i.date, u.speaker, u.speaker_role, q.start_s, q.text,
          (SELECT group_concat(pain, ', ') FROM (SELECT pain FROM quote_pains WHERE quote_id = q.id ORDER BY pain)),
          (SELECT group_concat(h, ', ') FROM (SELECT hypothesis || CASE stance WHEN 'against' THEN char(1) ELSE '' END AS h
                                              FROM quote_hypotheses WHERE quote_id = q.id ORDER BY hypothesis)),
          (SELECT group_concat(tag, ', ') FROM (SELECT tag FROM quote_tags WHERE quote_id = q.id ORDER BY tag)),
          (SELECT group_concat(segment, ', ') FROM (SELECT segment FROM interview_segments WHERE interview_id = q.interview_id ORDER BY segment))
        FROM quotes q JOIN interviews i ON i.id = q.interview_id JOIN utterances u ON u.id = q.utterance_id
        {"WHERE " + " AND ".join(where) if where else ""}
        ORDER BY i.date IS NULL, i.date, q.interview_id, q.line, q.id
    """
    site = site_url.rstrip("/")
    for row in db.conn.execute(sql, params):
        qid, iid, date, speaker, role, start, text, pains, hyps, tags, segments = row
        yield (qid, iid, date or "", speaker, roles.get(role, role), format_timestamp(start), text, pains or "",
               (hyps or "").replace(_AGAINST, against), tags or "", segments or "", f"{site}/custdev/quotes/{qid}")


def _csv_safe(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_quotes(base: Base, dest: str | Path, *, fmt: str | None = None, site_url: str = DEFAULT_SITE,
                  segment: str | None = None, pain: str | None = None, delimiter: str | None = None) -> QuotesResult:
    from custdev.config import check_slug
    from custdev.db import open_db

    dest = Path(dest)
    fmt = (fmt or dest.suffix.lstrip(".") or "csv").lower()
    if fmt not in ("csv", "xlsx"):
        raise QuotesExportError(N_("unknown format '{fmt}' (use csv or xlsx)"), fmt=fmt)
    if segment:
        check_slug("segment", segment, base.codebook.segments)
    if pain:
        check_slug("pain", pain, base.codebook.pains)
    if not base.db_path.exists():
        raise QuotesExportError(N_("{root} has no {name} yet; run 'custdev build' first"), root=base.root, name=base.db_path.name)
    if dest.is_dir() or not dest.parent.is_dir():
        raise QuotesExportError(N_("{dest}: give a file name in an existing folder"), dest=dest)
    db = open_db(base.db_path)
    language = base.config.language
    rows = list(quote_rows(db, site_url, segment=segment, pain=pain, language=language))
    tr = translator(language)
    headers = list(COLUMNS) if language == "en" else [tr.gettext(HEADERS[c]) for c in COLUMNS]
    if fmt == "csv":
        # Excel in a Russian locale splits CSV on ';': a Russian base defaults to it, an English one to ','.
        sep = delimiter or (";" if base.config.language == "ru" else ",")
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, delimiter=sep, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(headers)
        writer.writerows([_csv_safe(v) for v in row] for row in rows)
        data = buffer.getvalue().encode("utf-8-sig")  # the BOM tells Excel the file is UTF-8
    else:
        data = _xlsx(rows, base.config.title, headers, tr.gettext("Quotes"))
    try:
        atomic_write_bytes(dest, data)
    except OSError as exc:
        raise QuotesExportError(N_("{dest}: cannot write ({error})"), dest=dest, error=os_reason(exc)) from None
    return QuotesResult(str(dest), len(rows), fmt)


def _xlsx(rows: list[tuple], title: str, headers: list[str], sheet: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    link_col = COLUMNS.index("link") + 1
    quote_col = COLUMNS.index("quote") + 1
    for r, row in enumerate(rows, 2):
        for c, value in enumerate(row, 1):
            cell = ws.cell(row=r, column=c)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # text, never a formula, whatever it starts with
            if c == quote_col:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            elif c == link_col:
                cell.hyperlink = value
                cell.font = Font(color="0563C1", underline="single")
    widths = {"quote": 80, "interview": 28, "pains": 28, "tags": 28, "hypotheses": 24, "segments": 20, "link": 40}
    for c, name in enumerate(COLUMNS, 1):
        ws.column_dimensions[get_column_letter(c)].width = widths.get(name, 12)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(1, len(rows) + 1)}"
    wb.properties.title = title
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
