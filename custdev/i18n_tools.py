"""Maintaining the message catalogs (needs Babel, a test/development dependency; the app never imports this).

``python -m custdev.i18n_tools`` (or ``scripts/i18n``) extracts every marked label from the Python sources and
templates, merges it into ``custdev/locale/{en,ru}/LC_MESSAGES/custdev.po`` (English is filled with the source
text; new Russian messages are left empty and reported) and compiles the ``.mo`` files that ship in the repository.
``--check`` changes nothing and exits 1 when a catalog misses a message or a ``.mo`` is stale (what the tests check).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from custdev.i18n import DOMAIN, LANGUAGES, LOCALE_DIR

PACKAGE = Path(__file__).resolve().parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "NP_": (1, 2)}
METHOD_MAP = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "silent": "false"}}
HEADER = "Message catalog of custdev (https://github.com/custdev). Edit msgstr; run scripts/i18n to compile."


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(language: str) -> Path:
    return po_path(language).with_suffix(".mo")


def extract():
    """A Babel catalog of every message marked in the package (Python and templates)."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    catalog = Catalog(domain=DOMAIN, project="custdev", header_comment="# " + HEADER)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(PACKAGE), METHOD_MAP, options_map=OPTIONS, keywords=KEYWORDS, strip_comment_tags=True
    ):
        if filename.startswith("i18n"):  # the markers' own definitions
            continue
        catalog.add(message, None, [(f"custdev/{filename}", lineno)], auto_comments=comments, context=context)
    for filename, lineno, message in fstring_messages():
        catalog.add(message, None, [(f"custdev/{filename}", lineno)])
    for filename, lineno, message in docstring_messages():
        catalog.add(message, None, [(f"custdev/{filename}", lineno)])
    for message, where in metadata_messages():
        catalog.add(message, None, [(where, 0)])
    return catalog


def docstring_messages() -> list[tuple[str, int, str]]:
    """The help of each command: the docstring of a function decorated with ``@<app>.command(...)`` in custdev/cli
    (as typer shows it: ``inspect.cleandoc``-ed; custdev.cli.lang translates it)."""
    import ast

    out = []
    for path in sorted((PACKAGE / "cli").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            commands = [d for d in node.decorator_list if isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute)
                        and d.func.attr in ("command", "callback")]
            doc = ast.get_docstring(node, clean=True)
            if commands and doc:
                out.append((path.relative_to(PACKAGE).as_posix(), node.lineno, doc))
    return out


def fstring_messages() -> list[tuple[str, int, str | tuple[str, str]]]:
    """Marked messages inside f-strings (``f"{_('Stage')}: {x}"``), which Babel's tokenizer does not see on Python
    3.11 (an f-string is one token there): found with :mod:`ast`, which parses the replacement fields."""
    import ast

    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith("i18n"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.JoinedStr):
                continue
            for call in ast.walk(node):
                if not isinstance(call, ast.Call):
                    continue
                name = call.func.id if isinstance(call.func, ast.Name) else call.func.attr if isinstance(call.func, ast.Attribute) else None
                if name not in KEYWORDS:
                    continue
                args = [a.value for a in call.args[:2] if isinstance(a, ast.Constant) and isinstance(a.value, str)]
                plural = KEYWORDS[name] is not None
                if plural and len(args) == 2:
                    out.append((rel, call.lineno, (args[0], args[1])))
                elif not plural and args:
                    out.append((rel, call.lineno, args[0]))
    return out


def metadata_messages() -> list[tuple[str, str]]:
    """Titles and descriptions of the database, its tables and canned queries, and the column descriptions, in
    datasette_metadata.json (the site's templates translate them)."""
    import json

    path = PACKAGE.parent / "datasette_metadata.json"
    if not path.exists():
        path = PACKAGE / "datasette_metadata.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for db in data.get("databases", {}).values():
        items = [db, *db.get("tables", {}).values(), *db.get("queries", {}).values()]
        for item in items:
            for key in ("title", "description"):
                if item.get(key):
                    out.append((item[key], "datasette_metadata.json"))
            out += [(text, "datasette_metadata.json") for text in (item.get("columns") or {}).values() if text]
    return out


def read_po(language: str):
    from babel.messages.pofile import read_po as _read

    path = po_path(language)
    if not path.exists():
        from babel.messages.catalog import Catalog

        return Catalog(locale=language, domain=DOMAIN)
    with open(path, "rb") as fh:
        return _read(fh, locale=language, domain=DOMAIN)


def _filled(msg) -> bool:
    if isinstance(msg.string, (list, tuple)):
        return bool(msg.string) and all(msg.string)
    return bool(msg.string)


def missing(language: str, template=None) -> list[str]:
    """Messages of the sources that ``language``'s catalog lacks or leaves untranslated (or marks fuzzy)."""
    template = template if template is not None else extract()
    catalog = read_po(language)
    out = []
    for msg in template:
        if not msg.id:
            continue
        have = catalog.get(msg.id, context=msg.context)
        if have is None or not _filled(have) or have.fuzzy:
            out.append(msg.id if isinstance(msg.id, str) else msg.id[0])
    return out


def compiled(language: str) -> bytes:
    from babel.messages.mofile import write_mo

    buf = io.BytesIO()
    write_mo(buf, read_po(language), use_fuzzy=False)
    return buf.getvalue()


def stale(language: str) -> bool:
    path = mo_path(language)
    return not path.exists() or path.read_bytes() != compiled(language)


def update() -> dict[str, list[str]]:
    """Merge the sources' messages into every catalog, fill English, compile. Returns what each language lacks."""
    from babel.messages.pofile import write_po

    report = {}
    for language in LANGUAGES:
        catalog = read_po(language)
        catalog.update(extract(), no_fuzzy_matching=True)  # a fresh template each time: update() shares messages
        catalog.fuzzy = False
        catalog.project, catalog.version = "custdev", "1"
        catalog.copyright_holder, catalog.msgid_bugs_address = "the custdev authors", ""
        catalog.last_translator, catalog.language_team = "the custdev authors", language
        catalog.obsolete.clear()
        if language == "en":
            for msg in catalog:
                if msg.id and not _filled(msg):
                    msg.string = msg.id
        path = po_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            write_po(fh, catalog, width=120, sort_output=False, omit_header=False)
        mo_path(language).write_bytes(compiled(language))
        report[language] = missing(language)
    return report


def main(argv: list[str]) -> int:
    if "--check" in argv:
        template = extract()
        bad = 0
        for language in LANGUAGES:
            lacking = missing(language, template)
            if lacking:
                bad = 1
                print(f"{language}: {len(lacking)} message(s) missing or untranslated, e.g. {lacking[0]!r}")
            if stale(language):
                bad = 1
                print(f"{language}: {mo_path(language).name} is not the compiled {po_path(language).name}; run scripts/i18n")
        return bad
    for language, lacking in update().items():
        print(f"{language}: {po_path(language)} updated, {len(lacking)} message(s) to translate")
        for m in lacking:
            print(f"  {m}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
