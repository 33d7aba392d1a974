"""How worth labelling a sentence is, and the diversity guard.

Scoring (higher = more worth labelling): ``uncertainty`` (least confidence, 1 - max p), ``margin``
(1 - (p1 - p2), the two most probable sections closest), ``entropy`` (of the whole distribution)
and ``random`` (seeded, the baseline every strategy must beat). The diversity guard takes
candidates best first and skips one whose character-shingle cosine to a sentence already chosen
in the batch exceeds :data:`DIVERSITY_THRESHOLD`, so the near-identical sentences of duplicated
reports are not all sent to annotators. scikit-learn is imported where the shingle vectors are
built, so that importing this module (``toolkit tag`` does, through the CLI) does not load it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from toolkit.errors import ToolkitError

STRATEGIES = ("uncertainty", "margin", "entropy", "random")
DEFAULT_N = 50
DIVERSITY_THRESHOLD = 0.7
"""Cosine of binary character 2-3-gram vectors above which two sentences count as near-identical.
On the corpus, sentences of duplicated reports with a few swapped words score 0.78-0.98 and
different sentences at most 0.69."""


def least_confidence(proba: np.ndarray) -> np.ndarray:
    """1 - the top probability: high when the model's best guess is weak."""
    return 1.0 - np.asarray(proba, dtype=float).max(axis=1)


def margin_score(proba: np.ndarray) -> np.ndarray:
    """1 - (p1 - p2): high when the two most probable sections are close."""
    proba = np.asarray(proba, dtype=float)
    if proba.shape[1] < 2:
        return np.zeros(len(proba))
    top2 = -np.partition(-proba, 1, axis=1)[:, :2]
    return 1.0 - (top2[:, 0] - top2[:, 1])


def entropy_score(proba: np.ndarray) -> np.ndarray:
    """Shannon entropy (nats) of each row: high when probability is spread over many sections."""
    proba = np.asarray(proba, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(proba > 0, proba * np.log(proba), 0.0)
    return -terms.sum(axis=1)


def random_score(n: int, seed: int) -> np.ndarray:
    """Seeded uniform scores: the random-sampling baseline."""
    return np.random.default_rng(seed).random(n)


def informativeness(proba: np.ndarray, strategy: str, *, seed: int = 0) -> np.ndarray:
    """Scores of ``strategy`` for each row of ``proba`` (higher = label it sooner)."""
    if strategy == "uncertainty":
        return least_confidence(proba)
    if strategy == "margin":
        return margin_score(proba)
    if strategy == "entropy":
        return entropy_score(proba)
    if strategy == "random":
        return random_score(len(proba), seed)
    raise ToolkitError(f"unknown strategy {strategy!r}; choose from {', '.join(STRATEGIES)}")


# --- diversity guard -------------------------------------------------------------------------


def shingle_vectors(texts: Sequence[str]):
    """L2-normalised binary character 2-3-gram vectors (independent of the other texts)."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.preprocessing import normalize

    if not any(t.strip() for t in texts):
        from scipy import sparse  # with scikit-learn above

        return sparse.csr_matrix((len(texts), 1))
    vectorizer = CountVectorizer(analyzer="char", ngram_range=(2, 3), binary=True, lowercase=False)
    return normalize(vectorizer.fit_transform(texts))


@dataclass
class Selection:
    """Indices chosen (in order) and those skipped as near-duplicates of a chosen one."""

    chosen: list[int]
    skipped: list[int] = field(default_factory=list)


def diverse_top(scores: Sequence[float], texts: Sequence[str], n: int, *,
                threshold: float = DIVERSITY_THRESHOLD, fill: bool = False) -> Selection:
    """The ``n`` best-scoring items, skipping any whose shingle cosine to an item already chosen
    exceeds ``threshold``; ties keep input order. With ``fill``, a batch left short by the guard
    is topped up with the skipped items, best first (the simulation needs equal batch sizes)."""
    if len(scores) != len(texts):
        raise ValueError("scores and texts differ in length")
    order = sorted(range(len(scores)), key=lambda i: (-float(scores[i]), i))
    vectors = shingle_vectors(texts) if len(texts) else None
    chosen: list[int] = []
    skipped: list[int] = []
    for i in order:
        if len(chosen) >= n:
            break
        if chosen and threshold < 1.0:
            similarity = (vectors[i] @ vectors[chosen].T).toarray()
            if similarity.size and similarity.max() > threshold:
                skipped.append(i)
                continue
        chosen.append(i)
    if fill and len(chosen) < n:
        extra = skipped[: n - len(chosen)]
        chosen += extra
        skipped = skipped[len(extra):]
    return Selection(chosen, skipped)


