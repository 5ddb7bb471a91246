"""The README stays true: generated sections are current and its examples parse."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from custdev.config import load_codebook
from custdev.markdown import parse_interview

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")


def test_generated_sections_are_up_to_date():
    env = {**os.environ, "TERMINAL_WIDTH": "100", "NO_COLOR": "1"}
    result = subprocess.run([sys.executable, "-m", "cogapp", "--check", "README.md"], cwd=REPO, capture_output=True, text=True, env=env)
    assert result.returncode == 0, f"README.md is out of date: run `cog -r README.md`\n{result.stdout}{result.stderr}"


def test_interview_example_parses_against_the_sample_codebook():
    block = re.search(r"```markdown\n(.*?)```", README, re.S).group(1)
    iv = parse_interview(block, "interviews/example.md", load_codebook(REPO / "codebook.yml"))
    assert iv.id == "2026-02-10-anna-petrova" and iv.segments == ["smb-owners"]
    speakers = [t.speaker for t in iv.turns]
    assert speakers == ["Мария", "Анна"]
    assert [q.pains for q in iv.turns[1].quotes] == [["manual-reconciliation"], ["late-payments"]]
    assert iv.turns[1].quotes[1].hypotheses == [("payment-reminders", "for")]


def test_codebook_example_uses_real_sample_slugs():
    block = re.search(r"```yaml\n(.*?)```", README, re.S).group(1)
    cb = load_codebook(REPO / "codebook.yml")
    for slug in re.findall(r"slug: ([\w-]+)", block):
        assert slug in cb.segments or slug in cb.pains or slug in cb.hypotheses, slug


def test_quick_start_scripts_exist_and_ci_calls_the_test_command():
    assert "./scripts/demo" in README and "./scripts/test" in README
    assert os.access(REPO / "scripts" / "test", os.X_OK) and os.access(REPO / "scripts" / "demo", os.X_OK)
    assert "./scripts/test" in (REPO / ".ci" / "run").read_text()
