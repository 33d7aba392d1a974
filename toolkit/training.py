"""Training: fitting on labelled examples, the parameters a config file may set, and the model card.

The model itself is :class:`toolkit.estimator.SectionClassifier`; :func:`fit` is that estimator on
:class:`~toolkit.examples.Examples` with a parameter dict, and :func:`train_from_store` adds the
grouped cross-validation of :mod:`toolkit.selection` for the card.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

from toolkit import __version__
from toolkit.errors import AnnotationError, ToolkitError
from toolkit.estimator import SectionClassifier
from toolkit.examples import Examples, Progress, labelled_examples, load_examples
from toolkit.model import SectionModel
from toolkit.params import DEFAULT_PARAMS
from toolkit.selection import cross_validate
from toolkit.taxonomy import SLUGS, TAXONOMY_VERSION

__all__ = ["Examples", "labelled_examples", "fit", "load_params", "make_card", "train_from_store", "data_hash"]


def data_hash(labels: Mapping[str, str]) -> str:
    """SHA-256 over the sorted ``id<TAB>label`` lines: changes exactly when the training labels do."""
    digest = hashlib.sha256()
    for sid in sorted(labels):
        digest.update(f"{sid}\t{labels[sid]}\n".encode())
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """Versions of the libraries a model depends on."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version(), "toolkit": __version__}
    for name in ("scikit-learn", "jieba", "joblib", "numpy", "scipy"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "missing"
    return out


def load_params(path: str | os.PathLike | None) -> dict:
    """Training parameters: :data:`DEFAULT_PARAMS` updated from a JSON config file, names and values
    validated (one line naming the file when one is wrong)."""
    if path is None:
        return dict(DEFAULT_PARAMS)
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ToolkitError(f"{path}: config file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ToolkitError(f"{path}: config is not valid JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise ToolkitError(f"{path}: config must be a JSON object")
    try:
        params = _check_params(raw)
        SectionClassifier(**params)._params()  # values too, before any work: "C": -1 fails here, not after a fit
    except (TypeError, ValueError) as exc:
        raise ToolkitError(f"{path}: {exc}") from None
    return params


def _check_params(params: Mapping | None) -> dict:
    unknown = set(params or {}) - set(DEFAULT_PARAMS)
    if unknown:
        raise ValueError(f"unknown parameter(s) {sorted(unknown)}; known: {sorted(DEFAULT_PARAMS)}")
    return {**DEFAULT_PARAMS, **(params or {})}


def fit(examples: Examples, params: Mapping | None = None, *, seed: int = 0) -> SectionModel:
    """Fit :class:`~toolkit.estimator.SectionClassifier` with ``params`` on ``examples`` (their
    groups keep units apart in the calibration folds); the fitted model and its card's parameters.

    Unknown parameters raise ``ValueError`` naming them.
    """
    if len(examples) == 0:
        raise AnnotationError("no labelled sentences to train on")
    if len(set(examples.labels)) < 2:
        raise AnnotationError("training needs at least two different labels")
    estimator = SectionClassifier(**_check_params(params), seed=seed)
    return estimator.fit(examples.records, examples.labels, groups=examples.groups).model_


def make_card(model: SectionModel, examples: Examples, labels: Mapping[str, str], cv: Mapping | None,
              command: str = "") -> dict:
    """The model card: labels, taxonomy, data hash and size, parameters, versions, CV scores, and the
    command that trained it (``command``, "" when a program other than the CLI trains)."""
    digest = data_hash(labels)
    return {
        "model_version": f"{__version__}+{digest[:10]}",
        "labels": [s for s in SLUGS if s in model.classes],
        "taxonomy_version": TAXONOMY_VERSION,
        "training_data": {"sha256": digest, "sentences": len(examples), "distinct_labels": len(labels),
                          "reports": len(set(examples.reports)), "groups": len(set(examples.groups)),
                          "unit_kinds": len({g for g in examples.groups if g.startswith("kind:")}),
                          "sentences_by_corpus": dict(sorted(Counter(c or "unlisted" for c in examples.corpora).items())),
                          "label_counts": dict(sorted(Counter(examples.labels).items()))},
        "params": model.card.get("params", {}),
        "calibration": model.calibration.to_dict() if model.calibration else None,
        "alone_calibration": model.alone_calibration.to_dict() if model.alone_calibration else None,
        "seed": model.card.get("seed", 0),
        "library_versions": library_versions(),
        "cross_validation": dict(cv or {}),
        "trained_with": command,
    }


def train_from_store(
    labels_path: str | os.PathLike,
    corpus_paths: Sequence[str | os.PathLike],
    params: Mapping | None = None,
    *,
    folds: int = 5,
    seed: int = 0,
    progress: Progress | None = None,
    command: str = "",
) -> SectionModel:
    """Load corpus and labels, cross-validate (grouped) for the card, fit on everything; ``command``
    is recorded in the card as what trained it."""
    say = progress or (lambda message: None)
    say("reading corpus and labels")
    _, examples, labels = load_examples(corpus_paths, labels_path)
    params = _check_params(params)
    cv = {}
    if folds > 1:
        say(f"cross-validating over {len(set(examples.groups))} report groups ({folds} folds)")
        cv = cross_validate(examples, params, folds=folds, seed=seed).summary()
    say(f"fitting on {len(examples)} sentences")
    model = fit(examples, params, seed=seed)
    model.card = make_card(model, examples, labels, cv, command)
    return model
