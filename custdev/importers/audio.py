"""Recordings (audio or video) -> Interview, through :mod:`custdev.speech` (Whisper).

The transcript's pieces are joined into speaker turns (a long pause or a minute of talk starts a new turn), the
speakers are named after ``--interviewer``/``--respondent`` (or "Interviewer"/"Respondent", in Russian for a
Russian recording), and the words with their times are returned as the sidecar data of
:mod:`custdev.wordtimes`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from custdev.importers import ImportContext, Imported, ImportError_, clean_name, clean_text, dated, default_names, humanize, slug
from custdev.errors import Message
from custdev.i18n import N_
from custdev.models import Interview, Segment, Turn, Word
from custdev.speech import LANGUAGES, Transcriber, TranscribeOptions, Transcript, probe
from custdev.wordtimes import sidecar_data

MAX_GAP_S = 3.0  # a pause this long within one speaker starts a new turn
MAX_TURN_S = 60.0


class NoSpeech(ImportError_):
    """A recording with nothing to transcribe."""


def group_turns(segments: list[Segment], names: dict[str, str], language: str | None = None) -> list[tuple[Turn, list[Word]]]:
    """Segments -> speaker turns (one language each), with ``{?unsure?}`` spans and the words for the sidecar."""
    out: list[tuple[Turn, list[Word]]] = []
    for seg in segments:
        name = names.get(seg.speaker or "respondent") or _other_name(seg.speaker)
        text, unsure = _segment_text(seg)
        if not text:
            continue
        lang = seg.language if seg.language and seg.language != language else None
        if out:
            turn, words = out[-1]
            if (turn.speaker == name and turn.language == lang and seg.start - (turn.end_s or seg.start) <= MAX_GAP_S
                    and seg.start - (turn.start_s or 0) <= MAX_TURN_S):
                shift = len(turn.text) + 1
                turn.text = f"{turn.text} {text}"
                turn.unsure += [(a + shift, b + shift) for a, b in unsure]
                turn.end_s = seg.end
                words.extend(seg.words)
                continue
        out.append((Turn(speaker=name, start_s=seg.start, end_s=seg.end, text=text, language=lang, unsure=unsure), list(seg.words)))
    return out


def _segment_text(seg: Segment) -> tuple[str, list[tuple[int, int]]]:
    """A segment's text built from its words, and the spans of runs of unsure words."""
    if not seg.words:
        return clean_text(seg.text), []
    text = ""
    spans: list[tuple[int, int]] = []
    for w in seg.words:
        word = clean_text(w.text)
        if not word:
            continue
        if text:
            text += " "
        start = len(text)
        text += word
        if w.unsure:
            if spans and spans[-1][1] == start - 1:
                spans[-1] = (spans[-1][0], len(text))
            else:
                spans.append((start, len(text)))
    return text, spans


def _other_name(label: str | None) -> str:
    if label and label.startswith("speaker-"):
        return f"Speaker {label.split('-', 1)[1]}"
    return label or "Speaker"


def import_recording(
    path: Path,
    ctx: ImportContext,
    transcriber: Transcriber,
    *,
    progress: Callable[[float, float | None], None] | None = None,
    state: dict | None = None,
    save_state: Callable[[dict], None] | None = None,
) -> Imported:
    transcript = transcriber.transcribe(path, progress=progress, state=state, save_state=save_state)
    return recording_interview(path, ctx, transcript, transcriber.options)


def recording_interview(path: Path, ctx: ImportContext, transcript: Transcript, opts: TranscribeOptions) -> Imported:
    """A recording's transcript (plain data, made here or on a Ray worker) -> interview and word-time sidecar."""
    info = probe(path)
    warnings = list(transcript.warnings)
    if not transcript.has_speech:
        raise NoSpeech(N_("no speech found in {path}; nothing imported ({duration:.1f} s of silence or noise)"), path=path, duration=transcript.duration)
    language = ctx.language or transcript.language
    others = [lang for lang in transcript.languages if lang not in LANGUAGES]
    if others:
        warnings.append(Message(N_("speech in {languages} is kept verbatim, never translated; search finds its exact words "
                                   "(word forms are matched for Russian and English only)"), languages=", ".join(others)))
    interviewer, respondent = default_names(ctx, language)
    names = {"interviewer": interviewer, "respondent": respondent}
    order = list(dict.fromkeys(s.speaker or "respondent" for s in transcript.segments))
    if ctx.speaker_names:
        # --speakers "Мария,Анна": names in order of first appearance; the first is the interviewer unless
        # --interviewer names another one
        names = {label: (ctx.speaker_names[i] if i < len(ctx.speaker_names) else f"Speaker {i + 1}") for i, label in enumerate(order)}
        spoken = list(names.values())
        interviewer = clean_name(ctx.interviewer) if ctx.interviewer and clean_name(ctx.interviewer) in spoken else spoken[0]
        respondent = clean_name(ctx.respondent) or next((n for n in spoken if n != interviewer), respondent)
    elif transcript.split == "questions" and len(order) > 1:
        # the voices sound alike: who is who is a guess, so the turns keep neutral labels, not names or roles
        names = {label: f"Speaker {i + 1}" for i, label in enumerate(order)}
        interviewer = clean_name(ctx.interviewer)
        warnings.append("the voices sound alike: turns are split at questions and labelled Speaker 1 / Speaker 2; "
                        "check who is who and rename them (or pass --speakers \"Name1,Name2\")")
    grouped = group_turns(transcript.segments, names, language)
    interview = Interview(
        id=slug(path.stem),
        title=info.title or humanize(path.stem),
        date=dated(path, info.created)[0],
        interviewer=interviewer,
        respondent=respondent,
        company=ctx.company,
        role=ctx.role,
        segments=list(ctx.segments),
        language=language if language in LANGUAGES else None,
        turns=[t for t, _ in grouped],
    )
    if transcript.languages:
        interview.extra["languages"] = list(transcript.languages)
    if dated(path, info.created)[1] == "file":
        interview.extra["date_source"] = "file"  # only the file's time: the site and saturation flag it
    interview.extra["transcription"] = {
        "model": str(opts.model or "base") if not Path(str(opts.model)).is_dir() else Path(str(opts.model)).name,
        "language": transcript.language,
        "speakers": transcript.split,
        "duration_s": round(transcript.duration, 1),
    }
    sidecar = sidecar_data([(t.start_s or 0.0, t.end_s or t.start_s or 0.0, words) for t, words in grouped])
    return Imported(interview=interview, sidecar=sidecar, warnings=warnings, duration=transcript.duration, kind="recording")
