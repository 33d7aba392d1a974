"""The section classifier as a scikit-learn estimator over sentence records.

:class:`SectionClassifier` takes the records of :func:`toolkit.context.sentence_records` and
their section slugs, and holds everything a trained model is: the feature pipeline and classifier
(:mod:`toolkit.pipeline`), the report parts weighed in (:mod:`toolkit.calibration`), and the
text-only model for sentences alone. Because the part rule and the calibration live inside
``fit``, scikit-learn's model selection (``GroupKFold``, ``cross_val_predict``, ``GridSearchCV``)
sees the whole model; :mod:`toolkit.selection` builds the evaluation on it.

>>> from sklearn.base import clone
>>> clf = SectionClassifier(classifier="cnb", alpha=0.1)
>>> clone(clf).get_params()["alpha"]
0.1
>>> SectionClassifier(classifer="cnb")
Traceback (most recent call last):
TypeError: SectionClassifier.__init__() got an unexpected keyword argument 'classifer'
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import GroupKFold
from sklearn.utils.validation import check_is_fitted

from toolkit.calibration import fit_calibration, label_transitions
from toolkit.compiled import compile_pipeline
from toolkit.context import alone_record
from toolkit.features import CONTEXT_BLOCKS
from toolkit.model import SectionModel
from toolkit.params import DEFAULT_PARAMS
from toolkit.pipeline import CLASSIFIERS, build_pipeline
from toolkit.taxonomy import SLUGS
from toolkit.tokenizer import TOKENIZER_BACKENDS

_D = DEFAULT_PARAMS
MIN_REAL_ROWS = 200
"""Fewer out-of-fold rows of the ``calibrate_on`` corpora than this, and the temperature and the
low-confidence threshold are fitted on all rows."""


class SectionClassifier(ClassifierMixin, BaseEstimator):
    """Labels sentence records with one of the taxonomy's sections.

    The parameters are those of :data:`toolkit.params.DEFAULT_PARAMS` (and their defaults), plus
    ``seed``. ``fit(X, y, groups=None)`` learns from records ``X`` and slugs ``y``; with
    ``calibrate`` it first fits the same model, uncalibrated, on ``inner_folds`` folds of
    ``groups`` (``GroupKFold``: a group, e.g. a kind of unit, is never on both sides; without
    ``groups`` every sentence is its own group) and learns part weights, temperature and the
    low-confidence threshold from their out-of-fold probabilities. After ``fit``: ``classes_``,
    ``model_`` (the :class:`~toolkit.model.SectionModel`, which :func:`toolkit.model.save_model`
    writes) and ``n_groups_``.
    """

    def __init__(self, *, classifier: str = _D["classifier"], C: float = _D["C"], alpha: float = _D["alpha"],
                 context: Sequence[str] = tuple(_D["context"]), context_weight: float = _D["context_weight"],
                 cue_weight: float = _D["cue_weight"], char_ngrams: Sequence[int] = tuple(_D["char_ngrams"]),
                 word_ngrams: Sequence[int] = tuple(_D["word_ngrams"]), tokenizer: str = _D["tokenizer"],
                 part_rule: bool = _D["part_rule"], calibrate: bool = _D["calibrate"], alone: bool = _D["alone"],
                 inner_folds: int = _D["inner_folds"], flag_share: float = _D["flag_share"],
                 sequence: bool = _D["sequence"], calibrate_on: Sequence[str] = tuple(_D["calibrate_on"]),
                 real_weight: float = _D["real_weight"], confidence_map: bool = _D["confidence_map"], seed: int = 0):
        self.classifier = classifier
        self.C = C
        self.alpha = alpha
        self.context = context
        self.context_weight = context_weight
        self.cue_weight = cue_weight
        self.char_ngrams = char_ngrams
        self.word_ngrams = word_ngrams
        self.tokenizer = tokenizer
        self.part_rule = part_rule
        self.calibrate = calibrate
        self.alone = alone
        self.inner_folds = inner_folds
        self.flag_share = flag_share
        self.sequence = sequence
        self.calibrate_on = calibrate_on
        self.real_weight = real_weight
        self.confidence_map = confidence_map
        self.seed = seed

    def _params(self) -> dict:
        """The parameters as the model card records them (:data:`DEFAULT_PARAMS`'s form), validated."""
        p = {key: getattr(self, key) for key in DEFAULT_PARAMS}
        if p["classifier"] not in CLASSIFIERS:
            raise ValueError(f"classifier={p['classifier']!r}: expected one of {CLASSIFIERS}")
        for key in ("C", "alpha", "context_weight", "cue_weight", "real_weight"):
            if isinstance(p[key], bool) or not isinstance(p[key], (int, float)) or not p[key] > 0:
                raise ValueError(f"{key}={p[key]!r}: expected a positive number")
        if not isinstance(p["context"], (list, tuple, set, frozenset)) or not set(p["context"]) <= set(CONTEXT_BLOCKS):
            raise ValueError(f"context={p['context']!r}: expected a subset of {CONTEXT_BLOCKS}")
        for key in ("char_ngrams", "word_ngrams"):
            pair = p[key]
            if (not isinstance(pair, (list, tuple)) or len(pair) != 2 or not all(isinstance(n, int) for n in pair)
                    or not 1 <= pair[0] <= pair[1]):
                raise ValueError(f"{key}={pair!r}: expected (min_n, max_n) with 1 <= min_n <= max_n")
        if p["tokenizer"] not in TOKENIZER_BACKENDS:
            raise ValueError(f"tokenizer={p['tokenizer']!r}: expected one of {TOKENIZER_BACKENDS}")
        if isinstance(p["inner_folds"], bool) or not isinstance(p["inner_folds"], int) or p["inner_folds"] < 2:
            raise ValueError(f"inner_folds={p['inner_folds']!r}: expected an integer >= 2")
        if not isinstance(p["flag_share"], (int, float)) or not 0.0 <= p["flag_share"] < 1.0:
            raise ValueError(f"flag_share={p['flag_share']!r}: expected a number in [0, 1)")
        if not isinstance(p["calibrate_on"], (list, tuple, set, frozenset)) or not all(isinstance(c, str) for c in p["calibrate_on"]):
            raise ValueError(f"calibrate_on={p['calibrate_on']!r}: expected a list of corpus names")
        for key in ("part_rule", "calibrate", "alone", "sequence", "confidence_map"):
            if not isinstance(p[key], (bool, np.bool_)):
                raise ValueError(f"{key}={p[key]!r}: expected True or False")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or not 0 <= self.seed < 2**32:
            raise ValueError(f"seed={self.seed!r}: expected an integer from 0 to 2**32 - 1")
        for key in ("context", "char_ngrams", "word_ngrams", "calibrate_on"):
            p[key] = list(p[key])
        return p

    def fit(self, X: Sequence[dict], y: Sequence[str], groups: Sequence | None = None) -> "SectionClassifier":
        """Fit on records ``X`` and section slugs ``y``; ``groups`` keep units apart in the
        calibration folds."""
        params = self._params()
        records, labels = _records(X), list(y)
        if len(records) != len(labels):
            raise ValueError(f"X has {len(records)} records but y has {len(labels)} labels")
        unknown = sorted({repr(label) for label in labels if not isinstance(label, str) or label not in SLUGS})
        if unknown:
            raise ValueError(f"y holds labels that are not section slugs: {', '.join(unknown[:5])}; "
                             f"expected among {', '.join(SLUGS)}")
        if len(set(labels)) < 2:
            raise ValueError(f"fitting needs at least two different labels, got {sorted(set(labels))}")
        groups = np.arange(len(labels)) if groups is None else np.asarray(groups)
        if len(groups) != len(labels):
            raise ValueError(f"groups has {len(groups)} entries but y has {len(labels)} labels")
        seed = self.seed
        alone_params = {**params, "context": ["cues"], "part_rule": False}
        alone_records = [alone_record(r["text"], id=r["id"]) for r in records]
        real = np.array([r.get("corpus") in params["calibrate_on"] for r in records], dtype=bool)
        weight = None if params["real_weight"] == 1 else np.where(real, float(params["real_weight"]), 1.0)
        pipeline, compiled = _fit_one(records, labels, params, seed, weight)
        model = SectionModel(pipeline, {"params": params, "seed": seed}, compiled=compiled)
        if params["alone"]:
            alone_pipeline, alone_compiled = _fit_one(alone_records, labels, alone_params, seed, weight)
            model.alone = alone_compiled or alone_pipeline
        n_groups = len(set(groups.tolist()))
        if params["calibrate"] and n_groups >= 2:
            classes = model.classes
            oof = np.zeros((len(labels), len(classes)))
            oof_alone = np.zeros((len(labels), len(classes)))
            inner = {**params, "calibrate": False, "alone": False}
            for train, test in GroupKFold(n_splits=min(params["inner_folds"], n_groups)).split(records, labels, groups):
                sub = [labels[i] for i in train]
                if len(set(sub)) < 2:
                    continue
                fold_weight = None if weight is None else weight[train]
                fold_pipeline, fold_compiled = _fit_one([records[i] for i in train], sub, inner, seed, fold_weight)
                fold = SectionModel(fold_pipeline, {"params": inner}, compiled=fold_compiled)
                oof[test] = _columns(fold.raw_proba([records[i] for i in test]), fold.classes, classes)
                if params["alone"]:
                    p, c = _fit_one([alone_records[i] for i in train], sub, alone_params, seed, fold_weight)
                    have = list(c.classes) if c is not None else [str(x) for x in p.classes_]
                    oof_alone[test] = _columns((c or p).predict_proba([alone_records[i] for i in test]), have, classes)
            transitions = label_transitions(records, labels, classes) if params["sequence"] else None
            enough_real = real.sum() >= MIN_REAL_ROWS
            model.calibration = fit_calibration(records, oof, labels, classes, part_rule=params["part_rule"],
                                                flag_share=params["flag_share"], transitions=transitions,
                                                temper_on=real if enough_real else None,
                                                map_confidence_on=params["confidence_map"] and enough_real)
            if params["alone"]:
                model.alone_calibration = fit_calibration(alone_records, oof_alone, labels, classes, part_rule=False,
                                                          flag_share=params["flag_share"])
        self.model_ = model
        self.classes_ = np.array(model.classes)
        self.n_groups_ = n_groups
        return self

    def predict_proba(self, X: Sequence[dict]) -> np.ndarray:
        """Calibrated probabilities with the report's parts weighed in; columns in ``classes_`` order.
        Records made by :func:`toolkit.context.alone_record` go to the text-only model."""
        check_is_fitted(self, "model_")
        return self.model_.predict_proba(_records(X))

    def predict(self, X: Sequence[dict]) -> np.ndarray:
        """The most probable section of each record."""
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.dict = True
        tags.target_tags.required = True
        return tags


def _fit_one(records: Sequence[dict], labels: Sequence[str], params: dict, seed: int, weight: np.ndarray | None = None):
    """A fitted pipeline and its compiled form (``None`` if it cannot be compiled)."""
    pipeline = build_pipeline(dict(params), seed=seed)
    if weight is None:
        pipeline.fit(list(records), list(labels))
    else:
        pipeline.fit(list(records), list(labels), classifier__sample_weight=weight)
    return pipeline, compile_pipeline(pipeline)


def _columns(proba: np.ndarray, have: Sequence[str], want: Sequence[str]) -> np.ndarray:
    """``proba`` with columns for ``have`` re-laid for ``want`` (zeros for classes a fold lacked)."""
    out = np.zeros((len(proba), len(want)))
    for j, c in enumerate(have):
        out[:, list(want).index(c)] = proba[:, j]
    return out


_RECORD_KEYS = frozenset(alone_record("").keys()) - {"alone"}
"""The fields every sentence record has (an alone record has these and its ``alone`` flag)."""


def _records(X: Sequence[dict]) -> list[dict]:
    """``X`` as a list, each item checked to be a sentence record: a plain string or a dict without
    a record's fields gets a ``TypeError`` saying what ``X`` must be, not a ``KeyError`` from inside
    the features."""
    records = list(X)
    for i, record in enumerate(records):
        if not isinstance(record, dict) or not _RECORD_KEYS <= record.keys():
            what = f"a dict without {sorted(_RECORD_KEYS - record.keys())}" if isinstance(record, dict) else type(record).__name__
            raise TypeError(f"X[{i}] is {what}: X must be sentence records (toolkit.context.sentence_records "
                            "for a report's sentences, toolkit.context.alone_record for a sentence alone)")
    return records
