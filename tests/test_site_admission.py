"""The site's server processes take requests in turn (custdev.site.admission)."""

import asyncio

from custdev.site.admission import admission, requests_at_once
from custdev.site.settings import REQUESTS_AT_ONCE, SITE_AT_ONCE_ENV


def _serve(paths, limit):
    """Start one request per path at once against a page that takes 20 ms; return (most in flight, finish order)."""
    state = {"now": 0, "most": 0}
    finished = []

    async def page(scope, receive, send):
        state["now"] += 1
        state["most"] = max(state["most"], state["now"])
        await asyncio.sleep(0.02)
        state["now"] -= 1
        finished.append(scope["path"])

    app = admission(page, limit)

    async def main():
        tasks = []
        for path in paths:
            tasks.append(asyncio.create_task(app({"type": "http", "path": path}, None, None)))
            await asyncio.sleep(0)  # arrival order
        await asyncio.gather(*tasks)

    asyncio.run(main())
    return state["most"], finished


def test_pages_are_served_a_few_at_a_time_in_arrival_order():
    paths = [f"/custdev/search?q={i}" for i in range(8)]
    most, finished = _serve(paths, 2)
    assert most == 2
    assert finished == paths  # first come, first served
    assert _serve(paths, 0)[0] == 8  # 0: no limit


def test_recordings_and_static_files_do_not_wait_for_pages():
    paths = ["/custdev/search?q=a", "/custdev/search?q=b", "/-/custdev/audio/2026-01-01-anna", "/-/custdev/static/custdev.css"]
    most, finished = _serve(paths, 1)
    assert most == 3  # one page, plus the recording and the stylesheet beside it
    assert finished[-1] == "/custdev/search?q=b"


def test_the_limit_comes_from_the_environment_for_benchmarks(monkeypatch):
    monkeypatch.delenv(SITE_AT_ONCE_ENV, raising=False)
    assert requests_at_once() == REQUESTS_AT_ONCE
    monkeypatch.setenv(SITE_AT_ONCE_ENV, "0")
    assert requests_at_once() == 0
    monkeypatch.setenv(SITE_AT_ONCE_ENV, "many")
    assert requests_at_once() == REQUESTS_AT_ONCE


def test_a_process_busier_than_the_others_hands_connections_back(tmp_path):
    """Seen in the load test: the 20 keep-alive connections split 14/6 (or 15/5) between the two server processes,
    and the 14 waited for each other while the other process idled between its 6."""
    import os

    from custdev.site.admission import SHED_MARGIN, Loads, new_loads_file

    path = new_loads_file()
    try:
        other = Loads(path, pid=os.getppid())  # a live process that is not this one: the other server
        mine = Loads(path)
        assert (mine.slot, other.slot) == (1, 0) and mine.least_other() == 0
        other.set(3)
        headers_sent = []

        async def page(scope, receive, send):
            await asyncio.sleep(0.01)  # the others arrive meanwhile, and wait
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        async def send(message):
            if message["type"] == "http.response.start":
                headers_sent.append(dict(message["headers"]))

        app = admission(page, 2, loads=mine)

        async def requests(n):
            await asyncio.gather(*(app({"type": "http", "path": "/custdev/search"}, None, send) for _ in range(n)))

        async def both():
            await requests(3 + SHED_MARGIN)  # as many as the other's 3 plus the margin: keep the connections
            assert all(b"connection" not in h for h in headers_sent)
            headers_sent.clear()
            await requests(3 + SHED_MARGIN + 2)  # more: the first answers close their connections

        asyncio.run(both())
        closes = [h.get(b"connection") for h in headers_sent]
        assert closes == [b"close", b"close"] + [None] * (3 + SHED_MARGIN)  # until this process is back within the margin
        assert mine.least_other() == 3 and Loads(path).slot == 1  # this process's slot again, not a new one
    finally:
        os.unlink(path)


def test_a_stopped_process_leaves_its_slot_to_the_next(tmp_path):
    import os
    import subprocess

    from custdev.site.admission import Loads, new_loads_file

    gone = subprocess.Popen(["true"])
    gone.wait()
    path = new_loads_file()
    try:
        old = Loads(path, pid=gone.pid)
        old.set(7)
        assert Loads(path).slot == old.slot == 0  # the stopped process's slot, and its count no longer counts
        assert Loads(path, pid=os.getppid()).least_other() == 0
    finally:
        os.unlink(path)


def test_outside_posix_no_process_is_signalled_and_each_process_queues_alone(monkeypatch):
    """On Windows os.kill(pid, 0) ends the process: a server process must never call it on its siblings there."""
    import os
    from types import SimpleNamespace

    from custdev import processes
    from custdev.site import admission as adm

    def kill(pid, sig):
        raise AssertionError(f"os.kill({pid}, {sig}) outside POSIX")

    monkeypatch.setattr(processes, "os", SimpleNamespace(name="nt", kill=kill))
    assert processes.alive(os.getppid()) and processes.alive(2**22 + 12345)
    monkeypatch.setattr(adm, "os", SimpleNamespace(name="nt", environ={adm.LOADS_ENV: "/nonexistent"}, getpid=os.getpid))
    assert not adm.loads_shared_here() and adm.shared_loads() is None
