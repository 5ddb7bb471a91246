"""custdev build: markdown files -> SQLite, incremental, and safe with bad files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from custdev.build import build_base
from custdev.db import open_db
from custdev.migrations import migrations
from custdev.search import fts_query

CODEBOOK = """\
segments:
  - slug: smb
    title: Small business
  - slug: agencies
    title: Agencies
pains:
  - slug: manual-reconciliation
    title: Manual reconciliation
    stage: billing
  - slug: late-payments
    title: Late payments
    stage: billing
hypotheses:
  - slug: pay-for-sync
    title: Would pay for bank sync
"""


def interview(iid: str, *, segments="[smb]", body: str | None = None, lang="ru") -> str:
    body = body or (
        "**[00:00:05] Мария:** Как вы выставляете счета?\n\n"
        "**[00:00:12] Анна:** Каждый месяц ==вручную сверяем счета в Excel== #pain/manual-reconciliation #billing/invoices\n\n"
        "**[00:01:00] Мария:** А оплата?\n\n"
        "**[00:01:10] Анна:** ==Клиенты постоянно задерживают оплату== #pain/late-payments #h/pay-for-sync\n"
    )
    return (
        f"---\nid: {iid}\ndate: 2026-03-01\ninterviewer: Мария\nrespondent: Анна Петрова {iid}\ncompany: Acme\n"
        f"segments: {segments}\nnps: 7\nlanguage: {lang}\n---\n\n{body}"
    )


@pytest.fixture
def base(empty_base: Path) -> Path:
    (empty_base / "codebook.yml").write_text(CODEBOOK, encoding="utf-8")
    for n in (1, 2, 3):
        (empty_base / "interviews" / f"i{n}.md").write_text(interview(f"i{n}"), encoding="utf-8")
    return empty_base


def rows(base: Path, sql: str, params=()) -> list[tuple]:
    conn = sqlite3.connect(base / "custdev.db")
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def test_migrations_create_the_documented_schema(tmp_path):
    db = open_db(tmp_path / "x.db")
    assert [m.name for m in migrations.applied(db)][:2] == ["m001_initial", "m002_fts"]
    assert migrations.pending(db) == []
    for table, columns in {
        "interviews": {"id", "title", "date", "interviewer", "respondent_id", "company", "role", "nps", "language", "audio", "path", "content_hash"},
        "utterances": {"id", "interview_id", "seq", "speaker", "speaker_role", "start_s", "end_s", "text", "text_stem"},
        "quotes": {"id", "interview_id", "utterance_id", "start_s", "end_s", "text", "text_stem"},
        "respondents": {"id", "name", "company", "role"},
        "segments": {"slug", "title", "description"},
        "pains": {"slug", "title", "description", "stage"},
        "interview_segments": {"interview_id", "segment"},
        "quote_pains": {"quote_id", "pain"},
        "tags": {"name"},
        "quote_tags": {"quote_id", "tag"},
    }.items():
        assert columns <= set(db[table].columns_dict), table
    assert {fk.other_table for fk in db["quotes"].foreign_keys} == {"interviews", "utterances"}
    assert db["utterances"].detect_fts() == "utterances_fts"
    # reopening applies nothing twice
    db.close()
    assert migrations.pending(open_db(tmp_path / "x.db")) == []


def test_build_fills_every_table(base):
    result = build_base(base)
    assert (result.built, result.skipped, result.failed, result.total) == (3, 0, 0, 3)
    assert rows(base, "select count(*) from utterances") == [(12,)]
    assert rows(base, "select speaker, speaker_role, start_s, end_s from utterances where interview_id='i1' order by seq") == [
        ("Мария", "interviewer", 5.0, 12.0), ("Анна", "respondent", 12.0, 60.0), ("Мария", "interviewer", 60.0, 70.0), ("Анна", "respondent", 70.0, None),
    ]
    assert rows(base, "select q.text, q.start_s, u.seq from quotes q join utterances u on u.id = q.utterance_id where q.interview_id='i1' order by q.seq") == [
        ("вручную сверяем счета в Excel", 12.0, 2), ("Клиенты постоянно задерживают оплату", 70.0, 4),
    ]
    assert rows(base, "select pain, count(*) from quote_pains group by pain order by pain") == [("late-payments", 3), ("manual-reconciliation", 3)]
    assert rows(base, "select tag from quote_tags group by tag") == [("billing/invoices",)]
    assert rows(base, "select hypothesis, stance, count(*) from quote_hypotheses group by 1, 2") == [("pay-for-sync", "for", 3)]
    assert rows(base, "select count(*) from respondents") == [(3,)]
    assert rows(base, "select segment, count(*) from interview_segments group by segment") == [("smb", 3)]
    assert rows(base, "select slug, stage from pains order by slug") == [("late-payments", "billing"), ("manual-reconciliation", "billing")]


def test_incremental_build_touches_only_what_changed(base):
    build_base(base)
    before = rows(base, "select id, interview_id from utterances where interview_id != 'i2' order by id")
    second = build_base(base)
    assert (second.built, second.skipped, second.removed) == (0, 3, 0)

    path = base / "interviews" / "i2.md"
    path.write_text(path.read_text(encoding="utf-8").replace("вручную сверяем", "руками сверяем"), encoding="utf-8")
    (base / "interviews" / "i3.md").unlink()
    third = build_base(base)
    assert (third.built, third.skipped, third.removed, third.total) == (1, 1, 1, 2)
    assert rows(base, "select text from quotes where interview_id='i2' order by seq")[0] == ("руками сверяем счета в Excel",)
    # i1's rows are untouched (same ids); i3's are gone everywhere, index included
    assert rows(base, "select id, interview_id from utterances where interview_id = 'i1' order by id") == [r for r in before if r[1] == "i1"]
    assert rows(base, "select count(*) from utterances where interview_id='i3'") == [(0,)]
    assert rows(base, "select count(*) from utterances_fts where utterances_fts match ?", [fts_query("руками")]) == [(1,)]
    assert rows(base, "select count(*) from utterances_fts where utterances_fts match ?", [fts_query("сверяем")]) == [(2,)]
    assert rows(base, "select count(*) from respondents") == [(2,)]


def test_full_rebuild_gives_the_same_content(base):
    build_base(base)
    snapshot = rows(base, "select interview_id, seq, text from utterances order by interview_id, seq")
    result = build_base(base, full=True)
    assert (result.built, result.skipped) == (3, 0)
    assert rows(base, "select interview_id, seq, text from utterances order by interview_id, seq") == snapshot


def test_a_bad_file_is_reported_and_does_not_stop_the_others(base):
    build_base(base)
    (base / "interviews" / "bad.md").write_text(interview("bad").replace("#pain/late-payments", "#pain/late-paymnts"), encoding="utf-8")
    (base / "interviews" / "latin1.md").write_bytes("---\nid: l1\n---\n\n**[00:00:01] Ана:** счёт".encode("cp1251"))
    (base / "interviews" / "empty.md").write_text("", encoding="utf-8")
    (base / "interviews" / "dup.md").write_text(interview("i1"), encoding="utf-8")
    result = build_base(base)
    assert (result.built, result.failed, result.total) == (0, 4, 3)
    assert sorted(result.errors) == [
        "interviews/bad.md:18: unknown pain 'late-paymnts' (did you mean 'late-payments'?)",
        "interviews/dup.md: duplicate interview id 'i1' (already used by interviews/i1.md); give each interview its own id",
        "interviews/empty.md: the file is empty",
        "interviews/latin1.md:5: the file is not UTF-8 text; re-save it as UTF-8",
    ]


def test_a_file_broken_by_an_edit_keeps_its_last_good_version(base):
    build_base(base)
    path = base / "interviews" / "i1.md"
    path.write_text(path.read_text(encoding="utf-8").replace("==Клиенты", "Клиенты"), encoding="utf-8")  # unclosed highlight
    result = build_base(base)
    assert result.failed == 1 and "i1.md:18: a highlight '==' is never closed" in result.errors[0]
    assert rows(base, "select count(*) from quotes where interview_id='i1'") == [(2,)]
    # once fixed, it builds
    path.write_text(interview("i1").replace("Excel", "Google Sheets"), encoding="utf-8")
    fixed = build_base(base)
    assert (fixed.built, fixed.failed) == (1, 0)
    assert rows(base, "select text from quotes where interview_id='i1' order by seq")[0] == ("вручную сверяем счета в Google Sheets",)


def test_codebook_change_rechecks_every_file(base):
    build_base(base)
    cb = base / "codebook.yml"
    cb.write_text(CODEBOOK.replace("Late payments", "Payments arrive late"), encoding="utf-8")
    result = build_base(base)
    assert result.built == 3
    assert rows(base, "select title from pains where slug='late-payments'") == [("Payments arrive late",)]


def test_parallel_and_sequential_builds_agree(base, monkeypatch):
    import custdev.build as build_module

    for n in range(4, 12):
        (base / "interviews" / f"i{n}.md").write_text(interview(f"i{n}", segments="[smb, agencies]"), encoding="utf-8")
    monkeypatch.setattr(build_module, "PARALLEL_THRESHOLD", 2)
    build_base(base, workers=2)
    parallel = rows(base, "select interview_id, seq, speaker_role, text, text_stem from utterances order by interview_id, seq")
    build_base(base, full=True, workers=1)
    assert rows(base, "select interview_id, seq, speaker_role, text, text_stem from utterances order by interview_id, seq") == parallel
    assert len(parallel) == 44


def test_ids_taken_by_another_interview_move_on_a_first_build_too(base, monkeypatch):
    """A first build looks ids up only where another interview's id range was written: two interviews whose
    derived ids all clash (forced here; a 1 in 2^52 event per pair of texts) are still both stored whole."""
    from custdev import links

    real = links.derived_ids
    monkeypatch.setattr(links, "derived_ids", lambda interview_id, kind, texts, **kw: real("same", kind, texts, **kw))
    result = build_base(base, workers=1)
    assert (result.built, result.failed) == (3, 0)
    assert rows(base, "select interview_id, count(distinct id) from utterances group by 1") == [("i1", 4), ("i2", 4), ("i3", 4)]
    assert rows(base, "select interview_id, count(distinct id) from quotes group by 1") == [("i1", 2), ("i2", 2), ("i3", 2)]
    assert rows(base, "select count(*) from utterances_fts where utterances_fts match ?", [fts_query("задерживают")]) == [(3,)]


def test_ids_that_clash_move_the_same_when_workers_parse(base, monkeypatch):
    """Parse workers send their rows ready to insert, with the derived ids; where the writer has to move an id, the
    rows are stored as a build without workers stores them."""
    import custdev.build as build_module
    from custdev import links

    for n in range(4, 8):
        (base / "interviews" / f"i{n}.md").write_text(interview(f"i{n}"), encoding="utf-8")
    real = links.derived_ids
    monkeypatch.setattr(links, "derived_ids", lambda interview_id, kind, texts, **kw: real("same", kind, texts, **kw))
    monkeypatch.setattr(build_module, "PARALLEL_THRESHOLD", 2)
    everything = ("select id, interview_id, seq, speaker, speaker_role, start_s, end_s, text, text_stem, line from utterances "
                  "order by id")
    quotes = "select id, interview_id, utterance_id, seq, text from quotes order by id"
    result = build_base(base, workers=2)
    assert (result.built, result.failed) == (7, 0)
    parallel = rows(base, everything), rows(base, quotes)
    assert len({r[0] for r in parallel[0]}) == 28
    (base / "custdev.db").unlink()
    build_base(base, workers=1)
    assert (rows(base, everything), rows(base, quotes)) == parallel


def test_a_rebuild_by_workers_keeps_the_ids_a_build_without_them_keeps(base, tmp_path, monkeypatch):
    """Rows from parse workers that replace stored ones are paired with the old ids by text, as without workers."""
    import shutil

    import custdev.build as build_module

    for n in range(4, 8):
        (base / "interviews" / f"i{n}.md").write_text(interview(f"i{n}"), encoding="utf-8")
    build_base(base, workers=1)
    for md in (base / "interviews").glob("*.md"):  # a turn inserted above, a quote edited: every file changes
        text = md.read_text(encoding="utf-8").replace("**[00:00:05]", "**[00:00:01] Мария:** Добрый день.\n\n**[00:00:05]", 1)
        md.write_text(text.replace("постоянно задерживают", "всё время задерживают"), encoding="utf-8")
    copy = tmp_path / "copy"
    shutil.copytree(base, copy)
    monkeypatch.setattr(build_module, "PARALLEL_THRESHOLD", 2)
    assert build_base(base, workers=2).built == 7
    assert build_base(copy, workers=1).built == 7
    for sql in ("select id, interview_id, seq, text, text_stem from utterances order by id",
                "select id, interview_id, utterance_id, seq, text from quotes order by id",
                "select kind, id, interview_id, target_id, text from link_aliases order by kind, id"):
        assert rows(base, sql) == rows(copy, sql)
    assert len(rows(base, "select 1 from utterances")) == 35


def test_an_interrupted_build_keeps_whole_interviews_and_resumes(base, monkeypatch):
    import custdev.build as build_module

    real_write = build_module._write
    calls = {"n": 0}

    def write_then_interrupt(db, p, old_id):
        calls["n"] += 1
        if calls["n"] == 3:
            real_write(db, p, old_id)  # half of the work is done for this one ...
            raise KeyboardInterrupt  # ... when Ctrl-C arrives
        real_write(db, p, old_id)

    monkeypatch.setattr(build_module, "_write", write_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        build_base(base, workers=1)
    # the two finished interviews are stored whole, the interrupted one not at all
    assert rows(base, "select id from interviews order by id") == [("i1",), ("i2",)]
    assert rows(base, "select interview_id, count(*) from utterances group by 1") == [("i1", 4), ("i2", 4)]
    assert rows(base, "select count(*) from utterances_fts where utterances_fts match ?", [fts_query("задерживают")]) == [(2,)]
    monkeypatch.setattr(build_module, "_write", real_write)
    resumed = build_base(base)
    assert (resumed.built, resumed.skipped, resumed.total) == (1, 2, 3)
