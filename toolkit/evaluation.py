"""Honest evaluation: grouped K-fold by near-duplicate report group, nested parameter search,
baselines, context ablation, learning curve, confusion matrix and the most confident errors.

Splits never put one report group on both sides (asserted), and parameters are chosen inside the
training side of each outer fold, never on its test fold.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from toolkit.errors import AnnotationError
from toolkit.model import DEFAULT_PARAMS
from toolkit.taxonomy import SLUGS
from toolkit.splits import grouped_folds
from toolkit.training import Examples, fit

Progress = Callable[[str], None]

GRIDS: dict[str, list[dict]] = {
    "cnb": [{"classifier": "cnb", "alpha": a} for a in (0.1, 0.3, 1.0)],
    "logreg": [{"classifier": "logreg", "C": c} for c in (10.0, 30.0, 100.0)],
    "svm": [{"classifier": "svm", "C": c} for c in (10.0, 30.0, 100.0)],
}
_ALL_CONTEXT = ["heading", "neighbours", "position", "cues"]
ABLATIONS: dict[str, dict] = {
    "sentence only": {"context": [], "part_rule": False},
    "+ heading": {"context": ["heading"], "part_rule": False},
    "+ heading + neighbours": {"context": ["heading", "neighbours"], "part_rule": False},
    "+ heading + neighbours + position": {"context": ["heading", "neighbours", "position"], "part_rule": False},
    "+ heading + neighbours + position + cue words": {"context": _ALL_CONTEXT, "part_rule": False},
    "+ part rules (opening, problems, plans, closing, charity), hard": {"context": _ALL_CONTEXT, "part_rule": True},
    "+ part rules weighed by learned detector weights, calibrated": {"context": _ALL_CONTEXT, "part_rule": True,
                                                                   "calibrate": True},
}
"""Feature sets of the context ablation, each adding one block to the one before (uncalibrated
unless the row says so, without the text-only model)."""
_FAST = {"calibrate": False, "alone": False}


def available_tokenizers() -> list[str]:
    """Tokenizer backends importable here (jieba always)."""
    import importlib.util

    from toolkit.tokenizer import TOKENIZER_BACKENDS

    return [b for b in TOKENIZER_BACKENDS if b == "jieba" or importlib.util.find_spec(b) is not None]


@dataclass
class CVResult:
    """Out-of-fold predictions of one configuration: in context, and (where the model has a
    text-only part) of each sentence alone; the low-confidence flags; each sentence's corpus."""

    name: str
    y_true: list[str]
    y_pred: list[str]
    confidence: list[float]
    fold: list[int]
    chosen: list[dict] = field(default_factory=list)
    flagged: list[bool] = field(default_factory=list)
    alone_pred: list[str] = field(default_factory=list)
    alone_confidence: list[float] = field(default_factory=list)
    alone_flagged: list[bool] = field(default_factory=list)
    corpora: list[str] = field(default_factory=list)

    def scores(self) -> dict:
        from sklearn.metrics import accuracy_score, f1_score

        labels = sorted(set(self.y_true))
        return {
            "macro_f1": round(float(f1_score(self.y_true, self.y_pred, labels=labels, average="macro", zero_division=0)), 4),
            "micro_f1": round(float(f1_score(self.y_true, self.y_pred, labels=labels, average="micro", zero_division=0)), 4),
            "accuracy": round(float(accuracy_score(self.y_true, self.y_pred)), 4),
            "n": len(self.y_true),
        }

    def per_fold_macro_f1(self) -> list[float]:
        from sklearn.metrics import f1_score

        out = []
        for k in sorted(set(self.fold)):
            idx = [i for i, f in enumerate(self.fold) if f == k]
            t = [self.y_true[i] for i in idx]
            p = [self.y_pred[i] for i in idx]
            out.append(round(float(f1_score(t, p, labels=sorted(set(t)), average="macro", zero_division=0)), 4))
        return out

    def summary(self) -> dict:
        return {**self.scores(), "folds": len(set(self.fold)), "per_fold_macro_f1": self.per_fold_macro_f1()}

    def alone(self) -> "CVResult | None":
        """The same sentences predicted alone (no heading, neighbours or position), if recorded."""
        if not self.alone_pred:
            return None
        return CVResult(f"{self.name} (sentences alone)", self.y_true, self.alone_pred, self.alone_confidence,
                        self.fold, flagged=self.alone_flagged)

    def where(self, keep: Sequence[bool]) -> "CVResult":
        """The predictions of the sentences where ``keep`` holds (e.g. one corpus)."""
        idx = [i for i, k in enumerate(keep) if k]

        def pick(values: list) -> list:
            return [values[i] for i in idx] if values else []

        return CVResult(self.name, pick(self.y_true), pick(self.y_pred), pick(self.confidence), pick(self.fold),
                        self.chosen, pick(self.flagged), pick(self.alone_pred), pick(self.alone_confidence),
                        pick(self.alone_flagged), pick(self.corpora))

    def by_corpus(self) -> dict[str, dict]:
        """Scores of each corpus's sentences (``seed``, ``written``…), in context and alone."""
        out = {}
        for corpus in sorted(set(self.corpora)):
            part = self.where([c == corpus for c in self.corpora])
            alone = part.alone()
            out[corpus or "unlisted"] = {**part.scores(), "alone_accuracy": alone.scores()["accuracy"] if alone else None}
        return out

    def confidence_report(self) -> dict:
        """Precision of confident predictions, errors flagged, sentences flagged; reliability bins."""
        from toolkit.calibration import confidence_report, reliability

        correct = [t == p for t, p in zip(self.y_true, self.y_pred)]
        flagged = self.flagged or [False] * len(correct)
        return {**confidence_report(self.confidence, correct, flagged), "reliability": reliability(self.confidence, correct)}

    def per_label(self) -> dict[str, dict]:
        from sklearn.metrics import precision_recall_fscore_support

        labels = [s for s in SLUGS if s in set(self.y_true) | set(self.y_pred)]
        p, r, f, s = precision_recall_fscore_support(self.y_true, self.y_pred, labels=labels, zero_division=0)
        return {lab: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                      "f1": round(float(f[i]), 4), "support": int(s[i])} for i, lab in enumerate(labels)}

    def confusion(self) -> tuple[list[str], list[list[int]]]:
        from sklearn.metrics import confusion_matrix

        labels = [s for s in SLUGS if s in set(self.y_true) | set(self.y_pred)]
        return labels, confusion_matrix(self.y_true, self.y_pred, labels=labels).tolist()


def _macro_f1(y_true: Sequence[str], y_pred: Sequence[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y_true, y_pred, labels=sorted(set(y_true)), average="macro", zero_division=0))


def select_params(examples: Examples, grid: Sequence[Mapping], base: Mapping, *, inner_folds: int = 3,
                  seed: int = 0) -> dict:
    """Best grid point by grouped inner CV macro-F1 on ``examples`` only (the outer training side)."""
    if len(grid) == 1:
        return {**base, **grid[0]}
    folds = grouped_folds(examples.groups, min(inner_folds, len(set(examples.groups))), seed)
    best, best_score = None, -1.0
    for point in grid:
        params = {**base, **point, "calibrate": False, "alone": False}
        true, pred = [], []
        for train, test in folds:
            model = fit(examples.subset(train), params, seed=seed)
            labels, _ = model.predict([examples.records[i] for i in test])
            true += [examples.labels[i] for i in test]
            pred += labels
        score = _macro_f1(true, pred)
        if score > best_score:
            best, best_score = {**base, **point}, score
    return dict(best)


def cross_validate(examples: Examples, params: Mapping | None = None, *, folds: int = 5, seed: int = 0,
                   grid: Sequence[Mapping] | None = None, name: str = "model") -> CVResult:
    """Grouped K-fold out-of-fold predictions; with ``grid``, parameters are chosen per outer fold
    by :func:`select_params` on its training side (nested CV)."""
    from toolkit.context import alone_record

    base = {**DEFAULT_PARAMS, **(params or {})}
    n = len(examples)
    pred, conf, fold_of, flagged = [""] * n, [0.0] * n, [0] * n, [False] * n
    alone_pred, alone_conf, alone_flagged = [""] * n, [0.0] * n, [False] * n
    with_alone = bool(base.get("alone")) and base.get("classifier") != "majority"
    chosen = []
    for k, (train, test) in enumerate(grouped_folds(examples.groups, folds, seed)):
        train_ex = examples.subset(train)
        fold_params = select_params(train_ex, grid, base, seed=seed) if grid else base
        chosen.append({key: fold_params[key] for key in ("classifier", "C", "alpha") if key in fold_params})
        model = fit(train_ex, fold_params, seed=seed)
        records = [examples.records[i] for i in test]
        labels, confidence = model.predict(records)
        for i, lab, c in zip(test, labels, confidence):
            pred[i], conf[i], fold_of[i], flagged[i] = lab, c, k, c < model.min_confidence
        if with_alone:
            labels, confidence = model.predict([alone_record(r["text"], id=r["id"]) for r in records])
            for i, lab, c in zip(test, labels, confidence):
                alone_pred[i], alone_conf[i], alone_flagged[i] = lab, c, c < model.alone_min_confidence
    if not with_alone:
        alone_pred, alone_conf, alone_flagged = [], [], []
    return CVResult(name, list(examples.labels), pred, conf, fold_of, chosen, flagged, alone_pred, alone_conf,
                    alone_flagged, list(examples.corpora))


def score_model(model, examples: Examples) -> dict:
    """A trained model's scores on labelled examples it was not trained on (a test set): macro and
    micro F1, accuracy, and per-label precision, recall and F1."""
    if not len(examples):
        raise AnnotationError("the test labels match no sentence of the test corpus")
    from toolkit.context import alone_record

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


def weak_rule_baseline(examples: Examples, weak: Mapping[str, str | None], *, folds: int = 5, seed: int = 0) -> CVResult:
    """The weak-label rules as a classifier; where every rule abstains, the training fold's majority."""
    n = len(examples)
    pred, fold_of = [""] * n, [0] * n
    for k, (train, test) in enumerate(grouped_folds(examples.groups, folds, seed)):
        majority = Counter(examples.labels[i] for i in train).most_common(1)[0][0]
        for i in test:
            pred[i] = weak.get(examples.records[i]["id"]) or majority
            fold_of[i] = k
    return CVResult("weak rules", list(examples.labels), pred, [1.0] * n, fold_of)


def learning_curve(examples: Examples, params: Mapping, *, folds: int = 5, seed: int = 0,
                   steps: Sequence[int] | None = None) -> list[dict]:
    """Macro-F1 on each outer test fold against the number of training report groups used."""
    splits = grouped_folds(examples.groups, folds, seed)
    max_groups = min(len(set(examples.groups[i] for i in train)) for train, _ in splits)
    steps = steps or sorted({max(1, round(max_groups * f)) for f in (0.25, 0.5, 0.75, 1.0)})
    rng = random.Random(seed)
    out = []
    for step in steps:
        scores = []
        for train, test in splits:
            names = sorted({examples.groups[i] for i in train})
            rng.shuffle(names)
            keep = set(names[:step])
            idx = [i for i in train if examples.groups[i] in keep]
            sub = examples.subset(idx)
            if len(set(sub.labels)) < 2:
                continue
            model = fit(sub, params, seed=seed)
            labels, _ = model.predict([examples.records[i] for i in test])
            scores.append(_macro_f1([examples.labels[i] for i in test], labels))
        out.append({"groups": step, "sentences_mean": None, "macro_f1": round(float(np.mean(scores)), 4),
                    "macro_f1_std": round(float(np.std(scores)), 4)})
    return out


def confident_errors(result: CVResult, examples: Examples, top: int = 20) -> list[dict]:
    """The ``top`` wrong predictions with the highest confidence, with their context."""
    wrong = [i for i in range(len(result.y_true)) if result.y_true[i] != result.y_pred[i]]
    wrong.sort(key=lambda i: -result.confidence[i])
    return [{"text": examples.records[i]["text"], "heading": examples.records[i]["heading"],
             "prev": examples.records[i]["prev"], "gold": result.y_true[i], "predicted": result.y_pred[i],
             "confidence": round(result.confidence[i], 4), "report": examples.reports[i]} for i in wrong[:top]]


def evaluate(examples: Examples, weak: Mapping[str, str | None], *, folds: int = 5, seed: int = 0,
             models: Sequence[str] = ("cnb", "logreg"), tokenizers: bool = False,
             progress: Progress | None = None) -> dict:
    """The whole evaluation: model comparison (nested), context ablation, and for the best model
    per-label scores, confusion matrix, learning curve and confident errors."""
    say = progress or (lambda message: None)
    comparison: dict[str, CVResult] = {}
    say("baselines: majority class and weak-label rules")
    comparison["majority"] = cross_validate(examples, {"classifier": "majority", "part_rule": False}, folds=folds, seed=seed, name="majority")
    comparison["weak rules"] = weak_rule_baseline(examples, weak, folds=folds, seed=seed)
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
        ablation[label] = cross_validate(examples, {**best_params, **_FAST, **setting}, folds=folds, seed=seed).summary()
    tokenizer_scores = {}
    for backend in available_tokenizers() if tokenizers else ():
        say(f"tokenizer: {backend}")
        tokenizer_scores[backend] = cross_validate(examples, {**best_params, **_FAST, "tokenizer": backend}, folds=folds,
                                             seed=seed).summary()
    say("learning curve")
    curve = learning_curve(examples, {**best_params, **_FAST}, folds=folds, seed=seed)
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
        "by_corpus": best.by_corpus(),
        "alone": {**alone.summary(), "per_label": alone.per_label()} if alone else None,
        "calibration": {"in_context": best.confidence_report(),
                        "alone": alone.confidence_report() if alone else None},
        "learning_curve": curve,
        "confident_errors": confident_errors(best, examples),
    }
