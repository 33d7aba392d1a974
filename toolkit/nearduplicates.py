"""Near-duplicate reports: character shingles, MinHash signatures and LSH banding, so that reports
whose shingle sets overlap at least :data:`NEAR_DUPLICATE_JACCARD` (exact Jaccard, confirmed for
every candidate pair) share a group. Splits of labelled data keep a group together.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Protocol

import numpy as np

NEAR_DUPLICATE_JACCARD = 0.5
"""Reports whose character 4-gram sets overlap at least this much are one group (see README)."""
SHINGLE = 4


class Groupable(Protocol):
    """What grouping needs of a report (:class:`toolkit.segment.Report`): its id and text, and a
    group to set."""

    id: str
    group: str

    @property
    def text(self) -> str: ...


def shingles(text: str, k: int = SHINGLE) -> set[str]:
    """Character k-grams of ``text`` with punctuation and spaces removed."""
    compact = re.sub(r"[\s\W_]+", "", text)
    return {compact[i : i + k] for i in range(max(len(compact) - k + 1, 1))}


def jaccard(a: set[str], b: set[str]) -> float:
    """Jaccard similarity of two sets (0 for two empty sets)."""
    return len(a & b) / len(a | b) if a or b else 0.0


MINHASH_BANDS = 32
MINHASH_ROWS = 2


_RNG = np.random.default_rng(20261125)
_MULTIPLIERS = _RNG.integers(1, 2**63, size=MINHASH_BANDS * MINHASH_ROWS, dtype=np.uint64) | np.uint64(1)
_OFFSETS = _RNG.integers(0, 2**63, size=MINHASH_BANDS * MINHASH_ROWS, dtype=np.uint64)


def minhash_signature(items: set[str]) -> tuple[int, ...]:
    """MinHash signature of a shingle set: each shingle hashed once (blake2b), then 64 odd
    multiply-add hashes modulo 2**64, and the minimum of each."""
    if not items:
        return (0,) * len(_MULTIPLIERS)
    base = np.fromiter((int.from_bytes(hashlib.blake2b(x.encode(), digest_size=8).digest(), "little") for x in items),
                       dtype=np.uint64, count=len(items))
    with np.errstate(over="ignore"):
        hashed = base[:, None] * _MULTIPLIERS[None, :] + _OFFSETS[None, :]
    return tuple(int(v) for v in hashed.min(axis=0))


def candidate_pairs(signatures: Sequence[tuple[int, ...]]) -> set[tuple[int, int]]:
    """Pairs of reports whose MinHash signatures agree on at least one band (LSH).

    With 32 bands of 2 rows, a pair at Jaccard 0.5 becomes a candidate with probability
    1 - (1 - 0.5**2)**32 > 0.9999, so the threshold is kept while pairs are checked in near
    linear time instead of all n² of them.
    """
    pairs: set[tuple[int, int]] = set()
    for band in range(MINHASH_BANDS):
        buckets: dict[tuple[int, ...], list[int]] = {}
        for i, sig in enumerate(signatures):
            buckets.setdefault(sig[band * MINHASH_ROWS:(band + 1) * MINHASH_ROWS], []).append(i)
        for members in buckets.values():
            pairs.update((a, b) for k, a in enumerate(members) for b in members[k + 1:])
    return pairs


def assign_groups(reports: Sequence[Groupable], threshold: float = NEAR_DUPLICATE_JACCARD) -> None:
    """Set ``report.group`` so that near-duplicate reports (Jaccard >= threshold) share a group.

    Candidate pairs come from MinHash LSH (:func:`candidate_pairs`) and are confirmed with the
    exact Jaccard. Groups are the connected components; a group's id is its smallest report id,
    so it does not depend on the order of the input.
    """
    parent = list(range(len(reports)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    sets = [shingles(r.text) for r in reports]
    signatures = [minhash_signature(x) for x in sets]
    for i, j in sorted(candidate_pairs(signatures)):
        if find(i) != find(j) and jaccard(sets[i], sets[j]) >= threshold:
            parent[find(i)] = find(j)
    members: dict[int, list[str]] = {}
    for i, report in enumerate(reports):
        members.setdefault(find(i), []).append(report.id)
    for i, report in enumerate(reports):
        report.group = "g" + min(members[find(i)])[1:]
