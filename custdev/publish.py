"""``custdev publish DIR --redact``: a copy of the research database that is safe to hand to others.

The redacted copy is written into a *new* SQLite file (schema from the migrations, rows copied one by one), so
nothing of the original file's pages, free lists or full-text index survives in it. In every table:

* interview and respondent ids (which are made of names) become ``interview-001``, ``respondent-001``…;
* respondents are ``Respondent 1``…, companies and recordings are dropped, interviewers are ``Interviewer``,
  speakers become their role;
* in every text value, the names of respondents, interviewers and speakers (Russian names in all their inflected
  forms: Анна / Анны / Анне…, found with pymorphy3), company names (also inflected, also as a phrase), other
  Russian first names and surnames the dictionary recognises, e-mail addresses and phone numbers are replaced
  with ``[name]``/``[имя]``, ``[company]``/``[компания]``, ``[email]``, ``[phone]``;
* stemmed search text is recomputed from the redacted text and the FTS indexes are rebuilt.

Before the file is moved into place it is scanned again; any known name, company, e-mail or phone number left
anywhere fails the publish instead of leaking.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from custdev.config import CONFIG_NAME, INTERVIEWS_DIR, PUBLISHED_MARK, Base, atomic_write_text
from custdev.errors import CustdevError
from custdev.search import stem_text

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"\+\d{1,3}[\s.-]?\(?\d{2,4}\)?(?:[\s.-]?\d{2,4}){2,4}"  # +7 (912) 345-67-89, +44 20 7946 0958, +1 415 555 0100
    r"|8[\s.-]?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{2}[\s.-]?\d{2}"  # 8 912 345 67 89
    r"|\(\d{3,5}\)[\s.-]?\d{2,4}(?:[\s.-]?\d{2,4}){1,2}"  # (415) 555-0100, (4822) 12-34-56
    r"|\d{3}[.-]\d{3}[.-]\d{4}"  # 415-555-0100
    r"|0\d{3,4}\s\d{3}\s?\d{3,4}"  # 01632 960 123
    r")(?!\w)"
)
WORD = re.compile(r"\w+", re.UNICODE)
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
LEGAL_FORMS = {
    "ооо", "оао", "зао", "пао", "ао", "ип", "нко", "ано", "гк", "тд", "llc", "ltd", "inc", "gmbh", "llp", "plc", "corp", "co",
    "limited", "company", "group", "&", "and", "the", "и",
}
# Words in company names too generic to redact on their own (they are still redacted inside the full name).
GENERIC_LATIN = {
    "home", "logistics", "bookkeeping", "accounting", "consulting", "services", "service", "solutions", "systems", "group",
    "holdings", "partners", "studio", "digital", "trade", "trading", "capital", "finance", "financial", "media", "global",
    "international", "labs", "tech", "software", "shop", "store", "market", "foods", "food", "bakery", "retail", "agency",
    "design", "health", "energy", "industries", "supply", "online", "plus", "pro", "one", "team", "works", "house",
}
PLACEHOLDER = {("name", True): "[имя]", ("name", False): "[name]", ("company", True): "[компания]", ("company", False): "[company]"}
_SKIP_TABLES = {"_sqlite_migrations", "sqlite_sequence", "sqlite_stat1", "sqlite_stat4"}


@lru_cache(maxsize=1)
def _morph():
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


def _norm(word: str) -> str:
    return word.lower().replace("ё", "е")


@lru_cache(maxsize=50_000)
def name_forms(word: str) -> frozenset[str]:
    """Every inflected form of a (Russian) first name, patronymic or surname; a Latin word stands for itself."""
    w = _norm(word)
    if not CYRILLIC.search(w):
        return frozenset({w})
    parses = _morph().parse(w)
    named = [p for p in parses if {"Name", "Surn", "Patr"} & set(str(p.tag).replace(" ", ",").split(","))]
    chosen = named or [p for p in parses if p.score >= 0.1] or parses[:1]
    forms = {w}
    for p in chosen:
        forms.update(_norm(f.word) for f in p.lexeme)
    return frozenset(forms)


@lru_cache(maxsize=50_000)
def word_forms(word: str) -> frozenset[str]:
    """Inflected forms of any Russian word (for company names); a Latin word stands for itself."""
    w = _norm(word)
    if not CYRILLIC.search(w):
        return frozenset({w})
    forms = {w}
    for p in _morph().parse(w):
        if p.score >= 0.1:
            forms.update(_norm(f.word) for f in p.lexeme)
    return frozenset(forms)


@lru_cache(maxsize=100_000)
def looks_like_russian_name(word: str) -> float:
    """How sure pymorphy3 is that a capitalised Russian word is a first name, surname or patronymic (0..1)."""
    total = 0.0
    for p in _morph().parse(_norm(word)):
        tags = set(str(p.tag).replace(" ", ",").split(","))
        if {"Name", "Surn", "Patr"} & tags:
            total += p.score
    return total


def _company_core(company: str) -> list[list[str]]:
    """Word sequences that name the company: the whole name, the part in «quotes», and both without legal forms."""
    candidates = [company]
    candidates += re.findall(r"[«\"“„']([^»\"”“']+)[»\"”“']", company)
    out: list[list[str]] = []
    for c in candidates:
        ws = WORD.findall(c)
        for seq in (ws, [w for w in ws if _norm(w) not in LEGAL_FORMS]):
            if seq and seq not in out:
                out.append(seq)
    return out


@dataclass
class Redactor:
    """Replaces known people, companies, e-mails and phone numbers in text. Built from the database's own rows."""

    people: set[str] = field(default_factory=set)  # normalised forms of name words
    companies_ci: set[str] = field(default_factory=set)  # distinctive company words, any case
    companies_cs: set[str] = field(default_factory=set)  # distinctive Latin company words, capitalised only
    phrases: dict[str, list[list[frozenset[str]]]] = field(default_factory=dict)  # first word form -> phrases
    guess_names: bool = True
    count: int = 0

    @classmethod
    def for_names(cls, people: list[str], companies: list[str], *, guess_names: bool = True) -> "Redactor":
        r = cls(guess_names=guess_names)
        for person in people:
            for w in WORD.findall(person or ""):
                if len(w) >= 2 and not w.isdigit():
                    r.people |= name_forms(w)
        for company in companies:
            if not company:
                continue
            for seq in _company_core(company):
                phrase = [word_forms(w) for w in seq]
                if len(seq) == 1:
                    w = seq[0]
                    if CYRILLIC.search(w):
                        r.companies_ci |= word_forms(w)
                    elif len(w) >= 3 and _norm(w) not in GENERIC_LATIN and not w.isdigit():
                        r.companies_cs.add(_norm(w))
                    continue
                for first in phrase[0]:
                    r.phrases.setdefault(first, []).append(phrase)
                for w in seq:
                    n = _norm(w)
                    if n in LEGAL_FORMS or w.isdigit() or len(w) < 3:
                        continue
                    if CYRILLIC.search(w):
                        if not _morph().word_is_known(n):
                            r.companies_ci |= word_forms(w)
                    elif n not in GENERIC_LATIN:
                        r.companies_cs.add(n)
        for first in r.phrases:
            r.phrases[first].sort(key=len, reverse=True)
        return r

    def _label(self, kind: str, word: str) -> str:
        return PLACEHOLDER[(kind, bool(CYRILLIC.search(word)))]

    def _is_name(self, word: str, text: str, start: int) -> bool:
        if not word[0].isupper():
            return False
        n = _norm(word)
        if n in self.people:
            return True
        if self.guess_names and CYRILLIC.search(word) and len(word) >= 3 and not word.isupper():
            sure = looks_like_russian_name(word)
            if sure >= 0.9 or (sure >= 0.5 and not _sentence_start(text, start)):
                return True
        return False

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, kind) spans to replace; kind is name, company, email or phone."""
        spans: list[tuple[int, int, str]] = [(m.start(), m.end(), "email") for m in EMAIL.finditer(text)]
        taken = [(s, e) for s, e, _ in spans]

        def free(s: int, e: int) -> bool:
            return all(e <= a or s >= b for a, b in taken)

        for m in PHONE.finditer(text):
            if free(m.start(), m.end()) and sum(ch.isdigit() for ch in m.group()) >= 7:
                spans.append((m.start(), m.end(), "phone"))
                taken.append((m.start(), m.end()))
        tokens = list(WORD.finditer(text))
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            word = tok.group()
            n = _norm(word)
            if not free(tok.start(), tok.end()):
                i += 1
                continue
            matched = 0
            for phrase in self.phrases.get(n, ()):
                k = len(phrase)
                if i + k > len(tokens):
                    continue
                ok = all(_norm(tokens[i + j].group()) in phrase[j] for j in range(k)) and all(
                    len(text[tokens[i + j].end():tokens[i + j + 1].start()]) <= 3
                    and "\n" not in text[tokens[i + j].end():tokens[i + j + 1].start()]
                    for j in range(k - 1)
                )
                if ok:
                    matched = k
                    break
            if matched:
                spans.append((tok.start(), tokens[i + matched - 1].end(), "company"))
                i += matched
                continue
            if n in self.companies_ci or (n in self.companies_cs and word[0].isupper()):
                spans.append((tok.start(), tok.end(), "company"))
            elif self._is_name(word, text, tok.start()):
                spans.append((tok.start(), tok.end(), "name"))
            i += 1
        return sorted(spans)

    def text(self, text: str) -> str:
        spans = self.find(text)
        if not spans:
            return text
        out, pos = [], 0
        for s, e, kind in spans:
            out.append(text[pos:s])
            if kind == "email":
                out.append("[email]")
            elif kind == "phone":
                out.append("[phone]")
            else:
                out.append(self._label(kind, text[s:e]))
            pos = e
        out.append(text[pos:])
        self.count += len(spans)
        return "".join(out)


def _sentence_start(text: str, pos: int) -> bool:
    before = text[:pos].rstrip(" \t«\"“„'(—-")
    return not before or before[-1] in ".!?…:\n"


@dataclass
class PublishResult:
    directory: Path
    db_path: Path
    redacted: bool
    interviews: int
    replacements: int = 0
    tables: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "directory": str(self.directory), "db": str(self.db_path), "redacted": self.redacted,
            "interviews": self.interviews, "replacements": self.replacements, "tables": self.tables,
        }


def _check_target(base: Base, directory: Path) -> Path:
    out = directory.expanduser().resolve()
    if out == base.root.resolve():
        raise CustdevError("publish into another folder, not the research base itself")
    if out.exists() and not out.is_dir():
        raise CustdevError(f"{out} exists and is not a folder")
    is_base = (out / INTERVIEWS_DIR).is_dir() or ((out / CONFIG_NAME).is_file() and not (out / PUBLISHED_MARK).is_file())
    if is_base:
        raise CustdevError(f"{out} is a research base; publish into an empty folder or an earlier published copy")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CustdevError(f"{out}: cannot create the folder ({exc.strerror})") from None
    return out


def _tables(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """Ordinary tables (name, sql), without SQLite's own, the migrations log, FTS indexes and their shadow tables."""
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY rowid").fetchall()
    virtual = [name for name, sql in rows if (sql or "").upper().startswith("CREATE VIRTUAL TABLE")]
    out = []
    for name, sql in rows:
        if name in _SKIP_TABLES or name.startswith("sqlite_") or name in virtual:
            continue
        if any(name.startswith(v + "_") for v in virtual):
            continue
        out.append((name, sql))
    return out


def _fts_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'").fetchall()
    return [name for name, sql in rows if re.search(r"using\s+fts[45]", sql or "", re.I) and "content=" in (sql or "").replace(" ", "").lower()]


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA table_info([{table}])")]


def _fk_targets(conn: sqlite3.Connection, table: str) -> dict[str, str]:
    """column -> referenced table, for this table's foreign keys."""
    return {r[3]: r[2] for r in conn.execute(f"PRAGMA foreign_key_list([{table}])")}


def build_redactor(src: sqlite3.Connection, *, guess_names: bool = True) -> Redactor:
    people: list[str] = []
    companies: list[str] = []
    tables = {t for t, _ in _tables(src)}
    if "respondents" in tables:
        for name, company in src.execute("SELECT name, company FROM respondents"):
            people.append(name)
            companies.append(company)
    if "interviews" in tables:
        cols = set(_columns(src, "interviews"))
        for row in src.execute(f"SELECT {', '.join(c for c in ('interviewer', 'company') if c in cols) or 'NULL'} FROM interviews"):
            if "interviewer" in cols:
                people.append(row[0])
            if "company" in cols:
                companies.append(row[-1])
    if "utterances" in tables:
        people += [r[0] for r in src.execute("SELECT DISTINCT speaker FROM utterances")]
    from custdev.importers import is_label  # "Respondent 3", "Speaker 2": labels the import gave, not people

    return Redactor.for_names([p for p in people if p and not is_label(p)], [c for c in companies if c], guess_names=guess_names)


def publish_base(base: Base, directory: str | Path, *, redact: bool = True) -> PublishResult:
    """Write ``directory/custdev.db`` (redacted unless ``redact=False``), its site metadata and a minimal custdev.toml."""
    if not base.db_path.exists():
        raise CustdevError(f"{base.root} has no {base.db_path.name} yet; run 'custdev build' first")
    out = _check_target(base, Path(directory))
    target = out / base.db_path.name
    tmp = out / f".{target.name}.tmp-{os.getpid()}"
    for stale in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm"), Path(f"{tmp}-journal")):
        if stale.exists():
            stale.unlink()
    src = sqlite3.connect(f"file:{base.db_path}?mode=ro", uri=True)
    redactor: Redactor | None = None
    try:
        if redact:
            src.execute("BEGIN")  # one consistent snapshot even while `custdev build` writes
            interviews = src.execute("SELECT count(*) FROM interviews").fetchone()[0]
            redactor = build_redactor(src)
            tables = _write_redacted(src, tmp, redactor, base)
        else:
            src.execute("VACUUM INTO ?", [str(tmp)])  # a consistent snapshot of its own
            copy = sqlite3.connect(tmp)
            interviews = copy.execute("SELECT count(*) FROM interviews").fetchone()[0]
            copy.close()
            tables = [t for t, _ in _tables(src)]
    except sqlite3.DatabaseError as exc:
        for stale in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            if stale.exists():
                stale.unlink()
        raise CustdevError(f"cannot write the copy ({exc})") from None
    except BaseException:
        for stale in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            if stale.exists():
                stale.unlink()
        raise
    finally:
        src.close()
    for stale in (Path(f"{target}-wal"), Path(f"{target}-shm")):
        if stale.exists():
            stale.unlink()
    os.replace(tmp, target)
    _write_site_files(base, out, redactor)
    return PublishResult(out, target, redact, interviews, redactor.count if redactor else 0, tables)


def _write_site_files(base: Base, out: Path, redactor: Redactor | None) -> None:
    from custdev.site import load_metadata

    clean = redactor.text if redactor else (lambda s: s)
    metadata = load_metadata(base)
    metadata["title"] = clean(str(metadata.get("title") or base.config.title))
    if metadata.get("description"):
        metadata["description"] = clean(str(metadata["description"]))
    atomic_write_text(out / "datasette_metadata.json", json.dumps(metadata, ensure_ascii=False, indent=2) + "\n")
    title = clean(base.config.title).replace('"', "'")
    description = clean(base.config.description).replace('"', "'").replace("\n", " ")
    atomic_write_text(
        out / CONFIG_NAME,
        "# A published copy of a custdev research base (custdev publish). Serve it with: custdev serve --base .\n"
        f'[base]\ntitle = "{title}"\ndescription = "{description}"\nlanguage = "{base.config.language}"\n\n'
        f"[analysis]\nsystemic_threshold = {base.config.systemic_threshold}\nsaturation_window = {base.config.saturation_window}\n",
    )
    (out / PUBLISHED_MARK).write_text("redacted\n" if redactor else "not redacted\n", encoding="utf-8")


# Sentence embeddings (custdev.meaning) are made from the unredacted text, and their text hashes would let anyone
# confirm a guessed sentence: a redacted copy leaves them out (its site then has no meaning search).
NOT_REDACTABLE = frozenset({"embeddings", "embedded_interviews"})


def _write_redacted(src: sqlite3.Connection, tmp: Path, redactor: Redactor, base: Base) -> list[str]:
    from custdev.db import open_db

    dst_db = open_db(tmp)  # schema, views and FTS tables from the migrations
    dst = dst_db.conn
    dst.execute("PRAGMA foreign_keys = OFF")
    dst_tables = {t for t, _ in _tables(dst)}
    # Tables this custdev does not know (a newer build): copy their schema as it is.
    for name, sql in _tables(src):
        if name not in dst_tables and sql:
            dst.execute(sql)

    russian = base.config.language == "ru"
    # Ids are made of names: number them in date order.
    interview_ids: dict[str, str] = {}
    respondent_ids: dict[str, str] = {}
    respondent_names: dict[str, str] = {}
    for n, (iid,) in enumerate(src.execute("SELECT id FROM interviews ORDER BY date IS NULL, date, id"), 1):
        interview_ids[iid] = f"interview-{n:03d}"
    if "respondents" in dst_tables:
        for n, (rid,) in enumerate(src.execute("SELECT id FROM respondents ORDER BY id"), 1):
            respondent_ids[rid] = f"respondent-{n:03d}"
            respondent_names[rid] = f"Respondent {n}"
    id_maps = {"interviews": interview_ids, "respondents": respondent_ids}

    speaker_labels: dict[tuple[str, str], str] = {}
    if "utterances" in dst_tables:
        seen: dict[tuple[str, str], int] = {}
        for iid, speaker, role in src.execute("SELECT interview_id, speaker, speaker_role FROM utterances GROUP BY interview_id, speaker ORDER BY interview_id, min(seq)"):
            k = (iid, role)
            seen[k] = seen.get(k, 0) + 1
            label = ("Интервьюер" if russian else "Interviewer") if role == "interviewer" else ("Респондент" if russian else "Respondent")
            speaker_labels[(iid, speaker)] = label if seen[k] == 1 else f"{label} {seen[k]}"

    copied = []
    for table, _ in _tables(src):
        if table in NOT_REDACTABLE:
            continue
        src_cols = _columns(src, table)
        cols = [c for c in _columns(dst, table) if c in src_cols]
        if not cols:
            continue
        fks = _fk_targets(src, table)
        mapped = {
            c: id_maps[fks[c]] for c in cols if fks.get(c) in id_maps
        }
        if table in id_maps:
            mapped["id"] = id_maps[table]
        for c in cols:
            if c in ("interview_id", "interview") and c not in mapped:
                mapped[c] = interview_ids
            if c == "respondent_id" and c not in mapped:
                mapped[c] = respondent_ids
        all_ids = {**interview_ids, **respondent_ids}
        insert = f"INSERT INTO [{table}] ({', '.join(f'[{c}]' for c in cols)}) VALUES ({', '.join('?' * len(cols))})"
        cursor = src.execute(f"SELECT {', '.join(f'[{c}]' for c in cols)} FROM [{table}]")
        while True:
            batch = cursor.fetchmany(2000)
            if not batch:
                break
            rows = [_redact_row(table, cols, list(r), mapped, all_ids, redactor, respondent_names, speaker_labels, russian) for r in batch]
            dst.executemany(insert, rows)
        copied.append(table)
    dst.commit()
    for fts in _fts_tables(dst):
        dst.execute(f"INSERT INTO [{fts}]([{fts}]) VALUES ('rebuild')")
        dst.execute(f"INSERT INTO [{fts}]([{fts}]) VALUES ('optimize')")
    dst.commit()
    problems = dst.execute("PRAGMA foreign_key_check").fetchall()
    if problems:
        raise CustdevError(f"the redacted copy has {len(problems)} broken references (first in table {problems[0][0]})")
    leak = find_leaks(dst, redactor, list(interview_ids) + list(respondent_ids))
    if leak:
        raise CustdevError(f"redaction check failed: {leak}; nothing was published")
    dst.execute("PRAGMA journal_mode = DELETE")
    dst.execute("VACUUM")
    dst.close()
    return copied


def _redact_row(table, cols, row, mapped, all_ids, redactor: Redactor, respondent_names, speaker_labels, russian) -> list:
    values = dict(zip(cols, row))
    original = dict(values)
    for c in cols:
        v = values[c]
        if c in mapped and v is not None:
            values[c] = mapped[c].get(v, v)
        elif isinstance(v, str) and v in all_ids:
            values[c] = all_ids[v]
    if table == "respondents":
        values["name"] = respondent_names.get(original.get("id"), "Respondent")
        if "company" in values:
            values["company"] = None
    if table == "interviews":
        for c in ("company", "audio"):
            if c in values:
                values[c] = None
        if "interviewer" in values and values["interviewer"]:
            values["interviewer"] = "Интервьюер" if russian else "Interviewer"
        if "path" in values:
            values["path"] = f"{INTERVIEWS_DIR}/{values['id']}.md"
        if "content_hash" in values:
            values["content_hash"] = ""
    if table == "responses" and "respondent" in values:
        values["respondent"] = None  # survey/ticket/chat respondents (e-mails, names) never leave with a redacted copy
    if "speaker" in values and "interview_id" in original and (original["interview_id"], original["speaker"]) in speaker_labels:
        values["speaker"] = speaker_labels[(original["interview_id"], original["speaker"])]
    for c in cols:
        v = values[c]
        if isinstance(v, str) and v == original[c] and c not in mapped and not c.endswith("_stem"):
            values[c] = redactor.text(v)
    for c in cols:
        if c.endswith("_stem") and c[: -len("_stem")] in values:
            source = values[c[: -len("_stem")]]
            values[c] = stem_text(source) if isinstance(source, str) else values[c]
        elif c.endswith("_stem") and isinstance(values[c], str):
            values[c] = stem_text(redactor.text(values[c]))
    return [values[c] for c in cols]


def find_leaks(conn: sqlite3.Connection, redactor: Redactor, old_ids: list[str]) -> str | None:
    """The first place (table.column) where a known name, company, e-mail, phone or old id is left, else None."""
    ids = set(old_ids)
    probe = Redactor(
        people=redactor.people, companies_ci=redactor.companies_ci, companies_cs=redactor.companies_cs,
        phrases=redactor.phrases, guess_names=False,
    )
    for table, _ in _tables(conn):
        cols = _columns(conn, table)
        for row in conn.execute(f"SELECT {', '.join(f'[{c}]' for c in cols)} FROM [{table}]"):
            for c, v in zip(cols, row):
                if not isinstance(v, str) or c.endswith("_stem"):
                    continue
                if v in ids:
                    return f"an original id in {table}.{c}"
                if probe.find(v):
                    return f"a name, company or contact detail in {table}.{c}"
    return None
