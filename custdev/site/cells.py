"""The cells of custdev's own table pages, prepared in one pass instead of through the ``render_cell`` hook per cell.

Datasette 0.65 builds a table page's cells in ``datasette.views.table.display_columns_and_rows``: for each of the
page's cells (a table search: 100 rows × 12 columns) it calls the ``render_cell`` plugin hook through pluggy and
awaits its answer, then picks the default display. On the 10,000-interview base that was about half of a table
search's CPU time, although custdev's own ``render_cell`` (``custdev.site.plugin``) is the only implementation.

For the research database (``custdev.db``), and only while custdev's ``render_cell`` is the hook's one
implementation (taking the same arguments), :func:`display_columns_and_rows` calls that function directly and
then makes Datasette 0.65's own choices (blob links, expanded labels, the empty cell, links for URLs, truncation)
with the same columns, cells, ``value_type`` and markup. Any other database, another plugin that renders cells, or
a table with units (pint) goes through Datasette's own function. Row pages keep Datasette's function (one row).
``tests/test_site_cells.py`` compares whole pages of both paths.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from custdev.i18n import decimal, nps_text, percent
from custdev.site.common import html_text
from custdev.site.settings import DB_NAME

ENABLED = True  # False: every table page through Datasette's own function (the tests compare the two)
_ARGS = ("row", "value", "column", "table", "database", "datasette")
_original = None  # Datasette's display_columns_and_rows
_render_cell = None  # custdev's render_cell hook implementation


def install(render_cell) -> None:
    """Route Datasette's table pages through :func:`display_columns_and_rows` (once per process)."""
    global _original, _render_cell
    import datasette.views.table as table_view

    _render_cell = render_cell
    if _original is None:
        _original = table_view.display_columns_and_rows
        table_view.display_columns_and_rows = display_columns_and_rows


def _only_custdev_renders() -> bool:
    from datasette.plugins import pm

    impls = pm.hook.render_cell.get_hookimpls()
    return (len(impls) == 1 and impls[0].function is _render_cell and not impls[0].hookwrapper
            and not getattr(impls[0], "wrapper", False) and tuple(impls[0].argnames) == _ARGS)


async def display_columns_and_rows(datasette, database_name, table_name, description, rows, link_column=False,
                                   truncate_cells=0, sortable_columns=None):
    """Datasette 0.65's ``display_columns_and_rows`` (same arguments, same result), for custdev's database."""
    if not (ENABLED and database_name == DB_NAME and _only_custdev_renders()):
        return await _original(datasette, database_name, table_name, description, rows, link_column=link_column,
                               truncate_cells=truncate_cells, sortable_columns=sortable_columns)
    table_metadata = datasette.table_metadata(database_name, table_name)
    if table_metadata.get("units"):  # pint's units: Datasette's own way
        return await _original(datasette, database_name, table_name, description, rows, link_column=link_column,
                               truncate_cells=truncate_cells, sortable_columns=sortable_columns)
    from datasette.utils import CustomRow, await_me_maybe, format_bytes, is_url, path_from_row_pks, truncate_url
    from datasette.views.table import LINK_WITH_LABEL, LINK_WITH_VALUE, Row

    # The columns, as Datasette makes them.
    sortable_columns = sortable_columns or set()
    db = datasette.databases[database_name]
    column_descriptions = table_metadata.get("columns") or {}
    column_details = {col.name: col for col in await db.table_column_details(table_name)}
    pks = await db.primary_keys(table_name)
    pks_for_display = pks or ["rowid"]
    columns = []
    for r in description:
        if r[0] == "rowid" and "rowid" not in column_details:
            type_, notnull = "integer", 0
        else:
            type_, notnull = column_details[r[0]].type, column_details[r[0]].notnull
        columns.append({"name": r[0], "sortable": r[0] in sortable_columns, "is_pk": r[0] in pks_for_display,
                        "type": type_, "notnull": notnull, "description": column_descriptions.get(r[0])})
    column_to_foreign_key_table = {fk["column"]: fk["other_table"] for fk in await db.foreign_keys_for_table(table_name)}

    # The cells: custdev's render_cell, then Datasette's defaults, per cell; what is the same for a whole page, once.
    base_url = datasette.setting("base_url")
    render = _render_cell
    names = [c["name"] for c in columns]
    skip = pks[0] if link_column and len(pks) == 1 else None  # a simple primary key shows in the link column only
    table_path = datasette.urls.table(database_name, table_name) if link_column else None
    is_special_link_column = len(pks) != 1
    link_column_name = pks[0] if len(pks) == 1 else "Link"
    use_rowid = not pks
    one_pk = pks[0] if len(pks) == 1 else None
    nbsp = Markup("&nbsp;")
    cell_rows = []
    for row in rows:
        cells = []
        if link_column:
            if one_pk is not None:  # path_from_row_pks of one key, without its per-byte encoder for plain keys
                pk_path = row[one_pk]
                pk_path = str(pk_path["value"] if isinstance(pk_path, dict) else pk_path)
                pk_quoted = _tilde(pk_path)
            else:
                pk_path = path_from_row_pks(row, pks, use_rowid, False)
                pk_quoted = path_from_row_pks(row, pks, use_rowid)
            cells.append({
                "column": link_column_name,
                "value_type": "pk",
                "is_special_link_column": is_special_link_column,
                "raw": pk_path,
                "value": Markup(f'<a href="{table_path}/{pk_quoted}">{escape(pk_path)}</a>'),
            })
        # sqlite3.Row iterates in C; Datasette's CustomRow (a page with expanded labels) by a Python generator
        for value, column in zip(map(row.get, row.columns) if type(row) is CustomRow else row, names):
            if column == skip:
                continue
            shown = render(row, value, column, table_name, database_name, datasette)
            if shown is not None:
                shown = await await_me_maybe(shown)
            if shown:
                display_value = shown
            elif isinstance(value, bytes):
                formatted = format_bytes(len(value))
                display_value = Markup(
                    '<a class="blob-download" href="{}"{}>&lt;Binary:&nbsp;{:,}&nbsp;byte{}&gt;</a>'.format(
                        datasette.urls.row_blob(database_name, table_name, path_from_row_pks(row, pks, use_rowid), column),
                        ' title="{}"'.format(formatted) if "bytes" not in formatted else "",
                        len(value),
                        "" if len(value) == 1 else "s",
                    ))
            elif isinstance(value, dict):  # an expanded foreign key (labels): a link to the other row
                label = value["label"]
                value = value["value"]
                link_template = LINK_WITH_LABEL if label != value else LINK_WITH_VALUE
                display_value = Markup(link_template.format(
                    database=database_name, base_url=base_url, table=_tilde(column_to_foreign_key_table[column]),
                    link_id=_tilde(str(value)), id=str(escape(value)), label=str(escape(label)) or "-"))
            elif value is None or value == "":
                display_value = nbsp
            elif isinstance(value, str) and is_url(value.strip()):
                stripped = value.strip()
                display_value = Markup('<a href="{url}">{truncated_url}</a>'.format(
                    url=escape(stripped), truncated_url=escape(truncate_url(stripped, truncate_cells))))
            else:
                display_value = str(value)
                if truncate_cells and len(display_value) > truncate_cells:
                    display_value = display_value[:truncate_cells] + "\u2026"
            cells.append({"column": column, "value": display_value, "raw": value,
                          "value_type": "none" if value is None else type(value).__name__})
        cell_rows.append(Row(cells))

    if link_column:  # the link column's header first
        if len(pks) == 1:
            columns = [col for col in columns if col["name"] != pks[0]]
            first_column = {"name": pks[0], "sortable": True, "is_pk": True, "type": column_details[pks[0]].type,
                            "notnull": column_details[pks[0]].notnull}
        else:
            first_column = {"name": "Link", "sortable": False, "is_pk": False, "type": "", "notnull": 0}
        columns = [first_column] + columns
    return columns, cell_rows


# The figures of custdev's analysis tables and views, by column: written as `custdev pains`, `segments`, `saturation`,
# `cooccurrence` and the report write them (shares as percentages with one decimal, NPS with its sign, Jaccard with
# two decimals, amounts whole), in the viewer's language. The cells only: JSON, CSV, sorting and filters keep the
# stored numbers. Columns not named here (times, confidences) show as stored.
FIGURES = {
    **dict.fromkeys(("share", "ci_low", "ci_high", "support_share", "new_pain_chance"),
                    lambda v, lang: percent(v, lang, fixed=True)),
    "jaccard": lambda v, lang: decimal(v, lang, 2, fixed=True),
    "chao1": lambda v, lang: decimal(v, lang, fixed=True),
    "nps": nps_text,
    **dict.fromkeys(("accounts", "accounts_low", "accounts_high", "revenue_at_risk", "revenue_low", "revenue_high"),
                    lambda v, lang: decimal(v, lang, 0)),
    **dict.fromkeys(("size", "revenue"), lambda v, lang: decimal(v, lang, 2)),
    **dict.fromkeys(("systemic_threshold", "z"), lambda v, lang: decimal(v, lang, 4)),
}


def figure(column: str, value: float, language: str) -> str:
    """A float of ``column`` as custdev writes that figure (:data:`FIGURES`)."""
    return FIGURES[column](value, language)


_TILDE_SAFE = re.compile(r"[A-Za-z0-9_-]*")  # the characters Datasette's tilde_encode keeps as they are


def _tilde(s: str) -> str:
    """datasette.utils.tilde_encode, without its per-byte loop for a plain key (the ids of custdev's tables)."""
    if _TILDE_SAFE.fullmatch(s):
        return s
    from datasette.utils import tilde_encode

    return tilde_encode(s)


def table_rows_html(display_rows) -> Markup:
    """The rows of a table page (``_table.html``), as Datasette 0.65's template writes them, written in Python: a
    table search shows 100 rows × 13 cells, and Jinja's async rendering of each cell was a third of the page's time.
    Cells from either path (this module's or Datasette's own)."""
    from datasette.utils import to_css_class

    out = []
    classes: dict = {}  # to_css_class per column (a regex, and an md5 for odd names), not per cell
    types: dict = {}
    for row in display_rows:
        out.append("\n            <tr>\n                ")
        for cell in row:
            column = cell["column"]
            css = classes.get(column)
            if css is None:
                css = classes[column] = escape(to_css_class(column))
            value_type = cell["value_type"]
            type_css = types.get(value_type)
            if type_css is None:
                type_css = types[value_type] = escape(value_type)
            value = cell["value"]
            out.append(f'\n                    <td class="col-{css} type-{type_css}">{html_text(value)}</td>\n                ')
        out.append("\n            </tr>\n        ")
    return Markup("".join(out))
