"""Starting the site: a Datasette instance for a base, bound to a socket, served by one or more processes."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import socket
import threading
import time
import webbrowser
from dataclasses import dataclass
from typing import Callable

from custdev.config import Base, language_choices, load_base
from custdev.errors import ConfigError, CustdevError, os_reason
from custdev.i18n import N_, is_language
from custdev.site.auth import Guard, login_days, password_hash_for, password_path
from custdev.site.settings import (
    DEFAULT_PORT,
    DEFAULT_USERNAME,
    SITE_HOST_ENV,
    SECRET_ENV,
    SITE_ROOT_ENV,
    SITE_LANGUAGE_ENV,
    SITE_SHARE_ENV,
    SiteOptions,
    load_metadata,
    site_config,
    site_secret,
    site_settings,
)


@contextlib.contextmanager
def _coarse_timelimit(conn, ms):
    """Datasette's query time limit, checked every 50,000 SQLite instructions (~4 ms) instead of every 1,000.

    The check is a Python callback, so it takes the GIL: at 1,000 instructions, concurrent searches over a large
    base spend most of their time queueing for the GIL. Measured with 20 clients on the 10,000-interview base:
    search JSON 32 -> 71 requests/s, search page 8.8 -> 11.4 (one process; see bench/load_bench.py).
    """
    deadline = time.perf_counter() + ms / 1000

    def handler():
        return 1 if time.perf_counter() >= deadline else 0

    conn.set_progress_handler(handler, 50_000 if ms > 20 else 1)
    try:
        yield
    finally:
        conn.set_progress_handler(None, 0)


def make_datasette(base: Base, *, share: bool = False, secret: str | None = None, host: str | None = "127.0.0.1",
                   language: str | None = None):
    """A Datasette instance for ``base``'s database (not started). Raises CustdevError for a shared site without a password."""
    import datasette.database
    from datasette.app import Datasette

    datasette.database.sqlite_timelimit = _coarse_timelimit
    if not base.db_path.exists():
        raise CustdevError(N_("{root} has no {name} yet; run 'custdev build' first"), root=base.root, name=base.db_path.name)
    site = site_config(base)
    username = str(site.get("username") or DEFAULT_USERNAME)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", username):
        raise ConfigError(N_("{path}: [site] username may only use letters, digits, '.', '_' and '-'"), path=base.config_path)
    guard = None
    if share:
        password_hash = password_hash_for(base)
        if not password_hash:
            raise ConfigError(N_("a shared site needs a password: run 'custdev serve --set-password' first"))
        if not password_hash.startswith("pbkdf2_sha256$"):
            raise ConfigError(N_("{path}: not a password hash; run 'custdev serve --set-password'"), path=password_path(base))
        guard = Guard(base, username, days=login_days(base), password_hash=password_hash)
    metadata = load_metadata(base, share=share, username=username)
    from custdev.db import writable

    readonly = not writable(base.db_path)  # a base on a read-only disk: SQLite may not even create its lock file
    ds = Datasette(
        [] if readonly else [str(base.db_path)],
        immutables=[str(base.db_path)] if readonly else [],
        metadata=metadata,
        settings=site_settings(share=share),
        secret=secret or (site_secret(base) if share else None),
    )
    if language is not None and not is_language(language):
        raise ConfigError(N_("--language must be {choices}, not {value!r}"), choices=language_choices(), value=language)
    ds._custdev_site = SiteOptions(root=base.root, share=share, username=username, title=metadata.get("title"), bound=host, guard=guard,
                                   language=language or base.config.language)
    return ds


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind before serving, so a busy port is one clear error and ``--port 0`` can report the port it got."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno in (98, 48, 10048):  # EADDRINUSE on Linux, macOS, Windows
            raise CustdevError(N_("port {port} on {host} is in use; pass another --port (or --port 0 for any free one)"), port=port, host=host) from None
        raise CustdevError(N_("cannot listen on {host}:{port} ({error})"), host=host, port=port, error=os_reason(exc)) from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_for(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("", "0.0.0.0") else ("localhost" if host == "::" else host)
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


@dataclass
class ServeInfo:
    url: str
    host: str
    port: int
    share: bool
    username: str
    title: str


def default_workers() -> int:
    """One server process per CPU (at most 4): page rendering holds Python's GIL, so processes scale and threads do not."""
    return max(1, min(os.cpu_count() or 1, 4))


def quiet_tracebacks() -> None:
    if not os.environ.get("CUSTDEV_DEBUG"):
        # Datasette prints every error and 404 as a rich traceback *with local variables*, which would put
        # interview text in the terminal (and block on a full pipe). CUSTDEV_DEBUG=1 brings them back.
        import rich

        rich.reconfigure(file=open(os.devnull, "w"))


def site_app():
    """ASGI application factory for the worker processes of ``serve_base`` (they start afresh, by import)."""
    quiet_tracebacks()
    base = load_base(os.environ[SITE_ROOT_ENV])
    from custdev.site.admission import admission, shared_loads

    return admission(make_datasette(base, share=os.environ.get(SITE_SHARE_ENV) == "1", host=os.environ.get(SITE_HOST_ENV) or "127.0.0.1",
                          language=os.environ.get(SITE_LANGUAGE_ENV) or None).app(), loads=shared_loads())


def serve_base(
    base: Base,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    share: bool = False,
    open_browser: bool = False,
    workers: int | None = None,
    language: str | None = None,
    on_ready: Callable[[ServeInfo], None] | None = None,
) -> None:
    """Run the site until interrupted. ``on_ready`` is called with the URL once the port is bound.

    With several ``workers``, each is a process with its own Datasette on the same listening socket; they sign
    cookies with one secret, so a login or a form works whichever process answers.
    """
    import uvicorn

    from custdev.site.admission import LOADS_ENV, admission, loads_shared_here, new_loads_file

    ds = make_datasette(base, share=share, host=host, language=language)  # checks the password, metadata and database before anything listens
    workers = workers or default_workers()
    sock = bind_socket(host, port)
    actual_port = sock.getsockname()[1]
    options = ds._custdev_site
    info = ServeInfo(url_for(host, actual_port), host, actual_port, share, options.username, options.title or "")
    quiet_tracebacks()
    loads = None
    if workers > 1:
        from uvicorn.supervisors import Multiprocess

        if loads_shared_here():
            loads = os.environ[LOADS_ENV] = new_loads_file()  # the processes' loads (custdev.site.admission)
        os.environ[SITE_ROOT_ENV] = str(base.root)
        os.environ[SITE_SHARE_ENV] = "1" if share else "0"
        os.environ[SITE_HOST_ENV] = host
        os.environ[SITE_LANGUAGE_ENV] = language or ""
        os.environ[SECRET_ENV] = site_secret(base) if share else (os.environ.get(SECRET_ENV) or secrets.token_hex(32))
        config = uvicorn.Config("custdev.site.app:site_app", factory=True, workers=workers, log_level="warning",
                                access_log=False, lifespan="on")
        runner = lambda: Multiprocess(config, sockets=[sock]).run()  # noqa: E731
    else:
        config = uvicorn.Config(admission(ds.app()), log_level="warning", access_log=False, lifespan="on")
        server = uvicorn.Server(config)
        runner = lambda: server.run(sockets=[sock])  # noqa: E731
    if on_ready:
        on_ready(info)
    if open_browser:
        threading.Timer(1.0, webbrowser.open, [info.url]).start()
    try:
        runner()
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
        if loads:
            with contextlib.suppress(OSError):
                os.unlink(loads)
