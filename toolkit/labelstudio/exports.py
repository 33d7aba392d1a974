"""Reading Label Studio exports, resolving votes, and importing them into the annotation store.

:func:`import_export` merges a Label Studio JSON export into the store: cancelled and empty
annotations are skipped, several annotations of one sentence are resolved (ground truth first,
then majority; ties are conflicts, never guessed), unknown labels and exports of other projects
are refused before anything is written, and changed labels go to ``history.jsonl``.

An export may hold sentence tasks, report tasks (:mod:`toolkit.labelstudio.reports`) or both:
a report task's annotation is read sentence by sentence into the same votes, so every rule
above applies per sentence. A label on a report sentence that is in no report of the corpus any
more (``corpus_ids``: the report was edited after the push) is listed and not imported.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit import store
from toolkit.errors import AnnotationError, InputError, json_problem
from toolkit.labelstudio.config import FROM_NAME
from toolkit.labelstudio.reports import is_report_task, prelabels_of, result_regions, sentence_labels, task_sentences
from toolkit.segment import text_id
from toolkit.taxonomy import check_label


@dataclass(frozen=True)
class Vote:
    """One annotator's label for one sentence."""

    annotator: str
    label: str
    ground_truth: bool
    updated_at: str


@dataclass
class SentenceVotes:
    """Everything an export says about one sentence (it may span several tasks)."""

    id: str
    text: str
    tasks: list[int] = field(default_factory=list)
    votes: list[Vote] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)
    contradicted: list[str] = field(default_factory=list)
    gone: bool = False
    """A sentence of a report task that is in no report of the corpus any more."""


@dataclass
class ImportReport:
    """What an import did and why: each list names sentence ids."""

    added: list[tuple[str, str, str]] = field(default_factory=list)
    changed: list[tuple[str, str, str, str]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    conflicts: list[tuple[str, str]] = field(default_factory=list)
    tasks: int = 0

    def summary(self) -> str:
        return (f"{self.tasks} tasks: {len(self.added)} added, {len(self.changed)} changed, "
                f"{len(self.unchanged)} unchanged, {len(self.skipped)} skipped, {len(self.conflicts)} conflicts")

    def lines(self) -> list[str]:
        """One line per added, changed, skipped or conflicting sentence, then the summary."""
        out = [f"added {sid} {label} (by {who})" for sid, label, who in self.added]
        out += [f"changed {sid} {old} -> {new} (by {who}; previous label kept in history.jsonl)"
                for sid, old, new, who in self.changed]
        out += [f"skipped {sid}: {reason}" for sid, reason in self.skipped]
        out += [f"conflict {sid}: {votes}; not imported, resolve it in Label Studio (e.g. mark a ground truth)"
                for sid, votes in self.conflicts]
        return out + [self.summary()]


def parse_export(raw: bytes | str, where: str) -> list[dict]:
    """The tasks of a Label Studio JSON export; one-line :class:`AnnotationError` if it is not one."""
    try:
        tasks = json.loads(raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw)
    except UnicodeDecodeError:
        raise AnnotationError(f"{where}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise AnnotationError(f"{where}: not valid JSON ({json_problem(exc)})") from None
    if not isinstance(tasks, list):
        raise AnnotationError(f"{where}: expected a JSON list of tasks (a Label Studio 'JSON' export), got {type(tasks).__name__}")
    for n, task in enumerate(tasks):
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise AnnotationError(f"{where}: item {n} is not a task with 'data'; export the project as 'JSON', "
                                  "not JSON_MIN or CSV")
    return tasks


def read_export(path: str | os.PathLike) -> list[dict]:
    """Read and parse an export file."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory") from None
    return parse_export(raw, str(path))


def annotator_name(completed_by: Any, users: Mapping[int, str]) -> str:
    """Who made an annotation: ``completed_by`` is an id in some exports and an object in others."""
    if isinstance(completed_by, dict):
        uid = completed_by.get("id")
        return str(completed_by.get("email") or users.get(uid) or f"user-{uid}")
    if isinstance(completed_by, int) and not isinstance(completed_by, bool):
        return users.get(completed_by) or f"user-{completed_by}"
    return "unknown"


def _result_labels(result: Any, where: str) -> list[str]:
    if not isinstance(result, list):
        raise AnnotationError(f"{where}: 'result' is not a list")
    labels: list[str] = []
    for item in result:
        if not isinstance(item, dict):
            raise AnnotationError(f"{where}: a result item is not an object")
        if item.get("from_name") != FROM_NAME or item.get("type") != "choices":
            raise AnnotationError(f"{where}: result from control {item.get('from_name')!r} ({item.get('type')}), "
                                  f"not the toolkit's {FROM_NAME!r} choices: this export is of another project")
        value = item.get("value")
        choices = value.get("choices") if isinstance(value, dict) else None
        if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
            raise AnnotationError(f"{where}: result value has no list of choices")
        labels.extend(choices)
    return labels


def _task_sentence(task: dict, where: str) -> tuple[str, str]:
    data = task["data"]
    sid, text = data.get("id"), data.get("text")
    if not isinstance(sid, str) or not isinstance(text, str) or not text.strip():
        raise AnnotationError(f"{where}: data has no sentence 'id' and 'text': this export is of another project")
    if text_id(text) != sid:
        raise AnnotationError(f"{where}: data.id {sid!r} is not the id of its text: the task was edited or comes "
                              "from another project")
    return sid, text


def collect_votes(tasks: Sequence[dict], where: str, users: Mapping[int, str] | None = None,
                  project: int | None = None, corpus_ids: Container[str] | None = None) -> list[SentenceVotes]:
    """Group the annotations of ``tasks`` (sentence tasks, report tasks or both) by sentence,
    validating everything first. With ``corpus_ids``, report sentences not among them are marked
    ``gone``.

    Raises :class:`AnnotationError` (or :class:`UnknownLabelError`) naming the task for anything that
    is not a toolkit task: so a bad export changes nothing.
    """
    users = users or {}
    by_id: dict[str, SentenceVotes] = {}
    for n, task in enumerate(tasks):
        task_ref = f"{where}: task {task.get('id', f'#{n}')}"
        if project is not None and task.get("project") not in (None, project):
            raise AnnotationError(f"{task_ref}: belongs to project {task.get('project')}, not project {project}")
        annotations = task.get("annotations")
        annotations = [] if annotations is None else annotations
        if not isinstance(annotations, list):
            raise AnnotationError(f"{task_ref}: 'annotations' is not a list")
        if is_report_task(task["data"]):
            _collect_report(task, annotations, task_ref, by_id, users, corpus_ids)
            continue
        sid, text = _task_sentence(task, task_ref)
        entry = by_id.setdefault(sid, SentenceVotes(sid, text))
        if isinstance(task.get("id"), int):
            entry.tasks.append(task["id"])
        for annotation in annotations:
            _add_annotation(entry, annotation, f"{task_ref} annotation", users)
    return list(by_id.values())


def _collect_report(task: dict, annotations: list, where: str, by_id: dict[str, SentenceVotes],
                    users: Mapping[int, str], corpus_ids: Container[str] | None) -> None:
    sentences = task_sentences(task["data"], where)
    texts = [text for _, text in sentences]
    entries = []
    for sid, text in sentences:
        entry = by_id.setdefault(sid, SentenceVotes(sid, text))
        if isinstance(task.get("id"), int) and task["id"] not in entry.tasks:
            entry.tasks.append(task["id"])
        if corpus_ids is not None and sid not in corpus_ids:
            entry.gone = True
        entries.append(entry)
    prelabels = prelabels_of(task, texts, where)
    positions: dict[str, list[int]] = {}  # a sentence printed twice in a report is one sentence: read its copies together
    for i, entry in enumerate(entries):
        positions.setdefault(entry.id, []).append(i)
    for annotation in annotations:
        if not isinstance(annotation, dict):
            raise AnnotationError(f"{where} annotation: not an object")
        ref = f"{where} annotation {annotation.get('id', '?')}"
        who = annotator_name(annotation.get("completed_by"), users)
        result = annotation.get("result")
        regions = result_regions([] if result is None else result, texts, ref)
        for _, label in regions:
            check_label(label, ref)
        if annotation.get("was_cancelled"):
            for entry in {e.id: e for e in entries}.values():
                entry.cancelled.append(who)
            continue
        reading = sentence_labels(regions, prelabels)
        updated = str(annotation.get("updated_at") or annotation.get("created_at") or "")
        for where_in_report in positions.values():
            entry = entries[where_in_report[0]]
            labels = {reading.labels[i] for i in where_in_report if i in reading.labels}
            clash = sorted({label for i in where_in_report for label in reading.contradictions.get(i, ())})
            if len(labels) > 1 and not clash:  # copies of one sentence read differently: the correction, as for overlapping regions
                new = labels - set().union(*(prelabels[i] for i in where_in_report))
                labels, clash = (new, []) if len(new) == 1 else (set(), sorted(labels))
            if clash:
                entry.contradicted.append(f"{who} ({'/'.join(clash)})")
            elif labels:
                entry.votes.append(Vote(who, labels.pop(), bool(annotation.get("ground_truth")), updated))
            else:
                entry.empty.append(who)


def _add_annotation(entry: SentenceVotes, annotation: Any, where: str, users: Mapping[int, str]) -> None:
    if not isinstance(annotation, dict):
        raise AnnotationError(f"{where}: not an object")
    where = f"{where} {annotation.get('id', '?')}"
    who = annotator_name(annotation.get("completed_by"), users)
    result = annotation.get("result")
    labels = _result_labels([] if result is None else result, where)
    if annotation.get("was_cancelled"):
        entry.cancelled.append(who)
        return
    if not labels:
        entry.empty.append(who)
        return
    if len(labels) > 1:
        raise AnnotationError(f"{where}: {len(labels)} labels in one annotation; the toolkit project is single-choice")
    check_label(labels[0], where)
    entry.votes.append(Vote(who, labels[0], bool(annotation.get("ground_truth")),
                            str(annotation.get("updated_at") or annotation.get("created_at") or "")))


def latest_per_annotator(votes: Iterable[Vote]) -> list[Vote]:
    """One vote per annotator: their most recently updated annotation."""
    latest: dict[str, Vote] = {}
    for vote in votes:
        if vote.annotator not in latest or vote.updated_at >= latest[vote.annotator].updated_at:
            latest[vote.annotator] = vote
    return list(latest.values())


@dataclass(frozen=True)
class Resolution:
    """The outcome for one sentence: a label with its annotators, or why there is none."""

    label: str | None
    annotators: str = ""
    updated_at: str = ""
    skipped: str = ""
    conflict: str = ""


def resolve(entry: SentenceVotes) -> Resolution:
    """Ground-truth annotations win over the others; among the deciding votes the majority wins and
    a tie is a conflict (never guessed)."""
    votes = latest_per_annotator(entry.votes)
    if votes and entry.gone:
        who = ", ".join(sorted({v.annotator for v in votes}))
        return Resolution(None, skipped=f"labelled by {who}, but the sentence is in no report of the corpus any more "
                                        "(the report was edited after the push); not imported")
    if not votes:
        reasons = ([f"cancelled (skipped) by {', '.join(entry.cancelled)}"] if entry.cancelled else []) + \
                  ([f"regions of several new labels from {', '.join(entry.contradicted)}"] if entry.contradicted else []) + \
                  ([f"empty result from {', '.join(entry.empty)}"] if entry.empty else [])
        return Resolution(None, skipped="; ".join(reasons) or "no annotation")
    ground_truth = [v for v in votes if v.ground_truth]
    pool = ground_truth or votes
    counts = Counter(v.label for v in pool).most_common()
    if len(counts) > 1 and counts[0][1] == counts[1][1]:
        kind = "ground-truth annotations disagree" if ground_truth else "annotators disagree"
        listed = ", ".join(f"{v.annotator}={v.label}" for v in sorted(pool, key=lambda v: v.annotator))
        return Resolution(None, conflict=f"{kind}: {listed}")
    label = counts[0][0]
    winners = [v for v in pool if v.label == label]
    return Resolution(label, "+".join(sorted({v.annotator for v in winners})), max(v.updated_at for v in winners))


def import_tasks(
    tasks: Sequence[dict],
    labels_path: str | os.PathLike,
    *,
    where: str,
    users: Mapping[int, str] | None = None,
    project: int | None = None,
    corpus_ids: Container[str] | None = None,
) -> ImportReport:
    """Merge exported ``tasks`` into the store at ``labels_path`` (see the module docstring);
    ``corpus_ids``, when given, are the sentence ids of the corpus's reports."""
    entries = collect_votes(tasks, where, users, project, corpus_ids)
    report = ImportReport(tasks=len(tasks))
    incoming: list[store.Annotation] = []
    who_of: dict[str, str] = {}
    for entry in entries:
        outcome = resolve(entry)
        if outcome.label is None:
            tasks_ref = f" [task {', '.join(map(str, entry.tasks))}]" if entry.tasks else ""
            if outcome.conflict:
                report.conflicts.append((entry.id, outcome.conflict + tasks_ref))
            else:
                report.skipped.append((entry.id, outcome.skipped + tasks_ref))
            continue
        who_of[entry.id] = outcome.annotators
        incoming.append(store.Annotation(entry.id, entry.text, outcome.label, "label-studio",
                                         outcome.annotators, outcome.updated_at))
    merged = store.merge(labels_path, incoming)
    new_label = {a.id: a.label for a in incoming}
    report.added = [(sid, new_label[sid], who_of[sid]) for sid in merged.added]
    report.changed = [(sid, old, new, who_of[sid]) for sid, old, new in merged.changed]
    report.unchanged = list(merged.unchanged)
    return report


def import_export(
    export_path: str | os.PathLike, labels_path: str | os.PathLike, *, project: int | None = None,
    corpus_ids: Container[str] | None = None,
) -> ImportReport:
    """Merge the Label Studio JSON export at ``export_path`` into the store (``toolkit ls import``)."""
    return import_tasks(read_export(export_path), labels_path, where=str(export_path), project=project,
                        corpus_ids=corpus_ids)

