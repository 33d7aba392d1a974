"""Predictors, tasks and pre-annotations for Label Studio.

:func:`build_tasks` writes one task per distinct sentence with a prediction from the model (its
card's ``model_version``) or, without a model, from the weak rules (``weak-rules``). The score is
also written to ``data.score`` because the free edition can only sort tasks by data fields.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from toolkit import store
from toolkit.context import records_of, sentence_records
from toolkit.corpus import load_reports
from toolkit.fileio import atomic_write_text
from toolkit.labelstudio.config import FROM_NAME, TO_NAME
from toolkit.model import load_model
from toolkit.segment import Report, Sentence, text_id
from toolkit.taxonomy import BY_SLUG
from toolkit.weak import RULES, apply_rules, combine

WEAK_VERSION = "weak-rules"


@dataclass(frozen=True)
class Guess:
    """A pre-annotation: the label (``None`` if there is no guess) and its score in [0, 1]."""

    label: str | None
    score: float


class Predictor(Protocol):
    """Something that guesses labels: the trained model or the weak rules."""

    @property
    def version(self) -> str: ...

    def guess(self, reports: Sequence[Report]) -> dict[str, Guess]: ...

    def guess_records(self, records: Sequence[dict]) -> list[Guess]: ...


def _weak_guess(votes: Mapping[str, str | None]) -> Guess:
    label = combine(votes)
    if label is None:
        return Guess(None, 0.0)
    fired = [v for v in votes.values() if v is not None]
    return Guess(label, round(sum(v == label for v in fired) / len(fired), 4))


class WeakPredictor:
    """The weak rules; the score is the share of the rules that fired and agree with the label."""

    version = WEAK_VERSION

    def guess(self, reports: Sequence[Report]) -> dict[str, Guess]:
        return {sid: _weak_guess(votes) for sid, votes in apply_rules(reports).items()}

    def guess_records(self, records: Sequence[dict]) -> list[Guess]:
        """Guesses for sentences known only by their text and heading (not in the corpus)."""
        out = []
        for record in records:
            sentence = Sentence(id=record.get("id") or text_id(record["text"]), report="task", group="task",
                                paragraph=1, index=1, heading=record.get("heading", ""), is_heading=False,
                                text=record["text"], section=record.get("section") or record.get("heading", ""))
            report = Report(id="task", paragraphs=[record["text"]], sentences=[sentence])
            out.append(_weak_guess({name: rule(sentence, report) for name, rule in RULES.items()}))
        return out


class ModelPredictor:
    """A trained :class:`~toolkit.model.SectionModel`; the score is its top-class probability."""

    def __init__(self, model: Any) -> None:
        self.model = model

    @property
    def version(self) -> str:
        return self.model.version

    def guess(self, reports: Sequence[Report]) -> dict[str, Guess]:
        records = list({r["id"]: r for r in reversed(records_of(reports))}.values())[::-1]
        return dict(zip((r["id"] for r in records), self.guess_records(records)))

    def guess_records(self, records: Sequence[dict]) -> list[Guess]:
        labels, scores = self.model.predict(list(records))
        return [Guess(label, round(score, 4)) for label, score in zip(labels, scores)]


def load_predictor(model_path: str | os.PathLike | None) -> Predictor:
    """The model at ``model_path`` (a :class:`ModelError` if it is unusable), or the weak rules if ``None``."""
    if model_path is None:
        return WeakPredictor()
    return ModelPredictor(load_model(model_path))


def choice_result(label: str) -> list[dict]:
    """The ``result`` list choosing ``label``: the shape of predictions and annotations alike."""
    return [{"from_name": FROM_NAME, "to_name": TO_NAME, "type": "choices", "value": {"choices": [label]}}]


def prediction(guess: Guess, version: str) -> dict:
    """A Label Studio prediction for one task (empty ``result`` when there is no guess)."""
    return {"model_version": version, "score": guess.score,
            "result": choice_result(guess.label) if guess.label else []}


def context_text(prev: str, next_: str) -> str:
    """The neighbouring sentences as shown to annotators."""
    lines = [f"上一句：{prev}" if prev else "", f"下一句：{next_}" if next_ else ""]
    return "\n".join(line for line in lines if line) or "（无上下文）"


def build_tasks(reports: Sequence[Report], predictor: Predictor, *, skip_ids: Iterable[str] = ()) -> list[dict]:
    """One import task per distinct sentence not in ``skip_ids``, in corpus order.

    ``data`` holds ``id, text, heading, context, report`` plus the prediction's ``score`` and its
    label's Chinese name (``guess``) as sortable columns; a task without a guess has no prediction.
    """
    guesses = predictor.guess(reports)
    seen = set(skip_ids)
    tasks = []
    for report in reports:
        for record in sentence_records(report):
            if record["id"] in seen:
                continue
            seen.add(record["id"])
            guess = guesses.get(record["id"], Guess(None, 0.0))
            data = {"id": record["id"], "text": record["text"], "heading": record["heading"],
                    "context": context_text(record["prev"], record["next"]), "report": report.id,
                    "score": guess.score, "guess": BY_SLUG[guess.label].name if guess.label else ""}
            task: dict = {"data": data}
            if guess.label:
                task["predictions"] = [prediction(guess, predictor.version)]
            tasks.append(task)
    return tasks


def export_tasks(
    paths: Sequence[str | os.PathLike],
    predictor: Predictor,
    *,
    labels_path: str | os.PathLike | None = None,
    by: str = "sentence",
) -> list[dict]:
    """Tasks for the reports in ``paths``, one per sentence or (``by="report"``) one per report;
    with ``labels_path``, only sentences not labelled there (reports that hold one)."""
    from toolkit.labelstudio.reports import MODES, build_report_tasks

    if by not in MODES:
        raise ValueError(f"by must be one of {MODES}, not {by!r}")
    skip = store.load(labels_path).keys() if labels_path is not None else ()
    if by == "report":
        return build_report_tasks(load_reports(paths), predictor, skip_ids=skip)
    return build_tasks(load_reports(paths), predictor, skip_ids=skip)


def write_tasks(tasks: Sequence[dict], out: str | os.PathLike) -> None:
    """Write tasks as Label Studio import JSON, atomically."""
    atomic_write_text(out, json.dumps(list(tasks), ensure_ascii=False, indent=1) + "\n")

