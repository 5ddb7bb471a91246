"""``custdev import project.qdpx``: a REFI-QDA project from another tool -> interview files with ``==highlights==``.

* Every text source becomes one interview file; lines such as ``[00:01:23] Name: text`` or ``Name: text`` open
  speaker turns. Audio and video sources keep their recording (copied into ``audio/``) and their transcript's sync
  points as turn times; an audio/video selection without a transcript becomes a turn at the selection's start.
* Every selection becomes a highlight carrying its codes. Codes map to custdev codes through a mapping file
  (``qdpx-mappings/<project>.yml``): the first run writes it, matching codes to the codebook by the ``custdev:`` line
  custdev's own export writes, or by pain or hypothesis title or slug. Codes with no match are listed there as free
  tags; if there are any, the first run stops so the researcher can map them to pains first. Nothing is dropped.
* Respondents come from cases (their Segments, NPS, Company and Role variables), dates, interviewers and languages
  from source variables.
* The whole project is read and checked before anything is written: a malformed archive or XML, a missing source,
  a path that leaves the archive or a zip bomb gives one line and writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from custdev.config import Base, atomic_write_text, suggest
from custdev.errors import Counted, CustdevError, Message, ParseError
from custdev.i18n import N_, NP_, translator
from custdev.interchange.archive import ArchiveError, SafeArchive
from custdev.interchange.refi import PROJECT_NS, marker_of, variable_key
from custdev.markdown import FRONT_MATTER_KEYS, escape_text, format_timestamp, parse_interview
from custdev.ingest import free_interview_id

Q = f"{{{PROJECT_NS}}}"
MAPPING_DIR = "qdpx-mappings"
_TAG = re.compile(r"^[^\W\d_][\w-]*(?:/[\w-]+)*$")
_TS_HEADER = re.compile(r"[ \t]*\[(?P<ts>\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?)\][ \t]*(?P<name>[^:\r\n\[\]]{1,60}?)[ \t]*:[ \t]?")
_HEADER = re.compile(r"[ \t]*(?P<name>[^\W\d_][^:\r\n\[\]#*=]{0,40}?)[ \t]*:[ \t]?")
_LINE = re.compile(r"[^\r\n]+")


class QdpxError(CustdevError):
    pass


@dataclass
class Span:
    start: int
    end: int
    codes: list[str]  # REFI code GUIDs


@dataclass
class RawSource:
    guid: str
    name: str
    kind: str  # text | audio | video
    text: str = ""
    spans: list[Span] = field(default_factory=list)
    sync: list[tuple[int, float]] = field(default_factory=list)  # (position, seconds)
    timed: list[tuple[float, float, list[str], str]] = field(default_factory=list)  # A/V selections: begin, end, codes, name
    media: str | None = None  # archive member of the recording
    variables: dict[str, str] = field(default_factory=dict)
    created: str | None = None


@dataclass
class QdpxResult:
    project: str
    created: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    quotes: int = 0
    mapping: str | None = None
    mapping_written: bool = False
    waiting_for_mapping: bool = False
    unknown_codes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    build: dict | None = None

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("project", "created", "skipped", "quotes", "mapping", "mapping_written",
                                               "waiting_for_mapping", "unknown_codes", "warnings", "build")}


# ---------------------------------------------------------------------------------------------------------------
# Reading the project


def _read_project(archive: SafeArchive) -> ET.Element:
    name = archive.find("project.qde") or next((m for m in archive.members if "/" not in m and m.lower().endswith(".qde")), None)
    if name is None:
        raise QdpxError(N_("{label}: no project.qde inside; not a REFI-QDA project, nothing imported"), label=archive.label)
    data = archive.read(name)
    if b"<!ENTITY" in data[:4096] or b"<!DOCTYPE" in data[:4096]:
        raise QdpxError(N_("{label}: project.qde declares a DOCTYPE/entities, which REFI-QDA never needs; nothing imported"), label=archive.label)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise QdpxError(N_("{label}: project.qde is not well-formed XML (line {line}); nothing imported"), label=archive.label, line=exc.position[0]) from None
    if root.tag != f"{Q}Project":
        raise QdpxError(N_("{label}: project.qde is not a REFI-QDA project (root {tag!r}, namespace must be {namespace}); nothing imported"), label=archive.label, tag=root.tag.split('}')[-1], namespace=PROJECT_NS)
    return root


def _codes(root: ET.Element) -> dict[str, tuple[str, str | None]]:
    """GUID -> (path "Parent/Child", custdev marker or None)."""
    out: dict[str, tuple[str, str | None]] = {}

    def walk(el, prefix):
        for code in el.findall(f"{Q}Code"):
            path = f"{prefix}/{code.get('name', '')}" if prefix else code.get("name", "")
            desc = code.find(f"{Q}Description")
            out[code.get("guid", "")] = (path, marker_of(desc.text if desc is not None else None))
            walk(code, path)

    book = root.find(f"{Q}CodeBook/{Q}Codes")
    if book is not None:
        walk(book, "")
    return out


def _values(el: ET.Element, names: dict[str, str]) -> dict[str, str]:
    found = {}
    for vv in el.findall(f"{Q}VariableValue"):
        ref = vv.find(f"{Q}VariableRef")
        value = next((c.text for c in vv if c.tag != f"{Q}VariableRef"), None)
        if ref is not None and value is not None and ref.get("targetGUID") in names:
            found[names[ref.get("targetGUID")].strip().casefold()] = value.strip()
    return found


def _int(value: str | None, what: str, label: str) -> int:
    try:
        return int(value or "")
    except ValueError:
        raise QdpxError(N_("{label}: {what} is not a whole number ({value!r}); nothing imported"), label=label, what=Message(what), value=value) from None


def _member_of(path: str | None, archive: SafeArchive, source_name: str) -> str:
    if not path:
        raise QdpxError(N_("{label}: source {source_name!r} has neither text nor a path; nothing imported"), label=archive.label, source_name=source_name)
    if not path.startswith("internal://"):
        raise QdpxError(N_("{label}: source {source_name!r} refers to a file outside the archive ({path}); export the project with its sources embedded; nothing imported"), label=archive.label, source_name=source_name, path=path)
    rel = path[len("internal://"):].lstrip("/")
    member = archive.find(f"sources/{rel}")
    if member is None or ".." in PurePosixPath(rel).parts:
        raise QdpxError(N_("{label}: source {source_name!r} ({path}) is missing from the archive; nothing imported"), label=archive.label, source_name=source_name, path=path)
    return member


def _text_of(el: ET.Element, archive: SafeArchive, name: str) -> str:
    content = el.find(f"{Q}PlainTextContent")
    if content is not None and content.text is not None:
        return content.text
    member = _member_of(el.get("plainTextPath"), archive, name)
    data = archive.read(member)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise QdpxError(N_("{label}: source {name!r} is not UTF-8 text; nothing imported"), label=archive.label, name=name) from None


# REFI-QDA source kinds custdev does not import, as the warning names them ("1 picture source not imported").
SKIPPED_KINDS = {"PictureSource": N_("picture"), "PDFSource": N_("pdf")}


def _source_kind(kind: str) -> str:
    return Message(SKIPPED_KINDS[kind]) if kind in SKIPPED_KINDS else kind.replace("Source", "").lower()


def _read_sources(root: ET.Element, archive: SafeArchive, variables: dict[str, str], warnings: list[str]) -> list[RawSource]:
    sources: list[RawSource] = []
    skipped: dict[str, int] = {}
    for el in root.findall(f"{Q}Sources/*"):
        kind = el.tag[len(Q):]
        name = el.get("name") or el.get("guid") or "source"
        if kind == "TextSource":
            src = RawSource(el.get("guid", ""), name, "text", text=_text_of(el, archive, name))
            for sel in el.findall(f"{Q}PlainTextSelection"):
                start = _int(sel.get("startPosition"), N_("a selection's startPosition"), archive.label)
                end = _int(sel.get("endPosition"), N_("a selection's endPosition"), archive.label)
                if not 0 <= start <= end <= len(src.text):
                    raise QdpxError(N_("{label}: a selection of {name!r} ({start}–{end}) lies outside its text ({n} characters); nothing imported"), label=archive.label, name=name, start=start, end=end, n=len(src.text))
                src.spans.append(Span(start, end, _codings(sel)))
        elif kind in ("AudioSource", "VideoSource"):
            src = RawSource(el.get("guid", ""), name, "audio" if kind == "AudioSource" else "video")
            src.media = _member_of(el.get("path"), archive, name)
            transcript = el.find(f"{Q}Transcript")
            if transcript is not None:
                src.text = _text_of(transcript, archive, name)
                points = {}
                for sp in transcript.findall(f"{Q}SyncPoint"):
                    pos = _int(sp.get("position", "0"), N_("a sync point's position"), archive.label)
                    ms = _int(sp.get("timeStamp", "0"), N_("a sync point's timeStamp"), archive.label)
                    points[sp.get("guid")] = (pos, ms / 1000)
                    src.sync.append((pos, ms / 1000))
                src.sync.sort()
                for sel in transcript.findall(f"{Q}TranscriptSelection"):
                    a, b = points.get(sel.get("fromSyncPoint")), points.get(sel.get("toSyncPoint"))
                    if a and b and 0 <= a[0] <= b[0] <= len(src.text):
                        src.spans.append(Span(a[0], b[0], _codings(sel)))
            for sel in el.findall(f"{Q}{kind.replace('Source', 'Selection')}"):
                begin = _int(sel.get("begin"), N_("a selection's begin"), archive.label) / 1000
                end = _int(sel.get("end"), N_("a selection's end"), archive.label) / 1000
                src.timed.append((begin, max(begin, end), _codings(sel), sel.get("name") or ""))
        else:
            skipped[kind] = skipped.get(kind, 0) + 1
            continue
        src.variables = _values(el, variables)
        src.created = el.get("creationDateTime")
        sources.append(src)
    for kind, n in skipped.items():
        warnings.append(Counted(NP_("{n} {kind} source not imported (custdev keeps text, audio and video)",
                                    "{n} {kind} sources not imported (custdev keeps text, audio and video)"), n, n=n, kind=_source_kind(kind)))
    return sources


def _codings(sel: ET.Element) -> list[str]:
    out = []
    for coding in sel.findall(f"{Q}Coding"):
        ref = coding.find(f"{Q}CodeRef")
        if ref is not None and ref.get("targetGUID"):
            out.append(ref.get("targetGUID"))
    return out


# ---------------------------------------------------------------------------------------------------------------
# Mapping codes to custdev codes


def _propose(path: str, marker: str | None, codebook) -> tuple[str, bool]:
    """(custdev code, known) for one REFI code."""
    if marker:
        code = marker.lstrip("#")
        if marker.startswith("#") or _known(code, codebook):
            return code, True
    leaf = path.rsplit("/", 1)[-1].strip()
    for slug, entry in codebook.pains.items():
        if leaf.casefold() in (slug.casefold(), entry.title.strip().casefold()):
            return f"pain/{slug}", True
    for slug, entry in codebook.hypotheses.items():
        if leaf.casefold() in (slug.casefold(), entry.title.strip().casefold()):
            return f"h/{slug}", True
    tag = "/".join(_tag_part(p) for p in path.split("/") if p.strip())
    return tag or "untitled-code", False


def _tag_part(text: str) -> str:
    part = re.sub(r"[^\w-]+", "-", text.strip().casefold()).strip("-_")
    if not part or not (part[0].isalpha()):
        part = "code-" + part if part else "code"
    return part


def _known(code: str, codebook) -> bool:
    if code.startswith("pain/"):
        return code[5:] in codebook.pains
    if code.startswith("h/"):
        slug = code[2:].removesuffix("/against")
        return slug in codebook.hypotheses
    return bool(_TAG.match(code))


def _check_mapped(code: str, refi: str, codebook, label: str) -> str:
    code = str(code).strip().lstrip("#")
    if code.startswith("pain/"):
        slug = code[5:]
        if slug not in codebook.pains:
            raise QdpxError(N_("{label}: code {refi!r} maps to unknown pain '{slug}'{hint}"), label=label, refi=refi, slug=slug, hint=suggest(slug, codebook.pains))
    elif code.startswith("h/"):
        slug = code[2:].removesuffix("/against")
        if slug not in codebook.hypotheses:
            raise QdpxError(N_("{label}: code {refi!r} maps to unknown hypothesis '{slug}'{hint}"), label=label, refi=refi, slug=slug, hint=suggest(slug, codebook.hypotheses))
    elif not _TAG.match(code):
        raise QdpxError(N_("{label}: code {refi!r} maps to {code!r}, which is neither pain/<slug>, h/<slug>[/against] nor a tag"), label=label, refi=refi, code=code)
    return code


def _mapping_text(project: str, entries: list[tuple[str, str, bool]], language: str = "en") -> str:
    """The mapping file a researcher edits, its comments in the base's language."""
    _ = translator(language).gettext
    lines = [
        "# " + _("How the codes of {project} become custdev codes. Edit the right-hand side, then run the import again.").format(project=project),
        "# " + _("Values: pain/<slug> or h/<slug> (h/<slug>/against refutes) from codebook.yml, or a free tag such as billing/invoices."),
        "# " + _("Codes marked 'not in the codebook' are imported as the tag shown unless you map them to a pain or hypothesis."),
        "codes:",
    ]
    unknown = "  # " + _("not in the codebook")
    for path, code, known in entries:
        lines.append(f"  {json.dumps(path, ensure_ascii=False)}: {json.dumps(code, ensure_ascii=False)}{'' if known else unknown}")
    return "\n".join(lines) + "\n"


def _load_mapping(path: Path, label: str) -> dict[str, str]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError):
        raise QdpxError(N_("{path}: not a valid mapping file (YAML with a 'codes:' mapping); fix or delete it"), path=path) from None
    codes = data.get("codes") if isinstance(data, dict) else None
    if codes is None and isinstance(data, dict) and "codes" in data:
        codes = {}  # the file written for a project without codes: 'codes:' and nothing under it
    if not isinstance(codes, dict):
        raise QdpxError(N_("{path}: not a valid mapping file (YAML with a 'codes:' mapping); fix or delete it"), path=path)
    return {str(k): str(v) for k, v in codes.items() if v is not None}


# ---------------------------------------------------------------------------------------------------------------
# Sources -> interview markdown


@dataclass
class _Block:
    start: int  # content start (after the speaker header)
    end: int
    speaker: str | None = None
    time: float | None = None
    header: bool = False


def _blocks(text: str, sync: list[tuple[int, float]], known_names: set[str]) -> list[_Block]:
    """The source's non-empty lines; a line opens a turn with a ``[00:01:23] Name:`` header (when the source has
    any), else with ``Name:`` where the name opens at least two lines or is a known person (case, interviewer)."""
    lines = [(m.start(), m.end()) for m in _LINE.finditer(text) if text[m.start():m.end()].strip()]
    timed = any(_TS_HEADER.match(text, s, e) for s, e in lines)
    names: dict[str, int] = {}
    if not timed:
        for s, e in lines:
            m = _HEADER.match(text, s, e)
            if m:
                names[m.group("name").strip()] = names.get(m.group("name").strip(), 0) + 1
    blocks = []
    for s, e in lines:
        block = _Block(s, e)
        m = _TS_HEADER.match(text, s, e) if timed else _HEADER.match(text, s, e)
        if m and (timed or names.get(m.group("name").strip(), 0) >= 2 or m.group("name").strip().casefold() in known_names):
            from custdev.markdown import parse_timestamp

            block.speaker, block.header, block.start = m.group("name").strip(), True, m.end()
            if timed:
                try:
                    block.time = parse_timestamp(m.group("ts"))
                except ValueError:
                    block.time = None
        if sync and block.time is None:
            before = [t for pos, t in sync if pos <= s]
            block.time = before[-1] if before else None
        blocks.append(block)
    return blocks


_escape = escape_text


def _merge(spans: list[tuple[int, int, list[str]]]) -> tuple[list[tuple[int, int, list[str]]], int]:
    """Overlapping spans become one (custdev highlights do not nest); returns (spans, how many merges)."""
    out: list[tuple[int, int, list[str]]] = []
    merged = 0
    for s, e, codes in sorted(spans):
        if out and s < out[-1][1]:
            ps, pe, pc = out[-1]
            out[-1] = (ps, max(pe, e), list(dict.fromkeys(pc + codes)))
            merged += 1
        else:
            out.append((s, e, list(codes)))
    return out, merged


def source_markdown(src: RawSource, code_of: dict[str, str], default_speaker: str, warnings: list[str],
                    known_names: set[str] = frozenset()) -> tuple[str, int]:
    """The transcript body for one source, and how many quotes it holds."""
    text = src.text
    blocks = _blocks(text, src.sync, known_names) if text.strip() else []
    # Timed A/V selections: onto the transcript block playing at their start, else turns of their own.
    spans = [(sp.start, sp.end, sp.codes) for sp in src.spans]
    extra_turns: list[tuple[float, float, list[str], str]] = []
    for begin, end, codes, name in src.timed:
        block = None
        if blocks:
            timed_blocks = [b for b in blocks if b.time is not None and b.time <= begin]
            block = timed_blocks[-1] if timed_blocks else None
        if block is not None:
            spans.append((block.start, block.end, codes))
        else:
            extra_turns.append((begin, end, codes, name))
    split = 0
    per_block: dict[int, list[tuple[int, int, list[str]]]] = {}
    for s, e, codes in spans:
        hit = [n for n, b in enumerate(blocks) if s < b.end and e > b.start]
        if len(hit) > 1:
            split += 1
        for n in hit:
            b = blocks[n]
            cs, ce = max(s, b.start), min(e, b.end)
            while cs < ce and text[cs].isspace():
                cs += 1
            while ce > cs and text[ce - 1].isspace():
                ce -= 1
            if cs < ce:
                per_block.setdefault(n, []).append((cs, ce, codes))
    if split:
        warnings.append(Counted(NP_("{name}: {n} selection spanning several paragraphs became one quote per paragraph",
                                    "{name}: {n} selections spanning several paragraphs became one quote per paragraph"), split, name=src.name, n=split))
    paragraphs: list[str] = []
    quotes = 0
    current_speaker = None
    merged_total = 0
    for n, b in enumerate(blocks):
        parts: list[str] = []
        if b.header or current_speaker is None:
            current_speaker = b.speaker or current_speaker or default_speaker
            ts = f"[{format_timestamp(b.time)}] " if b.time is not None else ""
            head = f"**{ts}{_clean_name(current_speaker)}:** "
        else:
            head = ""
        marks, merged = _merge(per_block.get(n, []))
        merged_total += merged
        pos = b.start
        for k, (s, e, codes) in enumerate(marks):
            piece = _escape(text[pos:s], at_start=True)  # every quote opens a paragraph of its own
            last = k + 1 == len(marks)
            rest_after = text[e:b.end] if last else text[e:marks[k + 1][0]]
            tail, end_at = "", e
            if last or not re.search(r"\w", rest_after):  # the paragraph's rest (or bare punctuation) stays with it
                tail, end_at = _escape(rest_after.rstrip(), False), (b.end if last else marks[k + 1][0])
            tags = " ".join(f"#{c}" for c in dict.fromkeys(code_of[g] for g in codes if g in code_of))
            parts.append(f"{piece}=={_escape(text[s:e], at_start=False)}=={tail}" + (f" {tags}" if tags else ""))
            quotes += 1
            pos = end_at
        rest = text[pos:b.end]
        if rest.strip():
            parts.append(_escape(rest.strip(), at_start=not parts))
        if not parts:
            continue
        # Each quote ends its paragraph, so its codes stay its own (codes in a paragraph code all its quotes).
        paragraphs.append(head + " ".join(p.strip() for p in parts[:1]))
        paragraphs.extend(p.strip() for p in parts[1:])
    if merged_total:
        warnings.append(Counted(NP_("{name}: {n} overlapping selection merged into one quote (custdev highlights do not nest)",
                                    "{name}: {n} overlapping selections merged into one quote (custdev highlights do not nest)"), merged_total,
                                name=src.name, n=merged_total))
    for begin, end, codes, name in sorted(extra_turns):
        tags = " ".join(f"#{c}" for c in dict.fromkeys(code_of[g] for g in codes if g in code_of))
        label = _escape(name.strip() or f"{src.kind} {format_timestamp(begin)}–{format_timestamp(end)}", True)
        paragraphs.append(f"**[{format_timestamp(begin)}] {_clean_name(default_speaker)}:** =={label}==" + (f" {tags}" if tags else ""))
        quotes += 1
    return "\n\n".join(paragraphs) + "\n", quotes


def _clean_name(name: str) -> str:
    from custdev.importers import clean_name

    return clean_name(name) or "Respondent"


# ---------------------------------------------------------------------------------------------------------------


def mapping_path(base: Base, project: Path) -> Path:
    return base.root / MAPPING_DIR / f"{Path(project).stem}.yml"


def import_qdpx(base: Base, project: str | Path, *, build: bool = True) -> QdpxResult:
    """Import one REFI-QDA project. Raises :class:`CustdevError` (one line, nothing written) for a bad project."""
    from custdev.importers import guess_language, slug
    from custdev.ingest import existing_sources

    project = Path(project)
    result = QdpxResult(project=str(project))
    label = project.name
    if not project.is_file():
        raise QdpxError(N_("{project}: no such file"), project=project)
    digest = hashlib.sha256(project.read_bytes()).hexdigest()
    with SafeArchive(project) as archive:
        root = _read_project(archive)
        codes = _codes(root)
        variables = {v.get("guid", ""): variable_key(v.get("name", "")) for v in root.findall(f"{Q}Variables/{Q}Variable")}
        sources = _read_sources(root, archive, variables, result.warnings)
        cases: dict[str, tuple[str, dict[str, str]]] = {}
        for case in root.findall(f"{Q}Cases/{Q}Case"):
            info = (case.get("name") or "", _values(case, variables))
            for ref in case.findall(f"{Q}SourceRef"):
                cases.setdefault(ref.get("targetGUID", ""), info)

        # Codes -> custdev codes, through the mapping file.
        used = {g for s in sources for sp in s.spans for g in sp.codes} | {g for s in sources for t in s.timed for g in t[2]}
        missing = used - set(codes)
        if missing:
            raise QdpxError(N_("{label}: {n} coding(s) refer to codes missing from the codebook; nothing imported"), label=label, n=len(missing))
        map_file = mapping_path(base, project)
        result.mapping = map_file.relative_to(base.root).as_posix()
        saved = _load_mapping(map_file, label) if map_file.exists() else {}
        entries: list[tuple[str, str, bool]] = []
        code_of: dict[str, str] = {}
        new_unknown = False
        for g, (path, marker) in codes.items():
            if path in saved:
                code = _check_mapped(saved[path], path, base.codebook, result.mapping)
                known = code.startswith(("pain/", "h/")) or (marker or "").startswith("#")
            else:
                code, known = _propose(path, marker, base.codebook)
                new_unknown |= not known and g in used
            entries.append((path, code, known or g not in used))
            code_of[g] = code
            if not known and g in used:
                result.unknown_codes.append(f"{path} -> #{code}")
        write_mapping = not map_file.exists() or any(path not in saved for path, _, _ in entries)
        if new_unknown:
            _write_mapping(map_file, label, entries, base.config.language)
            result.mapping_written = result.waiting_for_mapping = True
            return result

        # Sources -> interview files (all rendered and checked before the first write).
        known_sources = existing_sources(base)
        taken: set[str] = set()
        planned: list[tuple[str, str, RawSource | None, str | None]] = []  # (rel, text, src, audio rel)
        media_names: set[str] = set()
        for src in sources:
            source_sha = hashlib.sha256(f"{digest}:{src.guid}".encode()).hexdigest()
            if source_sha in known_sources:
                result.skipped.append(known_sources[source_sha])
                continue
            case_name, case_vars = cases.get(src.guid, ("", {}))
            v = {**case_vars, **src.variables}
            speaker_default = case_name or ("Респондент" if base.config.language == "ru" else "Respondent")
            people = {n.casefold() for n in (case_name, case_name.split()[0] if case_name.split() else "", v.get("interviewer", "")) if n}
            people |= {n.split()[0].casefold() for n in (v.get("interviewer") or "",) if n.split()}
            body, n_quotes = source_markdown(src, code_of, speaker_default, result.warnings, people)
            meta = _front_matter(src, v, case_name, base, result.warnings)
            wanted = v.get("custdev id") or slug(src.name)
            meta["id"] = free_interview_id(base, slug(wanted), taken)
            if src.media:
                audio = _audio_name(base, src.media, media_names)
                meta["audio"] = audio
            if not meta.get("language"):
                meta["language"] = guess_language(src.text or src.name)
            meta["source"] = f"{label}#{src.guid}"
            meta["source_sha256"] = source_sha
            rel = f"interviews/{meta['id']}.md"
            text = _render(meta, body)
            try:
                parsed = parse_interview(text, rel, base.codebook)
            except ParseError as exc:
                raise QdpxError(N_("{label}: source {name!r} cannot be written as an interview ({message}); nothing imported"), label=label, name=src.name, message=exc.message) from None
            count = sum(len(t.quotes) for t in parsed.turns)
            if count != n_quotes:
                raise QdpxError(N_("{label}: source {name!r}: {n_quotes} selections became {count} quotes (please report this file); nothing imported"), label=label, name=src.name, n_quotes=n_quotes, count=count)
            result.quotes += count
            planned.append((rel, text, src, meta.get("audio")))

        # Write: the mapping, recordings (so an interview never points at a missing file), then the interview files.
        if write_mapping:
            _write_mapping(map_file, label, entries, base.config.language)
            result.mapping_written = True
        # Recordings first (so an interview never points at a missing file), then the interview files.
        for rel, text, src, audio in planned:
            if audio and src.media:
                dest = base.root / audio
                dest.parent.mkdir(parents=True, exist_ok=True)
                tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
                try:
                    archive.copy_to(src.media, tmp)
                    os.replace(tmp, dest)
                finally:
                    if tmp.exists():
                        tmp.unlink()
        base.interviews_dir.mkdir(parents=True, exist_ok=True)
        for rel, text, _, _ in planned:
            atomic_write_text(base.root / rel, text)
            result.created.append(rel)
    if build and result.created:
        from custdev.build import build_base

        result.build = build_base(base).to_dict()
    return result


def _write_mapping(path: Path, label: str, entries: list[tuple[str, str, bool]], language: str = "en") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, _mapping_text(label, entries, language))


def _front_matter(src: RawSource, v: dict[str, str], case_name: str, base: Base, warnings: list[str]) -> dict:
    meta: dict = {"id": "", "title": src.name}
    date = v.get("interview date") or v.get("date") or (src.created or "")[:10]
    if re.match(r"^\d{4}-\d{2}-\d{2}", date or ""):
        meta["date"] = date[:10]
    if v.get("interviewer"):
        meta["interviewer"] = v["interviewer"]
    if case_name:
        meta["respondent"] = case_name
    for key in ("company", "role"):
        if v.get(key):
            meta[key] = v[key]
    segments_raw = v.get("segments") or v.get("segment") or ""
    segments = [s.strip() for s in re.split(r"[,;]", segments_raw) if s.strip()]
    known = [s for s in segments if s in base.codebook.segments]
    unknown = [s for s in segments if s not in base.codebook.segments]
    if known:
        meta["segments"] = known
    if unknown:
        meta["segment_labels"] = unknown
        warnings.append(Counted(NP_("{name}: segment {segments} not in the codebook (kept as segment_labels)",
                                    "{name}: segments {segments} not in the codebook (kept as segment_labels)"), len(unknown),
                                name=src.name, segments=", ".join(unknown)))
    nps = v.get("nps")
    if nps:
        try:
            score = int(float(nps))
            if not 0 <= score <= 10:
                raise ValueError
            meta["nps"] = score
        except ValueError:
            warnings.append(Message(N_("{name}: NPS {value!r} is not a score from 0 to 10 (kept as nps_label)"), name=src.name, value=nps))
            meta["nps_label"] = nps
    language = (v.get("language") or "").lower()
    if language in ("ru", "en"):
        meta["language"] = language
    return meta


def _render(meta: dict, body: str) -> str:
    ordered = {k: meta[k] for k in FRONT_MATTER_KEYS if k in meta and meta[k] not in (None, "", [])}
    ordered.update({k: v for k, v in meta.items() if k not in FRONT_MATTER_KEYS})
    front = yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True, default_flow_style=False).strip()
    return f"---\n{front}\n---\n\n{body}"




def _audio_name(base: Base, member: str, taken: set[str]) -> str:
    name = PurePosixPath(member).name
    stem, suffix = os.path.splitext(name)
    candidate, n = name, 1
    while candidate in taken or (base.root / "audio" / candidate).exists():
        n += 1
        candidate = f"{stem}-{n}{suffix}"
    taken.add(candidate)
    return f"audio/{candidate}"
