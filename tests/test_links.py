"""Permanent links: quote and turn ids survive rebuilds, edits elsewhere in the file and inserted turns."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from custdev import links
from custdev.build import build_base
from custdev.config import load_base


def rows(base: Path, sql: str, params=()) -> list[tuple]:
    conn = sqlite3.connect(base / "custdev.db")
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def ids(base: Path, table: str) -> dict[int, tuple[str, str]]:
    return {i: (iid, text) for i, iid, text in rows(base, f"SELECT id, interview_id, text FROM {table}")}


def test_ids_come_from_the_interview_and_the_text_not_row_order():
    a = links.derived_ids("iv", "quote", ["one", "two", "one"])
    assert len(set(a)) == 3  # a repeated text gets its own id
    assert links.derived_ids("iv", "quote", ["zero", "one", "two", "one"])[1:] == a  # an insertion above changes nothing
    assert links.derived_id("iv", "quote", "one  text") == links.derived_id("iv", "quote", "one text")
    assert links.derived_id("iv", "quote", "x") != links.derived_id("iv", "turn", "x") != links.derived_id("other", "quote", "x")
    assert all(0 < i < 2**52 for i in a)
    assert len({i >> links.TEXT_BITS for i in a}) == 1  # one interview, one id range (fast search within it)


def test_every_url_survives_edits_elsewhere_an_inserted_turn_and_a_full_rebuild(sample_base):
    b = load_base(sample_base)
    assert build_base(b).failed == 0
    quotes, turns = ids(sample_base, "quotes"), ids(sample_base, "utterances")
    assert len(quotes) > 20
    files = sorted((sample_base / "interviews").glob("*.md"))
    for path in files[:3]:
        text = path.read_text(encoding="utf-8")
        # insert a turn right after the front matter, and edit another paragraph (one without a quote)
        head, sep, body = text.partition("\n---\n")
        body = "\n**Note-taker:** Inserted above everything.\n" + body
        plain = next(m for m in re.finditer(r"^\*\*\[[\d:]+\] [^*]+:\*\* ([^=\n]+)$", body, re.M))
        body = body.replace(plain.group(1), plain.group(1) + " (edited)", 1)
        path.write_text(head + sep + body, encoding="utf-8")
    result = build_base(load_base(sample_base))
    assert result.failed == 0 and result.built == 3
    after = ids(sample_base, "quotes")
    for qid, (iid, text) in quotes.items():
        assert after.get(qid) == (iid, text), f"quote {qid} changed"
    after_turns = ids(sample_base, "utterances")
    kept = sum(1 for tid, v in turns.items() if after_turns.get(tid) == v)
    assert kept >= len(turns) - 3  # only the three edited paragraphs differ...
    assert all(tid in after_turns for tid in turns)  # ...and even they keep their ids (matched as edits)
    build_base(load_base(sample_base), full=True)
    assert ids(sample_base, "quotes") == after


def test_an_edited_quote_keeps_its_id_and_a_removed_one_leaves_an_alias(sample_base):
    b = load_base(sample_base)
    build_base(b)
    path = sorted((sample_base / "interviews").glob("*.md"))[0]
    text = path.read_text(encoding="utf-8")
    found = re.findall(r"==([^=]+)==", text)
    assert len(found) >= 2
    first, second = found[0], found[1]
    (qid_first,) = rows(sample_base, "SELECT id FROM quotes WHERE text = ?", [first])[0]
    (qid_second,) = rows(sample_base, "SELECT id FROM quotes WHERE text = ?", [second])[0]
    edited = first[:-1] + " и ещё" if len(first) > 10 else first + " (edited)"
    original = text
    # the second quote is no longer a quote: its highlight and its codes go
    text = text.replace(f"=={first}==", f"=={edited}==", 1)
    text = re.sub(re.escape(f"=={second}==") + r"([.,]?)(\s+#[^\s#]+)*", lambda m: second + m.group(1), text, count=1)
    path.write_text(text, encoding="utf-8")
    build_base(load_base(sample_base))
    assert rows(sample_base, "SELECT text FROM quotes WHERE id = ?", [qid_first]) == [(edited,)]
    assert rows(sample_base, "SELECT count(*) FROM quotes WHERE id = ?", [qid_second]) == [(0,)]
    iid = rows(sample_base, "SELECT id FROM interviews WHERE path = ?", [f"interviews/{path.name}"])[0][0]
    assert rows(sample_base, "SELECT interview_id, target_id, text FROM link_aliases WHERE kind = 'quote' AND id = ?", [qid_second]) == [
        (iid, None, second[:200])
    ]
    # restoring the quote brings its id back, and the alias goes
    path.write_text(original.replace(f"=={first}==", f"=={edited}==", 1), encoding="utf-8")
    build_base(load_base(sample_base))
    assert rows(sample_base, "SELECT text FROM quotes WHERE id = ?", [qid_second]) == [(second,)]
    assert rows(sample_base, "SELECT count(*) FROM link_aliases WHERE id = ?", [qid_second]) == [(0,)]


@pytest.mark.parametrize(("old", "new", "paired"), [
    ("Клиенты постоянно задерживают оплату", "Клиенты постоянно задерживают оплату счетов", True),
    ("Клиенты постоянно задерживают оплату", "Мы перешли на новый тариф в январе", False),
])
def test_pairing_an_edit_with_its_old_id(old, new, paired):
    new_id = links.derived_id("iv", "quote", new)
    out, gone = links.keep_old_ids([(new_id, new)], [(7, old)])
    assert (out == [7]) is paired and (gone == []) is paired


def test_site_shows_every_old_quote_url_and_leads_a_lost_one_to_its_interview(sample_base):
    import asyncio

    from custdev.site import make_datasette

    build_base(load_base(sample_base))
    before = ids(sample_base, "quotes")
    path = sorted((sample_base / "interviews").glob("*.md"))[1]
    text = path.read_text(encoding="utf-8")
    head, sep, body = text.partition("\n---\n")
    body = "\n**Note-taker:** Inserted above everything.\n" + body
    second = re.findall(r"==([^=]+)==", body)[1]
    body = re.sub(re.escape(f"=={second}==") + r"([.,]?)(\s+#[^\s#]+)*", lambda m: second + m.group(1), body, count=1)
    path.write_text(head + sep + body, encoding="utf-8")
    build_base(load_base(sample_base))
    ds = make_datasette(load_base(sample_base))

    def get(url):
        return asyncio.run(ds.client.get(url))

    lost = [qid for qid, (_, t) in before.items() if t == second]
    assert len(lost) == 1
    kept = {qid: v for qid, v in before.items() if qid not in lost}
    # every old quote id still names the same quote on the site (one JSON request for all of them) ...
    served = get("/custdev/quotes.json?_shape=objects&_size=max&_col=interview_id&_col=text&id__in=" + ",".join(map(str, kept))).json()
    assert {r["id"]: (r["interview_id"], r["text"]) for r in served["rows"]} == kept
    # ... and its page shows it: every quote of the edited interview (a turn was inserted above them), a few others
    moved = [qid for qid, (iid, _) in kept.items() if f"interviews/{path.name}" in rows(sample_base, "SELECT path FROM interviews WHERE id = ?", [iid])[0]]
    others = [qid for qid in kept if qid not in moved][:3]
    assert moved
    for qid in moved + others:
        page = get(f"/custdev/quotes/{qid}")
        assert page.status_code == 200 and max(re.findall(r"\w+", kept[qid][1]), key=len) in page.text, qid
    r = get(f"/custdev/quotes/{lost[0]}")
    assert r.status_code == 302
    note = get(r.headers["location"])
    assert note.status_code == 200 and "removed from this interview" in note.text and second[:30] in note.text
    assert get("/custdev/quotes/12").status_code == 404  # an id that never existed is still a 404
