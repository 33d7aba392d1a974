"""How far a figure on real text could move on other pages: intervals by resampling whole pages.

The sentences of one page (or one report of the seed) share its layout, its topic and its writer,
and a model's errors come in runs on the same page, so a binomial error over sentences makes a
figure look surer than it is. The interval here draws whole groups (pages, reports) with
replacement and takes the percentiles of the figure over the draws (the cluster bootstrap).
``scipy.stats.bootstrap`` resamples single observations and scikit-learn has no resampling of
groups, so the few lines are written here.

>>> hits = [True, True, True, False] * 5
>>> lo, hi = group_interval(hits, [True] * 20, [i // 4 for i in range(20)])
>>> lo == hi == 0.75  # every page alike: the figure cannot move
True
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from toolkit.calibration import HIGH_CONFIDENCE

N_RESAMPLES = 2000
LEVEL = 0.95


def group_interval(hits: Sequence[bool], counted: Sequence[bool], groups: Sequence[Hashable], *,
                   level: float = LEVEL, n_resamples: int = N_RESAMPLES,
                   random_state: int = 0) -> tuple[float, float] | None:
    """The ``level`` percentile interval of ``sum(hits where counted) / sum(counted)`` (accuracy
    with every row counted, precision at a confidence with the confident rows counted) when whole
    ``groups`` are drawn with replacement, ``n_resamples`` times; ``None`` when no row is counted
    or there are fewer than two groups."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    if not len(hits) == len(counted) == len(groups):
        raise ValueError(f"hits, counted and groups differ in length: {len(hits)}, {len(counted)}, {len(groups)}")
    counted = np.asarray(counted, dtype=bool)
    hit = np.asarray(hits, dtype=bool) & counted
    _, group = np.unique(np.asarray([str(g) for g in groups], dtype=object), return_inverse=True)
    n_groups = int(group.max()) + 1 if len(group) else 0
    if not counted.any() or n_groups < 2:
        return None
    per_hit = np.bincount(group, weights=hit, minlength=n_groups)
    per_counted = np.bincount(group, weights=counted, minlength=n_groups)
    draws = np.random.default_rng(random_state).multinomial(n_groups, np.full(n_groups, 1.0 / n_groups), size=n_resamples)
    hit_sums, counted_sums = draws @ per_hit, draws @ per_counted
    ratios = hit_sums[counted_sums > 0] / counted_sums[counted_sums > 0]
    tail = (1.0 - level) / 2
    return float(np.quantile(ratios, tail)), float(np.quantile(ratios, 1.0 - tail))


def figure_intervals(correct: Sequence[bool], confidence: Sequence[float], groups: Sequence[Hashable]) -> dict:
    """The intervals a report stores beside a set's figures (``[low, high]`` to 4 digits, or
    ``None``): of accuracy, and of precision at confidence >= :data:`~toolkit.calibration.HIGH_CONFIDENCE`."""
    def rounded(interval: tuple[float, float] | None) -> list[float] | None:
        return [round(v, 4) for v in interval] if interval else None

    return {"accuracy_interval": rounded(group_interval(correct, [True] * len(correct), groups)),
            "precision_at_0.9_interval": rounded(group_interval(correct, [c >= HIGH_CONFIDENCE for c in confidence], groups))}
