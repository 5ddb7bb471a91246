"""Site data for the evidence of issue 9: unheard pains (Chao1) with the accumulation curve, pains mentioned together,
and the journey page. The numbers come from custdev.analysis run on the site's own connection, so they are the ones
the CLI and the report print."""

from __future__ import annotations

import sqlite3

from datasette.utils.asgi import Response
from sqlite_utils import Database

from custdev import analysis as an
from custdev.charts import accumulation_svg, cooccurrence_svg
from custdev.i18n import translator
from custdev.site.common import has_tables, is_custdev, link_to, require_view
from custdev.site.lang import request_language
from custdev.site.settings import DB_NAME

EVIDENCE_VIEWS = ("pain_richness", "pain_cooccurrence", "saturation", "pain_prevalence", "pain_by_segment")


def _window(conn) -> int:
    try:
        row = conn.execute("SELECT saturation_window FROM analysis_settings").fetchone()
        return int(row[0]) if row else 3
    except Exception:  # noqa: BLE001 - an old database: the default window
        return 3


def _evidence(conn) -> dict:
    db = Database(conn)
    if an.interview_count(db) == 0:
        return {"richness": [], "saturation": None, "cooccurrence": None}
    return {
        "richness": an.pain_richness(db),
        "saturation": an.saturation(db, _window(conn)),
        "cooccurrence": an.cooccurrence(db),
    }


async def evidence_data(datasette, request=None) -> dict:
    """Context for the charts page's evidence sections (empty when the views are missing or there are no interviews)."""
    from custdev.i18n import translator
    from custdev.site.lang import request_language

    t = translator(request_language(datasette, request))
    db = datasette.get_database(DB_NAME)
    if not await has_tables(db, *EVIDENCE_VIEWS):
        return {"evidence": None}
    try:
        data = await db.execute_fn(_evidence)
    except sqlite3.Error:  # an old or half-migrated database: the page shows what it can without these sections
        return {"evidence": None}
    if data["saturation"] is None:
        return {"evidence": None}
    overall = next(r for r in data["richness"] if r.segment is None)

    def pain_link(pain: str, segment: str = "") -> str:
        return link_to(datasette, f"/{DB_NAME}/quotes_of_pain", pain=pain, segment=segment)

    c = data["cooccurrence"]
    return {
        "evidence": {
            "richness": overall,
            "richness_segments": [r for r in data["richness"] if r.segment is not None],
            "accumulation": accumulation_svg([s.cumulative_pains for s in data["saturation"].steps], overall, t=t),
            "cooccurrence": cooccurrence_svg(c.pains[:12], c.interviews, {(p.pain_a, p.pain_b): p for p in c.pairs}, pain_link, t=t) if c.pairs else None,
            "pairs": c.pairs[:10],
        }
    }


def _journey(conn):
    db = Database(conn)
    if an.interview_count(db) == 0:
        return None
    return an.journey(db)


async def journey_view(request, datasette):
    if not is_custdev(datasette):
        return Response.text("Not found", status=404)
    await require_view(datasette, request)
    db = datasette.get_database(DB_NAME)
    missing = [v for v in ("journey", "stage_scores", "pain_prevalence", "pain_by_segment") if not await has_tables(db, v)]
    journey = None
    if not missing:
        try:
            journey = await db.execute_fn(_journey)
        except sqlite3.Error:
            missing = ["journey"]
    columns = [("", translator(request_language(datasette, request)).gettext("All interviews"))] + (list(journey.segments) if journey else [])

    def pain_link(pain: str, segment: str = "") -> str:
        return link_to(datasette, f"/{DB_NAME}/quotes_of_pain", pain=pain, segment=segment)

    context = {"missing": missing, "journey": journey, "columns": columns, "pain_link": pain_link, "metadata": datasette.metadata()}
    return Response.html(await datasette.render_template("custdev_journey.html", context, request=request, view_name="custdev_journey"))
