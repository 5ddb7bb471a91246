"""Full-text search over survey, ticket and chat responses, with the same stemming and query language as interviews
(:func:`custdev.search.fts_query`), ranked by bm25 among the newest matches."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from custdev.search import RANK_WINDOW, _run, fts_query, highlight, tag_condition
from custdev.errors import SearchError
from custdev.i18n import N_


@dataclass
class ResponseHit:
    id: int
    channel: str
    item: str
    row: int | None
    date: str | None
    segment: str | None
    nps: int | None
    speaker: str
    text: str
    snippet: str
    rank: float

    def to_dict(self) -> dict:
        return asdict(self)


def search_responses(db, query: str, *, channel: str | None = None, segment: str | None = None, pain: str | None = None,
                     tag: str | None = None, limit: int = 20, before: str = "[", after: str = "]") -> list[ResponseHit]:
    if limit < 1:
        raise SearchError(N_("--limit must be at least 1"))
    where, params = ["responses_fts MATCH ?"], [fts_query(query)]
    join = ""
    if channel or segment or pain or tag:
        join = " CROSS JOIN responses r ON r.id = f.rowid"
    if channel:
        where.append("r.channel = ?")
        params.append(channel)
    if segment:
        where.append("r.segment = ?")
        params.append(segment)
    if pain:
        where.append("EXISTS (SELECT 1 FROM response_codes c WHERE c.response_id = r.id AND c.kind = 'pain' AND c.code = ?)")
        params.append(pain)
    if tag:
        where.append(f"EXISTS (SELECT 1 FROM response_codes c WHERE c.response_id = r.id AND c.kind = 'tag' AND {tag_condition('c.code')})")
        params.extend([tag, tag, tag])
    matches = f"SELECT f.rowid AS id, f.rank AS rank FROM responses_fts f{join} WHERE {' AND '.join(where)}"
    sql = (f"WITH m AS ({matches} ORDER BY f.rowid DESC LIMIT ?) "
           "SELECT r.id, r.channel, r.item, r.row, r.date, r.segment, r.nps, r.speaker, r.text, m.rank "
           "FROM m JOIN responses r ON r.id = m.id ORDER BY m.rank, m.id DESC LIMIT ?")
    rows = _run(db, sql, [*params, max(RANK_WINDOW, limit), limit], query)
    return [ResponseHit(*r[:9], snippet=highlight(r[8], query, before=before, after=after), rank=r[9]) for r in rows]
