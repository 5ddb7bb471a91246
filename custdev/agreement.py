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

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from custdev.errors import CustdevError
from custdev.models import Codebook, Interview
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


def _read(folder: Path, codebook: Codebook | None) -> dict[str, tuple[Interview, str]]:
    from custdev.markdown import parse_interview

    if not folder.exists():
        raise CustdevError(f"{folder} does not exist")
    files = [folder] if folder.is_file() else sorted(folder.rglob("*.md"))
    if not files:
        raise CustdevError(f"{folder} holds no interview files (*.md)")
    out: dict[str, tuple[Interview, str]] = {}
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CustdevError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
        iv = parse_interview(text, str(path), codebook)
        if iv.id in out:
            raise CustdevError(f"{path}: interview id '{iv.id}' appears twice in {folder}")
        out[iv.id] = (iv, str(path))
    return out


def _norm(text: str) -> str:
    return " ".join(text.split())


def _stat(code: str, a: list[int], b: list[int]) -> CodeAgreement:
    n = len(a)
    agree = sum(1 for x, y in zip(a, b) if x == y)
    return CodeAgreement(code, n, sum(a), sum(b), sum(1 for x, y in zip(a, b) if x and y),
                         agree / n if n else None, cohen_kappa(a, b), krippendorff_alpha_nominal(a, b))


def compare(a: Path, b: Path, *, codebook: Codebook | None = None, include_uncoded: bool = False) -> AgreementResult:
    """Agreement of two coded copies (folders or single files), matched by interview id."""
    from custdev.markdown import format_timestamp

    left, right = _read(Path(a), codebook), _read(Path(b), codebook)
    common = sorted(set(left) & set(right))
    if not common:
        raise CustdevError(f"{a} and {b} share no interview (matched by the id in the front matter)")
    units: list[Unit] = []
    paragraphs = 0
    for iid in common:
        (ia, pa), (ib, pb) = left[iid], right[iid]
        if len(ia.turns) != len(ib.turns):
            raise CustdevError(f"interview '{iid}': {pa} has {len(ia.turns)} paragraphs but {pb} has {len(ib.turns)}; code copies of the same transcript")
        for n, (ta, tb) in enumerate(zip(ia.turns, ib.turns), 1):
            if (ta.speaker, ta.start_s, _norm(ta.text)) != (tb.speaker, tb.start_s, _norm(tb.text)):
                raise CustdevError(f"interview '{iid}': paragraph {n} differs between {pa} (line {ta.line}) and {pb} (line {tb.line}); code copies of the same transcript")
            paragraphs += 1
            ca, cb = _codes(ta), _codes(tb)
            if ca or cb or include_uncoded:
                units.append(Unit(iid, n, ta.speaker, ta.start_s, _norm(ta.text), ca, cb))
    codes = sorted(set().union(*(u.a | u.b for u in units))) if units else []
    per: list[CodeAgreement] = []
    pooled_a: list[int] = []
    pooled_b: list[int] = []
    for code in codes:
        xa = [int(code in u.a) for u in units]
        xb = [int(code in u.b) for u in units]
        per.append(_stat(code, xa, xb))
        pooled_a += xa
        pooled_b += xb
    overall = _stat("all codes", pooled_a, pooled_b)
    overall.units = len(units)
    dis = [
        Disagreement(u.interview, u.paragraph, format_timestamp(u.start_s) if u.start_s is not None else "", u.speaker, code,
                     "A" if code in u.a else "B", u.text)
        for u in units for code in sorted(u.a ^ u.b)
    ]
    return AgreementResult(str(a), str(b), UNIT, include_uncoded, common, sorted(set(left) - set(right)), sorted(set(right) - set(left)),
                           paragraphs, len(units), overall, per, dis)
