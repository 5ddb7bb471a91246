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
from test_analysis import cli, cli_json, make_base, own_base, view  # noqa: F401 - own_base is a fixture

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


def test_cooccurrence_command(built):
    data = cli_json(built, "cooccurrence")
    assert [(p["pain_a"], p["pain_b"], p["together"]) for p in data["pairs"]] == [
        ("manual-reconciliation", "slow-reports", 2), ("late-payments", "onboarding-confusion", 1), ("late-payments", "manual-reconciliation", 1),
    ]  # most often together first, then by Jaccard (1/3 before 1/7)
    assert [p["pain"] for p in data["pains"]] == ["manual-reconciliation", "late-payments", "slow-reports", "onboarding-confusion"]
    row = next(line for line in cli(built, "cooccurrence").stdout.splitlines() if "slow-reports" in line)
    assert row.split() == ["manual-reconciliation", "slow-reports", "2", "(5,", "2)", "0.40"]


# --- the matrix ----------------------------------------------------------------------------------------------------


def test_matrix_csv_on_stdout_has_one_row_per_interview_and_0_1_codes(built):
    import csv
    import io

    result = cli(built, "matrix")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["interview"] for r in rows] == ["smb-anna", "smb-boris", "ent-carol", "ent-dan", "ent-carol-2", "smb-fedor", "misc-gleb"]
    anna = rows[0]
    assert (anna["segments"], anna["nps"], anna["pain/manual-reconciliation"], anna["pain/late-payments"], anna["pain/slow-reports"]) == ("smb", "9", "1", "1", "0")
    assert anna["h/pay-for-reconciliation"] == "1" and anna["respondent"]
    dan = rows[3]
    assert dan["segments"] == "enterprise;smb" or dan["segments"] == "smb;enterprise"
    assert rows[4]["nps"] == ""  # ent-carol-2 has no score
    # the matrix and the views agree: column sums are the prevalence counts
    counts = dict(view(built, "SELECT pain, interviews FROM pain_prevalence"))
    for pain, k in counts.items():
        assert sum(int(r[f"pain/{pain}"]) for r in rows) == k


def test_matrix_xlsx_reads_back_with_openpyxl(built, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "matrix.xlsx"
    data = cli_json(built, "matrix", "--out", str(out))
    assert data == {"format": "xlsx", "path": str(out), "interviews": 7, "codes": data["codes"]}
    ws = load_workbook(out, read_only=True)["matrix"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:7] == ("interview", "date", "respondent", "company", "segments", "nps", "pain/manual-reconciliation")
    assert len(rows) == 8 and rows[1][0] == "smb-anna" and rows[1][5] == 9 and rows[1][6] == 1
    csv_out = tmp_path / "m.csv"
    assert cli(built, "matrix", "--out", str(csv_out)).exit_code == 0
    assert csv_out.read_bytes().startswith("\ufeffinterview,".encode())


@pytest.mark.parametrize(
    "args, message",
    [
        (("matrix", "--format", "pdf"), "unknown matrix format 'pdf'; use csv or xlsx"),
        (("matrix", "--format", "xlsx"), "an XLSX matrix needs --out FILE.xlsx"),
        (("matrix", "--out", "/nonexistent-dir/m.csv"), "folder /nonexistent-dir does not exist"),
    ],
)
def test_matrix_bad_input_gives_one_line(built, args, message):
    from test_analysis import one_line_error

    one_line_error(cli(built, *args), message)


# --- journey and money (fixture README: "Journey" and "Money") -----------------------------------------------------


def test_journey_by_hand(built):
    data = cli_json(built, "journey")
    assert [(s["stage"], s["position"]) for s in data["stages"]] == [("onboarding", 1), ("billing", 2), ("reporting", 3)]
    billing = data["stages"][1]
    assert billing["scores"]["all"] == {"scored": 4, "mean_score": 7.25, "nps": 0.0}
    assert billing["scores"]["smb"] == {"scored": 3, "mean_score": 6.67, "nps": -33.3}
    assert billing["scores"]["enterprise"] == {"scored": 2, "mean_score": 9.5, "nps": 100.0}
    assert data["stages"][0]["scores"] == {"all": {"scored": 1, "mean_score": 3.0, "nps": -100.0}, "enterprise": {"scored": 1, "mean_score": 3.0, "nps": -100.0}}
    assert [p["pain"] for p in billing["pains"]] == ["manual-reconciliation", "late-payments"]
    manual = billing["pains"][0]["cells"]
    assert (manual["all"]["verdict"], manual["smb"]["verdict"], manual["enterprise"]["verdict"]) == ("systemic", "systemic", "unclear")
    assert manual["enterprise"]["more_interviews"] == 4
    assert [p["pain"] for p in data["stages"][2]["pains"]] == ["slow-reports", "export-limits"]
    text = cli(built, "journey").stdout
    assert "2. Billing" in text and "score 7.25" in text


def test_money_by_hand(built):
    data = cli_json(built, "pains")
    assert data["currency"] == "$"
    manual = next(p for p in data["pains"] if p["pain"] == "manual-reconciliation")
    total, *segs = manual["money"]
    assert total["segment"] is None
    assert (total["accounts"], total["revenue"]) == (pytest.approx(1000), pytest.approx(7.8e6))
    assert (total["accounts_low"], total["accounts_high"]) == (pytest.approx(391.92, abs=0.01), pytest.approx(1286.07, abs=0.01))
    assert (total["revenue_low"], total["revenue_high"]) == (pytest.approx(2590476.8, abs=1), pytest.approx(10737163.1, abs=1))
    smb = next(m for m in segs if m["segment"] == "smb")
    assert (smb["accounts"], smb["accounts_low"], smb["accounts_high"]) == (pytest.approx(900), pytest.approx(360.77, abs=0.01), pytest.approx(1145.30, abs=0.01))
    assert "agencies" not in {m["segment"] for m in segs}  # no interviews: no share to multiply
    text = cli(built, "pains").stdout
    assert "manual-reconciliation   1,000 (392–1,286)   $7.8M ($2.59M–$10.7M)" in text
    seg = cli_json(built, "pains", "--segment", "enterprise")
    assert [m["segment"] for m in seg["pains"][0]["money"]] == ["enterprise"]


@pytest.mark.parametrize(
    "codebook_edit, message",
    [
        (("- reporting\n", "- reportin\n"), "pain 'slow-reports': unknown stage 'reporting' (did you mean 'reportin'?)"),
        (("size: 150", "size: lots"), "segment 'enterprise': size must be a number of at least 0, not 'lots'"),
    ],
)
def test_bad_stages_and_sizes_give_one_line(own_base, codebook_edit, message):
    from test_analysis import one_line_error

    cb = own_base / "codebook.yml"
    cb.write_text(cb.read_text().replace(*codebook_edit))
    one_line_error(cli(own_base, "pains"), message)


def test_unknown_stage_in_an_interview_is_a_build_error(own_base):
    f = own_base / "interviews" / "smb-boris.md"
    f.write_text(f.read_text().replace("nps_by_stage: {billing: 6}", "nps_by_stage: {biling: 6}"))
    result = build_base(load_base(own_base))
    assert result.failed == 1 and "unknown stage 'biling' in nps_by_stage (did you mean 'billing'?)" in str(result.errors)


@pytest.mark.parametrize("which", ["built", "sample"])
def test_journey_and_money_in_python_equal_the_views(which, request):
    """The commands compute journey and money from rows already read; the views Datasette shows must agree."""
    from custdev import analysis as an
    from custdev.db import open_db

    base = request.getfixturevalue(which)
    db = open_db(base / "custdev.db")
    try:
        j = an.journey(db)
        got = {(st.stage, seg or None, p.pain): (c.interviews, c.scope_interviews, c.share, c.verdict, c.more_interviews)
               for st in j.stages for p in st.pains for seg, c in p.cells.items()}
        want = {(r[0], r[1], r[2]): tuple(r[3:]) for r in db.execute(
            "SELECT stage, segment, pain, interviews, scope_interviews, share, verdict, more_interviews FROM journey WHERE stage IS NOT NULL")}
        assert got == want
        money = an.pain_money(db)
        totals = {r[0]: r[1:] for r in db.execute("SELECT pain, accounts, accounts_low, accounts_high, revenue_at_risk, revenue_low, revenue_high FROM pain_money_total")}
        assert set(money) == set(totals)
        for pain, (total, *segs) in money.items():
            assert (total.accounts, total.accounts_low, total.accounts_high, total.revenue, total.revenue_low, total.revenue_high) == pytest.approx(totals[pain])
            per = {r[0]: r[1:] for r in db.execute("SELECT segment, accounts, revenue_at_risk FROM pain_money WHERE pain = ?", [pain])}
            assert {m.segment: (m.accounts, m.revenue) for m in segs} == {k: pytest.approx(v) for k, v in per.items()}
    finally:
        db.close()


@pytest.mark.parametrize("which", ["built", "sample"])
def test_cooccurrence_in_python_equals_the_view(which, request):
    from custdev import analysis as an
    from custdev.db import open_db

    base = request.getfixturevalue(which)
    db = open_db(base / "custdev.db")
    try:
        got = {(p.pain_a, p.pain_b): (p.together, p.interviews_a, p.interviews_b, p.jaccard) for p in an.cooccurrence(db).pairs}
        want = {(r[0], r[1]): tuple(r[2:]) for r in db.execute("SELECT pain_a, pain_b, together, interviews_a, interviews_b, jaccard FROM pain_cooccurrence")}
        assert got.keys() == want.keys()
        for k in want:
            assert got[k][:3] == want[k][:3] and got[k][3] == pytest.approx(want[k][3], abs=1e-12)
        assert [(r.segment, r.chao1_low, r.chao1_high) for r in an.pain_richness(db)] == [
            tuple(r) for r in db.execute("SELECT segment, chao1_low, chao1_high FROM pain_richness")]
    finally:
        db.close()
