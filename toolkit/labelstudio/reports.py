"""Report mode: one Label Studio task per report, every sentence an item that carries one section.

The task shows the report's title and its sentences in reading order, headings included (a
heading is a sentence of the report and is labelled like the others), with Label Studio's
``Paragraphs`` (one item per sentence, ``granularity="paragraph"`` so that a selection snaps to
whole sentences) and ``ParagraphLabels`` (the 14 sections, their Chinese names, colours and
hotkeys from :mod:`toolkit.taxonomy`). Selecting a run of sentences and pressing one hotkey labels
the run; a sentence outside it keeps its label.

**Pre-labels.** Each sentence arrives as a region carrying the model's label, with its
confidence as the region's ``score`` and in the item's marker (``nameKey``): ``⚠ 62%`` for the
sentences under the model's low-confidence threshold, so the eye goes to them first. The task's
and the prediction's score is the least confident sentence's, so the Data Manager sorts reports
by how much they need a look.

**Reading an annotation back** (:func:`sentence_labels`): a sentence takes the label of the
regions that cover it (a region covers the items from ``start`` to ``end``; an item it touches
with no character is not covered). Where regions of several labels cover one sentence, the one
that differs from the sentence's pre-label wins: the annotator put a new region over the
pre-labelled one without deleting it. Two or more such labels are the annotator contradicting
themself: that sentence has no label from them and the reason is kept. A sentence whose
pre-labelled region the annotator left as it was counts as confirmed by them; one with no region
has no label from them. A sentence printed twice in a report is one sentence: the exports reader
reads its copies together by the same rule.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.context import sentence_records
from toolkit.errors import AnnotationError
from toolkit.labelstudio.config import config_controls, guideline_lines
from toolkit.segment import Report, is_report_title, text_id
from toolkit.taxonomy import COLOURS, LABELS, SLUGS, hint

REPORT_FROM = "sections"
"""Name of the ``ParagraphLabels`` control: ``from_name`` of every report-task result."""
REPORT_TO = "report"
"""Name of the ``Paragraphs`` object holding the sentences: ``to_name`` of every report-task result."""
REPORT_TYPE = "paragraphlabels"
LOW_MARK = "⚠"
HEADING_MARK = "标题"
MODES = ("sentence", "report")
"""What one Label Studio task holds: one sentence, or a whole report."""

REPORT_GUIDELINES: tuple[tuple[str, str], ...] = (
    ("整篇报告一次标注：每句话已由模型预标，只改错的。",
     "Label a whole report at once: every sentence is pre-labelled by the model; correct only what is wrong."),
    ("先看带 ⚠ 的句子：模型对它们最没把握。",
     "Look first at the sentences marked ⚠: the model is least sure of them."),
    ("选中连续几句（拖过它们），按一个快捷键，这几句都改为该板块；其他句子不变。",
     "Select a run of sentences (drag across them) and press one hotkey: they all take that section; the others stay."),
    ("改一句：选中这一句，按快捷键。没改的句子算作您确认了预标。",
     "To change one sentence, select it and press a hotkey. A sentence you leave as it is counts as confirmed by you."),
    ("无法判断整篇时请跳过；Ctrl+Enter 提交。",
     "If the report cannot be judged, skip it; Ctrl+Enter submits."),
)
"""What a report task asks of the annotator, in Chinese and in English."""


def report_title(report: Report, number: int = 0) -> str:
    """The title shown above a report: its file's name and number in the file, then its title line
    (among its first lines, past the page's own lines) or else its first words."""
    name = Path(report.source).name if report.source else report.id
    where = f"{name} 第{number}篇" if number else name
    lines = [p for i, p in enumerate(report.paragraphs) if p.strip() and i not in report.page_lines]
    title = next((p for p in lines[:5] if is_report_title(p)), "")
    lead = title or (lines[0][:24] + ("…" if len(lines[0]) > 24 else "") if lines else "")
    return f"{where}：{lead}" if lead else where


def report_config() -> str:
    """The labelling config XML of report tasks, generated from :data:`~toolkit.taxonomy.LABELS`."""
    view = ET.Element("View")
    ET.SubElement(view, "Header", value="$title", size="4")
    ET.SubElement(view, "Header", value="选中一句或连续几句，按快捷键改标；⚠ 为模型最没把握的句子 "
                  "Select a sentence or a run, press a hotkey; ⚠ marks the least sure", size="6")
    labels = ET.SubElement(view, "ParagraphLabels", name=REPORT_FROM, toName=REPORT_TO, choice="single")
    for label in LABELS:
        ET.SubElement(labels, "Label", value=label.slug, html=label.name, hotkey=label.hotkey,
                      background=COLOURS[label.slug][0], hint=hint(label.slug))
    ET.SubElement(view, "Paragraphs", name=REPORT_TO, value="$sentences", layout="dialogue", nameKey="mark",
                  textKey="text", granularity="paragraph")
    panel = ET.SubElement(ET.SubElement(view, "Collapse"), "Panel", value="标注说明 Guidelines")
    for zh, en in REPORT_GUIDELINES:
        ET.SubElement(panel, "Header", value=zh, size="6")
        ET.SubElement(panel, "Header", value=en, size="6")
    for line in guideline_lines()[6:]:
        ET.SubElement(panel, "Header", value=line, size="6")
    ET.indent(view)
    return ET.tostring(view, encoding="unicode")


def config_report_labels(xml: str) -> tuple[str, str, tuple[str, ...]] | None:
    """``(name, toName, values)`` of the config's toolkit ``ParagraphLabels``, or ``None`` (also
    for a config that does not parse)."""
    found = config_controls(xml, strict=False).get(("ParagraphLabels", REPORT_FROM))
    return (REPORT_FROM, *found) if found else None


def is_report_config(xml: str) -> bool:
    """Does ``xml`` label report tasks with the same slugs as :func:`report_config`?"""
    return config_report_labels(xml) == (REPORT_FROM, REPORT_TO, SLUGS)


def is_report_task(data: Mapping[str, Any]) -> bool:
    """A report task's data holds its ``sentences`` as a list that is not empty (a sentence task in
    a mixed project carries an empty one, :func:`pad_for_mixed`)."""
    return isinstance(data.get("sentences"), list) and bool(data["sentences"])


def mixed_config() -> str:
    """A labelling config for a project that holds both kinds of task: the report view, then the
    sentence view, its choice not required (a report task has no sentence to choose for)."""
    from toolkit.labelstudio.config import label_config

    report, sentence = ET.fromstring(report_config()), ET.fromstring(label_config())
    view = ET.Element("View")
    view.extend(child for child in report if child.tag != "Collapse")
    view.extend(sentence)
    for choices in view.iter("Choices"):
        choices.attrib.pop("required", None)
        choices.attrib.pop("requiredMessage", None)
    ET.indent(view)
    return ET.tostring(view, encoding="unicode")


def pad_for_mixed(task: dict) -> dict:
    """The task with the other kind's data keys, empty, as Label Studio requires every key of a
    project's config in every task: a sentence task gets ``title`` and ``sentences``, a report task
    ``id``, ``text``, ``heading`` and ``context``."""
    data = dict(task["data"])
    if is_report_task(data):
        for key in ("id", "text", "heading", "context"):
            data.setdefault(key, "")
    else:
        data.setdefault("title", "")
        data.setdefault("sentences", [])
    return {**task, "data": data}


# --- tasks and predictions ------------------------------------------------------------------


def mark(score: float, low: bool, is_heading: bool) -> str:
    """The marker shown beside a sentence: its confidence, after ``⚠`` for a low one and ``标题`` for a heading.

    >>> mark(0.62, True, False), mark(0.99, False, True), mark(0.97, False, False)
    ('⚠ 62%', '标题 99%', '97%')
    """
    shown = f"{score:.0%}"
    if low:
        return f"{LOW_MARK} {shown}"
    return f"{HEADING_MARK} {shown}" if is_heading else shown


def region(index: int, text: str, label: str, score: float | None = None, *, id: str | None = None) -> dict:
    """A ``ParagraphLabels`` result item labelling the sentence at ``index`` (the whole of its text)."""
    item: dict = {"id": id or f"s{index}", "from_name": REPORT_FROM, "to_name": REPORT_TO, "type": REPORT_TYPE,
                  "value": {"start": str(index), "end": str(index), "startOffset": 0, "endOffset": len(text),
                            "text": text, REPORT_TYPE: [label]}}
    if score is not None:
        item["score"] = score
    return item


def run_region(start: int, end: int, texts: Sequence[str], label: str, *, id: str = "run") -> dict:
    """A region labelling the sentences ``start``..``end`` (inclusive) at once, as a selection of
    that run and one hotkey make it."""
    return {"id": id, "from_name": REPORT_FROM, "to_name": REPORT_TO, "type": REPORT_TYPE,
            "value": {"start": str(start), "end": str(end), "startOffset": 0, "endOffset": len(texts[end]),
                      "text": "\n".join(texts[start:end + 1]), REPORT_TYPE: [label]}}


def report_prediction(sentences: Sequence[Mapping[str, Any]], version: str) -> dict:
    """The prediction of a report task from its ``data.sentences`` (``guess`` and ``score`` each):
    one region per guessed sentence, the score of the least confident."""
    result = [region(i, s["text"], s["guess"], s["score"]) for i, s in enumerate(sentences) if s.get("guess")]
    scores = [s["score"] for s in sentences if s.get("guess")]
    return {"model_version": version, "score": min(scores) if scores else 0.0, "result": result}


def sentence_item(record: Mapping[str, Any], label: str | None, score: float, low: bool) -> dict:
    """One item of a report task's ``sentences``: what is shown and what the import checks."""
    return {"id": record["id"], "text": record["text"], "heading": record["heading"],
            "is_heading": bool(record["is_heading"]), "guess": label or "", "score": score,
            "low": low, "mark": mark(score, low, bool(record["is_heading"]))}


def report_data(report: Report, items: Sequence[dict], title: str) -> dict:
    """A report task's ``data``: title, sentences and sortable columns (``score`` = the least
    confident sentence, ``low`` = how many are under the threshold, ``n`` = sentences)."""
    scores = [s["score"] for s in items if s["guess"]]
    return {"report": report.id, "title": title, "source": report.source, "sentences": list(items),
            "score": min(scores) if scores else 0.0, "low": sum(s["low"] for s in items), "n": len(items)}


def low_threshold(predictor: Any) -> float:
    """The confidence under which a sentence is flagged: the model's fitted threshold, else 0.5."""
    model = getattr(predictor, "model", None)
    return float(getattr(model, "min_confidence", 0.5))


def report_numbers(reports: Sequence[Report]) -> dict[str, int]:
    """Each report's number in its file (1 for the first), by report id."""
    count: dict[str, int] = {}
    out = {}
    for report in reports:
        count[report.source] = count.get(report.source, 0) + 1
        out[report.id] = count[report.source]
    return out


def build_report_tasks(reports: Sequence[Report], predictor: Any, *, skip_ids: Iterable[str] = (),
                       numbers: Mapping[str, int] | None = None) -> list[dict]:
    """One import task per report that has a sentence not in ``skip_ids``, in the order given, each
    pre-labelled by ``predictor`` (a :class:`~toolkit.labelstudio.tasks.Predictor`). A report is
    shown whole, labelled sentences included: their labels are checked again, not hidden.
    ``numbers`` (:func:`report_numbers` of all the reports read) number the reports in their titles
    when ``reports`` is a selection of them."""
    guesses = predictor.guess(reports)
    threshold = low_threshold(predictor)
    skip = set(skip_ids)
    numbers = report_numbers(reports) if numbers is None else numbers
    tasks = []
    for report in reports:
        records = sentence_records(report)
        if not records or all(r["id"] in skip for r in records):
            continue
        items = []
        for record in records:
            guess = guesses.get(record["id"])
            label, score = (guess.label, guess.score) if guess is not None else (None, 0.0)
            items.append(sentence_item(record, label, score, bool(label) and score < threshold))
        data = report_data(report, items, report_title(report, numbers.get(report.id, 0)))
        task: dict = {"data": data}
        if any(s["guess"] for s in items):
            task["predictions"] = [report_prediction(items, predictor.version)]
        tasks.append(task)
    return tasks


def records_from_data(data: Mapping[str, Any]) -> list[dict]:
    """Feature records of a report task's sentences known only from its data (not in the corpus):
    text, heading, neighbours and position as the task shows them."""
    items = [s for s in data.get("sentences") or [] if isinstance(s, dict) and str(s.get("text") or "").strip()]
    n = len(items)
    out = []
    for i, s in enumerate(items):
        text = str(s["text"])
        heading = str(s.get("heading") or "")
        out.append({"id": str(s.get("id") or text_id(text)), "text": text, "heading": heading, "section": heading,
                    "prev": str(items[i - 1]["text"]) if i else "", "next": str(items[i + 1]["text"]) if i + 1 < n else "",
                    "position": i / max(n - 1, 1), "paragraph_position": i / max(n - 1, 1),
                    "is_heading": bool(s.get("is_heading")), "first_paragraph": i == 0, "last_paragraph": i == n - 1})
    return out


# --- reading annotations back ---------------------------------------------------------------


@dataclass
class ReportReading:
    """What one annotation of a report task says, sentence by sentence (by position in the task)."""

    labels: dict[int, str] = field(default_factory=dict)
    contradictions: dict[int, list[str]] = field(default_factory=dict)


def task_sentences(data: Mapping[str, Any], where: str) -> list[tuple[str, str]]:
    """``(id, text)`` of each sentence of a report task, checked: an id must be the id of its text."""
    out = []
    for n, item in enumerate(data["sentences"]):
        sid = item.get("id") if isinstance(item, dict) else None
        text = item.get("text") if isinstance(item, dict) else None
        if not isinstance(sid, str) or not isinstance(text, str) or not text.strip():
            raise AnnotationError(f"{where}: sentence {n} has no 'id' and 'text': this export is of another project")
        if text_id(text) != sid:
            raise AnnotationError(f"{where}: sentence {n} id {sid!r} is not the id of its text: the task was edited "
                                  "or comes from another project")
        out.append((sid, text))
    return out


def _index(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise AnnotationError(f"{where}: region bound {value!r} is not a sentence index")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("/").isdigit():
        return int(value.strip().lstrip("/"))
    raise AnnotationError(f"{where}: region bound {value!r} is not a sentence index")


def region_span(item: Mapping[str, Any], texts: Sequence[str], where: str) -> tuple[list[int], str]:
    """The sentence positions a ``paragraphlabels`` result item covers, and its label."""
    value = item.get("value")
    if not isinstance(value, dict):
        raise AnnotationError(f"{where}: region has no 'value'")
    labels = value.get(REPORT_TYPE)
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise AnnotationError(f"{where}: region has no list of {REPORT_TYPE}")
    if len(labels) != 1:
        raise AnnotationError(f"{where}: {len(labels)} labels on one region; the toolkit's report project is single-choice")
    start, end = _index(value.get("start"), where), _index(value.get("end"), where)
    if not 0 <= start <= end < len(texts):
        raise AnnotationError(f"{where}: region covers sentences {start}..{end}, the task has {len(texts)}")
    covered = list(range(start, end + 1))
    start_offset, end_offset = value.get("startOffset"), value.get("endOffset")
    if isinstance(start_offset, int) and start_offset >= len(texts[start]) and len(covered) > 1:
        covered = covered[1:]
    if isinstance(end_offset, int) and end_offset <= 0 and len(covered) > 1:
        covered = covered[:-1]
    return covered, labels[0]


def result_regions(result: Any, texts: Sequence[str], where: str) -> list[tuple[list[int], str]]:
    """The regions of a report task's annotation or prediction ``result``, validated."""
    if not isinstance(result, list):
        raise AnnotationError(f"{where}: 'result' is not a list")
    out = []
    for item in result:
        if not isinstance(item, dict):
            raise AnnotationError(f"{where}: a result item is not an object")
        if item.get("from_name") != REPORT_FROM or item.get("type") != REPORT_TYPE:
            raise AnnotationError(f"{where}: result from control {item.get('from_name')!r} ({item.get('type')}), "
                                  f"not the toolkit's {REPORT_FROM!r} paragraph labels: this export is of another project")
        out.append(region_span(item, texts, where))
    return out


def sentence_labels(regions: Sequence[tuple[list[int], str]], prelabels: Sequence[set[str]]) -> ReportReading:
    """Each covered sentence's label under the rules of the module docstring: the regions' label;
    with several, the one that is not a pre-label of the sentence; two such, a contradiction."""
    by_position: dict[int, set[str]] = {}
    for covered, label in regions:
        for i in covered:
            by_position.setdefault(i, set()).add(label)
    reading = ReportReading()
    for i, labels in sorted(by_position.items()):
        if len(labels) == 1:
            reading.labels[i] = next(iter(labels))
            continue
        new = sorted(labels - prelabels[i])
        if len(new) == 1:
            reading.labels[i] = new[0]
        else:
            reading.contradictions[i] = sorted(labels)
    return reading


def prelabels_of(task: Mapping[str, Any], texts: Sequence[str], where: str) -> list[set[str]]:
    """The labels each sentence of a report task was pre-labelled with: its ``guess`` and those of
    every prediction the task holds (a backend may have added one after the push)."""
    out = [{str(s.get("guess"))} - {""} for s in task["data"]["sentences"]]
    for n, pred in enumerate(task.get("predictions") or []):
        if not isinstance(pred, dict) or not isinstance(pred.get("result"), list):
            continue
        try:
            regions = result_regions(pred["result"], texts, f"{where} prediction {n}")
        except AnnotationError:
            continue
        for covered, label in regions:
            for i in covered:
                out[i].add(label)
    return out


class CorpusSentenceIds:
    """The sentence ids of the reports under ``paths``, read on the first question (so that an
    export without report tasks never reads the corpus)."""

    def __init__(self, paths: Sequence[str | Path]) -> None:
        self.paths = list(paths)
        self._ids: set[str] | None = None

    def __contains__(self, sid: object) -> bool:
        if self._ids is None:
            from toolkit.corpus import load_sentences

            self._ids = {s.id for s in load_sentences(self.paths)}
        return sid in self._ids


# --- what labelling costs: actions in each mode ---------------------------------------------


@dataclass(frozen=True)
class Actions:
    """Actions an annotator takes: selections (a drag over sentences, or a click on one), key
    presses (a section's hotkey), submits (Ctrl+Enter), over a number of tasks and sentences."""

    tasks: int
    sentences: int
    wrong: int
    selections: int
    keys: int
    submits: int

    @property
    def total(self) -> int:
        return self.selections + self.keys + self.submits


def report_actions(pre: Sequence[str | None], gold: Sequence[str]) -> tuple[int, int]:
    """``(selections, key presses)`` to turn a report task's pre-labels ``pre`` into ``gold``,
    sentence by sentence in reading order: each stretch of consecutive sentences whose correct
    label is the same and holds a wrong pre-label is one selection (a drag across it: it may take
    in sentences that are right already, they keep their label) and one hotkey.

    >>> report_actions(["a", "a", "b", "b", "c"], ["a", "b", "b", "b", "b"])
    (1, 1)
    >>> report_actions(["a", "x", "a", "x"], ["a", "a", "a", "a"])
    (1, 1)
    >>> report_actions(["a", "b", "a"], ["b", "b", "c"])
    (2, 2)
    """
    if len(pre) != len(gold):
        raise ValueError("pre-labels and labels differ in length")
    runs = 0
    i = 0
    while i < len(gold):
        j = i
        while j + 1 < len(gold) and gold[j + 1] == gold[i]:
            j += 1
        if any(pre[k] != gold[k] for k in range(i, j + 1)):
            runs += 1
        i = j + 1
    return runs, runs


def count_actions(reports: Sequence[Report], guesses: Mapping[str, Any], gold: Mapping[str, str]) -> dict[str, Actions]:
    """Actions to bring the pre-labels ``guesses`` (``{sentence id: Guess}``) of ``reports`` to the
    labels ``gold`` in each mode: ``sentence`` (one task per distinct sentence: a hotkey where the
    pre-label is wrong, a submit each) and ``report`` (one task per report: :func:`report_actions`
    and a submit each). Sentences without a label in ``gold`` are left out of both."""
    seen: set[str] = set()
    distinct = wrong = 0
    selections = keys = sentences = report_wrong = tasks = 0
    for report in reports:
        ids = [s.id for s in report.sentences if s.id in gold]
        if not ids:
            continue
        pre = [getattr(guesses.get(sid), "label", None) for sid in ids]
        labels = [gold[sid] for sid in ids]
        s, k = report_actions(pre, labels)
        selections, keys, tasks = selections + s, keys + k, tasks + 1
        sentences += len(ids)
        report_wrong += sum(p != g for p, g in zip(pre, labels))
        for sid, p, g in zip(ids, pre, labels):
            if sid not in seen:
                seen.add(sid)
                distinct += 1
                wrong += p != g
    return {"sentence": Actions(distinct, distinct, wrong, 0, wrong, distinct),
            "report": Actions(tasks, sentences, report_wrong, selections, keys, tasks)}
