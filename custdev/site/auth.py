"""Sign-in for shared sites, and the gate every request passes (shared or not).

* The password hash (pbkdf2-sha256, 480,000 rounds) lives in the base's git-ignored ``.custdev/site_password``
  (mode 600), or ``$CUSTDEV_PASSWORD_HASH``; a hash still in custdev.toml (``[site] password_hash``, where older
  custdev kept it) is moved there the first time it is read.
* A login is a cookie signed with the site secret: HttpOnly, SameSite=Lax, Secure behind https, expiring after
  ``[site] login_days`` (default 30). It names the password it was made with (a digest of the hash), so changing
  the password signs everyone out, even on a site that is running.
* Checking a password runs off the event loop (a thread; pbkdf2 releases the GIL), at most two at a time, and
  always costs one full hash, whether the user name is wrong or the password: the two take the same time. A client
  with 5 wrong passwords in a minute gets 429 for a minute, without any hashing; the count is shared by all the
  site's server processes (custdev.site.ratelimit), so ``--workers`` gives no client more attempts. Any UTF-8 password works, in the
  form and in HTTP Basic auth; a malformed Authorization header is answered 401.
* The local (unshared) site answers only requests addressed to its own host names (localhost, 127.0.0.1, [::1] and
  the address it listens on), so a web page that re-points its own domain at 127.0.0.1 cannot read the base.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import ipaddress
import os
import re
import secrets
import time
from pathlib import Path
from urllib.parse import parse_qs

from datasette.utils.asgi import Request, Response

from custdev.config import PRIVATE_DIR, Base
from custdev.errors import ConfigError, os_reason
from custdev.i18n import N_, translator
from custdev.site.common import METHOD_NOT_ALLOWED, site_options
from custdev.site.lang import request_language, viewer_language
from custdev.site.ratelimit import FILE as FAILURES_FILE, MemoryFailures, SharedFailures
from custdev.site.settings import PASSWORD_ENV, STATIC_PREFIXES, site_config

PASSWORD_FILE = "site_password"
COOKIE = "custdev_login"
CSRF_COOKIE = "custdev_csrf"
LOGIN_DAYS = 30  # default of [site] login_days
ROUNDS = 480_000
MAX_FAILURES = 5  # wrong passwords per client …
FAILURE_WINDOW_S = 60.0  # … within this many seconds: then 429 until the window passes
MAX_HASHING = 2  # password checks running at once per server process
# What the login page says (in the viewer's language: password_login.html translates it), and the local site to a
# request for another host name.
FORM_UNREADABLE = N_("The form could not be read.")
FORM_EXPIRED = N_("The form expired; please sign in again.")
WRONG_LOGIN = N_("Invalid username or password.")
TOO_MANY = N_("Too many wrong passwords; try again in {minutes} min.")
UNKNOWN_HOST = N_("Unknown host: this site only answers on its own address.")
_PUBLIC_PREFIXES = STATIC_PREFIXES
_PUBLIC_PATHS = ("/favicon.ico",)
_FORMAT_SUFFIX = re.compile(r"\.(json|jsono|csv|tsv|db|blob)$")


# -- the password hash ---------------------------------------------------------------------------------------------


def hash_password(password: str, salt: str | None = None, rounds: int = ROUNDS) -> str:
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt.encode("utf-8"), rounds)
    return f"pbkdf2_sha256${rounds}${salt}${base64.b64encode(digest).decode('ascii')}"


def verify_password(password: str, password_hash: str) -> bool:
    """Constant work for any input: a malformed hash still costs one hash of the default strength."""
    parts = (password_hash or "").strip().split("$")
    ok_format = len(parts) == 4 and parts[0] == "pbkdf2_sha256" and parts[1].isdigit() and 0 < int(parts[1]) <= 10_000_000
    salt, rounds = (parts[2], int(parts[1])) if ok_format else ("x", ROUNDS)
    candidate = hash_password(password, salt, rounds)
    return ok_format and hmac.compare_digest(candidate.encode(), "$".join(parts).encode())


def password_path(base: Base) -> Path:
    return base.root / PRIVATE_DIR / PASSWORD_FILE


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _remove_toml_hash(config_path: Path) -> None:
    """Drop ``password_hash = …`` from custdev.toml's [site] table (the rest of the file, comments too, stays)."""
    text = config_path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    section = None
    out = []
    for line in lines:
        m = re.match(r"^\s*\[([^\]]+)\]", line)
        if m:
            section = m.group(1).strip()
        if section == "site" and re.match(r"^\s*password_hash\s*=", line):
            continue
        out.append(line)
    from custdev.config import atomic_write_text

    atomic_write_text(config_path, "".join(out))


def migrate_password_hash(base: Base) -> Path | None:
    """Move a hash from custdev.toml (a file people commit) into ``.custdev/site_password``. Returns the new path."""
    old = site_config(base).get("password_hash")
    if not old:
        return None
    path = password_path(base)
    try:
        if not path.is_file():
            _write_private(path, str(old).strip() + "\n")
        _remove_toml_hash(base.config_path)
    except OSError:
        return None  # a read-only base: keep reading it from custdev.toml
    base.config.raw.get("site", {}).pop("password_hash", None)
    return path


def password_hash_for(base: Base) -> str | None:
    """``$CUSTDEV_PASSWORD_HASH``, else ``.custdev/site_password`` (moving an old one out of custdev.toml first)."""
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV].strip()
    migrate_password_hash(base)
    path = password_path(base)
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError:
        value = str(site_config(base).get("password_hash") or "").strip()
    return value or None


def set_password(base: Base, password: str) -> Path:
    """Store a hash of ``password`` in ``.custdev/site_password``: every login made with the old one ends."""
    if len(password) < 8:
        raise ConfigError(N_("the site password must have at least 8 characters"))
    path = password_path(base)
    try:
        _write_private(path, hash_password(password) + "\n")
        if site_config(base).get("password_hash"):
            _remove_toml_hash(base.config_path)
    except OSError as exc:
        raise ConfigError(N_("{path}: cannot store the password hash ({error})"), path=path, error=os_reason(exc)) from None
    return path


def login_days(base: Base) -> float:
    value = site_config(base).get("login_days", LOGIN_DAYS)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigError(N_("{path}: [site] login_days must be a positive number of days"), path=base.config_path)
    return float(value)


# -- host names ----------------------------------------------------------------------------------------------------


def allowed_host(host_header: str | None, bound: str | None) -> bool:
    """Is this Host header one of the local site's own names? (No Host header: HTTP/1.0 or a test client: yes.)"""
    if not host_header:
        return True
    host = host_header.strip().lower()
    if host.startswith("["):
        host = host[1:host.find("]")] if "]" in host else host[1:]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    if host in ("localhost", "127.0.0.1", "::1") or host.endswith(".localhost"):
        return host in ("localhost", "127.0.0.1", "::1")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False  # a domain name other than localhost: what DNS rebinding uses
    if ip.is_loopback:
        return True
    if bound in (None, "", "0.0.0.0", "::"):
        return bound not in (None, "")  # listening on every interface: any address of this machine
    try:
        return ip == ipaddress.ip_address(bound.strip("[]"))
    except ValueError:
        return False


# -- the guard: logins, Basic auth, rate limits ------------------------------------------------------------------------


class Guard:
    """Per server process: the current password, failures per client (shared between processes through the base's
    .custdev/) and recent Basic-auth successes."""

    def __init__(self, base: Base | None, username: str, days: float = LOGIN_DAYS, password_hash: str | None = None):
        self.base = base
        self.username = username
        self.days = days
        self._fixed_hash = password_hash
        self._hash_cache: tuple[float, str | None] = (-1.0, None)
        self.failures = (SharedFailures(base.root / PRIVATE_DIR / FAILURES_FILE, MAX_FAILURES, FAILURE_WINDOW_S) if base is not None
                         else MemoryFailures(MAX_FAILURES, FAILURE_WINDOW_S))
        self.basic_ok: dict[str, float] = {}
        self._hashing: asyncio.Semaphore | None = None

    def password_hash(self) -> str | None:
        if os.environ.get(PASSWORD_ENV):
            return os.environ[PASSWORD_ENV].strip()
        if self.base is None:
            return self._fixed_hash
        path = password_path(self.base)
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            return self._fixed_hash
        if self._hash_cache[0] != mtime:
            try:
                self._hash_cache = (mtime, path.read_text(encoding="utf-8").strip() or None)
            except OSError:
                return self._fixed_hash
        return self._hash_cache[1]

    def version(self) -> str:
        return hashlib.sha256((self.password_hash() or "").encode()).hexdigest()[:16]

    def limited(self, client: str) -> float:
        """Seconds this client must wait, or 0."""
        return self.failures.limited(client)

    def attempt(self, client: str) -> float:
        """Count an attempt as a failure before checking it, so concurrent guesses cannot slip past the limit: in one
        step, the seconds to wait (the attempt is refused and not counted), or 0 (counted; go on and check it)."""
        return self.failures.attempt(client)

    def succeeded(self, client: str) -> None:
        self.failures.succeeded(client)

    async def check(self, username: str, password: str) -> bool:
        """One full password hash whatever is wrong, off the event loop."""
        if self._hashing is None:
            self._hashing = asyncio.Semaphore(MAX_HASHING)
        stored = self.password_hash() or ""
        async with self._hashing:
            ok = await asyncio.to_thread(verify_password, password, stored)
        return bool(stored) and ok & hmac.compare_digest(username.encode("utf-8"), self.username.encode("utf-8"))

    def cookie_value(self, datasette) -> str:
        return datasette.sign({"u": self.username, "v": self.version(), "e": int(time.time() + self.days * 86400)}, "custdev-login")

    def actor_from_cookie(self, datasette, value: str | None) -> dict | None:
        if not value:
            return None
        try:
            data = datasette.unsign(value, "custdev-login")
        except Exception:  # noqa: BLE001 - any bad signature or format is no login
            return None
        if not isinstance(data, dict) or data.get("u") != self.username or data.get("v") != self.version():
            return None
        if not isinstance(data.get("e"), int) or data["e"] < time.time():
            return None
        return {"id": self.username}


def guard_for(datasette) -> Guard:
    options = site_options(datasette)
    guard = getattr(options, "guard", None)
    if guard is None:
        guard = Guard(None, options.username)
        options.guard = guard
    return guard


def _client(scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "?"


def _secure(request: Request) -> bool:
    return request.scheme == "https" or request.headers.get("x-forwarded-proto", "").split(",")[0].strip() == "https"


def _cookie_header(name: str, value: str, *, max_age: int, secure: bool, samesite: str = "Lax") -> tuple[bytes, bytes]:
    parts = [f"{name}={value}", "Path=/", f"Max-Age={max_age}", "HttpOnly", f"SameSite={samesite}"]
    if secure:
        parts.append("Secure")
    return b"set-cookie", "; ".join(parts).encode("latin-1")


def parse_basic(header: str | None) -> tuple[str, str] | None | bool:
    """(user, password) from an ``Authorization: Basic`` header; None when absent; False when malformed."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return False
    if ":" not in decoded:
        return False
    user, _, password = decoded.partition(":")
    return user, password


async def _send(response: Response, send, extra_headers: list[tuple[bytes, bytes]] | None = None) -> None:
    headers = [(k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in response.headers.items()]
    headers.append((b"content-type", response.content_type.encode("latin-1")))
    headers += extra_headers or []
    body = response.body if isinstance(response.body, bytes) else str(response.body).encode("utf-8")
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _read_form(receive, limit: int = 64 * 1024) -> dict[str, str] | None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if len(body) > limit:
            return None
        if not message.get("more_body"):
            break
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        return None
    return {k: v[0] for k, v in parsed.items()}


def _too_many(wait: float) -> Response:
    """The answer to a program signing in with Basic auth (see _login for people at the form)."""
    return Response.json({"ok": False, "error": "Too many wrong passwords; try again later.", "status": 429}, status=429,
                         headers=_retry_after(wait))


def _retry_after(wait: float) -> dict:
    return {"retry-after": str(int(wait) + 1), "cache-control": "no-store"}


async def _too_many_page(datasette, request, send, wait: float) -> None:
    """The login page again, saying how long to wait (a form post that is rate-limited)."""
    language = request_language(datasette, request)
    error = translator(language).gettext(TOO_MANY).format(minutes=max(1, -(-int(wait) // 60)))
    await _login_page(datasette, request, send, error=error, status=429, headers=_retry_after(wait))


async def _login_page(datasette, request, send, *, error: str | None = None, status: int = 200, headers: dict | None = None) -> None:
    token = secrets.token_urlsafe(24)
    await datasette.invoke_startup()  # the gate can run before Datasette has seen its first request
    request.scope.setdefault("csrftoken", lambda: token)  # the page is served outside Datasette's CSRF middleware
    html = await datasette.render_template(
        "password_login.html",
        {"error": error, "custdev_username": site_options(datasette).username, "custdev_csrf": token},
        request=request,
    )
    response = Response.html(html, status=status, headers=headers or {"cache-control": "no-store"})
    await _send(response, send, [_cookie_header(CSRF_COOKIE, token, max_age=3600, secure=_secure(request), samesite="Strict")])


async def _login(datasette, scope, receive, send) -> None:
    request = Request(scope, receive)
    guard = guard_for(datasette)
    if request.method in ("GET", "HEAD"):
        return await _login_page(datasette, request, send)
    if request.method != "POST":
        return await _send(Response.text(translator(request_language(datasette, request)).gettext(METHOD_NOT_ALLOWED), status=405), send)
    wait = guard.limited(_client(scope))
    if wait:
        return await _too_many_page(datasette, request, send, wait)
    form = await _read_form(receive)
    if form is None:
        return await _login_page(datasette, request, send, error=FORM_UNREADABLE, status=400)
    token = request.cookies.get(CSRF_COOKIE)
    if not token or not hmac.compare_digest(token.encode(), form.get("csrftoken", "").encode()):
        return await _login_page(datasette, request, send, error=FORM_EXPIRED, status=403)
    wait = guard.attempt(_client(scope))
    if wait:
        return await _too_many_page(datasette, request, send, wait)
    if await guard.check(form.get("username", ""), form.get("password", "")):
        guard.succeeded(_client(scope))
        response = Response.redirect(datasette.urls.path("/"))
        days = int(guard.days * 86400)
        return await _send(response, send, [_cookie_header(COOKIE, guard.cookie_value(datasette), max_age=days, secure=_secure(request))])
    return await _login_page(datasette, request, send, error=WRONG_LOGIN)


async def _logout(datasette, scope, receive, send) -> None:
    request = Request(scope, receive)
    response = Response.redirect(datasette.urls.path("/-/login"))
    await _send(response, send, [_cookie_header(COOKIE, "", max_age=0, secure=_secure(request)),
                                 _cookie_header("ds_actor", "", max_age=0, secure=_secure(request))])


def _public(path: str) -> bool:
    return path in _PUBLIC_PATHS or path.startswith(_PUBLIC_PREFIXES)


def password_gate(app, datasette):
    async def gated(scope, receive, send):
        if scope.get("type") != "http":
            return await app(scope, receive, send)
        options = site_options(datasette)
        if not options.share:
            headers = dict(scope.get("headers") or [])
            host = headers.get(b"host", b"").decode("latin-1")
            if options.bound is not None and not allowed_host(host, options.bound):
                message = translator(viewer_language(datasette)).gettext(UNKNOWN_HOST)
                return await _send(Response.text(message, status=403), send)
            return await app(scope, receive, send)
        path = scope.get("path", "")
        if path == "/-/login":
            return await _login(datasette, scope, receive, send)
        if path == "/-/logout":
            return await _logout(datasette, scope, receive, send)
        if _public(path):
            return await app(scope, receive, send)
        request = Request(scope, receive)
        guard = guard_for(datasette)
        actor = guard.actor_from_cookie(datasette, request.cookies.get(COOKIE))
        if actor is None:
            basic = parse_basic(request.headers.get("authorization"))
            if basic:
                client = _client(scope)
                key = hashlib.sha256(f"{guard.version()}\0{basic[0]}\0{basic[1]}".encode("utf-8")).hexdigest()
                if guard.basic_ok.get(key, 0) > time.monotonic():
                    actor = {"id": guard.username}
                else:
                    wait = guard.limited(client)
                    if wait:
                        return await _send(_too_many(wait), send)
                    wait = guard.attempt(client)
                    if wait:
                        return await _send(_too_many(wait), send)
                    if await guard.check(*basic):
                        guard.succeeded(client)
                        if len(guard.basic_ok) > 1000:
                            guard.basic_ok.clear()
                        guard.basic_ok[key] = time.monotonic() + 300
                        actor = {"id": guard.username}
        if actor is not None:
            # Datasette and other plugins see the actor, never the password (nothing else parses the header).
            headers = [(k, v) for k, v in scope.get("headers") or [] if k.lower() != b"authorization"]
            scope = dict(scope, custdev_actor=actor, headers=headers)
            return await app(scope, receive, send)
        accept = request.headers.get("accept", "")
        if request.method in ("GET", "HEAD") and "text/html" in accept and not _FORMAT_SUFFIX.search(request.path):
            response = Response.redirect(datasette.urls.path("/-/login"))
            response.headers["cache-control"] = "no-store"
        else:
            response = Response.json(
                {"ok": False, "error": "Login required: this site is shared with a password.", "status": 401},
                status=401,
                headers={"www-authenticate": 'Basic realm="custdev", charset="UTF-8"', "cache-control": "no-store"},
            )
        await response.asgi_send(send)

    return gated


def actor_from_request(datasette, request):
    """The actor the gate let in (a shared site's login); nothing else signs anyone in."""
    return request.scope.get("custdev_actor")
