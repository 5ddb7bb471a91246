"""Who said what: the stereo channel split, the mono voice split and the interviewer/respondent roles (numpy only).

A stereo recording whose channels differ (a call recorder that puts each side on its own channel) is transcribed
channel by channel. A mono recording is split into pieces at sentence ends and pauses; each piece gets a small
voice fingerprint (MFCC statistics and pitch) and the pieces are clustered into ``speakers`` voices with k-means.
That is a best effort: it separates clearly different voices (e.g. a man and a woman) well and similar voices
poorly. Whoever asks more questions is the interviewer.

Pieces are plain dicts from :mod:`custdev.speech.transcribe`: ``start``, ``end``, ``text``, ``words``
(``[start, end, text, probability, unsure]`` lists), ``language``, ``flags`` and ``channel`` (stereo) or ``features`` (mono).
"""

from __future__ import annotations

import math

import numpy as np

from custdev.models import Segment, Word
from custdev.speech.audio import RATE, rms


def stereo_is_split(audio: np.ndarray) -> bool:
    """True when the two channels carry different signals (one speaker per channel), not a copied mono."""
    left, right = audio[0], audio[1]
    rl, rr = rms(left), rms(right)
    if rl < 1e-4 or rr < 1e-4:
        return False  # one channel is silent: treat as mono
    corr = float(np.dot(left, right) / (np.linalg.norm(left) * np.linalg.norm(right) + 1e-12))
    return corr < 0.8


def assign_speakers(pieces: list[dict], split: str, *, speakers: int = 2, interviewer_channel: str = "auto") -> tuple[list[Segment], str]:
    """Pieces (time order) -> segments with a role each, and how they were split: channels|voices|questions|none."""
    if not pieces:
        return [], "none"
    if split == "channels":
        labels = [p["channel"] for p in pieces]
        how = "channels"
        forced = {"left": 0, "right": 1}.get(interviewer_channel)
    else:
        k = max(1, speakers)
        labels = cluster_voices([p.get("features") for p in pieces], [p["end"] - p["start"] for p in pieces], k)
        # pieces without a fingerprint (too short) take their neighbour's voice
        known = [lab for lab in labels if lab != -1]
        for i, lab in enumerate(labels):
            if lab == -1:
                before = [labels[j] for j in range(i - 1, -1, -1) if labels[j] != -1]
                labels[i] = before[0] if before else (known[0] if known else 0)
        how = "voices" if k > 1 else "none"
        if k == 2 and not _voices_differ(pieces, labels):
            labels, how = _split_by_questions(pieces), "questions"
        forced = None
    roles = _roles(pieces, labels, forced)
    segments = [
        Segment(
            start=p["start"], end=p["end"], text=p["text"], speaker=roles[lab], language=p.get("language"),
            flags=list(p.get("flags", [])),
            words=[Word(text=w[2], start=w[0], end=w[1], probability=w[3] if len(w) > 3 else None,
                        unsure=bool(w[4]) if len(w) > 4 else False) for w in p["words"]],
        )
        for p, lab in zip(pieces, labels)
    ]
    return segments, how


# --------------------------------------------------------------------------------------------------------------
# Voice fingerprints for the mono speaker split
# --------------------------------------------------------------------------------------------------------------


_MEL: np.ndarray | None = None


def _mel_filters(n_fft: int = 512, n_mels: int = 40, fmin: float = 60.0, fmax: float = 7600.0) -> np.ndarray:
    global _MEL
    if _MEL is None:
        def hz_to_mel(f):
            return 2595.0 * np.log10(1.0 + f / 700.0)

        def mel_to_hz(m):
            return 700.0 * (10 ** (m / 2595.0) - 1.0)

        mels = np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2)
        bins = np.floor((n_fft + 1) * mel_to_hz(mels) / RATE).astype(int)
        fb = np.zeros((n_mels, n_fft // 2 + 1), np.float32)
        for m in range(1, n_mels + 1):
            left, center, right = bins[m - 1], bins[m], bins[m + 1]
            for k in range(left, center):
                fb[m - 1, k] = (k - left) / max(1, center - left)
            for k in range(center, right):
                fb[m - 1, k] = (right - k) / max(1, right - center)
        _MEL = fb
    return _MEL


def _dct_matrix(n_in: int = 40, n_out: int = 20) -> np.ndarray:
    k = np.arange(n_out)[:, None]
    n = np.arange(n_in)[None, :]
    return np.cos(np.pi / n_in * (n + 0.5) * k) * math.sqrt(2.0 / n_in)


_DCT = _dct_matrix()


def voice_features(x: np.ndarray) -> list[float] | None:
    """A small voice fingerprint of a mono 16 kHz piece: MFCC means and spreads plus pitch. None if too short."""
    win, hop = 400, 160
    if len(x) < win * 8:
        return None
    n = 1 + (len(x) - win) // hop
    idx = np.arange(win)[None, :] + hop * np.arange(n)[:, None]
    frames = x[idx] * np.hamming(win)[None, :].astype(np.float32)
    power = np.abs(np.fft.rfft(frames, n=512)) ** 2
    logmel = np.log(power @ _mel_filters().T + 1e-8)
    energy = logmel.mean(axis=1)
    voiced = energy > max(energy.max() - 6.0, np.median(energy))  # the loudest frames: speech, not the gaps
    if voiced.sum() < 10:
        return None
    mfcc = logmel[voiced] @ _DCT.T
    mfcc = mfcc[:, 1:]
    f0 = _pitch(x)
    return [*mfcc.mean(axis=0).tolist(), *mfcc.std(axis=0).tolist(), *f0]


def _pitch(x: np.ndarray) -> list[float]:
    """Median and spread of log F0 over voiced 40 ms frames (normalised autocorrelation, 60-400 Hz)."""
    win, hop = 640, 320
    lo, hi = RATE // 400, RATE // 60
    n = 1 + (len(x) - win) // hop
    if n < 3:
        return [0.0, 0.0]
    idx = np.arange(win)[None, :] + hop * np.arange(n)[:, None]
    frames = x[idx] - x[idx].mean(axis=1, keepdims=True)
    spec = np.fft.rfft(frames, n=2 * win)
    ac = np.fft.irfft(np.abs(spec) ** 2)[:, : hi + 1]
    ac0 = ac[:, :1] + 1e-9
    norm = ac[:, lo : hi + 1] / ac0
    best = norm.argmax(axis=1)
    strength = norm[np.arange(n), best]
    ok = strength > 0.45
    if ok.sum() < 3:
        return [0.0, 0.0]
    f0 = np.log(RATE / (best[ok] + lo))
    q1, med, q3 = np.percentile(f0, [25, 50, 75])
    return [float(med), float(q3 - q1)]


def cluster_voices(features: list[list[float] | None], weights: list[float], k: int, seed: int = 0) -> list[int]:
    """k-means (k-means++ seeds, 16 restarts) over standardised fingerprints. Pieces without one get -1."""
    rows = [i for i, f in enumerate(features) if f is not None]
    labels = [-1] * len(features)
    if k <= 1 or len(rows) < k:
        return [0 if f is not None else -1 for f in features]
    X = np.array([features[i] for i in rows], dtype=np.float64)
    w = np.array([max(0.2, weights[i]) for i in rows])
    mu = np.average(X, axis=0, weights=w)
    sd = np.sqrt(np.average((X - mu) ** 2, axis=0, weights=w)) + 1e-6
    X = (X - mu) / sd
    X[:, -2] *= 3.0  # pitch tells voices apart better than any single MFCC statistic
    rng = np.random.default_rng(seed)
    best, best_cost = None, math.inf
    for _ in range(16):
        centers = [X[rng.choice(len(X), p=w / w.sum())]]
        for _ in range(1, k):
            d = np.min([((X - c) ** 2).sum(axis=1) for c in centers], axis=0) * w
            centers.append(X[rng.choice(len(X), p=d / d.sum())] if d.sum() > 0 else X[rng.integers(len(X))])
        C = np.array(centers)
        for _ in range(50):
            assign = ((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
            newC = np.array([np.average(X[assign == j], axis=0, weights=w[assign == j]) if (assign == j).any() else C[j] for j in range(k)])
            if np.allclose(newC, C):
                break
            C = newC
        cost = float((((X - C[assign]) ** 2).sum(axis=1) * w).sum())
        if cost < best_cost:
            best, best_cost = assign, cost
    for i, lab in zip(rows, best):
        labels[i] = int(lab)
    return labels


MIN_PITCH_GAP = math.log(2 ** (4 / 12))  # four semitones between the two voices' median pitch


def _voices_differ(pieces: list[dict], labels: list[int]) -> bool:
    """Two clusters count as two voices only when their median pitch is clearly apart (>= 4 semitones)."""
    medians = []
    for lab in set(labels):
        f0 = [p["features"][-2] for p, lb in zip(pieces, labels) if lb == lab and p.get("features") and p["features"][-2] > 0]
        if not f0:
            return False
        medians.append(float(np.median(f0)))
    return len(medians) == 2 and abs(medians[0] - medians[1]) >= MIN_PITCH_GAP


def _split_by_questions(pieces: list[dict]) -> list[int]:
    """Fallback when voices are alike: a run of pieces (pauses < 0.5 s) ending in a question is the interviewer's."""
    labels = [0] * len(pieces)
    run: list[int] = []
    for i, p in enumerate(pieces):
        run.append(i)
        nxt = pieces[i + 1] if i + 1 < len(pieces) else None
        if nxt is None or nxt["start"] - p["end"] >= 0.5:
            lab = 1 if p["text"].rstrip().endswith("?") else 0
            for j in run:
                labels[j] = lab
            run = []
    return labels


def _roles(pieces: list[dict], labels: list[int], forced: int | None) -> dict[int, str]:
    """Label -> role: the interviewer asks the most questions (per piece); ties go to whoever speaks first."""
    found = list(dict.fromkeys(labels))
    if len(found) == 1 and forced is None:
        return {found[0]: "respondent"}
    if forced is not None:
        interviewer = forced
    else:
        def score(lab: int) -> tuple[float, int]:
            mine = [p for p, lb in zip(pieces, labels) if lb == lab]
            questions = sum(1 for p in mine if p["text"].rstrip().endswith("?"))
            return (questions / max(1, len(mine)), -found.index(lab))

        interviewer = max(found, key=score)
    roles = {interviewer: "interviewer"}
    others = [lab for lab in found if lab != interviewer]
    # the respondent is whoever speaks most of the rest
    talk = {lab: sum(p["end"] - p["start"] for p, lb in zip(pieces, labels) if lb == lab) for lab in others}
    for n, lab in enumerate(sorted(others, key=lambda lab: -talk[lab])):
        roles[lab] = "respondent" if n == 0 else f"speaker-{n + 2}"
    return roles