"""Evidence you can defend: unheard pains (Chao1, Good–Turing), co-occurrence, and the sample base's verdicts.

Hand-computed on tests/fixtures/analysis_base (see its README); the views, the CLI and custdev.stats must agree.
"""

from __future__ import annotations

import math
import random
import shutil
import sqlite3
from pathlib import Path

import pytest

from custdev import stats
from custdev.build import build_base
from custdev.config import load_base
from test_analysis import cli, cli_json, make_base, view

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return make_base(tmp_path_factory.mktemp("evidence") / "base")


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    """The committed sample base (interviews/, codebook.yml, custdev.toml), built."""
    root = tmp_path_factory.mktemp("sample") / "base"
    root.mkdir()
    for name in ("interviews", "codebook.yml", "custdev.toml"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, root / name)
    assert build_base(load_base(root)).failed == 0
    return root


# --- Chao1 and Good–Turing by hand -------------------------------------------------------------------------------


def test_chao1_by_hand():
    # enterprise: 3 interviews; manual-reconciliation in 2, late-payments, onboarding-confusion, slow-reports in 1 each.
    # S_obs = 4, f1 = 3, f2 = 1: chao1 = 4 + (2/3)·3·2 / (2·2) = 5.0
    # var = (2/3)·6/4 + (4/9)·3·25/16 + (4/9)·9·1·4/(4·16) = 1 + 2.08333 + .25 = 3.33333
    # K = exp(1.959964·sqrt(ln(1 + 3.33333/1²))) = exp(1.959964·1.210925) = 10.7335 → [4 + 1/K, 4 + K] = [4.093, 14.73]
    # rounded outward to whole pains: 4–15; Good–Turing f1/T = 3/3 = 100%
    r = stats.richness([2, 1, 1, 1], 3, "enterprise")
    assert (r.observed, r.singletons, r.doubletons) == (4, 3, 1)
    assert r.chao1 == pytest.approx(5.0) and (r.chao1_low, r.chao1_high) == (4, 15) and r.new_pain_chance == 1.0
    # the whole base: 7 interviews, frequencies 5, 3, 2, 1: f1 = f2 = 1, chao1 = 4 + (6/7)·1·0/4 = 4 (no unheard pain)
    # f0 = 0, so Chao's interval for that case: P = Σe^-k / S = .559739/4 = .139935,
    # var = Σ(e^-k − e^-2k) − (Σ k e^-k)²/T = .403564 − .821600²/7 = .307133,
    # [max(4, 4/(1−P) − z·√var/(1−P)), 4/(1−P) + z·√var/(1−P)] = [4, 4.65081 + 1.26296] = [4, 5.914] → 4–6
    r = stats.richness([5, 3, 2, 1, 0], 7)
    assert r.chao1 == 4.0 and (r.chao1_low, r.chao1_high) == (4, 6) and r.new_pain_chance == pytest.approx(1 / 7)
    # f1 = 4, f2 = 1, T = 10, S_obs = 6: chao1 = 6 + .9·4·3/4 = 8.7
    assert stats.richness([1, 1, 1, 1, 2, 3], 10).chao1 == pytest.approx(8.7)
    assert stats.richness([], 5).chao1_low is None and stats.richness([3], 0).chao1 is None


def test_the_interval_covers_the_true_number_of_pains_in_simulated_studies():
    """200 simulated studies, 30 pains, 20 interviews, each pain heard in an interview with a chance of 2–30%:
    the 95% interval of Chao1 covers the true 30 in at least 90% of them."""
    rng = random.Random(2026)
    true_pains, interviews, covered = 30, 20, 0
    for _ in range(200):
        chances = [rng.uniform(0.02, 0.30) for _ in range(true_pains)]
        freq = [sum(rng.random() < p for _ in range(interviews)) for p in chances]
        r = stats.richness(freq, interviews)
        covered += r.chao1_low <= true_pains <= r.chao1_high
    assert covered / 200 >= 0.90, covered


def test_pain_richness_view_matches_the_hand_values_and_the_cli(built):
    rows = {r[0]: r[1:] for r in view(built, "SELECT segment, interviews, observed, singletons, doubletons, chao1, chao1_low, chao1_high, new_pain_chance FROM pain_richness")}
    assert rows[None][:4] == (7, 4, 1, 1) and rows[None][4] == pytest.approx(4.0) and rows[None][5:7] == (4, 6)
    assert rows[None][7] == pytest.approx(1 / 7)
    assert rows["smb"][:4] == (4, 3, 1, 1) and rows["smb"][5:7] == (3, 5)
    assert rows["enterprise"][4] == pytest.approx(5.0) and rows["enterprise"][5:] == (4, 15, 1.0)
    assert rows["agencies"] == (0, 0, 0, 0, None, None, None, None)
    data = cli_json(built, "saturation")
    assert data["richness"] == {"segment": None, "interviews": 7, "observed": 4, "singletons": 1, "doubletons": 1, "chao1": 4.0,
                                "chao1_low": 4, "chao1_high": 6, "new_pain_chance": pytest.approx(1 / 7), "unheard": 0.0}
    text = cli(built, "saturation").stdout
    assert "about 4.0 pains exist (Chao1, 95% CI 4–6); 4 heard" in text and "14.3%" in text
    assert [s["segment"] for s in data["richness_by_segment"]] == ["smb", "enterprise", "agencies"]


def _python_richness(base: Path) -> dict:
    """custdev.stats.richness on the interview × pain incidence read straight from the tables."""
    conn = sqlite3.connect(base / "custdev.db")
    try:
        pairs = conn.execute("SELECT DISTINCT q.interview_id, qp.pain FROM quote_pains AS qp JOIN quotes AS q ON q.id = qp.quote_id").fetchall()
        members = {None: [r[0] for r in conn.execute("SELECT id FROM interviews")]}
        for seg, iid in conn.execute("SELECT segment, interview_id FROM interview_segments"):
            members.setdefault(seg, []).append(iid)
        for (seg,) in conn.execute("SELECT slug FROM segments"):
            members.setdefault(seg, [])
    finally:
        conn.close()
    out = {}
    for seg, ids in members.items():
        ids = set(ids)
        counts: dict[str, int] = {}
        for iid, pain in pairs:
            if iid in ids:
                counts[pain] = counts.get(pain, 0) + 1
        out[seg] = stats.richness(list(counts.values()), len(ids), seg)
    return out


@pytest.mark.parametrize("which", ["built", "sample"])
def test_the_view_and_python_agree(which, request):
    base = request.getfixturevalue(which)
    want = _python_richness(base)
    rows = view(base, "SELECT segment, interviews, observed, singletons, doubletons, chao1, chao1_low, chao1_high, new_pain_chance FROM pain_richness")
    assert {r[0] for r in rows} == set(want)
    for seg, *got in rows:
        w = want[seg]
        assert got[:4] == [w.interviews, w.observed, w.singletons, w.doubletons]
        assert got[4] == pytest.approx(w.chao1) and got[5:7] == [w.chao1_low, w.chao1_high] and got[7] == pytest.approx(w.new_pain_chance)


# --- co-occurrence -------------------------------------------------------------------------------------------------


def test_cooccurrence_by_hand(built):
    # pain sets: anna {manual, late}, boris {manual, slow}, carol {late, onboarding}, dan {manual},
    # carol-2 {manual, slow}, fedor {late}, gleb {manual}
    rows = view(built, "SELECT pain_a, pain_b, together, interviews_a, interviews_b, jaccard FROM pain_cooccurrence ORDER BY together DESC, pain_a")
    assert rows == [
        ("manual-reconciliation", "slow-reports", 2, 5, 2, pytest.approx(2 / 5)),  # 2 / (5 + 2 − 2)
        ("late-payments", "manual-reconciliation", 1, 3, 5, pytest.approx(1 / 7)),  # 1 / (3 + 5 − 1)
        ("late-payments", "onboarding-confusion", 1, 3, 1, pytest.approx(1 / 3)),
    ]


# --- the sample base -----------------------------------------------------------------------------------------------


def test_unclear_wherever_the_interval_straddles_the_threshold_on_the_sample_base(sample):
    t = 0.30
    rows = view(sample, "SELECT pain, ci_low, ci_high, verdict, more_interviews FROM pain_prevalence")
    rows += view(sample, "SELECT pain, ci_low, ci_high, verdict, more_interviews FROM pain_by_segment WHERE segment_interviews > 0")
    assert any(r[3] == "unclear" for r in rows) and any(r[3] == "systemic" for r in rows)
    for pain, lo, hi, verdict, more in rows:
        straddles = lo < t - 1e-12 and hi >= t - 1e-12
        assert (verdict == "unclear") is straddles, (pain, lo, hi, verdict)
        if verdict == "systemic":
            assert lo >= t
        if verdict == "local":
            assert hi < t
    data = cli_json(sample, "pains", "--segment", "smb-owners")
    assert all(p["verdict"] == "unclear" for p in data["pains"])  # 3 interviews settle nothing at 30%
    assert [(p["pain"], p["more_interviews"]) for p in data["pains"][:1]] == [("late-payments", 4)]  # 2/3: n* = .806707 / .134444 = 6.0003 → 7
    assert all(h["status"] in ("supported", "refuted", "unclear") for h in cli_json(sample, "hypotheses"))
