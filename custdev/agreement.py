"""Coder agreement: two researchers code copies of the same transcripts; how far do they agree?

The unit is the **paragraph**: one speaker turn (``**[time] Name:**`` and its text up to the next turn), matched
between the two copies by its position in the interview (the copies must hold the same turns: same speakers, same
times, same words; the highlights and codes may differ). A coder *applies* a code to a paragraph when any highlight
in it carries the code (``pain/<slug>``, ``h/<slug>``, ``h/<slug>/against``, ``tag/<name>``).

Uncoded text: a paragraph that neither coder coded at all (questions, small talk) is left out by default, because
counting it as agreement ("both said: none of these codes") inflates the observed agreement of every code. Within the
paragraphs at least one coder coded, "neither applied this code" is a genuine decision on that code and counts as
agreement, as both statistics define it for a present/absent code. ``include_uncoded=True`` keeps every paragraph.

Per code: Cohen's kappa and Krippendorff's alpha (nominal) on the 0/1 decisions of the two coders over the units.
Overall: the same over every (paragraph, code) decision pooled. Formulas in :mod:`custdev.stats`.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from custdev.errors import CustdevError, os_reason
from custdev.i18n import N_
from custdev.models import Codebook
from custdev.stats import cohen_kappa, krippendorff_alpha_nominal

UNIT = "paragraph (one speaker turn)"


@dataclass
class Unit:
    interview: str
    paragraph: int  # 1-based position of the turn in the interview
    speaker: str
    start_s: float | None
    text: str
    a: frozenset[str]
    b: frozenset[str]


@dataclass
class CodeAgreement:
    code: str
    units: int
    applied_a: int
    applied_b: int
    both: int
    agreement: float | None  # observed share of units where the coders agree
    kappa: float | None
    alpha: float | None


@dataclass
class Disagreement:
    interview: str
    paragraph: int
    timestamp: str
    speaker: str
    code: str
    coded_by: str  # "A" or "B": who applied the code the other did not
    text: str


@dataclass
class AgreementResult:
    a: str
    b: str
    unit: str
    include_uncoded: bool
    interviews: list[str]
    only_in_a: list[str]
    only_in_b: list[str]
    paragraphs: int  # paragraphs in the matched interviews
    units: int  # paragraphs counted (coded by at least one coder, unless include_uncoded)
    overall: CodeAgreement
    codes: list[CodeAgreement]
    disagreements: list[Disagreement] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _codes(turn) -> frozenset[str]:
    out: set[str] = set()
    for q in turn.quotes:
        out.update(f"pain/{p}" for p in q.pains)
        out.update(f"tag/{t}" for t in q.tags)
        out.update(f"h/{h}" + ("/against" if stance == "against" else "") for h, stance in q.hypotheses)
    return frozenset(out)


def _norm(text: str) -> str:
    return " ".join(text.split())


# A transcript as the comparison needs it: id, paragraph count, and per paragraph (1-based) speaker, start, text,
# codes, line. ``full`` is False for one read from the database, where only the coded paragraphs are listed.
@dataclass
class _Copy:
    id: str
    path: str
    paragraphs: int
    turns: dict[int, tuple[str, float | None, str, frozenset[str], int | None]]
    full: bool = True


def _parse(path: str, text: str, codebook: Codebook | None) -> _Copy:
    from custdev.markdown import parse_interview

    iv = parse_interview(text, path, codebook)
    turns = {n: (t.speaker, t.start_s, _norm(t.text), _codes(t), t.line) for n, t in enumerate(iv.turns, 1)}
    return _Copy(iv.id, path, len(iv.turns), turns)


def _parse_star(args) -> _Copy | str:
    try:
        return _parse(*args)
    except CustdevError as exc:
        return exc.as_message()


def _files(folder: Path) -> list[Path]:
    if not folder.exists():
        raise CustdevError(N_("{folder} does not exist"), folder=folder)
    files = [folder] if folder.is_file() else sorted(folder.rglob("*.md"))
    if not files:
        raise CustdevError(N_("{folder} holds no interview files (*.md)"), folder=folder)
    return files


def _load(path: Path) -> tuple[str, str]:
    try:
        data = path.read_bytes()
        return hashlib.sha256(data).hexdigest(), data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CustdevError(N_("cannot read {path}: {error}"), path=path, error=os_reason(exc)) from None


def _parse_many(jobs: list[tuple[str, str, Codebook | None]]) -> list[_Copy]:
    """Parse in worker processes when there are many files (like the build); the first error stops it."""
    if len(jobs) < 64 or (os.cpu_count() or 1) < 2:
        results = [_parse_star(j) for j in jobs]
    else:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=min(os.cpu_count() or 2, 8)) as pool:
            results = list(pool.map(_parse_star, jobs, chunksize=max(1, len(jobs) // 64)))
    for r in results:
        if isinstance(r, str):
            raise CustdevError(r)
    return results  # type: ignore[return-value]


def _from_db(db_path: Path | None, hashes: list[str]) -> dict[str, _Copy]:
    """Transcripts the base's database already holds with exactly these bytes (content hash): only their coded
    paragraphs, read from the db instead of parsing the file again."""
    if db_path is None or not db_path.exists() or not hashes:
        return {}
    import sqlite3

    out: dict[str, _Copy] = {}
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        conn.execute("CREATE TEMP TABLE want(h TEXT PRIMARY KEY)")
        conn.executemany("INSERT OR IGNORE INTO want VALUES (?)", [(h,) for h in hashes])
        rows = conn.execute("SELECT i.content_hash, i.id, i.path, i.turn_count FROM interviews AS i JOIN want ON want.h = i.content_hash").fetchall()
        by_id = {iid: h for h, iid, _p, _n in rows}
        for h, iid, path, n in rows:
            out[h] = _Copy(iid, path, n or 0, {}, full=False)
        codes_sql = (
            "SELECT q.interview_id, u.seq, u.speaker, u.start_s, u.text, u.line, c.code FROM ("
            " SELECT quote_id, 'pain/' || pain AS code FROM quote_pains"
            " UNION ALL SELECT quote_id, 'tag/' || tag FROM quote_tags"
            " UNION ALL SELECT quote_id, 'h/' || hypothesis || CASE stance WHEN 'against' THEN '/against' ELSE '' END FROM quote_hypotheses"
            ") AS c JOIN quotes AS q ON q.id = c.quote_id JOIN utterances AS u ON u.id = q.utterance_id "
            "WHERE q.interview_id IN (SELECT i.id FROM interviews AS i JOIN want ON want.h = i.content_hash)"
        )
        acc: dict[tuple[str, int], list] = {}
        for iid, seq, speaker, start, text, line, code in conn.execute(codes_sql):
            cur = acc.setdefault((iid, seq), [speaker, start, _norm(text), set(), line])
            cur[3].add(code)
        for (iid, seq), (speaker, start, text, codes, line) in acc.items():
            out[by_id[iid]].turns[seq] = (speaker, start, text, frozenset(codes), line)
    except sqlite3.Error:
        return {}
    finally:
        conn.close()
    return out


def _read_pair(a: Path, b: Path, codebook: Codebook | None, db_path: Path | None) -> tuple[dict[str, _Copy], dict[str, _Copy]]:
    """Both copies, by interview id. A file whose bytes are the same in A and B is read once; one the base's
    database holds with these bytes is taken from the database (its coded paragraphs)."""
    fa, fb = _files(a), _files(b)
    la = {str(p): _load(p) for p in fa}
    lb = {str(p): _load(p) for p in fb}
    hashes_b = {h for h, _t in lb.values()}
    same = [h for h, _t in la.values() if h in hashes_b]
    known = _from_db(db_path, same)
    todo: dict[str, tuple[str, str]] = {}
    for path, (h, text) in [*la.items(), *lb.items()]:
        if h not in known:
            todo.setdefault(h, (path, text))
    parsed = {h: c for h, c in zip(todo, _parse_many([(path, text, codebook) for path, text in todo.values()]))}
    copies = known | parsed
    sides = []
    for folder, loaded in ((a, la), (b, lb)):
        side: dict[str, _Copy] = {}
        for path, (h, _text) in loaded.items():
            c = copies[h]
            if c.id in side:
                raise CustdevError(N_("{path}: interview id '{id}' appears twice in {folder}"), path=path, id=c.id, folder=folder)
            side[c.id] = c if c.path == path or not c.full else _Copy(c.id, path, c.paragraphs, c.turns, c.full)
        sides.append(side)
    return sides[0], sides[1]


def _stat_counts(code: str, n: int, applied_a: int, applied_b: int, both: int) -> CodeAgreement:
    """The same as :func:`_stat` from the counts alone: n units, a's and b's ones, and the units where both gave 1."""
    if n > 10000:  # no need to build the lists: the statistics from the 2×2 table directly
        agree = n - (applied_a + applied_b - 2 * both)
        pa, pb = applied_a / n, applied_b / n
        pe = pa * pb + (1 - pa) * (1 - pb)
        kappa = None if abs(1 - pe) < 1e-12 else (agree / n - pe) / (1 - pe)
        ones = applied_a + applied_b
        zeros = 2 * n - ones
        alpha = None if ones * zeros == 0 else 1 - (2 * n - 1) * (n - agree) / (ones * zeros)
        return CodeAgreement(code, n, applied_a, applied_b, both, agree / n, kappa, alpha)
    rest = n - applied_a - applied_b + both
    a = [1] * both + [1] * (applied_a - both) + [0] * (applied_b - both) + [0] * rest
    b = [1] * both + [0] * (applied_a - both) + [1] * (applied_b - both) + [0] * rest
    return _stat(code, a, b)


def _stat(code: str, a: list[int], b: list[int]) -> CodeAgreement:
    n = len(a)
    agree = sum(1 for x, y in zip(a, b) if x == y)
    return CodeAgreement(code, n, sum(a), sum(b), sum(1 for x, y in zip(a, b) if x and y),
                         agree / n if n else None, cohen_kappa(a, b), krippendorff_alpha_nominal(a, b))


def compare(a: Path, b: Path, *, codebook: Codebook | None = None, include_uncoded: bool = False, db_path: Path | None = None) -> AgreementResult:
    """Agreement of two coded copies (folders or single files), matched by interview id. ``db_path``: the base's
    database, to skip parsing files it already holds unchanged (same bytes)."""
    from custdev.markdown import format_timestamp

    left, right = _read_pair(Path(a), Path(b), codebook, db_path)
    common = sorted(set(left) & set(right))
    if not common:
        raise CustdevError(N_("{a} and {b} share no interview (matched by the id in the front matter)"), a=a, b=b)
    units: list[Unit] = []
    paragraphs = 0
    empty: frozenset[str] = frozenset()
    for iid in common:
        ca_, cb_ = left[iid], right[iid]
        if ca_.paragraphs != cb_.paragraphs:
            raise CustdevError(N_("interview '{iid}': {path} has {paragraphs} paragraphs but {path2} has {paragraphs2}; code copies of the same transcript"), iid=iid, path=ca_.path, paragraphs=ca_.paragraphs, path2=cb_.path, paragraphs2=cb_.paragraphs)
        paragraphs += ca_.paragraphs
        if ca_ is cb_ or ca_.turns is cb_.turns:  # the same bytes: every paragraph agrees
            seqs = range(1, ca_.paragraphs + 1) if include_uncoded else [n for n in sorted(ca_.turns) if ca_.turns[n][3]]
            for n in seqs:
                ta = ca_.turns.get(n)
                if ta is None:
                    units.append(Unit(iid, n, "", None, "", empty, empty))
                else:
                    units.append(Unit(iid, n, ta[0], ta[1], ta[2], ta[3], ta[3]))
            continue
        for n in range(1, ca_.paragraphs + 1):
            ta, tb = ca_.turns.get(n), cb_.turns.get(n)
            if ca_.full and cb_.full and (ta[0], ta[1], ta[2]) != (tb[0], tb[1], tb[2]):
                raise CustdevError(N_("interview '{iid}': paragraph {n} differs between {path} (line {ta}) and {path2} (line {tb}); code copies of the same transcript"), iid=iid, n=n, path=ca_.path, ta=ta[4], path2=cb_.path, tb=tb[4])
            codes_a = ta[3] if ta else empty
            codes_b = tb[3] if tb else empty
            if codes_a or codes_b or include_uncoded:
                first = ta or tb
                units.append(Unit(iid, n, first[0] if first else "", first[1] if first else None, first[2] if first else "", codes_a, codes_b))
    # One pass over the units: per code, how many units each coder gave it and how many both did. Kappa and alpha
    # of two coders' 0/1 decisions depend only on these counts (custdev.stats, tested against lists of decisions).
    counts: dict[str, list[int]] = {}
    for u in units:
        for code in u.a:
            counts.setdefault(code, [0, 0, 0])[0] += 1
        for code in u.b:
            c = counts.setdefault(code, [0, 0, 0])
            c[1] += 1
            if code in u.a:
                c[2] += 1
    n = len(units)
    per = [_stat_counts(code, n, *counts[code]) for code in sorted(counts)]
    overall = _stat_counts("all codes", n * len(per), sum(c.applied_a for c in per), sum(c.applied_b for c in per), sum(c.both for c in per))
    overall.units = len(units)
    dis = [
        Disagreement(u.interview, u.paragraph, format_timestamp(u.start_s) if u.start_s is not None else "", u.speaker, code,
                     "A" if code in u.a else "B", u.text)
        for u in units for code in sorted(u.a ^ u.b)
    ]
    return AgreementResult(str(a), str(b), UNIT, include_uncoded, common, sorted(set(left) - set(right)), sorted(set(right) - set(left)),
                           paragraphs, len(units), overall, per, dis)
