"""Speech to text: one recording -> a :class:`Transcript` of plain data (segments with speakers, languages, word
times and honest uncertainty).

This module and :mod:`custdev.speech.models` are the only ones that touch ``faster_whisper``, always lazily inside
functions, so the rest of custdev starts fast and never sees its types: everything leaves as
:class:`custdev.models.Segment` / :class:`custdev.models.Word`.

How one window of one channel is transcribed (:meth:`Transcriber._transcribe_channel`):

1. **Speech regions.** Silero VAD (shipped with faster-whisper) finds the stretches of speech.
2. **Language per stretch.** Regions (at most :data:`MAX_REGION_S` each) are grouped into stretches of at most 30 s
   (a pause of a second or more starts a new one); Whisper detects each stretch's language on its own audio, so a
   switch from English to German is transcribed as German, never translated. ``--language`` forces one language
   everywhere (each stretch is still checked, so a wrong one is refused rather than translated into).
3. **Decoding.** Consecutive stretches in one language are joined into chunks of at most 30 s of speech
   (:func:`_chunks`); each chunk is decoded on its own (sequential beam search by default: the setting chosen by
   ``bench/transcribe_bench.py``), its times mapped back onto the recording. A chunk that is a single stretch reuses
   the encoder pass of its language check (the model keeps its last encoder outputs), and with ``workers`` > 1
   chunks are decoded side by side, one CPU thread each; a chunk left to run alone (a short recording, the odd
   last one) runs on all threads instead (see :meth:`Transcriber._map`).
4. **Nothing dropped.** Every speech region must be covered by words. A stretch of detected speech of
   :data:`GAP_S` or more with no word in it is decoded again on its own at a safer setting; if that still gives
   nothing trustworthy it becomes an explicit ``[inaudible]`` / ``[неразборчиво]`` segment.
5. **No loops.** A segment whose text repeats an n-gram or compresses too well (:func:`looks_like_loop`) is decoded
   again at a safer setting; a loop that persists is cut to one occurrence, flagged and marked uncertain.
6. **Uncertainty.** Words under :data:`UNSURE_WORD_P` probability, and every word of a segment the model itself
   doubts (low average log-probability, high no-speech probability), leave with ``Word.unsure = True``.

:func:`transcribe_file` transcribes one file and writes nothing, for callers that run it on workers.
"""

from __future__ import annotations

import hashlib
import json
import re
import zlib
from bisect import bisect_right
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from custdev.errors import Message
from custdev.i18n import DEFAULT_LANGUAGE, LANGUAGES, N_
from custdev.models import Segment, Word
from custdev.speech.audio import RATE, AudioError, _DecodeStats, bound_heap, iter_windows, probe, rms
from custdev.speech.models import BUNDLED, cpu_threads, load_model, pick_device
from custdev.speech.speakers import assign_speakers, stereo_is_split, voice_features

# LANGUAGES (custdev.i18n): what the research base stems; other languages are kept verbatim
INAUDIBLE = {"ru": "[неразборчиво]", "en": "[inaudible]"}  # speech that yielded no trustworthy words, per language
assert set(INAUDIBLE) == set(LANGUAGES)
UNSURE_WORD_P = 0.4  # a word the model gives less probability than this is marked uncertain
UNSURE_LOGPROB = -1.0  # a segment whose average token log-probability is below this is uncertain as a whole
UNSURE_NO_SPEECH = 0.6  # ... or whose no-speech probability is above this
GAP_S = 1.5  # detected speech this long with no word in it is decoded again, then marked inaudible
STRETCH_S = 30.0  # language is detected per stretch of speech of at most this long
JOIN_GAP = int(0.3 * RATE)  # silence put between joined speech regions (see _joined)
MAX_REGION_S = 28.0  # the VAD splits longer speech at its last short silence, so a stretch fits one Whisper window
STRETCH_PAUSE_S = 1.0  # a pause this long starts a new stretch
LOOP_RATIO = 2.4  # zlib compression ratio of a segment's text above which it is a loop (Whisper's own threshold)
LOOP_REPEATS = 4  # an n-gram (n = 1..4 words) repeated this many times in a row is a loop
SWITCH_P = 0.8  # a stretch switches away from the language before it only when Whisper is this sure
FAINT_VAD = 0.2  # VAD threshold of the second look for speech the usual 0.5 missed (see faint_regions)
WRONG_LANGUAGE_P = SWITCH_P  # --language X on speech Whisper is this sure is another language ...
FORCED_UNLIKELY_P = 0.05  # ... and gives X less than this: refused, never translated into X


class WrongLanguage(AudioError):
    """``--language`` names another language than the one spoken."""


def inaudible_marker(language: str | None) -> str:
    return INAUDIBLE.get(language or DEFAULT_LANGUAGE, INAUDIBLE[DEFAULT_LANGUAGE])


@dataclass
class TranscribeOptions:
    model: str | None = BUNDLED
    device: str = "auto"
    language: str | None = None  # None: detected per stretch of speech and channel
    beam_size: int = 5
    batched: bool = False  # sequential beam 5 drops nothing and loops nowhere (bench/transcribe_bench.py)
    batch_size: int = 8
    condition_on_previous_text: bool = False  # True feeds loops from one segment into the next
    vad_min_silence_ms: int = 500
    safety: bool = True  # re-decode uncovered speech and loops (off only to benchmark the raw decoder)
    speakers: int = 2  # voices to look for in a mono recording
    interviewer_channel: str = "auto"  # stereo: "left", "right" or "auto" (whoever asks more questions)
    window_s: float = 300.0
    workers: int = 0  # stretches decoded side by side (one CPU thread each); 0: auto (2 on a CPU with 2+ threads)

    def fingerprint(self) -> str:
        """What must match for a checkpoint to be resumed."""
        keep = {k: v for k, v in asdict(self).items() if k not in ("device", "batch_size", "workers")}
        keep["version"] = 3
        return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class Transcript:
    segments: list[Segment]  # time order; speaker = "interviewer" | "respondent" | "speaker-3"…
    duration: float
    expected_duration: float | None
    language: str | None  # the main language ("ru"/"en" or another Whisper code)
    languages: dict[str, float] = field(default_factory=dict)  # seconds of speech per language
    split: str = "none"  # "channels" | "voices" | "questions" | "none"
    warnings: list[str] = field(default_factory=list)
    speech_s: float = 0.0  # seconds of speech the VAD found

    @property
    def has_speech(self) -> bool:
        """True when at least one segment holds words, not only inaudible markers."""
        return any("inaudible" not in s.flags and s.text.strip() for s in self.segments)

    def to_dict(self) -> dict:
        """JSON-ready plain data (what a worker sends back)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Transcript":
        segments = [Segment(**{**s, "words": [Word(**w) for w in s.get("words", [])]}) for s in data.get("segments", [])]
        return cls(**{**data, "segments": segments})


Progress = Callable[[float, float | None], None]  # (audio seconds done, total seconds or None)


# --------------------------------------------------------------------------------------------------------------
# Loops and coverage: pure functions over text and times
# --------------------------------------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")


def _repeat_run(tokens: list[str]) -> tuple[int, int, int] | None:
    """(start, n, repeats) of the longest run of one n-gram (n = 1..4) repeated >= LOOP_REPEATS times, if any."""
    best = None
    for n in range(1, 5):
        i = 0
        while i + n <= len(tokens):
            gram = tokens[i : i + n]
            k = 1
            while tokens[i + k * n : i + (k + 1) * n] == gram:
                k += 1
            need = LOOP_REPEATS + 1 if n == 1 else LOOP_REPEATS
            if k >= need and (best is None or k * n > best[1] * best[2]):
                best = (i, n, k)
            i += max(1, (k - 1) * n) if k > 1 else 1
    return best


def looks_like_loop(text: str, compression_ratio: float | None = None) -> bool:
    """A repetition loop: one n-gram repeated in a row, or text that compresses like a loop."""
    tokens = [t.casefold() for t in _WORD.findall(text)]
    if _repeat_run(tokens):
        return True
    data = text.strip().encode("utf-8")
    if len(data) >= 60:
        ratio = compression_ratio if compression_ratio is not None else len(data) / len(zlib.compress(data))
        return ratio > LOOP_RATIO
    return False


def cut_loop(words: list[list]) -> list[list]:
    """Drop the repeats of the longest repeated n-gram run in a word list (keeps its first occurrence)."""
    while True:
        tokens = [" ".join(_WORD.findall(str(w[2]).casefold())) for w in words]
        run = _repeat_run(tokens)
        if not run:
            return words
        i, n, k = run
        words = words[: i + n] + words[i + n * k :]


def uncovered(speech: list[tuple[float, float]], covered: list[tuple[float, float]], min_gap: float = GAP_S) -> list[tuple[float, float]]:
    """Parts of the speech regions (seconds) at least ``min_gap`` long that no covered span touches."""
    spans = sorted(covered)
    out: list[tuple[float, float]] = []
    for a, b in speech:
        cur = a
        for s, e in spans:
            if e <= cur or s >= b:
                continue
            if s - cur >= min_gap:
                out.append((round(cur, 3), round(s, 3)))
            cur = max(cur, e)
        if b - cur >= min_gap:
            out.append((round(cur, 3), round(b, 3)))
    return out


def speech_regions(audio: np.ndarray, min_silence_ms: int = 500, threshold: float = 0.5) -> list[tuple[int, int]]:
    """(start, end) sample indices of speech in 16 kHz mono audio (Silero VAD shipped with faster-whisper)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=min_silence_ms, threshold=threshold, max_speech_duration_s=MAX_REGION_S)
    return [(c["start"], c["end"]) for c in get_speech_timestamps(audio, options)]


def faint_regions(audio: np.ndarray, sure: list[tuple[int, int]], min_silence_ms: int = 500) -> list[tuple[int, int]]:
    """Speech the VAD finds only at FAINT_VAD, outside the ``sure`` regions (pieces of at least half a second).

    After a long stretch of quiet room noise Silero misses the first seconds of clear speech at its usual threshold
    (measured: JFK after 20 s of brown noise 28 dB below it lost "And so my fellow Americans, ask not"), so these
    parts are decoded too; what yields no trustworthy words there is dropped (it was never surely speech)."""
    out: list[tuple[int, int]] = []
    for a, b in speech_regions(audio, min_silence_ms, FAINT_VAD):
        cur = a
        for s, e in sure:
            if e <= cur or s >= b:
                continue
            if s - cur >= RATE // 2:
                out.append((cur, s))
            cur = max(cur, e)
        if b - cur >= RATE // 2:
            out.append((cur, b))
    return out


def _stretches(chunks: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """Group speech regions into stretches of at most STRETCH_S, split at pauses of STRETCH_PAUSE_S or more."""
    groups: list[list[tuple[int, int]]] = []
    for c in chunks:
        if groups:
            g = groups[-1]
            if c[0] - g[-1][1] < STRETCH_PAUSE_S * RATE and c[1] - g[0][0] <= STRETCH_S * RATE:
                g.append(c)
                continue
        groups.append([c])
    return groups


Detected = tuple[str, float, list[tuple[str, float]]]  # (likeliest language, its probability, every language's)


def _chunks(regions: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """What is decoded at once: consecutive whole stretches merged while their speech fits one 30 s window.

    Decoding each short stretch alone loses the context of the turns around it (measured on the sample call:
    "What goes wrong with that?" became "What go from with that?") and pays a whole window's encoder pass for a few
    seconds; a chunk that is one stretch reuses the encoder pass of its language detection."""
    out: list[list[tuple[int, int]]] = []
    size = 0
    for g in _stretches(regions):
        n = sum(b - a for a, b in g) + JOIN_GAP * (len(g) - 1)
        if out and size + JOIN_GAP + n <= STRETCH_S * RATE:
            out[-1] += g
            size += JOIN_GAP + n
        else:
            out.append(list(g))
            size = n
    return out


def _choose_language(detected: Detected, previous: str | None) -> tuple[str, float]:
    """The language of a stretch from Whisper's detection on it.

    A switch away from the language of the speech before needs Whisper to be sure (SWITCH_P), so a short or noisy
    stretch does not become Welsh; with nothing before, Russian or English wins when Whisper hesitates.
    """
    lang, prob, probs = detected
    table = dict(probs)
    if previous and lang != previous:
        return (lang, prob) if prob >= SWITCH_P else (previous, float(table.get(previous, 0.0)))
    if lang in LANGUAGES or prob >= 0.6:
        return lang, prob
    # the likeliest of the languages the base knows; a tie goes to Russian (the language most users speak)
    best = max(sorted(LANGUAGES, key=lambda x: x != "ru"), key=lambda x: float(table.get(x, 0.0)))
    return best, float(table.get(best, 0.0))


def _joined(audio: np.ndarray, regions: list[tuple[int, int]]) -> np.ndarray:
    """Speech regions joined into one stretch of audio, with JOIN_GAP samples of silence at each join.

    Language detection and decoding both hear exactly this (so decoding finds detection's encoder pass cached); the
    silence keeps a pause between turns audible, and words Whisper times into it belong to one side."""
    if len(regions) == 1:
        return audio[regions[0][0] : regions[0][1]]
    gap = np.zeros(JOIN_GAP, dtype=audio.dtype)
    parts: list[np.ndarray] = []
    for a, b in regions:
        if parts:
            parts.append(gap)
        parts.append(audio[a:b])
    return np.concatenate(parts)


def _moved(seg: Any, word: Callable[[float, float], tuple[float, float]], point: Callable[[float, bool], float]) -> Any:
    """A faster-whisper segment with its words' (start, end) passed through ``word``, its own start and end through
    ``point`` (a segment may span several regions; it still spans all its words)."""
    words = [replace(w, **dict(zip(("start", "end"), word(w.start, w.end)))) for w in seg.words] if seg.words else seg.words
    start, end = point(seg.start, False), point(seg.end, True)
    if words:
        start, end = min(start, min(w.start for w in words)), max(end, max(w.end for w in words))
    return replace(seg, start=start, end=end, words=words)


def _segment_unsure(seg: Any) -> bool:
    return seg.avg_logprob < UNSURE_LOGPROB or seg.no_speech_prob > UNSURE_NO_SPEECH


def _trustworthy(seg: Any) -> bool:
    """Whether a re-decoded segment is speech rather than a guess into noise."""
    return seg.no_speech_prob < UNSURE_NO_SPEECH and seg.avg_logprob > UNSURE_LOGPROB - 0.5 and bool(_WORD.search(seg.text))


def _seg_words(seg: Any, offset_s: float) -> list[list]:
    """[start, end, text, probability, unsure] per word of one faster-whisper segment."""
    doubt = _segment_unsure(seg)
    out = []
    for w in seg.words or []:
        if not w.word.strip():
            continue
        out.append([round(w.start + offset_s, 3), round(w.end + offset_s, 3), w.word.strip(), round(w.probability, 3),
                    bool(doubt or w.probability < UNSURE_WORD_P)])
    return out


def _pieces(words: list[list], language: str | None, flags: list[str]) -> list[dict]:
    """Split one segment's words into pieces at sentence ends and pauses (plain dicts)."""
    pieces: list[dict] = []
    cur: list[list] = []
    for i, w in enumerate(words):
        cur.append(w)
        nxt = words[i + 1] if i + 1 < len(words) else None
        ends_sentence = w[2][-1:] in ".?!…" and len(cur) >= 2
        pause = nxt is not None and nxt[0] - w[1] >= 0.6
        if nxt is None or ends_sentence or pause:
            pieces.append({"start": cur[0][0], "end": cur[-1][1], "text": " ".join(x[2] for x in cur), "words": cur,
                           "language": language, "flags": list(flags)})
            cur = []
    return pieces


def _inaudible(a: float, b: float, language: str | None) -> dict:
    return {"start": round(a, 3), "end": round(b, 3), "text": inaudible_marker(language), "words": [],
            "language": language, "flags": ["inaudible"]}


class Transcriber:
    """Transcribes files one after another with one loaded model."""

    def __init__(self, options: TranscribeOptions | None = None):
        self.options = options or TranscribeOptions()
        self._model: Any = None
        self._pipeline: Any = None

    @property
    def model(self) -> Any:
        if self._model is None:
            self._model = load_model(self.options.model, self.options.device, self.workers)
        return self._model

    @property
    def workers(self) -> int:
        """Chunks decoded at once: ``options.workers``, or on a CPU with two or more threads, 2 (the batched pipeline
        decodes a batch on all threads instead: 1)."""
        if self.options.batched:
            return 1
        if self.options.workers > 0:
            return self.options.workers
        return min(2, cpu_threads()) if pick_device(self.options.device)[0] == "cpu" else 1

    @property
    def _wide(self) -> Any:
        """The model on all CPU threads (see :func:`~custdev.speech.models.load_model`); the model itself when
        decoding is not split into one-thread decoders."""
        return getattr(self.model, "wide", None) or self.model

    def _map(self, fn: Callable[[Any, Any], Any], items: list) -> list:
        """``[fn(x, model) for x in items]``: :attr:`workers` at a time side by side, each on a one-thread decoder
        (CTranslate2 releases the GIL); what is left over (a lone item, the odd last one) on the model on all
        threads, so no core waits while one decoder finishes alone."""
        wide = self._wide
        if self.workers <= 1 or len(items) <= 1:
            return [fn(x, wide) for x in items]
        from concurrent.futures import ThreadPoolExecutor

        paired = len(items) if wide is self.model else len(items) - len(items) % self.workers
        with ThreadPoolExecutor(self.workers) as pool:
            out = list(pool.map(lambda x: fn(x, self.model), items[:paired]))
        return out + [fn(x, wide) for x in items[paired:]]

    def _encode_first(self, speech: np.ndarray, model: Any = None) -> Any:
        """The encoder output of the first window of ``speech`` (by ``model``, by default the one on all threads).

        The window is cut and padded exactly as decoding cuts its first window (faster-whisper's
        ``generate_segments``), so decoding the same speech afterwards finds this encoder output in the model's
        cache instead of encoding it again."""
        from faster_whisper.audio import pad_or_trim

        model = model or self._wide
        feats = model.feature_extractor(speech)
        return model.encode(pad_or_trim(feats[:, : max(1, min(model.feature_extractor.nb_max_frames, feats.shape[-1] - 1))]))

    def _detect(self, speech: np.ndarray, model: Any = None) -> Detected:
        """Whisper's language detection on the first window of ``speech`` (whose encoder pass decoding reuses)."""
        model = model or self._wide
        results = model.model.detect_language(self._encode_first(speech, model))[0]
        probs = [(token[2:-2], float(p)) for token, p in results]
        return probs[0][0], probs[0][1], probs

    def _decode(self, audio: np.ndarray, language: str, prompt: str | None, *, safe: bool = False, model: Any = None) -> list[Any]:
        """Decode ``audio`` with ``model`` (one of the one-thread decoders when chunks run side by side; by default
        the model on all threads)."""
        opts = self.options
        model = model or self._wide
        vad = {"min_silence_duration_ms": opts.vad_min_silence_ms}
        if safe:  # a second chance: no VAD, no prompt, nothing skipped as "no speech", repeats penalised
            segs, _ = model.transcribe(audio, language=language, beam_size=5, word_timestamps=True, vad_filter=False,
                                       condition_on_previous_text=False, no_speech_threshold=None,
                                       repetition_penalty=1.1, no_repeat_ngram_size=4)
            return list(segs)
        if opts.batched:
            if self._pipeline is None:
                from faster_whisper import BatchedInferencePipeline

                self._pipeline = BatchedInferencePipeline(model=self.model)
            segs, _ = self._pipeline.transcribe(audio, language=language, beam_size=opts.beam_size, word_timestamps=True,
                                                vad_filter=True, vad_parameters=vad, batch_size=opts.batch_size)
            return list(segs)
        # the audio is one stretch of speech already (the VAD's regions joined): no second VAD pass
        segs, _ = model.transcribe(audio, language=language, beam_size=opts.beam_size, word_timestamps=True,
                                   vad_filter=False, initial_prompt=prompt or None,
                                   condition_on_previous_text=opts.condition_on_previous_text)
        return list(segs)

    def _decode_regions(self, audio: np.ndarray, regions: list[tuple[int, int]], language: str, model: Any = None) -> list[Any]:
        """Decode one chunk (its speech regions joined); segment and word times in seconds of ``audio``."""
        if self.options.batched:  # the batched pipeline runs its own VAD over the run's span
            a = max(0, regions[0][0] - int(0.2 * RATE))
            b = min(len(audio), regions[-1][1] + int(0.2 * RATE))
            return [_moved(seg, lambda t0, t1: (t0 + a / RATE, t1 + a / RATE), lambda t, end: t + a / RATE)
                    for seg in self._decode(audio[a:b], language, None)]
        starts = [0]
        for r0, r1 in regions:
            starts.append(starts[-1] + r1 - r0 + JOIN_GAP)

        def on_audio(t0: float, t1: float) -> tuple[float, float]:
            """A span of the joined speech -> the same span in ``audio``, inside the one region that holds most of
            it (a word Whisper times across a join belongs to one side of the pause, not to both)."""
            p0, p1 = t0 * RATE, max(t0, t1) * RATE
            i = min(max(bisect_right(starts, p0) - 1, 0), len(regions) - 1)
            best, share = i, -1.0
            for k in range(i, len(regions)):
                if starts[k] > p1 and k > i:
                    break
                length = regions[k][1] - regions[k][0]
                overlap = min(p1, starts[k] + length) - max(p0, starts[k])
                if overlap > share:
                    best, share = k, overlap
            if share <= 0 and best + 1 < len(regions) and p0 - (starts[best] + regions[best][1] - regions[best][0]) > JOIN_GAP / 2:
                best += 1  # wholly in the silence of a join: the nearer side
            r0, r1 = regions[best]
            length = r1 - r0
            return (r0 + min(max(p0 - starts[best], 0), length)) / RATE, (r0 + min(max(p1 - starts[best], 0), length)) / RATE

        def point(t: float, end: bool) -> float:
            """One time of the joined speech in ``audio``; in the silence of a join: the start of the region after
            it (``end`` False) or the end of the one before (``end`` True)."""
            p = t * RATE
            i = min(max(bisect_right(starts, p) - 1, 0), len(regions) - 1)
            r0, r1 = regions[i]
            if p - starts[i] <= r1 - r0 or i + 1 == len(regions):
                return (r0 + min(max(p - starts[i], 0), r1 - r0)) / RATE
            return (r1 if end else regions[i + 1][0]) / RATE

        return [_moved(seg, on_audio, point) for seg in self._decode(_joined(audio, regions), language, None, model=model)]

    def _transcribe_channel(self, audio: np.ndarray, offset_s: float, language: str | None, prompt: str | None,
                            progress: Callable[[float], None]) -> tuple[list[dict], str | None, str, float]:
        """One channel of one window -> (pieces, last language, text tail for the next prompt, seconds of speech)."""
        opts = self.options
        chunks = speech_regions(audio, opts.vad_min_silence_ms)
        faint = faint_regions(audio, chunks, opts.vad_min_silence_ms) if opts.safety else []
        if not chunks and not faint:
            progress(len(audio) / RATE)
            return [], language, prompt or "", 0.0
        speech_s = sum(b - a for a, b in chunks) / RATE
        runs = self._language_runs(audio, chunks, language, offset_s, faint)
        maybe = set(faint)
        pieces: list[dict] = []
        text_tail = prompt or ""
        last_lang = None
        if opts.batched:  # the batched pipeline cuts a run into its own batch of chunks
            jobs = [(n, lang, run) for n, (lang, run) in enumerate(runs)]
        else:
            jobs = [(n, lang, chunk) for n, (lang, run) in enumerate(runs) for chunk in _chunks(run)]
        decoded = self._map(lambda job, model: self._decode_regions(audio, job[2], job[1], model), jobs)
        covered: list[list[tuple[float, float]]] = [[] for _ in runs]
        for (n, lang, _group), segs in zip(jobs, decoded):
            for seg in segs:
                words = _seg_words(seg, offset_s)
                flags: list[str] = []
                if looks_like_loop(seg.text, seg.compression_ratio):
                    words, flags = self._fix_loop(audio, offset_s, seg, lang, words)
                if not words:
                    continue
                covered[n] += [(w[0] - 0.25, w[1] + 0.25) for w in words]
                pieces += _pieces(words, lang, flags)
                text_tail = (text_tail + " " + seg.text.strip())[-200:]
                progress(seg.end)
            last_lang = lang
        if opts.safety:
            for n, (lang, run) in enumerate(runs):
                for faint_only in (False, True):
                    regions = [(offset_s + s / RATE, offset_s + e / RATE) for s, e in run if ((s, e) in maybe) == faint_only]
                    for ga, gb in uncovered(regions, covered[n]):
                        pieces += self._recover(audio, offset_s, ga, gb, lang, mark=not faint_only)
        progress(len(audio) / RATE)
        pieces.sort(key=lambda p: (p["start"], p["end"]))
        return pieces, last_lang, text_tail, speech_s

    def _language_runs(self, audio: np.ndarray, chunks: list[tuple[int, int]], language: str | None, offset_s: float = 0.0,
                       faint: list[tuple[int, int]] | None = None) -> list[tuple[str, list[tuple[int, int]]]]:
        """Speech regions -> runs of consecutive regions in one language.

        The language is detected per stretch of speech (up to 30 s); a stretch Whisper is not sure of (a language
        switch inside it) is detected again region by region. Regions under a second take their neighbours'.
        """
        opts = self.options
        groups = _stretches(chunks)
        speeches = [_joined(audio, g) for g in groups]
        if opts.language:  # a forced language must be the one spoken in every stretch: else Whisper would translate
            checks = self._map(lambda n, model: self._check_language(speeches[n], groups[n], offset_s, model), list(range(len(groups))))
            for g, (lang, prob) in zip(groups, checks):
                if len(g) > 1 and (lang != opts.language or prob < WRONG_LANGUAGE_P):  # a switch inside the stretch?
                    for a, b in g:
                        self._check_language(audio[a:b], [(a, b)], offset_s)
            return [(opts.language, sorted(chunks + (faint or [])))]
        labels: list[str | None] = []
        for g, found in zip(groups, self._map(self._detect, speeches)):
            lang, prob = _choose_language(found, language)
            if prob >= 0.9 or len(g) == 1:
                labels += [lang] * len(g)
                language = lang
                continue
            for a, b in g:
                if b - a < RATE:
                    labels.append(None)
                    continue
                language, _ = _choose_language(self._detect(audio[a:b]), language)
                labels.append(language)
        if faint:  # faint regions (never surely speech) take their neighbours' language
            both = sorted([(c, lab) for c, lab in zip(chunks, labels)] + [(c, None) for c in faint], key=lambda x: x[0])
            chunks, labels = [c for c, _ in both], [lab for _, lab in both]
        for i in range(len(labels)):
            if labels[i] is None:
                labels[i] = next((x for x in labels[i::-1] if x), None) or next((x for x in labels[i:] if x), None) or language or DEFAULT_LANGUAGE
        runs: list[tuple[str, list[tuple[int, int]]]] = []
        for c, lang in zip(chunks, labels):
            if runs and runs[-1][0] == lang:
                runs[-1][1].append(c)
            else:
                runs.append((lang, [c]))
        return runs

    def _check_language(self, speech: np.ndarray, regions: list[tuple[int, int]], offset_s: float, model: Any = None) -> tuple[str | None, float]:
        """Refuse a forced ``--language`` that Whisper is sure this speech (of ``regions``) is not in; (language,
        probability)."""
        if len(speech) < 2 * RATE:
            return None, 0.0
        lang, prob, probs = self._detect(speech, model)
        forced = float(dict(probs).get(self.options.language, 0.0))
        if lang != self.options.language and prob >= WRONG_LANGUAGE_P and forced < FORCED_UNLIKELY_P:
            raise WrongLanguage(N_("--language {language}, but the speech at {clock} is {lang} ({prob:.0%} sure); nothing imported (use --language auto: each stretch is transcribed in its own language)"), language=self.options.language, clock=_clock(offset_s + regions[0][0] / RATE), lang=lang, prob=prob)
        return lang, float(prob)

    def _fix_loop(self, audio: np.ndarray, offset_s: float, seg: Any, lang: str, words: list[list]) -> tuple[list[list], list[str]]:
        """Decode a looping segment (times in seconds of ``audio``) again at a safer setting; cut and flag a loop
        that persists."""
        if self.options.safety:
            s = max(0, int(seg.start * RATE))
            e = min(len(audio), int(seg.end * RATE))
            if e - s > RATE // 2:
                again = self._decode(audio[s:e], lang, None, safe=True)
                text = " ".join(x.text.strip() for x in again)
                if again and not looks_like_loop(text):
                    redone = [w for x in again for w in _seg_words(x, offset_s + s / RATE)]
                    if redone:
                        return redone, ["redecoded"]
        cut = cut_loop(words)
        for w in cut:
            w[4] = True
        return cut, ["loop"]

    def _recover(self, audio: np.ndarray, offset_s: float, a: float, b: float, lang: str, *, mark: bool = True) -> list[dict]:
        """Speech the first pass left without words: decode it alone; else an inaudible marker (when ``mark``)."""
        s = max(0, int((a - offset_s - 0.2) * RATE))
        e = min(len(audio), int((b - offset_s + 0.2) * RATE))
        found: list[dict] = []
        for seg in self._decode(audio[s:e], lang, None, safe=True):
            if not _trustworthy(seg) or looks_like_loop(seg.text):
                continue
            words = [w for w in _seg_words(seg, offset_s + s / RATE) if w[0] < b + 0.3 and w[1] > a - 0.3]
            if words:
                found += _pieces(words, lang, ["recovered"])
        return found or ([_inaudible(a, b, lang)] if mark else [])

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
        bound_heap()
        opts = self.options
        total = info.duration
        progress = progress or (lambda done, total: None)
        stereo = info.channels >= 2
        st = state if state and state.get("fingerprint") == opts.fingerprint() else None
        pieces: list[dict] = list(st["pieces"]) if st else []
        split: str | None = st.get("split") if st else None
        prompts: list[str] = list(st.get("prompts", ["", ""])) if st else ["", ""]
        langs: list[str | None] = list(st.get("langs", [None, None])) if st else [None, None]
        speech_s = float(st.get("speech_s", 0.0)) if st else 0.0
        skip = int(st["offset"]) if st else 0
        stats = _DecodeStats()
        end_samples = skip
        progress(skip / RATE, total)
        try:
            windows = list(self._windows(path, stereo, skip, stats, pieces, split, prompts, langs, speech_s, progress, total, save_state))
        except WrongLanguage as exc:
            raise WrongLanguage(N_("{path}: {error}"), path=path, error=exc) from None
        end_samples, split, speech_s = windows[-1] if windows else (skip, split, speech_s)
        return self._finish(path, pieces, split, end_samples, total, stats, speech_s)

    def _windows(self, path, stereo, skip, stats, pieces, split, prompts, langs, speech_s, progress, total, save_state):
        """Transcribe window after window into ``pieces``; yields (end sample, split, speech seconds) after each."""
        opts = self.options
        for offset, audio in iter_windows(path, stereo=stereo, window_s=opts.window_s, skip_samples=skip, stats=stats):
            self.model  # loaded once there is audio: an empty or unreadable file fails fast  # noqa: B018
            offset_s = offset / RATE
            length_s = audio.shape[1] / RATE
            if split is None:
                split = "channels" if stereo and stereo_is_split(audio) else "mono"
            channels = [audio[0], audio[1]] if split == "channels" else [audio.mean(axis=0) if audio.shape[0] > 1 else audio[0]]
            for c, chan in enumerate(channels):
                def tick(done: float, c: int = c) -> None:
                    progress(offset_s + (c * length_s + min(done, length_s)) / len(channels), total)

                found, langs[c], prompts[c], heard = self._transcribe_channel(chan, offset_s, langs[c], prompts[c], tick)
                speech_s += heard
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
                save_state({"version": 2, "fingerprint": opts.fingerprint(), "offset": end_samples, "pieces": pieces,
                            "split": split, "prompts": prompts, "langs": langs, "speech_s": speech_s})
            yield end_samples, split, speech_s

    def _finish(self, path: Path, pieces: list[dict], split: str | None, end_samples: int, total: float | None,
                stats: _DecodeStats, speech_s: float) -> Transcript:
        opts = self.options
        duration = end_samples / RATE
        if duration == 0:
            raise AudioError(_nothing_decoded(path, stats))
        warnings = damage_warnings(stats, duration, total)
        for at, lost in stats.damaged:  # audio the file lost is said in the transcript, not silently skipped
            if lost and pieces:
                near = min(pieces, key=lambda p: abs(p["start"] - at))
                piece = _inaudible(at, at + lost, near.get("language") or opts.language)
                piece["flags"].append("damaged")
                if "channel" in near:
                    piece["channel"] = near["channel"]
                pieces.append(piece)
        pieces.sort(key=lambda p: (p["start"], p["end"]))
        loops = [p for p in pieces if "loop" in p.get("flags", [])]
        if loops:
            warnings.append(Message(N_("{n} repetition loop(s) cut and marked uncertain (first at {at}); check them against the audio"),
                                    n=len(loops), at=_clock(loops[0]["start"])))
        gaps = [p for p in pieces if "inaudible" in p.get("flags", []) and "damaged" not in p["flags"]]
        if gaps and len(gaps) < len(pieces):
            warnings.append(Message(N_("{n} stretch(es) of speech could not be transcribed and are marked inaudible (first at {at})"),
                                    n=len(gaps), at=_clock(gaps[0]["start"])))
        segments, how = assign_speakers(pieces, split or "mono", speakers=opts.speakers, interviewer_channel=opts.interviewer_channel)
        languages: dict[str, float] = {}
        for p in pieces:
            if p.get("language") and "inaudible" not in p.get("flags", []):
                languages[p["language"]] = languages.get(p["language"], 0.0) + (p["end"] - p["start"])
        main = max(languages, key=languages.get) if languages else (opts.language or None)
        return Transcript(segments=segments, duration=duration, expected_duration=total, language=main,
                          languages={k: round(float(v), 1) for k, v in sorted(languages.items(), key=lambda kv: -kv[1])},
                          split=how, warnings=warnings, speech_s=round(speech_s, 1))


def _nothing_decoded(path: Path, stats: _DecodeStats) -> Message:
    if stats.bad_packets or stats.damaged:
        return Message(N_("{path}: no audio could be decoded (corrupt from the start); nothing imported"), path=path)
    return Message(N_("{path}: the recording is 0 seconds long; nothing imported"), path=path)


def damage_warnings(stats: _DecodeStats, duration: float, total: float | None) -> list[str]:
    """Say where a damaged recording broke, as times in the recording (what decoded is kept)."""
    out: list[str] = []
    short = total - duration if total and duration < total - 1.0 else 0.0
    if stats.damaged:
        at, lost = stats.damaged[0]
        if lost:
            what = Message(N_("{lost:.1f} s could not be read and are kept as silence, so later times are unchanged"), lost=lost)
        elif short:
            what = Message(N_("undecodable audio skipped; times after it may be early by up to {short:.1f} s"), short=short)
        else:
            what = Message(N_("undecodable audio skipped"))
        more = Message(N_(" (and {n} more damaged place(s))"), n=len(stats.damaged) - 1) if len(stats.damaged) > 1 else Message("")
        out.append(Message(N_("corrupt at {at}: {what}{more}"), at=_clock(at), what=what, more=more))
    if stats.stopped_at is not None and total:
        out.append(Message(N_("truncated: unreadable from {at} of {total}; kept the {duration:.1f} s before it"),
                           at=_clock(stats.stopped_at), total=_clock(total), duration=duration))
    elif short and not stats.damaged:
        out.append(Message(N_("truncated: the recording ends at {at} of {total} it announces; kept the {duration:.1f} s before it"),
                           at=_clock(duration), total=_clock(total), duration=duration))
    return out


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


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
