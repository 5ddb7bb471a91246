"""Bad recordings (issue 14, item 8), each a real file (tests/data/make_fixtures.py bad): one clear line on stderr,
exit 1 where nothing was imported, nothing half-written; a damaged middle keeps what decoded and says where it broke."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from custdev.cli import app
from custdev.speech import audio as A
from custdev.speech import transcribe as T

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def _written(base: Path) -> list[str]:
    """Every file an import could have left behind (interviews, audio copies)."""
    return sorted(str(p.relative_to(base)) for folder in ("interviews", "audio") for p in (base / folder).rglob("*") if p.is_file())


def test_files_without_audio_are_refused_with_one_line_each_and_nothing_written(empty_base, tmp_path, monkeypatch):
    notes = tmp_path / "notes.mp3"  # a text file renamed .mp3
    notes.write_text("These are my interview notes, not a recording.\n" * 20, encoding="utf-8")
    files = [DATA / "video_only.mp4", notes, DATA / "zero.wav"]

    def no_model(*args, **kwargs):
        raise AssertionError("the model must not be loaded for a file with no audio")

    monkeypatch.setattr(T, "load_model", no_model)
    before = _written(empty_base)
    result = runner.invoke(app, ["import", *map(str, files), "--base", str(empty_base)])
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"Error: {DATA / 'video_only.mp4'}: has no audio track",
        f"Error: {notes}: not a readable audio or video file (Invalid data found when processing input)",
        f"Error: {DATA / 'zero.wav'}: the recording is 0 seconds long; nothing imported",
    ], result.stderr
    assert "0 imported, 0 already there, 3 failed" in result.stdout
    assert _written(empty_base) == before


@pytest.mark.parametrize(
    "name, seconds, warning",
    [
        # the Ogg demuxer drops the damaged pages: their 2 s come back as silence so later times stay true
        ("jfk_damaged.ogg", 11.0, "corrupt at 00:00:05: 2.0 s could not be read and are kept as silence, so later times are unchanged"),
        ("jfk_damaged.mp3", 9.97, "corrupt at 00:00:05: undecodable audio skipped; times after it may be early by up to 1.0 s"),
        ("truncated.mp3", 7.6, "truncated: the recording ends at 00:00:07 of 00:00:19 it announces; kept the 7.6 s before it"),
    ],
)
def test_a_damaged_recording_says_where_it_broke(name, seconds, warning):
    stats = A._DecodeStats()
    decoded = sum(chunk.shape[1] for chunk in A.iter_audio(DATA / name, stereo=False, stats=stats)) / A.RATE
    assert decoded == pytest.approx(seconds, abs=0.05)
    assert T.damage_warnings(stats, decoded, A.probe(DATA / name).duration) == [warning]


@pytest.mark.model
def test_a_damaged_middle_keeps_what_decoded_at_its_true_times(empty_base):
    result = runner.invoke(app, ["import", str(DATA / "jfk_damaged.ogg"), "--speakers", "1", "--no-build", "--base", str(empty_base)])
    assert result.exit_code == 0, result.output
    assert f"Warning: {DATA / 'jfk_damaged.ogg'}: corrupt at 00:00:05:" in result.stderr
    text = (empty_base / "interviews" / "jfk_damaged.md").read_text(encoding="utf-8")
    # what decoded is kept, the lost stretch is marked where it was, and the words after it keep their true times
    assert re.search(r"fellow Americans, ask not.* \[inaudible\] .*your country", text, re.IGNORECASE), text
    sidecar = json.loads((empty_base / "interviews" / "jfk_damaged.words.json").read_text(encoding="utf-8"))
    words = [w for turn in sidecar["turns"] for w in turn["words"]]
    assert words[-1][2].startswith("country") and words[-1][0] > 9.5  # at 9.6 s in the intact file, not 2 s early


@pytest.mark.model
def test_a_wrong_language_is_found_in_a_later_stretch_too(empty_base):
    """en_de_switch.ogg: English, then German. --language en is right for the first stretch only."""
    result = runner.invoke(app, ["import", str(DATA / "en_de_switch.ogg"), "--language", "en", "--base", str(empty_base)])
    assert result.exit_code == 1, result.output
    line = result.stderr.strip()
    assert re.fullmatch(rf"Error: {re.escape(str(DATA / 'en_de_switch.ogg'))}: --language en, but the speech at 00:00:0[5-9] is de "
                        r"\(\d+% sure\); nothing imported \(use --language auto: each stretch is transcribed in its own language\)", line), line
    assert _written(empty_base) == []


@pytest.fixture(scope="module")
def after_quiet_noise(tmp_path_factory) -> Path:
    """20 s of quiet room noise (brown, 28 dB under the speech), then JFK: 31 s, as WAV."""
    import wave

    import numpy as np

    jfk = np.concatenate(list(A.iter_audio(DATA / "jfk.ogg", stereo=False)), axis=1)[0]
    brown = np.cumsum(np.random.default_rng(14).standard_normal(20 * A.RATE))
    brown -= np.convolve(brown, np.ones(800) / 800, mode="same")
    noise = brown / np.sqrt(np.mean(brown**2)) * 0.0057 * (np.sqrt(np.mean(jfk**2)) / 0.142)
    path = tmp_path_factory.mktemp("quiet") / "noise_then_jfk.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(A.RATE)
        w.writeframes((np.clip(np.concatenate([noise, jfk]), -1, 1) * 32767).astype("<i2").tobytes())
    return path


@pytest.mark.model
def test_speech_after_long_quiet_noise_is_not_dropped(after_quiet_noise):
    """Silero VAD at its usual threshold misses the first seconds of speech after long quiet noise (the 6-hour
    bench lost "And so my fellow Americans, ask not" at every speech but the first); a second, fainter look finds it."""
    tr = T.Transcriber(T.TranscribeOptions(language="en", speakers=1)).transcribe(after_quiet_noise)
    text = " ".join(s.text for s in tr.segments)
    assert "fellow Americans" in text and "ask not" in text, text
    assert tr.segments[0].start == pytest.approx(20.0, abs=1.0)
