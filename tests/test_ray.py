"""``custdev import --ray`` on a real local Ray cluster with real audio and the real Whisper model.

A worker killed mid-file has its task retried; a head interrupted with Ctrl-C and run again skips what it wrote
and does the rest; no half-written file in any case; a recording that fails is reported and the others go on.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install -e '.[ray]'; scripts/test installs it)")

from custdev.cli import app  # noqa: E402
from custdev.config import load_base  # noqa: E402
from custdev.ingest import ImportOptions, import_paths  # noqa: E402
from conftest import default_ctrl_c  # noqa: E402
from custdev.markdown import parse_interview  # noqa: E402

pytestmark = pytest.mark.model
DATA = Path(__file__).parent / "data"
TASK_TITLE = b"ray::transcribe_one"


@pytest.fixture(scope="module")
def worker_tmp(tmp_path_factory) -> Path:
    """The temp folder of the cluster's workers (their TMPDIR), where each task writes its copy of a recording."""
    return tmp_path_factory.mktemp("ray-workers-tmp")


@pytest.fixture(scope="module")
def cluster(model_cache, worker_tmp):
    """One real local cluster (2 CPUs) for the module; this test process is its driver."""
    os.environ["CUSTDEV_CACHE"] = str(model_cache)
    # the raylet and so every worker (of this driver's job and of a head started later) get TMPDIR=worker_tmp; Ray
    # keeps its own sessions where it would have (RAY_TMPDIR; a socket path under pytest's folder is too long)
    saved = {k: os.environ.get(k) for k in ("TMPDIR", "RAY_TMPDIR")}
    os.environ["RAY_TMPDIR"] = saved["RAY_TMPDIR"] or saved["TMPDIR"] or "/tmp"
    os.environ["TMPDIR"] = str(worker_tmp)
    try:
        for attempt in (1, 2):  # Ray gives a node 30 s to start; a very busy machine may need a second try
            try:
                ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                         runtime_env={"env_vars": {"CUSTDEV_CACHE": str(model_cache), "HF_HUB_OFFLINE": "1",
                                                   "TMPDIR": str(worker_tmp)}})
                break
            except Exception:  # noqa: BLE001
                ray.shutdown()
                if attempt == 2:
                    raise
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


def _task_dirs_left(worker_tmp: Path) -> list[str]:
    """Temp folders of tasks (each with a copy of a recording) still on disk."""
    return sorted(p.name for p in worker_tmp.glob("custdev-ray-*"))


def _decode(path: Path) -> np.ndarray:
    import av

    with av.open(str(path)) as f:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=16000)
        chunks = [r.to_ndarray().reshape(-1) for frame in f.decode(audio=0) for r in resampler.resample(frame)]
    return np.concatenate(chunks)


def _wav(path: Path, samples: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(samples.astype("<i2").tobytes())
    return path


def _our_task_pids() -> list[int]:
    """Ray worker processes of *this* test's cluster that are running a transcription task right now."""
    me = os.getpid()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if not (entry / "cmdline").read_bytes().startswith(TASK_TITLE):
                continue
            pid = int(entry.name)
            parent = pid
            for _ in range(6):  # worker <- raylet <- this process
                parent = int((Path("/proc") / str(parent) / "stat").read_text().rsplit(")", 1)[1].split()[1])
                if parent == me:
                    found.append(pid)
                    break
                if parent <= 1:
                    break
        except (OSError, ValueError, IndexError):
            continue
    return found


def _no_half_files(base: Path) -> None:
    left = [p for p in base.rglob("*") if ".tmp-" in p.name]
    assert not left, left
    for md in (base / "interviews").glob("*.md"):
        parse_interview(md.read_text(encoding="utf-8"), md.name)
        side = md.with_name(md.stem + ".words.json")
        if side.exists():
            json.loads(side.read_text(encoding="utf-8"))


def test_killed_worker_is_retried_and_a_bad_recording_is_reported(cluster, empty_base, tmp_path, worker_tmp):
    folder = tmp_path / "calls"
    folder.mkdir()
    jfk = _decode(DATA / "jfk.ogg")
    # JFK after 0.5 s of silence (11.5 s; not a copy of the one below): its task takes seconds, so the killer (one
    # second after the task wrote its copy) finds it mid-file. Not JFK twice: the repeated text sent Whisper through
    # every temperature (38 CPU s, and again for the retry).
    _wav(folder / "call.wav", np.concatenate([np.zeros(8000, dtype=jfk.dtype), jfk]))
    shutil.copy(DATA / "jfk.ogg", folder / "2026-03-02-jfk.ogg")
    shutil.copy(DATA / "silence.ogg", folder / "silence.ogg")  # no speech
    (folder / "notes.mp3").write_text("not audio at all")  # corrupt
    (folder / "kate.vtt").write_text("WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nKate: How do you send invoices?\n\n"
                                     "00:00:05.000 --> 00:00:09.000\nJohn: By hand, every month.\n", encoding="utf-8")
    killed: list[int] = []
    stop = threading.Event()

    def killer() -> None:
        seen: dict[int, float] = {}
        while not stop.is_set() and not killed:
            now = time.monotonic()
            for pid in _our_task_pids():
                if not list(worker_tmp.glob(f"custdev-ray-{pid}-*")):
                    continue  # the task has not written its copy of the recording yet
                seen.setdefault(pid, now)
                if now - seen[pid] >= 1.0:  # the task has been decoding/transcribing for a while: kill its worker
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    break
            time.sleep(0.1)

    events = []
    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    try:
        summary = import_paths(load_base(empty_base), [folder], ImportOptions(ray="auto"), progress=events.append)
    finally:
        stop.set()
        thread.join()
    assert killed, "no transcription task was seen running"
    by_name = {Path(f.source).name: f for f in summary.files}
    assert by_name["call.wav"].status == "created" and by_name["2026-03-02-jfk.ogg"].status == "created"
    assert by_name["kate.vtt"].status == "created"
    assert by_name["silence.ogg"].status == "failed" and "no speech found" in by_name["silence.ogg"].message
    assert by_name["notes.mp3"].status == "failed" and "notes.mp3" in by_name["notes.mp3"].message
    assert summary.build and summary.build["total"] == 3
    respondents = [parse_interview((empty_base / f.interview).read_text(encoding="utf-8")).respondent
                   for f in summary.files if f.status == "created" and f.kind == "recording"]
    assert sorted(respondents) == sorted(set(respondents)) and all(r.startswith("Respondent ") for r in respondents), respondents
    text = (empty_base / by_name["call.wav"].interview).read_text(encoding="utf-8").lower()
    text = text.replace("{?", "").replace("?}", "")  # words marked uncertain are still the words said
    # the whole speech, whatever punctuation the decoder chose: its first and last words (a decode under load has
    # also heard "asked, not what you're country" in the middle)
    words = " ".join(re.findall(r"\w+", text))
    assert "my fellow americans" in words and "do for your country" in words, text
    jfk_md = empty_base / by_name["2026-03-02-jfk.ogg"].interview
    assert "date: '2026-03-02'" in jfk_md.read_text(encoding="utf-8") and "source_sha256:" in jfk_md.read_text(encoding="utf-8")
    assert jfk_md.with_name(jfk_md.stem + ".words.json").exists()
    stats = [e.stats for e in events if e.kind == "cluster"]
    assert stats[-1]["files_done"] == stats[-1]["files_total"] == 3  # the three recordings that reached the cluster
    assert stats[-1]["audio_done_h"] == pytest.approx((11.5 + 11 + 4) / 3600, abs=0.001)
    assert stats[-1]["speed_x_real_time"] > 0 and stats[-1]["eta_s"] == 0
    _no_half_files(empty_base)
    # the killed worker's temp folder (a copy of a recording) was removed by the task that ran after it
    assert _task_dirs_left(worker_tmp) == []


def test_interrupted_head_resumes_and_skips_what_it_wrote(cluster, empty_base, tmp_path, model_cache, worker_tmp):
    folder = tmp_path / "calls"
    folder.mkdir()
    # more recordings than the decoders finish between the first interview and the Ctrl-C (all different: a copy
    # of one would count as already there), cheap ones: JFK (5 CPU s), en_de_switch (12), then JFK after 0.1-0.3 s
    # of silence (5 each); the five fixtures up to call_stereo (34) and ru_mono took 85 CPU s. The head sends them in
    # name order and Ray runs the first two side by side: when the first is written (and the Ctrl-C lands) the second
    # is not even half done. With five near-equal JFK copies the first two finished together, the Ctrl-C landed
    # while Ray completed the second, and Ray 2's driver aborted ("Tried to complete task that was not pending").
    # (Not JFK twice in one file: its repeated text sends Whisper through every temperature, 38 CPU s.)
    jfk = _decode(DATA / "jfk.ogg")
    shutil.copy(DATA / "jfk.ogg", folder / "a-jfk.ogg")
    shutil.copy(DATA / "en_de_switch.ogg", folder / "b-en-de.ogg")
    for k, name in enumerate(("c-jfk.wav", "d-jfk.wav", "e-jfk.wav"), 1):
        _wav(folder / name, np.concatenate([np.zeros(1600 * k, dtype=jfk.dtype), jfk]))
    # --ray joins the cluster this machine belongs to (RAY_ADDRESS here), as after "ray start --head"
    env = {**os.environ, "CUSTDEV_CACHE": str(model_cache), "HF_HUB_OFFLINE": "1", "RAY_ADDRESS": cluster}
    cmd = [sys.executable, "-m", "custdev", "import", str(folder), "--base", str(empty_base), "--no-build", "--json", "--ray"]
    head = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_ctrl_c)
    interviews = empty_base / "interviews"
    deadline = time.monotonic() + 120
    while not list(interviews.glob("*.md")) and time.monotonic() < deadline and head.poll() is None:
        time.sleep(0.05)
    head.send_signal(signal.SIGINT)  # Ctrl-C once the first interview is written
    out, errs = head.communicate(timeout=60)
    assert head.returncode == 130, errs
    first = json.loads(out)
    assert first["interrupted"] and 1 <= first["created"] < 5
    written = sorted(p.name for p in interviews.glob("*.md"))
    assert len(written) == first["created"]
    _no_half_files(empty_base)

    again = CliRunner().invoke(app, ["import", str(folder), "--base", str(empty_base), "--json", "--ray-address", cluster])
    assert again.exit_code == 0, again.output
    second = json.loads(again.stdout)
    assert second["skipped"] == first["created"] and second["created"] == 5 - first["created"]
    assert second["build"]["total"] == 5
    assert set(written) <= {p.name for p in interviews.glob("*.md")}
    _no_half_files(empty_base)
    # the tasks the Ctrl-C cancelled (their workers killed) left copies of recordings; the next run removed them
    assert _task_dirs_left(worker_tmp) == []


def test_temp_folders_of_dead_workers_are_swept_and_live_ones_kept(tmp_path):
    from custdev.distributed import TASK_DIR_PREFIX, sweep_task_dirs

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    dead = tmp_path / f"{TASK_DIR_PREFIX}{int(gone.stdout)}-abc123"
    live = tmp_path / f"{TASK_DIR_PREFIX}{os.getpid()}-def456"
    other = tmp_path / f"{TASK_DIR_PREFIX}bench-xyz"  # not a task's folder (bench/ray_bench.py)
    for folder in (dead, live, other):
        folder.mkdir()
        (folder / "call.ogg").write_bytes(b"OggS")
    assert sweep_task_dirs(tmp_path) == [dead]
    assert not dead.exists() and live.exists() and other.exists()


def test_ray_missing_or_bad_address_is_one_line(empty_base, tmp_path):
    result = CliRunner().invoke(app, ["import", str(DATA / "jfk.ogg"), "--base", str(empty_base), "--ray-address", "nowhere"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: Ray address 'nowhere': use auto, local, ray://HOST:PORT or HOST:PORT"


def test_ray_setting_in_custdev_toml(empty_base):
    from custdev.cli.imports import _ray_address

    toml = empty_base / "custdev.toml"
    toml.write_text(toml.read_text().replace('model = "base"', 'model = "base"\nray = "ray://head:10001"'))
    b = load_base(empty_base)
    assert b.config.ray == "ray://head:10001"
    assert _ray_address(None, None, b) == "ray://head:10001"  # the setting
    assert _ray_address(False, None, b) is None  # --no-ray
    assert _ray_address(None, "local", b) == "local"  # --ray-address wins
    toml.write_text(toml.read_text().replace('ray = "ray://head:10001"', "ray = 5"))
    result = CliRunner().invoke(app, ["import", str(DATA / "jfk.ogg"), "--base", str(empty_base)])
    assert result.exit_code == 1 and "transcription.ray must be" in result.stderr


def test_plain_import_never_loads_ray(empty_base):
    code = ("import sys; from typer.testing import CliRunner; from custdev.cli import app; "
            f"r = CliRunner().invoke(app, ['import', {str(DATA / 'silence.ogg')!r}, '--base', {str(empty_base)!r}, '--quiet']); "
            "print(r.exit_code, 'ray' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "CUSTDEV_CACHE": os.environ["CUSTDEV_CACHE"]})
    assert out.stdout.split() == ["1", "False"], out.stderr  # silence: no speech (exit 1), and Ray never imported
