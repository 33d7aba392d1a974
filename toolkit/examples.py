"""Labelled examples: every labelled sentence of the corpus in its context, with the group that keeps
a kind of unit on one side of every split, its report and the corpus it comes from."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.context import sentence_records
from toolkit.corpus import load_labels, load_manifests, load_reports, source_key
from toolkit.errors import InputError
from toolkit.segment import Report

Progress = Callable[[str], None]
"""Where long-running work reports what it is doing: one message at a time."""


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
            out.records.append({**record, "corpus": str(entry.get("corpus", ""))})
            out.labels.append(labels[sentence.id])
            out.groups.append(split_group)
            out.reports.append(report.id)
            out.corpora.append(str(entry.get("corpus", "")))
    return out


def load_examples(corpus_paths: Sequence[str | os.PathLike], labels_path: str | os.PathLike,
                  hint: str | None = None) -> tuple[list[Report], Examples, dict[str, str]]:
    """The corpus's reports, their labelled examples (split groups from the corpus manifests) and
    the labels of the store at ``labels_path``; a label of a sentence that no report holds is a
    one-line error saying how to add its report (``hint``: what to say instead). One corpus path
    alone is a list of one; a labels file that does not exist is an :class:`InputError`, not an
    empty store (a mistyped path would otherwise train or score on nothing)."""
    if isinstance(corpus_paths, (str, os.PathLike)):
        corpus_paths = [corpus_paths]
    if not Path(labels_path).is_file():
        raise InputError(f"{labels_path}: no such labels file")
    reports = load_reports(corpus_paths)
    labels = {k: a.label for k, a in load_labels(labels_path, reports, corpus_paths, hint).items()}
    return reports, labelled_examples(reports, labels, load_manifests(corpus_paths)), labels
