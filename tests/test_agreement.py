"""custdev agreement: two coders' copies of the same transcript (tests/fixtures/agreement), hand-computed.

Units: the 5 paragraphs of ent-erin that at least one coder coded (3 questions nobody coded are left out).
        u2 (¶2)        u4 (¶4)      u5 (¶5)   u7 (¶7)   u8 (¶8)
  A     late           manual       —         manual    late, manual
  B     late           —            slow      manual    late
late:   A = B = 1 0 0 0 1                               kappa 1, alpha 1
manual: A = 0 1 0 1 1, B = 0 0 0 1 0: po = 3/5, pa = .6, pb = .2, pe = .6·.2 + .4·.8 = .44,
        kappa = (.6 − .44)/(1 − .44) = .285714; alpha = 1 − (n−1)·D/(ones·zeros) = 1 − 9·2/(4·6) = .25
slow:   A = 0 0 0 0 0, B = 0 0 1 0 0: po = .8, pe = .8 → kappa 0; alpha = 1 − 9·1/(1·9) = 0
all (15 decisions): A has 5 ones, B 4, 3 disagree: po = .8, pe = (5/15)(4/15) + (10/15)(11/15) = .577778,
        kappa = .222222/.422222 = .526316; alpha = 1 − 29·3/(9·21) = .539683
"""

from __future__ import annotations

import shutil
from pathlib import Path

import krippendorff
import numpy as np
import pytest

from custdev import stats
from custdev.agreement import compare
from custdev.config import load_base
from test_analysis import cli, cli_json, one_line_error

FIX = Path(__file__).parent / "fixtures" / "agreement"
BASE = Path(__file__).parent / "fixtures" / "analysis_base"


def agreement(*args: str):
    return cli(BASE, "agreement", *args)


def test_hand_values_through_the_cli():
    data = cli_json(BASE, "agreement", str(FIX / "anna"), str(FIX / "boris"))
    assert data["unit"] == "paragraph (one speaker turn)"
    assert (data["interviews"], data["only_in_a"], data["only_in_b"], data["paragraphs"], data["units"]) == (["ent-erin"], ["smb-ivan"], [], 8, 5)
    codes = {c["code"]: c for c in data["codes"]}
    assert codes["pain/late-payments"]["kappa"] == 1.0 and codes["pain/late-payments"]["alpha"] == 1.0
    m = codes["pain/manual-reconciliation"]
    assert (m["applied_a"], m["applied_b"], m["both"]) == (3, 1, 1)
    assert m["kappa"] == pytest.approx(0.285714, abs=1e-6) and m["alpha"] == pytest.approx(0.25)
    assert codes["pain/slow-reports"]["kappa"] == pytest.approx(0.0) and codes["pain/slow-reports"]["alpha"] == pytest.approx(0.0)
    o = data["overall"]
    assert o["kappa"] == pytest.approx(0.526316, abs=1e-6) and o["alpha"] == pytest.approx(0.539683, abs=1e-6) and o["agreement"] == 0.8
    assert [(d["paragraph"], d["code"], d["coded_by"], d["text"]) for d in data["disagreements"]] == [
        (4, "pain/manual-reconciliation", "A", "We match every payment to an invoice by hand"),
        (5, "pain/slow-reports", "B", "The board report takes two days to build"),
        (8, "pain/manual-reconciliation", "A", "Late payers force us to reconcile partial payments by hand"),
    ]
    text = agreement(str(FIX / "anna"), str(FIX / "boris")).stdout
    assert "5 of 8 paragraphs (paragraphs at least one coder coded); only in A: smb-ivan" in text
    assert [line.split()[-3:] for line in text.splitlines() if line.strip().startswith("all codes")] == [["80.0%", "0.526", "0.540"]]
    assert "The board report" in text  # the disagreement with its text (wrapped in the table)


def test_uncoded_paragraphs_inflate_agreement_when_included():
    r = compare(FIX / "anna", FIX / "boris", include_uncoded=True)
    # 8 units: the 3 questions add agreeing zeros to every code: manual po = 6/8, pa = 3/8, pb = 1/8,
    # pe = .375·.125 + .625·.875 = .59375, kappa = (.75 − .59375)/.40625 = .384615 (up from .285714)
    assert r.units == 8
    manual = next(c for c in r.codes if c.code == "pain/manual-reconciliation")
    assert manual.agreement == 0.75 and manual.kappa == pytest.approx(0.384615, abs=1e-6)
    assert r.overall.agreement > 0.8


def test_matches_the_krippendorff_package_and_handles_undefined_cases():
    rng = np.random.default_rng(9)
    for _ in range(50):
        n = int(rng.integers(2, 40))
        a = rng.integers(0, 2, n).tolist()
        b = [x if rng.random() < 0.7 else 1 - x for x in a]
        ours = stats.krippendorff_alpha_nominal(a, b)
        if ours is None:
            continue
        theirs = krippendorff.alpha(reliability_data=np.array([a, b], dtype=float), level_of_measurement="nominal")
        assert ours == pytest.approx(theirs, abs=1e-9)
    assert stats.cohen_kappa([1, 1], [1, 1]) is None and stats.krippendorff_alpha_nominal([0, 0], [0, 0]) is None
    assert stats.cohen_kappa([], []) is None


def test_copies_of_different_transcripts_are_refused(tmp_path):
    other = tmp_path / "carl"
    shutil.copytree(FIX / "boris", other)
    f = other / "ent-erin.md"
    f.write_text(f.read_text().replace("How do you close the month?", "How do you close the quarter?"))
    one_line_error(agreement(str(FIX / "anna"), str(other)), "interview 'ent-erin': paragraph 1 differs between")
    one_line_error(agreement(str(FIX / "anna"), str(tmp_path / "nobody")), "does not exist")
    (tmp_path / "empty").mkdir()
    one_line_error(agreement(str(FIX / "anna"), str(tmp_path / "empty")), "holds no interview files")
    bad = tmp_path / "bad"
    shutil.copytree(FIX / "boris", bad)
    (bad / "ent-erin.md").write_text((bad / "ent-erin.md").read_text().replace("#pain/slow-reports", "#pain/slow-report"))
    one_line_error(agreement(str(FIX / "anna"), str(bad)), "unknown pain 'slow-report' (did you mean 'slow-reports'?)")
    assert load_base(BASE).codebook.pains  # the slugs were checked against this codebook


def test_reading_unchanged_files_from_the_database_gives_the_same_answer(tmp_path):
    """A = the base's own interviews (built, so the db holds them), B = a copy with one code dropped and one added:
    the fast path (unchanged files from the db, identical files read once) must equal parsing everything."""
    from test_analysis import make_base

    base = make_base(tmp_path / "base")
    review = tmp_path / "review"
    shutil.copytree(base / "interviews", review)
    f = review / "smb-boris.md"
    f.write_text(f.read_text().replace(" #pain/slow-reports", "", 1))
    g = review / "ent-dan.md"
    g.write_text(g.read_text().replace("#value", "#value #pain/late-payments", 1))
    cb = load_base(base).codebook
    for include in (False, True):
        slow = compare(base / "interviews", review, codebook=cb, include_uncoded=include)
        fast = compare(base / "interviews", review, codebook=cb, include_uncoded=include, db_path=base / "custdev.db")
        assert fast.to_dict() == slow.to_dict()
    assert {(d.interview, d.code, d.coded_by) for d in fast.disagreements} == {
        ("smb-boris", "pain/slow-reports", "A"), ("ent-dan", "pain/late-payments", "B")}
    assert fast.units == fast.paragraphs == slow.paragraphs  # the last run kept uncoded paragraphs too


def test_large_tables_use_the_2x2_counts_with_the_same_values():
    import random

    from custdev.agreement import _stat, _stat_counts

    rng = random.Random(1)
    for _ in range(30):
        n = rng.randint(10001, 12000)
        a1, b1 = rng.randint(0, n), rng.randint(0, n)
        both = rng.randint(max(0, a1 + b1 - n), min(a1, b1))
        rest = n - a1 - b1 + both
        lists = _stat("c", [1] * both + [1] * (a1 - both) + [0] * (b1 - both) + [0] * rest,
                      [1] * both + [0] * (a1 - both) + [1] * (b1 - both) + [0] * rest)
        fast = _stat_counts("c", n, a1, b1, both)
        assert (fast.kappa, fast.alpha, fast.agreement) == pytest.approx((lists.kappa, lists.alpha, lists.agreement), abs=1e-9)
