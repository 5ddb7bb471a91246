"""``custdev sample``: a reproducible stratified sample of a call archive, and archive intervals (FPC)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from custdev.analysis import wilson_interval
from custdev.cli import app
from custdev.sampling import allocate, wilson_fpc

runner = CliRunner()

CODEBOOK = """\
segments:
  - slug: smb
    title: Small businesses
  - slug: mid
    title: Mid-market
  - slug: ent
    title: Enterprise
pains:
  - slug: late-payments
    title: Customers pay late
hypotheses: []
"""

SIZES = {"smb": 15, "mid": 9, "ent": 6}  # 30 calls; every third call complains about late payments


def call(i: int, agent: str) -> str:
    pain = " ==They pay us weeks late.== #pain/late-payments" if i % 3 == 0 else " Everything is fine."
    return (f"---\ntitle: Call {i}\ndate: 2026-0{1 + i % 3}-1{i % 10}\ninterviewer: {agent}\nrespondent: Caller {i}\n---\n\n"
            f"**[00:00:01] {agent}:** How are payments going?\n\n**[00:00:04] Caller {i}:** Let me think.{pain}\n")


@pytest.fixture
def archive(tmp_path) -> Path:
    folder = tmp_path / "calls"
    folder.mkdir()
    rows = ["file,segment,agent,date"]
    i = 0
    for seg, size in SIZES.items():
        for _ in range(size):
            i += 1
            agent = ("Olga", "Ivan")[i % 2]
            name = f"2026-0{1 + i % 3}-10-call-{i:02d}.md"
            (folder / name).write_text(call(i, agent), encoding="utf-8")
            rows.append(f"{name},{seg},{agent},2026-0{1 + i % 3}-10")
    (folder / "metadata.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def base(empty_base) -> Path:
    (empty_base / "codebook.yml").write_text(CODEBOOK, encoding="utf-8")
    return empty_base


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


# -- the pure parts, against hand-computed values --------------------------------------------------------------


def test_allocation_is_proportional_with_largest_remainders():
    # quotas 3.5, 2.1, 1.4 -> floors 3, 2, 1 (6 seats); the 7th goes to the largest remainder (a: .5)
    assert allocate({"a": 50, "b": 30, "c": 20}, 7) == {"a": 4, "b": 2, "c": 1}
    # equal remainders (2/3 each): ties go to the larger stratum, then the name
    assert allocate({"b": 1, "a": 1, "c": 1}, 2) == {"a": 1, "b": 1, "c": 0}
    assert allocate({"x": 5, "y": 10}, 15) == {"x": 5, "y": 10}
    # 10 of 30 from 15/9/6: quotas 5, 3, 2 exactly
    assert allocate(SIZES, 10) == {"smb": 5, "mid": 3, "ent": 2}


def test_finite_population_correction_by_hand():
    # 5 of 10 sampled from an archive of 20: n' = 10 * 19 / 10 = 19, Wilson at p = .5 with n = 19:
    # centre .5, half = 1.96 * sqrt(.25/19 + 1.96²/(4 * 19²)) / (1 + 1.96²/19) = 0.20505
    lo, hi = wilson_fpc(5, 10, 20)
    assert lo == pytest.approx(0.29495, abs=1e-4) and hi == pytest.approx(0.70505, abs=1e-4)
    # without the correction the interval is wider (Wilson with n = 10: 23.7%–76.3%)
    plain = wilson_interval(5, 10)
    assert plain[0] == pytest.approx(0.2366, abs=1e-4) and lo > plain[0]
    assert wilson_fpc(5, 10, None) == plain
    # a census has no sampling error; a huge archive is the plain interval
    assert wilson_fpc(3, 10, 10) == (0.3, 0.3)
    big = wilson_fpc(3, 10, 10**9)
    assert big == pytest.approx(wilson_interval(3, 10), abs=1e-6)
    # 2 of 50 from 1,000: n' = 50 * 999 / 950 = 52.58
    n_eff = 50 * 999 / 950
    assert wilson_fpc(2, 50, 1000) == pytest.approx(wilson_interval(0.04 * n_eff, n_eff))
    assert math.isclose(n_eff, 52.578947, rel_tol=1e-6)


# -- the command ------------------------------------------------------------------------------------------------


def test_sample_is_reproducible_by_seed_and_stratified(base, archive):
    a = run("sample", archive, "--n", "10", "--by", "segment", "--seed", "7", "--dry-run", "--json", "--base", base)
    assert a.exit_code == 0, a.output
    b = run("sample", archive, "--n", "10", "--by", "segment", "--seed", "7", "--dry-run", "--json", "--base", base)
    c = run("sample", archive, "--n", "10", "--by", "segment", "--seed", "8", "--dry-run", "--json", "--base", base)
    drawn = json.loads(a.stdout)["sample"]
    assert drawn["files"] == json.loads(b.stdout)["sample"]["files"]
    assert drawn["files"] != json.loads(c.stdout)["sample"]["files"]
    assert drawn["archive_size"] == 30 and drawn["n"] == 10 and drawn["seed"] == 7
    assert drawn["strata"] == {"ent": {"archive": 6, "sample": 2}, "mid": {"archive": 9, "sample": 3}, "smb": {"archive": 15, "sample": 5}}
    got = {}
    for f in drawn["files"]:
        got[f["stratum"]] = got.get(f["stratum"], 0) + 1
    assert got == {"smb": 5, "mid": 3, "ent": 2}
    assert not (base / "sample.json").exists() and not list((base / "interviews").glob("*.md"))  # --dry-run


def test_sample_imports_only_the_draw_and_pains_estimate_the_archive(base, archive):
    result = run("sample", archive, "--n", "12", "--by", "segment", "--seed", "3", "--base", base)
    assert result.exit_code == 0, result.output
    assert "Drew 12 of 30 files" in result.stdout and "seed 3" in result.stdout
    assert "12 imported, 0 already there, 0 failed; custdev.db: 12 interviews" in result.stdout
    record = json.loads((base / "sample.json").read_text())
    assert record["archive_size"] == 30 and len(record["files"]) == 12 and all(f["sha256"] for f in record["files"])
    imported = sorted(p.name for p in (base / "interviews").glob("*.md"))
    assert imported == sorted(Path(f["file"]).name for f in record["files"])
    # each interview is in its stratum's segment
    text = (base / "interviews" / Path(record["files"][0]["file"]).name).read_text()
    assert f"- {record['files'][0]['stratum']}" in text or f"[{record['files'][0]['stratum']}]" in text

    pains = run("pains", "--json", "--base", base)
    assert pains.exit_code == 0, pains.output
    data = json.loads(pains.stdout)
    assert data["archive"]["corrected"] and data["archive"]["archive_size"] == 30
    late = next(p for p in data["pains"] if p["pain"] == "late-payments")
    k, n = late["interviews"], late["total_interviews"]
    assert n == 12 and k >= 1
    assert (late["ci_low"], late["ci_high"]) == pytest.approx(wilson_fpc(k, 12, 30))
    assert late["ci_high"] - late["ci_low"] < wilson_interval(k, 12)[1] - wilson_interval(k, 12)[0]
    for p in data["pains"]:  # verdicts follow the archive interval
        assert p["verdict"] == ("systemic" if p["ci_low"] >= 0.3 - 1e-12 else "local" if p["ci_high"] < 0.3 - 1e-12 else "unclear")
    # a segment's interval uses that stratum's size (12 of 30: quotas 6, 3.6, 2.4 -> smb 6 of its 15)
    smb = late["segments"]["smb"]
    assert smb["segment_interviews"] == 6
    assert (smb["ci_low"], smb["ci_high"]) == pytest.approx(wilson_fpc(smb["interviews"], 6, 15))
    shown = run("pains", "--base", base)
    assert "Archive estimate: a sample of 12 of the 30 recordings" in shown.stdout

    # run again without a seed: the same draw, nothing imported twice
    again = run("sample", archive, "--n", "12", "--by", "segment", "--base", base)
    assert again.exit_code == 0, again.output
    assert "the same draw as before (seed 3)" in again.stderr
    assert "0 imported, 12 already there" in again.stdout

    # an interview from outside the sample: intervals are no longer archive estimates, and the CLI says so
    extra = archive.parent / "walk-in.md"
    extra.write_text(call(99, "Olga"), encoding="utf-8")
    assert run("import", extra, "--base", base, "--quiet").exit_code == 0
    data = json.loads(run("pains", "--json", "--base", base).stdout)
    assert data["archive"]["corrected"] is False and "1 of the 13 interviews are not from the sample" in data["archive"]["note"]
    late = next(p for p in data["pains"] if p["pain"] == "late-payments")
    assert (late["ci_low"], late["ci_high"]) == pytest.approx(wilson_interval(late["interviews"], 13))


def test_sample_by_month_and_agent(base, archive):
    by_agent = run("sample", archive, "--n", "6", "--by", "agent", "--seed", "1", "--dry-run", "--json", "--base", base)
    assert json.loads(by_agent.stdout)["sample"]["strata"] == {"Ivan": {"archive": 15, "sample": 3}, "Olga": {"archive": 15, "sample": 3}}
    (archive / "metadata.csv").unlink()  # month falls back to the date in the file name
    by_month = run("sample", archive, "--n", "6", "--by", "month", "--seed", "1", "--dry-run", "--json", "--base", base)
    assert by_month.exit_code == 0, by_month.output
    assert json.loads(by_month.stdout)["sample"]["strata"] == {
        "2026-01": {"archive": 10, "sample": 2}, "2026-02": {"archive": 10, "sample": 2}, "2026-03": {"archive": 10, "sample": 2}}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--by", "segment"], "metadata.csv: no metadata CSV (--by segment needs one; see --metadata)"),
        (["--by", "colour"], "--by colour: use one of segment, agent, month"),
        (["--n", "0"], "Invalid value for '--n'"),
    ],
)
def test_sample_bad_input_is_one_line(base, archive, args, message):
    (archive / "metadata.csv").unlink()
    result = run("sample", archive, *args, "--base", base)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_sample_metadata_without_the_column(base, archive):
    (archive / "meta2.csv").write_text("file,region\nx.md,north\n", encoding="utf-8")
    result = run("sample", archive, "--by", "agent", "--metadata", archive / "meta2.csv", "--base", base)
    assert result.exit_code == 1
    assert result.stderr.strip().endswith("--by agent needs a 'agent' column in the metadata CSV")
