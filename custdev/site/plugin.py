"""The Datasette plugin (entry point ``custdev``): SQL functions, templates, routes, the gate and page data."""

from __future__ import annotations

import re

from datasette import hookimpl
from datasette.views.base import DatasetteError
from datasette.utils.asgi import asgi_static
from jinja2 import ChoiceLoader, FileSystemLoader
from markupsafe import Markup, escape

from custdev.db import MMAP_BYTES
from custdev.i18n import N_, percent, translator
from custdev.search import stem_text
from custdev.site.audio import audio_view
from custdev.site.auth import actor_from_request as login_actor
from custdev.site.auth import password_gate
from custdev.site.common import format_time, is_custdev, link_to, row_pk, site_options, unsure_words
from custdev.site.lang import install as install_i18n
from custdev.site.lang import SORT_ERROR, blob_cell, remember_language, request_language, viewer_language
from custdev.site.moved import moved_response
from custdev.site.evidence import journey_view
from custdev.site.pages import (
    charts_view,
    home_data,
    interview_data,
    query_form_data,
    quote_data,
    search_data,
)
from custdev.site.cells import install as install_cells
from custdev.site.cells import FIGURES, figure, table_rows_html
from custdev.site.queries import search_hits_html, search_results_renderer
from custdev.site.searchsql import highlight_html, load_base_lemmas, site_fts_query, snippet_sql
from custdev.site.settings import AUDIO_PREFIX, DB_NAME, STATIC_DIR, STATIC_PREFIX, TEMPLATES_DIR


@hookimpl(trylast=True)
def prepare_connection(conn, database, datasette):
    if database == DB_NAME:
        conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")  # search probes rows all over a big base (custdev.db)
    conn.create_function("custdev_stem", 1, lambda t: stem_text(t) if t is not None else None, deterministic=True)
    conn.create_function("custdev_match", 1, site_fts_query, deterministic=True)
    conn.create_function("custdev_snippet", 2, snippet_sql, deterministic=True)
    if database == DB_NAME:
        # Datasette's table search (?_search=) runs `MATCH escape_fts(:search)`. For the research base it runs
        # the same stemmed query as the CLI instead, so «оплаты» finds «оплата» on the utterances and quotes pages.
        conn.create_function("escape_fts", 1, site_fts_query, deterministic=True)
        path = datasette.databases[DB_NAME].path if DB_NAME in datasette.databases else None
        load_base_lemmas(conn, str(path))


@hookimpl
def startup(datasette):
    if is_custdev(datasette):
        import asyncio

        from custdev.site.queries import install, warm_up

        install(datasette, datasette.get_database(DB_NAME))  # the search page's one pass, table-search counts
        install_cells(render_cell)  # table pages' cells without the per-cell hook (while render_cell is ours alone)
        # In the background: `custdev serve` starts each server process at once, and a search in the first
        # seconds just waits for what the warm-up is loading anyway.
        datasette._custdev_warm_up = asyncio.get_running_loop().create_task(warm_up(datasette.get_database(DB_NAME)))


@hookimpl
def prepare_jinja2_environment(env, datasette):

    loader = env.loader
    if isinstance(loader, ChoiceLoader) and loader.loaders and isinstance(loader.loaders[0], FileSystemLoader):
        paths = loader.loaders[0].searchpath
        # After --template-dir (a user's own overrides win), before plugins and Datasette's defaults.
        paths.insert(1 if datasette.template_dir else 0, str(TEMPLATES_DIR))
    else:  # pragma: no cover - a future Datasette with another loader layout
        env.loader = ChoiceLoader([FileSystemLoader(str(TEMPLATES_DIR)), loader])
    # Templates are read once per server process: Jinja would otherwise stat every template file a page uses, on
    # every request (a search page: about 20 stats). A changed --template-dir shows after a restart.
    env.auto_reload = False
    env.globals["custdev_table_rows"] = table_rows_html
    env.globals["custdev_search_hits"] = search_hits_html
    env.filters["custdev_time"] = format_time
    env.filters["custdev_highlight"] = highlight_html
    env.filters["custdev_pk"] = row_pk
    env.filters["custdev_unsure"] = unsure_words
    env.globals["custdev_static"] = lambda name: datasette.urls.path(STATIC_PREFIX + name)
    install_i18n(env, datasette)
    env.globals["custdev_search_results"] = search_results_renderer(env)  # after i18n: the copy shares its callables


@hookimpl
def register_routes(datasette):
    from custdev.site.meaning import themes_view

    from custdev.site.queries import search_route

    search = [(rf"^/(?P<database>{DB_NAME})/(?P<table>search)(\.(?P<format>\w+))?$", search_route(datasette))] if is_custdev(datasette) else []
    return search + [
        (rf"^{re.escape(AUDIO_PREFIX)}(?P<interview>[^/]+)$", audio_view),
        (r"^/-/charts$", charts_view),
        (r"^/-/journey$", journey_view),
        (r"^/-/themes$", themes_view),
        (rf"^{re.escape(STATIC_PREFIX)}(?P<path>.*)$", asgi_static(str(STATIC_DIR))),
    ]


@hookimpl
def asgi_wrapper(datasette):
    return lambda app: remember_language(password_gate(app, datasette))


@hookimpl
def handle_exception(datasette, request, exception):
    if isinstance(exception, DatasetteError) and exception.status == 500 and SORT_ERROR.fullmatch(str(exception.message)):
        exception.status = 400  # a column the link cannot sort by is the link's mistake, not the server's (Datasette says 500)

    async def inner():
        return await moved_response(datasette, request, exception)

    return inner


@hookimpl
def actor_from_request(datasette, request):
    return login_actor(datasette, request)


@hookimpl
def extra_css_urls(datasette):
    if is_custdev(datasette):
        return [datasette.urls.path(STATIC_PREFIX + "custdev.css")]
    return []


@hookimpl
def menu_links(datasette, actor, request):
    if not is_custdev(datasette):
        return []
    _ = translator(request_language(datasette, request)).gettext
    return [
        {"href": datasette.urls.path(f"/{DB_NAME}/search"), "label": _(MENU["search"])},
        {"href": datasette.urls.path("/-/charts"), "label": _(MENU["charts"])},
        {"href": datasette.urls.path("/-/journey"), "label": _(MENU["journey"])},
        {"href": datasette.urls.path(f"/{DB_NAME}/pains_by_segment"), "label": _(MENU["pains_by_segment"])},
    ]


MENU = {"search": N_("Search everything"), "charts": N_("Charts"), "journey": N_("Journey"), "pains_by_segment": N_("Pains by segment")}


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    if not is_custdev(datasette) or request is None:
        return {}

    async def inner():
        common = {
            "custdev_lang": request_language(datasette, request),
            "custdev_share": site_options(datasette).share,
            "custdev_search_url": datasette.urls.path(f"/{DB_NAME}/search"),
            "custdev_charts_url": datasette.urls.path("/-/charts"),
            "custdev_username": site_options(datasette).username,
        }
        if template == "index.html":
            return {**common, "custdev_home": await home_data(datasette)}
        if database != DB_NAME:
            return common
        if template == "query-custdev-search.html":
            return {**common, "custdev_search": await search_data(datasette, request), **await query_form_data(datasette, request)}
        if template == "query-custdev.html":
            return {**common, **await query_form_data(datasette, request)}
        if template == "row-custdev-quotes.html":
            return {**common, "custdev_quote": await quote_data(datasette, request)}
        if template == "row-custdev-interviews.html":
            return {**common, "custdev_interview": await interview_data(datasette, request)}
        return common

    return inner


_LINKED_COLUMNS = frozenset({"quote_id", "quote", "interview_id", "interview", "pain", "segment", "start_s", "share_pct"})
VERDICT_VALUES = {"systemic": N_("systemic"), "local": N_("local"), "unclear": N_("unclear"), "supported": N_("supported"),
                  "refuted": N_("refuted")}


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    """Links in the canned queries' results: quotes, interviews, pains and segments open their pages. Verdicts and
    statuses (systemic, unclear, supported …) read in the page's language in every table and view."""
    if database != DB_NAME or value in (None, ""):
        return None
    if isinstance(value, bytes):  # «<Двоичные данные: 1 024 байта>», Datasette's link kept (custdev.site.lang)
        return blob_cell(datasette, database, table, row, column, value)
    if column in ("verdict", "status") and value in VERDICT_VALUES:
        return translator(viewer_language(datasette)).gettext(VERDICT_VALUES[value])
    if type(value) is float and column in FIGURES:  # 0.625 → «62,5%», as the CLI and the report write it
        return figure(column, value, viewer_language(datasette))
    if table is not None or column not in _LINKED_COLUMNS:  # most cells: the search page has 50 rows × 13 columns
        return None
    try:
        keys = set(row.keys())
    except AttributeError:
        return None

    def a(href: str, text) -> Markup:
        return Markup(f'<a href="{escape(href)}">{escape(text)}</a>')

    if column in ("quote_id", "quote") and "quote_id" in keys and row["quote_id"] is not None:
        return a(datasette.urls.row(DB_NAME, "quotes", row_pk(row["quote_id"])), value)
    if column in ("interview_id", "interview") and "interview_id" in keys and row["interview_id"] is not None:
        return a(datasette.urls.row(DB_NAME, "interviews", row_pk(row["interview_id"])), value)
    if column == "pain" and "pain_slug" in keys:
        segment = row["segment_slug"] if "segment_slug" in keys else ""
        return a(link_to(datasette, f"/{DB_NAME}/quotes_of_pain", pain=row["pain_slug"], segment=segment), value)
    if column == "segment" and "segment_slug" in keys:
        return a(link_to(datasette, f"/{DB_NAME}/interviews_of_segment", segment=row["segment_slug"]), value)
    if column == "start_s" and isinstance(value, (int, float)):
        return format_time(value)
    if column == "share_pct" and isinstance(value, (int, float)):
        return percent(value / 100, viewer_language(datasette))  # the viewer's (?_lang=, cookie), else the site's
    return None
