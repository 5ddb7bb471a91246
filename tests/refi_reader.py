"""A small REFI-QDA reader for tests, written from the standard (QDA-XML 1.0 / REFI-QDA 1.5), not from custdev's
exporter: it reads what a receiving tool reads, so the tests check the file, not our own assumptions.

* ``project.qde`` at the root of the zip, namespace ``urn:QDA-XML:project:1.0``;
* ``internal://NAME`` paths are files in the archive's ``sources/`` folder;
* ``PlainTextSelection`` positions are Unicode code points of the source text, start inclusive, end exclusive.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

NS = {"q": "urn:QDA-XML:project:1.0"}


@dataclass
class Code:
    guid: str
    name: str
    path: str
    codable: bool
    color: str | None
    description: str


@dataclass
class Selection:
    start: int
    end: int
    text: str
    codes: list[str]  # code paths


@dataclass
class Source:
    name: str
    text: str
    raw: bytes
    attrs: dict
    selections: list[Selection] = field(default_factory=list)
    variables: dict = field(default_factory=dict)


@dataclass
class Case:
    name: str
    variables: dict
    sources: list[str]


@dataclass
class Project:
    names: list[str]
    qde: bytes
    codes: dict[str, Code]
    sources: list[Source]
    cases: list[Case]


def _codes(el, prefix, out):
    for c in el.findall("q:Code", NS):
        path = f"{prefix}/{c.get('name')}" if prefix else c.get("name")
        desc = c.find("q:Description", NS)
        out[c.get("guid")] = Code(c.get("guid"), c.get("name"), path, c.get("isCodable") == "true", c.get("color"),
                                  desc.text if desc is not None and desc.text else "")
        _codes(c, path, out)


def _values(el, variables):
    found = {}
    for vv in el.findall("q:VariableValue", NS):
        ref = vv.find("q:VariableRef", NS).get("targetGUID")
        value = [child for child in vv if child.tag != f"{{{NS['q']}}}VariableRef"]
        found[variables[ref]] = value[0].text if value else None
    return found


def read_qdpx(path: Path) -> Project:
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        qde = zf.read("project.qde")
        root = ET.fromstring(qde)
        codes: dict[str, Code] = {}
        book = root.find("q:CodeBook/q:Codes", NS)
        if book is not None:
            _codes(book, "", codes)
        variables = {v.get("guid"): v.get("name") for v in root.findall("q:Variables/q:Variable", NS)}
        sources = []
        for ts in root.findall("q:Sources/q:TextSource", NS):
            path_attr = ts.get("plainTextPath")
            assert path_attr and path_attr.startswith("internal://"), path_attr
            raw = zf.read("sources/" + path_attr[len("internal://"):])
            text = raw.decode("utf-8")  # no newline translation: positions count every code point of the file
            src = Source(ts.get("name"), text, raw, dict(ts.attrib), variables=_values(ts, variables))
            for sel in ts.findall("q:PlainTextSelection", NS):
                s, e = int(sel.get("startPosition")), int(sel.get("endPosition"))
                src.selections.append(Selection(s, e, text[s:e], [codes[c.find("q:CodeRef", NS).get("targetGUID")].path for c in sel.findall("q:Coding", NS)]))
            sources.append(src)
        guids = {ts.get("guid"): ts.get("name") for ts in root.findall("q:Sources/*", NS)}
        cases = [
            Case(c.get("name"), _values(c, variables), [guids[r.get("targetGUID")] for r in c.findall("q:SourceRef", NS)])
            for c in root.findall("q:Cases/q:Case", NS)
        ]
    return Project(names, qde, codes, sources, cases)
