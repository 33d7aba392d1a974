"""Tagged sentences: every sentence of a report with a standard section and a confidence, from
any model that predicts sentence records (:class:`toolkit.model.SectionModel`). Reports are read
from files here and tagged in batches; writing them out is :mod:`toolkit.formats`, whole runs
(files, workers, outputs) are :mod:`toolkit.tagging`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from toolkit.context import alone_record, sentence_records
from toolkit.segment import MAX_SENTENCE, Report, ReportIds, checked_text, text_id
from toolkit.segment import iter_reports as segment_reports
from toolkit.taxonomy import label_name
from toolkit.textio import expand_paths, iter_lines, normalize, source_name

if TYPE_CHECKING:
    from toolkit.model import SectionModel

FIELDS = ("source", "report", "index", "text", "heading", "label", "label_name", "confidence", "low_confidence")
"""Every output record names the file it comes from (``<stdin>`` for standard input)."""
DEFAULT_MIN_CONFIDENCE: float | None = None
"""``None``: flag below the threshold the model fitted (:attr:`~toolkit.model.SectionModel.min_confidence`)."""
BATCH_SENTENCES = 2000


@dataclass(frozen=True)
class Tagged:
    """One tagged sentence; ``text`` and ``heading`` as they stand in the input (not normalised)."""

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
    page: bool = False
    """The sentence is a line of the page around the report (:attr:`toolkit.segment.Report.page_lines`)."""

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
    """Tagged sentences per report from the labels and confidences of all their sentences, in order;
    text and heading as written in the input."""
    out, k = [], 0
    for report in reports:
        tags = []
        headings: dict[str, str] = {}
        for s in report.sentences:
            label, c = labels[k], float(confidence[k])
            if s.is_heading:
                headings[s.text] = s.as_written or s.text
            tags.append(Tagged(report=report.id, index=s.index, text=s.as_written or s.text,
                               heading=headings.get(s.heading, s.heading), label=label,
                               label_name=label_name(label), confidence=round(c, 4), low_confidence=c < min_confidence,
                               id=s.id, paragraph=s.paragraph, source=report.source,
                               page=s.paragraph in report.page_lines))
            k += 1
        out.append(tags)
    return out


def tag_reports(model: SectionModel, reports: Sequence[Report], *,
                min_confidence: float | None = DEFAULT_MIN_CONFIDENCE) -> list[list[Tagged]]:
    """Label every sentence of ``reports``, the features in model calls of at most
    :data:`BATCH_SENTENCES` records (few calls for many small reports, and bounded feature
    matrices for one huge report, a file without line breaks), each report's sequence over all
    its sentences at once."""
    records = [r for report in reports for r in sentence_records(report)]
    labels, confidence = model.predict(records, batch=BATCH_SENTENCES)
    threshold = model.min_confidence if min_confidence is None else min_confidence
    return assemble(reports, labels, confidence, min_confidence=threshold)


def tag_sentences(model: SectionModel, texts: Sequence[str], *, source: str = "",
                  min_confidence: float | None = DEFAULT_MIN_CONFIDENCE) -> list[Tagged]:
    """Label sentences known without their report (a list, one sentence each) by their text alone:
    no heading, neighbours or position speak for them (:func:`toolkit.context.alone_record`).
    ``index`` is the sentence's place in ``texts``; empty lines are skipped. The model reads each
    sentence normalised; ``Tagged.text`` is the sentence as given, stripped."""
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"texts must be a list of sentences, not one {type(texts).__name__} "
                        "(model.tag reads a report's text)")
    texts = [checked_text(t, f"sentence {i}") for i, t in enumerate(texts)]
    kept = [(i, normalize(t).strip(), t.strip()) for i, t in enumerate(texts)]
    kept = [k for k in kept if k[1]]
    records = [alone_record(t, id=text_id(t)) for _, t, _ in kept]
    labels, confidence = model.predict(records)
    threshold = model.alone_min_confidence if min_confidence is None else min_confidence
    report = text_id("\n".join(t for _, t, _ in kept), prefix="r") if kept else ""
    return [Tagged(report=report, index=i, text=written, heading="", label=label, label_name=label_name(label),
                   confidence=round(c, 4), low_confidence=c < threshold, id=r["id"], paragraph=i, source=source)
            for (i, _, written), r, label, c in zip(kept, records, labels, confidence)]


def tag_report(model: SectionModel, report: Report, *, min_confidence: float | None = DEFAULT_MIN_CONFIDENCE) -> list[Tagged]:
    """Label every sentence of ``report`` with the model's best section and its probability."""
    return tag_reports(model, [report], min_confidence=min_confidence)[0]


def iter_reports(paths: Iterable[str | os.PathLike], *, sentences: bool = True) -> Iterator[Report]:
    """Reports of every input, streamed line by line (no near-duplicate grouping: not needed to
    tag), so memory does not grow with the size of a file; report ids are unique across the
    inputs; ``sentences=False`` leaves cutting them into sentences to the caller (a worker process)."""
    ids = ReportIds()
    for path in expand_paths(paths):
        yield from segment_reports(iter_lines(path, as_written=True), source_name(path),
                                   sentences=sentences, ids=ids)


def tag_paths(model: SectionModel, paths: Iterable[str | os.PathLike], *,
              min_confidence: float | None = DEFAULT_MIN_CONFIDENCE, batch: int = BATCH_SENTENCES) -> Iterator[list[Tagged]]:
    """Tagged sentences, one list per report, streamed in input order; reports are predicted in
    batches of about ``batch`` sentences so memory stays bounded and per-call overhead small."""
    for group in report_batches(iter_reports(paths), batch):
        yield from tag_reports(model, group, min_confidence=min_confidence)
