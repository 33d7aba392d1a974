"""The section classifier: pipeline construction, prediction with confidence, and persistence.

A model is a scikit-learn :class:`~sklearn.pipeline.Pipeline` over sentence records (see
:mod:`toolkit.features`) saved with joblib, plus a JSON model card beside it. Loading checks the
card's SHA-256 of the model file and its taxonomy version before unpickling, because a joblib
file runs code when loaded.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from toolkit.errors import ModelError
from toolkit.store import atomic_write_bytes, atomic_write_text
from toolkit.taxonomy import BY_SLUG, PARTS, TAXONOMY_VERSION, TOPICS

FORMAT = "toolkit-section-model/1"
CLASSIFIERS = ("logreg", "svm", "cnb", "majority")
DEFAULT_PARAMS = {"classifier": "logreg", "C": 30.0, "alpha": 0.3, "context": ["heading", "neighbours", "position", "cues"],
                  "context_weight": 0.5, "cue_weight": 1.0, "char_ngrams": [1, 2], "word_ngrams": [1, 1],
                  "tokenizer": "jieba", "part_rule": True}


class CalibratedSVC(ClassifierMixin, BaseEstimator):
    """LinearSVC with probabilities from :class:`~sklearn.calibration.CalibratedClassifierCV`
    (sigmoid, up to 3 folds); the folds shrink to what the rarest class allows."""

    def __init__(self, C: float = 1.0, seed: int = 0):
        self.C = C
        self.seed = seed

    def fit(self, X, y):
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.svm import LinearSVC

        svc = LinearSVC(C=self.C, class_weight="balanced", max_iter=10000, random_state=self.seed)
        rarest = min(Counter(y).values())
        if rarest >= 2:
            self.model_ = CalibratedClassifierCV(svc, cv=min(3, rarest)).fit(X, y)
        else:
            self.model_ = CalibratedClassifierCV(svc, cv=2).fit(*_oversample_singletons(X, y))
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)

    def predict(self, X):
        return self.model_.predict(X)


def _oversample_singletons(X, y):
    """Repeat the examples of classes seen once so 2-fold calibration can run."""
    from scipy import sparse

    y = np.asarray(y)
    counts = Counter(y)
    extra = [i for i, label in enumerate(y) if counts[label] == 1]
    rows = list(range(len(y))) + extra
    X2 = X[rows] if sparse.issparse(X) else np.asarray(X)[rows]
    return X2, y[rows]


def make_classifier(name: str, *, C: float = 10.0, alpha: float = 0.3, seed: int = 0):
    """A fresh classifier by name; every one offers ``predict_proba`` (the confidence)."""
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import ComplementNB

    if name == "logreg":
        return LogisticRegression(C=C, max_iter=3000, class_weight="balanced", random_state=seed)
    if name == "svm":
        return CalibratedSVC(C=C / 10, seed=seed)
    if name == "cnb":
        return ComplementNB(alpha=alpha)
    if name == "majority":
        return DummyClassifier(strategy="prior")
    raise ValueError(f"unknown classifier {name!r}; expected one of {CLASSIFIERS}")


def build_pipeline(params: dict | None = None, *, tokenizer=None, seed: int = 0):
    """Features + classifier as one pipeline, from a params dict like :data:`DEFAULT_PARAMS`."""
    from sklearn.pipeline import Pipeline

    from toolkit.features import build_features

    p = {**DEFAULT_PARAMS, **(params or {})}
    features = build_features(context=p["context"], tokenizer=tokenizer, char_ngrams=tuple(p["char_ngrams"]),
                              word_ngrams=tuple(p["word_ngrams"]), context_weight=p["context_weight"],
                              cue_weight=p["cue_weight"], tokenizer_backend=p["tokenizer"])
    classifier = make_classifier(p["classifier"], C=p["C"], alpha=p["alpha"], seed=seed)
    return Pipeline([("features", features), ("classifier", classifier)])


@dataclass
class SectionModel:
    """A fitted pipeline and its card. ``predict`` gives labels and confidences."""

    pipeline: object
    card: dict = field(default_factory=dict)

    @property
    def classes(self) -> list[str]:
        return [str(c) for c in self.pipeline.classes_]

    @property
    def version(self) -> str:
        return str(self.card.get("model_version", "unversioned"))

    def predict_proba(self, records: Sequence[dict]) -> np.ndarray:
        """Class probabilities, columns in :attr:`classes` order (after the part rule, if on)."""
        if not records:
            return np.zeros((0, len(self.classes)))
        proba = self.pipeline.predict_proba(records)
        if self.card.get("params", {}).get("part_rule", False):
            proba = apply_part_rule(records, proba, self.classes)
        return proba

    def predict(self, records: Sequence[dict]) -> tuple[list[str], list[float]]:
        """Most probable label and its probability for each record."""
        proba = self.predict_proba(records)
        if not len(proba):
            return [], []
        best = proba.argmax(axis=1)
        classes = self.classes
        return [classes[i] for i in best], [float(p) for p in proba[np.arange(len(best)), best]]


def apply_part_rule(records: Sequence[dict], proba: np.ndarray, classes: Sequence[str]) -> np.ndarray:
    """Taxonomy rules: inside a plans part, items are ``plans`` whatever their topic; inside a
    section about charity or disaster relief, they are ``other``.

    For a record whose ``part`` names such a label, the probability of every topic section moves to
    that label, so the confidence stays a probability.
    """
    classes = list(classes)
    topics = [i for i, c in enumerate(classes) if c in TOPICS]
    out = proba
    for label in PARTS:
        rows = np.fromiter((r.get("part") == label for r in records), bool, len(records))
        if label not in classes or not rows.any():
            continue
        out = out.copy() if out is proba else out
        target = classes.index(label)
        out[rows, target] += out[np.ix_(rows, topics)].sum(axis=1)
        out[np.ix_(rows, topics)] = 0.0
    return out


def card_path(model_path: str | os.PathLike) -> Path:
    """``models/default.joblib`` → ``models/default.json``."""
    return Path(model_path).with_suffix(".json")


def save_model(model: SectionModel, path: str | os.PathLike) -> dict:
    """Write the model (joblib, compress=3) and its card atomically; return the card."""
    import joblib

    path = Path(path)
    buffer = io.BytesIO()
    joblib.dump({"format": FORMAT, "taxonomy_version": TAXONOMY_VERSION, "pipeline": model.pipeline}, buffer, compress=3)
    data = buffer.getvalue()
    card = {**model.card, "format": FORMAT, "taxonomy_version": TAXONOMY_VERSION,
            "model_file": path.name, "model_sha256": hashlib.sha256(data).hexdigest(), "model_bytes": len(data)}
    atomic_write_bytes(path, data)
    atomic_write_text(card_path(path), json.dumps(card, ensure_ascii=False, indent=2) + "\n")
    model.card = card
    return card


def read_card(path: str | os.PathLike) -> dict:
    """The model card beside ``path``, validated; :class:`ModelError` if missing or malformed."""
    card_file = card_path(path)
    if not card_file.exists():
        raise ModelError(f"{path}: no model card {card_file.name} beside it; retrain with 'toolkit train'")
    try:
        card = json.loads(card_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ModelError(f"{card_file}: model card is not valid JSON") from None
    if not isinstance(card, dict) or card.get("format") != FORMAT:
        raise ModelError(f"{card_file}: not a toolkit model card (format {card.get('format') if isinstance(card, dict) else None!r})")
    if card.get("taxonomy_version") != TAXONOMY_VERSION:
        raise ModelError(f"{path}: made for taxonomy {card.get('taxonomy_version')!r}, this toolkit uses {TAXONOMY_VERSION!r}; retrain")
    return card


def read_model_bytes(path: str | os.PathLike) -> tuple[bytes, dict]:
    """The model file's bytes and its card, after checking that the SHA-256 matches."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: model file not found")
    card = read_card(path)
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != card.get("model_sha256"):
        raise ModelError(f"{path}: SHA-256 does not match its model card: the file is corrupt, truncated or replaced")
    return data, card


def model_from_bytes(data: bytes, card: dict, name: str = "model") -> SectionModel:
    """Unpickle verified model bytes (see :func:`read_model_bytes`) and check what they hold."""
    import joblib

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            payload = joblib.load(io.BytesIO(data))
    except Exception as exc:  # joblib raises many kinds on a damaged file
        raise ModelError(f"{name}: cannot be loaded ({type(exc).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelError(f"{name}: not a toolkit section model")
    if payload.get("taxonomy_version") != TAXONOMY_VERSION:
        raise ModelError(f"{name}: made for taxonomy {payload.get('taxonomy_version')!r}, expected {TAXONOMY_VERSION!r}")
    model = SectionModel(payload["pipeline"], card)
    unknown = [c for c in model.classes if c not in BY_SLUG]
    if unknown:
        raise ModelError(f"{name}: predicts labels outside the taxonomy: {unknown}")
    return model


def load_model(path: str | os.PathLike) -> SectionModel:
    """Load a model after checking its card, SHA-256 and taxonomy; one-line :class:`ModelError` otherwise."""
    data, card = read_model_bytes(path)
    return model_from_bytes(data, card, str(path))
