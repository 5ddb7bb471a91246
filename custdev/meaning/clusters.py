"""Candidate pains: uncoded respondent turns grouped into themes (scikit-learn agglomerative clustering).

Each uncoded respondent turn (no quote of it carries a pain) is one point: the mean of its sentence vectors.
Average-linkage agglomerative clustering with a cosine distance threshold groups them without fixing the number of
themes in advance; a theme is kept when it spans at least ``min_interviews`` interviews. Each theme comes with its
most central turns (closest to the theme's mean, at most one per interview) and how many interviews it spans.
Themes are numbered by size, deterministically, so ``custdev clusters --to-pain N`` names the theme just shown.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from custdev.errors import CustdevError
from custdev.i18n import N_
from custdev.meaning import store

DISTANCE = 0.70  # cosine distance within which average linkage joins two groups (tried 0.6-0.8 on the sample base)
MAX_TURNS = 4000  # agglomerative clustering is quadratic: bigger bases cluster the uncoded turns of their newest interviews


@dataclass
class Member:
    utterance_id: int
    interview_id: str
    speaker: str
    start_s: float | None
    text: str
    similarity: float  # to the theme's centre


@dataclass
class Theme:
    number: int
    size: int  # turns
    interviews: int  # interviews it spans
    central: list[Member] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Clustering:
    themes: list[Theme]
    turns: int  # uncoded respondent turns considered
    sampled: bool
    seconds: float

    def to_dict(self) -> dict:
        return {"themes": [t.to_dict() for t in self.themes], "turns": self.turns, "sampled": self.sampled, "seconds": round(self.seconds, 3)}


def _uncoded_turns(db) -> tuple[list[int], np.ndarray, bool]:
    """(turn ids, one mean vector per turn, sampled): uncoded respondent turns with current vectors; in a base with
    more than MAX_TURNS of them, those of the newest interviews (by date), and only their vectors are read."""
    wanted: list[int] = []
    sampled = False
    newest_first = db.execute(
        "SELECT i.id FROM interviews i JOIN embedded_interviews ei ON ei.interview_id = i.id AND ei.content_hash = i.content_hash "
        "ORDER BY i.date IS NULL, i.date DESC, i.id DESC").fetchall()
    for (iid,) in newest_first:  # interview by interview (an index probe each), not a sort of every turn of the base
        turns = [r[0] for r in db.execute(
            """SELECT u.id FROM utterances u WHERE u.interview_id = ? AND u.speaker_role = 'respondent' AND NOT EXISTS (
                SELECT 1 FROM quotes q JOIN quote_pains p ON p.quote_id = q.id WHERE q.utterance_id = u.id)
            ORDER BY u.seq""", [iid])]
        if len(wanted) + len(turns) > MAX_TURNS:
            wanted.extend(turns[:MAX_TURNS - len(wanted)])
            sampled = True
            break
        wanted.extend(turns)
    vec = store.load_vectors(db, "utterance", items=wanted)
    ids, out = [], []
    for uid, s, e in vec.runs():
        m = vec.matrix[s:e].mean(axis=0)
        ids.append(uid)
        out.append(m / max(float(np.linalg.norm(m)), 1e-12))
    return ids, (np.vstack(out) if out else np.zeros((0, 1), np.float32)), sampled


def clusters(db, *, min_interviews: int = 2, central: int = 3, distance: float = DISTANCE, limit: int | None = None) -> Clustering:
    """Themes of uncoded respondent turns, biggest first."""
    store.require_vectors(db)
    started = time.perf_counter()
    ids, matrix, sampled = _uncoded_turns(db)
    if len(ids) < 2:
        return Clustering([], len(ids), sampled, time.perf_counter() - started)
    from sklearn.cluster import AgglomerativeClustering

    labels = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average", distance_threshold=distance).fit_predict(matrix)
    meta = {r[0]: r[1:] for r in db.execute(
        f"SELECT id, interview_id, speaker, start_s, text FROM utterances WHERE id IN ({','.join('?' * len(ids))})", ids)}
    groups: dict[int, list[int]] = {}
    for n, lab in enumerate(labels.tolist()):
        groups.setdefault(lab, []).append(n)
    themes = []
    for members in groups.values():
        span = {meta[ids[n]][0] for n in members}
        if len(members) < 2 or len(span) < min_interviews:
            continue
        centre = matrix[members].mean(axis=0)
        centre /= max(float(np.linalg.norm(centre)), 1e-12)
        sims = matrix[members] @ centre
        picked, seen = [], set()
        for i in np.argsort(-sims).tolist():
            iid, speaker, start, text = meta[ids[members[i]]]
            if iid in seen:
                continue
            seen.add(iid)
            picked.append(Member(ids[members[i]], iid, speaker, start, text, round(float(sims[i]), 3)))
            if len(picked) == central:
                break
        themes.append((len(members), len(span), min(ids[n] for n in members), picked))
    themes.sort(key=lambda t: (-t[1], -t[0], t[2]))
    out = [Theme(n, size, span, picked) for n, (size, span, _, picked) in enumerate(themes, 1)]
    if limit:
        out = out[:limit]
    return Clustering(out, len(ids), sampled, time.perf_counter() - started)


_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def add_pain(codebook_path: Path, slug: str, title: str, description: str = "") -> None:
    """Add a pain to codebook.yml as text (comments and order are kept), checked by re-reading before it is written."""
    from custdev.config import atomic_write_text, load_codebook

    if not _SLUG.match(slug):
        raise CustdevError(N_("'{slug}' is not a valid slug: use lower-case letters, digits and hyphens"), slug=slug)
    current = load_codebook(codebook_path)
    if slug in current.pains:
        raise CustdevError(N_("the codebook already has a pain '{slug}'"), slug=slug)
    text = codebook_path.read_text(encoding="utf-8") if codebook_path.exists() else ""

    def q(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'

    entry = f"  - slug: {slug}\n    title: {q(title)}\n" + (f"    description: {q(description)}\n" if description else "")
    lines = text.splitlines(keepends=True)
    start = next((n for n, line in enumerate(lines) if re.match(r"^pains:\s*(\[\])?\s*(#.*)?$", line)), None)
    if start is None:
        new = text + ("" if text.endswith("\n") or not text else "\n") + "pains:\n" + entry
    else:
        if lines[start].split("#")[0].strip().endswith("[]"):
            lines[start] = "pains:\n"
        end = start + 1
        while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t#-"):
            end += 1
        while end > start + 1 and not lines[end - 1].strip():
            end -= 1
        if end > 0 and not lines[end - 1].endswith("\n"):
            lines[end - 1] += "\n"
        new = "".join(lines[:end]) + entry + "".join(lines[end:])
    tmp = codebook_path.with_name(f".{codebook_path.name}.check")
    try:
        tmp.write_text(new, encoding="utf-8")
        if slug not in load_codebook(tmp).pains:
            raise CustdevError(N_("could not add '{slug}' to {name}; add it by hand"), slug=slug, name=codebook_path.name)
    finally:
        tmp.unlink(missing_ok=True)
    atomic_write_text(codebook_path, new)
