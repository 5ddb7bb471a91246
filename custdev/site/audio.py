"""The audio route: an interview's recording with HTTP Range support, so players can seek to a quote."""

from __future__ import annotations

import re
from pathlib import Path

from datasette.utils.asgi import Response

from custdev.i18n import N_, translator
from custdev.paths import media_file, media_type
from custdev.site.common import METHOD_NOT_ALLOWED, fetch_rows, is_custdev, require_view, site_options
from custdev.site.lang import request_language
from custdev.site.settings import AUDIO_PREFIX, DB_NAME

NO_RECORDING = N_("No recording for this interview")

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def audio_file(root: Path | None, audio: str | None) -> Path | None:
    """The recording ``audio`` names when it is a media file under the base's ``audio/`` folder, else None.
    Never the database, the config, ``.custdev/`` or anything else, whatever an interview's ``audio:`` says."""
    return media_file(root, audio)


def audio_url(datasette, interview_id: str) -> str:
    from urllib.parse import quote

    return datasette.urls.path(AUDIO_PREFIX + quote(interview_id, safe=''))


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
    if not is_custdev(datasette):
        return Response.text("Not found", status=404)
    await require_view(datasette, request)
    await datasette.ensure_permissions(request.actor, [("view-table", (DB_NAME, "interviews"))])
    if request.method not in ("GET", "HEAD"):
        return Response.text(translator(request_language(datasette, request)).gettext(METHOD_NOT_ALLOWED), status=405)
    interview_id = request.url_vars["interview"]
    db = datasette.get_database(DB_NAME)
    rows = await fetch_rows(db, "select audio from interviews where id = ?", [interview_id])
    path = audio_file(site_options(datasette).root, rows[0]["audio"]) if rows else None
    if path is None:
        # e.g. `custdev purge` deleted it past retain_audio_until; the interview's page still names it
        return Response.text(translator(request_language(datasette, request)).gettext(NO_RECORDING), status=404)
    size = path.stat().st_size
    ctype = media_type(path) or "application/octet-stream"
    headers = [
        (b"content-type", ctype.encode()),
        (b"x-content-type-options", b"nosniff"),
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
