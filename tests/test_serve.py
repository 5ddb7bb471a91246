"""The research site (custdev serve) driven in-process through Datasette's own client, plus the CLI.

A real built base (the sample interviews, a hostile interview with a recording, an interview pointing at a
recording outside the base), real Datasette, real SQLite.
"""

from __future__ import annotations

import asyncio
import base64
import html
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import wave
from pathlib import Path

import pytest
from typer.testing import CliRunner

from custdev.build import build_base
from custdev.cli import app
from custdev.config import load_base
from custdev.errors import CustdevError
from custdev.search import search as cli_search

REPO = Path(__file__).resolve().parent.parent
CUSTDEV = [sys.executable, "-c", "from custdev.cli import main; main()"]
PASSWORD = "correct horse battery"

HOSTILE = """---
id: 2026-06-01-hostile
title: "<script>window.__pwned = 'title'</script> Hostile & <b>bold</b>"
date: 2026-06-01
interviewer: Мария
respondent: Mallory Evans
company: "Evil <Corp>"
role: Tester
segments: [smb-owners]
nps: 9
language: ru
audio: audio/call.wav
---

Notes with <img src=x onerror="window.__pwned='img'"> and [a link](javascript:window.__pwned='link').

**[00:00:02] Мария:** Как вы оплачиваете счета? <script>window.__pwned='turn'</script>

**[00:00:06.5] Mallory:** ==Оплата счетов занимает у нас <img src=x onerror="window.__pwned='quote'"> целый день== #pain/late-payments #billing/invoices

**[00:00:15] Мария:** А что потом?

**[00:00:19] Mallory:** Потом мы ждём оплаты неделями.
"""

OUTSIDE = """---
id: 2026-06-02-outside
title: Recording outside the base
date: 2026-06-02
interviewer: Kate
respondent: Oscar Out
segments: [smb-owners]
language: en
audio: ../outside.wav
---

**[00:00:01] Kate:** Where is the recording?

**[00:00:03] Oscar:** ==Somewhere else entirely== #pain/late-payments
"""

LINKED = OUTSIDE.replace("2026-06-02-outside", "2026-06-03-symlink").replace("../outside.wav", "audio/link.wav")


def write_wav(path: Path, seconds: float = 30.0, rate: int = 8000) -> Path:
    """A quiet 440 Hz tone: a real, seekable PCM WAV file."""
    import math
    import struct

    path.parent.mkdir(parents=True, exist_ok=True)
    frames = bytearray()
    for n in range(int(seconds * rate)):
        frames += struct.pack("<h", int(3000 * math.sin(2 * math.pi * 440 * n / rate)))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return path


def make_site_base(dest: Path) -> Path:
    """The sample base plus a hostile interview with a recording and two that point outside the base; built."""
    from conftest import copy_base

    root = copy_base(REPO, dest)
    (root / "interviews" / "2026-06-01-hostile.md").write_text(HOSTILE, encoding="utf-8")
    (root / "interviews" / "2026-06-02-outside.md").write_text(OUTSIDE, encoding="utf-8")
    (root / "interviews" / "2026-06-03-symlink.md").write_text(LINKED, encoding="utf-8")
    write_wav(root / "audio" / "call.wav")
    write_wav(dest.parent / "outside.wav", seconds=1)
    os.symlink(dest.parent / "outside.wav", root / "audio" / "link.wav")
    result = build_base(root)
    assert result.failed == 0, result.errors
    return root


@pytest.fixture(scope="module")
def site_base(tmp_path_factory) -> Path:
    return make_site_base(tmp_path_factory.mktemp("site") / "base")


def make_ds(root: Path, **kw):
    from custdev.site import make_datasette

    return make_datasette(load_base(root), **kw)


@pytest.fixture(scope="module")
def ds(site_base):
    return make_ds(site_base)


def get(ds, path: str, **kw):
    return asyncio.run(ds.client.get(path, **kw))


def db(root: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(root / "custdev.db")
    conn.row_factory = sqlite3.Row
    return conn


def hostile_quote_id(root: Path) -> int:
    return db(root).execute("SELECT id FROM quotes WHERE interview_id = '2026-06-01-hostile'").fetchone()[0]


# --- home, canned queries --------------------------------------------------------------------------------


def test_home_page_explains_the_base_with_counts_and_entry_points(ds, site_base):
    r = get(ds, "/")
    assert r.status_code == 200
    page = r.text
    assert "<h1>Ledgerly customer discovery 2026</h1>" in page
    n = db(site_base).execute("SELECT count(*) FROM interviews").fetchone()[0]
    assert f"<strong>{n}</strong> interviews" in page
    for href in ('/custdev/search"', "/custdev/pains_by_segment", "/custdev/quotes_of_pain", "/custdev/interviews_of_segment", "/-/charts"):
        assert href in page, href
    assert 'action="/custdev/search"' in page and 'name="q"' in page


def test_canned_queries_answer_with_their_parameters(ds, site_base):
    conn = db(site_base)
    rows = get(ds, "/custdev/pains_by_segment.json?segment=smb-owners&_shape=objects").json()["rows"]
    assert rows and {r["segment_slug"] for r in rows} == {"smb-owners"}
    expected = {r["pain"]: r["share"] for r in conn.execute("SELECT pain, share FROM pain_by_segment WHERE segment = 'smb-owners'")}
    assert {r["pain_slug"]: r["share_pct"] for r in rows} == {p: round(100 * s, 1) for p, s in expected.items()}

    rows = get(ds, "/custdev/quotes_of_pain.json?pain=late-payments&_shape=objects").json()["rows"]
    want = {r[0] for r in conn.execute("SELECT quote_id FROM quote_pains WHERE pain = 'late-payments'")}
    assert {r["quote_id"] for r in rows} == want
    only_smb = get(ds, "/custdev/quotes_of_pain.json?pain=late-payments&segment=mid-market-finance&_shape=objects").json()["rows"]
    assert len(only_smb) < len(rows)

    rows = get(ds, "/custdev/interviews_of_segment.json?segment=ecommerce&_shape=objects").json()["rows"]
    assert {r["interview_id"] for r in rows} == {r[0] for r in conn.execute("SELECT interview_id FROM interview_segments WHERE segment = 'ecommerce'")}

    qid = hostile_quote_id(site_base)
    rows = get(ds, f"/custdev/quote_in_context.json?quote={qid}&_shape=objects").json()["rows"]
    assert [r["position"] for r in rows] == ["before", "quote", "after"]
    assert rows[0]["text"].startswith("Как вы оплачиваете счета?") and rows[2]["text"] == "А что потом?"


def test_canned_query_forms_offer_choices_not_slugs(ds):
    page = get(ds, "/custdev/quotes_of_pain").text
    assert '<select name="pain">' in page and '<option value="late-payments"' in page and ">Chasing late payments</option>" in page


# --- search ---------------------------------------------------------------------------------------------


def search_rows(ds, **params) -> list[dict]:
    from urllib.parse import urlencode

    r = get(ds, "/custdev/search.json?" + urlencode({**params, "_shape": "objects"}))
    assert r.status_code == 200, r.text
    return r.json()["rows"]


def test_search_matches_russian_and_english_word_forms(ds):
    rows = search_rows(ds, q="оплатой")
    texts = " ".join(r["text"].lower() for r in rows)
    assert "оплатой" not in texts  # no turn uses this very form…
    assert "оплаты" in texts and "оплата" in texts  # …but other forms are found
    assert all("<mark>" in r["snippet"] for r in rows)
    english = search_rows(ds, q="invoice")
    assert any("invoices" in r["text"].lower() for r in english)


def test_search_finds_what_the_cli_finds(ds, site_base):
    from custdev.db import open_db

    for q in ("проблемы с оплатой", "invoices", "сверка", "reconciliation"):
        site = search_rows(ds, q=q)
        assert len(site) < 50
        found = {r["utterance_id"] for r in site}
        cli = {h.id for h in cli_search(open_db(site_base / "custdev.db"), q, limit=1000)}
        assert found == cli, q
        # a turn whose quote matches is shown once, as the quote
        assert len(found) == len(site)


def test_pain_and_tag_filters_find_coded_quotes_and_an_interview_filter_one_interview(ds, site_base):
    from custdev.db import open_db

    conn = db(site_base)
    coded = {r[0] for r in conn.execute("SELECT quote_id FROM quote_pains WHERE pain = 'late-payments'")}
    rows = search_rows(ds, q="оплаты", pain="late-payments")
    assert rows and all(r["kind"] == "quote" for r in rows) and {r["quote_id"] for r in rows} <= coded
    cli = cli_search(open_db(site_base / "custdev.db"), "оплаты", pain="late-payments", limit=1000)
    assert {r["quote_id"] for r in rows} == {h.id for h in cli}
    iid = "2026-02-10-anna-petrova"
    rows = search_rows(ds, q="счета", interview=iid)
    cli = {h.id for h in cli_search(open_db(site_base / "custdev.db"), "счета", limit=1000) if h.interview_id == iid}
    assert {r["interview_id"] for r in rows} == {iid} and {r["utterance_id"] for r in rows} == cli


def test_search_is_ranked_and_marks_the_matched_words(ds):
    rows = search_rows(ds, q="Excel")
    ranks = [r["rank"] for r in rows]
    assert ranks == sorted(ranks)
    assert all(re.search(r"<mark>excel</mark>", r["snippet"], re.I) for r in rows)


def _facets(page: str) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for name, body in re.findall(r'<section class="cd-facet" data-facet="(\w+)">(.*?)</section>', page, re.S):
        out[name] = {html.unescape(v): int(n.replace(",", "")) for v, n in re.findall(r'data-value="([^"]*)">.*?</a> <span class="cd-num">([\d,]+)</span>', body, re.S)}
    return out


def test_search_page_facets_count_the_hits_and_filter_them(ds):
    page = get(ds, "/custdev/search?q=счета").text
    facets = _facets(page)
    assert set(facets) >= {"segment", "pain", "tag", "speaker", "interview"}
    total = len(search_rows(ds, q="счета"))
    assert sum(facets["speaker"].values()) == total
    for name in ("segment", "pain", "speaker", "interview"):
        value, count = next(iter(facets[name].items()))
        assert len(search_rows(ds, q="счета", **{name: value})) == count, name
    # a tag filter also matches its child tags
    assert len(search_rows(ds, q="счета", tag="billing")) >= len(search_rows(ds, q="счета", tag="billing/invoices")) > 0


def test_search_html_shows_hits_with_links_and_filter_chips(ds, site_base):
    page = get(ds, "/custdev/search?q=оплаты&segment=smb-owners").text
    assert 'class="cd-hit cd-hit-quote"' in page and "<mark>" in page
    assert "Segment: SMB owners" in page  # the filter chip names the facet with its label
    assert re.search(r'href="/custdev/quotes/\d+"', page)
    # the hostile quote is among the hits and is escaped
    assert "&lt;img src=x onerror=" in page and "<img src=x" not in page


def test_broken_query_syntax_still_searches_the_words(ds):
    for q in ("оплата AND", '"оплата', "(оплата", "NOT"):
        r = get(ds, "/custdev/search?q=" + q)
        assert r.status_code == 200, q
        assert "message-error" not in r.text
    assert search_rows(ds, q="оплата AND") == search_rows(ds, q="оплата")
    assert search_rows(ds, q="") == []


def test_table_search_on_utterances_and_quotes_is_stemmed(ds):
    rows = get(ds, "/custdev/utterances.json?_search=оплатой&_shape=objects&_size=max").json()["rows"]
    assert rows and any("оплаты" in r["text"] for r in rows)
    rows = get(ds, "/custdev/quotes.json?_search=invoice&_shape=objects").json()["rows"]
    assert any("invoices" in r["text"].lower() for r in rows)
    page = get(ds, "/custdev/utterances?_search=оплатой").text
    assert 'value="оплатой"' in page  # the box shows what the user typed


# --- quote and interview pages ---------------------------------------------------------------------------


def test_quote_page_shows_context_codes_and_a_player_at_the_quote(ds, site_base):
    qid = hostile_quote_id(site_base)
    page = get(ds, f"/custdev/quotes/{qid}").text
    assert "Как вы оплачиваете счета?" in page and "А что потом?" in page  # turn before and after
    assert "Chasing late payments" in page and "SMB owners" in page and "#billing/invoices" in page
    assert "Mallory Evans" in page and "Tester" in page
    m = re.search(r'<audio id="cd-audio"[^>]*src="([^"]+)"[^>]*data-start="([^"]+)"', page)
    assert m, "no audio player"
    assert m.group(1) == "/-/custdev/audio/2026-06-01-hostile#t=6.5" and float(m.group(2)) == 6.5
    # the interview link jumps to the quoted turn (by its permanent id, not its position)
    turn_id = db(site_base).execute("SELECT utterance_id FROM quotes WHERE id = ?", [qid]).fetchone()[0]
    assert f'href="/custdev/interviews/2026-06-01-hostile#turn-{turn_id}"' in page


def test_quote_without_playable_audio_has_no_player(ds, site_base):
    conn = db(site_base)
    for iid in ("2026-02-10-anna-petrova", "2026-06-02-outside", "2026-06-03-symlink"):
        qid = conn.execute("SELECT id FROM quotes WHERE interview_id = ? LIMIT 1", [iid]).fetchone()[0]
        page = get(ds, f"/custdev/quotes/{qid}").text
        assert "In context" in page and "<audio" not in page, iid


def test_interview_page_renders_a_hostile_transcript_as_text(ds, site_base):
    r = get(ds, "/custdev/interviews/2026-06-01-hostile")
    assert r.status_code == 200
    page = r.text
    for live in ("<script>window", "<img src=x", "<b>bold</b>", "<Corp>"):
        assert live not in page, live
    assert not re.search(r"href\s*=\s*[\"']?\s*javascript:", page, re.I)
    assert "&lt;script&gt;window.__pwned=&#39;turn&#39;&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=" in page
    assert "Hostile &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    # the markdown source is rendered too, safely: text stays, the link's javascript: target is dropped
    assert "The interview file as written" in page and "a link" in page
    # every turn, with a seek button per timestamp, quotes linked to their pages
    assert page.count('class="cd-turn ') == 4
    assert 'data-seek="6.5"' in page and re.search(r'href="/custdev/quotes/\d+" title="Open this quote"><mark>', page)


def test_pages_are_not_scriptable_anywhere(ds, site_base):
    qid = hostile_quote_id(site_base)
    for path in ("/", f"/custdev/quotes/{qid}", "/custdev/interviews/2026-06-01-hostile", "/custdev/search?q=оплата",
                 "/custdev/interviews", "/custdev/quotes_of_pain?pain=late-payments", "/-/charts"):
        page = get(ds, path).text
        scripts = re.findall(r"<script[^>]*>(.*?)</script>", page, re.S)
        assert not any("__pwned" in s for s in scripts), path
        assert not re.search(r"<[a-z]+[^>]*\son\w+\s*=", page, re.I), path


# --- audio ----------------------------------------------------------------------------------------------


def test_audio_is_served_with_http_ranges(ds, site_base):
    data = (site_base / "audio" / "call.wav").read_bytes()
    url = "/-/custdev/audio/2026-06-01-hostile"
    full = get(ds, url)
    assert full.status_code == 200 and full.content == data
    assert full.headers["accept-ranges"] == "bytes" and full.headers["content-type"].startswith("audio/")
    part = get(ds, url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    tail = get(ds, url, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == data[-10:]
    open_end = get(ds, url, headers={"Range": f"bytes={len(data) - 5}-"})
    assert open_end.content == data[-5:]
    beyond = get(ds, url, headers={"Range": f"bytes={len(data)}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{len(data)}"


@pytest.mark.parametrize("path", [
    "/-/custdev/audio/2026-06-02-outside",  # audio: ../outside.wav
    "/-/custdev/audio/2026-06-03-symlink",  # a symlink inside the base pointing outside
    "/-/custdev/audio/2026-02-10-anna-petrova",  # no recording
    "/-/custdev/audio/no-such-interview",
    "/-/custdev/audio/..%2F..%2Foutside.wav",
    "/-/custdev/audio/%2Fetc%2Fpasswd",
])
def test_audio_serves_only_the_bases_own_recordings(ds, path):
    r = get(ds, path)
    assert r.status_code == 404
    assert b"RIFF" not in r.content and b"root:" not in r.content


# --- charts ---------------------------------------------------------------------------------------------


def test_charts_page_draws_pain_by_segment_and_nps_from_the_views(ds, site_base):
    r = get(ds, "/-/charts")
    assert r.status_code == 200
    page = r.text
    conn = db(site_base)
    cells = re.findall(r'<g class="cell" data-pain="([^"]+)" data-segment="([^"]+)" data-share="([^"]*)">', page)
    view = {(p, s): share for p, s, share in conn.execute("SELECT pain, segment, share FROM pain_by_segment")}
    assert len(cells) == len(view)
    for pain, segment, share in cells:
        want = view[(pain, segment)]
        assert (share == "") if want is None else abs(float(share) - want) < 1e-9
    nps = {s: v for s, v in conn.execute("SELECT segment, nps FROM nps_by_segment")}
    drawn = dict(re.findall(r'<g class="nps-row" data-segment="([^"]+)" data-nps="([^"]*)">', page))
    assert set(drawn) == set(nps)
    assert all((float(drawn[s]) if drawn[s] else None) == nps[s] for s in nps)
    assert re.search(r'href="/custdev/quotes_of_pain\?pain=[\w-]+&amp;segment=[\w-]+"', page)


def test_charts_page_explains_when_the_analysis_views_are_missing(tmp_path, site_base):
    root = tmp_path / "old"
    shutil.copytree(site_base, root, symlinks=True)
    conn = sqlite3.connect(root / "custdev.db")
    for view in ("pain_by_segment", "nps_by_segment", "pain_prevalence"):
        conn.execute(f"DROP VIEW IF EXISTS {view}")
    conn.commit()
    conn.close()
    site = make_ds(root)
    r = get(site, "/-/charts")
    assert r.status_code == 200 and "analysis views" in r.text
    assert get(site, "/").status_code == 200


def test_an_empty_base_serves_every_page(empty_base):
    build_base(empty_base)
    site = make_ds(empty_base)
    for path in ("/", "/custdev/search?q=оплата", "/-/charts", "/custdev/pains_by_segment", "/custdev/quotes_of_pain",
                 "/custdev/interviews"):
        assert get(site, path).status_code == 200, path
    assert "<strong>0</strong> interviews" in get(site, "/").text


# --- sharing --------------------------------------------------------------------------------------------


@pytest.fixture
def shared(site_base, monkeypatch):
    from custdev.site import hash_password

    monkeypatch.setenv("CUSTDEV_PASSWORD_HASH", hash_password(PASSWORD))
    monkeypatch.setenv("DATASETTE_SECRET", "test-secret")
    return make_ds(site_base, share=True)


PROTECTED = [
    "/", "/.json", "/custdev", "/custdev.json", "/custdev/quotes", "/custdev/quotes.json", "/custdev/quotes/1",
    "/custdev/quotes/1.json", "/custdev/search?q=x", "/custdev/search.json?q=x", "/custdev/utterances.csv",
    "/custdev.db", "/-/metadata.json", "/-/versions.json", "/-/plugins.json", "/-/databases.json", "/-/charts",
    "/-/custdev/audio/2026-06-01-hostile", "/-/password-tool", "/-/allow-debug", "/-/patterns", "/-/settings.json",
    "/custdev/pains_by_segment", "/no-such-page",
]


@pytest.mark.parametrize("path", PROTECTED)
def test_shared_site_requires_the_password_for_every_page(shared, path):
    browser = get(shared, path, headers={"Accept": "text/html"})
    assert browser.status_code in (302, 401)
    if browser.status_code == 302:
        assert browser.headers["location"] == "/-/login"
    api = get(shared, path)
    assert api.status_code == 401
    assert "Ledgerly" not in api.text and "Анна" not in api.text


def login(ds, username="custdev", password=PASSWORD):
    async def go():
        first = await ds.client.get("/-/login")
        token = re.search(r'name="csrftoken" value="([^"]+)"', first.text).group(1)
        return await ds.client.post(
            "/-/login", data={"username": username, "password": password, "csrftoken": token},
            cookies={"custdev_csrf": first.cookies["custdev_csrf"]},
        )

    return asyncio.run(go())


def test_shared_site_login_then_browse_but_no_arbitrary_sql_or_download(shared):
    assert get(shared, "/-/login").status_code == 200
    assert 'value="custdev"' in get(shared, "/-/login").text  # the username is filled in
    assert get(shared, "/-/static/app.css").status_code == 200
    bad = login(shared, password="wrong password")
    assert bad.status_code == 200 and "Invalid username or password" in bad.text
    ok = login(shared)
    assert ok.status_code == 302
    cookies = {"custdev_login": ok.cookies["custdev_login"]}
    assert get(shared, "/", cookies=cookies).status_code == 200
    assert get(shared, "/custdev/search.json?q=оплата", cookies=cookies).status_code == 200
    assert get(shared, "/-/charts", cookies=cookies).status_code == 200
    assert get(shared, "/-/custdev/audio/2026-06-01-hostile", cookies=cookies).status_code == 200
    assert get(shared, "/custdev.json?sql=select+1", cookies=cookies).status_code == 403
    assert get(shared, "/custdev.db", cookies=cookies).status_code == 403
    # a cookie signed with another secret is no login
    other = make_ds_with_secret(shared, "another-secret")
    assert get(other, "/custdev.json", cookies=cookies).status_code == 401


def make_ds_with_secret(shared, secret):
    from custdev.site import make_datasette

    return make_datasette(load_base(shared._custdev_site.root), share=True, secret=secret)


def test_shared_site_accepts_http_basic_auth_for_json(shared):
    token = base64.b64encode(f"custdev:{PASSWORD}".encode()).decode()
    assert get(shared, "/custdev/quotes.json", headers={"Authorization": f"Basic {token}"}).status_code == 200
    wrong = base64.b64encode(b"custdev:nope").decode()
    assert get(shared, "/custdev/quotes.json", headers={"Authorization": f"Basic {wrong}"}).status_code == 401


def test_sharing_needs_a_stored_password(site_base, monkeypatch):
    monkeypatch.delenv("CUSTDEV_PASSWORD_HASH", raising=False)
    with pytest.raises(CustdevError, match="custdev serve --set-password"):
        make_ds(site_base, share=True)


def test_set_password_stores_only_a_hash_and_keeps_the_config_readable(tmp_path, monkeypatch):
    from conftest import copy_base
    from custdev.site import verify_password

    root = copy_base(REPO, tmp_path / "b")
    before = (root / "custdev.toml").read_text()
    runner = CliRunner()
    r = runner.invoke(app, ["serve", "--base", str(root), "--set-password"], input="s3cret-pass\ns3cret-pass\n")
    assert r.exit_code == 0, r.output
    text = (root / "custdev.toml").read_text()
    assert "s3cret-pass" not in text
    assert text.startswith(before.rstrip("\n"))  # comments and settings untouched
    assert "password_hash" not in text  # custdev.toml is a file people commit: the hash lives in .custdev/
    stored_file = root / ".custdev" / "site_password"
    stored = stored_file.read_text().strip()
    assert stored.startswith("pbkdf2_sha256$") and verify_password("s3cret-pass", stored)
    assert stored_file.stat().st_mode & 0o777 == 0o600
    again = runner.invoke(app, ["serve", "--base", str(root), "--set-password"], input="another-pass\nanother-pass\n")
    assert again.exit_code == 0 and verify_password("another-pass", stored_file.read_text().strip())
    short = runner.invoke(app, ["serve", "--base", str(root), "--set-password"], input="short\nshort\n")
    assert short.exit_code == 1 and "at least 8 characters" in short.stderr


def test_login_secret_is_kept_private_and_stable(tmp_path, monkeypatch):
    from conftest import copy_base
    from custdev.site import site_secret

    monkeypatch.delenv("DATASETTE_SECRET", raising=False)
    base = load_base(copy_base(REPO, tmp_path / "b"))
    first = site_secret(base)
    assert site_secret(base) == first and len(first) == 64
    path = base.root / ".custdev" / "site_secret"
    assert path.stat().st_mode & 0o777 == 0o600


def test_metadata_comes_from_the_base_or_the_packaged_default(tmp_path):
    from conftest import copy_base
    from custdev.site import load_metadata, metadata_path

    base = load_base(copy_base(REPO, tmp_path / "b"))
    assert metadata_path(base).name == "datasette_metadata.json"
    md = load_metadata(base)
    assert md["title"] == "Ledgerly customer discovery 2026"
    queries = md["databases"]["custdev"]["queries"]
    assert {"search", "pains_by_segment", "quotes_of_pain", "interviews_of_segment", "quote_in_context"} <= set(queries)
    assert md["databases"]["custdev"]["tables"]["utterances"]["fts_table"] == "utterances_fts"
    assert "allow" not in md and "allow_sql" not in md
    shared = load_metadata(base, share=True)
    assert shared["allow"] == {"id": "*"} and shared["allow_sql"] is False
    assert "password_hash" not in json.dumps(shared) and "plugins" not in shared
    (base.root / "datasette_metadata.json").write_text(json.dumps({"title": "Own site"}), encoding="utf-8")
    assert load_metadata(base)["title"] == "Own site"


# --- the serve command ----------------------------------------------------------------------------------


def start_serve(root: Path, *args: str, env: dict | None = None) -> tuple[subprocess.Popen, str]:
    """``custdev serve`` in a subprocess on a free loopback port; returns (process, base URL)."""
    log = open(root.parent / f"serve-{time.monotonic_ns()}.log", "w+")
    proc = subprocess.Popen(
        CUSTDEV + ["serve", "--base", str(root), "--port", "0", "--no-open", "--quiet", *args],
        stdout=subprocess.PIPE, stderr=log, text=True, env={**os.environ, **(env or {})},
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            log.seek(0)
            raise AssertionError(f"custdev serve exited: {log.read()}")
        m = re.search(r"(http://\S+?)/?$", line.strip())
        if m:
            return proc, m.group(1)
    proc.kill()
    raise AssertionError("custdev serve printed no URL")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def fetch(url: str) -> tuple[int, str]:
    url = urllib.parse.quote(url, safe=":/?&=%#")
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def test_serve_builds_a_missing_database_and_listens_on_loopback(tmp_path):
    from conftest import copy_base

    root = copy_base(REPO, tmp_path / "b")
    assert not (root / "custdev.db").exists()
    proc, url = start_serve(root)
    try:
        assert url.startswith("http://127.0.0.1:")
        status, page = fetch(url + "/")
        assert status == 200 and "Ledgerly customer discovery 2026" in page
        assert (root / "custdev.db").exists()
        # a viewer's bad filter or sort is an error page, and the terminal gets neither the SQL nor its values
        assert fetch(url + "/custdev/interviews?respondent_id=olga-kuznetsova&segment__in=smb")[0] == 400
        assert fetch(url + "/custdev/interviews?_sort=nope")[0] >= 400
        assert fetch(url + "/custdev?sql=select+body+from+interviews+where+kuznetsova")[0] == 400  # custom SQL too
        port = int(url.rsplit(":", 1)[1])
        busy = subprocess.run(CUSTDEV + ["serve", "--base", str(root), "--port", str(port), "--no-open", "--no-build"],
                              capture_output=True, text=True, timeout=60)
        assert busy.returncode == 1
        assert busy.stderr.strip() == f"Error: port {port} on 127.0.0.1 is in use; pass another --port (or --port 0 for any free one)"
    finally:
        stop(proc)
    log = "".join(p.read_text(encoding="utf-8") for p in tmp_path.glob("serve-*.log"))
    assert "kuznetsova" not in log and "select" not in log.lower(), log[-500:]


def test_pages_keep_working_while_custdev_build_rewrites_the_base(tmp_path):
    """WAL: readers see the old or the new data, never an error, while a full rebuild runs."""
    from conftest import copy_base

    root = copy_base(REPO, tmp_path / "b")
    build_base(root)
    before = db(root).execute("SELECT count(*) FROM interviews").fetchone()[0]
    proc, url = start_serve(root, "--no-build")
    statuses: list[int] = []
    seen: set[int] = set()
    stop_flag = threading.Event()

    def reader() -> None:
        while not stop_flag.is_set():
            for path in ("/", "/custdev/search?q=оплаты", "/custdev/interviews/2026-02-10-anna-petrova", "/-/charts",
                         "/custdev/interviews.json?_shape=objects&_size=max"):
                status, body = fetch(url + path)
                statuses.append(status)
                if path.startswith("/custdev/interviews.json") and status == 200:
                    seen.add(len(json.loads(body)["rows"]))

    try:
        threads = [threading.Thread(target=reader) for _ in range(2)]
        for t in threads:
            t.start()
        (root / "interviews" / "2026-06-01-hostile.md").write_text(HOSTILE.replace("audio: audio/call.wav\n", ""), encoding="utf-8")
        done = subprocess.run(CUSTDEV + ["build", "--base", str(root), "--full", "--quiet"],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        time.sleep(0.5)
        stop_flag.set()
        for t in threads:
            t.join(timeout=60)
    finally:
        stop(proc)
    assert len(statuses) >= 8
    assert set(statuses) == {200}, statuses
    assert seen <= {before, before + 1} and before + 1 in seen


def test_share_flag_in_the_config_protects_the_served_site(tmp_path, monkeypatch):
    from conftest import copy_base
    from custdev.site import hash_password, set_site_value

    root = copy_base(REPO, tmp_path / "b")
    monkeypatch.delenv("CUSTDEV_PASSWORD_HASH", raising=False)
    refused = subprocess.run(CUSTDEV + ["serve", "--base", str(root), "--share", "--no-open", "--port", "0"],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1
    assert refused.stderr.strip() == "Error: a shared site needs a password: run 'custdev serve --set-password' first"
    set_site_value(root / "custdev.toml", "share", True)
    set_site_value(root / "custdev.toml", "password_hash", hash_password(PASSWORD))
    proc, url = start_serve(root)
    try:
        assert fetch(url + "/custdev.json")[0] == 401
        assert fetch(url + "/-/login")[0] == 200
    finally:
        stop(proc)

