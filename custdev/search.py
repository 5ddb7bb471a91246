"""Stemming and full-text search that understands Russian and English word forms.

Every utterance and quote keeps a ``text_stem`` shadow: lower case, ``ё``→``е``, each word reduced to its
Snowball stem (Russian for Cyrillic words, English for Latin ones, so mixed-language turns work). A query goes
through the same function, so «проблемы с оплатой» and «проблема оплаты» meet at ``проблем оплат``.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import asdict, dataclass, field
from functools import lru_cache

import Stemmer

from custdev.errors import SearchError

_WORD = re.compile(r"\w+", re.UNICODE)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")

_RU = Stemmer.Stemmer("russian")
_EN = Stemmer.Stemmer("english")

# Words too common to require in every hit. Dropped from queries (not from the index) unless the query is only these.
STOPWORDS = frozenset(
    """
    a an and are as at be but by for from has have i in is it its of on or that the this to was were will with you
    и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне было вот от меня
    еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него до вас нибудь опять уж вам ведь там
    потом себя ничего ей может они тут где есть надо ней для мы тебя их чем была сам чтоб без будто чего раз тоже
    себе под будет ж тогда кто этот того потому этого какой совсем ним здесь этом один почти мой тем чтобы нее
    сейчас были куда зачем всех никогда можно при наконец два об другой хоть после над больше тот через эти нас про
    всего них какая много разве три эту моя впрочем хорошо свою этой перед иногда лучше чуть том нельзя такой им
    более всегда конечно всю между
    """.split()
)


def normalize(text: str) -> str:
    return text.lower().replace("ё", "е")


@lru_cache(maxsize=200_000)
def stem_word(word: str) -> str:
    """Stem one lower-cased word by its script."""
    if _CYRILLIC.search(word):
        return _RU.stemWord(word)
    if word.isascii():
        return _EN.stemWord(word)
    return word


def words(text: str) -> list[str]:
    return _WORD.findall(normalize(text))


def stem_text(text: str) -> str:
    """The searchable shadow of ``text``: normalised, stemmed words joined by spaces."""
    return " ".join(stem_word(w) for w in _WORD.findall(normalize(text)))


_QUERY_TOKEN = re.compile(r'"[^"]*"?|\(|\)|[^\s()"]+')
_OPERATORS = {"AND", "OR", "NOT"}


def fts_query(query: str) -> str:
    """Turn a user query into an FTS5 MATCH expression over the stemmed column.

    Plain words are stemmed and all required (stop words are dropped); ``"quoted phrases"``, ``AND``/``OR``/``NOT``,
    parentheses and a trailing ``*`` (prefix) keep their FTS5 meaning. Raises :class:`SearchError` for an empty query.
    """
    if not query or not query.strip():
        raise SearchError("the search query is empty")
    out: list[tuple[str, str]] = []  # (FTS5 text, kind: "op", "phrase", "word" or "stop")
    for raw in _QUERY_TOKEN.findall(query):
        if raw in _OPERATORS or raw in ("(", ")"):
            out.append((raw, "op"))
        elif raw.startswith('"'):
            if len(raw) < 2 or not raw.endswith('"'):
                raise SearchError(f"unbalanced quote in the search query {query!r}")
            stems = [stem_word(w) for w in words(raw[1:-1])]
            if stems:
                out.append(('"' + " ".join(stems) + '"', "phrase"))
        else:
            ws = words(raw)
            for n, w in enumerate(ws):
                if raw.endswith("*") and n == len(ws) - 1:
                    out.append((f'"{w}"*', "word"))  # prefix of the written form, not the stem
                else:
                    out.append((f'"{stem_word(w)}"', "stop" if w in STOPWORDS else "word"))
    # Drop stop words when the query has other plain words.
    drop_stop = any(kind == "word" for _, kind in out)
    terms = [t for t, kind in out if not (kind == "stop" and drop_stop)]
    # Operators at the ends or doubled would be FTS syntax errors; report them as the user's.
    expr = " ".join(terms).strip()
    if not expr:
        raise SearchError(f"nothing to search for in {query!r}")
    return "text_stem : (" + expr + ")"


@dataclass
class Hit:
    kind: str  # "utterance" or "quote"
    id: int
    interview_id: str
    interview_title: str | None
    speaker: str
    speaker_role: str
    start_s: float | None
    text: str
    snippet: str
    rank: float
    confidence: float = 1.0  # share of the passage's words not marked {?uncertain?} / [inaudible]
    unsure: list[str] = field(default_factory=list)  # the marked passages: check them against the recording

    def to_dict(self) -> dict:
        return asdict(self)


def highlight(text: str, query: str, *, before: str = "[", after: str = "]", width: int = 160) -> str:
    """A snippet of ``text`` around the words matching ``query``'s stems, matches wrapped in before/after."""
    stems = {stem_word(w) for w in words(query) if w not in STOPWORDS} or {stem_word(w) for w in words(query)}
    prefixes = [w.rstrip("*") for w in query.split() if w.endswith("*")]
    spans = []
    for m in _WORD.finditer(text):
        w = normalize(m.group())
        if stem_word(w) in stems or any(w.startswith(normalize(p)) for p in prefixes if p):
            spans.append((m.start(), m.end()))
    if not spans:
        return text[:width] + ("…" if len(text) > width else "")
    first = spans[0][0]
    start = max(0, first - width // 3)
    if start > 0:
        space = text.rfind(" ", 0, start)
        start = space + 1 if space != -1 else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.find(" ", end)
        end = space if space != -1 else len(text)
    pieces, pos = [], start
    for s, e in spans:
        if s < start or e > end:
            continue
        pieces.append(text[pos:s])
        pieces.append(before + text[s:e] + after)
        pos = e
    pieces.append(text[pos:end])
    return ("…" if start > 0 else "") + "".join(pieces) + ("…" if end < len(text) else "")


# Matches are ranked (bm25) among the newest RANK_WINDOW matches: exact for every query that matches fewer passages,
# and bounded in time for very common words (ranking 74,000 matches of "invoices" in a 10,000-interview base costs
# 120 ms; ranking a window of 5,000 costs under 10 ms). `count_matches` tells how many there are in all.
RANK_WINDOW = 5000


def _match_sql(query: str, *, segment, pain, tag, speaker, quotes_only) -> tuple[str, str, list]:
    """(kind, SQL selecting (id, rank) of the matching rows, params).

    The FTS table is the outer loop (CROSS JOIN fixes the order) and filters are index probes per match: were the
    planner to start from a filter, it would run the full-text query once per candidate row.
    """
    if speaker not in (None, "respondent", "interviewer"):
        raise SearchError(f"--speaker must be 'respondent' or 'interviewer', not {speaker!r}")
    use_quotes = quotes_only or pain is not None or tag is not None
    table = "quotes" if use_quotes else "utterances"
    sql = f"SELECT f.rowid AS id, f.rank AS rank FROM {table}_fts f"
    if speaker or segment or pain or tag:
        sql += f" CROSS JOIN {table} r ON r.id = f.rowid"
    where, params = [f"{table}_fts MATCH ?"], [fts_query(query)]
    if speaker:
        if use_quotes:
            where.append("EXISTS (SELECT 1 FROM utterances su WHERE su.id = r.utterance_id AND su.speaker_role = ?)")
        else:
            where.append("r.speaker_role = ?")
        params.append(speaker)
    if segment:
        where.append("EXISTS (SELECT 1 FROM interview_segments s WHERE s.interview_id = r.interview_id AND s.segment = ?)")
        params.append(segment)
    if pain:
        where.append("EXISTS (SELECT 1 FROM quote_pains p WHERE p.quote_id = r.id AND p.pain = ?)")
        params.append(pain)
    if tag:
        where.append("EXISTS (SELECT 1 FROM quote_tags t WHERE t.quote_id = r.id AND (t.tag = ? OR t.tag LIKE ? ESCAPE '\\'))")
        params.extend([tag, tag.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "/%"])
    return ("quote" if use_quotes else "utterance"), sql + " WHERE " + " AND ".join(where), params


def _run(db, sql: str, params: list, query: str):
    try:
        return db.execute(sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        msg = str(exc)
        if "fts5" in msg or "syntax error" in msg or "no such column" in msg:
            raise SearchError(f"cannot understand the search query {query!r} ({msg.removeprefix('fts5: ')})") from None
        raise


def search(
    db,
    query: str,
    *,
    segment: str | None = None,
    pain: str | None = None,
    tag: str | None = None,
    speaker: str | None = None,
    quotes_only: bool = False,
    limit: int = 20,
    before: str = "[",
    after: str = "]",
    window: int = RANK_WINDOW,
) -> list[Hit]:
    """Ranked (bm25) hits for ``query``. With ``pain``/``tag`` or ``quotes_only``, searches quotes; else utterances."""
    if limit < 1:
        raise SearchError("--limit must be at least 1")
    kind, matches, params = _match_sql(query, segment=segment, pain=pain, tag=tag, speaker=speaker, quotes_only=quotes_only)
    if kind == "quote":
        select = """SELECT q.id, q.interview_id, i.title, u.speaker, u.speaker_role, q.start_s, q.text, m.rank, q.confidence, q.unsure
        FROM m JOIN quotes q ON q.id = m.id JOIN utterances u ON u.id = q.utterance_id JOIN interviews i ON i.id = q.interview_id"""
    else:
        select = """SELECT u.id, u.interview_id, i.title, u.speaker, u.speaker_role, u.start_s, u.text, m.rank, u.confidence, u.unsure
        FROM m JOIN utterances u ON u.id = m.id JOIN interviews i ON i.id = u.interview_id"""
    sql = f"WITH m AS ({matches} ORDER BY f.rowid DESC LIMIT ?) {select} ORDER BY m.rank, m.id DESC LIMIT ?"
    rows = _run(db, sql, [*params, max(window, limit), limit], query)
    return [
        Hit(
            kind=kind, id=r[0], interview_id=r[1], interview_title=r[2], speaker=r[3], speaker_role=r[4],
            start_s=r[5], text=r[6], snippet=highlight(r[6], query, before=before, after=after), rank=r[7],
            confidence=r[8], unsure=json.loads(r[9]) if r[9] else [],
        )
        for r in rows
    ]


def count_matches(db, query: str, *, segment=None, pain=None, tag=None, speaker=None, quotes_only=False) -> int:
    """How many passages match in all (search() ranks among the newest RANK_WINDOW of them)."""
    _, matches, params = _match_sql(query, segment=segment, pain=pain, tag=tag, speaker=speaker, quotes_only=quotes_only)
    return _run(db, f"SELECT count(*) FROM ({matches})", params, query)[0][0]
