"""``custdev purge``: delete what consent and retention say must go, after showing it first.

* A recording whose interview's ``retain_audio_until`` date has passed: the audio file, and the ``audio:`` line of
  the interview (the transcript stays).
* Everything of a respondent who withdrew (``consent: withdrawn`` on any of their interviews): every interview file
  of that respondent, its word-timestamp sidecar and recording, its rows and search index entries in custdev.db, and
  the interview in every published copy custdev knows of (``.custdev/published.json``).

:func:`plan_purge` only looks; :func:`apply_purge` deletes and writes one line per file to ``.custdev/audit.log``
(time, action, path, reason; never interview text). The database is then rebuilt incrementally, its full-text
indexes optimised and the file vacuumed, so no deleted text stays in free pages.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from custdev.build import interview_files
from custdev.prepare import sidecar_path
from custdev.config import PRIVATE_DIR, Base, atomic_write_text
from custdev.errors import CustdevError, Message, ParseError, os_reason
from custdev.i18n import N_
from custdev.markdown import parse_interview
from custdev.paths import media_file

AUDIT_LOG = "audit.log"
WITHDRAWN = N_("consent withdrawn")
EXPIRED = N_("audio retention ended {date}")


@dataclass
class PurgeAction:
    action: str  # "delete" (a file), "drop-audio-line" (edit an interview), "delete-from-copy" (a published copy)
    path: str  # relative to the base, or the copy's folder
    reason: str
    interview: str | None = None
    until: str | None = None  # the retain_audio_until date that passed (a retention action)

    def reason_in(self, translator) -> str:
        """The reason in a :class:`custdev.i18n.Translator`'s language (``reason`` is the English)."""
        return translator.gettext(EXPIRED).format(date=self.until) if self.until else translator.gettext(self.reason)

    def to_dict(self) -> dict:
        return {"action": self.action, "path": self.path, "reason": self.reason, "interview": self.interview}


@dataclass
class PurgePlan:
    actions: list[PurgeAction] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)  # interview ids removed for withdrawn consent
    expired_audio: list[str] = field(default_factory=list)  # interview ids whose recording expired
    applied: bool = False

    def to_dict(self) -> dict:
        return {"applied": self.applied, "withdrawn": self.withdrawn, "expired_audio": self.expired_audio,
                "actions": [a.to_dict() for a in self.actions]}


def _respondent_key(respondent: str | None, company: str | None) -> str | None:
    if not respondent:
        return None
    return re.sub(r"\W+", " ", f"{respondent} {company or ''}".casefold()).strip()


def plan_purge(base: Base, *, today: _dt.date | None = None) -> PurgePlan:
    """What a purge would delete (nothing is touched)."""
    if base.is_published_copy:
        raise CustdevError(N_("{root} is a published copy; run 'custdev purge' in the research base it came from"), root=base.root)
    today = today or _dt.date.today()
    plan = PurgePlan()
    parsed = []
    for md in interview_files(base):
        rel = md.relative_to(base.root).as_posix()
        try:
            interview = parse_interview(md.read_text(encoding="utf-8"), rel)
        except (ParseError, OSError, UnicodeDecodeError) as exc:
            raise CustdevError(N_("{rel}: cannot read it to check consent ({error}); fix the file and purge again"), rel=rel, error=exc) from None
        parsed.append((md, rel, interview))
    withdrawn_people = {_respondent_key(iv.respondent, iv.company) for _, _, iv in parsed if iv.extra.get("consent") == "withdrawn"}
    withdrawn_people.discard(None)
    for md, rel, iv in parsed:
        who = _respondent_key(iv.respondent, iv.company)
        if iv.extra.get("consent") == "withdrawn" or (who is not None and who in withdrawn_people):
            plan.withdrawn.append(iv.id)
            reason = WITHDRAWN
            plan.actions.append(PurgeAction("delete", rel, reason, iv.id))
            side = sidecar_path(md)
            if side.exists():
                plan.actions.append(PurgeAction("delete", side.relative_to(base.root).as_posix(), reason, iv.id))
            audio = media_file(base.root, iv.audio)
            if audio is not None:
                plan.actions.append(PurgeAction("delete", audio.relative_to(base.root.resolve()).as_posix(), reason, iv.id))
            continue
        until = iv.extra.get("retain_audio_until")
        if until and iv.audio and _dt.date.fromisoformat(until) < today:
            plan.expired_audio.append(iv.id)
            reason = EXPIRED.format(date=until)
            audio = media_file(base.root, iv.audio)
            if audio is not None:
                plan.actions.append(PurgeAction("delete", audio.relative_to(base.root.resolve()).as_posix(), reason, iv.id, until))
            plan.actions.append(PurgeAction("drop-audio-line", rel, reason, iv.id, until))
    for folder, copy_ids in _known_copies(base).items():
        for iid in plan.withdrawn:
            if iid in copy_ids and (Path(folder) / base.db_path.name).is_file():
                plan.actions.append(PurgeAction("delete-from-copy", folder, WITHDRAWN, copy_ids[iid]))
    # Audio shared by a withdrawn and a kept interview is still deleted: the withdrawn person's voice is on it.
    seen: set[tuple[str, str]] = set()
    plan.actions = [a for a in plan.actions if (a.action, a.path, a.interview) not in seen and not seen.add((a.action, a.path, a.interview))]
    return plan


def _known_copies(base: Base) -> dict[str, dict[str, str]]:
    """The published copies custdev publish remembered. A file that cannot be read stops the purge with one line: going
    on would leave a withdrawn respondent in every copy without a word."""
    path = base.root / PRIVATE_DIR / "published.json"
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        error = None if isinstance(data, dict) and all(
            isinstance(e, dict) and isinstance(e.get("interviews") or {}, dict) for e in data.values()) else Message(N_("not custdev's format"))
    except OSError as exc:
        error = os_reason(exc)
    except ValueError:
        error = Message(N_("not valid JSON"))
    if error is not None:
        raise CustdevError(N_("{path}: cannot read the list of published copies ({error}); fix or delete it (then "
                              "remove the interviews from your copies by hand), and run 'custdev purge' again"),
                           path=path.relative_to(base.root), error=error)
    return {folder: dict(entry.get("interviews") or {}) for folder, entry in data.items()}


def _audit(base: Base, action: PurgeAction) -> None:
    log = base.root / PRIVATE_DIR / AUDIT_LOG
    log.parent.mkdir(exist_ok=True)
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(f"{stamp}\tpurge\t{action.action}\t{action.path}\t{action.reason}\n")


def _drop_audio_line(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    end = text.find("\n---", 3)
    head, rest = text[:end], text[end:]
    head = re.sub(r"(?m)^audio:[^\n]*\n?", "", head)
    atomic_write_text(path, head + rest)


def _purge_copy(folder: Path, db_name: str, copy_id: str) -> None:
    from custdev.publish import drop_interviews, rebuild_fts

    conn = sqlite3.connect(folder / db_name)
    try:
        conn.execute("PRAGMA foreign_keys = OFF")
        drop_interviews(conn, [copy_id])
        rebuild_fts(conn)
        conn.commit()
        conn.execute("VACUUM")
    finally:
        conn.close()


def apply_purge(base: Base, plan: PurgePlan) -> PurgePlan:
    """Delete what ``plan`` lists, one audit line per file, then bring custdev.db (and its indexes) up to date."""
    from custdev.build import build_base

    for action in plan.actions:
        if action.action == "delete":
            target = base.root / action.path
            if target.exists() or target.is_symlink():
                target.unlink()
        elif action.action == "drop-audio-line":
            _drop_audio_line(base.root / action.path)
        elif action.action == "delete-from-copy":
            _purge_copy(Path(action.path), base.db_path.name, action.interview or "")
        _audit(base, action)
    if base.db_path.exists():
        build_base(base)  # deleted files lose their rows (and search index entries); edited ones are re-read
        conn = sqlite3.connect(base.db_path)
        try:
            from custdev.publish import _fts_tables

            for fts in _fts_tables(conn):
                conn.execute(f"INSERT INTO [{fts}]([{fts}]) VALUES ('optimize')")
            conn.commit()
            conn.execute("VACUUM")
        finally:
            conn.close()
    plan.applied = True
    return plan
