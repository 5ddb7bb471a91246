"""How many requests a server process works on at once, and which process keeps a visitor's connection.

Page rendering holds Python's GIL, so a process working on ten requests at once answers each of them ten times
slower, the short ones too. Admitted in arrival order, a request waits for those before it and then runs with at
most one other: about the same throughput, and latencies that no longer grow with the dearest requests in flight.
Two at a time, not one, so that one slow request (a custom SQL query may run for seconds) does not hold up
everyone behind it, and one request's SQL (which runs without the GIL) overlaps another's page.
Recordings and static files are not counted: they are cheap to send, and a recording may stream for minutes.

A browser keeps its connection to the process that accepted it, and the processes of ``custdev serve`` share one
listening socket, so one process may end up with most of the visitors (14 of 20 in a load test) while the other
idles between its own. Each process publishes how many requests it has (:class:`Loads`: 8 bytes per process in a
small file they all map). A process with more than SHED_MARGIN requests above the least loaded one closes the
connection after its answer (``connection: close``); the visitor reconnects at once (browsers and HTTP clients do),
and the less busy process, the one waiting in ``accept``, tends to take it.
"""

from __future__ import annotations

import asyncio
import mmap
import os
import struct

from custdev.processes import alive
from custdev.site.settings import AUDIO_PREFIX, REQUESTS_AT_ONCE, SITE_AT_ONCE_ENV, STATIC_PREFIXES

_UNCOUNTED = (AUDIO_PREFIX, *STATIC_PREFIXES)
SHED_MARGIN = 2
LOADS_ENV = "CUSTDEV_SITE_LOADS"  # the file of the server processes' loads, made by `custdev serve`
_SLOTS = 64  # processes (`serve --workers` allows 32)
_SLOT = struct.Struct("<ii")  # pid, requests in that process now
SIZE = _SLOTS * _SLOT.size


def requests_at_once() -> int:
    """REQUESTS_AT_ONCE, or the number in CUSTDEV_SITE_AT_ONCE (0: no limit; for benchmarks)."""
    value = os.environ.get(SITE_AT_ONCE_ENV, "")
    return int(value) if value.isdigit() else REQUESTS_AT_ONCE


class Loads:
    """The number of requests in each server process, in a file every process maps; each writes its own slot."""

    def __init__(self, path: str, pid: int | None = None):
        import fcntl

        self.pid = pid or os.getpid()
        fd = os.open(path, os.O_RDWR)
        try:
            self.map = mmap.mmap(fd, SIZE)
            fcntl.flock(fd, fcntl.LOCK_EX)  # one process at a time picks its slot
            try:
                self.slot = self._claim()
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)  # explicitly: the map holds a duplicate of fd, closing fd keeps the lock
        finally:
            os.close(fd)

    def _claim(self) -> int | None:
        for i in range(_SLOTS):
            owner, _ = _SLOT.unpack_from(self.map, i * _SLOT.size)
            if owner in (0, self.pid) or not alive(owner):  # a free slot, or one a stopped process left
                _SLOT.pack_into(self.map, i * _SLOT.size, self.pid, 0)
                return i
        return None

    def set(self, requests: int) -> None:
        if self.slot is not None:
            _SLOT.pack_into(self.map, self.slot * _SLOT.size, self.pid, requests)

    def least_other(self) -> int | None:
        """The fewest requests any other server process has now (None: no other process)."""
        least = None
        for i in range(_SLOTS):
            owner, requests = _SLOT.unpack_from(self.map, i * _SLOT.size)
            if owner and owner != self.pid and (least is None or requests < least):
                least = requests
        return least


def loads_shared_here() -> bool:
    """Whether the processes can share their loads here (POSIX: a mapped file, flock, a slot freed when its process
    stops); elsewhere each process just queues its own requests."""
    return os.name == "posix"


def new_loads_file() -> str:
    """An empty loads file for the server processes about to start (the caller removes it when they stop)."""
    import tempfile

    fd, path = tempfile.mkstemp(prefix="custdev-site-loads-")
    try:
        os.write(fd, bytes(SIZE))
    finally:
        os.close(fd)
    return path


def shared_loads() -> Loads | None:
    """This server process's view of the loads file `custdev serve` made (None when it runs alone)."""
    path = os.environ.get(LOADS_ENV)
    if not path or not loads_shared_here():
        return None
    try:
        return Loads(path)
    except (OSError, ValueError):
        return None


def admission(app, limit: int | None = None, loads: Loads | None = None):
    """ASGI wrapper: at most ``limit`` HTTP requests of ``app`` at once in this process, the others queued in order;
    with ``loads``, a request answered while this process is SHED_MARGIN over the least loaded one closes its connection."""
    limit = requests_at_once() if limit is None else limit
    if limit <= 0:
        return app
    turns: list[asyncio.Semaphore] = []  # made in the server's event loop, on the first request
    count = [0]  # requests in this process: admitted or waiting

    def moved(delta: int) -> None:
        count[0] += delta
        if loads is not None:
            loads.set(count[0])

    async def admitted(scope, receive, send):
        if scope.get("type") != "http" or scope.get("path", "").startswith(_UNCOUNTED):
            return await app(scope, receive, send)
        if not turns:
            turns.append(asyncio.Semaphore(limit))  # asyncio wakes its waiters first come, first served
        moved(+1)
        try:
            async with turns[0]:
                return await app(scope, receive, send if loads is None else shedding(send))
        finally:
            moved(-1)

    def shedding(send):
        async def send_or_shed(message):
            if message["type"] == "http.response.start":
                least = loads.least_other()
                if least is not None and count[0] > least + SHED_MARGIN:
                    message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        return send_or_shed

    return admitted
