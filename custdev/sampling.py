"""Sampled review of a call archive: a reproducible stratified random sample, and intervals for the whole archive.

* **Population.** Every recording or transcript under the archive folder (searched recursively, hidden files and
  ``*.words.json`` left out), each named by its path relative to the folder.
* **Strata.** ``--by segment|agent|month`` reads the stratum of each file from a metadata CSV (default
  ``<archive>/metadata.csv``): a ``file`` column (path relative to the archive, or a bare file name when that is
  unique) and a ``segment``, ``agent`` or ``month`` column; ``month`` may also come from a ``date`` column
  (``YYYY-MM-DD`` → ``YYYY-MM``) or, for files the CSV does not list, from a date in the file name. A file without
  a value is in the stratum ``(none)``; nothing is dropped silently.
* **Proportional allocation, largest-remainder rounding.** Stratum h of size N_h out of N gets the quota
  q_h = n·N_h/N. Each stratum first gets ⌊q_h⌋; the n − Σ⌊q_h⌋ seats left go one each to the strata with the
  largest fractional parts q_h − ⌊q_h⌋ (ties: the larger stratum, then the stratum name). The sizes add up to
  exactly n and no stratum gets more than it holds. A small stratum may get 0.
* **Reproducible.** One ``random.Random(seed)``; strata in name order; within a stratum the files sorted by
  relative path, then ``rng.sample``. The same folder, CSV, n, strata and seed always draw the same files.
* **Record.** The draw is written to ``<base>/sample.json`` (archive size N, per-stratum sizes, seed, files and
  their SHA-256), so analysis knows the sampled interviews and the archive size.
* **Finite-population correction.** A sample of n out of N has less sampling error than n draws from an infinite
  population: the variance of a share shrinks by (N − n)/(N − 1). Intervals for the archive are the Wilson score
  interval computed with the effective sample size n' = n·(N − 1)/(N − n) (the same share p, so k' = p·n'):
  equivalent to multiplying the variance p(1 − p)/n by (N − n)/(N − 1). When n = N the interval is the share
  itself (a census); when N is much larger than n it is the plain Wilson interval. A proportional stratified
  sample is (up to rounding) self-weighting, so the sample share estimates the archive share.
"""

from __future__ import annotations

import csv
import json
import math
import random
import re
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

from custdev.config import Base, atomic_write_text, sha256_file
from custdev.i18n import N_, NP_
from custdev.errors import Counted, CustdevError, Message, os_reason

RECORD_NAME = "sample.json"
METADATA_NAME = "metadata.csv"
STRATA = ("segment", "agent", "month")
NONE = "(none)"


class SampleError(CustdevError):
    """The sample cannot be drawn (bad folder, CSV, size)."""


# --------------------------------------------------------------------------------------------------------------
# Pure parts: allocation and the corrected interval


def allocate(sizes: dict[str, int], n: int) -> dict[str, int]:
    """Proportional allocation of ``n`` over strata of ``sizes`` with largest-remainder rounding (see module doc)."""
    total = sum(sizes.values())
    if n < 0 or n > total:
        raise SampleError(N_("cannot draw {n} of {total}"), n=n, total=total)
    if total == 0:
        return {}
    quotas = {h: n * size / total for h, size in sizes.items()}
    alloc = {h: math.floor(q + 1e-9) for h, q in quotas.items()}
    left = n - sum(alloc.values())
    order = sorted(sizes, key=lambda h: (-(quotas[h] - alloc[h]), -sizes[h], h))
    for h in order[:left]:
        alloc[h] += 1
    return alloc


def wilson_fpc(k: float, n: int, population: int | None, z: float | None = None) -> tuple[float | None, float | None]:
    """Wilson interval of k/n corrected for sampling n of ``population`` without replacement (module doc).

    ``population`` None (unknown) gives the plain Wilson interval."""
    from custdev.analysis import Z95, wilson_interval

    z = Z95 if z is None else z
    if n <= 0:
        return None, None
    if population is None:
        return wilson_interval(k, n, z)
    if population < n:
        raise SampleError(N_("{n} interviews cannot be a sample of an archive of {population}"), n=n, population=population)
    if population == n:
        return k / n, k / n
    n_eff = n * (population - 1) / (population - n)
    return wilson_interval(k / n * n_eff, n_eff, z)


# --------------------------------------------------------------------------------------------------------------
# The archive and its metadata


@dataclass
class SampledFile:
    file: str  # relative to the archive folder
    stratum: str
    sha256: str | None = None


@dataclass
class SampleRecord:
    archive: str
    archive_size: int
    n: int
    by: str | None
    seed: int
    metadata: str | None
    strata: dict[str, dict[str, int]]  # stratum -> {"archive": N_h, "sample": n_h}
    files: list[SampledFile] = field(default_factory=list)
    allocation: str = "proportional, largest remainder"
    version: int = 1

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "SampleRecord":
        files = [SampledFile(**f) for f in data.get("files", [])]
        keep = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "files"}
        return cls(files=files, **keep)

    def paths(self) -> list[Path]:
        root = Path(self.archive)
        return [root / f.file for f in self.files]


def archive_files(folder: Path) -> list[str]:
    """Recordings and transcripts under ``folder``, as sorted relative POSIX paths."""
    from custdev.importers import kind_of
    from custdev.ingest import SIDECAR_SUFFIX

    found = []
    for p in folder.rglob("*"):
        rel = p.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or p.name.endswith(SIDECAR_SUFFIX):
            continue
        if p.is_file() and kind_of(p):
            found.append(rel.as_posix())
    return sorted(found)


_NAME_DATE = re.compile(r"(20\d{2}|19\d{2})[-_.]?(0[1-9]|1[0-2])")


def read_metadata(path: Path, files: list[str], by: str) -> tuple[dict[str, str], list[str]]:
    """file -> stratum value from the CSV, plus notes (rows naming no archive file)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SampleError(N_("{path}: no metadata CSV (--by {by} needs one; see --metadata)"), path=path, by=by) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SampleError(N_("{path}: cannot read the metadata CSV ({error})"), path=path,
                          error=Message(N_("not UTF-8 text")) if isinstance(exc, UnicodeDecodeError) else os_reason(exc)) from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(text.splitlines(), dialect=dialect)
    columns = {(c or "").strip().casefold(): c for c in reader.fieldnames or []}
    file_col = columns.get("file") or columns.get("path") or columns.get("filename")
    if not file_col:
        raise SampleError(N_("{path}: the metadata CSV needs a 'file' column (found: {columns})"), path=path, columns=', '.join(columns) or Message(N_("none")))
    value_col = columns.get(by)
    date_col = columns.get("date") if by == "month" and not value_col else None
    if not value_col and not date_col:
        wanted = Message(N_("a 'month' or 'date'")) if by == "month" else Message(N_("a '{by}'"), by=by)
        raise SampleError(N_("{path}: --by {by} needs {wanted} column in the metadata CSV"), path=path, by=by, wanted=wanted)
    by_rel = set(files)
    by_name: dict[str, list[str]] = {}
    for f in files:
        by_name.setdefault(f.rsplit("/", 1)[-1], []).append(f)
    strata: dict[str, str] = {}
    notes: list[str] = []
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise SampleError(N_("{path}: malformed CSV ({error})"), path=path, error=exc) from None
    for line, row in enumerate(rows, 2):
        name = (row.get(file_col) or "").strip().replace("\\", "/").lstrip("./") if row.get(file_col) else ""
        if not name:
            continue
        if name in by_rel:
            rel = name
        elif len(by_name.get(name, [])) == 1:
            rel = by_name[name][0]
        else:
            notes.append(Message(N_("{path}:{line}: '{name}' is not a recording or transcript in the archive; row ignored"),
                                 path=path, line=line, name=name))
            continue
        value = (row.get(value_col) or "").strip() if value_col else ""
        if date_col:
            m = _NAME_DATE.match((row.get(date_col) or "").strip())
            value = f"{m.group(1)}-{m.group(2)}" if m else ""
        elif by == "month" and value:
            m = _NAME_DATE.match(value)
            value = f"{m.group(1)}-{m.group(2)}" if m else value
        strata[rel] = value or NONE
    return strata, notes


def stratify(folder: Path, by: str | None, metadata: Path | None) -> tuple[dict[str, list[str]], list[str], Path | None]:
    """Stratum -> sorted files; notes; the metadata file used."""
    files = archive_files(folder)
    if not files:
        raise SampleError(N_("{folder}: no recordings or transcripts found"), folder=folder)
    notes: list[str] = []
    if by is None:
        return {NONE: files}, notes, None
    if by not in STRATA:
        raise SampleError(N_("--by {by}: use one of {choices}"), by=by, choices=', '.join(STRATA))
    meta_path = metadata or folder / METADATA_NAME
    if by == "month" and metadata is None and not meta_path.exists():
        values, meta_path = {}, None
    else:
        values, notes = read_metadata(meta_path, files, by)
    groups: dict[str, list[str]] = {}
    missing = 0
    for f in files:
        value = values.get(f)
        if value is None:
            missing += 1
            value = NONE
            if by == "month":
                m = _NAME_DATE.search(f.rsplit("/", 1)[-1])
                value = f"{m.group(1)}-{m.group(2)}" if m else NONE
        groups.setdefault(value, []).append(f)
    if missing and meta_path is not None:
        # the same English for 1 and many ("file(s)"); the catalogs give Russian its plural forms
        pair = (NP_("{n} file(s) of the archive are not in {name}; their month comes from the file name",
                    "{n} file(s) of the archive are not in {name}; their month comes from the file name") if by == "month" else
                NP_("{n} file(s) of the archive are not in {name}; they form the stratum {none}",
                    "{n} file(s) of the archive are not in {name}; they form the stratum {none}"))
        notes.append(Counted(pair, missing, n=missing, name=meta_path.name, none=NONE))
    return dict(sorted(groups.items())), notes, meta_path


def draw(folder: str | Path, n: int, *, by: str | None = None, seed: int | None = None,
         metadata: str | Path | None = None) -> tuple[SampleRecord, list[str]]:
    """Draw the sample (no import, no hashing). Returns the record and notes to show."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise SampleError(N_("{folder}: not a folder"), folder=folder)
    root = root.resolve()
    if n < 1:
        raise SampleError(N_("--n must be at least 1"))
    groups, notes, meta_path = stratify(root, by, Path(metadata).expanduser() if metadata else None)
    total = sum(len(v) for v in groups.values())
    if n > total:
        notes.append(f"the archive holds only {total} files; taking all of them")
        n = total
    if seed is None:
        seed = secrets.randbelow(1_000_000)
    alloc = allocate({h: len(v) for h, v in groups.items()}, n)
    rng = random.Random(seed)
    files: list[SampledFile] = []
    for h, members in groups.items():
        for f in sorted(rng.sample(members, alloc[h])):
            files.append(SampledFile(f, h))
    record = SampleRecord(
        archive=str(root), archive_size=total, n=n, by=by, seed=seed,
        metadata=str(meta_path.resolve()) if meta_path else None,
        strata={h: {"archive": len(v), "sample": alloc[h]} for h, v in groups.items()}, files=files,
    )
    return record, notes


# --------------------------------------------------------------------------------------------------------------
# The record in the base


def record_path(base: Base) -> Path:
    return base.root / RECORD_NAME


def save_record(base: Base, record: SampleRecord) -> None:
    for f in record.files:
        if f.sha256 is None:
            try:
                f.sha256 = sha256_file(Path(record.archive) / f.file)
            except OSError:
                f.sha256 = None
    atomic_write_text(record_path(base), json.dumps(record.to_dict(), ensure_ascii=False, indent=1) + "\n")


def load_record(base: Base) -> SampleRecord | None:
    path = record_path(base)
    if not path.exists():
        return None
    try:
        return SampleRecord.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as exc:
        raise SampleError(N_("{path}: unreadable sample record ({error}); draw the sample again"), path=path, error=type(exc).__name__) from None


# --------------------------------------------------------------------------------------------------------------
# Analysis of a sampled base: intervals for the archive


@dataclass
class ArchiveEstimate:
    archive_size: int | None  # N, None when the correction does not apply
    sampled: int  # interviews of the base that come from the sample
    interviews: int  # interviews in the base
    corrected: bool
    note: str
    strata_sizes: dict[str, int] = field(default_factory=dict)  # segment slug -> N_h (samples drawn --by segment)

    archive: str = ""  # the archive folder the sample was drawn from

    def to_dict(self) -> dict:
        return asdict(self)

    def explain(self, t=None) -> str:
        """:attr:`note` in the language of ``t`` (a custdev.i18n.Translator; English without one)."""
        from custdev.i18n import translator

        t = t or translator("en")
        if not self.corrected:
            return t.gettext(NOTE_OUTSIDE).format(outside=self.interviews - self.sampled, n=self.interviews, archive=self.archive)
        return t.gettext(NOTE_SAMPLE).format(k=self.sampled, size=self.archive_size, archive=self.archive)


NOTE_OUTSIDE = N_("{outside} of the {n} interviews are not from the sample of {archive}; intervals describe this base, not the archive")
NOTE_SAMPLE = N_("a sample of {k} of the {size} recordings in {archive}: shares estimate the archive; 95% intervals with the "
                 "finite-population correction")


def archive_estimate(base: Base, interviews: int) -> ArchiveEstimate | None:
    """Whether the base is a sample of a known archive; None when it holds no sample record."""
    record = load_record(base)
    if record is None:
        return None
    from custdev.ingest import existing_sources

    drawn = {f.sha256 for f in record.files if f.sha256}
    sampled = sum(1 for digest in existing_sources(base) if digest in drawn)
    size = record.archive_size
    if sampled < interviews:
        est = ArchiveEstimate(None, sampled, interviews, False, "", archive=str(record.archive))
    else:
        sizes = {h: s["archive"] for h, s in record.strata.items()} if record.by == "segment" else {}
        est = ArchiveEstimate(size, sampled, interviews, True, "", sizes, archive=str(record.archive))
    est.note = est.explain()  # English in --json and logs; the CLI shows explain(the base's language)
    return est


def correct_pains(base: Base, result) -> ArchiveEstimate | None:
    """Give a :class:`custdev.analysis.PainsResult` archive intervals (in place) when the base is a sample.

    The whole-base scope uses N; a segment's share uses N_h when the sample was stratified by segment and the
    stratum is that segment, else it stays the sample's own interval."""
    estimate = archive_estimate(base, _base_interviews(base, result))
    if estimate is None or not estimate.corrected:
        return estimate

    def fix(item, k: int, n: int, population: int | None) -> None:
        if population is None or n <= 0:
            return
        item.ci_low, item.ci_high = wilson_fpc(k, n, population)
        # The verdict follows the archive interval (never stronger than it); the settling estimate was for the sample.
        t = result.threshold
        item.verdict = "systemic" if item.ci_low >= t - 1e-12 else "local" if item.ci_high < t - 1e-12 else "unclear"
        if item.verdict != "unclear":
            item.more_interviews = None

    scope_size = estimate.archive_size if result.scope is None else estimate.strata_sizes.get(result.scope)
    for p in result.pains:
        fix(p, p.interviews, p.total_interviews, scope_size)
        for slug, s in p.segments.items():
            fix(s, s.interviews, s.segment_interviews, estimate.strata_sizes.get(slug))
    return estimate


def _base_interviews(base: Base, result) -> int:
    if result.scope is None:
        return result.total_interviews
    from custdev.analysis import interview_count, open_analysis_db

    db = open_analysis_db(base)
    try:
        return interview_count(db)
    finally:
        db.close()


# --------------------------------------------------------------------------------------------------------------
# Drawing into a base


def draw_for_base(base: Base, folder: str | Path, n: int, *, by: str | None = None, seed: int | None = None,
                  metadata: str | Path | None = None) -> tuple[SampleRecord, list[str]]:
    """:func:`draw`, reusing the seed of the base's earlier draw of the same archive when none is given (so an
    interrupted ``custdev sample`` run again draws, and imports, the same files)."""
    notes: list[str] = []
    if seed is None:
        try:
            old = load_record(base)
        except SampleError:
            old = None
        if old is not None and old.archive == str(Path(folder).expanduser().resolve()) and old.by == by and old.n == n:
            seed = old.seed
            notes.append(f"the same draw as before (seed {seed}); give --seed to draw another")
    record, more = draw(folder, n, by=by, seed=seed, metadata=metadata)
    return record, notes + more


def file_contexts(base: Base, record: SampleRecord, ctx) -> dict[Path, object]:
    """Per-file import context: a ``segment`` stratum that is a codebook slug becomes the interview's segment, an
    ``agent`` stratum its interviewer."""
    from dataclasses import replace

    out: dict[Path, object] = {}
    for f in record.files:
        if f.stratum == NONE:
            continue
        if record.by == "segment" and f.stratum in base.codebook.segments:
            out[(Path(record.archive) / f.file).resolve()] = replace(ctx, segments=[*ctx.segments, f.stratum] if f.stratum not in ctx.segments else list(ctx.segments))
        elif record.by == "agent":
            out[(Path(record.archive) / f.file).resolve()] = replace(ctx, interviewer=f.stratum)
    return out
