"""Parsing interview files into rows for ``custdev build``: one file in this process, or many in worker processes
(so everything returned is plain data), a very long file split with :mod:`custdev.bigfile`."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from custdev import links, search
from custdev.errors import Message, ParseError, os_reason
from custdev.i18n import N_
from custdev.markdown import confidence, markdown_body, parse_interview, unsure_words
from custdev.models import Codebook, Interview, speaker_roles
from custdev.paths import outside_base
from custdev.search import stem_tokens

SIDECAR_SUFFIX = ".words.json"


def sidecar_path(md_path: Path) -> Path:
    return md_path.with_name(md_path.stem + SIDECAR_SUFFIX)


def hash_content(data: bytes, side: bytes | None) -> str:
    """The content hash of an interview file whose bytes are ``data``, with the bytes of its word-timestamp sidecar
    when it has one (custdev.build.file_hash)."""
    h = hashlib.sha256(data)
    if side is not None:
        h.update(b"\0sidecar\0")
        h.update(side)
    return h.hexdigest()



@dataclass
class Prepared:
    rel: str
    content_hash: str  # None when the build left it to the parse (a file new to the base): then set from the bytes read
    interview: Interview | None = None
    error: str | None = None
    utterances: list[tuple] = field(default_factory=list)  # (seq, speaker, role, start, end, text, stem, line, language, confidence, unsure)
    quotes: list[tuple] = field(default_factory=list)  # (utterance seq, start, end, text, stem, line, pains, tags, hyps, confidence, unsure)
    lemmas: dict = field(default_factory=dict)  # words a worker process lemmatised for this file (custdev.search)
    fresh: bool = False  # set by build: the database holds no rows and no link aliases of this interview
    stamp: str | None = None  # set by build: the file's stamp, stored with the interview (a file the parse hashed)
    turn_ids: list[int] = field(default_factory=list)  # derived permanent ids (custdev.links), computed in the worker
    quote_ids: list[int] = field(default_factory=list)
    # Set by a parse worker instead of ``utterances``: the rows as the utterances table takes them (id, interview id,
    # then an utterance's fields), sorted by id (see _rows_for_writer).
    utterance_rows: list[tuple] | None = None


def prepare(root: Path, md_path: Path, content_hash: str, codebook: Codebook, split: bool = False,
            resolved_root: Path | None = None) -> Prepared:
    """Parse one file into rows. ``split``: a very long file may be read by this process and a worker at once
    (custdev.bigfile). ``resolved_root``: ``root.resolve()``, when the caller has it (see outside_base)."""
    with paused_gc():
        return _prepare(root, md_path, content_hash, codebook, split, resolved_root)


@contextlib.contextmanager
def paused_gc():
    """No cyclic garbage collection while a file is parsed: parsing makes no cycles worth finding, and each collection
    walked every turn made so far (a fifth of the parse time of a 100,000-turn file)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _prepare(root: Path, md_path: Path, content_hash: str, codebook: Codebook, split: bool, resolved_root: Path | None = None) -> Prepared:
    rel = md_path.relative_to(root).as_posix()
    prepared = Prepared(rel=rel, content_hash=content_hash)
    try:
        side = sidecar_path(md_path)
        has_side = side.exists()  # looked up once (a stat call)
        if outside_base(root, md_path, resolved_root) or (has_side and outside_base(root, side, resolved_root)):
            raise ParseError(rel, None, N_("a symbolic link to a file outside the research base; refused (copy the file into the base instead)"))
        data = md_path.read_bytes()
        if content_hash is None:  # hashed here, from the very bytes parsed, instead of by the build before the parse
            prepared.content_hash = hash_content(data, side.read_bytes() if has_side else None)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(rel, _line_of_offset(data, exc.start), N_("the file is not UTF-8 text; re-save it as UTF-8")) from None
        if split and not has_side:
            from custdev.bigfile import read_split

            both = read_split(text, rel, codebook)
            if both is not None:
                interview, prepared.utterances, prepared.quotes, prepared.turn_ids, prepared.quote_ids = both
                interview.extra["_body"] = markdown_body(text)
                prepared.interview = interview
                return prepared
        interview = parse_interview(text, rel, codebook)
        if has_side:
            _apply_sidecar(interview, side, rel)
    except ParseError as exc:
        prepared.error = exc.as_message()
        return prepared
    except OSError as exc:
        prepared.error = Message(N_("{path}: cannot read ({error})"), path=rel, error=os_reason(exc))
        return prepared
    except RecursionError:
        prepared.error = Message(N_("{path}: the file is nested too deeply to read"), path=rel)
        return prepared
    # Each distinct speaker string once (the parser makes a new one per turn): its role (Interview.speaker_roles keys
    # them case-folded), and one string object for all its turns, so the rows pickled for the writer hold it once.
    speakers = dict.fromkeys(turn.speaker for turn in interview.turns)
    roles = speaker_roles(interview.interviewer, interview.respondent, speakers)
    who = {name: (name, roles[name.strip().casefold()]) for name in speakers}
    turn_keys: list[str] = []  # each text whitespace-collapsed, as links.derived_ids keys it (one split for both)
    quote_keys: list[str] = []
    add_utterance = prepared.utterances.append
    add_key = turn_keys.append
    for seq, turn in enumerate(interview.turns, 1):
        said = turn.text
        split = turn.split
        turn.split = None  # for this step only: the interview goes to the writer pickled, and its words would go too
        if split is not None and split[0] is said:  # the parser's words of this very text (one space between them)
            tokens = split[1]
            add_key(said)
        else:
            tokens = said.split()
            add_key(" ".join(tokens))
        speaker, role = who[turn.speaker]
        unsure = turn.unsure
        add_utterance(
            (seq, speaker, role, turn.start_s, turn.end_s, said, stem_tokens(tokens), turn.line,
             turn.language, confidence(said, unsure) if unsure else 1.0, _unsure_json(said, unsure) if unsure else None)
        )
        for q in turn.quotes:
            tokens = q.text.split()
            quote_keys.append(" ".join(tokens))
            prepared.quotes.append((seq, q.start_s, q.end_s, q.text, stem_tokens(tokens), q.line, q.pains, q.tags, q.hypotheses, q.confidence,
                                    _unsure_json(said, unsure, q.char_start, q.char_end) if unsure else None))
    prepared.turn_ids = links.derived_ids(interview.id, "turn", turn_keys, normalised=True)
    prepared.quote_ids = links.derived_ids(interview.id, "quote", quote_keys, normalised=True)
    interview.turns = []  # the rows carry the turns from here on (keeps worker results small)
    interview.extra["_body"] = markdown_body(text)
    prepared.interview = interview
    return prepared


def _unsure_json(text: str, unsure: list[tuple[int, int]], start: int = 0, end: int | None = None) -> str | None:
    found = unsure_words(text, unsure, start, end)
    return json.dumps(found, ensure_ascii=False) if found else None


def _apply_sidecar(interview: Interview, side: Path, rel: str) -> None:
    from custdev.wordtimes import apply_sidecar

    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ParseError(rel, None, N_("the word-timestamp file {name} is not valid JSON; delete it to use turn times"), name=side.name) from None
    except RecursionError:
        raise ParseError(rel, None, N_("the word-timestamp file {name} is nested too deeply; delete it to use turn times"), name=side.name) from None
    try:
        apply_sidecar(interview, data)
    except (RecursionError, TypeError, ValueError, AttributeError, KeyError, IndexError, OverflowError):
        raise ParseError(rel, None, N_("the word-timestamp file {name} is malformed; delete it to use turn times"), name=side.name) from None


def _line_of_offset(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _prepare_many(root: Path, jobs: list[tuple[Path, str]], codebook: Codebook, workers: int, parallel: bool = True):
    """Prepared files in the order of ``jobs``: on ``workers`` processes when ``parallel`` (enough files to pay for
    them), else here (a very long file may still be read by this process and a worker at once)."""
    if not parallel or workers < 2:
        for path, h in jobs:
            yield prepare(root, path, h, codebook, split=workers >= 2)
        return
    size = max(1, min(16, len(jobs) // (workers * 8)))
    chunks = [jobs[i:i + size] for i in range(0, len(jobs), size)]
    window = 2 * workers  # chunks in flight: results wait in memory for the writer, a few seconds of its work at most
    running: deque = deque()
    learned: deque = deque(maxlen=window)  # the words lemmatised in the chunks that came back last
    with ProcessPoolExecutor(max_workers=workers, initializer=_parse_worker) as pool:
        try:
            for chunk in chunks:
                done = None
                if len(running) >= window:
                    done = running.popleft().result()
                    learned.append({w: f for p in done for w, f in p.lemmas.items()})
                known = {w: f for found in learned for w, f in found.items()}
                running.append(pool.submit(_prepare_chunk, root, chunk, codebook, known))
                if done is not None:
                    yield from done
            while running:
                yield from running.popleft().result()
        finally:
            for future in running:
                future.cancel()


def _prepare_chunk(root: Path, chunk: list[tuple[Path, str]], codebook: Codebook, known: dict) -> list[Prepared]:
    """Run in a parse worker. ``known``: the words the workers lemmatised in the chunks that came back last, so this
    one does not analyse them again (a new word takes pymorphy3 about 0.2 ms). Parsing 1,000 generated interviews,
    two workers lemmatised 15,348 words both (of 19,427); passing them on, 4,405."""
    search.know_lemmas(known)
    try:
        resolved_root = root.resolve()
    except (OSError, RuntimeError):
        resolved_root = None  # each file's check resolves it (and finds what is wrong)
    return [_prepare_star((root, path, h, codebook, False, resolved_root)) for path, h in chunk]


def _prepare_star(args):
    prepared = prepare(*args)
    prepared.lemmas = search.take_new_lemmas()  # the parent stores them, so no later build analyses these words again
    _rows_for_writer(prepared)
    return prepared


def _rows_for_writer(p: Prepared) -> None:
    """Run in a parse worker: give the writer its utterance rows ready to insert, in id order (the order the table and
    its full-text index take them), instead of the rows in file order it would pair with the ids and sort itself.
    The writer is the build's slower process; this is a third of its Python work (see _write)."""
    if p.error is None and p.utterances and len(p.turn_ids) == len(p.utterances):
        iid = p.interview.id
        p.utterance_rows = sorted((i, iid, *u) for i, u in zip(p.turn_ids, p.utterances))
        p.utterances = []


def _file_order(rows: list[tuple]) -> list[tuple]:
    """Prepared.utterances again from utterance_rows."""
    return [r[2:] for r in sorted(rows, key=lambda r: r[2])]


# Parse workers run this much "nicer" than the build's own process, which writes the database. The writer is the
# slower side: when the parser processes outnumber the cores (two workers and the writer on two cores), a fair share
# gave the writer two thirds of a core while they parsed, then it finished alone with a core idle: 10,000 interviews
# took 102.5 s for 78.7 s of writer CPU. Nicer workers still use every core the writer leaves free. The other side:
# on a machine busy with other programs they yield to those too, and the build takes longer (1,000 generated
# interviews on the shared 2 cores at load 2-5: 23-80 s against 18-40 s at the same priority; CPU unchanged).
# bench/build_bench.py --worker-nice 0 compares.
WORKER_NICE = 10


def _parse_worker() -> None:
    """Run in a parse worker process as it starts."""
    die_with_parent()
    with contextlib.suppress(OSError, AttributeError):  # no os.nice (Windows) or not allowed: run at the same priority
        os.nice(WORKER_NICE)


def die_with_parent() -> None:
    """Run in a worker process: end it when its parent dies, even by ``kill -9`` (no orphans left computing).

    Linux delivers SIGKILL on the parent's death (prctl PR_SET_PDEATHSIG); elsewhere a thread watches the parent.
    """
    import signal
    import threading

    parent = os.getppid()
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(1, signal.SIGKILL, 0, 0, 0) == 0:  # PR_SET_PDEATHSIG
            if os.getppid() != parent:  # the parent died before prctl took effect
                os._exit(1)
            return
    except (OSError, AttributeError):
        pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
