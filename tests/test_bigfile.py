"""A very long interview file is read by two processes at once (custdev.bigfile): the rows are the ones reading it in
one go gives, errors included."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

import custdev.bigfile as bigfile
from custdev.prepare import prepare
from custdev.models import Codebook, CodebookEntry

LINES = [
    "Как вы выставляете счета? Каждый месяц сверяем выписку банка вручную.",
    "We chase late payments by e-mail, and ==half of the clients pay a month late== #pain/late-payments",
    "Второй абзац той же реплики.\n\nИ ещё один.",
    "Short answer.",
    "{?Maybe?} it was [inaudible] in ==March {?or April?}== #tag",
    "Short answer.",
]
CODEBOOK = Codebook(pains={"late-payments": CodebookEntry("late-payments", "Late payments")})


def _text(turns: int, rnd: random.Random, extra: dict[int, str] | None = None) -> str:
    parts = ["---\nid: big\ntitle: Big\nrespondent: Anna\nlanguage: en\n---\n", "Notes before the first turn.\n"]
    for n in range(turns):
        if extra and n in extra:
            parts.append(extra[n])
        t = n * 3 // 4
        who = rnd.choice(["Maria", "Anna", "Боб Иванов"])
        ts = f"[{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}] " if rnd.random() < 0.9 else ""
        parts.append(f"**{ts}{who}:** {rnd.choice(LINES)}\n")
        if rnd.random() < 0.02:
            parts.append("## A heading\n\nnotes under it\n")
    return "\n".join(parts)


def _rows(tmp_path: Path, text: str, split: bool):
    path = tmp_path / "interviews" / "big.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    p = prepare(tmp_path, path, "hash", CODEBOOK, split=split)
    return p.error, p.interview, p.utterances, p.quotes, p.turn_ids, p.quote_ids


@pytest.fixture
def small_split(monkeypatch):
    monkeypatch.setattr(bigfile, "SPLIT_BYTES", 10_000)


def test_split_reading_gives_the_same_rows(tmp_path, small_split, monkeypatch):
    used = []
    real = bigfile.read_split
    monkeypatch.setattr(bigfile, "read_split", lambda *a: used.append(r := real(*a)) or r)
    rnd = random.Random(4)
    for turns in (200, 1200):
        text = _text(turns, rnd)
        one, two = _rows(tmp_path, text, False), _rows(tmp_path, text, True)
        assert one[0] is None and one[2] and one == two
    assert used and all(r is not None for r in used)  # the split path was really taken


@pytest.mark.parametrize("where,extra", [
    (0.2, "**[00:00:01] Late:** too early\n"),  # a timestamp going back, in either part
    (0.8, "**[00:00:01] Late:** too early\n"),
    (0.8, "A ==highlight #pain/nope\n"),  # a bad paragraph in the later part
    (0.2, "**[00:00:00] X:** ==a== #pain/unknown\n"),
    (0.8, "- a list: markdown-it reads the file\n"),
    (0.2, "- a list: markdown-it reads the file\n"),
])
def test_split_reading_gives_the_same_errors(tmp_path, small_split, monkeypatch, where, extra):
    seen = []
    real = bigfile.read_split

    def spy(*args):
        try:
            seen.append(real(*args))
        except Exception as exc:
            seen.append(exc)
            raise
        return seen[-1]

    monkeypatch.setattr(bigfile, "read_split", spy)
    rnd = random.Random(7)
    text = _text(400, rnd, {int(400 * where): extra})
    one, two = _rows(tmp_path, text, False), _rows(tmp_path, text, True)
    assert one == two and (one[0] is not None or extra.startswith("- "))
    assert (seen[0] is None) == extra.startswith("- ")  # split, or handed back to markdown-it


def test_split_reading_reports_bad_front_matter_like_one_go(tmp_path, small_split):
    text = _text(300, random.Random(1)).replace("title: Big", "title: [Big", 1)
    one, two = _rows(tmp_path, text, False), _rows(tmp_path, text, True)
    assert one[0] and one == two
