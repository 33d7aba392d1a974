"""Label Studio integration: labelling config, tasks with pre-annotations, import of exports, push/pull.

* :func:`label_config` generates the labelling config from the taxonomy: the sentence, its heading
  and neighbours as context, one required single-radio ``Choices`` whose values are the slugs and
  whose shown text is the Chinese name, the taxonomy's hotkeys, and the guidelines. Data keys are
  Latin (``text``, ``heading``, ``context``): Chinese keys break Label Studio's ``$variable``.
* :func:`build_tasks` writes one task per distinct sentence with a prediction from the model (its
  card's ``model_version``) or, without a model, from the weak rules (``weak-rules``). The score is
  also written to ``data.score`` because the free edition can only sort tasks by data fields.
* :func:`import_export` merges a Label Studio JSON export into the annotation store: cancelled and
  empty annotations are skipped, several annotations of one sentence are resolved (ground truth
  first, then majority; ties are conflicts, never guessed), unknown labels and exports of other
  projects are refused before anything is written, and changed labels go to ``history.jsonl``.
* :func:`push` / :func:`pull` talk to a server with label-studio-sdk 2.x. URL and key come from
  ``LABEL_STUDIO_URL`` / ``LABEL_STUDIO_API_KEY`` or a JSON config file; the key never appears in
  a message.
"""

from __future__ import annotations

import html
import json
import os
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from toolkit import store
from toolkit.errors import AnnotationError, InputError, LabelStudioError, ToolkitError
from toolkit.segment import Report, Sentence, text_id
from toolkit.taxonomy import BY_SLUG, HARD_CASES, LABELS, SLUGS, TAXONOMY_VERSION, check_label

FROM_NAME = "section"
"""Name of the ``Choices`` control: every result and prediction uses it as ``from_name``."""
TO_NAME = "text"
"""Name of the ``Text`` object holding the sentence: ``to_name`` of every result."""
WEAK_VERSION = "weak-rules"
DEFAULT_TITLE = "工会工作总结 sections"
ML_TITLE = "toolkit section model"
"""Title of the ML backend in the project; the project's ``model_version`` names it."""
CONFIG_ENV = "TOOLKIT_LS_CONFIG"
IMPORT_BATCH = 500


# --- labelling config ------------------------------------------------------------------------


def guideline_lines() -> list[str]:
    """The annotators' guidelines as short lines: the task, then the hard cases of the taxonomy."""
    return [
        "为下面这句话选择它所属的一个板块（单选，必选）。标题和上下文只作参考，不需要标注。",
        "Pick the one section this sentence belongs to; heading and context are shown only to help.",
        "Hover a choice to see its description; press its hotkey to choose, Ctrl+Enter to submit.",
        "If the sentence cannot be judged, skip the task instead of guessing.",
        *HARD_CASES,
    ]


def label_config() -> str:
    """The labelling config XML generated from :data:`~toolkit.taxonomy.LABELS`."""
    view = ET.Element("View")
    ET.SubElement(view, "Header", value="所在标题 Heading", size="6")
    ET.SubElement(view, "Text", name="heading", value="$heading", selectionEnabled="false")
    ET.SubElement(view, "Header", value="上下文 Context", size="6")
    ET.SubElement(view, "Text", name="context", value="$context", selectionEnabled="false")
    ET.SubElement(view, "Header", value="请标注这句话 Sentence to label", size="4")
    ET.SubElement(view, "Text", name=TO_NAME, value="$text", selectionEnabled="false")
    choices = ET.SubElement(view, "Choices", name=FROM_NAME, toName=TO_NAME, choice="single-radio",
                            required="true", requiredMessage="请选择一个板块 Choose one section", showInline="false")
    for label in LABELS:
        ET.SubElement(choices, "Choice", value=label.slug, html=f"{label.name} [{label.hotkey}]",
                      hotkey=label.hotkey, hint=label.description)
    panel = ET.SubElement(ET.SubElement(view, "Collapse"), "Panel", value="标注说明 Guidelines")
    for line in guideline_lines():
        ET.SubElement(panel, "Header", value=line, size="6")
    ET.indent(view)
    return ET.tostring(view, encoding="unicode")


def guideline_html() -> str:
    """The guidelines as HTML for the project's instructions page (shown before labelling)."""
    items = "".join(f"<li>{html.escape(line)}</li>" for line in guideline_lines())
    rows = "".join(
        f"<tr><td>{html.escape(l.hotkey)}</td><td>{html.escape(l.name)}</td><td>{l.slug}</td>"
        f"<td>{html.escape(l.description)}</td></tr>"
        for l in LABELS
    )
    return (f"<p>Taxonomy {TAXONOMY_VERSION}</p><ul>{items}</ul>"
            f"<table><tr><th>key</th><th>板块</th><th>slug</th><th>description</th></tr>{rows}</table>")


def config_choices(xml: str) -> tuple[str, str, tuple[str, ...]] | None:
    """``(name, toName, values)`` of the config's toolkit ``Choices``, or ``None`` if it has none.

    Read with the SDK's ``LabelInterface``, the parser Label Studio's own tools use, so a config
    is read as the server reads it.
    """
    from label_studio_sdk.label_interface import LabelInterface

    try:
        interface = LabelInterface(xml)
    except Exception as exc:  # the SDK's exception types live in its private modules
        raise LabelStudioError(f"labelling config is not valid XML ({exc})") from None
    for control in interface.controls:
        if control.tag == "Choices" and control.name == FROM_NAME:
            return FROM_NAME, ",".join(control.to_name), tuple(control.labels)
    return None


def is_toolkit_config(xml: str) -> bool:
    """Does ``xml`` label the same sentence with the same slugs as :func:`label_config`?"""
    return config_choices(xml) == (FROM_NAME, TO_NAME, SLUGS)


# --- predictions and tasks -------------------------------------------------------------------


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
    from toolkit.weak import combine

    label = combine(votes)
    if label is None:
        return Guess(None, 0.0)
    fired = [v for v in votes.values() if v is not None]
    return Guess(label, round(sum(v == label for v in fired) / len(fired), 4))


class WeakPredictor:
    """The weak rules; the score is the share of the rules that fired and agree with the label."""

    version = WEAK_VERSION

    def guess(self, reports: Sequence[Report]) -> dict[str, Guess]:
        from toolkit.weak import apply_rules

        return {sid: _weak_guess(votes) for sid, votes in apply_rules(reports).items()}

    def guess_records(self, records: Sequence[dict]) -> list[Guess]:
        """Guesses for sentences known only by their text and heading (not in the corpus)."""
        from toolkit.weak import RULES

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
        from toolkit.context import records_of

        records = list({r["id"]: r for r in reversed(records_of(reports))}.values())[::-1]
        return dict(zip((r["id"] for r in records), self.guess_records(records)))

    def guess_records(self, records: Sequence[dict]) -> list[Guess]:
        labels, scores = self.model.predict(list(records))
        return [Guess(label, round(score, 4)) for label, score in zip(labels, scores)]


def load_predictor(model_path: str | os.PathLike | None) -> Predictor:
    """The model at ``model_path`` (a :class:`ModelError` if it is unusable), or the weak rules if ``None``."""
    if model_path is None:
        return WeakPredictor()
    from toolkit.model import load_model

    return ModelPredictor(load_model(model_path))


def choose_predictor(model_path: str | os.PathLike | None, default_path: str | os.PathLike) -> Predictor:
    """An explicit model, else the default model where it exists, else the weak rules."""
    if model_path is None and Path(default_path).is_file():
        model_path = default_path
    return load_predictor(model_path)


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
    from toolkit.context import sentence_records

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
) -> list[dict]:
    """Tasks for the reports in ``paths``; with ``labels_path``, only sentences not labelled there."""
    from toolkit.corpus import load_reports

    skip = store.load(labels_path).keys() if labels_path is not None else ()
    return build_tasks(load_reports(paths), predictor, skip_ids=skip)


def write_tasks(tasks: Sequence[dict], out: str | os.PathLike) -> None:
    """Write tasks as Label Studio import JSON, atomically."""
    store.atomic_write_text(out, json.dumps(list(tasks), ensure_ascii=False, indent=1) + "\n")


# --- reading exports -------------------------------------------------------------------------


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
        raise AnnotationError(f"{where}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
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
                  project: int | None = None) -> list[SentenceVotes]:
    """Group the annotations of ``tasks`` by sentence, validating everything first.

    Raises :class:`AnnotationError` (or :class:`UnknownLabelError`) naming the task for anything that
    is not a toolkit task: so a bad export changes nothing.
    """
    users = users or {}
    by_id: dict[str, SentenceVotes] = {}
    for n, task in enumerate(tasks):
        task_ref = f"{where}: task {task.get('id', f'#{n}')}"
        if project is not None and task.get("project") not in (None, project):
            raise AnnotationError(f"{task_ref}: belongs to project {task.get('project')}, not project {project}")
        sid, text = _task_sentence(task, task_ref)
        entry = by_id.setdefault(sid, SentenceVotes(sid, text))
        if isinstance(task.get("id"), int):
            entry.tasks.append(task["id"])
        annotations = task.get("annotations")
        annotations = [] if annotations is None else annotations
        if not isinstance(annotations, list):
            raise AnnotationError(f"{task_ref}: 'annotations' is not a list")
        for annotation in annotations:
            _add_annotation(entry, annotation, f"{task_ref} annotation", users)
    return list(by_id.values())


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
    if not votes:
        reasons = ([f"cancelled (skipped) by {', '.join(entry.cancelled)}"] if entry.cancelled else []) + \
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
) -> ImportReport:
    """Merge exported ``tasks`` into the store at ``labels_path`` (see the module docstring)."""
    entries = collect_votes(tasks, where, users, project)
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
    export_path: str | os.PathLike, labels_path: str | os.PathLike, *, project: int | None = None
) -> ImportReport:
    """Merge the Label Studio JSON export at ``export_path`` into the store (``toolkit ls import``)."""
    return import_tasks(read_export(export_path), labels_path, where=str(export_path), project=project)


# --- connection ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Where the server is and the key to use; ``repr`` never shows the key."""

    url: str
    api_key: str = field(repr=False)
    origin: str = "environment"

    @property
    def safe_url(self) -> str:
        """The URL without any user:password part, fit for messages."""
        parts = urlsplit(self.url)
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def config_file(env: Mapping[str, str] | None = None) -> Path:
    """The settings file: ``$TOOLKIT_LS_CONFIG`` or ``~/.config/toolkit/labelstudio.json``."""
    env = os.environ if env is None else env
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV]).expanduser()
    base = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "toolkit" / "labelstudio.json"


def _read_config_file(path: Path, explicit: bool) -> dict:
    if not path.is_file():
        if explicit:
            raise LabelStudioError(f"{path}: config file named by {CONFIG_ENV} does not exist")
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise LabelStudioError(f"{path}: not valid JSON; expected {{\"url\": ..., \"api_key\": ...}}") from None
    if not isinstance(data, dict):
        raise LabelStudioError(f"{path}: expected a JSON object with 'url' and 'api_key'")
    return data


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """URL and key from ``LABEL_STUDIO_URL`` / ``LABEL_STUDIO_API_KEY``, else from the config file."""
    env = os.environ if env is None else env
    path = config_file(env)
    data = _read_config_file(path, explicit=bool(env.get(CONFIG_ENV)))
    url = env.get("LABEL_STUDIO_URL") or data.get("url")
    key = env.get("LABEL_STUDIO_API_KEY") or data.get("api_key")
    if not url:
        raise LabelStudioError(f"no Label Studio URL: set LABEL_STUDIO_URL or \"url\" in {path}")
    if not key:
        raise LabelStudioError(f"no Label Studio API key: set LABEL_STUDIO_API_KEY or \"api_key\" in {path}")
    origin = "environment" if env.get("LABEL_STUDIO_URL") and env.get("LABEL_STUDIO_API_KEY") else str(path)
    return Settings(str(url).rstrip("/"), str(key), origin)


def optional_settings(env: Mapping[str, str] | None = None) -> Settings | None:
    """:func:`load_settings`, or ``None`` when neither URL nor key is configured anywhere."""
    env = os.environ if env is None else env
    data = _read_config_file(config_file(env), explicit=bool(env.get(CONFIG_ENV)))
    if not (env.get("LABEL_STUDIO_URL") or env.get("LABEL_STUDIO_API_KEY") or data):
        return None
    return load_settings(env)


def _detail(body: Any, key: str) -> str:
    if isinstance(body, dict):
        errors = body.get("validation_errors")
        if isinstance(errors, dict):
            errors = "; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in errors.items())
        body = errors or body.get("detail") or body.get("message") or body
    text = " ".join(re.sub(r"<[^>]*>", "", str(body)).split())[:240] if body else ""
    return f": {text.replace(key, '***')}" if text else ""


@contextmanager
def talking_to(settings: Settings, doing: str) -> Iterator[None]:
    """Turn the SDK's and httpx's exceptions into one-line :class:`LabelStudioError`s without the key."""
    import httpx
    from label_studio_sdk.core.api_error import ApiError

    url = settings.safe_url
    try:
        yield
    except ApiError as exc:
        if exc.status_code in (401, 403):
            raise LabelStudioError(f"Label Studio at {url} refused the API key (HTTP {exc.status_code}) while {doing}; "
                                   "check LABEL_STUDIO_API_KEY (and LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN on the server)") from None
        raise LabelStudioError(f"Label Studio at {url} answered HTTP {exc.status_code} while {doing}"
                               f"{_detail(exc.body, settings.api_key)}") from None
    except httpx.TimeoutException:
        raise LabelStudioError(f"Label Studio at {url} did not answer in time while {doing}") from None
    except httpx.HTTPError as exc:
        raise LabelStudioError(f"cannot reach Label Studio at {url} while {doing} ({type(exc).__name__}); "
                               "is the server running and the URL right?") from None
    except ToolkitError:
        raise
    except ValueError:
        raise LabelStudioError(f"{url} gave an unexpected answer while {doing}; is it a Label Studio server?") from None


@contextmanager
def connect(settings: Settings, timeout: float = 60.0) -> Iterator[Any]:
    """A label-studio-sdk 2.x client whose HTTP connections are closed on exit (no request made yet)."""
    import httpx
    from label_studio_sdk import LabelStudio

    with httpx.Client(timeout=timeout, follow_redirects=True) as http:
        yield LabelStudio(base_url=settings.url, api_key=settings.api_key, timeout=timeout, httpx_client=http)


def find_project(client: Any, settings: Settings, title: str) -> Any | None:
    """The project whose title is exactly ``title``, or ``None``."""
    with talking_to(settings, f"looking for project {title!r}"):
        for project in client.projects.list(title=title):
            if project.title == title:
                return project
    return None


def get_project(client: Any, settings: Settings, *, title: str | None = None, project_id: int | None = None) -> Any:
    """A project by id or exact title, checked to be a toolkit project; :class:`LabelStudioError` otherwise."""
    if project_id is not None:
        with talking_to(settings, f"reading project {project_id}"):
            project = client.projects.get(id=project_id)
    else:
        project = find_project(client, settings, title or DEFAULT_TITLE)
        if project is None:
            raise LabelStudioError(f"Label Studio at {settings.safe_url} has no project titled {title!r}; run 'toolkit ls push' first")
    check_project_config(project, settings)
    return project


def check_project_config(project: Any, settings: Settings) -> None:
    """Refuse a project whose labelling config is not the toolkit's."""
    found = config_choices(project.label_config or "<View/>")
    if found != (FROM_NAME, TO_NAME, SLUGS):
        what = "no toolkit choices" if found is None else f"choices {', '.join(found[2]) or '(none)'}"
        raise LabelStudioError(f"project {project.id} {project.title!r} at {settings.safe_url} has another labelling "
                               f"config ({what}); use another --title")


def existing_sentence_ids(client: Any, settings: Settings, project_id: int) -> set[str]:
    """Sentence ids of the tasks already in a project."""
    with talking_to(settings, f"listing tasks of project {project_id}"):
        return {str(t.data.get("id")) for t in client.tasks.list(project=project_id, fields="task_only", page_size=1000)
                if isinstance(t.data, dict) and t.data.get("id")}


@dataclass
class PushReport:
    """What :func:`push` did."""

    project_id: int
    title: str
    created: bool = False
    config_updated: bool = False
    imported: int = 0
    already_there: int = 0
    ml_backend: str = ""

    def lines(self) -> list[str]:
        how = "created" if self.created else ("config updated" if self.config_updated else "found")
        out = [f"project {self.project_id} {self.title!r} ({how}): {self.imported} tasks imported, "
               f"{self.already_there} already there"]
        if self.ml_backend:
            out.append(self.ml_backend)
        return out


def ensure_project(client: Any, settings: Settings, title: str) -> tuple[Any, bool, bool]:
    """Find the project by title or create it; ``(project, created, config_updated)``."""
    config = label_config()
    project = find_project(client, settings, title)
    if project is None:
        with talking_to(settings, f"creating project {title!r}"):
            project = client.projects.create(title=title, label_config=config, description=f"toolkit, taxonomy {TAXONOMY_VERSION}",
                                             expert_instruction=guideline_html(), show_instruction=True,
                                             show_collab_predictions=True, show_skip_button=True)
        return project, True, False
    check_project_config(project, settings)
    if project.label_config != config:
        with talking_to(settings, f"updating the labelling config of project {project.id}"):
            client.projects.update(id=project.id, label_config=config, expert_instruction=guideline_html())
        return project, False, True
    return project, False, False


def connect_ml_backend(client: Any, settings: Settings, project_id: int, url: str,
                       auth: tuple[str, str] | None = None) -> str:
    """Connect the ML backend at ``url`` to the project (once) and let opened tasks fetch its predictions.

    Label Studio 1.23 asks a backend for a task's prediction when the task is opened in the
    labelling stream (``/api/projects/N/next``) only if the project's ``model_version`` is the
    *title* of a connected backend and ``show_collab_predictions`` is on; it then calls ``/predict``
    for the tasks that have no prediction of the backend's current model version (so after a
    retrain, not for tasks pushed with that very version). Both are set here. Label Studio also
    creates a webhook to ``<url>/webhook`` for annotation events; with basic auth its
    ``Authorization`` header is set too, since webhooks do not use the backend's credentials.
    """
    with talking_to(settings, f"listing ML backends of project {project_id}"):
        known = [b for b in client.ml.list(project=project_id) if (b.url or "").rstrip("/") == url.rstrip("/")]
    if known:
        backend = known[0]
        message = f"ML backend {url} already connected (id {backend.id})"
    else:
        kwargs: dict[str, Any] = {}
        if auth:
            kwargs = {"auth_method": "BASIC_AUTH", "basic_auth_user": auth[0], "basic_auth_pass": auth[1]}
        with talking_to(settings, f"connecting ML backend {url}"):
            backend = client.ml.create(project=project_id, url=url, title=ML_TITLE, is_interactive=False, **kwargs)
        message = f"ML backend {url} connected (id {backend.id})"
    with talking_to(settings, f"turning on predictions when a task is opened in project {project_id}"):
        client.projects.update(id=project_id, model_version=backend.title or ML_TITLE, show_collab_predictions=True,
                               evaluate_predictions_automatically=True)
    if auth:
        hooks = _authorize_webhooks(client, settings, project_id, url, auth)
        message += f"; {hooks} webhook(s) given its basic auth" if hooks else "; no webhook for annotation events"
    return message


def _authorize_webhooks(client: Any, settings: Settings, project_id: int, url: str, auth: tuple[str, str]) -> int:
    import base64

    target = url.rstrip("/") + "/webhook"
    header = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    count = 0
    with talking_to(settings, f"setting the webhook's credentials in project {project_id}"):
        for hook in client.webhooks.list(project=project_id):
            if (hook.url or "").rstrip("/") == target:
                client.webhooks.update(id=hook.id, headers={**(hook.headers or {}), "Authorization": header})
                count += 1
    return count


def push(
    settings: Settings,
    tasks: Sequence[dict],
    *,
    title: str = DEFAULT_TITLE,
    ml_backend: str | None = None,
    ml_auth: tuple[str, str] | None = None,
) -> PushReport:
    """Create or find the project, set its config, import the tasks not already there, connect a backend."""
    with connect(settings) as client:
        project, created, updated = ensure_project(client, settings, title)
        report = PushReport(project.id, project.title, created, updated)
        existing = set() if created else existing_sentence_ids(client, settings, project.id)
        new = [t for t in tasks if t["data"]["id"] not in existing]
        report.already_there = len(tasks) - len(new)
        for start in range(0, len(new), IMPORT_BATCH):
            batch = new[start:start + IMPORT_BATCH]
            with talking_to(settings, f"importing tasks into project {project.id}"):
                client.projects.import_tasks(id=project.id, request=batch)
            report.imported += len(batch)
        if ml_backend:
            report.ml_backend = connect_ml_backend(client, settings, project.id, ml_backend, ml_auth)
    return report


def user_emails(client: Any, settings: Settings) -> dict[int, str]:
    """``{user id: email}`` so integer ``completed_by`` values name people; empty if not allowed."""
    try:
        with talking_to(settings, "listing users"):
            return {u.id: u.email for u in client.users.list() if getattr(u, "email", None)}
    except LabelStudioError:
        return {}


def download_export(client: Any, settings: Settings, project_id: int) -> bytes:
    """The project's JSON export (annotated tasks, skipped ones included) as bytes."""
    with talking_to(settings, f"exporting project {project_id}"):
        return b"".join(client.projects.exports.download_sync(id=project_id, export_type="JSON"))


def pull(
    settings: Settings,
    labels_path: str | os.PathLike,
    *,
    title: str | None = DEFAULT_TITLE,
    project_id: int | None = None,
    save_export: str | os.PathLike | None = None,
) -> ImportReport:
    """Export the project's annotations and merge them into the store as :func:`import_export` does."""
    with connect(settings) as client:
        project = get_project(client, settings, title=title, project_id=project_id)
        raw = download_export(client, settings, project.id)
        users = user_emails(client, settings)
    if save_export is not None:
        store.atomic_write_bytes(save_export, raw)
    where = f"project {project.id} at {settings.safe_url}"
    return import_tasks(parse_export(raw, where), labels_path, where=where, users=users, project=project.id)
