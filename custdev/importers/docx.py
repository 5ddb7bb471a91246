"""Word (.docx) transcripts, e.g. Otter exports: paragraph text (and simple tables) through the .txt parser."""

from __future__ import annotations

import zipfile
from pathlib import Path

from custdev.errors import Message
from custdev.importers import ImportError_
from custdev.i18n import N_


def read_docx(path: Path) -> tuple[str, str | None, str | None]:
    """(text with one paragraph per line, document title, created date) of a .docx file."""
    import docx
    from docx.opc.exceptions import OpcError

    try:
        document = docx.Document(str(path))
    except (zipfile.BadZipFile, OpcError, KeyError, ValueError):
        raise ImportError_(N_("{path}: not a readable .docx file ({error})"), path=path,
                           error=Message(N_("not a Word document, or a damaged one"))) from None
    lines: list[str] = []
    title = None
    for para in document.paragraphs:
        text = para.text.strip()
        if not text:
            continue
        if para.style is not None and para.style.name.lower().startswith(("heading", "title")):
            title = title or text
            continue
        lines.append(text)
    for table in document.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells]
            cells = [c for n, c in enumerate(cells) if c and (n == 0 or c != cells[n - 1])]
            if len(cells) == 3:
                lines.append(f"[{cells[0]}] {cells[1]}: {cells[2]}")
            elif len(cells) == 2:
                lines.append(f"{cells[0]}: {cells[1]}")
    # core_properties.created is not used: documents made from Word's default template carry its date.
    title = title or (document.core_properties.title or None)
    created = None
    if not lines:
        raise ImportError_(N_("{path}: the document has no text"), path=path)
    return "\n".join(lines), title, created
