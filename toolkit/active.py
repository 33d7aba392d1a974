"""Active learning: which unlabelled sentences to label next, and whether that pays off here.

* Scoring (higher = more worth labelling): ``uncertainty`` (least confidence, 1 - max p),
  ``margin`` (1 - (p1 - p2), the two most probable sections closest), ``entropy`` (of the whole
  distribution) and ``random`` (seeded, the baseline every strategy must beat).
* A diversity guard: candidates are taken best first, and one whose character-shingle cosine to a
  sentence already chosen in the batch exceeds :data:`DIVERSITY_THRESHOLD` is skipped, so the
  near-identical sentences of duplicated reports are not all sent to annotators.
* :func:`suggest` ranks the unlabelled sentences of new reports; :func:`ranked_tasks` writes them
  as Label Studio tasks in the format of ``toolkit ls export-tasks`` (built by
  :func:`toolkit.labelstudio.build_tasks`), plus ``rank`` and ``al_score`` data columns.
* :func:`simulate` answers "does it help?" on the annotated corpus: from a few labelled report
  groups, sentences are added in rounds by each strategy, and macro-F1 on a grouped hold-out is
  traced against the number of labelled sentences over several seeds. :func:`write_report` writes
  ``active_learning.md``, ``.json`` and ``.png``.
"""

from __future__ import annotations

import json
import math
import os
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from toolkit.errors import ToolkitError
from toolkit.evalreport import save_figure
from toolkit.examples import Progress
from toolkit.segment import Report
from toolkit.fileio import atomic_write_text

if TYPE_CHECKING:  # imported lazily: they pull in scikit-learn and jieba
    from toolkit.examples import Examples
    from toolkit.model import SectionModel

STRATEGIES = ("uncertainty", "margin", "entropy", "random")
DEFAULT_N = 50
DIVERSITY_THRESHOLD = 0.7
"""Cosine of binary character 2-3-gram vectors above which two sentences count as near-identical.
On the corpus, sentences of duplicated reports with a few swapped words score 0.78-0.98 and
different sentences at most 0.69."""
CHEAP_PARAMS: dict = {"classifier": "cnb", "alpha": 0.3}
"""ComplementNB: ~10x faster to fit than the shipped logistic regression, for quick simulations
(the tests). Its uncertainty is a poorer guide: on the corpus no strategy beats random with it."""


def shipped_params() -> dict:
    """The shipped model's settings (:data:`toolkit.model.DEFAULT_PARAMS`): the model ``toolkit
    suggest`` ranks with, so the simulation answers the question for it."""
    from toolkit.model import DEFAULT_PARAMS

    return dict(DEFAULT_PARAMS)


# --- scoring ---------------------------------------------------------------------------------


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
        from scipy import sparse

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


# --- suggest ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """An unlabelled sentence in its context, the model's guess and its active-learning score."""

    record: dict
    report: str
    label: str
    confidence: float
    score: float


@dataclass
class Suggestions:
    """What :func:`suggest` chose, best first, and what it passed over."""

    strategy: str
    chosen: list[Candidate]
    unlabelled: int
    labelled_skipped: int
    near_duplicates: int


def unlabelled_records(reports: Sequence[Report], labelled: Iterable[str]) -> tuple[list[dict], list[str], int]:
    """Feature records of the distinct sentences not in ``labelled`` (first occurrence), their
    report ids, and how many distinct sentences were left out because they are labelled."""
    from toolkit.context import sentence_records

    known = set(labelled)
    seen: set[str] = set()
    records, owners, skipped = [], [], 0
    for report in reports:
        for record in sentence_records(report):
            if record["id"] in seen:
                continue
            seen.add(record["id"])
            if record["id"] in known:
                skipped += 1
                continue
            records.append(record)
            owners.append(report.id)
    return records, owners, skipped


def suggest(reports: Sequence[Report], model: SectionModel, labelled: Iterable[str] = (), *, n: int = DEFAULT_N,
            strategy: str = "uncertainty", seed: int = 0, threshold: float = DIVERSITY_THRESHOLD) -> Suggestions:
    """Rank the unlabelled sentences of ``reports`` by ``strategy`` under ``model`` (a
    :class:`~toolkit.model.SectionModel`) and keep the ``n`` best that pass the diversity guard."""
    if strategy not in STRATEGIES:
        raise ToolkitError(f"unknown strategy {strategy!r}; choose from {', '.join(STRATEGIES)}")
    if n < 1:
        raise ToolkitError(f"--n {n}: ask for at least one sentence")
    records, owners, skipped = unlabelled_records(reports, labelled)
    if not records:
        return Suggestions(strategy, [], 0, skipped, 0)
    proba = model.predict_proba(records)
    scores = informativeness(proba, strategy, seed=seed)
    selection = diverse_top(scores, [r["text"] for r in records], n, threshold=threshold)
    classes = model.classes
    chosen = [Candidate(records[i], owners[i], classes[int(proba[i].argmax())], round(float(proba[i].max()), 4),
                        round(float(scores[i]), 4)) for i in selection.chosen]
    return Suggestions(strategy, chosen, len(records), skipped, len(selection.skipped))


class _FixedGuesses:
    """A :class:`toolkit.labelstudio.Predictor` that returns guesses computed beforehand."""

    def __init__(self, guesses: Mapping[str, object], version: str) -> None:
        self._guesses = dict(guesses)
        self.version = version

    def guess(self, reports: Sequence[Report]) -> dict:
        return dict(self._guesses)

    def guess_records(self, records: Sequence[dict]) -> list:
        from toolkit.labelstudio import Guess

        return [self._guesses.get(r["id"], Guess(None, 0.0)) for r in records]


def ranked_tasks(reports: Sequence[Report], ranked: Sequence[tuple[str, str | None, float, dict]], version: str) -> list[dict]:
    """Label Studio import tasks (``toolkit ls export-tasks`` format) for ``ranked`` sentences,
    in that order: each item is ``(sentence id, predicted label or None, score, extra data)``;
    ``rank`` (1 = first) and the extra data are added to each task's ``data``."""
    from toolkit.labelstudio import Guess, build_tasks

    order = {sid: k for k, (sid, *_rest) in enumerate(ranked)}
    guesses = {sid: Guess(label, round(float(score), 4)) for sid, label, score, _ in ranked if label}
    every = {s.id for r in reports for s in r.sentences}
    tasks = build_tasks(reports, _FixedGuesses(guesses, version), skip_ids=every - order.keys())
    tasks.sort(key=lambda t: order[t["data"]["id"]])
    for task, (_, _, _, extra) in zip(tasks, ranked):
        task["data"].update({"rank": order[task["data"]["id"]] + 1, **extra})
    return tasks


def suggestion_tasks(reports: Sequence[Report], suggestions: Suggestions, version: str) -> list[dict]:
    """The suggested sentences as Label Studio tasks with the model's prediction, best first."""
    return ranked_tasks(reports, [(c.record["id"], c.label, c.confidence, {"al_score": c.score, "al_strategy": suggestions.strategy})
                                  for c in suggestions.chosen], version)


# --- the simulation --------------------------------------------------------------------------


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
    from toolkit.selection import macro_f1
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


def to_markdown(result: dict) -> str:
    """``active_learning.md``: the set-up, the curves, labels saved, and the conclusion."""
    s = result["settings"]
    lines = ["# Does active learning help?", "",
             f"Simulation on the annotated corpus ({result['data']['sentences']} labelled sentences, "
             f"{result['data']['groups']} report groups). For each of {len(s['seeds'])} seeds, {s['holdout']} is held "
             f"out (whole report groups; seed s holds out fold s mod {s['folds']}), {s['start_groups']} random report "
             f"groups of the rest are the starting labels, "
             f"and {s['rounds']} batches of {s['batch']} sentences are added from the remaining pool by each strategy "
             f"(diversity guard at cosine {s['diversity_threshold']}). Model: `{json.dumps(s['params'])}`. "
             "Score: macro-F1 on the held-out groups.", "", "## Conclusion", "", result["conclusion"], "",
             "## Macro-F1 against labelled sentences (mean ± std over seeds)", ""]
    names = list(result["curves"])
    first = result["curves"][names[0]]
    header = ["added", "labelled (mean)"] + names
    rows = [[a, lab] + [f"{result['curves'][n]['macro_f1_mean'][k]:.3f} ± {result['curves'][n]['macro_f1_std'][k]:.3f}" for n in names]
            for k, (a, lab) in enumerate(zip(first["added"], first["labelled_mean"]))]
    lines += _table(header, rows)
    others = [n for n in names if n != "random"]
    lines += ["", "Gain over random, paired by seed (mean ± standard error):", ""]
    lines += _table(["added"] + others, [[a] + [f"{result['curves'][n]['diff_vs_random'][k]:+.3f} ± {result['curves'][n]['diff_se'][k]:.3f}"
                                               for n in others] for k, a in enumerate(first["added"])])
    lines += ["", f"Whole pool labelled (ceiling): macro-F1 {result['ceiling']} (mean over seeds).", "",
              "## Labels needed to reach a score", "",
              "Added sentences (beyond the starting reports) at which the mean curve first reaches the score; "
              "saved = random's count minus the strategy's.", ""]
    rows = []
    for t in result["targets"]:
        for n in names:
            need = t["added_needed"][n]
            rows.append([f"{t['macro_f1']} ({t['fraction']:.0%})", n, need if need is not None else "not reached",
                         _saved_text(t, n) if n != "random" else "-"])
    lines += _table(["score", "strategy", "added needed", "saved vs random"], rows)
    lines += ["", "## Mean macro-F1 over the budget (area under the curve)", ""]
    lines += _table(["strategy", "mean macro-F1", "paired diff vs random", "std. error", "seeds beating random"],
                    [[n, a["mean_macro_f1"], f"{a['diff_vs_random']:+.4f}", a["diff_se"], a["wins_vs_random"] if n != "random" else "-"]
                     for n, a in result["area"].items()])
    lines += ["", "## Runs", ""]
    lines += _table(["seed", "starting", "pool", "held out", "held-out groups", "ceiling macro-F1"],
                    [[r["seed"], r["start"], r["pool"], r["test"], r["test_groups"], r["ceiling_macro_f1"]] for r in result["runs"]])
    lines += ["", "Plot: `active_learning.png`. Rerun: `toolkit evaluate --active`.", ""]
    return "\n".join(lines)


def _table(header: list[str], rows: list[list]) -> list[str]:
    out = ["| " + " | ".join(map(str, header)) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def plot(result: dict, path: str | os.PathLike) -> Path:
    """Left: macro-F1 against labelled sentences per strategy (random with its ±std band across
    seeds). Right: each strategy minus random, paired by seed, mean ± standard error. Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    for name, curve in result["curves"].items():
        x = np.array(curve["labelled_mean"])
        y = np.array(curve["macro_f1_mean"])
        left.plot(x, y, marker="o", markersize=3, label=name, linestyle="--" if name == "random" else "-")
        if name == "random":
            sd = np.array(curve["macro_f1_std"])
            left.fill_between(x, y - sd, y + sd, alpha=0.12, color=left.lines[-1].get_color())
            continue
        d, se = np.array(curve["diff_vs_random"]), np.array(curve["diff_se"])
        right.plot(x, d, marker="o", markersize=3, label=name)
        right.fill_between(x, d - se, d + se, alpha=0.15)
    left.axhline(result["ceiling"], color="grey", linewidth=1, label=f"whole pool ({result['ceiling']:.3f})")
    left.set_xlabel("labelled sentences (mean over seeds)")
    left.set_ylabel("macro-F1 on held-out report groups")
    left.set_title(f"Learning curves ({len(result['runs'])} seeds; band: random ± std)", fontsize=10)
    left.legend(loc="lower right", fontsize=8)
    right.axhline(0, color="grey", linewidth=1)
    right.set_xlabel("labelled sentences (mean over seeds)")
    right.set_ylabel("macro-F1 minus random's (same seed)")
    right.set_title("Gain over random (mean ± standard error)", fontsize=10)
    right.legend(loc="upper right", fontsize=8)
    return save_figure(fig, Path(path))


def write_report(result: dict, out_dir: str | os.PathLike) -> list[Path]:
    """Write ``active_learning.json``, ``.md`` and ``.png`` into ``out_dir`` atomically."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "active_learning.json", json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    atomic_write_text(out / "active_learning.md", to_markdown(result))
    return [out / "active_learning.json", out / "active_learning.md", plot(result, out / "active_learning.png")]


def suggestions_summary(s: Suggestions) -> str:
    """One line for stderr: how many were chosen out of how many, and what was passed over."""
    if not s.unlabelled:
        return f"nothing to suggest: all {s.labelled_skipped} distinct sentences are already labelled"
    return (f"{len(s.chosen)} of {s.unlabelled} unlabelled sentences suggested by {s.strategy}"
            f" ({s.labelled_skipped} already labelled, {s.near_duplicates} skipped as near-duplicates)")
