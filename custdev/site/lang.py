"""The site's language per viewer, and the message catalogs in its templates (Jinja's i18n extension).

The language of a page: ``?_lang=`` (remembered in a cookie, so the next pages follow), else the cookie, else
``custdev serve --language``, else the base's ``language``. Error pages too: Datasette renders them without the
request, so :func:`remember_language` keeps the viewer's choice for the duration of each request. Templates use ``{{ _("…") }}``, ``{% trans %}`` and
``ngettext`` from the same gettext catalogs as the CLI and the report (custdev/i18n.py).
"""

from __future__ import annotations

import hashlib
import re
from contextvars import ContextVar
from urllib.parse import parse_qs

from jinja2 import pass_context
from markupsafe import Markup, escape

from custdev.i18n import LANGUAGES, N_, NP_, decimal, is_language, translator
from custdev.site.common import site_options
from custdev.site.labels import COLUMN_LABELS, TABLE_LABELS
from custdev.site.settings import LANG_ARG, LANG_COOKIE


# The request being answered (its ASGI scope) and the viewer's choice of language in it (?_lang=, else the cookie;
# None: none): for what Datasette renders or calls without the request (its error pages, render_cell).
_REQUEST: ContextVar[tuple[dict, str | None] | None] = ContextVar("custdev_request", default=None)


def _viewer_choice() -> str | None:
    current = _REQUEST.get()
    return current[1] if current is not None else None


def request_language(datasette, request) -> str:
    if request is not None:
        for value in (request.args.get(LANG_ARG), request.cookies.get(LANG_COOKIE)):
            if is_language(value):
                return value
    return site_options(datasette).language


def viewer_language(datasette) -> str:
    """The language of the page being answered, for code Datasette calls without the request (``render_cell``):
    the viewer's ``?_lang=``/cookie (:func:`remember_language`), else the site's."""
    value = _viewer_choice()
    return value if is_language(value) else site_options(datasette).language


# A binary cell (embeddings.vector) as Datasette 0.65 shows it, in the page's language: <Двоичные данные: 1 024 байта>.
BLOB_LABEL = NP_("<Binary: {n} byte>", "<Binary: {n} bytes>")
BYTE_UNITS = {"KB": N_("KB"), "MB": N_("MB"), "GB": N_("GB"), "TB": N_("TB")}


async def blob_cell(datasette, database: str, table: str | None, row, column: str, value: bytes) -> Markup | None:
    """Datasette's download link of a binary cell (``render_cell``'s answer for one: a table's, a row's or a SQL
    query's), its label and size in the viewer's language."""
    from datasette.utils import format_bytes, path_from_row_pks, path_with_format

    language = viewer_language(datasette)
    tr = translator(language)
    n = len(value)
    label = tr.ngettext(*BLOB_LABEL, n).format(n=decimal(n, language, 0))
    size, unit = format_bytes(n).split(" ")
    title = "" if unit == "bytes" else f' title="{escape(decimal(float(size), language, 1, fixed=True) + " " + tr.gettext(BYTE_UNITS[unit]))}"'
    if table is not None:
        pks = await datasette.get_database(database).primary_keys(table)
        href = datasette.urls.row_blob(database, table, path_from_row_pks(row, pks, not pks), column)
    else:  # a query's result: the query again as .blob, as Datasette links it (from the request)
        current = _REQUEST.get()
        if current is None:
            return None
        from datasette.utils.asgi import Request

        href = path_with_format(request=Request(current[0], None), format="blob",
                                extra_qs={"_blob_column": column, "_blob_hash": hashlib.sha256(value).hexdigest()})
    return Markup(f'<a class="blob-download" href="{escape(href)}"{title}>{str(escape(label)).replace(" ", "&nbsp;")}</a>')


def install(env, datasette) -> None:
    """Jinja's i18n extension with gettext callables that read the page's language from its context."""
    env.add_extension("jinja2.ext.i18n")

    def language(ctx) -> str:
        for value in (ctx.get("custdev_lang"), _viewer_choice()):
            if is_language(value):
                return value
        return site_options(datasette).language

    @pass_context
    def gettext(ctx, message):
        return translator(language(ctx)).gettext(message)

    @pass_context
    def ngettext(ctx, singular, plural, n):
        return translator(language(ctx)).ngettext(singular, plural, n)

    @pass_context
    def label(ctx, name):
        return column_label(language(ctx), str(name))

    @pass_context
    def number(ctx, value, digits=1, fixed=True):
        """A number in the page's language (custdev.i18n.decimal): 0,43 / 1 234 in Russian, 0.43 / 1,234 in English."""
        return value if value is None or value == "" else decimal(value, language(ctx), digits, fixed=fixed)

    env.install_gettext_callables(gettext, ngettext, newstyle=True)
    env.filters["custdev_number"] = number

    @pass_context
    def translate(ctx, text):
        """A text that comes from data or from Datasette (a description, a filter's name) through the catalogs, as it
        is: ``_()`` would %-format it, and a description may hold a "%"."""
        return text if not text else translator(language(ctx)).gettext(str(text))

    env.filters["custdev_t"] = translate
    env.globals["custdev_languages"] = LANGUAGES
    env.globals["custdev_label"] = label

    @pass_context
    def table_title(ctx, name):
        """A table's name as a heading: utterances → «Реплики» (custdev.site.labels), else the name itself."""
        name = str(name)
        label = TABLE_LABELS.get(name) or COLUMN_LABELS.get(name)
        return translator(language(ctx)).gettext(label) if label else name

    env.globals["custdev_table"] = table_title

    @pass_context
    def describe(ctx):
        """The table page's «где … ; сортировка …» line (:func:`describe_table`)."""
        return describe_table(language(ctx), ctx.get("request"), ctx.get("filters"), ctx.get("sort"), ctx.get("sort_desc"),
                              ctx.get("human_description_en"))

    env.globals["custdev_describe"] = describe

    @pass_context
    def error(ctx, message):
        """An error page's message (error.html): Datasette's own messages through the catalogs, anything else (an
        SQLite message, custdev's own HTML) as it is."""
        return error_message(language(ctx), message)

    env.globals["custdev_error"] = error
    # The page's language for <html lang> (an error page's too: the viewer's, see remember_language).
    env.globals["custdev_page_language"] = pass_context(language)


def _scope_language(scope) -> tuple[str | None, bool]:
    """The viewer's language a request asks for (``?_lang=``, else the language cookie) and whether it came from
    ``?_lang=`` (then the response sets the cookie)."""
    query = scope.get("query_string", b"")
    if b"_lang=" in query:
        values = parse_qs(query.decode("latin-1")).get(LANG_ARG, [])
        if values and is_language(values[-1]):
            return values[-1], True
    for name, value in scope.get("headers", ()):
        if name == b"cookie" and _COOKIE_BYTES in value:
            m = _COOKIE.search(value)
            language = m.group(1).decode("ascii") if m else None
            return (language, False) if is_language(language) else (None, False)
    return None, False


_COOKIE_BYTES = LANG_COOKIE.encode()
_COOKIE = re.compile(rb"(?:^|[;,]\s*)" + re.escape(_COOKIE_BYTES) + rb'="?([A-Za-z]+)"?\s*(?:;|,|$)')  # the value: en/ru


def remember_language(app):
    """ASGI wrapper: a valid ``?_lang=`` sets the viewer's language cookie on the response; the viewer's language
    (that, else the cookie) holds while the request is answered, for the pages Datasette renders without it."""

    async def wrapped(scope, receive, send):
        if scope.get("type") != "http":
            return await app(scope, receive, send)
        language, asked = _scope_language(scope)
        token = _REQUEST.set((scope, language))
        try:
            if not asked:
                return await app(scope, receive, send)
            cookie = f"{LANG_COOKIE}={language}; Path=/; Max-Age=31536000; SameSite=Lax".encode()

            async def send_with_cookie(message):
                if message["type"] == "http.response.start":
                    message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie)]}
                await send(message)

            return await app(scope, receive, send_with_cookie)
        finally:
            _REQUEST.reset(token)

    return wrapped


def column_label(language: str, name: str) -> str:
    if name in COLUMN_LABELS:
        return translator(language).gettext(COLUMN_LABELS[name])
    return name.replace("_", " ")


# Errors datasette-auth-passwords puts on the login page (password_login.html translates them).
LOGIN_ERRORS = (N_("Invalid username or password"), N_("This instance does not have any configured accounts"))

# Words Datasette's own pages show from its Python code (crumbs, filter operators, the SQL box's show/hide): the
# site's copies of its templates (custdev/site/templates: base, table, row, database, query …) translate them.
DATASETTE_WORDS = (
    N_("home"), N_("hide"), N_("show"), N_("Log in"),
    N_("contains"), N_("ends with"), N_("starts with"), N_("like"), N_("not like"), N_("glob"), N_("in"), N_("not in"),
    N_("array contains"), N_("array does not contain"), N_("date"), N_("is null"), N_("is not null"), N_("is blank"),
    N_("is not blank"),
)


# What a filtered, searched or sorted table page shows (Datasette's ``human_description_en``), in the page's language.
_CLAUSES = {
    "exact": "{column} = {value}", "not": "{column} ≠ {value}", "gt": "{column} > {value}", "gte": "{column} ≥ {value}",
    "lt": "{column} < {value}", "lte": "{column} ≤ {value}",
    "contains": N_("{column} contains {value}"), "endswith": N_("{column} ends with {value}"),
    "startswith": N_("{column} starts with {value}"), "like": N_("{column} like {value}"),
    "notlike": N_("{column} not like {value}"), "glob": N_("{column} glob {value}"), "in": N_("{column} is one of {value}"),
    "notin": N_("{column} is none of {value}"), "arraycontains": N_("{column} contains {value}"),
    "arraynotcontains": N_("{column} does not contain {value}"), "date": N_("{column} is on date {value}"),
    "isnull": N_("{column} is null"), "notnull": N_("{column} is not null"), "isblank": N_("{column} is blank"),
    "notblank": N_("{column} is not blank"),
}


def describe_table(language: str, request, filters, sort: str | None, sort_desc: str | None, english: str) -> str:
    """«где Сегмент = «smb» и поиск находит «счёт»; сортировка: Дата, по убыванию»: what the table page shows, with
    column labels, in ``language``. ``english`` (Datasette's own text) is kept where a filter is one custdev does not
    describe (``_through``, a per-column ``_search_…``)."""
    args = request.args if request is not None else {}
    if filters is None or any(key == "_through" or key.startswith("_search_") for key in args):
        return english or ""
    from datasette.filters import InFilter

    tr = translator(language)

    def quoted(value: str) -> str:
        return value if value.isdigit() else tr.gettext('"{value}"').format(value=value)

    clauses = []
    if args.get("_search"):
        clauses.append(tr.gettext("search matches {value}").format(value=quoted(args.get("_search"))))
    for column, lookup, value in filters.selections():
        template = _CLAUSES.get(lookup)
        if template is None:
            return english or ""
        if lookup in ("in", "notin"):
            value = ", ".join(quoted(str(v)) for v in InFilter().split_value(value))  # Datasette's own reading
        elif lookup not in ("gt", "gte", "lt", "lte"):
            value = quoted(str(value))
        clauses.append(tr.gettext(template).format(column=column_label(language, column), value=value))
    text = ""
    if clauses:
        joined = clauses[0] if len(clauses) == 1 else tr.gettext("{conditions} and {last}").format(
            conditions=", ".join(clauses[:-1]), last=clauses[-1])
        text = tr.gettext("where {conditions}").format(conditions=joined)
    if sort or sort_desc:
        label = column_label(language, sort or sort_desc)
        template = "sorted by {column} descending" if sort_desc else "sorted by {column}"
        by = tr.gettext(template).format(column=label)
        text = tr.gettext("{conditions} {sorting}").format(conditions=text, sorting=by) if text else by
    return text


DESCRIPTION_WORDS = (N_('"{value}"'), N_("search matches {value}"), N_("{conditions} and {last}"),
                     N_("where {conditions}"), N_("{conditions} {sorting}"), N_("sorted by {column} descending"), N_("sorted by {column}"))


# Datasette's messages on its error pages, as Datasette words them, and what error.html shows in the page's language
# (with the message's fields). "Invalid SQL" is a title, which error.html also translates through the catalogs.
SORT_ERROR = re.compile(r"Cannot sort table by (?P<column>.+)", re.S)
DATASETTE_ERRORS = [
    (re.compile("Table not found"), N_("Table not found")),
    (re.compile("Record not found"), N_("Record not found")),
    (re.compile("Database not found"), N_("Database not found")),
    (re.compile("Invalid SQL"), N_("Invalid SQL")),
    (SORT_ERROR, N_("Cannot sort table by {column}")),
    (re.compile("_size must be a positive integer"), N_("The page size (_size) must be a positive whole number")),  # ?_size=
    (re.compile(r"_size must be <= (?P<limit>\d+)"), N_("The page size (_size) can be at most {limit}")),
]


def error_message(language: str, message):
    if isinstance(message, Markup) or not isinstance(message, str):
        return message
    for pattern, template in DATASETTE_ERRORS:
        m = pattern.fullmatch(message)
        if m:
            return translator(language).gettext(template).format(**m.groupdict())
    return message
