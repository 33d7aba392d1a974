"""Splits that keep whole groups (near-duplicate report groups, kinds of unit) on one side."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence

import numpy as np


def grouped_folds(groups: Sequence[str], folds: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """K folds over whole groups, groups shuffled by ``seed`` and dealt largest first to the
    smallest fold. Raises ``AssertionError`` if any group lands on both sides."""
    names = sorted(set(groups))
    if len(names) < folds:
        raise ValueError(f"{len(names)} report groups cannot make {folds} folds")
    size = Counter(groups)
    random.Random(seed).shuffle(names)
    names.sort(key=lambda g: -size[g])
    bins: list[list[str]] = [[] for _ in range(folds)]
    load = [0] * folds
    for name in names:
        k = load.index(min(load))
        bins[k].append(name)
        load[k] += size[name]
    groups_arr = np.asarray(groups)
    out = []
    for members in bins:
        test = np.flatnonzero(np.isin(groups_arr, members))
        train = np.flatnonzero(~np.isin(groups_arr, members))
        assert not set(groups_arr[test]) & set(groups_arr[train]), "a report group is on both sides of a split"
        out.append((train, test))
    return out
