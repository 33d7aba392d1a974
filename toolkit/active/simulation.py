"""Does active learning help here? :func:`simulate` answers it on the annotated corpus: from a few
labelled report groups, sentences are added in rounds by each strategy, and macro-F1 on a grouped
hold-out is traced against the number of labelled sentences over several seeds; the result holds
the curves, the labels each strategy saves to reach a score, and the conclusion. scikit-learn
(the split, :mod:`toolkit.training`, :mod:`toolkit.selection`) is imported when a simulation
runs, so that importing this module does not load it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from toolkit.active.strategies import DIVERSITY_THRESHOLD, STRATEGIES, diverse_top, informativeness
from toolkit.errors import ToolkitError
from toolkit.examples import Examples, Progress
from toolkit.model import SectionModel
from toolkit.params import DEFAULT_PARAMS

CHEAP_PARAMS: dict = {"classifier": "cnb", "alpha": 0.3}
"""ComplementNB: ~10x faster to fit than the shipped logistic regression, for quick simulations
(the tests). Its uncertainty is a poorer guide: on the corpus no strategy beats random with it."""


def shipped_params() -> dict:
    """The shipped model's settings (:data:`toolkit.params.DEFAULT_PARAMS`): the model ``toolkit
    suggest`` ranks with, so the simulation answers the question for it."""
    return dict(DEFAULT_PARAMS)


@dataclass(frozen=True)
class SimulationSettings:
    """How :func:`simulate` runs: ``seeds`` runs from ``seed`` on; in each, one fold of a grouped
    ``folds``-fold split is held out, ``start_groups`` random report groups of the rest are the
    starting labels, and ``rounds`` batches of ``batch`` sentences are added."""

    strategies: tuple[str, ...] = STRATEGIES
    seeds: int = 8
    seed: int = 0
    folds: int = 5
    start_groups: int = 2
    batch: int = 30
    rounds: int = 8
    threshold: float = DIVERSITY_THRESHOLD
    params: Mapping = field(default_factory=shipped_params)
    """The model (default: the shipped settings; 8 seeds x 4 strategies x 9 fits take 3-4 minutes
    on 2 cores; :data:`CHEAP_PARAMS` is ~10x faster)."""
    targets: tuple[float, ...] = (0.9, 0.95)
    """Scores to reach, as fractions of the macro-F1 of a model trained on the whole pool."""


@dataclass(frozen=True)
class _Split:
    seed: int
    test: list[int]
    start: list[int]
    pool: list[int]


def _splits(examples: Examples, settings: SimulationSettings) -> list[_Split]:
    """One hold-out split per seed: a fold of ``StratifiedGroupKFold`` shuffled by the seed, and
    the seed's draw of starting groups from its training side."""
    from sklearn.model_selection import StratifiedGroupKFold

    out = []
    for s in range(settings.seed, settings.seed + settings.seeds):
        cv = StratifiedGroupKFold(n_splits=settings.folds, shuffle=True, random_state=s)
        folds = list(cv.split(np.zeros(len(examples)), examples.labels, examples.groups))
        train, test = folds[s % settings.folds]
        names = sorted({examples.groups[i] for i in train})
        if len(names) <= settings.start_groups:
            raise ToolkitError(f"{len(names)} training report groups cannot give {settings.start_groups} starting groups and a pool")
        random.Random(s).shuffle(names)
        start_names = set(names[: settings.start_groups])
        start = [int(i) for i in train if examples.groups[i] in start_names]
        pool = [int(i) for i in train if examples.groups[i] not in start_names]
        out.append(_Split(s, [int(i) for i in test], start, pool))
    return out


def _score(examples: Examples, labelled: Sequence[int], test: Sequence[int], params: Mapping,
           seed: int) -> tuple[SectionModel, float]:
    from toolkit.selection import macro_f1  # scikit-learn: see the module's docstring
    from toolkit.training import fit

    # The simulation fits a model per round and per strategy: the text-only part is never used
    # and its calibration folds would multiply the cost of every fit by about five.
    model = fit(examples.subset(labelled), {**params, "alone": False, "calibrate": False}, seed=seed)
    predicted, _ = model.predict([examples.records[i] for i in test])
    return model, macro_f1([examples.labels[i] for i in test], predicted)


def run_strategy(examples: Examples, split: _Split, strategy: str, rounds: int, settings: SimulationSettings) -> list[float]:
    """Macro-F1 on the hold-out after 0, 1, …, ``rounds`` batches chosen by ``strategy``."""
    labelled, pool = list(split.start), list(split.pool)
    curve = []
    for r in range(rounds + 1):
        model, f1 = _score(examples, labelled, split.test, settings.params, split.seed)
        curve.append(round(f1, 4))
        if r == rounds:
            break
        records = [examples.records[i] for i in pool]
        proba = model.predict_proba(records)
        scores = informativeness(proba, strategy, seed=split.seed * 1000 + r)
        chosen = diverse_top(scores, [rec["text"] for rec in records], settings.batch,
                             threshold=settings.threshold, fill=True).chosen
        taken = {pool[k] for k in chosen}
        labelled += [pool[k] for k in chosen]
        pool = [i for i in pool if i not in taken]
    return curve


def _paired(runs: Sequence[Sequence[float]], random_runs: Sequence[Sequence[float]]) -> dict:
    """Per round, the mean and standard error over seeds of (strategy - random) macro-F1."""
    diffs = np.array(runs) - np.array(random_runs)
    se = diffs.std(axis=0, ddof=1) / math.sqrt(len(diffs)) if len(diffs) > 1 else np.zeros(diffs.shape[1])
    return {"diff_vs_random": [round(float(d), 4) for d in diffs.mean(axis=0)], "diff_se": [round(float(e), 4) for e in se]}


def _reached(xs: Sequence[int], ys: Sequence[float], target: float) -> int | None:
    return next((x for x, y in zip(xs, ys) if y >= target), None)


def simulate(examples: Examples, settings: SimulationSettings | None = None, *, progress: Progress | None = None) -> dict:
    """The active-learning simulation on labelled ``examples`` (see the module docstring)."""
    settings = settings or SimulationSettings()
    say = progress or (lambda message: None)
    unknown = set(settings.strategies) - set(STRATEGIES)
    if unknown or "random" not in settings.strategies:
        raise ToolkitError(f"strategies must include random and come from {', '.join(STRATEGIES)}")
    if settings.seeds < 1 or settings.batch < 1:
        raise ToolkitError(f"the simulation needs at least one seed and a batch of at least one sentence "
                           f"(seeds {settings.seeds}, batch {settings.batch})")
    splits = _splits(examples, settings)
    rounds = min(settings.rounds, min(len(s.pool) for s in splits) // settings.batch)
    if rounds < 1:
        raise ToolkitError(f"the smallest pool ({min(len(s.pool) for s in splits)} sentences) is less than one batch of {settings.batch}")
    per_seed: dict[str, list[list[float]]] = {s: [] for s in settings.strategies}
    ceiling = []
    for split in splits:
        say(f"seed {split.seed}: {len(split.start)} starting, {len(split.pool)} in the pool, {len(split.test)} held out")
        ceiling.append(round(_score(examples, split.start + split.pool, split.test, settings.params, split.seed)[1], 4))
        for strategy in settings.strategies:
            per_seed[strategy].append(run_strategy(examples, split, strategy, rounds, settings))
    added = [r * settings.batch for r in range(rounds + 1)]
    start_mean = float(np.mean([len(s.start) for s in splits]))
    curves = {name: {"added": added, "labelled_mean": [round(start_mean + a, 1) for a in added],
                     "macro_f1_mean": [round(float(np.mean(col)), 4) for col in zip(*runs)],
                     "macro_f1_std": [round(float(np.std(col)), 4) for col in zip(*runs)],
                     **_paired(runs, per_seed["random"]), "per_seed": runs} for name, runs in per_seed.items()}
    result = {
        "settings": {"strategies": list(settings.strategies), "seeds": list(range(settings.seed, settings.seed + settings.seeds)),
                     "holdout": f"1 of {settings.folds} grouped folds", "folds": settings.folds, "start_groups": settings.start_groups,
                     "batch": settings.batch, "rounds": rounds, "diversity_threshold": settings.threshold,
                     "params": dict(settings.params)},
        "data": {"sentences": len(examples), "groups": len(set(examples.groups))},
        "runs": [{"seed": s.seed, "start": len(s.start), "pool": len(s.pool), "test": len(s.test),
                  "test_groups": len({examples.groups[i] for i in s.test}), "ceiling_macro_f1": c}
                 for s, c in zip(splits, ceiling)],
        "ceiling": round(float(np.mean(ceiling)), 4),
        "curves": curves,
    }
    result["targets"] = _targets(result, settings.targets)
    result["area"] = _areas(result)
    result["conclusion"] = conclusion(result)
    return result


def _targets(result: dict, fractions: Sequence[float]) -> list[dict]:
    out = []
    for fraction in fractions:
        target = round(fraction * result["ceiling"], 4)
        needed = {name: _reached(c["added"], c["macro_f1_mean"], target) for name, c in result["curves"].items()}
        base = needed.get("random")
        budget = result["curves"]["random"]["added"][-1]
        others = [name for name in needed if name != "random"]
        saved = {name: base - needed[name] if base is not None and needed[name] is not None else None for name in others}
        at_least = {name: budget - needed[name] for name in others if needed[name] is not None and base is None}
        out.append({"fraction": fraction, "macro_f1": target, "added_needed": needed, "saved_vs_random": saved,
                    "saved_more_than": at_least})
    return out


def _saved_text(target: dict, name: str) -> str:
    """Labels ``name`` saves against random at ``target``: a number, "more than N" when random does
    not get there within the budget, or "-"."""
    if name in target.get("saved_more_than", {}):
        return f"more than {target['saved_more_than'][name]}"
    saved = target["saved_vs_random"].get(name)
    return "-" if saved is None else str(saved)


def _areas(result: dict) -> dict:
    """Mean macro-F1 over the rounds (the area under the curve) of each strategy, and its paired
    difference to random's per seed: mean, standard error, and in how many seeds it is higher."""
    random_areas = [float(np.mean(run)) for run in result["curves"]["random"]["per_seed"]]
    out = {}
    for name, curve in result["curves"].items():
        areas = [float(np.mean(run)) for run in curve["per_seed"]]
        diffs = [a - b for a, b in zip(areas, random_areas)]
        se = float(np.std(diffs, ddof=1) / math.sqrt(len(diffs))) if len(diffs) > 1 else 0.0
        out[name] = {"mean_macro_f1": round(float(np.mean(areas)), 4), "diff_vs_random": round(float(np.mean(diffs)), 4),
                     "diff_se": round(se, 4), "wins_vs_random": int(sum(d > 0 for d in diffs)),
                     "per_seed_diff": [round(d, 4) for d in diffs]}
    return out


def _helps(area: dict, seeds: int) -> bool:
    """A strategy helps when its paired gain over random is positive, more than twice its standard
    error, and found in most seeds."""
    return area["diff_vs_random"] > 0 and area["diff_vs_random"] > 2 * area["diff_se"] and area["wins_vs_random"] > seeds / 2


def _count(n: int | None, budget: int) -> str:
    return str(n) if n is not None else f"more than {budget}"


def conclusion(result: dict) -> str:
    """A plain statement of whether any strategy beat random sampling, with the numbers."""
    seeds = len(result["runs"])
    areas = {k: v for k, v in result["area"].items() if k != "random"}
    best = max(areas, key=lambda k: areas[k]["diff_vs_random"])
    a = areas[best]
    top = result["targets"][-1]
    budget = result["curves"]["random"]["added"][-1]
    n_best, n_random = top["added_needed"][best], top["added_needed"]["random"]
    reach = (f"to reach {top['macro_f1']} macro-F1 ({top['fraction']:.0%} of the {result['ceiling']} of a model trained "
             f"on the whole pool) {best} needs {_count(n_best, budget)} added sentences and random {_count(n_random, budget)}")
    saved = top["saved_vs_random"].get(best)
    gain = (f"{a['diff_vs_random']:+.3f} mean macro-F1 over the budget against random (standard error "
            f"{a['diff_se']:.3f}), higher in {a['wins_vs_random']} of {seeds} seeds")
    if _helps(a, seeds):
        lines = [f"Active learning helps here: {best} gains {gain}; {reach}"
                 + (f": {_saved_text(top, best)} labels saved." if _saved_text(top, best) != "-" else ".")]
    elif a["diff_vs_random"] < 0 and -a["diff_vs_random"] > 2 * a["diff_se"]:
        lines = [f"Active learning hurts here: every strategy does worse than random sampling; the best, {best}, "
                 f"gains {gain}; {reach}. Choose the sentences to label at random (--strategy random)."]
    else:
        hint = (f" The {saved} labels saved there are a hint, not evidence: the curves are sampled every "
                f"{result['settings']['batch']} sentences and differ from seed to seed far more than between strategies."
                if saved else "")
        why = ("less than twice its standard error" if a["diff_vs_random"] <= 2 * a["diff_se"]
               else f"but in only {a['wins_vs_random']} of {seeds} seeds")
        lines = [f"Active learning does not clearly help here. The best strategy, {best}, gains {gain}: {why}, so "
                 f"within the noise between seeds; {reach}.{hint} On this corpus the choice of strategy matters "
                 "little; labelling more reports matters more (see the learning curve in evaluation.md)."]
    params = result["settings"]["params"]
    model = ("the shipped model's settings, the model toolkit suggest ranks with" if params == shipped_params()
             else f"the {params.get('classifier')} model, not the shipped settings toolkit suggest ranks with")
    lines.append(f"Caveats: {result['data']['groups']} report groups and a hold-out of a few groups per seed; "
                 f"the simulation used {model}.")
    return " ".join(lines)


