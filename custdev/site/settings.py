"""Site settings: names and defaults, the Datasette metadata of a base, ``[site]`` in custdev.toml, the login secret."""

from __future__ import annotations

import copy
import json
import os
import re
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path

from custdev.config import PRIVATE_DIR, Base, atomic_write_text
from custdev.errors import ConfigError, CustdevError, os_reason
from custdev.i18n import DEFAULT_LANGUAGE, N_

DB_NAME = "custdev"  # Datasette names a database after its file, custdev.db
METADATA_NAME = "datasette_metadata.json"
HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
STATIC_PREFIX = "/-/custdev/static/"
STATIC_PREFIXES = ("/-/static/", STATIC_PREFIX)  # Datasette's static files and custdev's
AUDIO_PREFIX = "/-/custdev/audio/"  # + an interview's id: its recording (custdev.site.audio)
PASSWORD_ENV = "CUSTDEV_PASSWORD_HASH"
SECRET_ENV = "DATASETTE_SECRET"
SITE_ROOT_ENV = "CUSTDEV_SITE_ROOT"  # passed to worker processes
SITE_SHARE_ENV = "CUSTDEV_SITE_SHARE"
SITE_LANGUAGE_ENV = "CUSTDEV_SITE_LANGUAGE"  # `custdev serve --language`, passed to worker processes
LANG_ARG = "_lang"  # ?_lang=ru shows the site in Russian to this viewer (remembered in a cookie)
LANG_COOKIE = "custdev_lang"
SITE_HOST_ENV = "CUSTDEV_SITE_HOST"
REQUESTS_AT_ONCE = 2  # per server process; the others wait in arrival order (custdev.site.admission)
SITE_AT_ONCE_ENV = "CUSTDEV_SITE_AT_ONCE"
DEFAULT_USERNAME = "custdev"
DEFAULT_PORT = 8001
SEARCH_CAP = 1000  # the search ranks and counts at most this many matches of each kind (see the canned query)


@dataclass
class SiteOptions:
    """What the plugin needs to know about the site a Datasette instance serves."""

    root: Path | None = None  # the base folder: audio paths are relative to it
    share: bool = False
    username: str = DEFAULT_USERNAME
    title: str | None = None
    language: str = DEFAULT_LANGUAGE  # labels: `serve --language`, else the base's language; ?_lang= overrides
    bound: str | None = None  # the address the local site listens on (None: not checked, e.g. plain `datasette`)
    guard: object | None = None  # custdev.site.auth.Guard of a shared site


def packaged_metadata_path() -> Path:
    """The default ``datasette_metadata.json``: inside the wheel, or at the repository root in a checkout."""
    for candidate in (HERE.parent / METADATA_NAME, HERE.parent.parent / METADATA_NAME):
        if candidate.is_file():
            return candidate
    raise CustdevError(N_("the packaged {name} is missing from the custdev installation"), name=METADATA_NAME)


def metadata_path(base: Base) -> Path:
    own = base.root / METADATA_NAME
    return own if own.is_file() else packaged_metadata_path()


def load_metadata(base: Base, *, share: bool = False, username: str = DEFAULT_USERNAME) -> dict:
    """The Datasette metadata for ``base``: its own file (or the default), titled from custdev.toml.

    With ``share`` every page needs a logged-in actor and arbitrary SQL is off (the login itself is
    :mod:`custdev.site.auth`; no password hash is ever in the metadata).
    """
    path = metadata_path(base)
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(N_("{path}: not valid JSON ({error})"), path=path, error=exc) from None
    if not isinstance(metadata, dict):
        raise ConfigError(N_("{path}: the metadata must be a JSON object"), path=path)
    metadata = copy.deepcopy(metadata)
    search = metadata.get("databases", {}).get(DB_NAME, {}).get("queries", {}).get("search")
    if isinstance(search, dict):
        from custdev.site.searchsql import SEARCH_SQL

        search["sql"] = SEARCH_SQL  # one copy of the search SQL (custdev/site/searchsql.py), whatever the file says
    metadata.setdefault("title", base.config.title)
    if base.config.description:
        metadata.setdefault("description", base.config.description)
    if share:
        metadata["allow"] = {"id": "*"}
        metadata["allow_sql"] = False
    return metadata


def site_config(base: Base) -> dict:
    site = base.config.raw.get("site", {})
    if not isinstance(site, dict):
        raise ConfigError(N_("{path}: [site] must be a table"), path=base.config_path)
    return site


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
        raise ConfigError(N_("{path}: cannot update [site] {key}; edit the file by hand"), path=config_path, key=key) from None
    if parsed != value:
        raise ConfigError(N_("{path}: cannot update [site] {key}; edit the file by hand"), path=config_path, key=key)
    atomic_write_text(config_path, new_text)


def site_secret(base: Base) -> str:
    """The secret that signs login cookies: ``$DATASETTE_SECRET``, else ``.custdev/site_secret`` (created once)."""
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV]
    path = base.root / PRIVATE_DIR / "site_secret"
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
        raise ConfigError(N_("{path}: cannot keep the site secret ({error}); set {env} instead"), path=path, error=os_reason(exc), env=SECRET_ENV) from None


def site_settings(*, share: bool) -> dict:
    # Facet suggestions scan every column of a page's rows: on a large base that is most of a table page's time.
    settings = {"sql_time_limit_ms": 3000, "facet_time_limit_ms": 200, "suggest_facets": False, "num_sql_threads": 3}
    if share:
        settings["allow_download"] = False  # the unredacted file; `custdev publish --redact` makes a shareable one
    return settings
