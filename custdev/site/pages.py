"""Data for the site's pages: home, search facets, quote, interview, canned-query forms and charts."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from datasette.utils import urlsafe_components
from datasette.utils.asgi import Response
from markupsafe import Markup

from custdev.charts import heatmap_svg, nps_svg, prevalence_svg
from custdev.i18n import N_, SPEAKER_ROLES, translator
from custdev.site.audio import audio_file, audio_url
from custdev.site.common import (
    LRU,
    codebook_titles,
    db_stamp,
    fetch_rows,
    format_time,
    has_tables,
    is_custdev,
    link_to,
    require_view,
    row_pk,
    site_options,
    unsure_words,
)
from custdev.site.lang import request_language
from custdev.site.moved import moved_note
from custdev.site.searchsql import FACETS_SQL, SEARCH_FILTERS
from custdev.site.settings import DB_NAME, SEARCH_CAP

_home_cache: dict[str, tuple[float, tuple, dict]] = {}


def _pieces(text: str, quotes: list[dict]) -> list[dict]:
    """Split a turn's text into plain and quoted pieces (quotes located by their text, in order)."""
    pieces: list[dict] = []
    pos = 0
    for q in quotes:
        qt = q.get("text") or ""
        at = text.find(qt, pos) if qt else -1
        if at == -1:
            continue
        if at > pos:
            pieces.append({"text": text[pos:at], "quote_id": None})
        pieces.append({"text": qt, "quote_id": q["id"], "unsure": unsure_words(q.get("unsure"))})
        pos = at + len(qt)
    if pos < len(text):
        pieces.append({"text": text[pos:], "quote_id": None})
    return pieces


def render_markdown(text: str | None) -> Markup:
    """Markdown rendered safely: raw HTML is escaped, javascript:/data: links are dropped (markdown-it defaults)."""
    if not text:
        return Markup("")
    from markdown_it import MarkdownIt

    from custdev.mdmark import mark_plugin

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).use(mark_plugin)
    return Markup(md.render(text))


async def home_data(datasette) -> dict:
    db = datasette.get_database(DB_NAME)
    stamp = db_stamp(db.path)
    cached = _home_cache.get(db.path or "")
    if cached and cached[1] == stamp and time.monotonic() - cached[0] < 60:
        return cached[2]
    if not await has_tables(db, "interviews", "utterances", "quotes", "segments", "pains"):
        return {}
    counts = (await fetch_rows(db, """
        select (select count(*) from interviews) as interviews,
               (select count(distinct respondent_id) from interviews) as respondents,
               (select count(*) from utterances) as utterances,
               (select count(*) from quotes) as quotes,
               (select count(*) from segments) as segments,
               (select count(*) from pains) as pains,
               (select count(*) from tags) as tags,
               (select min(date) from interviews) as first_date,
               (select max(date) from interviews) as last_date,
               (select sum(duration_s) from interviews) as seconds
    """))[0]
    segments = await fetch_rows(db, """
        select s.slug, s.title, s.description, count(x.interview_id) as interviews
        from segments s left join interview_segments x on x.segment = s.slug
        group by s.slug order by interviews desc, s.title
    """)
    pains: list[dict] = []
    if await has_tables(db, "pain_prevalence"):
        pains = await fetch_rows(db, """
            select pain, title, stage, interviews, total_interviews, share, quotes, verdict
            from pain_prevalence order by share desc, quotes desc, title limit 8
        """)
    else:
        pains = await fetch_rows(db, """
            select p.slug as pain, p.title, p.stage, count(distinct q.interview_id) as interviews,
                   (select count(*) from interviews) as total_interviews, count(qp.quote_id) as quotes, null as verdict,
                   1.0 * count(distinct q.interview_id) / max(1, (select count(*) from interviews)) as share
            from pains p left join quote_pains qp on qp.pain = p.slug left join quotes q on q.id = qp.quote_id
            group by p.slug order by share desc, quotes desc, p.title limit 8
        """)
    recent = await fetch_rows(db, "select id, title, date, date_source, company from interviews order by date desc, id limit 6")
    data = {
        "counts": counts,
        "segments": segments,
        "pains": pains,
        "recent": recent,
        "hours": round((counts.get("seconds") or 0) / 3600, 1),
    }
    _home_cache[db.path or ""] = (time.monotonic(), stamp, data)
    return data


FACET_LABELS = {"segment": N_("Segment"), "pain": N_("Pain"), "tag": N_("Tag"), "speaker": N_("Speaker"), "interview": N_("Interview")}


async def search_data(datasette, request) -> dict:
    """Facet counts and filter links for the ``search`` canned query page."""
    from datasette.database import QueryInterrupted

    db = datasette.get_database(DB_NAME)
    q = (request.args.get("q") or "").strip()
    current = {k: (request.args.get(k) or "").strip() for k in SEARCH_FILTERS}
    base_path = f"/{DB_NAME}/search"

    def link(**changes) -> str:
        args = {"q": q, **current, **changes}
        return link_to(datasette, base_path, **args)

    codebook = await codebook_titles(db)
    _ = translator(request_language(datasette, request)).gettext
    speakers = {k: _(v) for k, v in SPEAKER_ROLES.items()}
    active = [
        {"facet": k, "label": _(FACET_LABELS[k]), "value": (speakers if k == "speaker" else codebook.get(k, {})).get(v, v),
         "remove": link(**{k: ""})}
        for k, v in current.items() if v
    ]
    data: dict[str, Any] = {"q": q, "filters": current, "active": active, "facets": [], "total": None,
                            "capped": False, "facets_skipped": False, "cap": SEARCH_CAP}
    if not q:
        return data
    from functools import partial

    from custdev.site.meaning import fuse

    data["fuse"] = partial(fuse, db, q, current)  # the template passes the keyword hits: one list, ranked with meaning
    params = {"q": q, **current}
    key = (db.path, db_stamp(db.path), tuple(sorted(params.items())))
    by = _facet_cache.get(key)
    if by is None:
        try:
            rows = (await db.execute(FACETS_SQL, params, custom_time_limit=1500)).rows
        except QueryInterrupted:
            data["facets_skipped"] = True
            return data
        except sqlite3.DatabaseError:
            return data
        by = {}
        for r in rows:
            by.setdefault(r["facet"], []).append((r["value"], r["n"]))
        _facet_cache.put(key, by)
    kinds = dict(by.get("kind", []))
    data["total"] = sum(kinds.values())
    data["quotes"] = kinds.get("quote", 0)
    data["turns"] = kinds.get("utterance", 0)
    data["capped"] = any(n >= SEARCH_CAP for n in kinds.values())
    titles = {"segment": codebook["segment"], "pain": codebook["pain"], "speaker": speakers}
    interview_ids = [v for v, _ in by.get("interview", [])]
    if interview_ids:
        marks = ",".join("?" * len(interview_ids))
        titles["interview"] = {
            r["id"]: r["title"] or r["id"]
            for r in await fetch_rows(db, f"select id, title from interviews where id in ({marks})", interview_ids)
        }
    from custdev.site.channels import channel_facet

    channel = await channel_facet(datasette, db, q, current, data["total"], _)
    if channel:
        data["facets"].append(channel)
    for facet in ("segment", "pain", "tag", "speaker", "interview"):
        values = sorted(by.get(facet, []), key=lambda vn: (-vn[1], str(vn[0])))
        if facet == "tag":
            values = values[:15]
        items = []
        for value, n in values:
            if value is None:
                continue
            selected = current[facet] == value
            items.append({
                "value": value,
                "label": titles.get(facet, {}).get(value, value),
                "count": n,
                "selected": selected,
                "href": link(**{facet: "" if selected else value}),
            })
        if items:
            data["facets"].append({"name": facet, "label": _(FACET_LABELS[facet]), "items": items})
    return data


async def quote_data(datasette, request) -> dict:
    db = datasette.get_database(DB_NAME)
    pks = urlsafe_components(request.url_vars.get("pks", ""))
    if not pks:
        return {}
    rows = await fetch_rows(db, """
        select q.id, q.text, q.start_s, q.end_s, q.interview_id, q.utterance_id, q.confidence, q.unsure,
               u.seq, u.speaker, u.speaker_role, u.text as turn_text,
               i.title, i.date, i.audio, i.language, i.nps, i.company, i.role, i.interviewer,
               r.name as respondent
        from quotes q join utterances u on u.id = q.utterance_id join interviews i on i.id = q.interview_id
        left join respondents r on r.id = i.respondent_id
        where q.id = ?
    """, [pks[0]])
    if not rows:
        return {}
    quote = rows[0]
    context = await fetch_rows(db, """
        select id, seq, speaker, speaker_role, start_s, text from utterances
        where interview_id = ? and seq between ? - 1 and ? + 1 order by seq
    """, [quote["interview_id"], quote["seq"], quote["seq"]])
    turns = []
    for turn in context:
        if turn["id"] == quote["utterance_id"]:
            pieces = _pieces(turn["text"], [{"id": quote["id"], "text": quote["text"]}])
            position = "quote"
        else:
            pieces = [{"text": turn["text"], "quote_id": None}]
            position = "before" if turn["seq"] < quote["seq"] else "after"
        turns.append({**turn, "pieces": pieces, "position": position, "time": format_time(turn["start_s"])})
    pains = await fetch_rows(db, "select p.slug, p.title from quote_pains qp join pains p on p.slug = qp.pain where qp.quote_id = ? order by p.title", [quote["id"]])
    tags = [r["tag"] for r in await fetch_rows(db, "select tag from quote_tags where quote_id = ? order by tag", [quote["id"]])]
    segments = await fetch_rows(db, "select s.slug, s.title from interview_segments x join segments s on s.slug = x.segment where x.interview_id = ? order by s.title", [quote["interview_id"]])
    hypotheses = []
    if await has_tables(db, "quote_hypotheses", "hypotheses"):
        hypotheses = await fetch_rows(db, "select h.slug, h.title, qh.stance from quote_hypotheses qh join hypotheses h on h.slug = qh.hypothesis where qh.quote_id = ? order by h.title", [quote["id"]])
    audio = audio_file(site_options(datasette).root, quote["audio"])
    from custdev.site.meaning import similar_quotes

    return {
        "similar": await similar_quotes(db, quote["id"]),
        "quote": quote,
        "unsure": json.loads(quote["unsure"]) if quote.get("unsure") else [],  # {?words?} the transcriber doubted
        "turns": turns,
        "pains": pains,
        "tags": tags,
        "segments": segments,
        "hypotheses": hypotheses,
        "audio_url": audio_url(datasette, quote["interview_id"]) if audio else None,
        "start_s": float(quote["start_s"] or 0),
        "time": format_time(quote["start_s"]),
        "interview_url": datasette.urls.row(DB_NAME, "interviews", row_pk(quote["interview_id"])),
        "turn_anchor": f"turn-{quote['utterance_id']}",  # turn ids are permanent; seq moves when a turn is inserted
        "quotes_of_pain": {p["slug"]: link_to(datasette, f"/{DB_NAME}/quotes_of_pain", pain=p["slug"]) for p in pains},
        "search_url": link_to(datasette, f"/{DB_NAME}/search"),
    }


async def interview_data(datasette, request) -> dict:
    db = datasette.get_database(DB_NAME)
    pks = urlsafe_components(request.url_vars.get("pks", ""))
    if not pks:
        return {}
    rows = await fetch_rows(db, """
        select i.*, r.name as respondent from interviews i left join respondents r on r.id = i.respondent_id where i.id = ?
    """, [pks[0]])
    if not rows:
        return {}
    interview = rows[0]
    utterances = await fetch_rows(db, "select id, seq, speaker, speaker_role, start_s, text, unsure from utterances where interview_id = ? order by seq", [interview["id"]])
    quotes = await fetch_rows(db, "select id, utterance_id, text, start_s, unsure from quotes where interview_id = ? order by seq, id", [interview["id"]])
    by_turn: dict[int, list[dict]] = {}
    for q in quotes:
        by_turn.setdefault(q["utterance_id"], []).append(q)
    turns = []
    for u in utterances:
        pieces = _pieces(u["text"], by_turn.get(u["id"], []))
        in_quotes = {w for p in pieces for w in p.get("unsure", [])}  # said beside each quote already
        doubt = [w for w in unsure_words(u.pop("unsure")) if w not in in_quotes]
        turns.append({**u, "pieces": pieces, "unsure": doubt, "time": format_time(u["start_s"])})
    segments = await fetch_rows(db, "select s.slug, s.title from interview_segments x join segments s on s.slug = x.segment where x.interview_id = ? order by s.title", [interview["id"]])
    pains = await fetch_rows(db, """
        select p.slug, p.title, count(*) as quotes from quotes q join quote_pains qp on qp.quote_id = q.id
        join pains p on p.slug = qp.pain where q.interview_id = ? group by p.slug order by quotes desc, p.title
    """, [interview["id"]])
    audio = audio_file(site_options(datasette).root, interview.get("audio"))
    return {
        "interview": interview,
        "turns": turns,
        "segments": segments,
        "pains": pains,
        "audio_url": audio_url(datasette, interview["id"]) if audio else None,
        "body_html": render_markdown(interview.get("body")),
        "quote_url": datasette.urls.table(DB_NAME, "quotes"),
        "quotes_of_pain": {p["slug"]: link_to(datasette, f"/{DB_NAME}/quotes_of_pain", pain=p["slug"]) for p in pains},
        "moved": await moved_note(db, request, interview["id"]),
    }


_facet_cache = LRU(256)


async def query_form_data(datasette, request) -> dict:
    """Choices for the parameters of the canned queries (segment, pain, tag, speaker)."""
    db = datasette.get_database(DB_NAME)
    codebook = await codebook_titles(db)
    choices: dict[str, list[tuple[str, str]]] = {
        name: sorted(codebook[name].items(), key=lambda kv: kv[1].casefold()) for name in ("segment", "pain", "tag") if codebook[name]
    }
    _ = translator(request_language(datasette, request)).gettext
    choices["speaker"] = [("respondent", _("Respondents")), ("interviewer", _("Interviewers"))]
    return {"choices": choices}


async def charts_data(datasette, request=None) -> dict:
    db = datasette.get_database(DB_NAME)
    missing = [v for v in ("pain_prevalence", "pain_by_segment", "nps_by_segment") if not await has_tables(db, v)]
    if missing:
        return {"missing": missing}
    prevalence = await fetch_rows(db, "select * from pain_prevalence order by share desc, quotes desc, title")
    by_segment = await fetch_rows(db, "select * from pain_by_segment")
    nps = await fetch_rows(db, "select * from nps_by_segment order by nps is null, nps desc, segment_title")
    threshold = None
    if await has_tables(db, "analysis_settings"):
        settings = await fetch_rows(db, "select systemic_threshold from analysis_settings")
        threshold = settings[0]["systemic_threshold"] if settings else None

    t = translator(request_language(datasette, request))

    def pain_link(pain: str, segment: str = "") -> str:
        return link_to(datasette, f"/{DB_NAME}/quotes_of_pain", pain=pain, segment=segment)

    def segment_link(segment: str) -> str:
        return link_to(datasette, f"/{DB_NAME}/interviews_of_segment", segment=segment)

    return {
        "missing": [],
        "heatmap": heatmap_svg(by_segment, [r["pain"] for r in prevalence], pain_link, t=t),
        "nps": nps_svg(nps, segment_link, t=t),
        "prevalence": prevalence_svg(prevalence, threshold, pain_link, t=t),
        "threshold": threshold,
        "nps_rows": nps,
        "total_interviews": prevalence[0]["total_interviews"] if prevalence else 0,
    }



async def charts_view(request, datasette):
    if not is_custdev(datasette):
        return Response.text("Not found", status=404)
    await require_view(datasette, request)
    from custdev.site.evidence import evidence_data

    context = {**await charts_data(datasette, request), **await evidence_data(datasette, request), "metadata": datasette.metadata()}
    return Response.html(await datasette.render_template("custdev_charts.html", context, request=request, view_name="custdev_charts"))
