"""Sign-in for shared sites: the password hash, and the gate that puts every page (JSON included) behind it."""

from __future__ import annotations

import os
import re
from pathlib import Path

from datasette.utils import await_me_maybe
from datasette.utils.asgi import Request, Response

from custdev.config import Base
from custdev.errors import ConfigError
from custdev.site.common import site_options
from custdev.site.settings import (
    PASSWORD_ENV,
    STATIC_PREFIX,
    set_site_value,
    site_config,
)

_PUBLIC_PREFIXES = ("/-/static/", STATIC_PREFIX)
_PUBLIC_PATHS = ("/-/login", "/favicon.ico")
_FORMAT_SUFFIX = re.compile(r"\.(json|jsono|csv|tsv|db|blob)$")


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


async def actor_for(datasette, request):
    from datasette.plugins import pm

    for actor in pm.hook.actor_from_request(datasette=datasette, request=request):
        actor = await await_me_maybe(actor)
        if actor:
            return actor
    return None


def _public(path: str) -> bool:
    return path in _PUBLIC_PATHS or path.startswith(_PUBLIC_PREFIXES)


def password_gate(app, datasette):
    async def gated(scope, receive, send):
        if scope.get("type") != "http" or not site_options(datasette).share or _public(scope.get("path", "")):
            return await app(scope, receive, send)
        request = Request(scope, receive)
        if scope.get("actor") or await actor_for(datasette, request):
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
