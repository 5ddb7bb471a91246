"""Attacks and accidents from issue #8 that must not lose data or crash: a build in a published copy, symlinks out
of the base, hostile sidecars, huge files, read-only bases, locks, killed builds, HTML in the report, and
imported `audio:` lines that point at other files."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from custdev.build import build_base
from custdev.cli import app
from custdev.markdown import parse_interview

runner = CliRunner()
REPO = Path(__file__).resolve().parent.parent

CODEBOOK = """\
segments:
  - slug: smb
    title: Small business
pains:
  - slug: late-payments
    title: Late payments
"""


def interview(iid: str, title: str = "Anna at Acme", extra: str = "consent: publish\n", body: str | None = None) -> str:
    body = body or (
        "**[00:00:05] Maria:** How do you send invoices?\n\n"
        "**[00:00:12] Anna:** ==Clients pay a month late== #pain/late-payments\n"
    )
    return f"---\nid: {iid}\ntitle: {title}\ninterviewer: Maria\nrespondent: Anna {iid}\nsegments: [smb]\nlanguage: en\n{extra}---\n\n{body}"


def run(*args) -> object:
    return runner.invoke(app, [str(a) for a in args])


def count(base: Path, sql: str = "SELECT count(*) FROM interviews") -> int:
    conn = sqlite3.connect(base / "custdev.db")
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


@pytest.fixture
def base(empty_base: Path) -> Path:
    (empty_base / "codebook.yml").write_text(CODEBOOK, encoding="utf-8")
    for n in (1, 2, 3):
        (empty_base / "interviews" / f"i{n}.md").write_text(interview(f"i{n}"), encoding="utf-8")
    return empty_base


def error_lines(result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("Error:")]


# -- data loss ---------------------------------------------------------------------------------------------------


def test_build_in_a_published_copy_refuses_and_keeps_every_interview(base, tmp_path):
    build_base(base)
    shared = tmp_path / "shared"
    assert run("publish", shared, "--base", base, "--quiet").exit_code == 0
    before = count(shared)
    result = run("build", "--base", shared)
    assert result.exit_code == 1
    assert error_lines(result) == [
        f"Error: {shared} is a published copy (custdev publish): it has no interview files, and building would empty its "
        "database; build in the original research base and publish again"
    ]
    assert "removed" not in result.output
    assert count(shared) == before == 3


def test_build_without_the_interviews_folder_refuses_instead_of_emptying_the_database(base):
    build_base(base)
    (base / "interviews").rename(base / "interviews-moved")
    result = run("build", "--base", base)
    assert result.exit_code == 1 and "holds 3 interviews; building would remove them all" in result.output
    assert count(base) == 3


# -- symlinks and hostile files ------------------------------------------------------------------------------------


def test_a_symlink_to_a_file_outside_the_base_is_refused_by_name(base, tmp_path):
    secret = tmp_path / "elsewhere" / "secret.md"
    secret.parent.mkdir()
    secret.write_text(interview("secret", title="Payroll of everyone"), encoding="utf-8")
    (base / "interviews" / "evil.md").symlink_to(secret)
    outside_dir = tmp_path / "elsewhere-dir"
    outside_dir.mkdir()
    (outside_dir / "x.md").write_text(interview("x", title="Also secret"), encoding="utf-8")
    (base / "interviews" / "linked").symlink_to(outside_dir, target_is_directory=True)
    inside = base / "interviews" / "alias.md"
    inside.symlink_to(base / "interviews" / "i1.md")  # a link inside the base is fine (it duplicates i1's id)
    result = run("build", "--base", base)
    assert result.exit_code == 1
    assert "Error: interviews/evil.md: a symbolic link to a file outside the research base; refused" in result.output
    assert count(base, "SELECT count(*) FROM interviews WHERE title LIKE '%secret%' OR title LIKE 'Payroll%'") == 0
    assert count(base) == 3


def test_a_deeply_nested_sidecar_fails_only_its_own_file_by_name(base):
    (base / "interviews" / "i2.words.json").write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    (base / "interviews" / "i3.words.json").write_text('{"version": 1, "turns": [{"words": [[1, 2, 3, 4]], "start": {"a": 1}}]}', encoding="utf-8")
    result = run("build", "--base", base)
    assert result.exit_code == 1
    assert "unexpected" not in result.output
    assert error_lines(result) == [
        "Error: interviews/i2.md: the word-timestamp file i2.words.json is nested too deeply; delete it to use turn times"
    ]
    assert count(base) == 2  # i1 and i3 built (i3 odd sidecar is ignored), i2 not stored at all
    assert count(base, "SELECT count(*) FROM interviews WHERE id = 'i2'") == 0


def test_parsing_is_linear_in_the_number_of_turns():
    """80,000 turns took 18 s (150 s on a loaded machine) with the quadratic end-time pass."""
    def text(turns: int) -> str:
        parts = ["---\nid: big\n---\n"]
        for n in range(turns):
            t = n * 2
            parts.append(f"**[{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}] {'Maria' if n % 2 else 'Anna'}:** Short answer.\n")
        return "\n".join(parts)

    import gc

    small, big = text(2_000), text(32_000)
    gc.disable()  # CPU time without collector pauses: a fair measure on a busy machine
    try:
        t0 = time.process_time()
        parse_interview(small)
        t_small = time.process_time() - t0
        t0 = time.process_time()
        parsed = parse_interview(big)
        t_big = time.process_time() - t0
    finally:
        gc.enable()
    assert len(parsed.turns) == 32_000 and parsed.turns[-2].end_s == parsed.turns[-1].start_s
    assert t_big < 16 * t_small * 2.5, (t_small, t_big)  # 16x the turns: linear ~16x, quadratic ~256x


# -- read-only bases and locks -------------------------------------------------------------------------------------


def _as_reader(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run a custdev command as someone who cannot write the base. Root ignores file modes, so as root the command
    runs without the capabilities that override them (it still owns the files, whose modes say read only)."""
    env = {k: v for k, v in os.environ.items() if k != "CUSTDEV_BASE"}
    env["CUSTDEV_CACHE"] = str(cwd / "cache")
    prefix: list[str] = []
    if os.geteuid() == 0:
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]
    return subprocess.run([*prefix, sys.executable, "-m", "custdev", *cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def readonly_base(base):
    tmp = Path(tempfile.mkdtemp(prefix="custdev-ro-"))
    os.chmod(tmp, 0o755)
    ro = tmp / "base"
    shutil.copytree(base, ro)
    build_base(ro)
    (tmp / "cache").mkdir()
    os.chmod(tmp / "cache", 0o777)
    for path in sorted(ro.rglob("*"), reverse=True):
        os.chmod(path, 0o555 if path.is_dir() else 0o444)
    os.chmod(ro, 0o555)
    yield ro
    for path in [ro, *ro.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    shutil.rmtree(tmp, ignore_errors=True)


def test_a_read_only_base_answers_read_only_commands(readonly_base):
    if os.geteuid() == 0 and not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv (util-linux): cannot make the base read only")
    for cmd in (["search", "invoices"], ["pains"], ["segments"], ["report", "--format", "md"]):
        result = _as_reader([*cmd, "--base", str(readonly_base)], readonly_base.parent)
        assert result.returncode == 0, (cmd, result.stderr)
        assert "build --full" not in result.stderr
    build = _as_reader(["build", "--base", str(readonly_base)], readonly_base.parent)
    assert build.returncode == 1 and "Traceback" not in build.stderr
    assert "read only" in build.stderr and "build --full" not in build.stderr, build.stderr


def test_a_read_only_base_is_served_with_pages_and_search(readonly_base):
    """A real `custdev serve` run by someone who cannot write the base (folder and db read only): it starts without a
    build, says so, and answers the home page, an interview, search (page and JSON) and the charts."""
    import json
    import re
    import urllib.request

    if os.geteuid() == 0 and not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv (util-linux): cannot make the base read only")
    cwd = readonly_base.parent
    env = {k: v for k, v in os.environ.items() if k != "CUSTDEV_BASE"}
    env["CUSTDEV_CACHE"] = str(cwd / "cache")
    prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"] if os.geteuid() == 0 else []
    before = sorted(p.relative_to(readonly_base).as_posix() for p in readonly_base.rglob("*"))
    log = open(cwd / "cache" / "serve.log", "w+")
    proc = subprocess.Popen(
        [*prefix, sys.executable, "-m", "custdev", "serve", "--base", str(readonly_base), "--port", "0", "--no-open", "--quiet", "--workers", "1"],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=log, text=True,
    )
    try:
        url = None
        deadline = time.time() + 90
        while url is None and time.time() < deadline:
            line = proc.stdout.readline()
            if not line:
                log.seek(0)
                raise AssertionError(f"custdev serve exited on a read-only base: {log.read()}")
            m = re.search(r"(http://127\.0\.0\.1:\d+)", line)
            url = m.group(1) if m else None
        assert url, "custdev serve printed no URL"

        def get(path: str) -> tuple[int, str]:
            with urllib.request.urlopen(url + path, timeout=60) as r:
                return r.status, r.read().decode("utf-8")

        assert get("/")[0] == 200
        status, page = get("/custdev/interviews/i1")
        assert status == 200 and "Clients pay a month late" in page
        status, page = get("/custdev/search?q=invoices")
        assert status == 200 and "How do you send invoices?" in re.sub(r"<[^>]+>", "", page)  # hits carry <mark>s
        status, body = get("/custdev/search.json?q=late&_shape=objects")
        assert status == 200 and len(json.loads(body)["rows"]) == 3
        assert get("/-/charts")[0] == 200
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.seek(0)
        err = log.read()
        log.close()
    assert "read only" in err and "Traceback" not in err, err
    assert sorted(p.relative_to(readonly_base).as_posix() for p in readonly_base.rglob("*")) == before  # nothing written


def test_a_locked_database_is_named_as_a_lock(base, monkeypatch):
    import custdev.db

    build_base(base)
    (base / "interviews" / "i1.md").write_text(interview("i1", title="Changed"), encoding="utf-8")
    monkeypatch.setattr(custdev.db, "BUSY_TIMEOUT_S", 0.2)
    holder = sqlite3.connect(base / "custdev.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = run("build", "--base", base)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 1
    assert error_lines(result) == [
        "Error: the database is locked by another program (a running custdev build, import or publish?); "
        "try again when it is done"
    ]


# -- worker processes ----------------------------------------------------------------------------------------------


def _children(pid: int) -> set[int]:
    out: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out |= {int(x) for x in (task / "children").read_text().split()}
        except OSError:
            pass
    return out


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_build_workers_die_when_the_build_is_killed(base):
    body = "".join(f"**[00:{n // 60:02d}:{n % 60:02d}] {'Maria' if n % 2 else 'Anna'}:** We send invoices by hand every month. #pain/late-payments\n\n" for n in range(1500))
    for n in range(4, 260):
        (base / "interviews" / f"i{n}.md").write_text(interview(f"i{n}", body=body), encoding="utf-8")
    script = "import sys; from custdev.build import build_base; build_base(sys.argv[1], workers=2)"
    proc = subprocess.Popen([sys.executable, "-c", script, str(base)])
    try:
        deadline = time.monotonic() + 60
        workers: set[int] = set()
        while time.monotonic() < deadline and len(workers) < 2 and proc.poll() is None:
            workers = _children(proc.pid)
            time.sleep(0.05)
        assert len(workers) >= 2, "the build never started its worker processes"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 10
        alive = workers
        while alive and time.monotonic() < deadline:
            alive = {w for w in alive if Path(f"/proc/{w}").exists() and "(Z)" not in _state(w)}
            time.sleep(0.1)
        assert not alive, f"workers still running after the build was killed: {alive}"
    finally:
        if proc.poll() is None:
            proc.kill()


def _state(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "(Z)"
    return "(Z)" if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X") else "(R)"


# -- the markdown report ---------------------------------------------------------------------------------------------


def test_the_markdown_report_shows_html_in_the_data_as_text(base):
    hostile = interview(
        "i1", title="<script>alert(1)</script>",
        body="**[00:00:05] Maria:** Hi\n\n**[00:00:12] Anna:** ==<img src=x onerror=alert(2)> and [click](javascript:alert(3)) pay late== #pain/late-payments\n",
    )
    (base / "interviews" / "i1.md").write_text(hostile, encoding="utf-8")
    (base / "codebook.yml").write_text(CODEBOOK.replace("title: Late payments", "title: \"Late <b onmouseover=alert(4)>payments</b>\""), encoding="utf-8")
    build_base(base)
    result = run("report", "--format", "md", "--base", base)
    assert result.exit_code == 0, result.output
    md = result.stdout
    for raw in ("<script", "<img", "<b ", "[click](javascript:"):
        assert raw not in md
    assert "&lt;img src=x onerror=alert(2)&gt;" in md and "&lt;b onmouseover=alert(4)&gt;" in md


# -- imported audio: lines ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("audio", ["custdev.toml", "custdev.db", ".custdev/site_secret", "../../etc/passwd", "audio/../custdev.toml", "audio/notes.txt", "/etc/passwd"])
def test_an_imported_transcript_never_keeps_an_audio_line_that_is_not_a_recording(empty_base, tmp_path, audio):
    (empty_base / "audio").mkdir()
    (empty_base / "audio" / "notes.txt").write_text("not a recording", encoding="utf-8")
    src = tmp_path / "call.md"
    src.write_text(f"---\nid: call\naudio: {audio}\n---\n\n**[00:00:01] Kate:** Hello?\n\n**[00:00:03] John:** Hi.\n", encoding="utf-8")
    result = run("import", src, "--base", empty_base, "--quiet")
    assert (empty_base / "interviews" / "call.md").exists(), result.output  # imported, with a warning
    text = (empty_base / "interviews" / "call.md").read_text(encoding="utf-8")
    assert "audio:" not in text.split("\n---", 1)[0]
    assert f"call.md: dropped 'audio: {audio}' (not a recording in the base's audio/ folder)" in result.output


def test_an_imported_transcript_keeps_a_recording_under_audio(empty_base, tmp_path):
    (empty_base / "audio").mkdir()
    (empty_base / "audio" / "call.ogg").write_bytes(b"OggS")
    src = tmp_path / "call.md"
    src.write_text("---\nid: call\naudio: audio/call.ogg\n---\n\n**[00:00:01] Kate:** Hello?\n", encoding="utf-8")
    assert run("import", src, "--base", empty_base, "--quiet").exit_code == 0
    assert "audio: audio/call.ogg" in (empty_base / "interviews" / "call.md").read_text(encoding="utf-8")
