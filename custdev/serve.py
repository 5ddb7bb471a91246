"""The research site: Datasette configured for a custdev base, and the Datasette plugin behind its pages.

This is the only module that imports Datasette. It does two jobs:

* ``serve_base()`` (``custdev serve``) brings the base's ``custdev.db`` up to date, loads
  ``datasette_metadata.json`` (the base's own, else the packaged default) and runs Datasette on loopback.
  ``share=True`` puts every page, JSON included, behind a password (datasette-auth-passwords with the hash
  from ``custdev.toml``), turns arbitrary SQL and the database download off, and signs logins with a secret
  kept in ``.custdev/site_secret`` so they survive restarts.
* The module is also a Datasette plugin (entry point ``custdev``): SQL functions for stemmed search, the
  home / search / quote / interview / charts pages, an audio route that answers HTTP Range requests for the
  base's own recordings, and the password gate of shared sites.

Templates live in ``custdev/templates`` and the stylesheet in ``custdev/static``.
"""

from __future__ import annotations

import contextlib
import copy
import json
import mimetypes
import os
import re
import secrets
import socket
import sqlite3
import threading
import time
import tomllib
import webbrowser
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlencode

from datasette import hookimpl
from datasette.utils import await_me_maybe, urlsafe_components
from datasette.utils.asgi import Request, Response, asgi_static
from markupsafe import Markup, escape

from custdev.config import Base, atomic_write_text, load_base
from custdev.errors import ConfigError, CustdevError
from custdev.search import SearchError, fts_query, highlight, stem_text, words

DB_NAME = "custdev"  # Datasette names a database after its file, custdev.db
METADATA_NAME = "datasette_metadata.json"
HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
STATIC_PREFIX = "/-/custdev/static/"
PASSWORD_ENV = "CUSTDEV_PASSWORD_HASH"
SECRET_ENV = "DATASETTE_SECRET"
SITE_ROOT_ENV = "CUSTDEV_SITE_ROOT"  # passed to worker processes
SITE_SHARE_ENV = "CUSTDEV_SITE_SHARE"
DEFAULT_USERNAME = "custdev"
DEFAULT_PORT = 8001
SEARCH_CAP = 1000  # the search ranks and counts at most this many matches of each kind (see the canned query)

# Paths a shared site answers without a login: the login form itself and static assets (no data).
_PUBLIC_PREFIXES = ("/-/static/", STATIC_PREFIX)
_PUBLIC_PATHS = ("/-/login", "/favicon.ico")
_FORMAT_SUFFIX = re.compile(r"\.(json|jsono|csv|tsv|db|blob)$")


@dataclass
class SiteOptions:
    """What the plugin needs to know about the site a Datasette instance serves."""

    root: Path | None = None  # the base folder: audio paths are relative to it
    share: bool = False
    username: str = DEFAULT_USERNAME
    title: str | None = None


# --------------------------------------------------------------------------------------------------------
# Configuration: metadata, password, secret


def packaged_metadata_path() -> Path:
    """The default ``datasette_metadata.json``: inside the wheel, or at the repository root in a checkout."""
    for candidate in (HERE / METADATA_NAME, HERE.parent / METADATA_NAME):
        if candidate.is_file():
            return candidate
    raise CustdevError(f"the packaged {METADATA_NAME} is missing from the custdev installation")


def metadata_path(base: Base) -> Path:
    own = base.root / METADATA_NAME
    return own if own.is_file() else packaged_metadata_path()


def load_metadata(base: Base, *, share: bool = False, username: str = DEFAULT_USERNAME) -> dict:
    """The Datasette metadata for ``base``: its own file (or the default), titled from custdev.toml.

    With ``share`` every page needs a logged-in actor, arbitrary SQL is off and the password hash comes from
    the ``CUSTDEV_PASSWORD_HASH`` environment variable (so it never shows in /-/metadata.json).
    """
    path = metadata_path(base)
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(metadata, dict):
        raise ConfigError(f"{path}: the metadata must be a JSON object")
    metadata = copy.deepcopy(metadata)
    metadata.setdefault("title", base.config.title)
    if base.config.description:
        metadata.setdefault("description", base.config.description)
    if share:
        metadata["allow"] = {"id": "*"}
        metadata["allow_sql"] = False
        plugins = metadata.setdefault("plugins", {})
        plugins["datasette-auth-passwords"] = {f"{username}_password_hash": {"$env": PASSWORD_ENV}}
    return metadata


def site_config(base: Base) -> dict:
    site = base.config.raw.get("site", {})
    if not isinstance(site, dict):
        raise ConfigError(f"{base.config_path}: [site] must be a table")
    return site


def password_hash_for(base: Base) -> str | None:
    """The stored password hash: ``$CUSTDEV_PASSWORD_HASH``, else ``[site] password_hash`` in custdev.toml."""
    value = os.environ.get(PASSWORD_ENV) or site_config(base).get("password_hash")
    return str(value) if value else None


def hash_password(password: str) -> str:
    from datasette_auth_passwords.utils import hash_password as _hash

    return _hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    from datasette_auth_passwords.utils import verify_password as _verify

    return _verify(password, password_hash)


def set_password(base: Base, password: str) -> Path:
    """Store a hash of ``password`` as ``[site] password_hash`` in custdev.toml (comments are kept)."""
    if len(password) < 8:
        raise ConfigError("the site password must have at least 8 characters")
    set_site_value(base.config_path, "password_hash", hash_password(password))
    return base.config_path


def set_site_value(config_path: Path, key: str, value: str | bool) -> None:
    """Set ``key`` in the ``[site]`` table of a TOML file by editing its text, so comments survive."""
    text = config_path.read_text(encoding="utf-8")
    rendered = ("true" if value else "false") if isinstance(value, bool) else json.dumps(value)
    line = f"{key} = {rendered}\n"
    lines = text.splitlines(keepends=True)
    header = next((n for n, ln in enumerate(lines) if re.match(r"^\s*\[site\]\s*(#.*)?$", ln)), None)
    if header is None:
        new_text = text + ("" if text.endswith("\n") or not text else "\n") + f"\n[site]\n{line}"
    else:
        end = next((n for n in range(header + 1, len(lines)) if re.match(r"^\s*\[", lines[n])), len(lines))
        existing = next((n for n in range(header + 1, end) if re.match(rf"^\s*{re.escape(key)}\s*=", lines[n])), None)
        if existing is not None:
            lines[existing] = line
        else:
            lines.insert(header + 1, line)
        new_text = "".join(lines)
    try:
        parsed = tomllib.loads(new_text)["site"][key]
    except (tomllib.TOMLDecodeError, KeyError):
        raise ConfigError(f"{config_path}: cannot update [site] {key}; edit the file by hand") from None
    if parsed != value:
        raise ConfigError(f"{config_path}: cannot update [site] {key}; edit the file by hand")
    atomic_write_text(config_path, new_text)


def site_secret(base: Base) -> str:
    """The secret that signs login cookies: ``$DATASETTE_SECRET``, else ``.custdev/site_secret`` (created once)."""
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV]
    path = base.root / ".custdev" / "site_secret"
    try:
        if path.is_file():
            value = path.read_text(encoding="utf-8").strip()
            if value:
                return value
        path.parent.mkdir(exist_ok=True)
        value = secrets.token_hex(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(value + "\n")
        return value
    except OSError as exc:
        raise ConfigError(f"{path}: cannot keep the site secret ({exc.strerror}); set {SECRET_ENV} instead") from None


# --------------------------------------------------------------------------------------------------------
# Starting the site


def site_settings(*, share: bool) -> dict:
    # Facet suggestions scan every column of a page's rows: on a large base that is most of a table page's time.
    settings = {"sql_time_limit_ms": 3000, "facet_time_limit_ms": 200, "suggest_facets": False, "num_sql_threads": 3}
    if share:
        settings["allow_download"] = False  # the unredacted file; `custdev publish --redact` makes a shareable one
    return settings


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


def make_datasette(base: Base, *, share: bool = False, secret: str | None = None):
    """A Datasette instance for ``base``'s database (not started). Raises CustdevError for a shared site without a password."""
    import datasette.database
    from datasette.app import Datasette

    datasette.database.sqlite_timelimit = _coarse_timelimit
    if not base.db_path.exists():
        raise CustdevError(f"{base.root} has no {base.db_path.name} yet; run 'custdev build' first")
    site = site_config(base)
    username = str(site.get("username") or DEFAULT_USERNAME)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", username):
        raise ConfigError(f"{base.config_path}: [site] username may only use letters, digits, '.', '_' and '-'")
    if share:
        password_hash = password_hash_for(base)
        if not password_hash:
            raise ConfigError("a shared site needs a password: run 'custdev serve --set-password' first")
        if not password_hash.startswith("pbkdf2_sha256$"):
            raise ConfigError(f"{base.config_path}: [site] password_hash is not a password hash; run 'custdev serve --set-password'")
        os.environ[PASSWORD_ENV] = password_hash
    metadata = load_metadata(base, share=share, username=username)
    ds = Datasette(
        [str(base.db_path)],
        metadata=metadata,
        settings=site_settings(share=share),
        secret=secret or (site_secret(base) if share else None),
    )
    ds._custdev_site = SiteOptions(root=base.root, share=share, username=username, title=metadata.get("title"))
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
            raise CustdevError(f"port {port} on {host} is in use; pass another --port (or --port 0 for any free one)") from None
        raise CustdevError(f"cannot listen on {host}:{port} ({exc.strerror})") from None
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


def _quiet_tracebacks() -> None:
    if not os.environ.get("CUSTDEV_DEBUG"):
        # Datasette prints every error and 404 as a rich traceback *with local variables*, which would put
        # interview text in the terminal (and block on a full pipe). CUSTDEV_DEBUG=1 brings them back.
        import rich

        rich.reconfigure(file=open(os.devnull, "w"))


def site_app():
    """ASGI application factory for the worker processes of ``serve_base`` (they start afresh, by import)."""
    _quiet_tracebacks()
    base = load_base(os.environ[SITE_ROOT_ENV])
    return make_datasette(base, share=os.environ.get(SITE_SHARE_ENV) == "1").app()


def serve_base(
    base: Base,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    share: bool = False,
    open_browser: bool = False,
    workers: int | None = None,
    on_ready: Callable[[ServeInfo], None] | None = None,
) -> None:
    """Run the site until interrupted. ``on_ready`` is called with the URL once the port is bound.

    With several ``workers``, each is a process with its own Datasette on the same listening socket; they sign
    cookies with one secret, so a login or a form works whichever process answers.
    """
    import uvicorn

    ds = make_datasette(base, share=share)  # checks the password, metadata and database before anything listens
    workers = workers or default_workers()
    sock = bind_socket(host, port)
    actual_port = sock.getsockname()[1]
    options = ds._custdev_site
    info = ServeInfo(url_for(host, actual_port), host, actual_port, share, options.username, options.title or "")
    _quiet_tracebacks()
    if workers > 1:
        from uvicorn.supervisors import Multiprocess

        os.environ[SITE_ROOT_ENV] = str(base.root)
        os.environ[SITE_SHARE_ENV] = "1" if share else "0"
        os.environ[SECRET_ENV] = site_secret(base) if share else (os.environ.get(SECRET_ENV) or secrets.token_hex(32))
        config = uvicorn.Config("custdev.serve:site_app", factory=True, workers=workers, log_level="warning",
                                access_log=False, lifespan="on")
        runner = lambda: Multiprocess(config, sockets=[sock]).run()  # noqa: E731
    else:
        config = uvicorn.Config(ds.app(), log_level="warning", access_log=False, lifespan="on")
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


# --------------------------------------------------------------------------------------------------------
# Search on the site: the same stemmed query as `custdev search`


_NO_MATCH = '""'  # an empty FTS5 phrase: a valid query that matches nothing
_validator = threading.local()


def _valid_fts(expr: str) -> bool:
    conn = getattr(_validator, "conn", None)
    if conn is None:
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        conn.execute("CREATE VIRTUAL TABLE v USING fts5(text, text_stem)")
        _validator.conn = conn
    try:
        conn.execute("SELECT 1 FROM v WHERE v MATCH ?", [expr]).fetchall()
    except sqlite3.OperationalError:
        return False
    return True


def site_fts_query(query: str | None) -> str:
    """The stemmed FTS5 expression for a query typed on the site; never raises.

    Same as the CLI's :func:`custdev.search.fts_query`. Where the user's operators or quotes would be an FTS
    syntax error (``foo AND``, an unclosed ``"``), the plain words are searched instead; an empty query matches nothing.
    """
    if not query or not str(query).strip():
        return _NO_MATCH
    query = str(query)
    try:
        expr = fts_query(query)
        if _valid_fts(expr):
            return expr
    except SearchError:
        pass
    plain = " ".join(w for w in words(query) if w.upper() not in ("AND", "OR", "NOT", "NEAR"))
    if not plain:
        return _NO_MATCH
    try:
        expr = fts_query(plain)
    except SearchError:
        return _NO_MATCH
    return expr if _valid_fts(expr) else _NO_MATCH


def highlight_html(text: str | None, query: str | None, *, width: int = 240) -> Markup:
    """A snippet of ``text`` around the words matching ``query``, HTML-escaped, matches in ``<mark>``."""
    if not text:
        return Markup("")
    text = str(text).replace("\x02", "").replace("\x03", "")
    if query and str(query).strip():
        raw = highlight(text, str(query), before="\x02", after="\x03", width=width)
    else:
        raw = text[:width] + ("…" if len(text) > width else "")
    return Markup(str(escape(raw)).replace("\x02", "<mark>").replace("\x03", "</mark>"))


def snippet_sql(text: str | None, query: str | None) -> str:
    """SQL function ``custdev_snippet(text, q)``: the highlighted snippet as escaped HTML (like FTS5 snippet())."""
    return str(highlight_html(text, query))


def _hits_sql(columns: str) -> str:
    """The match set of the ``search`` canned query (same filters and cap), for facet counts."""
    return f"""
with quote_hits as (
  select q.id as quote_id, q.utterance_id, q.interview_id
  from quotes_fts join quotes q on q.id = quotes_fts.rowid join utterances u on u.id = q.utterance_id
  where quotes_fts match custdev_match(:q)
    and quotes_fts.rowid between coalesce((select min(id) from quotes where interview_id = :interview), 0)
                             and coalesce((select max(id) from quotes where interview_id = :interview), 9223372036854775807)
    and (:interview = '' or q.interview_id = :interview)
    and (:speaker = '' or u.speaker_role = :speaker)
    and (:segment = '' or q.interview_id in (select interview_id from interview_segments where segment = :segment))
    and (:pain = '' or q.id in (select quote_id from quote_pains where pain = :pain))
    and (:tag = '' or q.id in (select quote_id from quote_tags where tag = :tag or substr(tag, 1, length(:tag) + 1) = :tag || '/'))
  limit {SEARCH_CAP}
),
utterance_hits as (
  select u.id as utterance_id, u.interview_id
  from utterances_fts join utterances u on u.id = utterances_fts.rowid
  where utterances_fts match custdev_match(:q)
    and :pain = '' and :tag = ''
    and utterances_fts.rowid between coalesce((select min(id) from utterances where interview_id = :interview), 0)
                                 and coalesce((select max(id) from utterances where interview_id = :interview), 9223372036854775807)
    and (:interview = '' or u.interview_id = :interview)
    and (:speaker = '' or u.speaker_role = :speaker)
    and (:segment = '' or u.interview_id in (select interview_id from interview_segments where segment = :segment))
  limit {SEARCH_CAP}
),
hits as materialized (
  select 'quote' as kind, 'q' || quote_id as hit, quote_id, utterance_id, interview_id from quote_hits
  union all
  select 'utterance', 'u' || utterance_id, null, utterance_id, interview_id from utterance_hits
  where utterance_id not in (select utterance_id from quote_hits)
)
{columns}
"""


FACETS_SQL = _hits_sql(
    """
select 'kind' as facet, kind as value, count(*) as n from hits group by kind
union all
select 'speaker', u.speaker_role, count(*) from hits h join utterances u on u.id = h.utterance_id group by u.speaker_role
union all
select 'segment', x.segment, count(*) from hits h join interview_segments x on x.interview_id = h.interview_id group by x.segment
union all
select 'pain', p.pain, count(*) from hits h join quote_pains p on p.quote_id = h.quote_id group by p.pain
union all
select 'tag', t.tag, count(*) from hits h join quote_tags t on t.quote_id = h.quote_id group by t.tag
union all
select * from (select 'interview', interview_id, count(*) as n from hits group by interview_id order by n desc, interview_id limit 12)
"""
)

SEARCH_FILTERS = ("segment", "pain", "tag", "speaker", "interview")


# --------------------------------------------------------------------------------------------------------
# Plugin helpers


def _options(datasette) -> SiteOptions:
    options = getattr(datasette, "_custdev_site", None)
    if options is None:
        # Plain `datasette custdev.db`: audio paths are relative to the database's folder.
        root = None
        if DB_NAME in datasette.databases and datasette.databases[DB_NAME].path:
            root = Path(datasette.databases[DB_NAME].path).resolve().parent
        options = SiteOptions(root=root)
        datasette._custdev_site = options
    return options


def _is_custdev(datasette) -> bool:
    return DB_NAME in datasette.databases


async def _has_tables(db, *names: str) -> bool:
    present = set(await db.table_names()) | set(await db.view_names())
    return all(n in present for n in names)


async def _rows(db, sql: str, params=None) -> list[dict]:
    result = await db.execute(sql, params or [])
    return [dict(r) for r in result.rows]


def _link(datasette, path: str, **args) -> str:
    args = {k: v for k, v in args.items() if v not in (None, "")}
    return datasette.urls.path(path) + (("?" + urlencode(args)) if args else "")


def format_time(seconds) -> str:
    if seconds is None or seconds == "":
        return ""
    total = int(float(seconds))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _pieces(text: str, quotes: list[dict]) -> list[dict]:
    """Split a turn's text into plain and quoted pieces (quotes located by their text, in order)."""
    pieces: list[dict] = []
    pos = 0
    for q in quotes:
        qt = q.get("text") or ""
        at = text.find(qt, pos) if qt else -1
        if at == -1:
            continue
        if at > pos:
            pieces.append({"text": text[pos:at], "quote_id": None})
        pieces.append({"text": qt, "quote_id": q["id"]})
        pos = at + len(qt)
    if pos < len(text):
        pieces.append({"text": text[pos:], "quote_id": None})
    return pieces


def audio_file(root: Path | None, audio: str | None) -> Path | None:
    """The recording ``audio`` (relative to the base) when it is a file inside the base folder, else None."""
    if not root or not audio:
        return None
    root = root.resolve()
    try:
        path = (root / audio).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


def _audio_url(datasette, interview_id: str) -> str:
    from urllib.parse import quote

    return datasette.urls.path(f"/-/custdev/audio/{quote(interview_id, safe='')}")


def render_markdown(text: str | None) -> Markup:
    """Markdown rendered safely: raw HTML is escaped, javascript:/data: links are dropped (markdown-it defaults)."""
    if not text:
        return Markup("")
    from markdown_it import MarkdownIt

    from custdev.mdmark import mark_plugin

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).use(mark_plugin)
    return Markup(md.render(text))


# --------------------------------------------------------------------------------------------------------
# Page data


_home_cache: dict[str, tuple[float, tuple, dict]] = {}


def _db_stamp(path: str | None) -> tuple:
    stamp = []
    for suffix in ("", "-wal"):
        try:
            st = os.stat(f"{path}{suffix}")
            stamp.append((st.st_mtime_ns, st.st_size))
        except OSError:
            stamp.append(None)
    return tuple(stamp)


async def home_data(datasette) -> dict:
    db = datasette.get_database(DB_NAME)
    stamp = _db_stamp(db.path)
    cached = _home_cache.get(db.path or "")
    if cached and cached[1] == stamp and time.monotonic() - cached[0] < 60:
        return cached[2]
    if not await _has_tables(db, "interviews", "utterances", "quotes", "segments", "pains"):
        return {}
    counts = (await _rows(db, """
        select (select count(*) from interviews) as interviews,
               (select count(distinct respondent_id) from interviews) as respondents,
               (select count(*) from utterances) as utterances,
               (select count(*) from quotes) as quotes,
               (select count(*) from segments) as segments,
               (select count(*) from pains) as pains,
               (select count(*) from tags) as tags,
               (select min(date) from interviews) as first_date,
               (select max(date) from interviews) as last_date,
               (select sum(duration_s) from interviews) as seconds
    """))[0]
    segments = await _rows(db, """
        select s.slug, s.title, s.description, count(x.interview_id) as interviews
        from segments s left join interview_segments x on x.segment = s.slug
        group by s.slug order by interviews desc, s.title
    """)
    pains: list[dict] = []
    if await _has_tables(db, "pain_prevalence"):
        pains = await _rows(db, """
            select pain, title, stage, interviews, total_interviews, share, quotes, verdict
            from pain_prevalence order by share desc, quotes desc, title limit 8
        """)
    else:
        pains = await _rows(db, """
            select p.slug as pain, p.title, p.stage, count(distinct q.interview_id) as interviews,
                   (select count(*) from interviews) as total_interviews, count(qp.quote_id) as quotes, null as verdict,
                   1.0 * count(distinct q.interview_id) / max(1, (select count(*) from interviews)) as share
            from pains p left join quote_pains qp on qp.pain = p.slug left join quotes q on q.id = qp.quote_id
            group by p.slug order by share desc, quotes desc, p.title limit 8
        """)
    recent = await _rows(db, "select id, title, date, company from interviews order by date desc, id limit 6")
    data = {
        "counts": counts,
        "segments": segments,
        "pains": pains,
        "recent": recent,
        "hours": round((counts.get("seconds") or 0) / 3600, 1),
    }
    _home_cache[db.path or ""] = (time.monotonic(), stamp, data)
    return data


async def search_data(datasette, request) -> dict:
    """Facet counts and filter links for the ``search`` canned query page."""
    from datasette.database import QueryInterrupted

    db = datasette.get_database(DB_NAME)
    q = (request.args.get("q") or "").strip()
    current = {k: (request.args.get(k) or "").strip() for k in SEARCH_FILTERS}
    base_path = f"/{DB_NAME}/search"

    def link(**changes) -> str:
        args = {"q": q, **current, **changes}
        return _link(datasette, base_path, **args)

    codebook = await _codebook_titles(db)
    active = [
        {"facet": k, "value": codebook.get(k, {}).get(v, v), "remove": link(**{k: ""})}
        for k, v in current.items() if v
    ]
    data: dict[str, Any] = {"q": q, "filters": current, "active": active, "facets": [], "total": None,
                            "capped": False, "facets_skipped": False, "cap": SEARCH_CAP}
    if not q:
        return data
    params = {"q": q, **current}
    key = (db.path, _db_stamp(db.path), tuple(sorted(params.items())))
    by = _facet_cache.get(key)
    if by is None:
        try:
            rows = (await db.execute(FACETS_SQL, params, custom_time_limit=1500)).rows
        except QueryInterrupted:
            data["facets_skipped"] = True
            return data
        except sqlite3.DatabaseError:
            return data
        by = {}
        for r in rows:
            by.setdefault(r["facet"], []).append((r["value"], r["n"]))
        _facet_cache.put(key, by)
    kinds = dict(by.get("kind", []))
    data["total"] = sum(kinds.values())
    data["quotes"] = kinds.get("quote", 0)
    data["turns"] = kinds.get("utterance", 0)
    data["capped"] = any(n >= SEARCH_CAP for n in kinds.values())
    titles = {"segment": codebook["segment"], "pain": codebook["pain"]}
    interview_ids = [v for v, _ in by.get("interview", [])]
    if interview_ids:
        marks = ",".join("?" * len(interview_ids))
        titles["interview"] = {
            r["id"]: r["title"] or r["id"]
            for r in await _rows(db, f"select id, title from interviews where id in ({marks})", interview_ids)
        }
    labels = {"segment": "Segment", "pain": "Pain", "tag": "Tag", "speaker": "Speaker", "interview": "Interview"}
    for facet in ("segment", "pain", "tag", "speaker", "interview"):
        values = sorted(by.get(facet, []), key=lambda vn: (-vn[1], str(vn[0])))
        if facet == "tag":
            values = values[:15]
        items = []
        for value, n in values:
            if value is None:
                continue
            selected = current[facet] == value
            items.append({
                "value": value,
                "label": titles.get(facet, {}).get(value, value),
                "count": n,
                "selected": selected,
                "href": link(**{facet: "" if selected else value}),
            })
        if items:
            data["facets"].append({"name": facet, "label": labels[facet], "items": items})
    return data


async def quote_data(datasette, request) -> dict:
    db = datasette.get_database(DB_NAME)
    pks = urlsafe_components(request.url_vars.get("pks", ""))
    if not pks:
        return {}
    rows = await _rows(db, """
        select q.id, q.text, q.start_s, q.end_s, q.interview_id, q.utterance_id,
               u.seq, u.speaker, u.speaker_role, u.text as turn_text,
               i.title, i.date, i.audio, i.language, i.nps, i.company, i.role, i.interviewer,
               r.name as respondent
        from quotes q join utterances u on u.id = q.utterance_id join interviews i on i.id = q.interview_id
        left join respondents r on r.id = i.respondent_id
        where q.id = ?
    """, [pks[0]])
    if not rows:
        return {}
    quote = rows[0]
    context = await _rows(db, """
        select id, seq, speaker, speaker_role, start_s, text from utterances
        where interview_id = ? and seq between ? - 1 and ? + 1 order by seq
    """, [quote["interview_id"], quote["seq"], quote["seq"]])
    turns = []
    for turn in context:
        if turn["id"] == quote["utterance_id"]:
            pieces = _pieces(turn["text"], [{"id": quote["id"], "text": quote["text"]}])
            position = "quote"
        else:
            pieces = [{"text": turn["text"], "quote_id": None}]
            position = "before" if turn["seq"] < quote["seq"] else "after"
        turns.append({**turn, "pieces": pieces, "position": position, "time": format_time(turn["start_s"])})
    pains = await _rows(db, "select p.slug, p.title from quote_pains qp join pains p on p.slug = qp.pain where qp.quote_id = ? order by p.title", [quote["id"]])
    tags = [r["tag"] for r in await _rows(db, "select tag from quote_tags where quote_id = ? order by tag", [quote["id"]])]
    segments = await _rows(db, "select s.slug, s.title from interview_segments x join segments s on s.slug = x.segment where x.interview_id = ? order by s.title", [quote["interview_id"]])
    hypotheses = []
    if await _has_tables(db, "quote_hypotheses", "hypotheses"):
        hypotheses = await _rows(db, "select h.slug, h.title, qh.stance from quote_hypotheses qh join hypotheses h on h.slug = qh.hypothesis where qh.quote_id = ? order by h.title", [quote["id"]])
    audio = audio_file(_options(datasette).root, quote["audio"])
    return {
        "quote": quote,
        "turns": turns,
        "pains": pains,
        "tags": tags,
        "segments": segments,
        "hypotheses": hypotheses,
        "audio_url": _audio_url(datasette, quote["interview_id"]) if audio else None,
        "start_s": float(quote["start_s"] or 0),
        "time": format_time(quote["start_s"]),
        "interview_url": datasette.urls.row(DB_NAME, "interviews", _pk(quote["interview_id"])),
        "turn_anchor": f"turn-{quote['seq']}",
        "quotes_of_pain": {p["slug"]: _link(datasette, f"/{DB_NAME}/quotes_of_pain", pain=p["slug"]) for p in pains},
        "search_url": _link(datasette, f"/{DB_NAME}/search"),
    }


def _pk(value) -> str:
    from datasette.utils import tilde_encode

    return tilde_encode(str(value))


async def interview_data(datasette, request) -> dict:
    db = datasette.get_database(DB_NAME)
    pks = urlsafe_components(request.url_vars.get("pks", ""))
    if not pks:
        return {}
    rows = await _rows(db, """
        select i.*, r.name as respondent from interviews i left join respondents r on r.id = i.respondent_id where i.id = ?
    """, [pks[0]])
    if not rows:
        return {}
    interview = rows[0]
    utterances = await _rows(db, "select id, seq, speaker, speaker_role, start_s, text from utterances where interview_id = ? order by seq", [interview["id"]])
    quotes = await _rows(db, "select id, utterance_id, text, start_s from quotes where interview_id = ? order by utterance_id, id", [interview["id"]])
    by_turn: dict[int, list[dict]] = {}
    for q in quotes:
        by_turn.setdefault(q["utterance_id"], []).append(q)
    turns = [
        {**u, "pieces": _pieces(u["text"], by_turn.get(u["id"], [])), "time": format_time(u["start_s"])}
        for u in utterances
    ]
    segments = await _rows(db, "select s.slug, s.title from interview_segments x join segments s on s.slug = x.segment where x.interview_id = ? order by s.title", [interview["id"]])
    pains = await _rows(db, """
        select p.slug, p.title, count(*) as quotes from quotes q join quote_pains qp on qp.quote_id = q.id
        join pains p on p.slug = qp.pain where q.interview_id = ? group by p.slug order by quotes desc, p.title
    """, [interview["id"]])
    audio = audio_file(_options(datasette).root, interview.get("audio"))
    return {
        "interview": interview,
        "turns": turns,
        "segments": segments,
        "pains": pains,
        "audio_url": _audio_url(datasette, interview["id"]) if audio else None,
        "body_html": render_markdown(interview.get("body")),
        "quote_url": datasette.urls.table(DB_NAME, "quotes"),
        "quotes_of_pain": {p["slug"]: _link(datasette, f"/{DB_NAME}/quotes_of_pain", pain=p["slug"]) for p in pains},
    }


class _LRU:
    """A small least-recently-used cache. Keys carry the database file's stamp, so a build invalidates them."""

    def __init__(self, size: int):
        from collections import OrderedDict

        self.size = size
        self.data: "OrderedDict[Any, Any]" = OrderedDict()

    def get(self, key):
        if key in self.data:
            self.data.move_to_end(key)
            return self.data[key]
        return None

    def put(self, key, value) -> None:
        self.data[key] = value
        self.data.move_to_end(key)
        while len(self.data) > self.size:
            self.data.popitem(last=False)


_facet_cache = _LRU(256)
_codebook_cache = _LRU(8)


async def _codebook_titles(db) -> dict[str, dict[str, str]]:
    """Segment, pain and tag titles by slug (cached until the database changes)."""
    key = (db.path, _db_stamp(db.path))
    cached = _codebook_cache.get(key)
    if cached is None:
        cached = {"segment": {}, "pain": {}, "tag": {}}
        if await _has_tables(db, "segments", "pains", "tags"):
            cached["segment"] = {r["slug"]: r["title"] for r in await _rows(db, "select slug, title from segments order by title")}
            cached["pain"] = {r["slug"]: r["title"] for r in await _rows(db, "select slug, title from pains order by title")}
            cached["tag"] = {r["name"]: r["name"] for r in await _rows(db, "select name from tags order by name")}
        _codebook_cache.put(key, cached)
    return cached


async def query_form_data(datasette, request) -> dict:
    """Choices for the parameters of the canned queries (segment, pain, tag, speaker)."""
    db = datasette.get_database(DB_NAME)
    codebook = await _codebook_titles(db)
    choices: dict[str, list[tuple[str, str]]] = {
        name: sorted(codebook[name].items(), key=lambda kv: kv[1].casefold()) for name in ("segment", "pain", "tag") if codebook[name]
    }
    choices["speaker"] = [("respondent", "Respondents"), ("interviewer", "Interviewers")]
    return {"choices": choices}


# --------------------------------------------------------------------------------------------------------
# Charts: server-side SVG (works with arbitrary SQL off and without JavaScript)


def _color(share: float | None) -> str:
    if share is None:
        return "#f3f4f6"
    # from a pale to a deep blue
    lo, hi = (239, 246, 255), (30, 64, 175)
    t = max(0.0, min(1.0, float(share)))
    return "#%02x%02x%02x" % tuple(round(a + (b - a) * t) for a, b in zip(lo, hi))


def _text_width(text: str, size: float = 13) -> float:
    return len(text) * size * 0.56


def _wrap(text: str, width: int, max_lines: int) -> list[str]:
    """Greedy word wrap; the last line is shortened with an ellipsis when the text does not fit."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1] + " …"
    return [line if len(line) <= width else line[: width - 1] + "…" for line in lines]


def heatmap_svg(rows: list[dict], pain_order: list[str], link: Callable[[str, str], str]) -> Markup:
    """Pain × segment prevalence: one cell per (pain, segment), colour = share of the segment's interviews."""
    segments: dict[str, dict] = {}
    pains: dict[str, str] = {}
    cells: dict[tuple[str, str], dict] = {}
    for r in rows:
        segments.setdefault(r["segment"], {"title": r["segment_title"] or r["segment"], "n": r["segment_interviews"]})
        pains.setdefault(r["pain"], r["pain_title"] or r["pain"])
        cells[(r["pain"], r["segment"])] = r
    if not segments or not pains:
        return Markup("")
    order = [p for p in pain_order if p in pains] + sorted(p for p in pains if p not in pain_order)
    seg_order = sorted(segments, key=lambda s: (-(segments[s]["n"] or 0), segments[s]["title"]))
    label_w = max(_text_width(pains[p]) for p in order) + 16
    cell_w, cell_h, head_h = 132, 34, 78
    width = label_w + cell_w * len(seg_order) + 4
    height = head_h + cell_h * len(order) + 4
    out = [f'<svg class="chart heatmap" role="img" viewBox="0 0 {width:.0f} {height}" width="{width:.0f}" height="{height}" '
           f'xmlns="http://www.w3.org/2000/svg"><title>Pain prevalence by segment</title>']
    for j, s in enumerate(seg_order):
        x = label_w + j * cell_w + cell_w / 2
        title = segments[s]["title"]
        lines = _wrap(title, int(cell_w / 7.2), 3)
        tspans = "".join(
            f'<tspan x="{x:.0f}" dy="{0 if k == 0 else 15}">{escape(line)}</tspan>' for k, line in enumerate(lines)
        )
        top = 46 - 15 * (len(lines) - 1)
        out.append(f'<text class="col-label" x="{x:.0f}" y="{top}" text-anchor="middle"><title>{escape(title)}</title>{tspans}</text>')
        out.append(f'<text class="col-sub" x="{x:.0f}" y="64" text-anchor="middle">n = {segments[s]["n"] or 0}</text>')
    for i, p in enumerate(order):
        y = head_h + i * cell_h
        out.append(f'<text class="row-label" x="{label_w - 10:.0f}" y="{y + cell_h / 2 + 4:.0f}" text-anchor="end">{escape(pains[p])}</text>')
        for j, s in enumerate(seg_order):
            c = cells.get((p, s), {})
            share = c.get("share")
            x = label_w + j * cell_w
            tip = f"{pains[p]} · {segments[s]['title']}: " + (
                f"{c.get('interviews', 0)} of {c.get('segment_interviews', 0)} interviews ({share * 100:.0f}%)" if share is not None else "no interviews"
            )
            label = f"{share * 100:.0f}%" if share is not None else "–"
            fg = "#ffffff" if share is not None and share >= 0.5 else "#1f2937"
            out.append(
                f'<a href="{escape(link(p, s))}"><g class="cell" data-pain="{escape(p)}" data-segment="{escape(s)}" data-share="{share if share is not None else ""}">'
                f'<title>{escape(tip)}</title>'
                f'<rect x="{x + 2:.0f}" y="{y + 2}" width="{cell_w - 4}" height="{cell_h - 4}" rx="4" fill="{_color(share)}"/>'
                f'<text x="{x + cell_w / 2:.0f}" y="{y + cell_h / 2 + 5:.0f}" text-anchor="middle" fill="{fg}">{label}</text></g></a>'
            )
    out.append("</svg>")
    return Markup("".join(out))


def nps_svg(rows: list[dict], link: Callable[[str], str]) -> Markup:
    """NPS by segment: 100% stacked bars of detractors / passives / promoters, with the score."""
    rows = [r for r in rows if r.get("segment")]
    if not rows:
        return Markup("")
    label_w = max(_text_width(r["segment_title"] or r["segment"]) for r in rows) + 16
    bar_w, row_h, score_w = 420, 36, 150
    width = label_w + bar_w + score_w
    height = 30 + row_h * len(rows)
    colors = {"detractors": "#dc2626", "passives": "#9ca3af", "promoters": "#16a34a"}
    out = [f'<svg class="chart nps" role="img" viewBox="0 0 {width:.0f} {height}" width="{width:.0f}" height="{height}" '
           f'xmlns="http://www.w3.org/2000/svg"><title>NPS by segment</title>']
    lx = label_w
    for name, color in colors.items():
        out.append(f'<rect x="{lx:.0f}" y="6" width="12" height="12" rx="2" fill="{color}"/>'
                   f'<text class="legend" x="{lx + 17:.0f}" y="16">{name}</text>')
        lx += 110
    for i, r in enumerate(rows):
        y = 30 + i * row_h
        title = r["segment_title"] or r["segment"]
        out.append(f'<text class="row-label" x="{label_w - 10:.0f}" y="{y + row_h / 2 + 4:.0f}" text-anchor="end">{escape(title)}</text>')
        scored = r.get("scored") or 0
        group = [f'<a href="{escape(link(r["segment"]))}"><g class="nps-row" data-segment="{escape(r["segment"])}" data-nps="{"" if r.get("nps") is None else r["nps"]}">']
        if scored:
            x = label_w
            for name in ("detractors", "passives", "promoters"):
                n = r.get(name) or 0
                w = bar_w * n / scored
                if w > 0:
                    group.append(f'<rect x="{x:.1f}" y="{y + 5}" width="{w:.1f}" height="{row_h - 10}" fill="{colors[name]}">'
                                 f'<title>{escape(title)}: {n} {name} of {scored} scored</title></rect>')
                    if w >= 26:
                        group.append(f'<text class="in-bar" x="{x + w / 2:.1f}" y="{y + row_h / 2 + 4:.0f}" text-anchor="middle">{n}</text>')
                x += w
            nps = r.get("nps")
            shown = f"+{nps:.0f}" if nps > 0 else (f"−{abs(nps):.0f}" if nps < 0 else "0")
            group.append(f'<text class="score" x="{label_w + bar_w + 12:.0f}" y="{y + row_h / 2 + 5:.0f}">NPS {shown}</text>'
                         f'<text class="col-sub" x="{label_w + bar_w + 96:.0f}" y="{y + row_h / 2 + 5:.0f}">n={scored}</text>')
        else:
            group.append(f'<rect x="{label_w:.0f}" y="{y + 5}" width="{bar_w}" height="{row_h - 10}" fill="#f3f4f6"/>'
                         f'<text class="col-sub" x="{label_w + 10:.0f}" y="{y + row_h / 2 + 4:.0f}">no scores yet</text>')
        group.append("</g></a>")
        out.extend(group)
    out.append("</svg>")
    return Markup("".join(out))


def prevalence_svg(rows: list[dict], threshold: float | None, link: Callable[[str], str]) -> Markup:
    """Share of interviews mentioning each pain, with its 95% interval and the systemic threshold."""
    if not rows:
        return Markup("")
    label_w = max(_text_width(r["title"] or r["pain"]) for r in rows) + 16
    bar_w, row_h = 420, 28
    width = label_w + bar_w + 120
    height = 34 + row_h * len(rows)
    out = [f'<svg class="chart prevalence" role="img" viewBox="0 0 {width:.0f} {height}" width="{width:.0f}" height="{height}" '
           f'xmlns="http://www.w3.org/2000/svg"><title>Pain prevalence</title>']
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        x = label_w + bar_w * tick
        out.append(f'<line class="grid" x1="{x:.0f}" x2="{x:.0f}" y1="20" y2="{height - 4}"/>'
                   f'<text class="col-sub" x="{x:.0f}" y="14" text-anchor="middle">{tick * 100:.0f}%</text>')
    if threshold:
        x = label_w + bar_w * threshold
        out.append(f'<line class="threshold" x1="{x:.0f}" x2="{x:.0f}" y1="20" y2="{height - 4}"><title>systemic threshold {threshold * 100:.0f}%</title></line>')
    for i, r in enumerate(rows):
        y = 24 + i * row_h
        share = r.get("share") or 0.0
        title = r["title"] or r["pain"]
        systemic = r.get("verdict") == "systemic"
        out.append(f'<text class="row-label" x="{label_w - 10:.0f}" y="{y + row_h / 2 + 4:.0f}" text-anchor="end">{escape(title)}</text>')
        out.append(f'<a href="{escape(link(r["pain"]))}"><g class="bar" data-pain="{escape(r["pain"])}" data-share="{share}">'
                   f'<title>{escape(title)}: {r.get("interviews", 0)} of {r.get("total_interviews", 0)} interviews</title>'
                   f'<rect x="{label_w:.0f}" y="{y + 5}" width="{max(bar_w * share, 1):.1f}" height="{row_h - 10}" rx="3" '
                   f'fill="{"#1d4ed8" if systemic else "#93c5fd"}"/></g></a>')
        lo, hi = r.get("ci_low"), r.get("ci_high")
        if lo is not None and hi is not None:
            x1, x2, cy = label_w + bar_w * lo, label_w + bar_w * hi, y + row_h / 2
            out.append(f'<path class="ci" d="M{x1:.1f} {cy:.1f}H{x2:.1f}M{x1:.1f} {cy - 5:.1f}V{cy + 5:.1f}M{x2:.1f} {cy - 5:.1f}V{cy + 5:.1f}"/>')
        out.append(f'<text class="value" x="{label_w + bar_w + 10:.0f}" y="{y + row_h / 2 + 4:.0f}">{share * 100:.0f}% '
                   f'<tspan class="col-sub">({r.get("interviews", 0)}/{r.get("total_interviews", 0)})</tspan></text>')
    out.append("</svg>")
    return Markup("".join(out))


async def charts_data(datasette) -> dict:
    db = datasette.get_database(DB_NAME)
    missing = [v for v in ("pain_prevalence", "pain_by_segment", "nps_by_segment") if not await _has_tables(db, v)]
    if missing:
        return {"missing": missing}
    prevalence = await _rows(db, "select * from pain_prevalence order by share desc, quotes desc, title")
    by_segment = await _rows(db, "select * from pain_by_segment")
    nps = await _rows(db, "select * from nps_by_segment order by nps is null, nps desc, segment_title")
    threshold = None
    if await _has_tables(db, "analysis_settings"):
        settings = await _rows(db, "select systemic_threshold from analysis_settings")
        threshold = settings[0]["systemic_threshold"] if settings else None

    def pain_link(pain: str, segment: str = "") -> str:
        return _link(datasette, f"/{DB_NAME}/quotes_of_pain", pain=pain, segment=segment)

    def segment_link(segment: str) -> str:
        return _link(datasette, f"/{DB_NAME}/interviews_of_segment", segment=segment)

    return {
        "missing": [],
        "heatmap": heatmap_svg(by_segment, [r["pain"] for r in prevalence], pain_link),
        "nps": nps_svg(nps, segment_link),
        "prevalence": prevalence_svg(prevalence, threshold, pain_link),
        "threshold": threshold,
        "nps_rows": nps,
        "total_interviews": prevalence[0]["total_interviews"] if prevalence else 0,
    }


# --------------------------------------------------------------------------------------------------------
# Routes


async def _require_view(datasette, request) -> None:
    await datasette.ensure_permissions(request.actor, [("view-database", DB_NAME), "view-instance"])


async def charts_view(request, datasette):
    if not _is_custdev(datasette):
        return Response.text("Not found", status=404)
    await _require_view(datasette, request)
    context = {**await charts_data(datasette), "metadata": datasette.metadata()}
    return Response.html(await datasette.render_template("custdev_charts.html", context, request=request, view_name="custdev_charts"))


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None | bool:
    """``(start, end)`` inclusive for a single ``bytes=`` range; None when absent or unusable; False when unsatisfiable."""
    if not header:
        return None
    spec = header.strip().split(",")[0].strip()  # several ranges: serve the first
    m = _RANGE.match(spec)
    if not m or (not m.group(1) and not m.group(2)):
        return None
    if m.group(1):
        start = int(m.group(1))
        end = int(m.group(2)) if m.group(2) else size - 1
        if start >= size or end < start:
            return False
        return start, min(end, size - 1)
    suffix = int(m.group(2))
    if suffix == 0:
        return False
    return max(0, size - suffix), size - 1


async def audio_view(request, datasette, send):
    """The recording of one interview, with HTTP Range support so players can seek. Only the base's own files."""
    if not _is_custdev(datasette):
        return Response.text("Not found", status=404)
    await _require_view(datasette, request)
    await datasette.ensure_permissions(request.actor, [("view-table", (DB_NAME, "interviews"))])
    if request.method not in ("GET", "HEAD"):
        return Response.text("Method not allowed", status=405)
    interview_id = request.url_vars["interview"]
    db = datasette.get_database(DB_NAME)
    rows = await _rows(db, "select audio from interviews where id = ?", [interview_id])
    path = audio_file(_options(datasette).root, rows[0]["audio"]) if rows else None
    if path is None:
        return Response.text("No recording for this interview", status=404)
    size = path.stat().st_size
    ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix.lower() in (".m4a", ".mp4a"):
        ctype = "audio/mp4"
    elif path.suffix.lower() == ".opus":
        ctype = "audio/ogg"
    headers = [
        (b"content-type", ctype.encode()),
        (b"accept-ranges", b"bytes"),
        (b"cache-control", b"private, max-age=3600"),
    ]
    wanted = parse_range(request.headers.get("range"), size)
    if wanted is False:
        await send({"type": "http.response.start", "status": 416,
                    "headers": headers + [(b"content-range", f"bytes */{size}".encode()), (b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})
        return None
    if wanted is None:
        status, start, end = 200, 0, size - 1
    else:
        status, (start, end) = 206, wanted
        headers.append((b"content-range", f"bytes {start}-{end}/{size}".encode()))
    length = max(0, end - start + 1)
    headers.append((b"content-length", str(length).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    if request.method == "HEAD" or length == 0:
        await send({"type": "http.response.body", "body": b""})
        return None
    with open(path, "rb") as fh:
        fh.seek(start)
        remaining = length
        while remaining > 0:
            chunk = fh.read(min(256 * 1024, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": remaining > 0})
    if remaining > 0:  # the file shrank while we read it
        await send({"type": "http.response.body", "body": b""})
    return None


# --------------------------------------------------------------------------------------------------------
# The password gate of shared sites


async def _actor_for(datasette, request):
    from datasette.plugins import pm

    for actor in pm.hook.actor_from_request(datasette=datasette, request=request):
        actor = await await_me_maybe(actor)
        if actor:
            return actor
    return None


def _public(path: str) -> bool:
    return path in _PUBLIC_PATHS or path.startswith(_PUBLIC_PREFIXES)


def _gate(app, datasette):
    async def gated(scope, receive, send):
        if scope.get("type") != "http" or not _options(datasette).share or _public(scope.get("path", "")):
            return await app(scope, receive, send)
        request = Request(scope, receive)
        if scope.get("actor") or await _actor_for(datasette, request):
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


# --------------------------------------------------------------------------------------------------------
# Datasette plugin hooks


@hookimpl(trylast=True)
def prepare_connection(conn, database, datasette):
    conn.create_function("custdev_stem", 1, lambda t: stem_text(t) if t is not None else None, deterministic=True)
    conn.create_function("custdev_match", 1, site_fts_query, deterministic=True)
    conn.create_function("custdev_snippet", 2, snippet_sql, deterministic=True)
    if database == DB_NAME:
        # Datasette's table search (?_search=) runs `MATCH escape_fts(:search)`. For the research base it runs
        # the same stemmed query as the CLI instead, so «оплаты» finds «оплата» on the utterances and quotes pages.
        conn.create_function("escape_fts", 1, site_fts_query, deterministic=True)


@hookimpl
def prepare_jinja2_environment(env, datasette):
    from jinja2 import ChoiceLoader, FileSystemLoader

    loader = env.loader
    if isinstance(loader, ChoiceLoader) and loader.loaders and isinstance(loader.loaders[0], FileSystemLoader):
        paths = loader.loaders[0].searchpath
        # After --template-dir (a user's own overrides win), before plugins and Datasette's defaults.
        paths.insert(1 if datasette.template_dir else 0, str(TEMPLATES_DIR))
    else:  # pragma: no cover - a future Datasette with another loader layout
        env.loader = ChoiceLoader([FileSystemLoader(str(TEMPLATES_DIR)), loader])
    env.filters["custdev_time"] = format_time
    env.filters["custdev_highlight"] = highlight_html
    env.filters["custdev_pk"] = _pk
    env.globals["custdev_static"] = lambda name: datasette.urls.path(STATIC_PREFIX + name)


@hookimpl
def register_routes(datasette):
    return [
        (r"^/-/custdev/audio/(?P<interview>[^/]+)$", audio_view),
        (r"^/-/charts$", charts_view),
        (r"^/-/custdev/static/(?P<path>.*)$", asgi_static(str(STATIC_DIR))),
    ]


@hookimpl
def asgi_wrapper(datasette):
    return lambda app: _gate(app, datasette)


@hookimpl
def extra_css_urls(datasette):
    if _is_custdev(datasette):
        return [datasette.urls.path(STATIC_PREFIX + "custdev.css")]
    return []


@hookimpl
def menu_links(datasette, actor, request):
    if not _is_custdev(datasette):
        return []
    return [
        {"href": datasette.urls.path(f"/{DB_NAME}/search"), "label": "Search everything"},
        {"href": datasette.urls.path("/-/charts"), "label": "Charts"},
        {"href": datasette.urls.path(f"/{DB_NAME}/pains_by_segment"), "label": "Pains by segment"},
    ]


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    if not _is_custdev(datasette) or request is None:
        return {}

    async def inner():
        common = {
            "custdev_share": _options(datasette).share,
            "custdev_search_url": datasette.urls.path(f"/{DB_NAME}/search"),
            "custdev_charts_url": datasette.urls.path("/-/charts"),
            "custdev_username": _options(datasette).username,
        }
        if template == "index.html":
            return {**common, "custdev_home": await home_data(datasette)}
        if database != DB_NAME:
            return common
        if template == "query-custdev-search.html":
            return {**common, "custdev_search": await search_data(datasette, request), **await query_form_data(datasette, request)}
        if template == "query-custdev.html":
            return {**common, **await query_form_data(datasette, request)}
        if template == "row-custdev-quotes.html":
            return {**common, "custdev_quote": await quote_data(datasette, request)}
        if template == "row-custdev-interviews.html":
            return {**common, "custdev_interview": await interview_data(datasette, request)}
        return common

    return inner


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    """Links in the canned queries' results: quotes, interviews, pains and segments open their pages."""
    if database != DB_NAME or table is not None or value in (None, ""):
        return None
    try:
        keys = set(row.keys())
    except AttributeError:
        return None

    def a(href: str, text) -> Markup:
        return Markup(f'<a href="{escape(href)}">{escape(text)}</a>')

    if column in ("quote_id", "quote") and "quote_id" in keys and row["quote_id"] is not None:
        return a(datasette.urls.row(DB_NAME, "quotes", _pk(row["quote_id"])), value)
    if column in ("interview_id", "interview") and "interview_id" in keys and row["interview_id"] is not None:
        return a(datasette.urls.row(DB_NAME, "interviews", _pk(row["interview_id"])), value)
    if column == "pain" and "pain_slug" in keys:
        segment = row["segment_slug"] if "segment_slug" in keys else ""
        return a(_link(datasette, f"/{DB_NAME}/quotes_of_pain", pain=row["pain_slug"], segment=segment), value)
    if column == "segment" and "segment_slug" in keys:
        return a(_link(datasette, f"/{DB_NAME}/interviews_of_segment", segment=row["segment_slug"]), value)
    if column == "start_s" and isinstance(value, (int, float)):
        return format_time(value)
    if column == "share_pct" and isinstance(value, (int, float)):
        return f"{value:g}%"
    return None
