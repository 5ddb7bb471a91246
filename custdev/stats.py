"""Pure statistics behind the evidence (no database, no I/O). The SQL views compute the same; tests check both agree.

Sources: Wilson (1927) score interval; Chao (1987) and Chao (2005, "Species estimation and applications") for the
bias-corrected Chao1 estimator, its variance and the log-normal interval; Good (1953) for the chance of a new pain;
Cohen (1960) kappa; Krippendorff (2011, "Computing Krippendorff's alpha-reliability") nominal alpha.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Sequence

Z95 = 1.959963984540054  # two-sided 95% normal quantile, the same constant the views use
EPS = 1e-12  # the views compare shares with the same tolerance
SYSTEMIC, LOCAL, UNCLEAR = "systemic", "local", "unclear"
SUPPORTED, REFUTED = "supported", "refuted"
MAJORITY = 0.5  # a hypothesis is supported when surely more than half of the interviews with evidence support it


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float] | tuple[None, None]:
    """95% Wilson score interval for k successes out of n; (None, None) when n == 0."""
    if n <= 0:
        return None, None
    p = k / n
    denom = 1 + z * z / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - half) / denom), min(1.0, (centre + half) / denom)


def verdict(k: int, n: int, threshold: float) -> str | None:
    """systemic when the interval's lower bound reaches the threshold, local when its upper bound stays below it,
    otherwise unclear; None for no interviews."""
    lo, hi = wilson_interval(k, n)
    if lo is None:
        return None
    if lo >= threshold - EPS:
        return SYSTEMIC
    if hi < threshold - EPS:
        return LOCAL
    return UNCLEAR


def settle_n(p: float, level: float, z: float = Z95) -> float | None:
    """Interviews at which ``level`` leaves the Wilson interval of a share p (the interval is the set of x with
    |p - x| <= z·sqrt(x(1-x)/n)); None when p == level (it never leaves)."""
    if abs(p - level) <= EPS:
        return None
    return z * z * level * (1 - level) / ((p - level) ** 2)


def _ceil(x: float) -> int:
    return int(x - 1e-9) + (1 if x - 1e-9 > int(x - 1e-9) else 0)


def more_interviews(k: int, n: int, threshold: float) -> int | None:
    """For an unclear verdict: how many more interviews would likely settle it if the share k/n held; else None."""
    if n <= 0 or verdict(k, n, threshold) != UNCLEAR:
        return None
    p = k / n
    s = settle_n(p, threshold)
    if s is None:
        return None
    needed = _ceil(s) if p > threshold else int(s + 1e-9) + 1  # systemic needs low >= t; local needs high < t
    return max(1, needed - n)


def hypothesis_status(interviews_for: int, interviews_against: int, min_interviews: int = 3) -> str:
    """supported / refuted / unclear from the Wilson interval of the supporting share of the evidence."""
    n = interviews_for + interviews_against
    lo, hi = wilson_interval(interviews_for, n)
    if lo is None:
        return UNCLEAR
    if interviews_for >= min_interviews and lo > MAJORITY + EPS:
        return SUPPORTED
    if interviews_against >= min_interviews and hi < MAJORITY - EPS:
        return REFUTED
    return UNCLEAR


def hypothesis_more(interviews_for: int, interviews_against: int, min_interviews: int = 3) -> int | None:
    """For an unclear hypothesis: more interviews with evidence that would settle it if the split held."""
    n = interviews_for + interviews_against
    if n == 0 or hypothesis_status(interviews_for, interviews_against, min_interviews) != UNCLEAR:
        return None
    p = interviews_for / n
    s = settle_n(p, MAJORITY)
    if s is None:
        return None
    lead = p if p > MAJORITY else 1 - p
    return max(1, max(int(s + 1e-9) + 1, _ceil(min_interviews / lead)) - n)


# ---------------------------------------------------------------------------------------------------------------
# How much is still unheard


@dataclass
class Richness:
    segment: str | None
    interviews: int  # T
    observed: int  # pains heard at least once
    singletons: int  # f1: pains heard in exactly one interview
    doubletons: int  # f2: in exactly two
    chao1: float | None
    chao1_low: int | None  # 95% interval, rounded outward to whole pains
    chao1_high: int | None
    new_pain_chance: float | None  # Good–Turing: f1 / T (at most 1)

    @property
    def unheard(self) -> float | None:
        return None if self.chao1 is None else self.chao1 - self.observed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"unheard": self.unheard}


def richness(frequencies: Sequence[int], interviews: int, segment: str | None = None, z: float = Z95) -> Richness:
    """Chao1 (bias-corrected) with Chao's 95% log-normal interval, and Good–Turing's chance of a new pain.

    ``frequencies``: for each pain heard, the number of interviews that mention it (zeros are ignored)."""
    k = [x for x in frequencies if x > 0]
    s_obs, t = len(k), interviews
    f1, f2 = sum(1 for x in k if x == 1), sum(1 for x in k if x == 2)
    if t <= 0:
        return Richness(segment, t, s_obs, f1, f2, None, None, None, None)
    w = (t - 1) / t
    chao1 = s_obs + w * f1 * (f1 - 1) / (2 * (f2 + 1))
    chance = min(1.0, f1 / t)
    if s_obs == 0:
        return Richness(segment, t, 0, 0, 0, chao1, None, None, chance)
    f0 = chao1 - s_obs
    if f0 > 1e-9:
        var = (w * f1 * (f1 - 1) / (2 * (f2 + 1))
               + w * w * f1 * (2 * f1 - 1) ** 2 / (4 * (f2 + 1) ** 2)
               + w * w * f1 * f1 * f2 * (f1 - 1) ** 2 / (4 * (f2 + 1) ** 4))
        c = math.exp(z * math.sqrt(math.log(1 + var / (f0 * f0))))
        low, high = s_obs + f0 / c, s_obs + f0 * c
    else:
        # No unheard pain estimated (f1 <= 1): Chao's interval for that case (as in SPADE).
        e1 = sum(math.exp(-x) for x in k)
        e2 = sum(math.exp(-x) - math.exp(-2 * x) for x in k)
        e3 = sum(x * math.exp(-x) for x in k)
        var_obs = max(0.0, e2 - e3 * e3 / t)
        p0 = e1 / s_obs
        low = max(float(s_obs), s_obs / (1 - p0) - z * math.sqrt(var_obs) / (1 - p0))
        high = s_obs / (1 - p0) + z * math.sqrt(var_obs) / (1 - p0)
    # A number of pains is whole: the bounds are rounded outward (floor, ceiling) to whole pains.
    return Richness(segment, t, s_obs, f1, f2, chao1, int(low + 1e-9), _ceil(high), chance)


# ---------------------------------------------------------------------------------------------------------------
# Agreement between two coders (binary decisions: did the coder apply the code to the unit?)


def cohen_kappa(a: Sequence[int], b: Sequence[int]) -> float | None:
    """Cohen's kappa of two coders' 0/1 decisions on the same units; None when undefined (no units, or both coders
    constant and equal, where chance agreement is 1)."""
    n = len(a)
    if n == 0:
        return None
    po = sum(1 for x, y in zip(a, b) if x == y) / n
    pa, pb = sum(a) / n, sum(b) / n
    pe = pa * pb + (1 - pa) * (1 - pb)
    if abs(1 - pe) < 1e-12:
        return None
    return (po - pe) / (1 - pe)


def krippendorff_alpha_nominal(a: Sequence[int], b: Sequence[int]) -> float | None:
    """Krippendorff's alpha, nominal, two coders, no missing values: 1 - (n-1)·D_o / D_e over the pooled values."""
    n_units = len(a)
    if n_units == 0:
        return None
    n = 2 * n_units
    disagree = sum(1 for x, y in zip(a, b) if x != y)
    ones = sum(a) + sum(b)
    zeros = n - ones
    expected = 2 * ones * zeros  # ordered pairs of pooled values that differ
    if expected == 0:
        return None
    # observed coincidences that differ: each disagreeing unit gives 2 ordered pairs, weighted 1/(m_u - 1) = 1
    return 1 - (n - 1) * (2 * disagree) / expected
