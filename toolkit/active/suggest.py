"""What to label next: :func:`suggest` ranks the unlabelled sentences of new reports, and
:func:`ranked_tasks` writes them as Label Studio tasks in the format of ``toolkit ls export-tasks``
(built by :func:`toolkit.labelstudio.build_tasks`), plus ``rank`` and ``al_score`` data columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from toolkit.active.strategies import DEFAULT_N, DIVERSITY_THRESHOLD, STRATEGIES, diverse_top, informativeness
from toolkit.context import sentence_records
from toolkit.errors import ToolkitError
from toolkit.labelstudio import Guess, build_tasks
from toolkit.model import SectionModel
from toolkit.segment import Report


@dataclass(frozen=True)
class Candidate:
    """An unlabelled sentence in its context, the model's guess and its active-learning score."""

    record: dict
    report: str
    label: str
    confidence: float
    score: float


@dataclass
class Suggestions:
    """What :func:`suggest` chose, best first, and what it passed over."""

    strategy: str
    chosen: list[Candidate]
    unlabelled: int
    labelled_skipped: int
    near_duplicates: int


def unlabelled_records(reports: Sequence[Report], labelled: Iterable[str]) -> tuple[list[dict], list[str], int]:
    """Feature records of the distinct sentences not in ``labelled`` (first occurrence), their
    report ids, and how many distinct sentences were left out because they are labelled."""
    records, owners, kept, skipped = _report_records(reports, labelled)
    return [records[i] for i in kept], [owners[i] for i in kept], skipped


def _report_records(reports: Sequence[Report], labelled: Iterable[str]) -> tuple[list[dict], list[str], list[int], int]:
    """Every sentence's record in reading order (the model weighs a report's sentences together),
    their report ids, the positions of the distinct unlabelled ones, and how many distinct
    sentences are labelled."""
    known = set(labelled)
    seen: set[str] = set()
    records, owners, kept, skipped = [], [], [], 0
    for report in reports:
        for record in sentence_records(report):
            if record["id"] not in seen:
                seen.add(record["id"])
                if record["id"] in known:
                    skipped += 1
                else:
                    kept.append(len(records))
            records.append(record)
            owners.append(report.id)
    return records, owners, kept, skipped


def suggest(reports: Sequence[Report], model: SectionModel, labelled: Iterable[str] = (), *, n: int = DEFAULT_N,
            strategy: str = "uncertainty", seed: int = 0, threshold: float = DIVERSITY_THRESHOLD) -> Suggestions:
    """Rank the unlabelled sentences of ``reports`` by ``strategy`` under ``model`` (a
    :class:`~toolkit.model.SectionModel`) and keep the ``n`` best that pass the diversity guard."""
    if strategy not in STRATEGIES:
        raise ToolkitError(f"unknown strategy {strategy!r}; choose from {', '.join(STRATEGIES)}")
    if n < 1:
        raise ToolkitError(f"--n {n}: ask for at least one sentence")
    every, every_owner, kept, skipped = _report_records(reports, labelled)
    if not kept:
        return Suggestions(strategy, [], 0, skipped, 0)
    records, owners = [every[i] for i in kept], [every_owner[i] for i in kept]
    proba = model.predict_proba(every)[kept]
    scores = informativeness(proba, strategy, seed=seed)
    selection = diverse_top(scores, [r["text"] for r in records], n, threshold=threshold)
    classes = model.classes
    chosen = [Candidate(records[i], owners[i], classes[int(proba[i].argmax())], round(float(proba[i].max()), 4),
                        round(float(scores[i]), 4)) for i in selection.chosen]
    return Suggestions(strategy, chosen, len(records), skipped, len(selection.skipped))


class _FixedGuesses:
    """A :class:`toolkit.labelstudio.Predictor` that returns guesses computed beforehand."""

    def __init__(self, guesses: Mapping[str, object], version: str) -> None:
        self._guesses = dict(guesses)
        self.version = version

    def guess(self, reports: Sequence[Report]) -> dict:
        return dict(self._guesses)

    def guess_records(self, records: Sequence[dict]) -> list:
        return [self._guesses.get(r["id"], Guess(None, 0.0)) for r in records]


def ranked_tasks(reports: Sequence[Report], ranked: Sequence[tuple[str, str | None, float, dict]], version: str) -> list[dict]:
    """Label Studio import tasks (``toolkit ls export-tasks`` format) for ``ranked`` sentences,
    in that order: each item is ``(sentence id, predicted label or None, score, extra data)``;
    ``rank`` (1 = first) and the extra data are added to each task's ``data``."""
    order = {sid: k for k, (sid, *_rest) in enumerate(ranked)}
    guesses = {sid: Guess(label, round(float(score), 4)) for sid, label, score, _ in ranked if label}
    every = {s.id for r in reports for s in r.sentences}
    tasks = build_tasks(reports, _FixedGuesses(guesses, version), skip_ids=every - order.keys())
    tasks.sort(key=lambda t: order[t["data"]["id"]])
    for task, (_, _, _, extra) in zip(tasks, ranked):
        task["data"].update({"rank": order[task["data"]["id"]] + 1, **extra})
    return tasks


def suggestion_tasks(reports: Sequence[Report], suggestions: Suggestions, version: str) -> list[dict]:
    """The suggested sentences as Label Studio tasks with the model's prediction, best first."""
    return ranked_tasks(reports, [(c.record["id"], c.label, c.confidence, {"al_score": c.score, "al_strategy": suggestions.strategy})
                                  for c in suggestions.chosen], version)


def suggestions_summary(s: Suggestions) -> str:
    """One line for stderr: how many were chosen out of how many, and what was passed over."""
    if not s.unlabelled:
        return f"nothing to suggest: all {s.labelled_skipped} distinct sentences are already labelled"
    return (f"{len(s.chosen)} of {s.unlabelled} unlabelled sentences suggested by {s.strategy}"
            f" ({s.labelled_skipped} already labelled, {s.near_duplicates} skipped as near-duplicates)")


DEFAULT_REPORTS = 5
"""How many reports ``toolkit suggest --by report`` proposes unless told."""
LEAST_SURE = 5
"""How many of a report's least sure sentences make its score."""


@dataclass(frozen=True)
class ReportCandidate:
    """A report, its score (the mean informativeness of its least sure unlabelled sentences) and those sentences."""

    report: Report
    score: float
    unlabelled: int
    least_sure: tuple[tuple[str, float], ...]


@dataclass
class ReportSuggestions:
    """What :func:`suggest_reports` chose, best first, and what it passed over."""

    strategy: str
    chosen: list[ReportCandidate]
    reports: int
    near_duplicates: int


def suggest_reports(reports: Sequence[Report], model: SectionModel, labelled: Iterable[str] = (), *,
                    n: int = DEFAULT_REPORTS, strategy: str = "uncertainty", seed: int = 0,
                    least_sure: int = LEAST_SURE) -> ReportSuggestions:
    """Rank the reports that hold unlabelled sentences by the mean ``strategy`` score of their
    ``least_sure`` least sure unlabelled sentences (the ones a report task makes the annotator look
    at first) and keep the ``n`` best, one per near-duplicate group."""
    if strategy not in STRATEGIES:
        raise ToolkitError(f"unknown strategy {strategy!r}; choose from {', '.join(STRATEGIES)}")
    if n < 1:
        raise ToolkitError(f"--n {n}: ask for at least one report")
    records, owners, _ = unlabelled_records(reports, labelled)
    if not records:
        return ReportSuggestions(strategy, [], 0, 0)
    scores = informativeness(model.predict_proba(records), strategy, seed=seed)
    by_report: dict[str, list[tuple[str, float]]] = {}
    for record, owner, score in zip(records, owners, scores):
        by_report.setdefault(owner, []).append((record["id"], round(float(score), 4)))
    ranked = []
    for order, report in enumerate(reports):
        found = sorted(by_report.get(report.id, []), key=lambda item: -item[1])
        if found:
            top = found[:least_sure]
            ranked.append((-sum(s for _, s in top) / len(top), order,
                           ReportCandidate(report, round(sum(s for _, s in top) / len(top), 4), len(found), tuple(top))))
    ranked.sort(key=lambda item: item[:2])
    chosen, groups, duplicates = [], set(), 0
    for _, _, candidate in ranked:
        group = candidate.report.group or candidate.report.id
        if group in groups:
            duplicates += 1
            continue
        if len(chosen) < n:
            groups.add(group)
            chosen.append(candidate)
    return ReportSuggestions(strategy, chosen, len(ranked), duplicates)


def report_suggestion_tasks(reports: Sequence[Report], suggestions: ReportSuggestions, model: SectionModel) -> list[dict]:
    """The suggested reports as report tasks (``toolkit ls export-tasks --by report`` format),
    pre-labelled by ``model``, best first, with ``rank``, ``al_score`` and ``al_strategy``;
    ``reports`` are all those read, to number each in its file."""
    from toolkit.labelstudio import ModelPredictor, build_report_tasks
    from toolkit.labelstudio.reports import report_numbers

    tasks = build_report_tasks([c.report for c in suggestions.chosen], ModelPredictor(model),
                               numbers=report_numbers(reports))
    for rank, (task, candidate) in enumerate(zip(tasks, suggestions.chosen), 1):
        task["data"].update({"rank": rank, "al_score": candidate.score, "al_strategy": suggestions.strategy})
    return tasks


def report_suggestions_summary(s: ReportSuggestions) -> str:
    """One line for stderr: how many reports were chosen out of how many."""
    if not s.reports:
        return "nothing to suggest: every sentence of these reports is already labelled"
    return (f"{len(s.chosen)} of {s.reports} reports with unlabelled sentences suggested by {s.strategy} on their "
            f"{LEAST_SURE} least sure sentences ({s.near_duplicates} skipped as near-duplicates)")
