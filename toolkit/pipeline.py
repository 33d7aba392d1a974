"""The classifiers compared in the evaluation and the pipeline that joins one to the features.

Every classifier offers ``predict_proba`` (the confidence). Fitted pipelines of linear classifiers
are compiled for tagging by :mod:`toolkit.compiled`.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from toolkit.features import build_features
from toolkit.params import DEFAULT_PARAMS

CLASSIFIERS = ("logreg", "svm", "cnb", "majority")


class CalibratedSVC(ClassifierMixin, BaseEstimator):
    """LinearSVC with probabilities from :class:`~sklearn.calibration.CalibratedClassifierCV`
    (sigmoid, up to 3 folds); the folds shrink to what the rarest class allows.

    ``C`` is LinearSVC's own. The hinge loss wants about a tenth of the logistic regression's C on
    these features, so the evaluation's grid for it is 1, 3, 10 where the logistic regression's is
    10, 30, 100.
    """

    def __init__(self, C: float = 1.0, seed: int = 0):
        self.C = C
        self.seed = seed

    def fit(self, X, y, sample_weight=None):
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.svm import LinearSVC

        svc = LinearSVC(C=self.C, class_weight="balanced", max_iter=10000, random_state=self.seed)
        rarest = min(Counter(y).values())
        if rarest >= 2:
            self.model_ = CalibratedClassifierCV(svc, cv=min(3, rarest)).fit(X, y, sample_weight=sample_weight)
        else:
            X, y, sample_weight = _oversample_singletons(X, y, sample_weight)
            self.model_ = CalibratedClassifierCV(svc, cv=2).fit(X, y, sample_weight=sample_weight)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)

    def predict(self, X):
        return self.model_.predict(X)


def _oversample_singletons(X, y, sample_weight=None):
    """Repeat the examples of classes seen once (and their weights) so 2-fold calibration can run."""
    from scipy import sparse

    y = np.asarray(y)
    counts = Counter(y)
    extra = [i for i, label in enumerate(y) if counts[label] == 1]
    rows = list(range(len(y))) + extra
    X2 = X[rows] if sparse.issparse(X) else np.asarray(X)[rows]
    return X2, y[rows], None if sample_weight is None else np.asarray(sample_weight)[rows]


def make_classifier(name: str, *, C: float = DEFAULT_PARAMS["C"], alpha: float = DEFAULT_PARAMS["alpha"], seed: int = 0):
    """A fresh classifier by name; every one offers ``predict_proba`` (the confidence). ``C`` is the
    inverse regularisation of the logistic regression and the linear SVM, ``alpha`` ComplementNB's
    smoothing."""
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import ComplementNB

    if name == "logreg":
        return LogisticRegression(C=C, max_iter=3000, class_weight="balanced", random_state=seed)
    if name == "svm":
        return CalibratedSVC(C=C, seed=seed)
    if name == "cnb":
        return ComplementNB(alpha=alpha)
    if name == "majority":
        return DummyClassifier(strategy="prior")
    raise ValueError(f"unknown classifier {name!r}; expected one of {CLASSIFIERS}")


def build_pipeline(params: dict | None = None, *, tokenizer=None, seed: int = 0):
    """Features + classifier as one pipeline, from a params dict like :data:`DEFAULT_PARAMS`."""
    from sklearn.pipeline import Pipeline

    p = {**DEFAULT_PARAMS, **(params or {})}
    features = build_features(context=p["context"], tokenizer=tokenizer, char_ngrams=tuple(p["char_ngrams"]),
                              word_ngrams=tuple(p["word_ngrams"]), context_weight=p["context_weight"],
                              cue_weight=p["cue_weight"], tokenizer_backend=p["tokenizer"])
    classifier = make_classifier(p["classifier"], C=p["C"], alpha=p["alpha"], seed=seed)
    return Pipeline([("features", features), ("classifier", classifier)])
