"""Recall and precision of finding third-party names (people nobody listed in the base), per language.

    python bench/ner_bench.py

On tests/data/ner/{ru,en}.jsonl (written by bench/make_ner_sets.py). Counted per word: a name word is found when a
redaction span covers it (recall); a redacted word is right when it is part of a name (precision). Two rows per
language: the named-entity model alone, and the whole redactor (model + name dictionary + neighbours of names),
which is what `custdev publish --redact` runs. Placeholder labels and contact details are not counted.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "ner"
WORD = re.compile(r"\w+")


def load(lang: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / f"{lang}.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]


def gold_words(row: dict) -> set[tuple[int, int]]:
    out: set[tuple[int, int]] = set()
    text = row["text"]
    for name in row["names"]:
        at = text.find(name)
        assert at >= 0, (name, text)
        out |= {(at + m.start(), at + m.end()) for m in WORD.finditer(name)}
    return out


def score(rows: list[dict], find) -> dict:
    tp = fn = fp = 0
    for row in rows:
        text = row["text"]
        gold = gold_words(row)
        spans = [(s, e) for s, e, kind in find(text) if kind in ("name", "company")]
        words = {(m.start(), m.end()) for m in WORD.finditer(text)}
        hit = {w for w in words if any(s <= w[0] and w[1] <= e for s, e in spans)}
        tp += len(gold & hit)
        fn += len(gold - hit)
        fp += len(hit - gold)
    return {"recall": tp / (tp + fn) if tp + fn else 1.0, "precision": tp / (tp + fp) if tp + fp else 1.0,
            "name_words": tp + fn, "found": tp, "missed": fn, "wrong": fp}


def measure() -> dict:
    from custdev.privacy import ner
    from custdev.privacy.redactor import Redactor

    redactor = Redactor.for_names([], [])
    out = {}
    for lang, model in (("ru", ner.russian_entities), ("en", ner.english_entities)):
        rows = load(lang)
        t0 = time.perf_counter()
        out[lang] = {
            "sentences": len(rows),
            "model": score(rows, model),
            "redactor": score(rows, redactor.find),
        }
        out[lang]["seconds"] = round(time.perf_counter() - t0, 1)
    out["english_model"] = ner.english_available()
    return out


def main() -> None:
    import os

    print(f"load average {os.getloadavg()[0]:.1f}")
    result = measure()
    for lang in ("ru", "en"):
        r = result[lang]
        for what in ("model", "redactor"):
            s = r[what]
            print(f"{lang} {what:<9} recall {s['recall']:.1%}  precision {s['precision']:.1%}  "
                  f"({s['found']}/{s['name_words']} name words found, {s['wrong']} other words redacted; {r['sentences']} sentences)")
    if not result["english_model"]:
        print("English model not installed (pip install 'custdev[english-ner]'): English figures are without it.")


if __name__ == "__main__":
    main()
