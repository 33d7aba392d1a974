"""Training: labelled examples from the corpus and the store, fitting, and the model card."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from toolkit import __version__
from toolkit.errors import AnnotationError, ToolkitError
from toolkit.context import sentence_records
from toolkit.model import DEFAULT_PARAMS, SectionModel
from toolkit.segment import Report
from toolkit.taxonomy import SLUGS, TAXONOMY_VERSION

Progress = Callable[[str], None]


@dataclass
class Examples:
    """Labelled sentence records with their report group (for grouped splits)."""

    records: list[dict]
    labels: list[str]
    groups: list[str]
    reports: list[str]

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: Sequence[int]) -> "Examples":
        return Examples([self.records[i] for i in index], [self.labels[i] for i in index],
                        [self.groups[i] for i in index], [self.reports[i] for i in index])


def labelled_examples(reports: Iterable[Report], labels: Mapping[str, str]) -> Examples:
    """Every labelled sentence in its context, once per near-duplicate group.

    A sentence repeated inside one group (a duplicated report) counts once, so copies cannot
    inflate the training set or sit on both sides of a split.
    """
    out = Examples([], [], [], [])
    seen: set[tuple[str, str]] = set()
    for report in reports:
        for record, sentence in zip(sentence_records(report), report.sentences):
            key = (report.group, sentence.id)
            if sentence.id not in labels or key in seen:
                continue
            seen.add(key)
            out.records.append(record)
            out.labels.append(labels[sentence.id])
            out.groups.append(report.group)
            out.reports.append(report.id)
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
    unknown = set(raw) - set(DEFAULT_PARAMS)
    if unknown:
        raise ToolkitError(f"{path}: unknown parameter(s) {sorted(unknown)}; known: {sorted(DEFAULT_PARAMS)}")
    return {**DEFAULT_PARAMS, **raw}


def fit(examples: Examples, params: Mapping | None = None, *, seed: int = 0) -> SectionModel:
    """Fit the pipeline on ``examples``; the card records data and parameters."""
    if len(examples) == 0:
        raise AnnotationError("no labelled sentences to train on")
    if len(set(examples.labels)) < 2:
        raise AnnotationError("training needs at least two different labels")
    params = {**DEFAULT_PARAMS, **(params or {})}
    from toolkit.compiled import compile_pipeline
    from toolkit.pipeline import build_pipeline

    pipeline = build_pipeline(params, seed=seed)
    pipeline.fit(examples.records, examples.labels)
    return SectionModel(pipeline, {"params": params, "seed": seed}, compiled=compile_pipeline(pipeline))


def make_card(model: SectionModel, examples: Examples, labels: Mapping[str, str], cv: Mapping | None) -> dict:
    """The model card: labels, taxonomy, data hash and size, parameters, versions, CV scores."""
    digest = data_hash(labels)
    return {
        "model_version": f"{__version__}+{digest[:10]}",
        "labels": [s for s in SLUGS if s in model.classes],
        "taxonomy_version": TAXONOMY_VERSION,
        "training_data": {"sha256": digest, "sentences": len(examples), "distinct_labels": len(labels),
                          "reports": len(set(examples.reports)), "groups": len(set(examples.groups)),
                          "label_counts": dict(sorted(Counter(examples.labels).items()))},
        "params": model.card.get("params", {}),
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
    from toolkit import store
    from toolkit.corpus import load_reports
    from toolkit.evaluation import cross_validate

    say = progress or (lambda message: None)
    say("reading corpus and labels")
    reports = load_reports(corpus_paths)
    known = {s.id for r in reports for s in r.sentences}
    labels = {k: a.label for k, a in store.load(labels_path, known_ids=known).items()}
    examples = labelled_examples(reports, labels)
    params = {**DEFAULT_PARAMS, **(params or {})}
    cv = {}
    if folds > 1 and len(set(examples.groups)) >= folds:
        say(f"cross-validating over {len(set(examples.groups))} report groups ({folds} folds)")
        cv = cross_validate(examples, params, folds=folds, seed=seed).summary()
    say(f"fitting on {len(examples)} sentences")
    model = fit(examples, params, seed=seed)
    model.card = make_card(model, examples, labels, cv)
    return model
