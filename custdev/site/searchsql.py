"""Search on the site: the same stemmed FTS5 query as ``custdev search``, snippets, and the facet SQL."""

from __future__ import annotations

import sqlite3
import threading
from functools import lru_cache

from markupsafe import Markup, escape

from custdev.search import SearchError, fts_query, highlight, plain_words, tag_condition
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
    plain = plain_words(query)
    if not plain:
        return _NO_MATCH
    try:
        expr = fts_query(plain)
    except SearchError:
        return _NO_MATCH
    return expr if _valid_fts(expr) else _NO_MATCH


_lemmas_loaded: set[str] = set()
_lemmas_lock = threading.Lock()


def load_base_lemmas(conn: sqlite3.Connection, key: str) -> None:
    """Give this server process the dictionary forms ``custdev build`` stored in the base (table ``lemmas``), once
    per database file: queries and snippets then look words up instead of running pymorphy3 on each new word (the
    same forms: the build stored what pymorphy3 returned, and only under the same dictionary version)."""
    if key in _lemmas_loaded:
        return
    with _lemmas_lock:
        if key in _lemmas_loaded:
            return
        _lemmas_loaded.add(key)
        from custdev.search import lemma_cache_key, load_lemmas

        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'lemmas.key'").fetchone()
            if row and row[0] == lemma_cache_key():
                load_lemmas(conn.execute("SELECT word, forms FROM lemmas"))
        except sqlite3.DatabaseError:  # an older base, or a published copy without the build's caches
            pass


def highlight_html(text: str | None, query: str | None, *, width: int = 240) -> Markup:
    """A snippet of ``text`` around the words matching ``query``, HTML-escaped, matches in ``<mark>``."""
    if not text:
        return Markup("")
    return _highlight_html(str(text), str(query) if query is not None else None, width)


@lru_cache(maxsize=2048)  # the search page's JSON column and its HTML show the same snippet of each hit
def _highlight_html(text: str, query: str | None, width: int) -> Markup:
    text = text.replace("\x02", "").replace("\x03", "")
    if query and str(query).strip():
        raw = highlight(text, str(query), before="\x02", after="\x03", width=width)
    else:
        raw = text[:width] + ("…" if len(text) > width else "")
    return Markup(str(escape(raw)).replace("\x02", "<mark>").replace("\x03", "</mark>"))


def snippet_sql(text: str | None, query: str | None) -> str:
    """SQL function ``custdev_snippet(text, q)``: the highlighted snippet as escaped HTML (like FTS5 snippet())."""
    return str(highlight_html(text, query))


def _matches_sql(rank: bool, role: bool = False, scorers: bool = False) -> str:
    """The match set of a site search (quotes, and other turns), with its filters and cap: one copy for the
    ``search`` canned query and its facet counts. ``role``: each turn's speaker role too (null for quotes).
    ``scorers``: ranked by custdev.site.rank's functions (bm25's numbers) instead of FTS5's bm25()."""
    def r(table: str) -> str:
        if not rank:
            return ""
        if scorers:
            return f", custdev_rank_{table}({table[0]}.text_stem) as rank"
        return f", bm25({table}_fts) as rank"

    return f"""
with quote_hits as (
  select q.id as quote_id, q.utterance_id, q.interview_id{", null as role" if role else ""}{r("quotes")}
  from quotes_fts join quotes q on q.id = quotes_fts.rowid
  where quotes_fts match custdev_match(:q)
    and quotes_fts.rowid between coalesce((select min(id) from quotes where interview_id = :interview), 0)
                             and coalesce((select max(id) from quotes where interview_id = :interview), 9223372036854775807)
    and (:interview = '' or q.interview_id = :interview)
    and (:speaker = '' or exists (select 1 from utterances u where u.id = q.utterance_id and u.speaker_role = :speaker))
    and (:segment = '' or q.interview_id in (select interview_id from interview_segments where segment = :segment))
    and (:pain = '' or q.id in (select quote_id from quote_pains where pain = :pain))
    and (:tag = '' or q.id in (select quote_id from quote_tags where {tag_condition("tag", ":tag")}))
  limit {SEARCH_CAP}
),
utterance_hits as (
  select u.id as utterance_id, u.interview_id{", u.speaker_role as role" if role else ""}{r("utterances")}
  from utterances_fts join utterances u on u.id = utterances_fts.rowid
  where utterances_fts match custdev_match(:q)
    and :pain = '' and :tag = ''
    and utterances_fts.rowid between coalesce((select min(id) from utterances where interview_id = :interview), 0)
                                 and coalesce((select max(id) from utterances where interview_id = :interview), 9223372036854775807)
    and (:interview = '' or u.interview_id = :interview)
    and (:speaker = '' or u.speaker_role = :speaker)
    and (:segment = '' or u.interview_id in (select interview_id from interview_segments where segment = :segment))
  limit {SEARCH_CAP}
),"""


def _hits_sql(columns: str) -> str:
    return _matches_sql(rank=False) + f"""
hits as materialized (
  select 'quote' as kind, 'q' || quote_id as hit, quote_id, utterance_id, interview_id from quote_hits
  union all
  select 'utterance', 'u' || utterance_id, null, utterance_id, interview_id from utterance_hits
  where utterance_id not in (select utterance_id from quote_hits)
)
{columns}
"""


# The 50 best hits with what the page shows of each: the tail of SEARCH_SQL, also run on the materialised hits
# (custdev.site.queries) so that the page's hits and facet counts come from one pass over the matches.
_BEST_SQL = """best as (
  select * from {hits} order by rank, kind, utterance_id limit 50
)
select
  b.kind,
  b.quote_id,
  b.utterance_id,
  b.interview_id,
  i.title as interview_title,
  u.speaker,
  u.speaker_role,
  u.seq,
  coalesce(q.start_s, u.start_s) as start_s,
  coalesce(q.text, u.text) as text,
  custdev_snippet(coalesce(q.text, u.text), :q) as snippet,
  case when b.quote_id is null then u.unsure else q.unsure end as unsure,
  round(b.rank, 3) as rank
from best b
  join utterances u on u.id = b.utterance_id
  join interviews i on i.id = b.interview_id
  left join quotes q on q.id = b.quote_id
order by b.rank, b.kind, b.utterance_id"""


# The ``search`` canned query (datasette_metadata.json keeps its title and parameters; custdev fills in this SQL).
SEARCH_SQL = f"""-- Stemmed full-text search over what was said (utterances) and the highlighted quotes, ranked by bm25.
-- custdev_match() turns the words into the same FTS5 query as `custdev search`. Ranking and counts look at the first
-- {SEARCH_CAP:,} matches of each kind, so very common words stay fast. With a pain or tag filter only coded quotes
-- match (as with `custdev search --pain/--tag`); an interview filter scans only that interview's id range.
""" + _matches_sql(rank=True) + """
hits as (
  select 'quote' as kind, quote_id, utterance_id, interview_id, rank from quote_hits
  union all
  select 'utterance', null, utterance_id, interview_id, rank from utterance_hits
  where utterance_id not in (select utterance_id from quote_hits)
),
""" + _BEST_SQL.format(hits="hits")


_FACETS_OF = """
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
FACETS_SQL = _hits_sql(_FACETS_OF)
# The same counts over the hits the search page materialised (custdev.site.queries), while the base is being written.
FACETS_OF_HITS_SQL = "with hits as (select * from temp.custdev_hits)" + _FACETS_OF


# The match set with each turn's speaker role, materialised once per search page (custdev.site.queries): the same
# hits as SEARCH_SQL's and FACETS_SQL's (same CTEs, same cap).
_HITS_TAIL = """
hits as (
  select 'quote' as kind, quote_id, utterance_id, interview_id, role, rank from quote_hits
  union all
  select 'utterance', null, utterance_id, interview_id, role, rank from utterance_hits
  where utterance_id not in (select utterance_id from quote_hits)
)
select * from hits"""
HITS_SQL = _matches_sql(rank=True, role=True) + _HITS_TAIL
# The same, ranked by custdev.site.rank's SQL functions (the same numbers as bm25(), see there).
HITS_SCORED_SQL = _matches_sql(rank=True, role=True, scorers=True) + _HITS_TAIL

BEST_OF_HITS_SQL = "with " + _BEST_SQL.format(hits="temp.custdev_hits")

SEARCH_FILTERS = ("segment", "pain", "tag", "speaker", "interview")
