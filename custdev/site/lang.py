"""The site's language per viewer, and the message catalogs in its templates (Jinja's i18n extension).

The language of a page: ``?_lang=`` (remembered in a cookie, so the next pages follow), else the cookie, else
``custdev serve --language``, else the base's ``language``. Templates use ``{{ _("…") }}``, ``{% trans %}`` and
``ngettext`` from the same gettext catalogs as the CLI and the report (custdev/i18n.py).
"""

from __future__ import annotations

from urllib.parse import parse_qs

from jinja2 import pass_context

from custdev.i18n import LANGUAGES, N_, decimal, is_language, translator
from custdev.site.common import site_options
from custdev.site.settings import LANG_ARG, LANG_COOKIE


def request_language(datasette, request) -> str:
    if request is not None:
        for value in (request.args.get(LANG_ARG), request.cookies.get(LANG_COOKIE)):
            if is_language(value):
                return value
    return site_options(datasette).language


def install(env, datasette) -> None:
    """Jinja's i18n extension with gettext callables that read the page's language from its context."""
    env.add_extension("jinja2.ext.i18n")

    def language(ctx) -> str:
        value = ctx.get("custdev_lang")
        return value if is_language(value) else site_options(datasette).language

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
        """A table's name as a heading: interviews → «Интервью» where the catalogs know it, else the name itself."""
        name = str(name)
        return translator(language(ctx)).gettext(COLUMN_LABELS[name]) if name in COLUMN_LABELS else name

    env.globals["custdev_table"] = table_title


def remember_language(app):
    """ASGI wrapper: a valid ``?_lang=`` sets the viewer's language cookie on the response."""

    async def wrapped(scope, receive, send):
        if scope.get("type") != "http" or b"_lang=" not in scope.get("query_string", b""):
            return await app(scope, receive, send)
        values = parse_qs(scope["query_string"].decode("latin-1")).get(LANG_ARG, [])
        if not values or not is_language(values[-1]):
            return await app(scope, receive, send)
        cookie = f"{LANG_COOKIE}={values[-1]}; Path=/; Max-Age=31536000; SameSite=Lax".encode()

        async def send_with_cookie(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie)]}
            await send(message)

        return await app(scope, receive, send_with_cookie)

    return wrapped


# Column and parameter names of the canned queries, as headings (anything else: the name, underscores as spaces).
COLUMN_LABELS = {
    "segment": N_("Segment"), "pain": N_("Pain"), "interviews": N_("Interviews"), "segment_interviews": N_("Interviews in the segment"),
    "share_pct": N_("Share"), "quotes": N_("Quotes"), "quote": N_("Quote"), "interview": N_("Interview"),
    "respondent": N_("Respondent"), "company": N_("Company"), "segments": N_("Segments"), "start_s": N_("Time"),
    "date": N_("Date"), "role": N_("Role"), "nps": N_("NPS"), "pains": N_("Pains"), "seq": N_("Turn"),
    "speaker": N_("Speaker"), "speaker_role": N_("Speaker role"), "position": N_("Position"), "text": N_("Text"),
    "tag": N_("Tag"), "q": N_("Words"), "quote_id": N_("Quote id"), "interview_id": N_("Interview id"),
}


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
