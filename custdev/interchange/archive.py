"""Reading a ``.qdpx`` zip defensively: every member name checked, sizes capped, nothing extracted to disk.

A hostile or broken archive gets one :class:`ArchiveError` line and nothing is written: member names that are
absolute, climb out with ``..`` or use drive letters are refused (path traversal), and so is an archive whose members
expand past :data:`MAX_TOTAL` bytes or more than :data:`MAX_RATIO` times their compressed size (zip bombs). Sizes are
enforced while reading too, because a zip's declared sizes can lie.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path, PurePosixPath

from custdev.errors import CustdevError, os_reason
from custdev.i18n import N_

MAX_MEMBERS = 20_000
MAX_TOTAL = 4 << 30  # 4 GiB of media and text in one project
MAX_TEXT = 64 << 20  # one project.qde or text source
MAX_RATIO = 200  # deflate reaches ~10x on text; zip bombs reach 1000x and more
_RATIO_FLOOR = 1 << 20  # small members may compress well: only members over 1 MiB are checked for ratio
_DRIVE = re.compile(r"^[A-Za-z]:")


class ArchiveError(CustdevError):
    pass


class SafeArchive:
    """A zip opened for reading after its table of contents was checked."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.label = self.path.name
        try:
            self.zf = zipfile.ZipFile(self.path)
        except zipfile.BadZipFile:
            raise ArchiveError(N_("{label}: not a REFI-QDA project (not a zip archive); nothing imported"), label=self.label) from None
        except OSError as exc:
            raise ArchiveError(N_("{label}: cannot read ({error})"), label=self.label, error=os_reason(exc)) from None
        infos = self.zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise ArchiveError(N_("{label}: {n:,} files in the archive (at most {limit:,}); nothing imported"), label=self.label, n=len(infos), limit=MAX_MEMBERS)
        total = 0
        self.members: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            name = info.filename
            if not _safe_name(name):
                raise ArchiveError(N_("{label}: unsafe path {name!r} inside the archive (it points outside the project); nothing imported"), label=self.label, name=name)
            total += info.file_size
            if info.file_size > _RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise ArchiveError(
                    N_("{label}: {name!r} would expand {ratio:,} times (a zip bomb?); nothing imported"), label=self.label, name=name, ratio=info.file_size // max(info.compress_size, 1)
                )
            if not info.is_dir():
                self.members[name] = info
        if total > MAX_TOTAL:
            raise ArchiveError(N_("{label}: the archive would expand to {size:.1f} GiB (at most {limit} GiB); nothing imported"), label=self.label, size=total / (1 << 30), limit=MAX_TOTAL >> 30)

    def close(self) -> None:
        self.zf.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def find(self, name: str) -> str | None:
        """The member called ``name``, matched exactly, else case-insensitively (some tools write ``Sources/``)."""
        if name in self.members:
            return name
        folded = name.casefold()
        return next((m for m in self.members if m.casefold() == folded), None)

    def read(self, name: str, limit: int = MAX_TEXT) -> bytes:
        info = self.members[name]
        if info.file_size > limit:
            raise ArchiveError(N_("{label}: {name!r} is {size:.0f} MiB (at most {limit} MiB); nothing imported"), label=self.label, name=name, size=info.file_size / (1 << 20), limit=limit >> 20)
        return self._read_capped(name, limit)

    def _read_capped(self, name: str, limit: int) -> bytes:
        chunks, size = [], 0
        try:
            with self.zf.open(name) as fh:
                while chunk := fh.read(1 << 20):
                    size += len(chunk)
                    if size > limit or size > self.members[name].file_size:
                        raise ArchiveError(N_("{label}: {name!r} expands past its declared size (a zip bomb?); nothing imported"), label=self.label, name=name)
                    chunks.append(chunk)
        except (zipfile.BadZipFile, EOFError, OSError, RuntimeError) as exc:
            raise ArchiveError(N_("{label}: {name!r} is damaged ({error}); nothing imported"), label=self.label, name=name, error=type(exc).__name__) from None
        return b"".join(chunks)

    def copy_to(self, name: str, dest: Path) -> None:
        """Stream one member into ``dest`` (a temporary name the caller renames), enforcing its declared size."""
        info = self.members[name]
        size = 0
        try:
            with self.zf.open(name) as src, open(dest, "wb") as out:
                while chunk := src.read(1 << 20):
                    size += len(chunk)
                    if size > info.file_size:
                        raise ArchiveError(N_("{label}: {name!r} expands past its declared size (a zip bomb?)"), label=self.label, name=name)
                    out.write(chunk)
        except (zipfile.BadZipFile, EOFError, RuntimeError) as exc:
            raise ArchiveError(N_("{label}: {name!r} is damaged ({error})"), label=self.label, name=name, error=type(exc).__name__) from None


def _safe_name(name: str) -> bool:
    if not name or "\x00" in name or "\\" in name or name.startswith("/") or _DRIVE.match(name):
        return False
    return ".." not in PurePosixPath(name).parts
