"""Tagging new reports: every sentence gets a standard section and a confidence, and a report
can be rebuilt in the canonical section order. Writers for jsonl, json, csv and markdown stream
one report at a time, so memory does not grow with the input."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from toolkit.context import sentence_records
from toolkit.model import SectionModel, default_model_path
from toolkit.segment import MAX_SENTENCE, Report
from toolkit.segment import iter_reports as segment_reports
from toolkit.taxonomy import LABELS, ORDER, label_name
from toolkit.textio import expand_paths, iter_lines

FIELDS = ("source", "report", "index", "text", "heading", "label", "label_name", "confidence", "low_confidence")
"""Every output record names the file it comes from (``<stdin>`` for standard input)."""
DEFAULT_MIN_CONFIDENCE: float | None = None
"""``None``: flag below the threshold the model fitted (:attr:`~toolkit.model.SectionModel.min_confidence`)."""
BATCH_SENTENCES = 2000


@dataclass(frozen=True)
class Tagged:
    """One tagged sentence."""

    report: str
    index: int
    text: str
    heading: str
    label: str
    label_name: str
    confidence: float
    low_confidence: bool
    id: str = ""
    paragraph: int = 0
    source: str = ""

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in FIELDS}


def report_batches(reports: Iterable[Report], size: int = BATCH_SENTENCES) -> Iterator[list[Report]]:
    """Consecutive reports grouped into batches of about ``size`` sentences. A report not yet cut
    into sentences counts as its paragraphs, or as the fewest sentences its length allows (none is
    longer than :data:`~toolkit.segment.MAX_SENTENCE`) when that is more: a file without line
    breaks is then spread over several batches instead of filling one."""
    pending: list[Report] = []
    count = 0
    for report in reports:
        pending.append(report)
        count += len(report.sentences) or max(len(report.paragraphs), sum(map(len, report.paragraphs)) // MAX_SENTENCE)
        if count >= size:
            yield pending
            pending, count = [], 0
    if pending:
        yield pending


def assemble(reports: Sequence[Report], labels: Sequence[str], confidence: Sequence[float], *,
             min_confidence: float = 0.5) -> list[list[Tagged]]:
    """Tagged sentences per report from the labels and confidences of all their sentences, in order."""
    out, k = [], 0
    for report in reports:
        tags = []
        for s in report.sentences:
            label, c = labels[k], float(confidence[k])
            tags.append(Tagged(report=report.id, index=s.index, text=s.text, heading=s.heading, label=label,
                               label_name=label_name(label), confidence=round(c, 4), low_confidence=c < min_confidence,
                               id=s.id, paragraph=s.paragraph, source=report.source))
            k += 1
        out.append(tags)
    return out


def tag_reports(model: SectionModel, reports: Sequence[Report], *,
                min_confidence: float | None = DEFAULT_MIN_CONFIDENCE) -> list[list[Tagged]]:
    """Label every sentence of ``reports``, in model calls of at most :data:`BATCH_SENTENCES`
    records: few calls for many small reports, and bounded feature matrices for one huge report
    (a file without line breaks)."""
    records = [r for report in reports for r in sentence_records(report)]
    labels: list[str] = []
    confidence: list[float] = []
    for start in range(0, len(records), BATCH_SENTENCES):
        batch_labels, batch_confidence = model.predict(records[start:start + BATCH_SENTENCES])
        labels += batch_labels
        confidence += batch_confidence
    threshold = model.min_confidence if min_confidence is None else min_confidence
    return assemble(reports, labels, confidence, min_confidence=threshold)


def tag_sentences(model: SectionModel, texts: Sequence[str], *, source: str = "",
                  min_confidence: float | None = DEFAULT_MIN_CONFIDENCE) -> list[Tagged]:
    """Label sentences known without their report (a list, one sentence each) by their text alone:
    no heading, neighbours or position speak for them (:func:`toolkit.context.alone_record`).
    ``index`` is the sentence's place in ``texts``; empty lines are skipped."""
    from toolkit.context import alone_record
    from toolkit.segment import text_id
    from toolkit.textio import normalize

    kept = [(i, normalize(t).strip()) for i, t in enumerate(texts)]
    kept = [(i, t) for i, t in kept if t]
    records = [alone_record(t, id=text_id(t)) for _, t in kept]
    labels, confidence = model.predict(records)
    threshold = model.alone_min_confidence if min_confidence is None else min_confidence
    report = text_id("\n".join(t for _, t in kept), prefix="r") if kept else ""
    return [Tagged(report=report, index=i, text=t, heading="", label=label, label_name=label_name(label),
                   confidence=round(c, 4), low_confidence=c < threshold, id=r["id"], paragraph=i, source=source)
            for (i, t), r, label, c in zip(kept, records, labels, confidence)]


def tag_report(model: SectionModel, report: Report, *, min_confidence: float | None = DEFAULT_MIN_CONFIDENCE) -> list[Tagged]:
    """Label every sentence of ``report`` with the model's best section and its probability."""
    return tag_reports(model, [report], min_confidence=min_confidence)[0]


def iter_reports(paths: Iterable[str | os.PathLike], *, sentences: bool = True) -> Iterator[Report]:
    """Reports of every input, streamed line by line (no near-duplicate grouping: not needed to
    tag), so memory does not grow with the size of a file; ``sentences=False`` leaves cutting
    them into sentences to the caller (a worker process)."""
    for path in expand_paths(paths):
        yield from segment_reports(iter_lines(path), "<stdin>" if path == "-" else path, sentences=sentences)


def tag_paths(model: SectionModel, paths: Iterable[str | os.PathLike], *,
              min_confidence: float | None = DEFAULT_MIN_CONFIDENCE, batch: int = BATCH_SENTENCES) -> Iterator[list[Tagged]]:
    """Tagged sentences, one list per report, streamed in input order; reports are predicted in
    batches of about ``batch`` sentences so memory stays bounded and per-call overhead small."""
    for group in report_batches(iter_reports(paths), batch):
        yield from tag_reports(model, group, min_confidence=min_confidence)


def restructure(tags: list[Tagged]) -> dict[str, list[Tagged]]:
    """Sentences grouped by section, sections in canonical order, sentences in report order."""
    sections: dict[str, list[Tagged]] = {}
    for tag in sorted(tags, key=lambda t: (ORDER[t.label], t.index)):
        sections.setdefault(tag.label, []).append(tag)
    return sections


def coverage(tags: list[Tagged]) -> tuple[list[str], list[str]]:
    """Standard sections the report has and lacks, in canonical order (``other`` not counted)."""
    present = {t.label for t in tags}
    has = [lab.slug for lab in LABELS if lab.slug in present and lab.slug != "other"]
    lacks = [lab.slug for lab in LABELS if lab.slug not in present and lab.slug != "other"]
    return has, lacks


def markdown(tags: list[Tagged]) -> str:
    """The report rebuilt in the standard sections; low-confidence sentences marked with (?)."""
    if not tags:
        return ""
    has, lacks = coverage(tags)
    lines = [f"# 报告 {tags[0].report}" + (f" ({tags[0].source})" if tags[0].source else ""), ""]
    lines.append("覆盖: 有 " + ("、".join(label_name(s) for s in has) or "无")
                 + "; 缺 " + ("、".join(label_name(s) for s in lacks) or "无"))
    for slug, items in restructure(tags).items():
        lines += ["", f"## {label_name(slug)}", ""]
        for t in items:
            mark = " (?)" if t.low_confidence else ""
            lines.append(f"- {t.text}{mark} <!-- {t.confidence:.2f} -->")
    return "\n".join(lines) + "\n"


FORMATS = ("jsonl", "json", "csv", "md")
_quote = json.encoder.encode_basestring


def jsonl_line(t: Tagged) -> str:
    """``json.dumps(t.to_dict(), ensure_ascii=False)`` plus a newline, without building the dict
    (a third of the time; the test checks they are equal)."""
    return (f'{{"source": {_quote(t.source)}, "report": {_quote(t.report)}, "index": {t.index}, "text": {_quote(t.text)}, '
            f'"heading": {_quote(t.heading)}, "label": {_quote(t.label)}, "label_name": {_quote(t.label_name)}, '
            f'"confidence": {float(t.confidence)!r}, "low_confidence": {"true" if t.low_confidence else "false"}}}\n')


@dataclass(frozen=True)
class Formatted:
    """One report already rendered in an output format (so a worker process can do it)."""

    fmt: str
    text: str
    sentences: int


def render(tags: list[Tagged], fmt: str) -> Formatted:
    """One report in ``fmt``, without the separators that depend on its place in the output."""
    if fmt == "jsonl":
        text = "".join(map(jsonl_line, tags))
    elif fmt == "csv":
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows([getattr(t, k) for k in FIELDS] for t in tags)
        text = buffer.getvalue()
    elif fmt == "md":
        text = markdown(tags)
    elif fmt == "json":
        has, lacks = coverage(tags)
        doc = {"report": tags[0].report, "source": tags[0].source, "has": has, "lacks": lacks,
               "sections": {s: [t.index for t in items] for s, items in restructure(tags).items()},
               "sentences": [t.to_dict() for t in tags]}
        text = json.dumps(doc, ensure_ascii=False)
    else:
        raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")
    return Formatted(fmt, text, len(tags))


class Writer:
    """Streams tagged reports to ``out`` in one format: jsonl, json, csv or md."""

    def __init__(self, out: TextIO, fmt: str, *, model_version: str = ""):
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}")
        self.out, self.fmt, self.model_version = out, fmt, model_version
        self.reports = self.sentences = 0

    def __enter__(self) -> "Writer":
        if self.fmt == "json":
            self.out.write('{"model_version": ' + json.dumps(self.model_version) + ', "reports": [')
        elif self.fmt == "csv":
            csv.writer(self.out, lineterminator="\n").writerow(FIELDS)
        return self

    def write(self, report: list[Tagged] | Formatted) -> None:
        """Write one report: its tagged sentences, or the report already rendered in this format."""
        if not isinstance(report, Formatted):
            if not report:
                return
            report = render(report, self.fmt)
        if report.fmt != self.fmt:
            raise ValueError(f"a report rendered as {report.fmt} cannot go to a {self.fmt} output")
        if not report.sentences:
            return
        if self.fmt == "md" and self.reports:
            self.out.write("\n")
        elif self.fmt == "json":
            self.out.write(("," if self.reports else "") + "\n")
        self.out.write(report.text)
        self.reports += 1
        self.sentences += report.sentences

    def __exit__(self, *exc) -> None:
        if self.fmt == "json":
            self.out.write("\n]}\n")
        self.out.flush()
