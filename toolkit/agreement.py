"""Agreement between annotators: Cohen's kappa, per-label agreement, and the pairs they differ on."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float:
    """Cohen's kappa of two equally long label sequences (1.0 when both are constant and equal).

    >>> round(cohen_kappa(["x", "x", "y", "y"], ["x", "y", "y", "y"]), 3)
    0.5
    """
    if len(a) != len(b):
        raise ValueError("label sequences differ in length")
    n = len(a)
    if n == 0:
        raise ValueError("no items to compare")
    observed = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb[k] for k in ca) / (n * n)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


def per_label_agreement(a: Sequence[str], b: Sequence[str]) -> dict[str, dict]:
    """For each label: items either annotator gave it, items both gave it, and their ratio
    (positive specific agreement 2·both / (count_a + count_b))."""
    out = {}
    for label in sorted(set(a) | set(b)):
        in_a = sum(x == label for x in a)
        in_b = sum(y == label for y in b)
        both = sum(x == label and y == label for x, y in zip(a, b))
        out[label] = {"first": in_a, "second": in_b, "both": both,
                      "agreement": round(2 * both / (in_a + in_b), 4) if in_a + in_b else 1.0}
    return out


def compare(first: Mapping[str, str], second: Mapping[str, str]) -> dict:
    """Kappa, raw agreement, per-label agreement and disagreements over the ids both labelled."""
    ids = sorted(set(first) & set(second))
    a = [first[i] for i in ids]
    b = [second[i] for i in ids]
    return {
        "items": len(ids),
        "observed_agreement": round(sum(x == y for x, y in zip(a, b)) / len(ids), 4) if ids else 0.0,
        "cohen_kappa": round(cohen_kappa(a, b), 4) if ids else 0.0,
        "per_label": per_label_agreement(a, b),
        "disagreements": [{"id": i, "first": first[i], "second": second[i]} for i in ids if first[i] != second[i]],
    }
