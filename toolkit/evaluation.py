"""Honest evaluation: the model comparison (nested grouped CV), baselines, context ablation,
learning curve, confusion matrix, the most confident errors, and scores on a held-out test set.

The folds and the parameter search are :mod:`toolkit.selection`'s (``GroupKFold``,
``GridSearchCV``): no split group is ever on both sides of a split, and parameters are chosen
inside the training side of each outer fold, never on its test fold.
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from collections.abc import Mapping, Sequence

from toolkit.context import alone_record
from toolkit.errors import AnnotationError
from toolkit.examples import Examples, Progress
from toolkit.params import DEFAULT_PARAMS
from toolkit.selection import CVResult, cross_validate, learning_curve, weak_rule_baseline
from toolkit.tokenizer import TOKENIZER_BACKENDS

GRIDS: dict[str, list[dict]] = {
    "cnb": [{"classifier": "cnb", "alpha": a} for a in (0.1, 0.3, 1.0)],
    "logreg": [{"classifier": "logreg", "C": c} for c in (10.0, 30.0, 100.0)],
    "svm": [{"classifier": "svm", "C": c} for c in (1.0, 3.0, 10.0)],
}
_ALL_CONTEXT = ["heading", "neighbours", "structure", "cues"]
ABLATIONS: dict[str, dict] = {
    "sentence only": {"context": [], "part_rule": False},
    "+ heading": {"context": ["heading"], "part_rule": False},
    "+ heading + neighbours": {"context": ["heading", "neighbours"], "part_rule": False},
    "+ heading + neighbours + structure (first paragraph, heading, parts)": {"context": ["heading", "neighbours", "structure"],
                                                                           "part_rule": False},
    "+ cue words": {"context": _ALL_CONTEXT, "part_rule": False},
    "+ part rules (opening, problems, plans, closing, charity), hard": {"context": _ALL_CONTEXT, "part_rule": True},
    "+ part rules weighed by learned detector weights, calibrated": {"context": _ALL_CONTEXT, "part_rule": True,
                                                                   "calibrate": True, "sequence": False},
    "+ the report's label sequence (the shipped setting)": {"context": _ALL_CONTEXT, "part_rule": True, "calibrate": True,
                                                            "sequence": True},
    "the same with relative position in place of structure": {"context": ["heading", "neighbours", "position", "cues"],
                                                               "part_rule": True, "calibrate": True, "sequence": True},
}
"""Feature sets of the context ablation, each adding one block to the one before (uncalibrated
unless the row says so, without the text-only model); the last row puts back the relative
position that pages cut mid-report mislead."""
_FAST = {"calibrate": False, "alone": False}


def available_tokenizers() -> list[str]:
    """Tokenizer backends importable here (jieba always)."""
    return [b for b in TOKENIZER_BACKENDS if b == "jieba" or importlib.util.find_spec(b) is not None]


def score_model(model, examples: Examples) -> dict:
    """A trained model's scores on labelled examples it was not trained on (a test set): macro and
    micro F1, accuracy, and per-label precision, recall and F1."""
    if not len(examples):
        raise AnnotationError("the test labels match no sentence of the test corpus")
    predicted, confidence = model.predict(examples.records)
    alone = [alone_record(r["text"], id=r["id"]) for r in examples.records]
    alone_pred, alone_conf = model.predict(alone)
    result = CVResult("test", list(examples.labels), predicted, confidence, [0] * len(examples),
                      flagged=[c < t for c, t in zip(confidence, model.min_confidences(examples.records))],
                      alone_pred=alone_pred, alone_confidence=alone_conf,
                      alone_flagged=[c < t for c, t in zip(alone_conf, model.min_confidences(alone))],
                      corpora=list(examples.corpora))
    alone_result = result.alone()
    return {"sentences": len(examples), "reports": len(set(examples.reports)), **result.scores(),
            "per_label": result.per_label(), "confidence": result.confidence_report(),
            "alone": {**alone_result.scores(), "confidence": alone_result.confidence_report()},
            "confusion": dict(zip(("labels", "matrix"), result.confusion()))}


def confident_errors(result: CVResult, examples: Examples, top: int = 20) -> list[dict]:
    """The ``top`` wrong predictions with the highest confidence, with their context."""
    wrong = [i for i in range(len(result.y_true)) if result.y_true[i] != result.y_pred[i]]
    wrong.sort(key=lambda i: -result.confidence[i])
    return [{"text": examples.records[i]["text"], "heading": examples.records[i]["heading"],
             "prev": examples.records[i]["prev"], "gold": result.y_true[i], "predicted": result.y_pred[i],
             "confidence": round(result.confidence[i], 4), "report": examples.reports[i]} for i in wrong[:top]]


def evaluate(examples: Examples, weak: Mapping[str, str | None], *, folds: int = 5, seed: int = 0,
             models: Sequence[str] = ("cnb", "logreg"), tokenizers: bool = False, quick: bool = False,
             progress: Progress | None = None) -> dict:
    """The whole evaluation: model comparison (nested), context ablation, and for the best model
    per-label scores, confusion matrix, learning curve and confident errors. ``quick``: the
    shipped settings alone (:data:`toolkit.params.DEFAULT_PARAMS`), one grouped cross-validation
    without the comparison, the ablation or the learning curve."""
    say = progress or (lambda message: None)
    if quick:
        say(f"the shipped settings: grouped {folds}-fold cross-validation")
        best = cross_validate(examples, DEFAULT_PARAMS, folds=folds, seed=seed, name=DEFAULT_PARAMS["classifier"])
        return _result(examples, folds, seed, {best.name: best}, best.name, dict(DEFAULT_PARAMS), {}, {}, [])
    comparison: dict[str, CVResult] = {}
    say("baselines: majority class and weak-label rules")
    comparison["majority"] = cross_validate(examples, {"classifier": "majority", "part_rule": False}, folds=folds, seed=seed, name="majority")
    comparison["weak rules"] = weak_rule_baseline(examples, weak, folds=folds)
    unknown = set(models) - set(GRIDS)
    if unknown:
        raise ValueError(f"unknown model(s) {sorted(unknown)}; expected some of {list(GRIDS)}")
    for name in models:
        grid = GRIDS[name]
        say(f"{name}: nested grouped search over {len(grid)} settings x {folds} folds")
        comparison[name] = cross_validate(examples, grid[0], folds=folds, seed=seed, grid=grid, name=name)
    learned = {k: v for k, v in comparison.items() if k in GRIDS}
    best_name = max(learned, key=lambda k: learned[k].scores()["macro_f1"])
    best = learned[best_name]
    best_params = {**DEFAULT_PARAMS, **dict(Counter(tuple(sorted(c.items())) for c in best.chosen).most_common(1)[0][0])}
    ablation = {}
    for label, setting in ABLATIONS.items():
        say(f"context ablation: {label}")
        run = cross_validate(examples, {**best_params, **_FAST, **setting}, folds=folds, seed=seed)
        ablation[label] = {**run.summary(), "seed_accuracy": run.by_corpus().get("seed", {}).get("accuracy")}
    tokenizer_scores = {}
    for backend in available_tokenizers() if tokenizers else ():
        say(f"tokenizer: {backend}")
        tokenizer_scores[backend] = cross_validate(examples, {**best_params, **_FAST, "tokenizer": backend}, folds=folds,
                                             seed=seed).summary()
    say("learning curve")
    curve = learning_curve(examples, {**best_params, **_FAST}, folds=folds, seed=seed)
    return _result(examples, folds, seed, comparison, best_name, best_params, ablation, tokenizer_scores, curve)


def _result(examples: Examples, folds: int, seed: int, comparison: Mapping[str, CVResult], best_name: str,
            best_params: dict, ablation: dict, tokenizer_scores: dict, curve: list) -> dict:
    """The evaluation's result as the report writes it."""
    best = comparison[best_name]
    labels, matrix = best.confusion()
    alone = best.alone()
    return {
        "folds": folds,
        "seed": seed,
        "data": {"sentences": len(examples), "reports": len(set(examples.reports)), "groups": len(set(examples.groups)),
                 "unit_kinds": len({g for g in examples.groups if g.startswith("kind:")}),
                 "corpora": dict(sorted(Counter(c or "unlisted" for c in examples.corpora).items())),
                 "label_counts": dict(sorted(Counter(examples.labels).items()))},
        "comparison": {k: {**v.summary(), "chosen_params_per_fold": v.chosen} for k, v in comparison.items()},
        "best": {"name": best_name, "params": best_params, **best.summary()},
        "per_label": best.per_label(),
        "confusion": {"labels": labels, "matrix": matrix},
        "context_ablation": ablation,
        "tokenizers": tokenizer_scores,
        "by_corpus": best.by_corpus(examples.reports),
        "alone": {**alone.summary(), "per_label": alone.per_label()} if alone else None,
        "calibration": {"in_context": best.confidence_report(),
                        "alone": alone.confidence_report() if alone else None},
        "learning_curve": curve,
        "confident_errors": confident_errors(best, examples),
    }
