"""Speech to text: one recording -> a :class:`Transcript` of plain data (segments with speakers and word times).

This module and :mod:`custdev.speech.models` are the only ones that touch ``faster_whisper``, always lazily inside
functions, so the rest of custdev starts fast and never sees its types: everything leaves as
:class:`custdev.models.Segment` / :class:`custdev.models.Word`.

Audio is streamed in windows (:func:`custdev.speech.audio.iter_windows`); progress is reported in audio seconds,
and after each window the caller may save a checkpoint to resume from. :func:`transcribe_file` transcribes one
file and writes nothing, for callers that run it on workers.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from custdev.models import Segment, Word
from custdev.speech.audio import RATE, AudioError, _DecodeStats, iter_windows, probe, rms
from custdev.speech.models import BUNDLED, load_model
from custdev.speech.speakers import assign_speakers, stereo_is_split, voice_features

LANGUAGES = ("ru", "en")  # what the research base indexes; other languages are kept but flagged




@dataclass
class TranscribeOptions:
    model: str | None = BUNDLED
    device: str = "auto"
    language: str | None = None  # None: detected per window and channel
    beam_size: int = 5
    batched: bool = True  # BatchedInferencePipeline: ~1.2x faster than sequential at the same WER (bench/transcribe_bench.py)
    batch_size: int = 8
    speakers: int = 2  # voices to look for in a mono recording
    interviewer_channel: str = "auto"  # stereo: "left", "right" or "auto" (whoever asks more questions)
    window_s: float = 300.0

    def fingerprint(self) -> str:
        """What must match for a checkpoint to be resumed."""
        keep = {k: v for k, v in asdict(self).items() if k not in ("device", "batch_size")}
        return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class Transcript:
    segments: list[Segment]  # time order; speaker = "interviewer" | "respondent" | "speaker-3"…
    duration: float
    expected_duration: float | None
    language: str | None  # the main language ("ru"/"en" or another Whisper code)
    languages: dict[str, float] = field(default_factory=dict)  # seconds of speech per language
    split: str = "none"  # "channels" | "voices" | "none"
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready plain data (what a worker sends back)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Transcript":
        segments = [Segment(**{**s, "words": [Word(**w) for w in s.get("words", [])]}) for s in data.get("segments", [])]
        return cls(**{**data, "segments": segments})


Progress = Callable[[float, float | None], None]  # (audio seconds done, total seconds or None)


def _speech_chunks(audio: np.ndarray) -> list[dict]:
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    return get_speech_timestamps(audio, VadOptions(min_silence_duration_ms=500))


def _choose_language(model: Any, speech: np.ndarray, previous: str | None) -> str:
    """Detect the language on up to 30 s of speech, preferring Russian or English when Whisper hesitates."""
    lang, prob, probs = model.detect_language(audio=speech[: 30 * RATE])
    if lang in LANGUAGES or prob >= 0.8:
        return lang
    table = dict(probs)
    ru, en = table.get("ru", 0.0), table.get("en", 0.0)
    if previous and table.get(previous, 0.0) >= max(ru, en) * 0.5:
        return previous
    return "ru" if ru >= en else "en"


def _pieces(segment: Any, offset_s: float) -> list[dict]:
    """Split one faster-whisper segment into pieces at sentence ends and pauses (plain dicts)."""
    words = [w for w in (segment.words or []) if w.word.strip()]
    if not words:
        text = segment.text.strip()
        if not text:
            return []
        return [{"start": segment.start + offset_s, "end": segment.end + offset_s, "text": text, "words": []}]
    pieces: list[dict] = []
    cur: list[Any] = []
    for i, w in enumerate(words):
        cur.append(w)
        nxt = words[i + 1] if i + 1 < len(words) else None
        ends_sentence = w.word.strip()[-1:] in ".?!…" and len(cur) >= 2
        pause = nxt is not None and nxt.start - w.end >= 0.6
        if nxt is None or ends_sentence or pause:
            pieces.append(
                {
                    "start": round(cur[0].start + offset_s, 3),
                    "end": round(cur[-1].end + offset_s, 3),
                    "text": "".join(x.word for x in cur).strip(),
                    "words": [[round(x.start + offset_s, 3), round(x.end + offset_s, 3), x.word.strip(), round(x.probability, 3)] for x in cur],
                }
            )
            cur = []
    return pieces


class Transcriber:
    """Transcribes files one after another with one loaded model."""

    def __init__(self, options: TranscribeOptions | None = None):
        self.options = options or TranscribeOptions()
        self._model: Any = None
        self._pipeline: Any = None

    @property
    def model(self) -> Any:
        if self._model is None:
            self._model = load_model(self.options.model, self.options.device)
        return self._model

    def _transcribe_channel(self, audio: np.ndarray, offset_s: float, language: str | None, prompt: str | None, progress: Callable[[float], None]) -> tuple[list[dict], str | None, str]:
        """One channel of one window -> (pieces, language used, text tail for the next window's prompt)."""
        chunks = _speech_chunks(audio)
        if not chunks:
            progress(len(audio) / RATE)
            return [], language, prompt or ""
        lang = language
        if self.options.language:
            lang = self.options.language
        else:
            speech = np.concatenate([audio[c["start"] : c["end"]] for c in chunks])
            lang = _choose_language(self.model, speech, language)
        common = dict(language=lang, beam_size=self.options.beam_size, word_timestamps=True, vad_filter=True,
                      vad_parameters={"min_silence_duration_ms": 500})
        if self.options.batched:
            if self._pipeline is None:
                from faster_whisper import BatchedInferencePipeline

                self._pipeline = BatchedInferencePipeline(model=self.model)
            segments, _ = self._pipeline.transcribe(audio, batch_size=self.options.batch_size, **common)
        else:
            segments, _ = self.model.transcribe(audio, initial_prompt=prompt or None, condition_on_previous_text=True, **common)
        pieces: list[dict] = []
        text_tail = prompt or ""
        for seg in segments:
            for p in _pieces(seg, offset_s):
                p["language"] = lang
                pieces.append(p)
            text_tail = (text_tail + " " + seg.text.strip())[-200:]
            progress(seg.end)
        progress(len(audio) / RATE)
        return pieces, lang, text_tail

    def transcribe(
        self,
        path: str | Path,
        *,
        progress: Progress | None = None,
        state: dict | None = None,
        save_state: Callable[[dict], None] | None = None,
    ) -> Transcript:
        """Transcribe one file. ``state`` (from an earlier ``save_state``) resumes after its last whole window."""
        path = Path(path)
        info = probe(path)
        opts = self.options
        total = info.duration
        progress = progress or (lambda done, total: None)
        stereo = info.channels >= 2
        st = state if state and state.get("fingerprint") == opts.fingerprint() else None
        pieces: list[dict] = list(st["pieces"]) if st else []
        split: str | None = st.get("split") if st else None
        prompts: list[str] = list(st.get("prompts", ["", ""])) if st else ["", ""]
        langs: list[str | None] = list(st.get("langs", [None, None])) if st else [None, None]
        skip = int(st["offset"]) if st else 0
        stats = _DecodeStats()
        end_samples = skip
        self.model  # load before the first progress tick, so model errors come first  # noqa: B018
        progress(skip / RATE, total)
        for offset, audio in iter_windows(path, stereo=stereo, window_s=opts.window_s, skip_samples=skip, stats=stats):
            offset_s = offset / RATE
            length_s = audio.shape[1] / RATE
            if split is None:
                split = "channels" if stereo and stereo_is_split(audio) else "mono"
            channels = [audio[0], audio[1]] if split == "channels" else [audio.mean(axis=0) if audio.shape[0] > 1 else audio[0]]
            for c, chan in enumerate(channels):
                def tick(done: float, c: int = c) -> None:
                    progress(offset_s + (c * length_s + min(done, length_s)) / len(channels), total)

                found, langs[c], prompts[c] = self._transcribe_channel(chan, offset_s, langs[c], prompts[c], tick)
                for p in found:
                    s, e = int((p["start"] - offset_s) * RATE), int((p["end"] - offset_s) * RATE)
                    if split == "channels":
                        other = channels[1 - c]
                        own_rms, other_rms = rms(chan[s:e]), rms(other[s:e])
                        if own_rms < 0.25 * other_rms:
                            continue  # cross-talk: the other side heard through this microphone
                        p["channel"] = c
                    else:
                        p["features"] = voice_features(chan[max(0, s) : max(0, e)])
                    pieces.append(p)
            end_samples = offset + audio.shape[1]
            progress(end_samples / RATE, total)
            if save_state:
                save_state({"version": 1, "fingerprint": opts.fingerprint(), "offset": end_samples, "pieces": pieces,
                            "split": split, "prompts": prompts, "langs": langs})
        duration = end_samples / RATE
        warnings: list[str] = []
        if stats.bad_packets and total and duration < total - 1.0:
            warnings.append(f"truncated or corrupt: decoded {duration:.1f} s of {total:.1f} s")
        elif stats.bad_packets:
            warnings.append(f"{stats.bad_packets} undecodable packet(s) skipped")
        elif total and duration < total * 0.9 - 1.0:
            warnings.append(f"truncated: decoded {duration:.1f} s of {total:.1f} s")
        if duration == 0:
            raise AudioError(f"{path}: no audio could be decoded (corrupt or empty recording)")
        pieces.sort(key=lambda p: (p["start"], p["end"]))
        segments, how = assign_speakers(pieces, split or "mono", speakers=opts.speakers, interviewer_channel=opts.interviewer_channel)
        languages: dict[str, float] = {}
        for p in pieces:
            if p.get("language"):
                languages[p["language"]] = languages.get(p["language"], 0.0) + (p["end"] - p["start"])
        main = max(languages, key=languages.get) if languages else (opts.language or None)
        return Transcript(segments=segments, duration=duration, expected_duration=total, language=main,
                          languages={k: round(v, 1) for k, v in languages.items()}, split=how, warnings=warnings)


def transcribe_file(
    path: str | Path,
    options: TranscribeOptions | None = None,
    *,
    progress: Progress | None = None,
    state: dict | None = None,
    save_state: Callable[[dict], None] | None = None,
) -> Transcript:
    """Transcribe ONE recording into plain data (no files written). The model is loaded once per process."""
    return Transcriber(options).transcribe(path, progress=progress, state=state, save_state=save_state)
