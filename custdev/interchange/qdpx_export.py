"""``custdev export qdpx`` and ``custdev export qdc``: the base as a REFI-QDA 1.5 project or codebook.

A ``.qdpx`` is a zip holding ``project.qde`` (QDA-XML, ``urn:QDA-XML:project:1.0``) and ``sources/``. Every
interview is one plain-text source, one line per turn (``[00:01:23] Name: text``), and every quote one
``PlainTextSelection`` with a ``Coding`` per pain, hypothesis and tag. Respondents are cases with Segments, NPS,
Company and Role as variables; each source carries its interview's date, interviewer, language, segments and NPS.

What the big tools need, and this module does (tests/test_interchange_qdpx.py checks each):

* the folder is ``sources`` in lower case, and a source is referred to as ``internal://<file>``;
* no byte-order mark anywhere: the XML starts with ``<?xml``, text sources with their first character;
* selection positions count Unicode code points (not bytes, not UTF-16 units) of the source file as written,
  start inclusive, end exclusive;
* text sources use CRLF line ends (MAXQDA), and positions count the CR too, as they are characters of the file;
* plain-text sources carry ``plainTextPath`` and never ``richTextPath`` (ATLAS.ti).

Interview files are read directly (the markdown is the source of truth); ``custdev.db`` is not needed.
"""

from __future__ import annotations

import datetime as _dt
import io
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from custdev import __version__
from custdev.config import Base, atomic_write_bytes
from custdev.errors import CustdevError, ParseError, os_reason
from custdev.i18n import N_, translator
from custdev.interchange.refi import (CASE_VARIABLES, CODEBOOK_NS, ORIGIN, PROJECT_NS, SOURCE_VARIABLES, CodeNode, code_guids,
                                      code_tree, guid)
from custdev.markdown import format_timestamp, parse_interview
from custdev.models import Interview

CRLF = "\r\n"



class ExportError(CustdevError):
    pass


@dataclass
class Selection:
    start: int
    end: int
    text: str
    codes: list[str]


@dataclass
class TextSource:
    interview: Interview
    guid: str
    filename: str
    text: str
    selections: list[Selection] = field(default_factory=list)


@dataclass
class ExportResult:
    path: str
    interviews: int = 0
    quotes: int = 0
    codes: int = 0
    cases: int = 0

    def to_dict(self) -> dict:
        return {"path": self.path, "interviews": self.interviews, "quotes": self.quotes, "codes": self.codes, "cases": self.cases}


def read_interviews(base: Base) -> list[tuple[str, Interview]]:
    """Every interview file, parsed against the codebook. A bad file stops the export with its one-line error."""
    from custdev.build import interview_files

    if base.is_published_copy:
        raise ExportError(N_("{root} is a published copy (custdev publish): it has no interview files to export; export from "
                             "the research base it came from"), root=base.root)
    out = []
    for path in interview_files(base):
        rel = path.relative_to(base.root).as_posix()
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise ExportError(N_("{rel}: the file is not UTF-8 text; re-save it as UTF-8"), rel=rel) from None
        except OSError as exc:
            raise ExportError(N_("{rel}: cannot read ({error})"), rel=rel, error=os_reason(exc)) from None
        try:
            out.append((rel, parse_interview(text, rel, base.codebook)))
        except ParseError as exc:
            raise ExportError(N_("{error} (fix it, then export again)"), error=exc) from None
    return out


def quote_codes(quote) -> list[str]:
    codes = [f"pain/{p}" for p in quote.pains]
    codes += [f"h/{h}" if stance == "for" else f"h/{h}/against" for h, stance in quote.hypotheses]
    codes += list(quote.tags)
    return codes


def text_source(interview: Interview, rel: str) -> TextSource:
    """One interview as a CRLF plain text, one turn per line, and its quotes as code-point selections."""
    g = guid("source", interview.id)
    parts: list[str] = []
    length = 0
    selections: list[Selection] = []
    for n, turn in enumerate(interview.turns):
        if n:
            parts.append(CRLF + CRLF)
            length += 4
        ts = f"[{format_timestamp(turn.start_s)}] " if turn.start_s is not None else ""
        prefix = f"{ts}{turn.speaker}: "
        body = turn.text.replace("\r", "").replace("\n", CRLF)
        start_of_body = length + len(prefix)
        for q in turn.quotes:
            # Each "\n" before a position became "\r\n": one more code point.
            s = start_of_body + q.char_start + turn.text.count("\n", 0, q.char_start)
            e = start_of_body + q.char_end + turn.text.count("\n", 0, q.char_end)
            selections.append(Selection(s, e, q.text, quote_codes(q)))
        parts.append(prefix + body)
        length += len(prefix) + len(body)
    text = "".join(parts) + CRLF
    return TextSource(interview, g, f"{g}.txt", text, selections)


def _el(parent: ET.Element, tag: str, ns: str, **attrs) -> ET.Element:
    return ET.SubElement(parent, f"{{{ns}}}{tag}", {k: v for k, v in attrs.items() if v is not None})


def _codes_xml(parent: ET.Element, nodes: list[CodeNode], ns: str) -> None:
    for node in nodes:
        el = _el(parent, "Code", ns, guid=node.guid, name=node.name, isCodable="true" if node.codable else "false", color=node.colour)
        if node.description:
            _el(el, "Description", ns).text = node.description
        _codes_xml(el, node.children, ns)


def _xml_bytes(root: ET.Element, ns: str) -> bytes:
    ET.register_namespace("", ns)
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    # Written by hand so the declaration is exactly the standard one, with no byte-order mark before it.
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n").encode("utf-8")


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _all_tags(interviews: list[tuple[str, Interview]]) -> list[str]:
    return sorted({t for _, iv in interviews for turn in iv.turns for q in turn.quotes for t in q.tags})


def project_xml(base: Base, interviews: list[tuple[str, Interview]]) -> tuple[bytes, list[TextSource], dict]:
    ns = PROJECT_NS
    user = guid("user", "custdev")
    now = _now()
    _ = translator(base.config.language).gettext
    tree = code_tree(base.codebook, _all_tags(interviews), base.config.language)
    guids = code_guids(tree)
    root = ET.Element(f"{{{ns}}}Project", {
        "name": base.config.title, "origin": f"{ORIGIN} {__version__}", "creatingUserGUID": user, "creationDateTime": now,
    })
    users = _el(root, "Users", ns)
    _el(users, "User", ns, guid=user, name="custdev", id="custdev")
    if tree:
        codebook = _el(root, "CodeBook", ns)
        _codes_xml(_el(codebook, "Codes", ns), tree, ns)
    variables = _el(root, "Variables", ns)
    var_guids: dict[str, str] = {}
    for name, kind in CASE_VARIABLES + SOURCE_VARIABLES:
        var_guids[name] = guid("variable", name)
        _el(variables, "Variable", ns, guid=var_guids[name], name=_(name), typeOfVariable=kind)

    sources = [text_source(iv, rel) for rel, iv in interviews]

    # Respondents -> cases (the build's respondent key: name + company).
    from custdev.build import slugify

    cases: dict[str, dict] = {}
    for src in sources:
        iv = src.interview
        if not iv.respondent:
            continue
        key = slugify(f"{iv.respondent} {iv.company or ''}")
        case = cases.setdefault(key, {"name": iv.respondent, "company": iv.company, "role": iv.role, "segments": [], "nps": None, "sources": []})
        case["segments"] += [s for s in iv.segments if s not in case["segments"]]
        case["role"] = case["role"] or iv.role
        if iv.nps is not None:
            case["nps"] = iv.nps  # the latest interview's score (files are in date order by name)
        case["sources"].append(src.guid)
    if cases:
        cases_el = _el(root, "Cases", ns)
        for key, case in cases.items():
            el = _el(cases_el, "Case", ns, guid=guid("case", key), name=case["name"])
            for name, value, kind in (("Segments", ", ".join(case["segments"]) or None, "TextValue"),
                                      ("NPS", case["nps"], "IntegerValue"),
                                      ("Company", case["company"], "TextValue"), ("Role", case["role"], "TextValue")):
                if value is None or value == "":
                    continue
                vv = _el(el, "VariableValue", ns)
                _el(vv, "VariableRef", ns, targetGUID=var_guids[name])
                _el(vv, kind, ns).text = str(value)
            for sg in case["sources"]:
                _el(el, "SourceRef", ns, targetGUID=sg)

    if sources:
        sources_el = _el(root, "Sources", ns)
        for src in sources:
            iv = src.interview
            el = _el(sources_el, "TextSource", ns, guid=src.guid, name=iv.title or iv.id, plainTextPath=f"internal://{src.filename}",
                     creatingUser=user, creationDateTime=now)
            desc = [_("custdev interview {id}").format(id=iv.id)]
            if iv.respondent:
                desc.append(_("Respondent: {respondent}").format(respondent=iv.respondent) + (f" ({iv.company})" if iv.company else ""))
            if iv.audio:
                desc.append(_("Recording: {audio}").format(audio=iv.audio))
            _el(el, "Description", ns).text = "\n".join(desc)
            for n, sel in enumerate(src.selections):
                sel_el = _el(el, "PlainTextSelection", ns, guid=guid("selection", iv.id, str(n), str(sel.start)),
                             name=_short(sel.text), startPosition=str(sel.start), endPosition=str(sel.end),
                             creatingUser=user, creationDateTime=now)
                for code in sel.codes:
                    coding = _el(sel_el, "Coding", ns, guid=guid("coding", iv.id, str(n), code), creatingUser=user, creationDateTime=now)
                    _el(coding, "CodeRef", ns, targetGUID=guids[code])
            for name, value, kind in (("Interview date", _iso_date(iv.date), "DateValue"), ("Interviewer", iv.interviewer, "TextValue"),
                                      ("Segments", ", ".join(iv.segments) or None, "TextValue"),
                                      ("NPS", str(iv.nps) if iv.nps is not None else None, "IntegerValue"),
                                      ("Language", iv.language, "TextValue"), ("custdev id", iv.id, "TextValue")):
                if value:
                    vv = _el(el, "VariableValue", ns)
                    _el(vv, "VariableRef", ns, targetGUID=var_guids[name])
                    _el(vv, kind, ns).text = value
    counts = {"codes": len(guids), "cases": len(cases), "quotes": sum(len(s.selections) for s in sources)}
    return _xml_bytes(root, ns), sources, counts


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _iso_date(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return _dt.date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        return None


def export_qdpx(base: Base, dest: str | Path) -> ExportResult:
    """Write the whole base as a REFI-QDA project (``.qdpx``). The file appears whole or not at all."""
    dest = Path(dest)
    interviews = read_interviews(base)
    xml, sources, counts = project_xml(base, interviews)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.qde", xml)
        for src in sources:
            zf.writestr(f"sources/{src.filename}", src.text.encode("utf-8"))
    _write(dest, buffer.getvalue())
    return ExportResult(str(dest), len(sources), counts["quotes"], counts["codes"], counts["cases"])


def codebook_xml(base: Base, tags: list[str]) -> bytes:
    ns = CODEBOOK_NS
    root = ET.Element(f"{{{ns}}}CodeBook", {"origin": f"{ORIGIN} {__version__}"})
    tree = code_tree(base.codebook, tags, base.config.language)
    if not tree:
        raise ExportError(N_("the codebook has no pains, hypotheses or tags to export"))
    _codes_xml(_el(root, "Codes", ns), tree, ns)
    return _xml_bytes(root, ns)


def export_qdc(base: Base, dest: str | Path) -> ExportResult:
    """Write the codebook alone (``.qdc``): pains, hypotheses and the tags the interviews use."""
    dest = Path(dest)
    interviews = read_interviews(base)
    tags = _all_tags(interviews)
    data = codebook_xml(base, tags)
    _write(dest, data)
    count = len(code_guids(code_tree(base.codebook, tags)))
    return ExportResult(str(dest), len(interviews), 0, count, 0)


def _write(dest: Path, data: bytes) -> None:
    if dest.is_dir():
        raise ExportError(N_("{dest} is a folder; give a file name"), dest=dest)
    if not dest.parent.is_dir():
        raise ExportError(N_("{parent}: no such folder"), parent=dest.parent)
    try:
        atomic_write_bytes(dest, data)
    except OSError as exc:
        raise ExportError(N_("{dest}: cannot write ({error})"), dest=dest, error=os_reason(exc)) from None
