"""The research site in a real headless Chromium (Playwright driving Debian's /usr/bin/chromium) against a real
``custdev serve`` on loopback. Skipped only where Chromium cannot start."""

from __future__ import annotations

import os
import shutil
import sqlite3

import pytest

from test_serve import PASSWORD, make_site_base, start_serve, stop

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CUSTDEV_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A fresh Chromium profile for this module; skips the module when Chromium cannot start here."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:  # pragma: no cover - the test extra installs it
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    pw = sync_playwright().start()
    try:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM, headless=True, args=ARGS,
            viewport={"width": 1280, "height": 900},
        )
    except Error as exc:
        pw.stop()
        pytest.skip(f"Chromium cannot start here: {str(exc).splitlines()[0]}")
    yield context
    context.close()
    pw.stop()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = make_site_base(tmp_path_factory.mktemp("browser") / "base")
    proc, url = start_serve(root, "--no-build")
    yield root, url
    stop(proc)


@pytest.fixture
def page(browser):
    p = browser.new_page()
    dialogs: list[str] = []
    p.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    p.dialogs = dialogs
    yield p
    p.close()


def test_search_a_russian_word_form_from_the_home_page(site, page):
    root, url = site
    page.goto(url + "/")
    page.fill("input[name=q]", "оплатой")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector(".cd-hit")
    hits = page.locator(".cd-snippet").all_inner_texts()
    assert hits and not any("оплатой" in h.lower() for h in hits)
    assert any("оплаты" in h.lower() for h in hits)
    assert page.locator(".cd-snippet mark").count() >= len(hits)
    # a facet narrows the results
    before = page.locator(".cd-hit").count()
    page.click('.cd-facet[data-facet="speaker"] a[data-value="respondent"]')
    page.wait_for_selector(".cd-chip-active")
    assert 0 < page.locator(".cd-hit").count() <= before
    assert all(t == "respondent" for t in page.locator(".cd-hit-meta .cd-muted").all_inner_texts())


def test_a_quote_plays_from_its_start_time(site, page):
    root, url = site
    quote_id, start = sqlite3.connect(root / "custdev.db").execute(
        "SELECT id, start_s FROM quotes WHERE interview_id = '2026-06-01-hostile'").fetchone()
    assert start == 6.5
    audio_statuses: list[int] = []
    page.on("response", lambda r: audio_statuses.append(r.status) if "/-/custdev/audio/" in r.url else None)
    page.goto(f"{url}/custdev/quotes/{quote_id}")
    page.wait_for_function("() => { const a = document.getElementById('cd-audio'); return a && a.readyState >= 1; }")
    assert page.evaluate("document.getElementById('cd-audio').duration") == pytest.approx(30, abs=0.1)
    page.wait_for_function(f"() => Math.abs(document.getElementById('cd-audio').currentTime - {start}) < 0.01")
    assert page.evaluate("document.getElementById('cd-audio').currentTime") == pytest.approx(start, abs=0.01)
    # the next turn's time button seeks there (the file is served with Range, so seeking works)
    page.click('button[data-seek="15.0"]')
    page.wait_for_function("() => Math.abs(document.getElementById('cd-audio').currentTime - 15) < 0.5")
    assert page.evaluate("window.__pwned") is None and page.dialogs == []
    assert 206 in audio_statuses  # Chromium asked for byte ranges and got them


def test_a_hostile_transcript_runs_no_script(site, page):
    root, url = site
    page.goto(url + "/custdev/interviews/2026-06-01-hostile")
    page.wait_for_selector(".cd-transcript")
    page.click("summary:has-text('The interview file as written')")
    assert page.evaluate("window.__pwned") is None and page.dialogs == []
    assert page.locator(".cd-transcript img, .cd-markdown img, .cd-transcript script, .cd-markdown script").count() == 0
    assert "<script>window.__pwned='turn'</script>" in page.inner_text(".cd-transcript")
    assert page.title().startswith("<script>")  # shown as text


def test_shared_site_asks_for_the_password(tmp_path, browser):
    from custdev.site import hash_password

    from conftest import copy_base
    from test_serve import REPO

    root = copy_base(REPO, tmp_path / "shared")
    proc, url = start_serve(root, "--share", env={"CUSTDEV_PASSWORD_HASH": hash_password(PASSWORD), "DATASETTE_SECRET": "browser-test"})
    page = browser.new_page()
    try:
        response = page.goto(url + "/custdev/quotes")
        assert page.url == url + "/-/login"
        assert response.status == 200 and page.locator("#id_password").count() == 1
        assert "Ledgerly" not in page.content()
        api = page.request.get(url + "/custdev/quotes.json")
        assert api.status == 401 and api.json()["error"].startswith("Login required")
        page.fill("#id_password", "not the password")
        page.click("input[type=submit]")
        assert "Invalid username or password" in page.content()
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_selector("h1")
        assert page.inner_text("h1") == "Ledgerly customer discovery 2026"
        assert page.request.get(url + "/custdev/quotes.json").status == 200
        assert page.request.get(url + "/custdev.json?sql=select+1").status == 403  # arbitrary SQL stays off
    finally:
        page.close()
        browser.clear_cookies()
        stop(proc)
