"""Model selection with scikit-learn: grouped cross-validation, the nested parameter search and
the learning curve, all over :class:`toolkit.estimator.SectionClassifier`.

Folds come from ``GroupKFold``, so every sentence of a split group (a kind of unit, or a
near-duplicate report group) is on one side of each split; ``cross_validate`` fits the estimator
per fold, and ``GridSearchCV`` chooses parameters inside each training side (nested CV), never on
its test fold. The out-of-fold predictions, their confidences and flags, and the same sentences
predicted alone are gathered in a :class:`CVResult`.

``cross_val_predict(..., method="predict_proba")`` is not used for the model itself: it encodes
the labels as integers before fitting, and the part rule needs the section slugs.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.metrics import (accuracy_score, confusion_matrix, f1_score, make_scorer,
                             precision_recall_fscore_support)
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.model_selection import cross_validate as sklearn_cross_validate
from sklearn.utils.validation import check_is_fitted

from toolkit.calibration import confidence_report, reliability
from toolkit.context import alone_record
from toolkit.errors import FoldsError
from toolkit.estimator import SectionClassifier
from toolkit.examples import Examples
from toolkit.intervals import figure_intervals
from toolkit.params import DEFAULT_PARAMS
from toolkit.taxonomy import SLUGS

INNER_FOLDS = 3
"""Grouped folds of each outer training side in the nested parameter search."""


def macro_f1(y_true: Sequence[str], y_pred: Sequence[str]) -> float:
    """Macro-F1 over the labels present in ``y_true`` (a label never predicted scores 0).

    >>> round(macro_f1(["a", "a", "b"], ["a", "b", "b"]), 4)
    0.6667
    """
    return float(f1_score(y_true, y_pred, labels=sorted(set(y_true)), average="macro", zero_division=0))


MACRO_F1 = make_scorer(f1_score, average="macro", zero_division=0)
"""The scorer of the parameter search: macro-F1 of each inner test fold."""


def group_folds(groups: Sequence, folds: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``GroupKFold`` train and test indices over ``groups``; a :class:`~toolkit.errors.FoldsError`
    (one line) when there are too few groups."""
    n_groups = len(set(groups))
    if n_groups < folds:
        raise FoldsError(f"{n_groups} report groups cannot make {folds} grouped folds; use {max(n_groups, 2)} folds or fewer")
    return list(GroupKFold(n_splits=folds).split(np.zeros(len(groups)), groups=np.asarray(groups)))


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
        labels = sorted(set(self.y_true))
        return {
            "macro_f1": round(float(f1_score(self.y_true, self.y_pred, labels=labels, average="macro", zero_division=0)), 4),
            "micro_f1": round(float(f1_score(self.y_true, self.y_pred, labels=labels, average="micro", zero_division=0)), 4),
            "accuracy": round(float(accuracy_score(self.y_true, self.y_pred)), 4),
            "n": len(self.y_true),
        }

    def per_fold_macro_f1(self) -> list[float]:
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

    def by_corpus(self, groups: Sequence[str] | None = None) -> dict[str, dict]:
        """Scores of each corpus's sentences (``seed``, ``written``…), in context and alone; with
        ``groups`` (each sentence's report), the 95 % intervals of accuracy and of precision at
        confidence >= 0.9 when whole reports are resampled (:func:`toolkit.intervals.group_interval`)."""
        out = {}
        for corpus in sorted(set(self.corpora)):
            keep = [c == corpus for c in self.corpora]
            part = self.where(keep)
            alone = part.alone()
            confident = part.confidence_report()
            out[corpus or "unlisted"] = {**part.scores(), "alone_accuracy": alone.scores()["accuracy"] if alone else None,
                                         "precision_at_0.9": confident["high_confidence_precision"]}
            if groups is not None:
                ok = [t == p for t, p in zip(part.y_true, part.y_pred)]
                out[corpus or "unlisted"].update(figure_intervals(ok, part.confidence, [g for g, k in zip(groups, keep) if k]))
        return out

    def confidence_report(self) -> dict:
        """Precision of confident predictions, errors flagged, sentences flagged; reliability bins."""
        correct = [t == p for t, p in zip(self.y_true, self.y_pred)]
        flagged = self.flagged or [False] * len(correct)
        return {**confidence_report(self.confidence, correct, flagged), "reliability": reliability(self.confidence, correct)}

    def per_label(self) -> dict[str, dict]:
        labels = [s for s in SLUGS if s in set(self.y_true) | set(self.y_pred)]
        p, r, f, s = precision_recall_fscore_support(self.y_true, self.y_pred, labels=labels, zero_division=0)
        return {lab: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                      "f1": round(float(f[i]), 4), "support": int(s[i])} for i, lab in enumerate(labels)}

    def confusion(self) -> tuple[list[str], list[list[int]]]:
        labels = [s for s in SLUGS if s in set(self.y_true) | set(self.y_pred)]
        return labels, confusion_matrix(self.y_true, self.y_pred, labels=labels).tolist()


def search_params(estimator: SectionClassifier, grid: Sequence[Mapping], X: Sequence[dict], y: Sequence[str],
                  groups: Sequence, *, inner_folds: int = INNER_FOLDS) -> dict:
    """The point of ``grid`` (a list of parameter dicts) with the best mean macro-F1 over
    ``inner_folds`` grouped folds (``GridSearchCV``; ties: the earlier point), fitting ``estimator``
    uncalibrated and without the text-only model."""
    if len(grid) == 1:
        return dict(grid[0])
    search = GridSearchCV(clone(estimator).set_params(calibrate=False, alone=False),
                          [{key: [value] for key, value in point.items()} for point in grid], scoring=MACRO_F1,
                          cv=GroupKFold(n_splits=min(inner_folds, len(set(np.asarray(groups).tolist())))),
                          refit=False, error_score="raise")
    search.fit(list(X), list(y), groups=np.asarray(groups))
    return dict(search.best_params_)


class TunedSectionClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """``estimator`` with the point of ``param_grid`` (a list of parameter dicts) that
    ``GridSearchCV`` finds best by macro-F1 over ``inner_folds`` grouped folds of the training data,
    then refitted on all of it.

    The search fits the estimator without calibration and without the text-only model: both are
    fitted after the classifier and take no part in choosing it, and they would make every fit of
    the search about five times slower. After ``fit``: ``best_params_``, ``best_estimator_``,
    ``classes_``.
    """

    def __init__(self, estimator: SectionClassifier, param_grid: Sequence[Mapping], *, inner_folds: int = INNER_FOLDS):
        self.estimator = estimator
        self.param_grid = param_grid
        self.inner_folds = inner_folds

    def fit(self, X: Sequence[dict], y: Sequence[str], groups: Sequence | None = None) -> "TunedSectionClassifier":
        groups = np.arange(len(y)) if groups is None else np.asarray(groups)
        self.best_params_ = search_params(self.estimator, self.param_grid, X, y, groups, inner_folds=self.inner_folds)
        self.best_estimator_ = clone(self.estimator).set_params(**self.best_params_).fit(X, y, groups=groups)
        self.classes_ = self.best_estimator_.classes_
        return self

    def predict_proba(self, X: Sequence[dict]) -> np.ndarray:
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict_proba(X)

    def predict(self, X: Sequence[dict]) -> np.ndarray:
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.dict = True
        return tags


def cross_validate(examples: Examples, params: Mapping | None = None, *, folds: int = 5, seed: int = 0,
                   grid: Sequence[Mapping] | None = None, name: str = "model") -> CVResult:
    """Grouped K-fold out-of-fold predictions (``GroupKFold`` and scikit-learn's
    ``cross_validate``); with ``grid``, parameters are chosen per outer fold on its training side
    by :class:`TunedSectionClassifier` (nested CV)."""
    base = {**DEFAULT_PARAMS, **(params or {})}
    estimator = SectionClassifier(**base, seed=seed)
    if grid:
        estimator = TunedSectionClassifier(estimator, grid)
    n = len(examples)
    splits = group_folds(examples.groups, folds)
    out = sklearn_cross_validate(estimator, examples.records, examples.labels, groups=np.asarray(examples.groups),
                                 cv=splits, params={"groups": np.asarray(examples.groups)}, scoring=MACRO_F1,
                                 return_estimator=True, return_indices=True, error_score="raise")
    pred, conf, fold_of, flagged = [""] * n, [0.0] * n, [0] * n, [False] * n
    alone_pred, alone_conf, alone_flagged = [""] * n, [0.0] * n, [False] * n
    with_alone = bool(base.get("alone")) and base.get("classifier") != "majority"
    chosen = []
    for k, (fitted, test) in enumerate(zip(out["estimator"], out["indices"]["test"])):
        fitted = fitted.best_estimator_ if grid else fitted
        fold_params = fitted.get_params()
        chosen.append({key: fold_params[key] for key in ("classifier", "C", "alpha")})
        model = fitted.model_
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


def weak_rule_baseline(examples: Examples, weak: Mapping[str, str | None], *, folds: int = 5) -> CVResult:
    """The weak-label rules as a classifier; where every rule abstains, the training fold's majority."""
    n = len(examples)
    pred, fold_of = [""] * n, [0] * n
    for k, (train, test) in enumerate(group_folds(examples.groups, folds)):
        majority = Counter(examples.labels[i] for i in train).most_common(1)[0][0]
        for i in test:
            pred[i] = weak.get(examples.records[i]["id"]) or majority
            fold_of[i] = k
    return CVResult("weak rules", list(examples.labels), pred, [1.0] * n, fold_of)


def learning_curve(examples: Examples, params: Mapping, *, folds: int = 5, seed: int = 0,
                   steps: Sequence[int] | None = None) -> list[dict]:
    """Macro-F1 on each outer test fold against the number of training report groups used (the
    groups kept are drawn by ``seed``)."""
    splits = group_folds(examples.groups, folds)
    max_groups = min(len(set(examples.groups[i] for i in train)) for train, _ in splits)
    steps = steps or sorted({max(1, round(max_groups * f)) for f in (0.25, 0.5, 0.75, 1.0)})
    rng = random.Random(seed)
    estimator = SectionClassifier(**{**DEFAULT_PARAMS, **params}, seed=seed)
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
            fitted = clone(estimator).fit(sub.records, sub.labels, groups=sub.groups)
            scores.append(macro_f1([examples.labels[i] for i in test], fitted.predict([examples.records[i] for i in test])))
        out.append({"groups": step, "sentences_mean": None, "macro_f1": round(float(np.mean(scores)), 4),
                    "macro_f1_std": round(float(np.std(scores)), 4)})
    return out
