"""``custdev import``: files and folders -> ``interviews/*.md`` (+ word-timestamp sidecars) -> the database.

* Folders are walked recursively; recordings are transcribed, transcripts parsed (:mod:`custdev.importers`).
  A transcript and a recording with the same name in the same folder (a Zoom export) make one interview: the
  transcript's text, the recording as its audio.
* Idempotent: each interview file records the SHA-256 of its source (``source_sha256``); a source already in
  the base is skipped, however it is named.
* Resumable: every interview file is written whole (temp file, then rename) as soon as its source is done, and a
  long recording's progress is checkpointed after every window in the cache, so after Ctrl-C or a kill the same
  command carries on where it stopped.
* One bad file never stops the batch: it is reported with one line naming it, and the summary says so.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

import yaml

from custdev.config import AUDIO_DIR, Base, atomic_write_text, check_slug, sha256_file
from custdev.errors import CustdevError, Message, ParseError, os_reason
from custdev.i18n import N_
from custdev.importers import AUDIO_EXTS, TRANSCRIPT_EXTS, ImportContext, Imported, ImportError_, import_transcript, kind_of
from custdev.markdown import parse_interview, render_interview
from custdev.paths import media_file, media_type
from custdev.prepare import SIDECAR_SUFFIX
from custdev.speech import ModelError, TranscribeOptions, Transcriber, cache_dir



@dataclass
class ImportOptions:
    context: ImportContext = field(default_factory=ImportContext)
    transcribe: TranscribeOptions = field(default_factory=TranscribeOptions)
    build: bool = True  # update custdev.db when done
    contexts: dict[Path, ImportContext] = field(default_factory=dict)  # per-file context (resolved path), e.g. a sample's strata
    ray: str | None = None  # transcribe on a Ray cluster: "auto", "local" or an address (custdev.distributed)


@dataclass
class FileResult:
    source: str
    status: str  # "created" | "skipped" | "failed" | "ignored"
    kind: str | None = None  # "recording" | "transcript"
    interview: str | None = None  # path of the interview file, relative to the base
    id: str | None = None
    turns: int = 0
    duration_s: float | None = None
    language: str | None = None
    audio: str | None = None
    message: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportSummary:
    files: list[FileResult] = field(default_factory=list)
    build: dict | None = None
    interrupted: bool = False
    cluster: dict | None = None  # a Ray import's last progress figures (custdev.distributed.ClusterStats)

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def ok(self) -> bool:
        """False when any file failed (the CLI then exits non-zero). Warnings alone do not fail an import."""
        return not self.interrupted and not any(f.status == "failed" for f in self.files)

    @property
    def warned(self) -> bool:
        return any(f.warnings for f in self.files)

    def to_dict(self) -> dict:
        return {
            "created": self.count("created"),
            "skipped": self.count("skipped"),
            "failed": self.count("failed"),
            "ignored": self.count("ignored"),
            "interrupted": self.interrupted,
            "files": [asdict(f) for f in self.files],
            "build": self.build,
            **({"cluster": self.cluster} if self.cluster else {}),
        }


@dataclass
class ImportEvent:
    """Progress for a UI: ``start``/``progress``/``done`` per file; seconds are audio seconds for recordings."""

    kind: str
    index: int  # 1-based position in the batch
    total: int
    source: str
    file_kind: str | None = None
    done_s: float = 0.0
    total_s: float | None = None
    result: FileResult | None = None
    stats: dict | None = None  # kind "cluster": files and hours done, speed, ETA (custdev.distributed.ClusterStats)


ProgressFn = Callable[[ImportEvent], None]



# --------------------------------------------------------------------------------------------------------------


@dataclass
class _Job:
    path: Path
    kind: str
    audio: Path | None = None  # a recording paired with a transcript


def collect(paths: list[Path], base: Base) -> tuple[list[_Job], list[FileResult]]:
    """Expand files and folders into jobs; problems (missing, unreadable, unsupported) become failed results."""
    jobs: list[_Job] = []
    problems: list[FileResult] = []
    seen: set[Path] = set()
    skip_dirs = {base.interviews_dir.resolve()}
    for given in paths:
        path = Path(given).expanduser()
        if not path.exists():
            problems.append(FileResult(str(given), "failed", message=Message(N_("{path}: no such file or folder"), path=given)))
            continue
        if path.is_dir():
            if not os.access(path, os.R_OK | os.X_OK):
                problems.append(FileResult(str(given), "failed", message=Message(N_("{path}: cannot read the folder (permission denied)"), path=given)))
                continue
            found = []
            for p in sorted(path.rglob("*")):
                rel = p.relative_to(path)
                if any(part.startswith(".") for part in rel.parts) or p.name.endswith(SIDECAR_SUFFIX):
                    continue
                if any(parent.resolve() in skip_dirs for parent in p.parents):
                    continue
                if p.is_file():
                    if kind_of(p):
                        found.append(p)
                    else:
                        problems.append(FileResult(str(p), "ignored", message=Message(N_("{path}: not a recording or transcript, ignored"), path=p)))
            if not found and not any(r.status == "ignored" and Path(r.source).is_relative_to(path) for r in problems):
                # an empty folder (or a wrong path): say so, instead of "0 imported" alone
                problems.append(FileResult(str(given), "ignored", message=Message(N_("{path}: no recordings or transcripts in this folder"), path=given)))
            files = found
        else:
            if not kind_of(path):
                problems.append(FileResult(
                    str(given), "failed",
                    message=Message(N_("{path}: unsupported file type '{suffix}' (recordings: mp3, m4a, wav, ogg, flac, webm, mp4…; "
                                       "transcripts: {transcripts})"), path=given, suffix=path.suffix or "(none)",
                                    transcripts=", ".join(sorted(e[1:] for e in TRANSCRIPT_EXTS))),
                ))
                continue
            files = [path]
        for f in files:
            key = f.resolve()
            if key in seen:
                continue
            seen.add(key)
            if not os.access(f, os.R_OK):
                problems.append(FileResult(str(f), "failed", message=Message(N_("{path}: cannot read the file (permission denied)"), path=f)))
                continue
            jobs.append(_Job(f, kind_of(f)))
    # A transcript and a recording with the same name in the same folder: one interview.
    by_stem: dict[tuple[Path, str], list[_Job]] = {}
    for job in jobs:
        by_stem.setdefault((job.path.parent.resolve(), job.path.stem.casefold()), []).append(job)
    paired: set[int] = set()
    for group in by_stem.values():
        transcripts = [j for j in group if j.kind == "transcript"]
        recordings = [j for j in group if j.kind == "recording"]
        if transcripts and recordings:
            transcripts[0].audio = recordings[0].path
            paired.update(id(j) for j in recordings)
    return [j for j in jobs if id(j) not in paired], problems


def existing_sources(base: Base) -> dict[str, str]:
    """source_sha256 -> interview file (relative to the base) for every interview file that records one."""
    found: dict[str, str] = {}
    folder = base.interviews_dir
    if not folder.is_dir():
        return found
    for md in sorted(folder.rglob("*.md")):
        meta = _front_matter(md)
        digest = meta.get("source_sha256") if isinstance(meta, dict) else None
        if isinstance(digest, str):
            found.setdefault(digest, md.relative_to(base.root).as_posix())
    return found


def _last_placeholder(base: Base) -> int:
    """The highest N of the "Respondent N" placeholders already in the base's interview files."""
    from custdev.importers import PLACEHOLDER

    last = 0
    if base.interviews_dir.is_dir():
        for md in base.interviews_dir.rglob("*.md"):
            m = PLACEHOLDER.match(str(_front_matter(md).get("respondent") or ""))
            if m:
                last = max(last, int(m.group(1)))
    return last


def _front_matter(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            if fh.readline().strip() != "---":
                return {}
            lines = []
            for line in fh:
                if line.rstrip() == "---":
                    break
                lines.append(line)
        data = yaml.safe_load("".join(lines))
        return data if isinstance(data, dict) else {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}


def free_interview_id(base: Base, wanted: str, taken: set[str]) -> str:
    """``wanted``, or ``wanted-2``, ``wanted-3`` … : an interview id no file of the base and no id in ``taken`` has yet."""
    n, candidate = 1, wanted
    while candidate in taken or (base.interviews_dir / f"{candidate}.md").exists():
        n += 1
        candidate = f"{wanted}-{n}"
    taken.add(candidate)
    return candidate


def _audio_path(base: Base, recording: Path, digest: str) -> str | None:
    """The recording's path relative to the base, under ``audio/`` (the only place the site serves recordings
    from): a recording elsewhere is linked or copied there. None for a file that is not a media type."""
    if media_type(recording) is None:
        return None
    root = base.root.resolve()
    src = recording.resolve()
    try:
        rel = src.relative_to(root).as_posix()
    except ValueError:
        rel = None
    if rel is not None and media_file(root, rel) is not None:
        return rel
    folder = root / AUDIO_DIR
    folder.mkdir(exist_ok=True)
    dest = folder / recording.name
    n = 1
    while dest.exists():
        if dest.stat().st_size == src.stat().st_size and sha256_file(dest) == digest:
            return dest.relative_to(root).as_posix()
        n += 1
        dest = folder / f"{recording.stem}-{n}{recording.suffix}"
    tmp = folder / f".{dest.name}.tmp-{os.getpid()}"
    try:
        try:
            os.link(src, tmp)  # same disk: no second copy of a long recording
        except OSError:
            shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()
    return dest.relative_to(root).as_posix()


def _checkpoint_path(digest: str) -> Path:
    return cache_dir() / "imports" / f"{digest}.json"


def _drop_checkpoint(digest: str) -> None:
    try:
        _checkpoint_path(digest).unlink()
    except OSError:
        pass


def _load_checkpoint(digest: str) -> dict | None:
    try:
        return json.loads(_checkpoint_path(digest).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _save_checkpoint(digest: str, state: dict) -> None:
    path = _checkpoint_path(digest)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(state))
    except OSError:
        pass  # resuming is a convenience; never fail an import over it


def _render(imported: Imported) -> str:
    if imported.body is None:
        return render_interview(imported.interview)
    interview = imported.interview
    turns, interview.turns = interview.turns, []
    try:
        return render_interview(interview).rstrip("\n") + "\n\n" + imported.body
    finally:
        interview.turns = turns


def _write(base: Base, imported: Imported, rel: str) -> None:
    """Check that the file parses back to the same turns, then write sidecar and interview atomically."""
    text = _render(imported)
    parsed = parse_interview(text, rel, base.codebook)
    if imported.body is None and (
        len(parsed.turns) != len(imported.interview.turns)
        or any(" ".join(a.text.split()) != " ".join(b.text.split()) for a, b in zip(parsed.turns, imported.interview.turns))
    ):
        raise ImportError_(N_("{rel}: the transcript did not survive writing as markdown (please report this file)"), rel=rel)
    md = base.root / rel
    md.parent.mkdir(parents=True, exist_ok=True)
    side = md.with_name(md.stem + SIDECAR_SUFFIX)
    if imported.sidecar:
        atomic_write_text(side, json.dumps(imported.sidecar, ensure_ascii=False, separators=(",", ":")) + "\n")
    elif side.exists():
        side.unlink()
    atomic_write_text(md, text)


def import_paths(base: Base, paths: list[str | Path], options: ImportOptions | None = None, *, progress: ProgressFn | None = None) -> ImportSummary:
    """Import files and folders into ``base``. Never raises for one bad file; see the summary."""
    options = options or ImportOptions()
    ctx = options.context
    if ctx.codebook is None:
        ctx.codebook = base.codebook
    for slug_ in ctx.segments:
        check_slug("segment", slug_, base.codebook.segments)
    if options.ray:
        from custdev.distributed import require

        options.ray = require(options.ray)  # Ray installed and the address well formed, before any work
    emit = progress or (lambda event: None)
    jobs, problems = collect([Path(p) for p in paths], base)
    summary = ImportSummary(files=list(problems))
    for problem in problems:
        emit(ImportEvent("done", 0, len(jobs), problem.source, result=problem))
    known = existing_sources(base)
    placeholder = _last_placeholder(base)
    taken: set[str] = set()
    transcriber = Transcriber(options.transcribe)
    model_error: str | None = None  # once the model cannot load, the other recordings are not tried
    total = len(jobs)
    try:
        if options.ray:
            _import_on_cluster(base, jobs, options, known, taken, emit, summary, placeholder)
            jobs = []
        for index, job in enumerate(jobs, 1):
            source = str(job.path)
            emit(ImportEvent("start", index, total, source, job.kind))
            if job.kind == "recording" and model_error:
                result = FileResult(source, "failed", job.kind, message=Message(N_("{source}: not transcribed ({error})"), source=source, error=model_error))
            else:
                def tick(done: float, tot: float | None, i: int = index, s: str = source, k: str = job.kind) -> None:
                    emit(ImportEvent("progress", i, total, s, k, done_s=done, total_s=tot))

                job_ctx = options.contexts.get(job.path.resolve(), ctx)
                if not job_ctx.respondent:
                    placeholder += 1
                    job_ctx.respondent_number = placeholder  # "Respondent 3": one stranger per source
                result = _import_one(base, job, job_ctx, transcriber, known, taken, tick)
                if result.status == "failed" and isinstance(result.message, Message) and result.message.template == MODEL_FAILED:
                    model_error = result.message.params["error"]
                    result.message = Message(N_("{source}: not transcribed ({error})"), source=source, error=model_error)
            summary.files.append(result)
            emit(ImportEvent("done", index, total, source, job.kind, result=result))
    except KeyboardInterrupt:
        summary.interrupted = True
        return summary
    if options.build and summary.count("created"):
        from custdev.build import build_base

        result = build_base(base)
        summary.build = result.to_dict()
    return summary


def _import_on_cluster(base: Base, jobs: list[_Job], options: ImportOptions, known: dict[str, str], taken: set[str],
                       emit: ProgressFn, summary: ImportSummary, placeholder: int = 0) -> None:
    """Transcripts here, recordings on the Ray cluster (one task each); only this process writes files."""
    from contextlib import closing

    from custdev import distributed
    from custdev.importers.audio import recording_interview
    from custdev.speech import probe

    total = len(jobs)
    works: list = []

    def finish(index: int, job: _Job, result: FileResult) -> None:
        summary.files.append(result)
        emit(ImportEvent("done", index, total, str(job.path), job.kind, result=result))

    for index, job in enumerate(jobs, 1):
        ctx = options.contexts.get(job.path.resolve(), options.context)
        if not ctx.respondent:  # "Respondent 3": one stranger per source, numbered in the batch's order
            placeholder += 1
            ctx = replace(ctx, respondent_number=placeholder)
        if job.kind != "recording":
            emit(ImportEvent("start", index, total, str(job.path), job.kind))
            finish(index, job, _import_one(base, job, ctx, None, known, taken, lambda done, tot: None))
            continue
        digest, done = _digest(job, known)
        if done is None:
            try:
                duration = probe(job.path).duration or 0.0
            except CustdevError as exc:
                done = FileResult(str(job.path), "failed", job.kind, message=exc.as_message() if str(job.path) in str(exc) else Message(N_("{path}: {error}"), path=job.path, error=exc))
        if done is not None:
            finish(index, job, done)
            continue
        works.append(distributed.Work((index, job, digest, ctx), job.path, duration))
    if not works:
        return

    def on_stats(stats) -> None:
        summary.cluster = stats.to_dict()
        emit(ImportEvent("cluster", 0, total, "", stats=stats.to_dict()))

    with closing(distributed.run(works, options.transcribe, address=options.ray, stats_fn=on_stats)) as outcomes:
        for outcome in outcomes:
            index, job, digest, ctx = outcome.key
            if outcome.message:
                result = FileResult(str(job.path), "failed", job.kind, message=outcome.message)
            else:
                def make(job: _Job = job, ctx: ImportContext = ctx, transcript=outcome.transcript) -> Imported:
                    return recording_interview(job.path, ctx, transcript, options.transcribe)

                result = _store(base, job, digest, make, known, taken)
            finish(index, job, result)


MODEL_FAILED = "model: {error}"  # the transcriber could not load: said once per file as "not transcribed (...)"


def _digest(job: _Job, known: dict[str, str]) -> tuple[str | None, FileResult | None]:
    """(SHA-256 of the source, None) to import it, or (None, result) when it cannot be read or is already there."""
    result = FileResult(str(job.path), "failed", job.kind)
    try:
        digest = sha256_file(job.path)
    except OSError as exc:
        result.message = Message(N_("{path}: cannot read the file ({error})"), path=job.path, error=os_reason(exc))
        return None, result
    if digest in known:
        result.status, result.interview = "skipped", known[digest]
        result.message = Message(N_("{path}: already imported as {interview}"), path=job.path, interview=known[digest])
        return None, result
    return digest, None


def _import_one(base: Base, job: _Job, ctx: ImportContext, transcriber: Transcriber, known: dict[str, str],
                taken: set[str], tick: Callable[[float, float | None], None]) -> FileResult:
    digest, done = _digest(job, known)
    if done is not None:
        return done

    def make() -> Imported:
        if job.kind == "recording":
            from custdev.importers.audio import import_recording

            return import_recording(job.path, ctx, transcriber, progress=tick, state=_load_checkpoint(digest),
                                    save_state=lambda state: _save_checkpoint(digest, state))
        return import_transcript(job.path, ctx)

    return _store(base, job, digest, make, known, taken)


def _store(base: Base, job: _Job, digest: str, make: Callable[[], Imported], known: dict[str, str], taken: set[str]) -> FileResult:
    """``make()`` the interview, then write it (and its sidecar) whole; any failure becomes the file's result."""
    result = FileResult(str(job.path), "failed", job.kind)
    try:
        imported = make()
        interview = imported.interview
        interview.id = free_interview_id(base, interview.id, taken)
        recording = job.path if job.kind == "recording" else job.audio
        if recording is not None:
            interview.audio = _audio_path(base, recording, digest if job.kind == "recording" else sha256_file(recording))
        elif interview.audio and media_file(base.root, interview.audio) is None:
            # An imported file's own `audio:` must name a recording under audio/, never any other file of the base.
            imported.warnings.append(Message(N_("dropped 'audio: {audio}' (not a recording in the base's {folder}/ folder)"), audio=interview.audio, folder=AUDIO_DIR))
            interview.audio = None
        interview.extra["source"] = job.path.name
        interview.extra["source_sha256"] = digest
        rel = f"interviews/{interview.id}.md"
        _write(base, imported, rel)
    except ModelError as exc:
        result.message = Message(MODEL_FAILED, error=exc)
        return result
    except CustdevError as exc:
        result.message = exc.as_message() if str(job.path) in str(exc) or isinstance(exc, ParseError) else Message(N_("{path}: {error}"), path=job.path, error=exc)
        _drop_checkpoint(digest)  # the same file would fail the same way: nothing to resume
        return result
    except OSError as exc:
        result.message = Message(N_("{path}: {error}"), path=job.path, error=os_reason(exc))
        return result
    _drop_checkpoint(digest)
    known[digest] = rel
    result.status = "created"
    result.interview = rel
    result.id = interview.id
    result.turns = len(interview.turns)
    result.duration_s = round(imported.duration, 1) if imported.duration else None
    result.language = interview.language
    result.audio = interview.audio
    result.warnings = imported.warnings
    return result
