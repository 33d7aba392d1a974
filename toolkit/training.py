"""Training: labelled examples from the corpus and the store, fitting, and the model card."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from toolkit import __version__
from toolkit.errors import AnnotationError, ToolkitError
from toolkit.context import sentence_records
from toolkit.model import DEFAULT_PARAMS, SectionModel
from toolkit.segment import Report
from toolkit.splits import grouped_folds
from toolkit.taxonomy import SLUGS, TAXONOMY_VERSION

Progress = Callable[[str], None]


@dataclass
class Examples:
    """Labelled sentence records with their split group, report, and the corpus they come from.

    ``groups`` keep a kind of unit (or a near-duplicate report group, for reports of no declared
    kind) on one side of every split; ``corpora`` name the corpus file set a sentence comes from
    (``seed``, ``written``… from the manifests, see :func:`toolkit.corpus.load_manifests`).
    """

    records: list[dict]
    labels: list[str]
    groups: list[str]
    reports: list[str]
    corpora: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.corpora:
            self.corpora = [""] * len(self.labels)

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: Sequence[int]) -> "Examples":
        return Examples([self.records[i] for i in index], [self.labels[i] for i in index],
                        [self.groups[i] for i in index], [self.reports[i] for i in index],
                        [self.corpora[i] for i in index])


def labelled_examples(reports: Iterable[Report], labels: Mapping[str, str],
                      meta: Mapping[str, Mapping] | None = None) -> Examples:
    """Every labelled sentence in its context, once per near-duplicate group.

    A sentence repeated inside one group (a duplicated report) counts once, so copies cannot
    inflate the training set or sit on both sides of a split. With ``meta`` (a report source's
    manifest entry, :func:`toolkit.corpus.load_manifests`), reports of one declared unit kind
    share a split group, so no kind of unit is on both sides of a split.
    """
    from toolkit.corpus import source_key

    reports = list(reports)
    meta = meta or {}
    info = [meta.get(source_key(r.source), {}) for r in reports]
    kind_of_group: dict[str, str] = {}
    for report, entry in zip(reports, info):
        if entry.get("unit_kind"):
            kind_of_group.setdefault(report.group, f"kind:{entry['unit_kind']}")
    out = Examples([], [], [], [], [])
    seen: set[tuple[str, str]] = set()
    for report, entry in zip(reports, info):
        split_group = kind_of_group.get(report.group, report.group)
        for record, sentence in zip(sentence_records(report), report.sentences):
            key = (report.group, sentence.id)
            if sentence.id not in labels or key in seen:
                continue
            seen.add(key)
            out.records.append(record)
            out.labels.append(labels[sentence.id])
            out.groups.append(split_group)
            out.reports.append(report.id)
            out.corpora.append(str(entry.get("corpus", "")))
    return out


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
    """Training parameters: :data:`DEFAULT_PARAMS` updated from a JSON config file."""
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
        return _check_params(raw)
    except ValueError as exc:
        raise ToolkitError(f"{path}: {exc}") from None


def _check_params(params: Mapping | None) -> dict:
    unknown = set(params or {}) - set(DEFAULT_PARAMS)
    if unknown:
        raise ValueError(f"unknown parameter(s) {sorted(unknown)}; known: {sorted(DEFAULT_PARAMS)}")
    return {**DEFAULT_PARAMS, **(params or {})}


def _fit_one(records: Sequence[dict], labels: Sequence[str], params: Mapping, seed: int):
    """A fitted pipeline and its compiled form (``None`` if it cannot be compiled)."""
    from toolkit.compiled import compile_pipeline
    from toolkit.pipeline import build_pipeline

    pipeline = build_pipeline(dict(params), seed=seed)
    pipeline.fit(list(records), list(labels))
    return pipeline, compile_pipeline(pipeline)


def _columns(proba, have: Sequence[str], want: Sequence[str]):
    """``proba`` with columns for ``have`` re-laid for ``want`` (zeros for classes a fold lacked)."""
    import numpy as np

    out = np.zeros((len(proba), len(want)))
    for j, c in enumerate(have):
        out[:, list(want).index(c)] = proba[:, j]
    return out


def fit(examples: Examples, params: Mapping | None = None, *, seed: int = 0) -> SectionModel:
    """Fit the model on ``examples``; the card records data and parameters.

    With ``alone`` a second, text-only model is fitted on the same sentences stripped of their
    context (:func:`toolkit.context.alone_record`). With ``calibrate`` both are first fitted on
    ``inner_folds`` grouped folds of ``examples`` and their out-of-fold probabilities give the
    part weights, temperatures and thresholds (:mod:`toolkit.calibration`).
    """
    import numpy as np

    from toolkit.calibration import fit_calibration
    from toolkit.context import alone_record

    if len(examples) == 0:
        raise AnnotationError("no labelled sentences to train on")
    if len(set(examples.labels)) < 2:
        raise AnnotationError("training needs at least two different labels")
    params = _check_params(params)
    alone_params = {**params, "context": ["cues"], "part_rule": False}
    alone_records = [alone_record(r["text"], id=r["id"]) for r in examples.records]
    pipeline, compiled = _fit_one(examples.records, examples.labels, params, seed)
    model = SectionModel(pipeline, {"params": params, "seed": seed}, compiled=compiled)
    if params["alone"]:
        alone_pipeline, alone_compiled = _fit_one(alone_records, examples.labels, alone_params, seed)
        model.alone = alone_compiled or alone_pipeline
    n_groups = len(set(examples.groups))
    if params["calibrate"] and n_groups >= 2:

        classes = model.classes
        oof = np.zeros((len(examples), len(classes)))
        oof_alone = np.zeros((len(examples), len(classes)))
        inner = {**params, "calibrate": False, "alone": False}
        for train, test in grouped_folds(examples.groups, min(int(params["inner_folds"]), n_groups), seed):
            sub = examples.subset(train)
            if len(set(sub.labels)) < 2:
                continue
            fold_pipeline, fold_compiled = _fit_one(sub.records, sub.labels, inner, seed)
            fold = SectionModel(fold_pipeline, {"params": inner}, compiled=fold_compiled)
            oof[test] = _columns(fold.raw_proba([examples.records[i] for i in test]), fold.classes, classes)
            if params["alone"]:
                p, c = _fit_one([alone_records[i] for i in train], sub.labels, alone_params, seed)
                have = list(c.classes) if c is not None else [str(x) for x in p.classes_]
                oof_alone[test] = _columns((c or p).predict_proba([alone_records[i] for i in test]), have, classes)
        model.calibration = fit_calibration(examples.records, oof, examples.labels, classes,
                                            part_rule=params["part_rule"], flag_share=params["flag_share"])
        if params["alone"]:
            model.alone_calibration = fit_calibration(alone_records, oof_alone, examples.labels, classes,
                                                      part_rule=False, flag_share=params["flag_share"])
    return model


def make_card(model: SectionModel, examples: Examples, labels: Mapping[str, str], cv: Mapping | None) -> dict:
    """The model card: labels, taxonomy, data hash and size, parameters, versions, CV scores."""
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
        "trained_with": " ".join(["toolkit", *sys.argv[1:]]) if sys.argv and sys.argv[0].endswith("toolkit") else "",
    }


def train_from_store(
    labels_path: str | os.PathLike,
    corpus_paths: Sequence[str | os.PathLike],
    params: Mapping | None = None,
    *,
    folds: int = 5,
    seed: int = 0,
    progress: Progress | None = None,
) -> SectionModel:
    """Load corpus and labels, cross-validate (grouped) for the card, fit on everything."""
    from toolkit.corpus import load_labels, load_manifests, load_reports
    from toolkit.evaluation import cross_validate

    say = progress or (lambda message: None)
    say("reading corpus and labels")
    reports = load_reports(corpus_paths)
    labels = {k: a.label for k, a in load_labels(labels_path, reports, corpus_paths).items()}

    examples = labelled_examples(reports, labels, load_manifests(corpus_paths))
    params = {**DEFAULT_PARAMS, **(params or {})}
    cv = {}
    if folds > 1 and len(set(examples.groups)) >= folds:
        say(f"cross-validating over {len(set(examples.groups))} report groups ({folds} folds)")
        cv = cross_validate(examples, params, folds=folds, seed=seed).summary()
    say(f"fitting on {len(examples)} sentences")
    model = fit(examples, params, seed=seed)
    model.card = make_card(model, examples, labels, cv)
    return model
