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
from pathlib import Path
from typing import Callable

from custdev.config import CONFIG_NAME, INTERVIEWS_DIR, PUBLISHED_MARK, Base, atomic_write_text, toml_string
from custdev.errors import CustdevError, Message, os_reason
from custdev.i18n import N_, translator
from custdev.mdparagraph import header_speaker
from custdev.privacy.names import LABEL
from custdev.privacy.redactor import Redactor
from custdev.search import stem_text

__all__ = ["Redactor", "publish_base", "build_redactor", "find_leaks", "PublishResult"]

_SKIP_TABLES = {"_sqlite_migrations", "sqlite_stat1", "sqlite_stat4"}
# custdev build's caches (m1302_build_cache): every distinct word of the base and the interview file names. A copy
# never needs them, and a redacted one must not carry the words (names among them) it redacts.
BUILD_CACHES = ("lemmas", "file_stamps")
_SKIP_TABLES |= set(BUILD_CACHES)
STRICT_COLUMNS = {"title", "name", "tag", "speaker", "path", "id", "respondent_id", "interview_id"}  # short labels: lower-case names too


@dataclass
class PublishResult:
    directory: Path
    db_path: Path
    redacted: bool
    interviews: int
    replacements: int = 0
    tables: list[str] = field(default_factory=list)
    left_out: int = 0  # interviews without consent to publish (or withdrawn)
    unconsented: int = 0  # interviews without consent to publish that --include-unconsented put in
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "directory": str(self.directory), "db": str(self.db_path), "redacted": self.redacted,
            "interviews": self.interviews, "replacements": self.replacements, "tables": self.tables,
            "left_out": self.left_out, "unconsented_included": self.unconsented, "notes": self.notes,
        }


def _check_target(base: Base, directory: Path) -> Path:
    out = directory.expanduser().resolve()
    if out == base.root.resolve():
        raise CustdevError(N_("publish into another folder, not the research base itself"))
    if out.exists() and not out.is_dir():
        raise CustdevError(N_("{out} exists and is not a folder"), out=out)
    is_base = (out / INTERVIEWS_DIR).is_dir() or ((out / CONFIG_NAME).is_file() and not (out / PUBLISHED_MARK).is_file())
    if is_base:
        raise CustdevError(N_("{out} is a research base; publish into an empty folder or an earlier published copy"), out=out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CustdevError(N_("{out}: cannot create the folder ({error})"), out=out, error=os_reason(exc)) from None
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


def build_redactor(src: sqlite3.Connection, *, guess_names: bool = True, keep: list[str] | None = None) -> Redactor:
    """A redactor for everyone the database names: respondents, interviewers, speakers (not generic labels such as
    "Respondent 3" or "Speaker 1") and companies."""
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

    if "responses" in tables and "respondent" in _columns(src, "responses"):  # survey, ticket and chat respondents
        people += [r[0] for r in src.execute("SELECT DISTINCT respondent FROM responses WHERE respondent IS NOT NULL")]
    people = [p for p in people if p and not is_label(p) and not LABEL.match(p.strip())]
    return Redactor.for_names(people, [c for c in companies if c], guess_names=guess_names, keep=keep)


def keep_words(base: Base) -> list[str]:
    """``[privacy] keep`` in custdev.toml: product and tool names never redacted (Excel, 1С, the product itself)."""
    value = (base.config.raw.get("privacy") or {}).get("keep") or []
    return [str(v) for v in value] if isinstance(value, list) else []


def consents(src: sqlite3.Connection) -> dict[str, str | None]:
    """interview id -> its consent (None when the front matter has none, or the database predates consent)."""
    cols = set(_columns(src, "interviews"))
    if "consent" not in cols:
        return {iid: None for (iid,) in src.execute("SELECT id FROM interviews")}
    return dict(src.execute("SELECT id, consent FROM interviews").fetchall())


def left_out(src: sqlite3.Connection, include_unconsented: bool) -> tuple[set[str], int]:
    """(interviews a copy leaves out, interviews without consent to publish that it includes anyway)."""
    excluded, unconsented = set(), 0
    who = dict(src.execute("SELECT id, respondent_id FROM interviews").fetchall())
    gone = {who[iid] for iid, consent in consents(src).items() if consent == "withdrawn" and who.get(iid)}
    for iid, consent in consents(src).items():
        if consent == "withdrawn" or (who.get(iid) in gone):  # a respondent who withdrew is out with every interview
            excluded.add(iid)
        elif consent != "publish":
            if include_unconsented:
                unconsented += 1
            else:
                excluded.add(iid)
    return excluded, unconsented


def drop_interviews(conn: sqlite3.Connection, ids) -> None:
    """Delete interviews and everything that hangs off them from a copy (its FTS indexes are rebuilt afterwards)."""
    tables = {t for t, _ in _tables(conn)}
    for iid in ids:
        quote_ids = "SELECT id FROM quotes WHERE interview_id = ?"
        for link in ("quote_pains", "quote_tags", "quote_hypotheses"):
            if link in tables:
                conn.execute(f"DELETE FROM {link} WHERE quote_id IN ({quote_ids})", [iid])
        for table in ("quotes", "utterances", "interview_segments"):
            if table in tables:
                conn.execute(f"DELETE FROM {table} WHERE interview_id = ?", [iid])
        conn.execute("DELETE FROM interviews WHERE id = ?", [iid])
    if "respondents" in tables:
        conn.execute("DELETE FROM respondents WHERE id NOT IN (SELECT respondent_id FROM interviews WHERE respondent_id IS NOT NULL)")
    if "tags" in tables and "quote_tags" in tables:
        conn.execute("DELETE FROM tags WHERE name NOT IN (SELECT tag FROM quote_tags)")


def rebuild_fts(conn: sqlite3.Connection) -> None:
    for fts in _fts_tables(conn):
        conn.execute(f"INSERT INTO [{fts}]([{fts}]) VALUES ('rebuild')")
        conn.execute(f"INSERT INTO [{fts}]([{fts}]) VALUES ('optimize')")


def publish_base(base: Base, directory: str | Path, *, redact: bool = True, include_unconsented: bool = False,
                 progress: Callable[[int, int, str], None] | None = None) -> PublishResult:
    """Write ``directory/custdev.db`` (redacted unless ``redact=False``), its site metadata and a minimal custdev.toml.

    Only interviews with ``consent: publish`` go in, unless ``include_unconsented`` (then also those without a
    consent or with ``internal``); a withdrawn interview never does. ``progress(rows done, rows, table)`` hears how
    the redaction goes."""
    if not base.db_path.exists():
        raise CustdevError(N_("{root} has no {name} yet; run 'custdev build' first"), root=base.root, name=base.db_path.name)
    out = _check_target(base, Path(directory))
    target = out / base.db_path.name
    tmp = out / f".{target.name}.tmp-{os.getpid()}"
    for stale in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm"), Path(f"{tmp}-journal")):
        if stale.exists():
            stale.unlink()
    src = sqlite3.connect(f"file:{base.db_path}?mode=ro", uri=True)
    redactor: Redactor | None = None
    try:
        src.execute("BEGIN")  # one consistent snapshot even while `custdev build` writes
        excluded, unconsented = left_out(src, include_unconsented)
        english_text = src.execute("SELECT count(*) FROM interviews WHERE language = 'en'").fetchone()[0] > 0
        if redact:
            from custdev.privacy.ner import english_available

            english_model = english_available()
            redactor = build_redactor(src, keep=keep_words(base))
            tables, id_map = _write_redacted(src, tmp, redactor, base, excluded, progress)
        else:
            src.execute("COMMIT")
            src.execute("VACUUM INTO ?", [str(tmp)])  # a consistent snapshot of its own
            copy = sqlite3.connect(tmp)
            for cache in BUILD_CACHES:
                if copy.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [cache]).fetchone():
                    copy.execute(f"DELETE FROM [{cache}]")
            drop_interviews(copy, excluded)
            rebuild_fts(copy)
            copy.commit()
            copy.execute("VACUUM")
            id_map = {r[0]: r[0] for r in copy.execute("SELECT id FROM interviews")}
            copy.close()
            tables = [t for t, _ in _tables(src)]
        interviews = len(id_map)
    except sqlite3.DatabaseError as exc:
        for stale in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            if stale.exists():
                stale.unlink()
        raise CustdevError(N_("cannot write the copy ({error})"), error=exc) from None
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
    remember_copy(base, out, id_map)
    result = PublishResult(out, target, redact, interviews, redactor.count if redactor else 0, tables, len(excluded), unconsented)
    if redact and english_text and not english_model:
        result.notes.append(Message(N_("the English name model is not installed (pip install 'custdev[english-ner]'): English names of "
                                       "people nobody listed in the base were found only next to known names; read the copy before sharing it")))
    return result


COPIES_FILE = "published.json"


def remember_copy(base: Base, out: Path, id_map: dict[str, str]) -> None:
    """Note in ``.custdev/published.json`` where a copy went and which interview became which, for ``custdev purge``."""
    from custdev.config import PRIVATE_DIR

    path = base.root / PRIVATE_DIR / COPIES_FILE
    try:
        known = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError):
        known = {}
    if not isinstance(known, dict):
        known = {}  # not custdev's list (edited by hand): start it again rather than fail after the copy is written
    known[str(out.resolve())] = {"interviews": id_map}
    try:
        path.parent.mkdir(exist_ok=True)
        atomic_write_text(path, json.dumps(known, ensure_ascii=False, indent=1) + "\n")
    except OSError:
        pass  # a read-only base: the copy is still written


def _write_site_files(base: Base, out: Path, redactor: Redactor | None) -> None:
    from custdev.site import load_metadata

    metadata = load_metadata(base)
    metadata["title"] = str(metadata.get("title") or base.config.title)
    if redactor:
        from custdev.site.settings import packaged_metadata_path

        def strings(value):
            if isinstance(value, str):
                yield value
            elif isinstance(value, dict):
                for v in value.values():
                    yield from strings(v)
            elif isinstance(value, list):
                for v in value:
                    yield from strings(v)

        own = frozenset(strings(json.loads(packaged_metadata_path().read_text(encoding="utf-8"))))
        metadata = redact_json(metadata, redactor, own)
    title = (redactor.text(base.config.title, strict=True) if redactor else base.config.title).replace('"', "'")
    description = (redactor.text(base.config.description) if redactor else base.config.description).replace('"', "'").replace("\n", " ")
    files = {
        "datasette_metadata.json": json.dumps(metadata, ensure_ascii=False, indent=2) + "\n",
        CONFIG_NAME: "# " + translator(base.config.language).gettext(
            "A published copy of a custdev research base (custdev publish). Serve it with: custdev serve --base .") + "\n"
        f"[base]\ntitle = {toml_string(title)}\ndescription = {toml_string(description)}\nlanguage = \"{base.config.language}\"\n\n"
        f"[analysis]\nsystemic_threshold = {base.config.systemic_threshold}\nsaturation_window = {base.config.saturation_window}\n",
    }
    if redactor:
        for name, text in files.items():
            leak = find_text_leak(text, redactor)
            if leak:
                raise CustdevError(N_("redaction check failed: {leak} in {name}; nothing was published"), leak=leak, name=name)
    for name, text in files.items():
        atomic_write_text(out / name, text)
    (out / PUBLISHED_MARK).write_text("redacted\n" if redactor else "not redacted\n", encoding="utf-8")


# Sentence embeddings (custdev.meaning) are made from the unredacted text, and their text hashes would let anyone
# confirm a guessed sentence: a redacted copy leaves them out (its site then has no meaning search).
NOT_REDACTABLE = frozenset({"embeddings", "embedded_interviews"})
# custdev's own settings and stamps (hashes, model names, thresholds): copied as they are. Text redaction read a
# hash's digits as a card number and a model name@version as an e-mail address. The leak check still reads them.
VERBATIM = frozenset({"meta"})


def redact_json(value, redactor: Redactor, own: frozenset[str] = frozenset(), probe: Redactor | None = None):
    """Every string of the site metadata (titles, descriptions, canned queries and their SQL, sources, keys), except
    custdev's own words (``own``: the strings of the metadata custdev ships), which name no one: a name model read
    "Interviews, what was said…" and "NPS from survey responses…" as companies."""
    if isinstance(value, str):
        return value if value in own else redactor.text(value)
    probe = probe or redactor.probe()
    if isinstance(value, list):
        return [redact_json(v, redactor, own, probe) for v in value]
    if isinstance(value, dict):
        # Keys (table, column and query names) and SQL are checked for the base's known names and contact details
        # only: guessing must not rewrite identifiers (the copy's pages are found by them) or a query's words.
        return {probe.text(k, strict=True): probe.text(v) if k == "sql" and isinstance(v, str) else redact_json(v, redactor, own, probe)
                for k, v in value.items()}
    return value


def _write_redacted(src: sqlite3.Connection, tmp: Path, redactor: Redactor, base: Base, excluded: set[str],
                    progress: Callable[[int, int, str], None] | None = None) -> tuple[list[str], dict[str, str]]:
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
    ordered = [iid for (iid,) in src.execute("SELECT id FROM interviews ORDER BY date IS NULL, date, id") if iid not in excluded]
    for n, iid in enumerate(ordered, 1):
        interview_ids[iid] = f"interview-{n:03d}"
    if "respondents" in dst_tables:
        for n, (rid,) in enumerate(src.execute("SELECT id FROM respondents ORDER BY id"), 1):
            respondent_ids[rid] = f"respondent-{n:03d}"
            respondent_names[rid] = f"{'Респондент' if russian else 'Respondent'} {n}"
    id_maps = {"interviews": interview_ids, "respondents": respondent_ids}

    speaker_labels: dict[tuple[str, str], str] = {}
    if "utterances" in dst_tables:
        seen: dict[tuple[str, str], int] = {}
        for iid, speaker, role in src.execute("SELECT interview_id, speaker, speaker_role FROM utterances GROUP BY interview_id, speaker ORDER BY interview_id, min(seq)"):
            k = (iid, role)
            seen[k] = seen.get(k, 0) + 1
            label = ("Интервьюер" if russian else "Interviewer") if role == "interviewer" else ("Респондент" if russian else "Respondent")
            speaker_labels[(iid, speaker)] = label if seen[k] == 1 else f"{label} {seen[k]}"

    gone_quotes: set = set()
    if excluded and "quotes" in dst_tables:
        marks = ",".join("?" * len(excluded))
        gone_quotes = {q for (q,) in src.execute(f"SELECT id FROM quotes WHERE interview_id IN ({marks})", sorted(excluded))}
    copied = []
    todo = [t for t, _ in _tables(src) if t not in NOT_REDACTABLE]
    total = sum(src.execute(f"SELECT count(*) FROM [{t}]").fetchone()[0] for t in todo) if progress else 0
    done = 0
    for table in todo:
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
        insert = f"INSERT OR IGNORE INTO [{table}] ({', '.join(f'[{c}]' for c in cols)}) VALUES ({', '.join('?' * len(cols))})"
        cursor = src.execute(f"SELECT {', '.join(f'[{c}]' for c in cols)} FROM [{table}]")
        # The rows of interviews left out (and their quotes' codes) are not redacted, nor counted in the replacements
        # the copy reports: the copy never holds them. drop_interviews still removes whatever else hangs off them.
        own = "id" if table == "interviews" else next((c for c in cols if mapped.get(c) is interview_ids), None)
        skip = [(cols.index(own), excluded)] if own and excluded else []
        if "quote_id" in cols and gone_quotes:
            skip.append((cols.index("quote_id"), gone_quotes))
        while True:
            batch = cursor.fetchmany(2000)
            if not batch:
                break
            done += len(batch)
            for i, gone in skip:
                batch = [r for r in batch if r[i] not in gone]
            if table in VERBATIM:
                dst.executemany(insert, batch)
            else:
                redactor.prefetch(v for r in batch for v in r)
                rows = [_redact_row(table, cols, list(r), mapped, all_ids, redactor, respondent_names, speaker_labels, russian) for r in batch]
                dst.executemany(insert, rows)
            if progress:
                progress(done, total, table)
        copied.append(table)
    drop_interviews(dst, excluded)  # not numbered, so their rows kept their own ids
    dst.commit()
    rebuild_fts(dst)
    dst.commit()
    problems = dst.execute("PRAGMA foreign_key_check").fetchall()
    if problems:
        raise CustdevError(N_("the redacted copy has {n} broken references (first in table {problems})"), n=len(problems), problems=problems[0][0])
    leak = find_leaks(dst, redactor, list(interview_ids) + list(respondent_ids) + list(excluded))
    if leak:
        raise CustdevError(N_("redaction check failed: {leak}; nothing was published"), leak=leak)
    dst.execute("PRAGMA journal_mode = DELETE")
    dst.execute("VACUUM")
    dst.close()
    return copied, interview_ids


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
        values["name"] = respondent_names.get(original.get("id"), "Респондент" if russian else "Respondent")
        if "company" in values:
            values["company"] = None
    if table == "interviews":
        if isinstance(values.get("body"), str):  # still redacted below, with its speakers' labels in place
            values["body"] = original["body"] = _labelled_turns(values["body"], original.get("id"), speaker_labels)
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
            values[c] = redactor.text(v, strict=c in STRICT_COLUMNS or table == "tags")
    for c in cols:
        if c.endswith("_stem") and c[: -len("_stem")] in values:
            source = values[c[: -len("_stem")]]
            values[c] = stem_text(source) if isinstance(source, str) else values[c]
        elif c.endswith("_stem") and isinstance(values[c], str):
            values[c] = stem_text(redactor.text(values[c]))
    return [values[c] for c in cols]


# A bold span opening a line ("**[00:01:02] Ольга:**", "**Anna [de]:**"); custdev.mdparagraph's header grammar says
# whether it is a turn's header and which part is the speaker.
_BOLD_HEAD = re.compile(r"(?m)^\*\*([^*\n]+?:)\*\*")


def _labelled_turns(body: str, interview_id: str | None, speaker_labels: dict[tuple[str, str], str]) -> str:
    """The interview's markdown with each turn's speaker replaced by the label its rows get in the copy ("Респондент",
    "Interviewer 2"), so the file shown as it is names speakers as the transcript above it does, not "[имя]"."""
    def label(m: re.Match) -> str:
        inner = m.group(1)
        speaker = header_speaker(inner)
        new = speaker and speaker_labels.get((interview_id, speaker))
        if not new:
            return m.group(0)
        at = inner.index(speaker, inner.index("]") + 1 if inner.lstrip().startswith("[") else 0)
        return f"**{inner[:at]}{new}{inner[at + len(speaker):]}**"

    return _BOLD_HEAD.sub(label, body)


def find_text_leak(text: str, redactor: Redactor) -> str | None:
    """What of a known person, company, contact detail or identity number is left in ``text`` (its kind), else None."""
    spans = redactor.probe().find(text, strict=True)
    return f"a {spans[0][2]}" if spans else None


def find_leaks(conn: sqlite3.Connection, redactor: Redactor, old_ids: list[str]) -> str | None:
    """The first place where a known name, company, contact detail, identity number or old id is left: every text
    column of every table (naming table, column and row), and the names of tables, views and columns."""
    ids = set(old_ids)
    probe = redactor.probe()
    for kind, name in conn.execute("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"):
        if probe.find(name.replace("_", " "), strict=True) or name in ids:
            return f"a name in the name of the {kind} {name}"
    for table, _ in _tables(conn):
        cols = _columns(conn, table)
        for rowid, *row in conn.execute(f"SELECT rowid, {', '.join(f'[{c}]' for c in cols)} FROM [{table}]"):
            for c, v in zip(cols, row):
                if probe.find(c.replace("_", " "), strict=True):
                    return f"a name in the column name {table}.{c}"
                if not isinstance(v, str) or c.endswith("_stem"):
                    continue
                if v in ids:
                    return f"an original id in {table}.{c}, row {rowid}"
                spans = probe.find(v, strict=table not in VERBATIM)
                if table in VERBATIM:  # keys, hashes and model names: only the people and companies the base knows,
                    # written as names are ("meaning.dim" is no Dima)
                    spans = [span for span in spans if span[2] in ("name", "company") and v[span[0]].isupper()]
                if spans:
                    return f"a {spans[0][2]} in {table}.{c}, row {rowid}"
    return None
