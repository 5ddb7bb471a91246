"""Attacks on the site from issue #8, against a real `custdev serve`: the audio route reading any file of the base,
DNS rebinding through a foreign Host header, and sign-in (cookie flags, expiry, password change, hashing on the
event loop, timing, rate limit, non-ASCII passwords, malformed headers, where the hash is kept)."""

from __future__ import annotations

import base64
import http.client
import re
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from custdev.build import build_base
from custdev.config import load_base

from test_serve import HOSTILE, REPO, start_serve, stop, write_wav

PASSWORD = "пароль с ёлкой и ключ €"  # any UTF-8 password works, in the form and in Basic auth
USER = "custdev"
NEW_PASSWORD = "a brand new password"


def request(url: str, method: str = "GET", path: str = "/", headers: dict | None = None, body: bytes | None = None):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.getheader("set-cookie") or "", r.read()
    finally:
        conn.close()


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode("utf-8")).decode()}


def login(url: str, user: str = USER, password: str = PASSWORD, headers: dict | None = None):
    status, _, set_cookie, body = request(url, path="/-/login")
    token = re.search(r'name="csrftoken" value="([^"]+)"', body.decode()).group(1)
    csrf = re.search(r"custdev_csrf=([^;]+)", set_cookie).group(1)
    form = urllib.parse.urlencode({"username": user, "password": password, "csrftoken": token}).encode()
    return request(url, "POST", "/-/login", {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"custdev_csrf={csrf}", **(headers or {})}, form)


def cookie_of(set_cookie: str) -> str:
    return re.search(r"(custdev_login=[^;]+)", set_cookie).group(1)


EVIL = HOSTILE.replace("2026-06-01-hostile", "{id}").replace("audio: audio/call.wav", "audio: {audio}")


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    from conftest import copy_base
    from custdev.site import hash_password, set_site_value

    root = copy_base(REPO, tmp_path_factory.mktemp("sec") / "base")
    write_wav(root / "audio" / "call.wav", seconds=1)
    (root / "audio" / "notes.txt").write_text("not a recording", encoding="utf-8")
    (root / ".custdev").mkdir()
    (root / ".custdev" / "site_secret").write_text("s3cret-signing-key\n", encoding="utf-8")
    for n, audio in enumerate(["custdev.db", "custdev.toml", ".custdev/site_secret", "audio/notes.txt", "audio/../custdev.toml", "audio/call.wav"]):
        (root / "interviews" / f"evil-{n}.md").write_text(EVIL.format(id=f"evil-{n}", audio=audio), encoding="utf-8")
    assert build_base(root).failed == 0
    set_site_value(root / "custdev.toml", "password_hash", hash_password(PASSWORD))  # where older custdev kept it
    return root


@pytest.fixture(scope="module")
def local_site(base):
    proc, url = start_serve(base, "--no-build", "--workers", "1")
    yield url
    stop(proc)


@pytest.fixture(scope="module")
def shared_site(base):
    proc, url = start_serve(base, "--share", "--no-build", "--workers", "1", env={"CUSTDEV_PASSWORD_HASH": "", "DATASETTE_SECRET": ""})
    yield url
    stop(proc)


# -- the audio route ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4])
def test_the_audio_route_serves_no_file_but_recordings_under_audio(local_site, base, n):
    status, headers, _, body = request(local_site, path=f"/-/custdev/audio/evil-{n}")
    assert status == 404
    assert b"SQLite format" not in body and b"password_hash" not in body and b"s3cret" not in body and b"not a recording" not in body


def test_the_audio_route_serves_a_recording_with_its_media_type(local_site, base):
    status, headers, _, body = request(local_site, path="/-/custdev/audio/evil-5")
    assert status == 200 and headers["content-type"] == "audio/wav" and headers["x-content-type-options"] == "nosniff"
    assert body == (base / "audio" / "call.wav").read_bytes()


# -- Host names of the local site ------------------------------------------------------------------------------------


def test_the_local_site_answers_only_its_own_host_names(local_site):
    port = urllib.parse.urlsplit(local_site).port
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "localhost"):
        assert request(local_site, path="/custdev.json", headers={"Host": host})[0] == 200, host
    for host in (f"evil.example:{port}", "rebind.attacker.test", f"127.0.0.1.nip.io:{port}", f"app.localhost:{port}"):
        status, _, _, body = request(local_site, path="/custdev.json?sql=select+name+from+respondents", headers={"Host": host})
        assert status == 403 and "Анна" not in body.decode(), host


def test_host_names_of_a_site_on_every_interface():
    from custdev.site.auth import allowed_host

    assert allowed_host("192.168.1.20:8001", "0.0.0.0") and allowed_host("[fe80::1]:8001", "::")
    assert not allowed_host("attacker.test:8001", "0.0.0.0")
    assert allowed_host("10.0.0.5", "10.0.0.5") and not allowed_host("10.0.0.6", "10.0.0.5")


# -- sign-in ------------------------------------------------------------------------------------------------------


def test_the_hash_moves_from_custdev_toml_to_the_git_ignored_private_folder(shared_site, base):
    assert "password_hash" not in (base / "custdev.toml").read_text(encoding="utf-8")
    stored = base / ".custdev" / "site_password"
    assert stored.read_text().startswith("pbkdf2_sha256$") and stored.stat().st_mode & 0o777 == 0o600
    ignored = (REPO / ".gitignore").read_text()
    assert ".custdev/" in ignored


def test_login_cookie_is_httponly_lax_expiring_and_secure_behind_https(shared_site):
    status, headers, set_cookie, _ = login(shared_site)
    assert status == 302
    attrs = [a.strip().lower() for a in set_cookie.split(";")]
    assert "httponly" in attrs and "samesite=lax" in attrs and f"max-age={30 * 86400}" in attrs and "secure" not in attrs
    assert request(shared_site, path="/custdev.json", headers={"Cookie": cookie_of(set_cookie)})[0] == 200
    status, _, https_cookie, _ = login(shared_site, headers={"X-Forwarded-Proto": "https"})
    assert status == 302 and "secure" in [a.strip().lower() for a in https_cookie.split(";")]


def test_an_expired_or_forged_login_is_refused(shared_site, base):
    from datasette.app import Datasette

    forger = Datasette([], secret="s3cret-signing-key")
    expired = forger.sign({"u": USER, "v": "x", "e": int(time.time()) - 10}, "custdev-login")
    for cookie in (f"custdev_login={expired}", "custdev_login=garbage", "ds_actor=" + forger.sign({"a": {"id": "custdev"}}, "actor")):
        assert request(shared_site, path="/custdev.json", headers={"Cookie": cookie})[0] == 401


def test_any_utf8_password_and_malformed_headers(shared_site):
    assert request(shared_site, path="/custdev.json", headers=basic(USER, PASSWORD))[0] == 200
    for header in ("Basic !!!not-base64", "Basic " + base64.b64encode(b"no colon").decode(), "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
                   "Bearer abc", "Basic"):
        status, _, _, body = request(shared_site, path="/custdev.json", headers={"Authorization": header})
        assert status == 401, header


def test_wrong_user_and_wrong_password_take_the_same_time(shared_site):
    def timed(user, password):
        t0 = time.perf_counter()
        status = request(shared_site, path="/custdev.json", headers={**basic(user, password), "X-Test": str(time.time())})[0]
        return status, time.perf_counter() - t0

    # A fresh client address per round is not possible on loopback: stay under the rate limit (5 failures a minute).
    (s1, wrong_user), (s2, wrong_pw) = timed("mallory", PASSWORD), timed(USER, "not the password")
    assert s1 == s2 == 401
    assert 0.5 < wrong_user / wrong_pw < 2.0, (wrong_user, wrong_pw)


def test_changing_the_password_signs_everyone_out(shared_site, base):
    from custdev.site import set_password

    cookie = cookie_of(login(shared_site)[2])
    assert request(shared_site, path="/custdev.json", headers={"Cookie": cookie})[0] == 200
    set_password(load_base(base), NEW_PASSWORD)  # while the site runs
    assert request(shared_site, path="/custdev.json", headers={"Cookie": cookie})[0] == 401
    assert request(shared_site, path="/custdev.json", headers={"Cookie": cookie_of(login(shared_site, password=NEW_PASSWORD)[2])})[0] == 200


def test_a_flood_of_wrong_passwords_is_rate_limited_and_does_not_stall_readers(shared_site):
    status, _, set_cookie, _ = login(shared_site, password=NEW_PASSWORD)
    reader = {"Cookie": cookie_of(set_cookie)}
    statuses: list[int] = []

    def attacker():
        for _ in range(4):
            statuses.append(request(shared_site, path="/custdev.json", headers=basic(USER, "guess"))[0])

    threads = [threading.Thread(target=attacker) for _ in range(8)]
    for t in threads:
        t.start()
    slowest = 0.0
    while any(t.is_alive() for t in threads):
        t0 = time.perf_counter()
        assert request(shared_site, path="/custdev.json", headers=reader)[0] == 200
        slowest = max(slowest, time.perf_counter() - t0)
    for t in threads:
        t.join()
    assert 429 in statuses and statuses.count(401) <= 8, statuses
    assert slowest < 3.0, slowest  # before: 16 wrong passwords kept a logged-in reader waiting 16 s
    status, headers, _, _ = request(shared_site, path="/custdev.json", headers=basic(USER, NEW_PASSWORD))
    assert status == 429 and int(headers["retry-after"]) > 0  # even the right password waits out the lock-out


def test_the_failure_count_is_shared_by_every_server_process(tmp_path):
    """Two guards on one base (what two `--workers` processes hold) count one client's failures together."""
    from conftest import copy_base
    from custdev.site.auth import MAX_FAILURES, Guard

    root = copy_base(REPO, tmp_path / "base")
    first, second = Guard(load_base(root), USER), Guard(load_base(root), USER)
    for n in range(MAX_FAILURES):
        assert (first if n % 2 else second).attempt("203.0.113.7") == 0
    assert first.limited("203.0.113.7") > 0 and second.limited("203.0.113.7") > 0
    assert second.attempt("203.0.113.7") > 0 and first.attempt("203.0.113.7") > 0  # refused, and not counted
    assert first.limited("198.51.100.1") == 0  # another client is not held up
    second.succeeded("203.0.113.7")  # the right password was among them: that attempt is no failure
    assert first.limited("203.0.113.7") == 0
    assert (root / ".custdev" / "login_failures.sqlite").stat().st_mode & 0o777 == 0o600


def test_several_workers_give_a_client_no_more_attempts(base, tmp_path):
    import shutil

    from custdev.site import set_password
    from custdev.site.auth import MAX_FAILURES

    root = tmp_path / "base"
    shutil.copytree(base, root, ignore=shutil.ignore_patterns(".custdev"))  # built already; no failures counted yet
    set_password(load_base(root), PASSWORD)
    proc, url = start_serve(root, "--share", "--no-build", "--workers", "2", env={"CUSTDEV_PASSWORD_HASH": "", "DATASETTE_SECRET": ""})
    try:
        statuses: list[int] = []

        def attacker():
            for _ in range(3):
                statuses.append(request(url, path="/custdev.json", headers=basic(USER, "guess"))[0])

        threads = [threading.Thread(target=attacker) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        stop(proc)
    # Before: each of the 2 processes allowed 5, so up to 10 wrong passwords were checked in the minute.
    assert statuses.count(401) == MAX_FAILURES and statuses.count(429) == len(statuses) - MAX_FAILURES, statuses
