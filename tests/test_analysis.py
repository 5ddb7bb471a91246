"""Evidence analysis on a hand-computed fixture base (tests/fixtures/analysis_base/README.md has the arithmetic).

The base is built with the real build, the numbers are read back from the SQL views and through the CLI.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from custdev import analysis as an
from custdev.build import build_base
from custdev.cli import app
from custdev.config import init_base, load_base

FIXTURE = Path(__file__).parent / "fixtures" / "analysis_base"
runner = CliRunner()

# (pain, interviews, share, ci_low, ci_high, quotes, verdict), N = 7: hand-computed, see the fixture README.
# Only manual-reconciliation's whole interval clears 30%; every other interval straddles it: unclear.
EXPECTED_PAINS = [
    ("manual-reconciliation", 5, 5 / 7, 0.3589, 0.9178, 6, "systemic"),
    ("late-payments", 3, 3 / 7, 0.1582, 0.7495, 3, "unclear"),
    ("slow-reports", 2, 2 / 7, 0.0822, 0.6411, 2, "unclear"),
    ("onboarding-confusion", 1, 1 / 7, 0.0257, 0.5131, 1, "unclear"),
    ("export-limits", 0, 0.0, 0.0, 0.3543, 0, "unclear"),
]
# more interviews that would settle each unclear verdict if the share held: n* = z²·t(1−t)/(p−t)², see the README
EXPECTED_MORE = {"manual-reconciliation": None, "late-payments": 42, "slow-reports": 3946, "onboarding-confusion": 26, "export-limits": 2}


def make_base(dest: Path) -> Path:
    shutil.copytree(FIXTURE, dest)
    result = build_base(load_base(dest))
    assert result.failed == 0, result.errors
    assert result.total == 7
    return dest


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """One built copy for the read-only tests of this module."""
    return make_base(tmp_path_factory.mktemp("analysis") / "base")


@pytest.fixture
def own_base(tmp_path) -> Path:
    """A private built copy, for tests that change the config or the interviews."""
    return make_base(tmp_path / "base")


def cli(base: Path, *args: str):
    return runner.invoke(app, [*args, "--base", str(base)], env={"TERMINAL_WIDTH": "160", "NO_COLOR": "1"})


def cli_json(base: Path, *args: str):
    result = cli(base, *args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def view(base: Path, sql: str, params=()):
    conn = sqlite3.connect(base / "custdev.db")
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def one_line_error(result, text: str) -> None:
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ") and text in lines[0], lines[0]


# --- statistics -------------------------------------------------------------------------------------------------


def test_wilson_interval_matches_published_values():
    # 5/7: p = .714286, z²/n = .548780, centre (p + z²/2n) = .988676, z·sqrt(p(1-p)/n + z²/4n²) = .432766,
    # so (.988676 ∓ .432766) / 1.548780 = .358935 … .917783 (worked by hand; 0/7 likewise)
    assert an.wilson_interval(5, 7) == pytest.approx((0.35893, 0.91778), abs=1e-5)
    assert an.wilson_interval(0, 7) == pytest.approx((0.0, 0.35433), abs=1e-5)
    assert an.wilson_interval(10, 10)[1] == pytest.approx(1.0) and an.wilson_interval(10, 10)[1] <= 1.0
    assert an.wilson_interval(0, 0) == (None, None)


def test_nps_and_hypothesis_rules():
    assert an.nps_score([9, 6, 10, 7, 3, 10]) == 16.7
    assert an.nps_score([]) is None
    # 3 for, 1 against: share for 3/4, Wilson 30.1–95.4% straddles 50%: unclear; n* = z²/4/(.75−.5)² = 15.37 → 16,
    # and 16 ≥ m / .75 = 4: 12 more interviews with evidence
    assert an.hypothesis_status(3, 1) == "unclear" and an.hypothesis_more(3, 1) == 12
    assert an.hypothesis_status(4, 0) == "supported"  # 4/4: Wilson 51.0–100%, wholly above 50%
    assert an.hypothesis_status(3, 0) == "unclear" and an.hypothesis_more(3, 0) == 1  # 3/3: 43.9–100%; at 4 it settles
    assert an.hypothesis_status(0, 4) == "refuted"
    assert an.hypothesis_status(4, 0, min_interviews=5) == "unclear"  # the minimum still applies
    assert an.hypothesis_status(1, 1) == "unclear" and an.hypothesis_more(1, 1) is None  # a 50/50 split never settles
    assert an.hypothesis_status(0, 0) == "unclear" and an.hypothesis_more(0, 0) is None


def test_three_outcome_verdicts_and_more_interviews_by_hand():
    # 3/7 = .4286 at t = .30: n* = 1.959964² · .3 · .7 / (.4286 − .3)² = .806707 / .016531 = 48.80 → 49, i.e. 42 more
    assert an.verdict(3, 7, 0.30) == "unclear" and an.more_interviews(3, 7, 0.30) == 42
    # 0/7: upper bound 35.4% ≥ 30%: unclear; n* = .806707 / .09 = 8.96, local needs n > n*: 9, i.e. 2 more
    assert an.verdict(0, 7, 0.30) == "unclear" and an.more_interviews(0, 7, 0.30) == 2
    assert an.wilson_interval(0, 9)[1] < 0.30 and an.verdict(0, 9, 0.30) == "local"
    # the examples: 1 of 3 is 6.1–79.2%, 1 of 2 is 9.5–90.5%: neither may be called systemic
    assert an.verdict(1, 3, 0.30) == "unclear" and an.wilson_interval(1, 3) == pytest.approx((0.0615, 0.7923), abs=1e-4)
    assert an.verdict(1, 2, 0.30) == "unclear" and an.wilson_interval(1, 2) == pytest.approx((0.0945, 0.9055), abs=1e-4)
    assert an.verdict(5, 7, 0.30) == "systemic" and an.more_interviews(5, 7, 0.30) is None
    assert an.verdict(3, 10, 0.30) == "unclear" and an.more_interviews(3, 10, 0.30) is None  # p = t: never settles
    assert an.verdict(0, 0, 0.30) is None
    # the estimate is right: at n* interviews with the same share, the verdict settles, one fewer does not
    for k, n in ((3, 7), (1, 7), (2, 4), (0, 4)):
        more = an.more_interviews(k, n, 0.30)
        p = k / n
        for extra, settled in ((more, True), (more - 1, False)):
            lo, hi = an.wilson_interval(p * (n + extra), n + extra) if extra else an.wilson_interval(k, n)
            assert (lo >= 0.30 or hi < 0.30) is settled, (k, n, extra)


# --- the views --------------------------------------------------------------------------------------------------


def test_pain_prevalence_view_holds_the_hand_computed_numbers(built):
    rows = view(built, "SELECT pain, interviews, total_interviews, share, ci_low, ci_high, quotes, verdict, more_interviews FROM pain_prevalence ORDER BY share DESC, pain")
    assert [(r[0], r[1], r[2], r[6], r[7]) for r in rows] == [(p, k, 7, q, v) for p, k, _s, _l, _h, q, v in EXPECTED_PAINS]
    assert {r[0]: r[8] for r in rows} == EXPECTED_MORE
    for r in rows:  # SQL and Python agree on the verdict and the estimate
        assert (r[7], r[8]) == (an.verdict(r[1], r[2], 0.30), an.more_interviews(r[1], r[2], 0.30))
    for row, exp in zip(rows, EXPECTED_PAINS):
        assert row[3] == pytest.approx(exp[2])
        assert row[4] == pytest.approx(exp[3], abs=1e-4) and row[5] == pytest.approx(exp[4], abs=1e-4)
        assert (row[4], row[5]) == pytest.approx(an.wilson_interval(row[1], row[2]))  # SQL and Python agree


def test_a_pain_mentioned_twice_in_one_interview_counts_once(built):
    # smb-anna codes manual-reconciliation on two quotes: one interview, two quotes
    assert view(built, "SELECT quotes FROM interview_pains WHERE interview_id = 'smb-anna' AND pain = 'manual-reconciliation'") == [(2,)]
    assert view(built, "SELECT interviews, quotes FROM pain_prevalence WHERE pain = 'manual-reconciliation'") == [(5, 6)]


def test_pain_by_segment_counts_two_segment_interviews_in_both_and_keeps_empty_segments(built):
    rows = {(r[0], r[1]): r[2:] for r in view(built, "SELECT segment, pain, interviews, segment_interviews, share, verdict FROM pain_by_segment")}
    assert len(rows) == 3 * 5  # every segment x every pain, zeros included
    # ent-dan is in smb and enterprise: its manual-reconciliation counts in both
    assert rows[("smb", "manual-reconciliation")] == (3, 4, 0.75, "systemic")
    assert rows[("enterprise", "manual-reconciliation")][:2] == (2, 3)
    assert rows[("smb", "slow-reports")] == (1, 4, 0.25, "unclear")
    assert rows[("enterprise", "onboarding-confusion")][3] == "unclear"  # 1/3 is 33% but its interval is 6–79%
    assert rows[("smb", "onboarding-confusion")] == (0, 4, 0.0, "unclear")  # 0/4: 0–49%
    assert rows[("agencies", "manual-reconciliation")] == (0, 0, None, None)  # empty segment: no share, no division


def test_nps_views(built):
    rows = {r[0]: r[1:] for r in view(built, "SELECT segment, scored, promoters, passives, detractors, nps, interviews, respondents FROM nps_by_segment")}
    assert rows["smb"] == (4, 1, 1, 2, -25.0, 4, 4)
    assert rows["enterprise"] == (2, 1, 1, 0, 50.0, 3, 2)  # ent-carol-2 has no score; Carol was interviewed twice
    assert rows["agencies"] == (0, 0, 0, 0, None, 0, 0)
    assert view(built, "SELECT scored, promoters, passives, detractors, nps, interviews, respondents FROM nps_overall") == [(6, 3, 1, 2, 16.7, 7, 6)]


def test_migrated_empty_db_has_the_views_with_the_promised_columns(tmp_path):
    from custdev.db import open_db

    db = open_db(tmp_path / "x.db")
    cols = {name: [c.name for c in db[name].columns] for name in ("pain_prevalence", "pain_by_segment", "nps_by_segment")}
    assert cols["pain_prevalence"][:7] == ["pain", "title", "stage", "interviews", "total_interviews", "share", "quotes"]
    assert {"ci_low", "ci_high", "verdict"} <= set(cols["pain_prevalence"])
    assert cols["pain_by_segment"][:7] == ["segment", "segment_title", "pain", "pain_title", "interviews", "segment_interviews", "share"]
    assert cols["nps_by_segment"][:7] == ["segment", "segment_title", "scored", "promoters", "passives", "detractors", "nps"]
    plan = " ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN SELECT * FROM pain_prevalence"))
    assert "idx_quote_pains_pain_quote" in plan or "COVERING INDEX" in plan


# --- the commands -----------------------------------------------------------------------------------------------


def test_pains_command_prints_the_view_numbers(built):
    result = cli(built, "pains")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "7 interviews" in lines[0] and "30%" in lines[0]
    row = next(line for line in lines if line.strip().startswith("manual-reconciliation"))
    assert row.split()[1:6] == ["5/7", "71.4%", "35.9–91.8%", "6", "systemic"]
    order = [line.split()[0] for line in lines if line.strip().split()[:1] and line.split()[0] in {p[0] for p in EXPECTED_PAINS} and "/7" in line]
    assert order == [p[0] for p in EXPECTED_PAINS]  # sorted by share
    by_segment = next(line for line in lines[lines.index(row) + 1 :] if line.strip().startswith("manual-reconciliation"))
    assert by_segment.split()[1:] == ["75.0%", "3/4", "66.7%", "2/3", "—"]


def test_pains_json_matches_the_views(built):
    data = cli_json(built, "pains")
    assert data["total_interviews"] == 7 and data["systemic_threshold"] == 0.3
    got = [(p["pain"], p["interviews"], p["quotes"], p["verdict"]) for p in data["pains"]]
    assert got == [(p, k, q, v) for p, k, _s, _l, _h, q, v in EXPECTED_PAINS]
    dbrows = {r[0]: r[1:] for r in view(built, "SELECT pain, share, ci_low, ci_high FROM pain_prevalence")}
    for p in data["pains"]:
        assert (p["share"], p["ci_low"], p["ci_high"]) == dbrows[p["pain"]]
    seg = data["pains"][0]["segments"]
    assert seg["smb"]["interviews"] == 3 and seg["agencies"]["share"] is None


def test_pains_in_one_segment_and_one_pain_across_segments(built):
    data = cli_json(built, "pains", "--segment", "smb")
    assert data["segment"] == "smb" and data["total_interviews"] == 4
    assert [(p["pain"], p["interviews"], p["verdict"], p["more_interviews"]) for p in data["pains"][:3]] == [
        ("manual-reconciliation", 3, "systemic", None), ("late-payments", 2, "unclear", 17), ("slow-reports", 1, "unclear", 319),
    ]  # 3/4: Wilson 30.06–95.4%, just clears 30%
    assert data["pains"][0]["quotes"] == 4  # anna 2 + boris 1 + dan 1
    one = cli(built, "pains", "--pain", "late-payments")
    assert one.exit_code == 0
    assert "3 of 7 interviews, 42.9%, unclear +42" in one.stdout
    assert [line.split()[-6:] for line in one.stdout.splitlines() if line.strip().startswith("Small businesses")] == [
        ["2/4", "50.0%", "15.0–85.0%", "2", "unclear", "+17"]  # n* = .806707/.04 = 20.2 → 21 of smb: 17 more
    ]


def test_segments_command(built):
    data = cli_json(built, "segments")
    segs = {s["segment"]: s for s in data["segments"]}
    assert [s["segment"] for s in data["segments"]] == ["smb", "enterprise", "agencies"]  # codebook order
    assert (segs["smb"]["interviews"], segs["smb"]["respondents"], segs["smb"]["nps"]) == (4, 4, -25.0)
    assert (segs["enterprise"]["interviews"], segs["enterprise"]["respondents"], segs["enterprise"]["nps"]) == (3, 2, 50.0)
    assert [p["pain"] for p in segs["enterprise"]["top_pains"]] == ["manual-reconciliation", "late-payments", "onboarding-confusion"]
    assert segs["agencies"] | {"top_pains": []} == segs["agencies"] and segs["agencies"]["nps"] is None
    assert data["all"]["nps"] == 16.7 and data["all"]["respondents"] == 6
    table = cli(built, "segments").stdout
    assert "NPS +16.7" in table and "-25.0" in table and "+50.0" in table


def test_saturation_overall_and_per_segment(built):
    data = cli_json(built, "saturation")
    assert [(s["interview_id"], len(s["new_pains"]), s["cumulative_pains"]) for s in data["interviews"]] == [
        ("smb-anna", 2, 2), ("smb-boris", 1, 3), ("ent-carol", 1, 4), ("ent-dan", 0, 4),
        ("ent-carol-2", 0, 4), ("smb-fedor", 0, 4), ("misc-gleb", 0, 4),
    ]
    assert data["saturated"] is True and data["window"] == 3
    assert cli_json(built, "saturation", "--window", "5")["saturated"] is False  # ent-carol added one 5 interviews ago
    smb = cli_json(built, "saturation", "--segment", "smb")
    assert [len(s["new_pains"]) for s in smb["interviews"]] == [2, 1, 0, 0] and smb["saturated"] is False
    ent = cli_json(built, "saturation", "--segment", "enterprise")
    assert ent["saturated"] is False and "needs more than 3" in ent["reason"]
    text = cli(built, "saturation").stdout
    assert "Saturated: the last 3 interviews added no new pain" in text


def test_hypotheses_command(built):
    data = {h["hypothesis"]: h for h in cli_json(built, "hypotheses")}
    pay = data["pay-for-reconciliation"]
    assert (pay["interviews_for"], pay["interviews_against"], pay["quotes_for"], pay["evidence"], pay["status"], pay["more_interviews"]) == (3, 1, 4, 4, "unclear", 12)
    assert (pay["ci_low"], pay["ci_high"]) == pytest.approx((0.3006, 0.9544), abs=1e-4)  # 3 of 4 straddles 50%
    assert (data["self-serve-onboarding"]["status"], data["self-serve-onboarding"]["more_interviews"]) == ("unclear", 12)
    acc = data["accountant-channel"]
    assert (acc["interviews_for"], acc["interviews_against"], acc["status"], acc["more_interviews"]) == (1, 1, "unclear", None)
    assert view(built, "SELECT status, evidence, more_interviews FROM hypothesis_evidence WHERE hypothesis = 'self-serve-onboarding'") == [("unclear", 4, 12)]
    for h in data.values():  # the view and the Python rule agree
        assert h["status"] == an.hypothesis_status(h["interviews_for"], h["interviews_against"])
        assert h["more_interviews"] == an.hypothesis_more(h["interviews_for"], h["interviews_against"])
    text = cli(built, "hypotheses").stdout
    assert "unclear +12" in text


def test_threshold_and_window_come_from_the_config_and_reach_the_views(own_base):
    toml = own_base / "custdev.toml"
    toml.write_text(toml.read_text().replace("systemic_threshold = 0.30", "systemic_threshold = 0.15").replace("saturation_window = 3", "saturation_window = 5"))
    smb = {p["pain"]: p["verdict"] for p in cli_json(own_base, "pains", "--segment", "smb")["pains"]}
    assert smb["late-payments"] == "systemic"  # 2/4: Wilson lower bound 15.004% ≥ 15%
    assert view(own_base, "SELECT verdict FROM pain_by_segment WHERE segment = 'smb' AND pain = 'late-payments'") == [("systemic",)]
    assert view(own_base, "SELECT systemic_threshold, saturation_window FROM analysis_settings") == [(0.15, 5)]
    assert cli_json(own_base, "saturation")["saturated"] is False


def test_numbers_follow_the_interviews_after_a_rebuild(own_base):
    (own_base / "interviews" / "misc-gleb.md").unlink()
    build_base(load_base(own_base))
    data = cli_json(own_base, "pains")
    assert data["total_interviews"] == 6
    assert (data["pains"][0]["pain"], data["pains"][0]["interviews"]) == ("manual-reconciliation", 4)
    assert cli_json(own_base, "segments")["all"]["nps"] == 0.0  # 9, 6, 10, 7, 3: 2 promoters - 2 detractors


# --- bad input --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (("pains", "--segment", "smbb"), "unknown segment 'smbb' (did you mean 'smb'?)"),
        (("pains", "--pain", "late-payment"), "unknown pain 'late-payment' (did you mean 'late-payments'?)"),
        (("saturation", "--segment", "enterprize"), "unknown segment 'enterprize' (did you mean 'enterprise'?)"),
        (("pains", "--segment", "agencies"), "segment 'agencies' has no interviews yet"),
        (("saturation", "--segment", "agencies"), "segment 'agencies' has no interviews yet"),
        (("report", "--segment", "smbb"), "unknown segment 'smbb' (did you mean 'smb'?)"),
    ],
)
def test_unknown_or_empty_slugs_give_one_line(built, args, message):
    one_line_error(cli(built, *args), message)


@pytest.mark.parametrize("command", ["pains", "segments", "saturation", "hypotheses", "report"])
def test_an_empty_base_gives_a_helpful_line_not_a_division_by_zero(tmp_path, command):
    root, _ = init_base(tmp_path / "empty")
    one_line_error(cli(root, command), "has no database yet; run 'custdev build' first")
    build_base(load_base(root))
    one_line_error(cli(root, command), "the base has no interviews yet; add markdown files to interviews/ and run 'custdev build'")


def test_every_analysis_command_has_help():
    for name in ("pains", "segments", "saturation", "hypotheses", "report"):
        result = runner.invoke(app, [name, "--help"], env={"TERMINAL_WIDTH": "120", "NO_COLOR": "1"})
        assert result.exit_code == 0
        assert "--json" in result.stdout and "--base" in result.stdout
        assert len(result.stdout.split("Usage:")[1].splitlines()[2].strip()) > 20  # a real description
