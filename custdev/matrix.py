"""The interview × code matrix for mixed-methods work: one row per interview, one 0/1 column per code.

Columns: ``interview``, ``date``, ``respondent`` (the respondent's id, as in the db), ``company``, ``segments`` (slugs joined by ``;``), ``nps``, then
``pain/<slug>`` for every codebook pain (codebook order), ``h/<slug>`` and ``h/<slug>/against`` for every
hypothesis, and ``tag/<name>`` for every tag used. A cell is 1 when at least one of the interview's quotes carries the
code, else 0. Rows in date order (undated last), like the saturation curve. CSV (UTF-8, with a BOM so spreadsheet
programs read Cyrillic right) or XLSX (openpyxl, imported only here and only for .xlsx).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlite_utils import Database

from custdev.config import Base
from custdev.errors import CustdevError, os_reason
from custdev.i18n import N_
from custdev.paths import format_by_name

FORMATS = ("csv", "xlsx")
FIXED = ["interview", "date", "respondent", "company", "segments", "nps"]


@dataclass
class Matrix:
    columns: list[str]
    rows: list[list]  # FIXED values then 0/1 per code

    @property
    def codes(self) -> list[str]:
        return self.columns[len(FIXED):]

    def to_dict(self) -> dict:
        return {"columns": self.columns, "rows": self.rows}


def build_matrix(db: Database) -> Matrix:
    from custdev.analysis import require_interviews

    require_interviews(db)
    pains = [r[0] for r in db.execute("SELECT slug FROM pains ORDER BY rowid")]
    hyps = [r[0] for r in db.execute("SELECT slug FROM hypotheses ORDER BY rowid")]
    tags = [r[0] for r in db.execute("SELECT DISTINCT tag FROM quote_tags ORDER BY tag")]
    codes = [f"pain/{p}" for p in pains] + [c for h in hyps for c in (f"h/{h}", f"h/{h}/against")] + [f"tag/{t}" for t in tags]
    index = {c: i for i, c in enumerate(codes)}
    coded: dict[str, set[int]] = {}
    for sql in (
        "SELECT DISTINCT q.interview_id, 'pain/' || qp.pain FROM quote_pains AS qp JOIN quotes AS q ON q.id = qp.quote_id",
        "SELECT DISTINCT q.interview_id, 'h/' || qh.hypothesis || CASE qh.stance WHEN 'against' THEN '/against' ELSE '' END "
        "FROM quote_hypotheses AS qh JOIN quotes AS q ON q.id = qh.quote_id",
        "SELECT DISTINCT q.interview_id, 'tag/' || qt.tag FROM quote_tags AS qt JOIN quotes AS q ON q.id = qt.quote_id",
    ):
        for iid, code in db.execute(sql):
            if code in index:
                coded.setdefault(iid, set()).add(index[code])
    segs: dict[str, list[str]] = {}
    for iid, seg in db.execute(
        "SELECT x.interview_id, x.segment FROM interview_segments AS x JOIN segments AS s ON s.slug = x.segment ORDER BY s.rowid"
    ):
        segs.setdefault(iid, []).append(seg)
    rows = []
    for iid, date, name, company, nps in db.execute(
        "SELECT i.id, i.date, i.respondent_id, i.company, i.nps FROM interviews AS i ORDER BY i.date IS NULL, i.date, i.id"
    ):
        on = coded.get(iid, set())
        rows.append([iid, date, name, company, ";".join(segs.get(iid, [])), nps] + [1 if i in on else 0 for i in range(len(codes))])
    return Matrix(FIXED + codes, rows)


def resolve_format(fmt: str | None, out: Path | None) -> str:
    if fmt is None:
        fmt = format_by_name(out, {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx"}, "csv")
        if fmt is None:
            raise CustdevError(N_("{name}: custdev writes the matrix as .csv or .xlsx, not {suffix}; name the file so, or give --format"),
                               name=out.name, suffix=out.suffix)
        return fmt
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise CustdevError(N_("unknown matrix format '{fmt}'; use csv or xlsx"), fmt=fmt)
    return fmt


def to_csv(m: Matrix) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(m.columns)
    w.writerows(["" if v is None else v for v in row] for row in m.rows)
    return buf.getvalue()


def to_xlsx_bytes(m: Matrix) -> bytes:
    from openpyxl import Workbook  # the only place openpyxl is imported

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("matrix")
    ws.append(m.columns)
    for row in m.rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _write_atomic(path: Path, data: bytes) -> None:
    if path.is_dir():
        raise CustdevError(N_("cannot write the matrix to {path}: it is a folder"), path=path)
    if not path.parent.is_dir():
        raise CustdevError(N_("cannot write the matrix to {path}: folder {parent} does not exist"), path=path, parent=path.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise CustdevError(N_("cannot write the matrix to {path}: {error}"), path=path, error=os_reason(exc)) from None


@dataclass
class MatrixResult:
    format: str
    path: str | None
    interviews: int
    codes: int
    text: str | None = None  # CSV for stdout when there is no path

    def to_dict(self) -> dict:
        return {"format": self.format, "path": self.path, "interviews": self.interviews, "codes": self.codes}


def export_matrix(base: Base, *, out: Path | None = None, fmt: str | None = None) -> MatrixResult:
    """Write the matrix to ``out`` (CSV or XLSX, atomically) or return the CSV text for stdout."""
    from custdev.analysis import open_analysis_db

    fmt = resolve_format(fmt, out)
    if fmt == "xlsx" and out is None:
        raise CustdevError(N_("an XLSX matrix needs --out FILE.xlsx (it is not text for the terminal)"))
    db = open_analysis_db(base)
    try:
        m = build_matrix(db)
    finally:
        db.close()
    if out is None:
        return MatrixResult(fmt, None, len(m.rows), len(m.codes), to_csv(m))
    out = Path(out).expanduser()
    data = to_xlsx_bytes(m) if fmt == "xlsx" else ("\ufeff" + to_csv(m)).encode("utf-8")
    _write_atomic(out, data)
    return MatrixResult(fmt, str(out), len(m.rows), len(m.codes))
