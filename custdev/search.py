"""Full-text search that finds Russian words in their dictionary form, and English word forms.

Every utterance and quote keeps a ``text_stem`` shadow: each word normalised (lower case, ``ё``→``е``, Latin
look-alike letters in a Cyrillic word or in «1C» made Cyrillic) and reduced to its index form: the dictionary form
(lemma) from pymorphy3 for Cyrillic words, the Snowball stem for Latin ones (so mixed-language turns work).
«реквизитах» is indexed as «реквизит», so the word a researcher types in dictionary form finds every form.

A query word matches any of its possible lemmas («стали» finds both «стать» and «сталь»), so a form typed in a
query finds the dictionary form in the text too. Lemmas beat Snowball stems on the field word list
(tests/data/ru_field_words.tsv): recall 99.4 % / 100 % against 91.7 % / 91.7 %, no false matches against 64
(stems cut кредит→кред, лимит→лим). pymorphy3 is imported here only, lazily, and each distinct word is
analysed once per process.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from dataclasses import asdict, dataclass, field
from functools import lru_cache

import Stemmer

from custdev.errors import SearchError
from custdev.i18n import N_

_WORD = re.compile(r"\w+", re.UNICODE)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[a-z]")
# Latin letters that look like Cyrillic ones (after lower-casing: B→b is В→в, H→h is Н→н).
_LOOKALIKE = str.maketrans("aceopxykmtbh", "асеорхукмтвн")
_DIGITS_AND_LOOKALIKES = re.compile(r"\d+[aceopxykmtbh]+\d*")

_EN = Stemmer.Stemmer("english")
_morph = None
_morph_lock = threading.Lock()

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
def normalize_word(word: str) -> str:
    """Lower case, ё→е, and Latin look-alikes made Cyrillic in a Cyrillic word («1C» with a Latin C → «1с»)."""
    w = word.lower().replace("ё", "е")
    if _LATIN.search(w) and (_CYRILLIC.search(w) or _DIGITS_AND_LOOKALIKES.fullmatch(w)):
        w = w.translate(_LOOKALIKE)
    return w


def _analyzer():
    global _morph
    if _morph is None:
        with _morph_lock:
            if _morph is None:
                import pymorphy3

                _morph = pymorphy3.MorphAnalyzer()
    return _morph


# Dictionary forms of every Cyrillic word seen, shared by the index and queries. ``custdev build`` loads the ones
# stored in the base (table ``lemmas``) before parsing and stores the new ones after, so each distinct word goes
# through pymorphy3 (about 0.3 ms for a word it does not know) once per base, not once per build and worker.
_LEMMAS: dict[str, tuple[str, ...]] = {}
_NEW_LEMMAS: dict[str, tuple[str, ...]] = {}


def _lemmas(word: str) -> tuple[str, ...]:
    """Every dictionary form pymorphy3 sees for a normalised Cyrillic word, the most likely first."""
    found = _LEMMAS.get(word)
    if found is None:
        out: list[str] = []
        for parse in _analyzer().parse(word):
            lemma = parse.normal_form.replace("ё", "е")
            if lemma not in out:
                out.append(lemma)
        found = _LEMMAS[word] = _NEW_LEMMAS[word] = tuple(out) or (word,)
    return found


def lemma_cache_key() -> str:
    """What the stored lemmas depend on: the pymorphy3 dictionaries' version (a new one may lemmatise otherwise)."""
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for dist in ("pymorphy3", "pymorphy3-dicts-ru"):
        try:
            parts.append(f"{dist}={version(dist)}")
        except PackageNotFoundError:
            parts.append(f"{dist}=?")
    return " ".join(parts)


def load_lemmas(pairs) -> None:
    """Add stored (word, lemmas separated by spaces) pairs to this process's lemma cache."""
    for word, forms in pairs:
        if word not in _LEMMAS:
            _LEMMAS[word] = tuple(forms.split(" "))


def take_new_lemmas() -> dict[str, tuple[str, ...]]:
    """The lemmas this process computed since the last call (to store them), and forget that they were new."""
    global _NEW_LEMMAS
    new, _NEW_LEMMAS = _NEW_LEMMAS, {}
    return new


def know_lemmas(found: dict[str, tuple[str, ...]]) -> None:
    """Lemmas another build worker computed (and reports itself): known here, not reported again by this process."""
    for word, forms in found.items():
        _LEMMAS.setdefault(word, forms)


def add_lemmas(found: dict[str, tuple[str, ...]]) -> None:
    """Lemmas another process computed (a build worker): known here from now on, and stored with this process's."""
    for word, forms in found.items():
        if word not in _LEMMAS:
            _LEMMAS[word] = _NEW_LEMMAS[word] = forms


@lru_cache(maxsize=500_000)
def stem_word(word: str) -> str:
    """The index form of one normalised word: its most likely lemma (Cyrillic) or Snowball stem (Latin)."""
    if _CYRILLIC.search(word):
        return _lemmas(word)[0]
    if word.isascii():
        return _EN.stemWord(word)
    return word


def query_forms(word: str) -> tuple[str, ...]:
    """What a normalised query word matches in the index: every lemma it may have (Cyrillic), else its stem."""
    if _CYRILLIC.search(word):
        return _lemmas(word)
    return (stem_word(word),)


def words(text: str) -> list[str]:
    return [normalize_word(w) for w in _WORD.findall(text)]


@lru_cache(maxsize=500_000)
def _index_form(word: str) -> str:
    return stem_word(normalize_word(word))


class _TokenForms(dict):
    """Index forms of one whitespace-separated token («счета,» → «счет», «1С-бухгалтерия» → «1с бухгалтерия», «—» → ""),
    computed once per distinct token. ``\\w`` never matches whitespace, so the words of a text are the words of its
    tokens in order: one ``str.split`` and a dict look-up a token cost half of a regex pass and a cache call a word."""

    MAX = 500_000  # distinct tokens kept (under 100 MB); then it starts again

    def __missing__(self, token: str) -> str:
        if len(self) >= self.MAX:
            self.clear()
        form = self[token] = " ".join(map(_index_form, _WORD.findall(token)))
        return form


_TOKEN_FORMS = _TokenForms()


def stem_text(text: str) -> str:
    """The searchable shadow of ``text``: normalised words in their index form, joined by spaces."""
    return " ".join(filter(None, map(_TOKEN_FORMS.__getitem__, text.split())))


def stem_tokens(tokens: list[str]) -> str:
    """stem_text of a text given as its ``str.split()`` (for a caller that splits it anyway)."""
    return " ".join(filter(None, map(_TOKEN_FORMS.__getitem__, tokens)))


_QUERY_TOKEN = re.compile(r'"[^"]*"?|\(|\)|[^\s()"]+')
_OPERATORS = {"AND", "OR", "NOT"}


def plain_words(query: str) -> str:
    """The words of a typed query without its FTS5 operators (AND, OR, NOT, NEAR): what it says, not how to match it."""
    return " ".join(w for w in words(query) if w.upper() not in ("AND", "OR", "NOT", "NEAR"))


def _any_of(forms: tuple[str, ...]) -> str:
    if len(forms) == 1:
        return f'"{forms[0]}"'
    return "(" + " OR ".join(f'"{f}"' for f in forms) + ")"


def fts_query(query: str) -> str:
    """Turn a user query into an FTS5 MATCH expression over the index-form column.

    Plain words match any of their lemmas and are all required (stop words are dropped); ``"quoted phrases"``,
    ``AND``/``OR``/``NOT``, parentheses and a trailing ``*`` (prefix) keep their FTS5 meaning. Raises
    :class:`SearchError` for an empty query.
    """
    if not query or not query.strip():
        raise SearchError(N_("the search query is empty"))
    out: list[tuple[str, str]] = []  # (FTS5 text, kind: "op", "(", ")", "phrase", "word" or "stop")
    for raw in _QUERY_TOKEN.findall(query):
        if raw in _OPERATORS:
            out.append((raw, "op"))
        elif raw in ("(", ")"):
            out.append((raw, raw))
        elif raw.startswith('"'):
            if len(raw) < 2 or not raw.endswith('"'):
                raise SearchError(N_("unbalanced quote in the search query {query!r}"), query=query)
            stems = [stem_word(w) for w in words(raw[1:-1])]
            if stems:
                out.append(('"' + " ".join(stems) + '"', "phrase"))
        else:
            ws = words(raw)
            for n, w in enumerate(ws):
                if raw.endswith("*") and n == len(ws) - 1:
                    out.append((f'"{w}"*', "word"))  # prefix of the written form, not the lemma
                else:
                    out.append((_any_of(query_forms(w)), "stop" if w in STOPWORDS else "word"))
    # Drop stop words when the query has other plain words.
    drop_stop = any(kind == "word" for _, kind in out)
    kept = [(t, kind) for t, kind in out if not (kind == "stop" and drop_stop)]
    # FTS5 joins a parenthesised group to its neighbour only with an explicit AND.
    terms: list[str] = []
    for n, (t, kind) in enumerate(kept):
        prev_text, prev_kind = kept[n - 1] if n else ("", "op")
        if kind not in ("op", ")") and prev_kind not in ("op", "(") and (t.startswith("(") or prev_text.endswith(")")):
            terms.append("AND")
        terms.append(t)
    # Operators at the ends or doubled, and unmatched parentheses, would be FTS syntax errors (in SQLite's English):
    # report them as the user's, in the base's language.
    expr = " ".join(terms).strip()
    if not expr:
        raise SearchError(N_("nothing to search for in {query!r}"), query=query)
    _check_structure(kept, query)
    return "text_stem : (" + expr + ")"


def _check_structure(tokens: list[tuple[str, str]], query: str) -> None:
    depth = 0
    for n, (text, kind) in enumerate(tokens):
        if kind == "(":
            depth += 1
        elif kind == ")":
            depth -= 1
            if depth < 0:
                break
        elif kind == "op":
            before = tokens[n - 1][1] if n else "("
            after = tokens[n + 1][1] if n + 1 < len(tokens) else ")"
            if before in ("op", "(") or after in ("op", ")"):
                raise SearchError(N_("{operator} in the search query {query!r} needs words on both sides"), operator=text, query=query)
    if depth != 0:
        raise SearchError(N_("unbalanced parenthesis in the search query {query!r}"), query=query)


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


_SPACE = re.compile(r"\s")


@lru_cache(maxsize=1024)  # a page highlights 50 hits of one query
def _query_stems(query: str) -> frozenset[str]:
    plain = [w for w in words(query) if w.upper() not in _OPERATORS]
    chosen = [w for w in plain if w not in STOPWORDS] or plain
    return frozenset(form for w in chosen for form in query_forms(w))


def _cut(text: str, start: int, end: int) -> tuple[int, int]:
    """Move ``start`` back and ``end`` forward to whitespace, so a snippet never starts or ends inside a word."""
    if start > 0 and not _SPACE.match(text[start - 1]):
        back = max((m.end() for m in _SPACE.finditer(text, 0, start)), default=0)
        start = back
    if end < len(text) and not _SPACE.match(text[end]):
        fwd = _SPACE.search(text, end)
        end = fwd.start() if fwd else len(text)
    while start < end and _SPACE.match(text[start]):
        start += 1
    while end > start and _SPACE.match(text[end - 1]):
        end -= 1
    return start, end


def highlight(text: str, query: str, *, before: str = "[", after: str = "]", width: int = 160) -> str:
    """A snippet of ``text`` around the words matching ``query``, matches wrapped in before/after.

    The snippet starts and ends at word boundaries; "…" marks text left out."""
    stems = _query_stems(query)
    prefixes = [p for p in (normalize_word(w.rstrip("*")) for w in query.split() if w.endswith("*")) if p]
    spans = []
    for m in _WORD.finditer(text):
        if _index_form(m.group()) in stems or (prefixes and any(normalize_word(m.group()).startswith(p) for p in prefixes)):
            spans.append((m.start(), m.end()))
    first = spans[0][0] if spans else 0
    start, end = _cut(text, max(0, first - width // 3), min(len(text), max(0, first - width // 3) + width))
    pieces, pos = [], start
    for s, e in spans:
        if s < start or e > end:
            continue
        pieces.append(text[pos:s])
        pieces.append(before + text[s:e] + after)
        pos = e
    pieces.append(text[pos:end])
    return ("…" if start > 0 else "") + "".join(pieces) + ("…" if end < len(text) else "")


# Matches are ranked (bm25) among RANK_WINDOW matches (highest ids first; ids are permanent, derived from the text, so
# this is a fixed but arbitrary sample of the matches): exact for every query that matches fewer passages,
# and bounded in time for very common words (ranking 74,000 matches of "invoices" in a 10,000-interview base costs
# 120 ms; ranking a window of 5,000 costs under 10 ms). `count_matches` tells how many there are in all.
RANK_WINDOW = 5000


def _match_sql(query: str, *, segment, pain, tag, speaker, quotes_only) -> tuple[str, str, list]:
    """(kind, SQL selecting (id, rank) of the matching rows, params).

    The FTS table is the outer loop (CROSS JOIN fixes the order) and filters are index probes per match: were the
    planner to start from a filter, it would run the full-text query once per candidate row.
    """
    use_quotes = quotes_only or pain is not None or tag is not None
    table = "quotes" if use_quotes else "utterances"
    sql = f"SELECT f.rowid AS id, f.rank AS rank FROM {table}_fts f"
    if speaker or segment or pain or tag:
        sql += f" CROSS JOIN {table} r ON r.id = f.rowid"
    filters, filter_params = filter_clauses("quote" if use_quotes else "utterance", segment=segment, pain=pain, tag=tag, speaker=speaker)
    where, params = [f"{table}_fts MATCH ?", *filters], [fts_query(query), *filter_params]
    return ("quote" if use_quotes else "utterance"), sql + " WHERE " + " AND ".join(where), params


def filter_clauses(kind: str, *, segment=None, pain=None, tag=None, speaker=None) -> tuple[list[str], list]:
    """(SQL conditions on the row ``r`` of ``quotes`` (kind "quote") or ``utterances``, params) for the search filters.

    The one definition of the filters, for keyword search and search by meaning."""
    if speaker not in (None, "respondent", "interviewer"):
        raise SearchError(N_("--speaker must be 'respondent' or 'interviewer', not {speaker!r}"), speaker=speaker)
    where, params = [], []
    if speaker:
        if kind == "quote":
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
        where.append(f"EXISTS (SELECT 1 FROM quote_tags t WHERE t.quote_id = r.id AND {tag_condition('t.tag')})")
        params.extend([tag, tag, tag])
    return where, params


def tag_condition(column: str, param: str = "?") -> str:
    """SQL that is true when ``column`` is the tag ``param`` or one of its children (``billing`` matches
    ``billing/invoices``, not ``billings``). The one definition of tag matching, for the CLI, the report and the site.

    '/' sorts just before '0', so [tag + '/', tag + '0') is exactly the children, and the tag index serves it. With
    ``?`` placeholders pass the tag three times."""
    return f"({column} = {param} OR ({column} >= {param} || '/' AND {column} < {param} || '0'))"


def _run(db, sql: str, params: list, query: str):
    try:
        return db.execute(sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        msg = str(exc)
        if "fts5" in msg or "syntax error" in msg or "no such column" in msg:
            raise SearchError(N_("cannot understand the search query {query!r} ({error})"), query=query, error=msg.removeprefix('fts5: ')) from None
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
        raise SearchError(N_("--limit must be at least 1"))
    kind, matches, params = _match_sql(query, segment=segment, pain=pain, tag=tag, speaker=speaker, quotes_only=quotes_only)
    if kind == "quote":
        select = """SELECT q.id, q.interview_id, i.title, u.speaker, u.speaker_role, q.start_s, q.text, m.rank, q.confidence, q.unsure
        FROM top m JOIN quotes q ON q.id = m.id JOIN utterances u ON u.id = q.utterance_id JOIN interviews i ON i.id = q.interview_id"""
    else:
        select = """SELECT u.id, u.interview_id, i.title, u.speaker, u.speaker_role, u.start_s, u.text, m.rank, u.confidence, u.unsure
        FROM top m JOIN utterances u ON u.id = m.id JOIN interviews i ON i.id = u.interview_id"""
    # The best ``limit`` are chosen from the window's ranks alone; only they are then read from the tables (reading
    # every match's row, text and interview first made a common word cost thousands of random page reads).
    sql = (f"WITH m AS ({matches} ORDER BY f.rowid DESC LIMIT ?), top AS (SELECT id, rank FROM m ORDER BY rank, id DESC LIMIT ?) "
           f"{select} ORDER BY m.rank, m.id DESC")
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
    """How many passages match in all (search() ranks RANK_WINDOW of them)."""
    _, matches, params = _match_sql(query, segment=segment, pain=pain, tag=tag, speaker=speaker, quotes_only=quotes_only)
    return _run(db, f"SELECT count(*) FROM ({matches})", params, query)[0][0]
