"""Search on the site: the same stemmed FTS5 query as ``custdev search``, snippets, and the facet SQL."""

from __future__ import annotations

import sqlite3
import threading

from markupsafe import Markup, escape

from custdev.search import SearchError, fts_query, highlight, words
from custdev.site.settings import SEARCH_CAP

_NO_MATCH = '""'  # an empty FTS5 phrase: a valid query that matches nothing
_validator = threading.local()


def _valid_fts(expr: str) -> bool:
    conn = getattr(_validator, "conn", None)
    if conn is None:
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        conn.execute("CREATE VIRTUAL TABLE v USING fts5(text, text_stem)")
        _validator.conn = conn
    try:
        conn.execute("SELECT 1 FROM v WHERE v MATCH ?", [expr]).fetchall()
    except sqlite3.OperationalError:
        return False
    return True


def site_fts_query(query: str | None) -> str:
    """The stemmed FTS5 expression for a query typed on the site; never raises.

    Same as the CLI's :func:`custdev.search.fts_query`. Where the user's operators or quotes would be an FTS
    syntax error (``foo AND``, an unclosed ``"``), the plain words are searched instead; an empty query matches nothing.
    """
    if not query or not str(query).strip():
        return _NO_MATCH
    query = str(query)
    try:
        expr = fts_query(query)
        if _valid_fts(expr):
            return expr
    except SearchError:
        pass
    plain = " ".join(w for w in words(query) if w.upper() not in ("AND", "OR", "NOT", "NEAR"))
    if not plain:
        return _NO_MATCH
    try:
        expr = fts_query(plain)
    except SearchError:
        return _NO_MATCH
    return expr if _valid_fts(expr) else _NO_MATCH


def highlight_html(text: str | None, query: str | None, *, width: int = 240) -> Markup:
    """A snippet of ``text`` around the words matching ``query``, HTML-escaped, matches in ``<mark>``."""
    if not text:
        return Markup("")
    text = str(text).replace("\x02", "").replace("\x03", "")
    if query and str(query).strip():
        raw = highlight(text, str(query), before="\x02", after="\x03", width=width)
    else:
        raw = text[:width] + ("…" if len(text) > width else "")
    return Markup(str(escape(raw)).replace("\x02", "<mark>").replace("\x03", "</mark>"))


def snippet_sql(text: str | None, query: str | None) -> str:
    """SQL function ``custdev_snippet(text, q)``: the highlighted snippet as escaped HTML (like FTS5 snippet())."""
    return str(highlight_html(text, query))


def _hits_sql(columns: str) -> str:
    """The match set of the ``search`` canned query (same filters and cap), for facet counts."""
    return f"""
with quote_hits as (
  select q.id as quote_id, q.utterance_id, q.interview_id
  from quotes_fts join quotes q on q.id = quotes_fts.rowid join utterances u on u.id = q.utterance_id
  where quotes_fts match custdev_match(:q)
    and quotes_fts.rowid between coalesce((select min(id) from quotes where interview_id = :interview), 0)
                             and coalesce((select max(id) from quotes where interview_id = :interview), 9223372036854775807)
    and (:interview = '' or q.interview_id = :interview)
    and (:speaker = '' or u.speaker_role = :speaker)
    and (:segment = '' or q.interview_id in (select interview_id from interview_segments where segment = :segment))
    and (:pain = '' or q.id in (select quote_id from quote_pains where pain = :pain))
    and (:tag = '' or q.id in (select quote_id from quote_tags where tag = :tag or substr(tag, 1, length(:tag) + 1) = :tag || '/'))
  limit {SEARCH_CAP}
),
utterance_hits as (
  select u.id as utterance_id, u.interview_id
  from utterances_fts join utterances u on u.id = utterances_fts.rowid
  where utterances_fts match custdev_match(:q)
    and :pain = '' and :tag = ''
    and utterances_fts.rowid between coalesce((select min(id) from utterances where interview_id = :interview), 0)
                                 and coalesce((select max(id) from utterances where interview_id = :interview), 9223372036854775807)
    and (:interview = '' or u.interview_id = :interview)
    and (:speaker = '' or u.speaker_role = :speaker)
    and (:segment = '' or u.interview_id in (select interview_id from interview_segments where segment = :segment))
  limit {SEARCH_CAP}
),
hits as materialized (
  select 'quote' as kind, 'q' || quote_id as hit, quote_id, utterance_id, interview_id from quote_hits
  union all
  select 'utterance', 'u' || utterance_id, null, utterance_id, interview_id from utterance_hits
  where utterance_id not in (select utterance_id from quote_hits)
)
{columns}
"""


FACETS_SQL = _hits_sql(
    """
select 'kind' as facet, kind as value, count(*) as n from hits group by kind
union all
select 'speaker', u.speaker_role, count(*) from hits h join utterances u on u.id = h.utterance_id group by u.speaker_role
union all
select 'segment', x.segment, count(*) from hits h join interview_segments x on x.interview_id = h.interview_id group by x.segment
union all
select 'pain', p.pain, count(*) from hits h join quote_pains p on p.quote_id = h.quote_id group by p.pain
union all
select 'tag', t.tag, count(*) from hits h join quote_tags t on t.quote_id = h.quote_id group by t.tag
union all
select * from (select 'interview', interview_id, count(*) as n from hits group by interview_id order by n desc, interview_id limit 12)
"""
)


SEARCH_FILTERS = ("segment", "pain", "tag", "speaker", "interview")
