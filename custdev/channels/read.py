"""Reading survey, ticket and chat exports (CSV, XLSX, JSON Lines) as a stream of checked rows.

Columns map to fields (text, date, respondent, segment, nps, id; chats also speaker and conversation) by
``--column field=Header`` flags, else by ``[channels.<channel>.columns]`` in custdev.toml, else by common header
names (``Comment``, ``Score``, ``Дата``…). Rows are read one at a time, so a 100,000-row export never sits in memory.
A bad row (empty text, bytes that are not UTF-8 such as cp1251 from Excel, a score outside 0–10, a duplicate) is
counted and reported by its row number (the header is row 1, as in a spreadsheet); the other rows import.
"""

from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from custdev.errors import Counted, CustdevError, Message, Number
from custdev.i18n import N_, NP_

CHANNELS = ("survey", "ticket", "chat")
# A channel as a reader sees it in the terminal ("survey row 2"; «опрос, строка 2»); --channel takes the names above.
CHANNEL_NAMES = {"survey": N_("survey"), "ticket": N_("ticket"), "chat": N_("chat")}
FIELDS = ("text", "date", "respondent", "segment", "nps", "id", "speaker", "conversation")
# Header names recognised without a mapping (compared case-insensitively, spaces and punctuation ignored).
GUESSES = {
    "text": ("text", "comment", "comments", "feedback", "message", "body", "answer", "response", "description", "verbatim",
             "текст", "комментарий", "отзыв", "ответ", "сообщение", "описание"),
    "date": ("date", "created", "createdat", "timestamp", "submittedat", "time", "дата", "создан", "время"),
    "respondent": ("respondent", "customer", "user", "email", "client", "name", "author", "requester",
                   "респондент", "клиент", "пользователь", "имя", "автор"),
    "segment": ("segment", "plan", "tier", "сегмент", "тариф"),
    "nps": ("nps", "score", "rating", "npsscore", "оценка", "балл"),
    "id": ("id", "responseid", "ticketid", "ticket", "messageid", "номер"),
    "speaker": ("speaker", "from", "sender", "role", "who", "отправитель", "роль"),
    "conversation": ("conversation", "conversationid", "chat", "chatid", "dialog", "dialogue", "thread", "session", "sessionid",
                     "диалог", "чат", "сессия"),
}
_NORM = re.compile(r"[\W_]+")
_SURROGATE = re.compile("[\udc80-\udcff]")
MAX_TEXT = 20_000  # characters of one response; longer ones are cut with a warning


class ChannelError(CustdevError):
    pass


@dataclass
class Row:
    number: int  # spreadsheet row number (header = 1)
    text: str
    date: str | None = None
    respondent: str | None = None
    segment: str | None = None
    nps: int | None = None
    id: str | None = None
    speaker: str | None = None
    conversation: str | None = None


# Why a row was skipped: the key of BadRows.reasons (and of --json's "bad"), said after "{n} row(s)" in each language.
BAD_ROW_REASONS = {
    "not UTF-8 (cp1251 from Excel?)": N_("not UTF-8 (cp1251 from Excel?)"),
    "not a JSON object": N_("not a JSON object"),
    "not UTF-8 (cp1251 from Excel? re-save as UTF-8 or use --encoding cp1251)":
        N_("not UTF-8 (cp1251 from Excel? re-save as UTF-8 or use --encoding cp1251)"),
    "with empty text": N_("with empty text"),
    "with a score outside 0–10": N_("with a score outside 0–10"),
    "duplicated": N_("duplicated"),
}


@dataclass
class BadRows:
    reasons: dict[str, list[int]] = field(default_factory=dict)  # reason -> row numbers

    def add(self, reason: str, number: int) -> None:
        self.reasons.setdefault(reason, []).append(number)

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.reasons.values())

    def lines(self, limit: int = 10) -> list[Message]:
        """One message per reason ("2 rows with empty text: rows 4, 9"): English as str, the base's language through
        the catalogs (1 строка, 2 строки, 5 строк)."""
        out = []
        for reason, rows in self.reasons.items():
            shown = ", ".join(str(r) for r in rows[:limit])
            if len(rows) > limit:
                shown = Message(N_("{rows} and {n} more"), rows=shown, n=Number(len(rows) - limit))
            head = Counted(NP_("{n} row {reason}", "{n} rows {reason}"), len(rows), n=Number(len(rows)),
                           reason=Message(BAD_ROW_REASONS.get(reason, reason)))
            where = Message(N_("row {rows}") if len(rows) == 1 else N_("rows {rows}"), rows=shown)
            out.append(Message("{head}: {where}", head=head, where=where))
        return out


def _norm(header: str) -> str:
    return _NORM.sub("", str(header or "").casefold())


def resolve_columns(headers: list[str], channel: str, given: dict[str, str], label: str) -> dict[str, int]:
    """field -> column index. ``given`` (flags or custdev.toml) wins; the rest is guessed from header names."""
    index = {h: n for n, h in enumerate(headers)}
    normed = {_norm(h): n for n, h in reversed(list(enumerate(headers)))}
    out: dict[str, int] = {}
    for name, column in given.items():
        if name not in FIELDS:
            raise ChannelError(N_("unknown field '{name}' in the column mapping (fields: {fields})"), name=name, fields=', '.join(FIELDS))
        if column in index:
            out[name] = index[column]
        elif _norm(column) in normed:
            out[name] = normed[_norm(column)]
        else:
            raise ChannelError(N_("{label}: no column {column!r} for {name} (columns: {columns})"), label=label, column=column, name=name, columns=', '.join(repr(h) for h in headers[:20]))
    taken = set(out.values())
    for name, guesses in GUESSES.items():
        if name in out:
            continue
        for guess in guesses:
            n = normed.get(guess)
            if n is not None and n not in taken:
                out[name] = n
                taken.add(n)
                break
    if "text" not in out:
        raise ChannelError(N_("{label}: which column holds the text? Say --column text=HEADER (columns: {columns})"), label=label, columns=', '.join(repr(h) for h in headers[:20]))
    if channel == "chat" and "conversation" not in out:
        raise ChannelError(N_("{label}: which column holds the conversation? Say --column conversation=HEADER"), label=label)
    return out


def _cell(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


_DMY = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})")


def normalise_date(value: str | None) -> str | None:
    if not value:
        return None
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})", value)
    if m:
        return m.group(0)
    m = _DMY.match(value)
    if m:
        try:
            return _dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1))).isoformat()
        except ValueError:
            return None
    return None


def _raw_rows_csv(path: Path, encoding: str | None) -> Iterator[tuple[int, list[str], bool]]:
    """(row number, cells, undecodable) from a CSV file, reading line by line."""
    with open(path, "rb") as fh:
        head = fh.read(65536)
    sample = head.decode("utf-8", errors="replace")
    try:
        dialect = csv.Sniffer().sniff("\n".join(sample.splitlines()[:20]), delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","

    undecodable = [0]  # lines that were not UTF-8 so far

    def lines():
        with open(path, "rb") as fh:
            first = True
            for raw in fh:
                if first and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                first = False
                if encoding:
                    yield raw.decode(encoding, errors="replace")
                    continue
                try:
                    yield raw.decode("utf-8")
                except UnicodeDecodeError:
                    # Undecodable bytes survive as lone surrogates, so the row they belong to can be reported.
                    undecodable[0] += 1
                    yield raw.decode("utf-8", errors="surrogateescape")

    reader = csv.reader(lines(), delimiter=delimiter)
    seen = 0
    for number, cells in enumerate(reader, 1):
        bad = False
        if undecodable[0] != seen:
            seen = undecodable[0]
            bad = any(_SURROGATE.search(c) for c in cells)
        yield number, cells, bad


def _raw_rows_xlsx(path: Path) -> Iterator[tuple[int, list, bool]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
        raise ChannelError(N_("{name}: not a readable .xlsx workbook ({error})"), name=path.name,
                           error=Message(N_("not an Excel workbook, or a damaged one"))) from None
    try:
        ws = wb.worksheets[0]
        for number, values in enumerate(ws.iter_rows(values_only=True), 1):
            yield number, list(values), False
    finally:
        wb.close()


def _raw_rows_jsonl(path: Path) -> Iterator[tuple[int, dict | None, bool]]:
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                yield number, None, True
                continue
            except ValueError:
                yield number, None, False
                continue
            yield number, obj if isinstance(obj, dict) else None, False


def read_rows(path: Path, channel: str, given: dict[str, str], bad: BadRows, *, encoding: str | None = None,
              segments: dict[str, str] | None = None) -> Iterator[Row]:
    """Checked rows of one export; bad rows go to ``bad``. ``segments`` maps lower-cased slugs and titles to slugs."""
    label = path.name
    suffix = path.suffix.lower()
    seen: dict[str, int] = {}
    columns: dict[str, int] | None = None
    if suffix == ".jsonl" or suffix == ".ndjson":
        keys: list[str] | None = None
        for number, obj, undecodable in _raw_rows_jsonl(path):
            if undecodable:
                bad.add("not UTF-8 (cp1251 from Excel?)", number)
                continue
            if obj is None:
                bad.add("not a JSON object", number)
                continue
            if keys is None:
                keys = list(obj.keys())
                columns = resolve_columns(keys, channel, given, label)
            cells = [obj.get(k) for k in keys]
            yield from _check(number, cells, columns, bad, seen, segments)
        return
    if suffix in (".xlsx", ".xlsm"):
        raw = _raw_rows_xlsx(path)
    elif suffix in (".csv", ".tsv", ".txt"):
        raw = _raw_rows_csv(path, encoding)
    else:
        raise ChannelError(N_("{label}: unsupported export '{suffix}' (use .csv, .xlsx or .jsonl)"), label=label, suffix=suffix or '(none)')
    for number, cells, undecodable in raw:
        if columns is None:
            if undecodable:
                raise ChannelError(N_("{label}: the header row is not UTF-8; if the file is from Excel in cp1251, add --encoding cp1251"), label=label)
            headers = [str(c).strip() if c is not None else "" for c in cells]
            columns = resolve_columns(headers, channel, given, label)
            continue
        if undecodable:
            bad.add("not UTF-8 (cp1251 from Excel? re-save as UTF-8 or use --encoding cp1251)", number)
            continue
        if not any(c not in (None, "") for c in cells):
            continue  # blank spreadsheet rows are not responses
        yield from _check(number, cells, columns, bad, seen, segments)
    if columns is None:
        raise ChannelError(N_("{label}: the file is empty (no header row)"), label=label)


def _check(number: int, cells: list, columns: dict[str, int], bad: BadRows, seen: dict[str, int],
           segments: dict[str, str] | None) -> Iterator[Row]:
    def get(name: str) -> str | None:
        n = columns.get(name)
        return _cell(cells[n]) if n is not None and n < len(cells) else None

    text = get("text")
    if not text:
        bad.add("with empty text", number)
        return
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT]
    nps_raw = get("nps")
    nps = None
    if nps_raw is not None:
        try:
            value = float(nps_raw.replace(",", "."))
            if not value.is_integer() or not 0 <= value <= 10:
                raise ValueError
            nps = int(value)
        except ValueError:
            bad.add("with a score outside 0–10", number)
            return
    row = Row(number, text, normalise_date(get("date")) or get("date"), get("respondent"), get("segment"), nps, get("id"),
              get("speaker"), get("conversation"))
    if row.segment and segments is not None:
        row.segment = segments.get(row.segment.casefold(), row.segment)
    key = f"id:{row.id}" if row.id and not row.conversation else hashlib.sha1(
        "\x1f".join(str(x) for x in (row.conversation, row.speaker, row.respondent, row.date, row.text)).encode("utf-8", "surrogatepass")).hexdigest()
    if key in seen:
        bad.add("duplicated", number)
        return
    seen[key] = number
    yield row
