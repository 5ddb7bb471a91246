"""Recordings (audio or video) -> Interview, through :mod:`custdev.speech` (Whisper).

The transcript's pieces are joined into speaker turns (a long pause or a minute of talk starts a new turn), the
speakers are named after ``--interviewer``/``--respondent`` (or "Interviewer"/"Respondent", in Russian for a
Russian recording), and the words with their times are returned as the sidecar data of
:mod:`custdev.wordtimes`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from custdev.importers import ImportContext, Imported, ImportError_, clean_text, default_names, file_date, humanize, slug
from custdev.models import Interview, Segment, Turn, Word
from custdev.speech import Transcriber, TranscribeOptions, Transcript, probe
from custdev.wordtimes import sidecar_data

MAX_GAP_S = 3.0  # a pause this long within one speaker starts a new turn
MAX_TURN_S = 60.0


class NoSpeech(ImportError_):
    """A recording with nothing to transcribe."""


def group_turns(segments: list[Segment], names: dict[str, str]) -> list[tuple[Turn, list[Word]]]:
    out: list[tuple[Turn, list[Word]]] = []
    for seg in segments:
        name = names.get(seg.speaker or "respondent") or _other_name(seg.speaker)
        text = clean_text(seg.text)
        if not text:
            continue
        if out:
            turn, words = out[-1]
            if turn.speaker == name and seg.start - (turn.end_s or seg.start) <= MAX_GAP_S and seg.start - (turn.start_s or 0) <= MAX_TURN_S:
                turn.text = f"{turn.text} {text}"
                turn.end_s = seg.end
                words.extend(seg.words)
                continue
        out.append((Turn(speaker=name, start_s=seg.start, end_s=seg.end, text=text), list(seg.words)))
    return out


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
    if not transcript.segments:
        raise NoSpeech(f"{path}: no speech found ({transcript.duration:.1f} s of silence or noise); no interview created")
    language = ctx.language or transcript.language
    if language and language not in ("ru", "en"):
        warnings.append(f"language detected as '{language}': kept, but search stems only Russian and English (use --language to force)")
    interviewer, respondent = default_names(ctx, language)
    names = {"interviewer": interviewer, "respondent": respondent}
    grouped = group_turns(transcript.segments, names)
    if transcript.split == "questions" and len({t.speaker for t, _ in grouped}) > 1:
        warnings.append("the two voices sound alike: turns ending in a question were given to the interviewer (check the speakers)")
    interview = Interview(
        id=slug(path.stem),
        title=info.title or humanize(path.stem),
        date=file_date(path, info.created),
        interviewer=interviewer,
        respondent=respondent,
        company=ctx.company,
        role=ctx.role,
        segments=list(ctx.segments),
        language=language if language in ("ru", "en") else None,
        turns=[t for t, _ in grouped],
    )
    interview.extra["transcription"] = {
        "model": str(opts.model or "base") if not Path(str(opts.model)).is_dir() else Path(str(opts.model)).name,
        "language": transcript.language,
        "speakers": transcript.split,
        "duration_s": round(transcript.duration, 1),
    }
    sidecar = sidecar_data([(t.start_s or 0.0, t.end_s or t.start_s or 0.0, words) for t, words in grouped])
    return Imported(interview=interview, sidecar=sidecar, warnings=warnings, duration=transcript.duration, kind="recording")
