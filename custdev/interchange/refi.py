"""What REFI-QDA export and import share: namespaces, stable GUIDs and the code tree custdev writes.

custdev's codes become one REFI-QDA code hierarchy::

    Pains                      (a folder: not codable)
      <pain title>             pain/<slug>
    Hypotheses                 (folder)
      <hypothesis title>       (folder)
        supports               h/<slug>
        refutes                h/<slug>/against
    Tags                       (folder)
      billing                  billing
        invoices               billing/invoices

Each code's ``Description`` ends with a marker line ``custdev: pain/<slug>`` (``h/…``, ``#tag``) so a project that
went through another tool maps back to the same codes without the researcher's help.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field

from custdev.i18n import LANGUAGES, N_, translator

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
ORIGIN = "custdev"
MARKER = "custdev: "
_MARKER_RE = re.compile(r"(?m)^custdev: (?P<code>\S+)\s*$")

# A fixed namespace: the same base exported twice gives the same GUIDs (diffable, re-importable).
_NAMESPACE = uuid.UUID("5b0f4a52-4d43-4c1e-9c53-1f0e6a1b7c10")

PAIN_COLOURS = ("#d62728", "#e4572e", "#c0392b", "#f28e2b", "#b03a2e", "#e15759", "#ff7f0e", "#a93226")
FOR_COLOUR, AGAINST_COLOUR = "#2ca02c", "#9467bd"
TAG_COLOURS = ("#1f77b4", "#17becf", "#4e79a7", "#76b7b2", "#59a14f", "#edc948", "#af7aa1", "#9c755f", "#bab0ac", "#8cd17d")
FOLDER_COLOURS = {"pains": "#d62728", "hypotheses": "#2ca02c", "tags": "#1f77b4"}


# The variables custdev writes (cases: respondents; sources: interviews), by their English name, which also keys their
# GUIDs; a project shows them in the base's language. Import reads any language's name, and the aliases other tools use.
CASE_VARIABLES = ((N_("Segments"), "Text"), ("NPS", "Integer"), (N_("Company"), "Text"), (N_("Role"), "Text"))
SOURCE_VARIABLES = ((N_("Interview date"), "Date"), (N_("Interviewer"), "Text"), (N_("Language"), "Text"), ("custdev id", "Text"))
VARIABLE_ALIASES = {N_("Segment"): "Segments", N_("Date"): "Interview date"}


def variable_key(name: str) -> str:
    """The English name, case-folded, of a project's variable named ``name`` in any language custdev speaks
    ("Сегменты" -> "segments", "Date" -> "interview date"); other names case-folded as they are."""
    return _VARIABLE_KEYS.get(name.strip().casefold(), name.strip().casefold())


def _variable_keys() -> dict[str, str]:
    keys = {}
    names = [(n, n) for n, _ in CASE_VARIABLES + SOURCE_VARIABLES] + list(VARIABLE_ALIASES.items())
    for language in LANGUAGES:
        tr = translator(language)
        for shown, english in names:
            keys[tr.gettext(shown).casefold()] = english.casefold()
            keys[shown.casefold()] = english.casefold()
    return keys


_VARIABLE_KEYS = _variable_keys()


def guid(*parts: str) -> str:
    """A GUID that depends only on ``parts`` (uuid5), in the lower-case form the schema's pattern accepts."""
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts)))


def colour_for(text: str, palette: tuple[str, ...]) -> str:
    return palette[int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16) % len(palette)]


def marker_of(description: str | None) -> str | None:
    """The custdev code named by a ``custdev: …`` line of a code's description, if any."""
    if not description:
        return None
    m = _MARKER_RE.search(description)
    return m.group("code") if m else None


@dataclass
class CodeNode:
    """One code of the tree. ``code`` is custdev's code (``pain/x``, ``h/x``, ``h/x/against``, ``billing/x``) or None
    for a folder."""

    guid: str
    name: str
    code: str | None = None
    colour: str | None = None
    description: str = ""
    children: list["CodeNode"] = field(default_factory=list)

    @property
    def codable(self) -> bool:
        return self.code is not None

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


def code_tree(codebook, tags: list[str], language: str = "en") -> list[CodeNode]:
    """The REFI-QDA code hierarchy for a codebook and the free tags used in interviews; folders, the hypotheses'
    supports/refutes codes and the descriptions custdev writes are in ``language`` (the ``custdev:`` lines are not)."""
    _ = translator(language).gettext
    pains = CodeNode(guid("folder", "pains"), _("Pains"), colour=FOLDER_COLOURS["pains"],
                     description=_("custdev pains (codebook.yml)"))
    for n, entry in enumerate(codebook.pains.values()):
        desc = entry.description.strip()
        if entry.stage:
            desc = (desc + "\n" if desc else "") + _("Journey stage: {stage}").format(stage=entry.stage)
        pains.children.append(CodeNode(
            guid("pain", entry.slug), entry.title, f"pain/{entry.slug}", PAIN_COLOURS[n % len(PAIN_COLOURS)],
            (desc + "\n" if desc else "") + f"{MARKER}pain/{entry.slug}",
        ))
    hyps = CodeNode(guid("folder", "hypotheses"), _("Hypotheses"), colour=FOLDER_COLOURS["hypotheses"],
                    description=_("custdev hypotheses: evidence for (supports) and against (refutes)"))
    for entry in codebook.hypotheses.values():
        node = CodeNode(guid("hypothesis", entry.slug), entry.title, None, FOR_COLOUR, entry.description.strip())
        node.children = [
            CodeNode(guid("h", entry.slug, "for"), _("supports"), f"h/{entry.slug}", FOR_COLOUR, f"{MARKER}h/{entry.slug}"),
            CodeNode(guid("h", entry.slug, "against"), _("refutes"), f"h/{entry.slug}/against", AGAINST_COLOUR,
                     f"{MARKER}h/{entry.slug}/against"),
        ]
        hyps.children.append(node)
    folders = [pains, hyps]
    if tags:
        root = CodeNode(guid("folder", "tags"), _("Tags"), colour=FOLDER_COLOURS["tags"],
                        description=_("custdev free tags (#tag, #parent/child)"))
        nodes: dict[str, CodeNode] = {}
        for tag in sorted(set(tags)):
            parts = tag.split("/")
            for depth in range(1, len(parts) + 1):
                path = "/".join(parts[:depth])
                if path in nodes:
                    continue
                node = CodeNode(guid("tag", path), parts[depth - 1], path, colour_for(parts[0], TAG_COLOURS), f"{MARKER}#{path}")
                nodes[path] = node
                (nodes["/".join(parts[: depth - 1])].children if depth > 1 else root.children).append(node)
        folders.append(root)
    return [f for f in folders if f.children]


def code_guids(tree: list[CodeNode]) -> dict[str, str]:
    """custdev code -> GUID of its REFI-QDA code."""
    return {node.code: node.guid for top in tree for node in top.walk() if node.code}
