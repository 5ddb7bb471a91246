"""``custdev record`` for real, without hardware: a PulseAudio null sink is the microphone; paplay plays into it.

scripts/test installs pulseaudio, pulseaudio-utils, libportaudio2 and libasound2-plugins (ALSA's pulse device,
through which PortAudio records). The daemon runs in a private runtime folder and is stopped by its PID.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bench.transcribe_bench import wer
from conftest import default_ctrl_c

DATA = Path(__file__).parent / "data"
JFK_TEXT = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
CUSTDEV = [sys.executable, "-c", "from custdev.cli import main; main()"]


@pytest.fixture(scope="module")
def pulse(tmp_path_factory, model_cache):
    """The environment of a `custdev record` child: the null sink's microphone, and the run's model cache (this
    module fixture is made before conftest's per-test settings are: without it the child reassembled the model into
    the user's own cache, and kept its import checkpoints there)."""
    if not shutil.which("pulseaudio") or not shutil.which("paplay"):
        pytest.skip("needs pulseaudio and paplay (scripts/test installs them)")
    run = tmp_path_factory.mktemp("pulse")
    env = {**os.environ, "XDG_RUNTIME_DIR": str(run), "PULSE_SERVER": f"unix:{run}/pulse/native", "PULSE_SOURCE": "mic.monitor",
           "CUSTDEV_CACHE": str(model_cache), "HF_HUB_OFFLINE": "1"}
    subprocess.run(["pulseaudio", "--daemonize=yes", "--exit-idle-time=-1", "-n", "--load=module-null-sink sink_name=mic",
                    "--load=module-native-protocol-unix"], env=env, check=True, capture_output=True)
    pid = int((run / "pulse" / "pid").read_text().split()[0])
    try:
        yield env
    finally:
        os.kill(pid, signal.SIGTERM)


def _wait_for(path: Path, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not (path.exists() and path.stat().st_size > 0):
        if time.monotonic() > end:
            raise AssertionError(f"{path} was not created")
        time.sleep(0.1)


def _decoded_seconds(path: Path) -> tuple[float, float]:
    from custdev.speech import iter_audio

    audio = np.concatenate(list(iter_audio(path, stereo=False)), axis=1)[0]
    return len(audio) / 16000, float(np.abs(audio).max(initial=0.0))


def test_list_devices_shows_the_pulse_input(pulse, empty_base):
    out = subprocess.run([*CUSTDEV, "record", "--list-devices"], env=pulse, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert re.search(r"^\s*\d+ [ *] (pulse|default) \(", out.stdout, re.M)


def test_a_killed_recording_keeps_every_second_until_then(pulse, empty_base):
    proc = subprocess.Popen([*CUSTDEV, "record", "--base", str(empty_base), "--name", "crash", "--no-transcribe", "--quiet"],
                            env=pulse, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_ctrl_c)
    path = empty_base / "audio" / "crash.ogg"
    try:
        _wait_for(path)
        time.sleep(3.0)
    finally:
        proc.kill()  # as hard as a crash: no chance to finish the file
        proc.wait(timeout=30)
    seconds, _ = _decoded_seconds(path)
    assert seconds >= 2.0  # pages are flushed as they are written: at most a moment is lost


@pytest.mark.model
def test_record_a_played_file_stop_with_ctrl_c_and_transcribe_it(pulse, empty_base):
    proc = subprocess.Popen([*CUSTDEV, "record", "--base", str(empty_base), "--name", "2026-03-14-call", "--respondent", "John", "--language", "en"],
                            env=pulse, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_ctrl_c)
    path = empty_base / "audio" / "2026-03-14-call.ogg"
    try:
        _wait_for(path)
        subprocess.run(["paplay", "-d", "mic", str(DATA / "jfk.ogg")], env=pulse, check=True, timeout=120)
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)  # Ctrl-C: stop cleanly, then transcribe
        stdout, stderr = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    cpu = float(re.search(r"Recorded audio/2026-03-14-call\.ogg \([\d:]+; ([\d.]+) % of one CPU core\)", stdout).group(1))
    assert cpu < 10.0  # recording costs less than a tenth of one core
    seconds, peak = _decoded_seconds(path)
    assert seconds >= 11.0 and peak > 0.05
    assert "Created interviews/2026-03-14-call.md" in stdout
    from custdev.markdown import parse_interview

    interview = parse_interview((empty_base / "interviews" / "2026-03-14-call.md").read_text(encoding="utf-8"))
    assert interview.audio == "audio/2026-03-14-call.ogg" and interview.date == "2026-03-14"
    assert wer(JFK_TEXT, " ".join(t.text for t in interview.turns)) <= 0.2
