"""Commands that bring interviews in: import (recordings and transcripts) and doctor (transcription set-up)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from custdev.cli import BaseOpt, JsonOpt, QuietOpt, _error_language, app, err, error_line, errors, note_line, out, print_json, warning_line
from custdev.errors import Message, localize
from custdev.i18n import DEFAULT_LANGUAGE, LANGUAGES, N_, decimal, translator


def _check_language(language: str) -> None:
    """--language: auto or one of the languages custdev knows (custdev.i18n.LANGUAGES)."""
    if language != "auto" and language not in LANGUAGES:
        raise typer.BadParameter(Message(N_("use {choices} or auto"), choices=", ".join(LANGUAGES)), param_hint="--language")


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


RayOpt = Annotated[Optional[bool], typer.Option(
    "--ray/--no-ray", show_default=False,
    help=N_("Transcribe on a Ray cluster (pip install 'custdev\\[ray]'): the cluster this machine belongs to, else a local one "
         "started for the run. Default: custdev.toml \\[transcription] ray."),
)]
RayAddressOpt = Annotated[Optional[str], typer.Option(
    "--ray-address", metavar="ADDRESS", show_default=False,
    help=N_("Use this Ray cluster (implies --ray): ray://HOST:10001 (Ray Client), HOST:6379, or local (a new local cluster)."),
)]


def _ray_address(ray: bool | None, address: str | None, b) -> str | None:
    """None (transcribe here) or the Ray address: --ray-address, else --ray/--no-ray, else custdev.toml."""
    if address:
        return address
    if ray is None:
        return b.config.ray
    return (b.config.ray or "auto") if ray else None


@app.command("import")
def import_(
    paths: Annotated[List[Path], typer.Argument(help=N_("Recordings, transcripts or folders (searched recursively)."), show_default=False)],
    respondent: Annotated[Optional[str], typer.Option(help=N_("The respondent's name (default: 'Respondent', or the name in the transcript)."))] = None,
    interviewer: Annotated[Optional[str], typer.Option(help=N_("The interviewer's name (default: 'Interviewer', or the name in the transcript)."))] = None,
    company: Annotated[Optional[str], typer.Option(help=N_("The respondent's company."))] = None,
    role: Annotated[Optional[str], typer.Option(help=N_("The respondent's job title."))] = None,
    segment: Annotated[Optional[List[str]], typer.Option("--segment", "-s", help=N_("Codebook segment slug; repeat for several."))] = None,
    language: Annotated[str, typer.Option(help=N_("Spoken language: ru, en or auto (detected per file and channel)."))] = "auto",
    model: Annotated[Optional[str], typer.Option(help=N_("Whisper model: base (bundled, offline), a faster-whisper name such as small or large-v3 (downloaded once), or a local CTranslate2 folder. Default: custdev.toml \\[transcription] model."))] = None,
    device: Annotated[str, typer.Option(help=N_("auto, cpu (int8) or cuda (float16)."))] = "auto",
    speakers: Annotated[str, typer.Option(help=N_("Speakers' names in order of first appearance (\"Мария,Анна\": the first is the interviewer unless --interviewer says otherwise), or how many voices to look for in a mono recording (1 = no split)."))] = "2",
    interviewer_channel: Annotated[str, typer.Option(help=N_("Stereo call recordings: the interviewer's channel, left, right or auto (who asks more questions)."))] = "auto",
    beam_size: Annotated[int, typer.Option(min=1, max=10, help=N_("Beam size (1 = greedy, faster, a little less accurate)."))] = 5,
    build: Annotated[bool, typer.Option("--build/--no-build", help=N_("Update custdev.db after importing."))] = True,
    channel: Annotated[Optional[str], typer.Option(help=N_("Import survey, ticket or chat exports (CSV, XLSX, JSON Lines) instead of interviews: survey, ticket or chat."))] = None,
    column: Annotated[Optional[List[str]], typer.Option("--column", help=N_("Channel imports: FIELD=HEADER, e.g. text=Comment, nps=Score; fields: text, date, respondent, segment, nps, id, speaker, conversation. Default: [channels.<channel>.columns] in custdev.toml, else guessed from the headers."))] = None,
    encoding: Annotated[Optional[str], typer.Option(help=N_("Channel imports: the CSV's encoding when it is not UTF-8 (e.g. cp1251 from Excel)."))] = None,
    ray: RayOpt = None,
    ray_address: RayAddressOpt = None,
    strict: Annotated[bool, typer.Option("--strict", help=N_("Exit 1 when any file imported with a warning (for scripts)."))] = False,
    base: BaseOpt = None,
    json_: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Import recordings (transcribed offline with Whisper), transcripts (VTT, SRT, TXT, DOCX, Markdown) and REFI-QDA projects (.qdpx) into interviews/; with --channel, survey, ticket or chat exports into channels/.

    Each source becomes one interview file with speaker turns and timestamps; the database is then updated.
    A .qdpx project's codes map to pains, hypotheses and tags through qdpx-mappings/<project>.yml, written on the first run.
    A channel export (CSV, XLSX, JSON Lines) becomes markdown files of up to 1,000 responses each; bad rows are reported by row number.
    Re-running skips what is already imported, so an interrupted batch resumes where it stopped.
    """
    from custdev.config import check_not_published, load_base

    if channel is not None or column or encoding:
        _import_channel(paths, channel, column or [], encoding, base, build, json_, quiet)
        return
    projects = [p for p in paths if p.suffix.lower() == ".qdpx"]
    if projects:
        _import_projects(projects, base, build, json_, quiet)
        paths = [p for p in paths if p.suffix.lower() != ".qdpx"]
        if not paths:
            return

    from custdev.importers import ImportContext
    from custdev.ingest import ImportOptions
    from custdev.speech import TranscribeOptions

    _check_language(language)
    speaker_names = [n.strip() for n in speakers.split(",") if n.strip()] if not speakers.strip().isdigit() else []
    voices = len(speaker_names) if speaker_names else int(speakers)
    if not 1 <= voices <= 8:
        raise typer.BadParameter(N_("give 1 to 8 voices, or the speakers' names separated by commas"), param_hint="--speakers")
    if interviewer_channel not in ("auto", "left", "right"):
        raise typer.BadParameter(N_("use left, right or auto"), param_hint="--interviewer-channel")
    if device not in ("auto", "cpu", "cuda"):
        raise typer.BadParameter(N_("use auto, cpu or cuda"), param_hint="--device")
    lang = None if language == "auto" else language
    with errors():
        b = load_base(base)
        check_not_published(b)
        options = ImportOptions(
            context=ImportContext(
                respondent=respondent, interviewer=interviewer, company=company, role=role,
                segments=list(segment or []), language=lang, ui_language=b.config.language, codebook=b.codebook,
                speaker_names=speaker_names,
            ),
            transcribe=TranscribeOptions(
                model=model or b.config.model, device=device, language=lang, beam_size=beam_size,
                speakers=voices, interviewer_channel=interviewer_channel,
            ),
            build=build, ray=_ray_address(ray, ray_address, b),
        )
        summary = _run_import(b, paths, options, quiet=quiet, json_=json_)
    _finish(summary, quiet=quiet, json_=json_, strict=strict, language=b.config.language)


@app.command()
def sample(
    folder: Annotated[Path, typer.Argument(help=N_("The archive: a folder of recordings or transcripts (searched recursively)."), show_default=False)],
    n: Annotated[int, typer.Option("--n", min=1, help=N_("How many files to draw."))] = 50,
    by: Annotated[Optional[str], typer.Option(help=N_("Stratify by segment, agent or month (from the metadata CSV; month also from dates in file names). Default: a simple random sample."), show_default=False)] = None,
    seed: Annotated[Optional[int], typer.Option(help=N_("Random seed: the same archive, CSV, --n, --by and seed draw the same files. Default: the base's earlier seed for this archive, else a new one (printed)."), show_default=False)] = None,
    metadata: Annotated[Optional[Path], typer.Option(help=N_("Metadata CSV with a 'file' column and segment/agent/month (or date) columns. Default: FOLDER/metadata.csv."), show_default=False)] = None,
    language: Annotated[str, typer.Option(help=N_("Spoken language: ru, en or auto (detected per file and channel)."))] = "auto",
    model: Annotated[Optional[str], typer.Option(help=N_("Whisper model (default: custdev.toml \\[transcription] model)."), show_default=False)] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help=N_("Only show the draw; import nothing, record nothing."))] = False,
    build: Annotated[bool, typer.Option("--build/--no-build", help=N_("Update custdev.db after importing."))] = True,
    ray: RayOpt = None,
    ray_address: RayAddressOpt = None,
    base: BaseOpt = None,
    json_: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Draw a reproducible stratified random sample from an archive of calls and import only those files.

    Strata get proportional shares of --n (largest-remainder rounding). The draw, with the archive's size, is kept in
    sample.json, so `custdev pains` reports its intervals as estimates for the whole archive (finite-population
    correction). A segment stratum that is a codebook slug becomes the interview's segment; an agent its interviewer.
    """
    from custdev.config import check_not_published, load_base
    from custdev.importers import ImportContext
    from custdev.ingest import ImportOptions
    from custdev.sampling import draw_for_base, file_contexts, save_record
    from custdev.speech import TranscribeOptions

    _check_language(language)
    lang = None if language == "auto" else language
    with errors():
        b = load_base(base)
        check_not_published(b)
        record, notes = draw_for_base(b, folder, n, by=by, seed=seed, metadata=metadata)
        if not json_:
            for note in notes:
                note_line(note, b.config.language)
            if not quiet:
                tr = translator(b.config.language)
                how = tr.gettext("by {field}").format(field=record.by) if record.by else tr.gettext("simple random sample")
                out.print(tr.gettext("Drew {n} of {size} files from {archive} ({how}, seed {seed}):").format(
                    n=record.n, size=record.archive_size, archive=record.archive, how=how, seed=record.seed), markup=False)
                for h, s in record.strata.items():
                    out.print("  " + tr.gettext("{stratum}: {sample} of {archive}").format(stratum=h, sample=s["sample"], archive=s["archive"]), markup=False)
        if dry_run:
            if json_:
                print_json({"sample": record.to_dict(), "notes": notes})
            else:
                for f in record.files:
                    out.print(f"  {f.file}", markup=False)
            return
        save_record(b, record)
        ctx = ImportContext(language=lang, ui_language=b.config.language, codebook=b.codebook)
        options = ImportOptions(
            context=ctx, transcribe=TranscribeOptions(model=model or b.config.model, language=lang),
            build=build, contexts=file_contexts(b, record, ctx), ray=_ray_address(ray, ray_address, b),
        )
        summary = _run_import(b, record.paths(), options, quiet=quiet, json_=json_)
    _finish(summary, quiet=quiet, json_=json_, language=b.config.language, extra={"sample": {k: v for k, v in record.to_dict().items() if k != "files"}, "notes": notes})


def _run_import(b, paths, options, *, quiet: bool, json_: bool):
    """import_paths with a progress bar (unless quiet or JSON) and one line per file."""
    from custdev.ingest import import_paths

    if quiet or json_ or not err.is_terminal:  # the bar only on a terminal: in a log it left an empty line
        return import_paths(b, paths, options, progress=(lambda e: _report(e.result, quiet or json_, b.config.language) if e.kind == "done" else None))
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(), TimeRemainingColumn(), console=err, transient=True,
    ) as bar:
        tr = translator(b.config.language)
        batch = bar.add_task(tr.gettext(N_("Importing")), total=None, detail="")
        current = bar.add_task("", total=None, detail="", visible=False)
        finished = [0]

        def on_event(event) -> None:
            if event.kind == "cluster" and event.stats:
                bar.update(batch, total=event.total, detail=_cluster_line(event.stats, tr))
            elif event.kind == "start" and event.index:
                bar.update(batch, total=event.total, completed=event.index - 1, detail=tr.gettext("file {n}/{total}").format(n=event.index, total=event.total))
                bar.update(current, description=Path(event.source).name[:40], completed=0, total=None, detail="", visible=True)
            elif event.kind == "progress" and event.total_s:
                bar.update(current, total=event.total_s, completed=min(event.done_s, event.total_s),
                           detail=f"{_clock(event.done_s)} / {_clock(event.total_s)}")
            elif event.kind == "done":
                if event.index:
                    finished[0] += 1  # a Ray import finishes files out of order
                    bar.update(batch, completed=finished[0])
                    bar.update(current, visible=False)
                _report(event.result, quiet, b.config.language)

        return import_paths(b, paths, options, progress=on_event)


def _cluster_line(st: dict, tr) -> str:
    """Files done, hours of audio done, speed (× real time) and ETA of a Ray import, in ``tr``'s language."""
    lang = tr.language
    line = tr.ngettext("{done}/{total} recordings, {hours_done} of {hours} h on {n} Ray {device} slot",
                       "{done}/{total} recordings, {hours_done} of {hours} h on {n} Ray {device} slots", st["workers"]).format(
        done=st["files_done"], total=st["files_total"], hours_done=decimal(st["audio_done_h"], lang, 2, fixed=True),
        hours=decimal(st["audio_total_h"], lang, 2, fixed=True), n=st["workers"], device="GPU" if st["device"] == "cuda" else "CPU")
    if st.get("speed_x_real_time"):
        line += tr.gettext(", {speed}× real time, ETA {eta}").format(speed=decimal(st["speed_x_real_time"], lang, 1, fixed=True), eta=_clock(st["eta_s"]))
    return line


def _db_line(tr, total: int) -> str:
    return tr.ngettext("{db}: {total} interview", "{db}: {total} interviews", total).format(db="custdev.db", total=total)


def _finish(summary, *, quiet: bool, json_: bool, extra: dict | None = None, strict: bool = False, language: str = DEFAULT_LANGUAGE) -> None:
    """The summary line (or JSON) and the exit code of an import, in the base's language."""
    tr = translator(language)
    if json_:
        print_json({**(extra or {}), **summary.to_dict()})
    elif not quiet or not summary.ok:
        line = tr.gettext("{created} imported, {skipped} already there, {failed} failed").format(
            created=summary.count("created"), skipped=summary.count("skipped"), failed=summary.count("failed"))
        if summary.build:
            line += "; " + _db_line(tr, summary.build["total"])
        out.print(line, markup=False)
        if summary.build and summary.build.get("errors"):
            for message in summary.build["errors"]:
                error_line(message, language)
    if summary.interrupted:
        err.print(tr.gettext("Interrupted: run the same command again to resume."), markup=False)
        raise typer.Exit(130)
    if not summary.ok or (strict and summary.warned):
        raise typer.Exit(1)


def _import_channel(paths: list[Path], channel: str | None, column: list[str], encoding: str | None, base, build: bool,
                    json_: bool, quiet: bool) -> None:
    """Survey / ticket / chat exports: each file -> grouped markdown parts in channels/, then one build."""
    from custdev.channels.ingest import import_responses
    from custdev.channels.read import CHANNELS
    from custdev.config import check_not_published, load_base

    if channel not in CHANNELS:
        raise typer.BadParameter(Message(N_("use {choices}"), choices=", ".join(CHANNELS)), param_hint="--channel")
    if encoding:
        import codecs

        try:
            codecs.lookup(encoding)
        except LookupError:
            raise typer.BadParameter(Message(N_("unknown encoding {encoding}"), encoding=repr(encoding)), param_hint="--encoding") from None
    columns = {}
    for item in column:
        field_, sep, header = item.partition("=")
        if not sep or not field_.strip() or not header.strip():
            raise typer.BadParameter(Message(N_("{item}: use FIELD=HEADER, e.g. text=Comment"), item=repr(item)), param_hint="--column")
        columns[field_.strip()] = header.strip()
    results, failed = [], False
    with errors():
        b = load_base(base)
        check_not_published(b)
    tr = translator(b.config.language)
    for path in paths:
        try:
            with errors():
                result = import_responses(b, path, channel, columns=columns, encoding=encoding)
        except typer.Exit:
            failed = True
            continue
        results.append(result)
        if result.skipped:
            if not quiet and not json_:
                out.print(tr.gettext("Skipped {message}").format(message=localize(result.message, tr)), markup=False)
            continue
        if not (quiet or json_):
            items = (tr.ngettext("{n} conversation", "{n} conversations", result.items) if channel == "chat" else
                     tr.ngettext("{n} response", "{n} responses", result.items) if channel == "survey" else
                     tr.ngettext("{n} ticket", "{n} tickets", result.items)).format(n=decimal(result.items, tr.language, 0))
            parts = tr.ngettext("{n} file", "{n} files", result.parts).format(n=result.parts)
            bad = tr.ngettext(", {n} bad row skipped", ", {n} bad rows skipped", result.bad.count).format(n=decimal(result.bad.count, tr.language, 0))
            out.print(tr.gettext("Imported {file}: {items} into {folder}/ ({parts})").format(
                file=path.name, items=items, folder=result.folder, parts=parts) + (bad if result.bad.count else ""), markup=False)
        for line in result.bad.lines():
            warning_line(Message("{file}: {message}", file=path.name, message=line), tr.language)
        if result.unknown_segments:
            shown = ", ".join(f"{s!r} ({decimal(n, tr.language, 0)})" for s, n in list(result.unknown_segments.items())[:10])
            note_line(Message(N_("{file}: segments not in the codebook, kept as written: {segments}"), file=path.name, segments=shown), tr.language)
    build_result = None
    if build and any(not r.skipped for r in results):
        from custdev.build import build_base

        with errors():
            build_result = build_base(b)
        for message in build_result.errors:
            error_line(message, tr.language)
        if not (quiet or json_):
            out.print(_db_line(tr, build_result.total) + tr.ngettext(", {n} channel response", ", {n} channel responses",
                                                                      build_result.responses).format(n=decimal(build_result.responses, tr.language, 0)), markup=False)
        failed |= bool(build_result.failed)
    if json_:
        data = [r.to_dict() for r in results]
        for d in data:
            d["build"] = build_result.to_dict() if build_result else None
        print_json(data if len(paths) > 1 else (data[0] if data else {}))
    if failed:
        raise typer.Exit(1)


def _import_projects(projects: list[Path], base, build: bool, json_: bool, quiet: bool) -> None:
    """REFI-QDA projects (.qdpx): one library call each; a bad project is one line and writes nothing."""
    from custdev.config import check_not_published, load_base
    from custdev.interchange.qdpx_import import import_qdpx

    results, failed, waiting = [], False, False
    with errors():
        b = load_base(base)
        check_not_published(b)
    tr = translator(b.config.language)
    for project in projects:
        try:
            result = import_qdpx(b, project, build=build)
        except Exception as exc:  # noqa: BLE001 - CustdevError is one line; anything else must not leak a traceback
            from custdev.errors import CustdevError

            message = exc if isinstance(exc, CustdevError) else Message(N_("{file}: unexpected {error}; nothing imported"), file=project.name, error=type(exc).__name__)
            error_line(message, tr.language)
            failed = True
            continue
        results.append(result)
        for warning in result.warnings:
            warning_line(Message("{file}: {message}", file=project.name, message=warning), tr.language)
        if result.unknown_codes:
            note_line(Message(N_("{file}: {n} code(s) not in the codebook, imported as tags (map them in {mapping}):"),
                              file=project.name, n=len(result.unknown_codes), mapping=result.mapping), tr.language)
            for line in result.unknown_codes:
                err.print(f"  {line}", markup=False)
        if result.waiting_for_mapping:
            waiting = True
            err.print(tr.gettext("Wrote {mapping}: review how the project's codes map to pains, hypotheses and tags, "
                                 "then run the same command again to import.").format(mapping=result.mapping), markup=False)
            continue
        if not (quiet or json_):
            out.print(tr.gettext("Imported {file}: {interviews}, {quotes}").format(
                file=project.name, interviews=tr.ngettext("{n} interview", "{n} interviews", len(result.created)).format(n=len(result.created)),
                quotes=tr.ngettext("{n} quote", "{n} quotes", result.quotes).format(n=result.quotes))
                + (tr.gettext(", {n} already there").format(n=len(result.skipped)) if result.skipped else "")
                + ("; " + _db_line(tr, result.build["total"]) if result.build else ""), markup=False)
        if result.build and result.build.get("errors"):
            failed = True
            for message in result.build["errors"]:
                error_line(message, tr.language)
    if json_:
        print_json([r.to_dict() for r in results] if len(projects) > 1 else (results[0].to_dict() if results else {}))
    if failed or waiting:
        raise typer.Exit(1)


def _report(result, quiet: bool, language: str = DEFAULT_LANGUAGE) -> None:
    """One line per file: created/skipped on stdout (in the base's language), failures and warnings on stderr."""
    if result is None:
        return
    tr = translator(language)
    if result.status == "created":
        if not quiet:
            what = tr.ngettext("{n} turn", "{n} turns", result.turns).format(n=result.turns)
            if result.kind == "recording":
                what += f", {_clock(result.duration_s)}, {result.language or tr.gettext('language ?')}"
            out.print(tr.gettext("Created {interview} ({what}) from {source}").format(
                interview=result.interview, what=what, source=result.source), markup=False)
        for warning in result.warnings:
            warning_line(Message("{file}: {message}", file=result.source, message=warning), language)
    elif result.status == "skipped":
        if not quiet:
            out.print(tr.gettext("Skipped {source}: already imported as {interview}").format(
                source=result.source, interview=result.interview) if result.interview else
                tr.gettext("Skipped {message}").format(message=localize(result.message, tr)), markup=False)
    elif result.status == "ignored":
        if not quiet:
            note_line(result.message, language)
    else:
        error_line(result.message, language)


@app.command()
def record(
    name: Annotated[Optional[str], typer.Option(help=N_("Interview id and file name (default: the date and time, e.g. 2026-03-14-101500)."))] = None,
    device: Annotated[Optional[str], typer.Option(help=N_("Input device: its number or part of its name (default: the system's default microphone)."))] = None,
    list_devices: Annotated[bool, typer.Option("--list-devices", help=N_("List the input devices and exit."))] = False,
    seconds: Annotated[Optional[float], typer.Option(min=0.5, help=N_("Stop after this many seconds (default: at Ctrl-C)."))] = None,
    transcribe: Annotated[bool, typer.Option("--transcribe/--no-transcribe", help=N_("Transcribe and import the recording when it ends."))] = True,
    respondent: Annotated[Optional[str], typer.Option(help=N_("The respondent's name."))] = None,
    interviewer: Annotated[Optional[str], typer.Option(help=N_("The interviewer's name."))] = None,
    company: Annotated[Optional[str], typer.Option(help=N_("The respondent's company."))] = None,
    segment: Annotated[Optional[List[str]], typer.Option("--segment", "-s", help=N_("Codebook segment slug; repeat for several."))] = None,
    language: Annotated[str, typer.Option(help=N_("Spoken language: ru, en or auto (detected per stretch of speech)."))] = "auto",
    base: BaseOpt = None,
    json_: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Record an interview from the microphone into audio/<id>.ogg (Opus), then transcribe it like import.

    Shows the elapsed time and a live level meter; Ctrl-C stops cleanly. The file is written in small pages and
    synced every second, so a crash or power loss keeps everything recorded until then.
    """
    import datetime as dt

    from rich.live import Live

    from custdev.config import check_not_published, load_base
    from custdev.speech.record import RecordError, level_bar, list_devices as devices, record as run_record

    _check_language(language)
    with errors():
        if list_devices:
            found = devices()
            if json_:
                print_json([d.__dict__ for d in found])
            else:
                tr = translator(_error_language())
                for d in found:
                    shape = tr.gettext("{channels} ch, {rate} Hz").format(channels=d.channels, rate=f"{d.rate:.0f}")
                    out.print(f"{d.index:>3} {'*' if d.default else ' '} {d.name} ({shape})", markup=False)
                if not found:
                    err.print(tr.gettext("No input devices found."), markup=False)
            return
        b = load_base(base)
        check_not_published(b)
        stem = name or dt.datetime.now().strftime("%Y-%m-%d-%H%M%S")
        if "/" in stem or stem.startswith("."):
            raise RecordError(N_("--name '{stem}' must be a plain file name"), stem=stem)
        path = b.root / "audio" / f"{stem}.ogg"
        if path.exists():
            raise RecordError(N_("{path} already exists; choose another --name"), path=path)
        show = not (quiet or json_)
        if show:
            from rich.markup import escape

            stops = translator(b.config.language).gettext("Ctrl-C stops")
            with Live("", console=err, transient=True, refresh_per_second=8) as live:
                def meter(level) -> None:
                    db = f"{level.rms_db:6.1f} dB" if level.rms_db > -200 else "  -inf dB"
                    live.update(f"[red]● REC[/red] {_clock(level.elapsed_s)}  {level_bar(level)} {db}   " + escape(stops))

                result = run_record(path, device=device, seconds=seconds, on_level=meter)
        else:
            result = run_record(path, device=device, seconds=seconds)
        rel = path.relative_to(b.root).as_posix()
        if not json_ and not quiet:
            tr = translator(b.config.language)
            share = decimal(100 * result.cpu_s / max(result.wall_s, 1e-9), tr.language, 1, fixed=True)
            out.print(tr.gettext("Recorded {path} ({duration}; {share} % of one CPU core)").format(
                path=rel, duration=_clock(result.duration_s), share=share), markup=False)
    if not transcribe:
        if json_:
            print_json({"audio": rel, "duration_s": round(result.duration_s, 1), "cpu_share": round(result.cpu_s / max(result.wall_s, 1e-9), 3)})
        return
    # the recording is now a file in the base: import it exactly as `custdev import audio/<id>.ogg` would
    import_(paths=[path], respondent=respondent, interviewer=interviewer, company=company, segment=segment,
            language=language, base=b.root, json_=json_, quiet=quiet)


@app.command()
def doctor(base: BaseOpt = None, json_: JsonOpt = False) -> None:
    """Check the offline models: Whisper (which are available, and why not), CPU/CUDA, the cache, and the
    sentence-embedding model (similar quotes, suggest, clusters)."""
    from custdev.config import load_base
    from custdev.errors import BaseNotFound
    from custdev.speech import model_report

    language = DEFAULT_LANGUAGE
    with errors():
        try:
            b = load_base(base)
            configured, language = b.config.model, b.config.language
        except BaseNotFound:
            configured = None
        report = model_report(configured)
        from custdev.meaning.model import model_report as meaning_report

        report["meaning"] = meaning_report()
    wanted = configured or "base"
    ready = any(m["available"] for m in report["models"] if m["model"] == wanted)
    report["default_model"] = wanted
    report["ready"] = ready
    if json_:
        print_json(report)
    else:
        tr = translator(language)
        out.print(tr.gettext("Model cache: {path}").format(path=report["cache"]), markup=False)
        for m in report["models"]:
            mark = "ok " if m["available"] else "-- "
            out.print(f"  {mark} {m['model']:<9} {localize(m['detail'], tr)}  [{localize(m['source'], tr)}]", markup=False)
        cpu, cuda = report["devices"]["cpu"], report["devices"]["cuda"]
        out.print(tr.ngettext("CPU: {n} thread, int8", "CPU: {n} threads, int8", cpu["threads"]).format(n=cpu["threads"]), markup=False)
        cuda_line = (tr.ngettext("yes, {n} device, float16", "yes, {n} devices, float16", cuda["devices"]).format(n=cuda["devices"])
                     if cuda["available"] else localize(cuda["detail"], tr))
        out.print(tr.gettext("CUDA: {detail}").format(detail=cuda_line), markup=False)
        out.print((tr.gettext("Default model '{model}': ready") if ready else tr.gettext("Default model '{model}': NOT available")).format(model=wanted), markup=False)
        m = report["meaning"]
        out.print(
            tr.gettext("Sentence embeddings: {mark} {model} ({dim} dimensions, {size} MB, {license}): {detail}  [PyPI {package}]").format(
                mark="ok " if m["available"] else "-- ", model=m["model"], dim=m["dim"], size=decimal(m["size"] / 1e6, language, 0),
                license=tr.gettext(m["license"]), detail=localize(m["detail"], tr), package=m["package"]),
            markup=False,
        )
    if not ready:
        raise typer.Exit(1)
