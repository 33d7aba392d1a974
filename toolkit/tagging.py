"""Tagging new reports: every sentence gets a standard section and a confidence, and a report
can be rebuilt in the canonical section order. Writers for jsonl, json, csv, markdown and HTML
stream one report at a time, so memory does not grow with the input.

Every output shows the text as written in the input (the model reads it normalised). The formats
made for people escape it, so that nothing in a report renders as markup: markdown backslash-escapes
the ASCII marks it could read as markup (:func:`md_escape`), HTML uses :func:`html.escape`.
"""

from __future__ import annotations

import csv
import gc
import html
import io
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from toolkit.context import alone_record, sentence_records
from toolkit.errors import ToolkitError
from toolkit.fileio import temporary_beside
from toolkit.model import SectionModel, default_model_path, load_model
from toolkit.segment import MAX_SENTENCE, Report, ReportIds, is_junk, text_id
from toolkit.segment import iter_reports as segment_reports
from toolkit.taxonomy import COLOURS, LABELS, ORDER, label_name
from toolkit.textio import expand_paths, iter_lines, normalize

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
                               id=s.id, paragraph=s.paragraph, source=report.source))
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
    labels: list[str] = []
    confidence: list[float] = []
    if records:
        weighed = np.vstack([model.weighed_proba(records[start:start + BATCH_SENTENCES])
                             for start in range(0, len(records), BATCH_SENTENCES)])
        proba = model.finish_proba(records, weighed)
        best = proba.argmax(axis=1)
        classes = model.classes
        labels = [classes[i] for i in best]
        confidence = proba[np.arange(len(best)), best].tolist()
    threshold = model.min_confidence if min_confidence is None else min_confidence
    return assemble(reports, labels, confidence, min_confidence=threshold)


def tag_sentences(model: SectionModel, texts: Sequence[str], *, source: str = "",
                  min_confidence: float | None = DEFAULT_MIN_CONFIDENCE) -> list[Tagged]:
    """Label sentences known without their report (a list, one sentence each) by their text alone:
    no heading, neighbours or position speak for them (:func:`toolkit.context.alone_record`).
    ``index`` is the sentence's place in ``texts``; empty lines are skipped. The model reads each
    sentence normalised; ``Tagged.text`` is the sentence as given, stripped."""
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
        yield from segment_reports(iter_lines(path, as_written=True), "<stdin>" if path == "-" else path,
                                   sentences=sentences, ids=ids)


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


TITLE_MAX = 40


def report_title(tags: list[Tagged]) -> str:
    """The report's first line that is not the page around it (its own title when it has one),
    as written, cut at :data:`TITLE_MAX` characters."""
    lines: dict[int, str] = {}
    for t in tags:
        lines[t.paragraph] = lines.get(t.paragraph, "") + t.text
    first = next((line for line in lines.values() if not is_junk(normalize(line))), next(iter(lines.values()), ""))
    return first if len(first) <= TITLE_MAX else first[:TITLE_MAX] + "…"


def input_order(tags: list[Tagged]) -> list[str]:
    """The sections of the report (``other`` aside) in the order they first appear in the input."""
    return list(dict.fromkeys(t.label for t in tags if t.label != "other"))


def is_reordered(tags: list[Tagged]) -> bool:
    """Does the canonical order move any sentence (``other`` aside) from where it stood?"""
    indices = [t.index for items in restructure(tags).values() for t in items if t.label != "other"]
    return indices != sorted(indices)


_MD_PUNCTUATION = re.compile(r"([\\`*_\[\]()!<>#+\-.|~&$:@])")
"""ASCII marks that markdown (CommonMark and GitHub's extensions: tables, strikethrough, math,
emoji, mentions, autolinks) may read as markup; commas, semicolons and the like never are."""


def md_escape(text: str) -> str:
    """``text`` with every mark of :data:`_MD_PUNCTUATION` backslash-escaped (CommonMark allows it
    for any ASCII punctuation): it renders as itself, never as markup (emphasis, headings, lists,
    links, tables, code, inline HTML, entities).

    >>> md_escape("*组织* <b> #1")
    '\\\\*组织\\\\* \\\\<b\\\\> \\\\#1'
    """
    return _MD_PUNCTUATION.sub(r"\\\1", text)


LOW_MARK = "⚠"


def markdown(tags: list[Tagged]) -> str:
    """The report rebuilt in the standard sections, for people: its own title or first line as the
    heading, id and source in small print, each sentence as written with its confidence (low ones
    marked ⚠), and a note when the canonical order moved sentences (their numbering is the input's)."""
    if not tags:
        return ""
    first = tags[0]
    has, lacks = coverage(tags)
    lines = [f"# {md_escape(report_title(tags))}", "",
             f"<sub>报告 {md_escape(first.report)}" + (f" · 来源 {md_escape(first.source)}" if first.source else "") + "</sub>",
             "", "覆盖: 有 " + ("、".join(label_name(s) for s in has) or "无")
             + "; 缺 " + ("、".join(label_name(s) for s in lacks) or "无"), "",
             f"每句后为置信度; {LOW_MARK} 标出置信度低的句子。"]
    order = input_order(tags)
    sections = restructure(tags)
    if is_reordered(tags):
        lines += ["", "> 注: 各部分按标准顺序排列, 与原文顺序不同 (原文顺序: " + " → ".join(label_name(s) for s in order)
                  + "); 句首的编号是原文的编号。"]
    canonical = [s for s in sections if s != "other"]
    for slug, items in sections.items():
        moved = slug in order and order.index(slug) != canonical.index(slug)
        note = f" <sub>原文第 {order.index(slug) + 1} 部分</sub>" if moved else ""
        lines += ["", f"## {label_name(slug)}{note}", ""]
        for t in items:
            mark = f"{LOW_MARK} " if t.low_confidence else ""
            lines.append(f"- {mark}{md_escape(t.text)} `{t.confidence:.2f}`")
    return "\n".join(lines) + "\n"


_CSS = """body{font-family:system-ui,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;margin:0 auto;
max-width:72rem;padding:1rem 1.5rem;line-height:1.8;color:#1f2937}
h1{font-size:1.4rem}h2{font-size:1.25rem;margin-bottom:0}h3{font-size:1rem;color:#4b5563}h4{margin:.8rem 0 .2rem}
.legend{display:flex;flex-wrap:wrap;gap:.3rem;padding:0;list-style:none}.legend li{padding:0 .4rem;border-radius:.2rem}
.legend small{color:#374151}.warn{color:#b91c1c;font-weight:bold}
.report{border-top:2px solid #9ca3af;margin-top:2rem}.meta{color:#6b7280;margin:0}
.coverage{background:#f9fafb;padding:.3rem .6rem}
.views{display:grid;grid-template-columns:1fr 1fr;gap:2rem}@media(max-width:50rem){.views{grid-template-columns:1fr}}
.s{border-radius:.2rem;padding:0 .1rem}.low{outline:2px dashed #dc2626}.conf{color:#6b7280;font-size:.8em}
ul.sentences{padding-left:1.2rem;margin:0}
"""
_CSS += "".join(f".s-{slug}{{background:{colour}}}" for slug, (colour, _) in COLOURS.items()) + "\n"


def _h(text: str) -> str:
    return html.escape(text, quote=True)


def _sentence_html(t: Tagged) -> str:
    low = " · 置信度低" if t.low_confidence else ""
    hover = f"{t.label_name} ({t.label}) · 置信度 {t.confidence:.2f}{low}"
    mark = f'<span class="warn" title="置信度低">{LOW_MARK}</span> ' if t.low_confidence else ""
    return (f'{mark}<span class="s s-{t.label}{" low" if t.low_confidence else ""}" title="{_h(hover)}" '
            f'data-label="{t.label}">{_h(t.text)}</span>')


def html_page_start(model_version: str = "") -> str:
    """The head of the HTML page (inline style, no script, nothing fetched) and the section legend."""
    legend = "".join(f'<li class="s-{lab.slug}">{_h(lab.name)} <small>{_h(COLOURS[lab.slug][1])}</small></li>' for lab in LABELS)
    version = f" · 模型 {_h(model_version)}" if model_version else ""
    return ('<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>工作总结: 标准部分</title>\n<style>\n{_CSS}</style>\n</head>\n<body>\n<header>\n"
            f"<h1>工作总结: 每句的标准部分</h1>\n<p class=\"meta\">颜色标出每句的部分; 鼠标停在句子上显示部分与置信度;"
            f" {LOW_MARK} 与虚线框标出置信度低的句子{version}</p>\n<ul class=\"legend\">{legend}</ul>\n</header>\n<main>\n")


def html_page_end(reports: int, sentences: int) -> str:
    """The end of the HTML page: what it holds."""
    return f"</main>\n<footer><p class=\"meta\">{reports} 篇报告, {sentences} 句</p></footer>\n</body>\n</html>\n"


def html_report(tags: list[Tagged]) -> str:
    """One report as an ``<article>``: its title, id and source, its section coverage, then the
    report as written (paragraphs in input order) beside the report rebuilt in canonical order."""
    if not tags:
        return ""
    first = tags[0]
    has, lacks = coverage(tags)
    source = f" · 来源 {_h(first.source)}" if first.source else ""
    out = [f'<article class="report" id="{_h(first.report)}">', f"<h2>{_h(report_title(tags))}</h2>",
           f'<p class="meta"><small>报告 {_h(first.report)}{source}</small></p>',
           '<p class="coverage">覆盖: 有 ' + (" ".join(f'<span class="s s-{s}">{_h(label_name(s))}</span>' for s in has) or "无")
           + "; 缺 " + ("、".join(_h(label_name(s)) for s in lacks) or "无") + "</p>",
           '<div class="views">', '<section class="as-written">', "<h3>原文</h3>"]
    paragraphs: dict[int, list[str]] = {}
    for t in tags:
        paragraphs.setdefault(t.paragraph, []).append(_sentence_html(t))
    out += ["<p>" + "".join(spans) + "</p>" for spans in paragraphs.values()]
    out += ["</section>", '<section class="canonical">', "<h3>按标准顺序</h3>"]
    if is_reordered(tags):
        out.append('<p class="meta">部分的顺序与原文不同; 句首的编号是原文的编号。</p>')
    for slug, items in restructure(tags).items():
        out.append(f'<h4><span class="s s-{slug}">{_h(label_name(slug))}</span></h4>')
        out.append('<ul class="sentences">' + "".join(
            f'<li>{_sentence_html(t)} <span class="conf">{t.confidence:.2f}</span></li>' for t in items) + "</ul>")
    out += ["</section>", "</div>", "</article>"]
    return "\n".join(out) + "\n"


FORMATS = ("jsonl", "json", "csv", "md", "html")
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
    elif fmt == "html":
        text = html_report(tags)
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
    """Streams tagged reports to ``out`` in one format: jsonl, json, csv, md, or html (one page
    for the whole run)."""

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
        elif self.fmt == "html":
            self.out.write(html_page_start(self.model_version))
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
        elif self.fmt == "html":
            self.out.write(html_page_end(self.reports, self.sentences))
        self.out.flush()


@dataclass(frozen=True)
class TagRun:
    """What one :func:`tag_files` run tagged, and with which model."""

    reports: int
    sentences: int
    model: str
    model_version: str

    def summary(self) -> str:
        reports = f"{self.reports} report" + ("" if self.reports == 1 else "s")
        sentences = f"{self.sentences} sentence" + ("" if self.sentences == 1 else "s")
        return f"tagged {sentences} in {reports} with {self.model} ({self.model_version})"


def _close_quietly(handle) -> None:
    """Close ``handle``; a failure to flush what is left (a full disk) is already being reported."""
    try:
        handle.close()
    except OSError:
        pass


def tag_files(paths: Sequence[str | os.PathLike], out: TextIO, *, model_path: str | os.PathLike | None = None,
              fmt: str = "jsonl", output: str | os.PathLike | None = None,
              min_confidence: float | None = DEFAULT_MIN_CONFIDENCE, sentences: bool = False, jobs: int = 1,
              backend: str | None = None, scheduler: str | None = None, dask_timeout: float | None = None,
              progress: Callable[[int, int], None] | None = None) -> TagRun:
    """Tag the reports in ``paths`` (``sentences``: one sentence a line, each alone) and write them
    in ``fmt`` to ``out``, or to the file ``output``, which is replaced only once the whole run is
    written (a failed run leaves the old file and no temporary one). ``jobs`` > 1 or the dask
    ``backend`` tags on worker processes (:mod:`toolkit.parallel`), with the same output;
    ``dask_timeout`` is how long a Dask cluster may be without workers before the run stops (default
    :data:`toolkit.parallel.DASK_TIMEOUT`). ``progress(reports, sentences)`` is called after each report.

    The model file is a NumPy archive (nothing in it can run code), so no model is warned about
    here. The loaded model and jieba's dictionary live until the process ends, so they are moved
    out of the garbage collector's sight (``gc.freeze``)."""
    path = Path(model_path) if model_path else default_model_path()
    if model_path and not path.is_file():
        raise ToolkitError(f"{path}: model file not found")
    parallel = (jobs > 1 or backend == "dask") and not sentences
    if parallel:
        from toolkit.parallel import default_backend, shared_model, tag_parallel  # parallel imports this module

        backend = backend or default_backend()
        ref, model = shared_model(path, backend)
    else:
        model = load_model(path)
    model.warm()
    gc.freeze()
    tmp = None
    if output:
        target = Path(output)
        tmp = temporary_beside(target)
        out = open(tmp or target, "w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="")
    if sentences:
        stream = (tag_sentences(model, list(iter_lines(p, as_written=True)), source=p, min_confidence=min_confidence)
                  for p in expand_paths(paths))
    elif parallel:
        stream = tag_parallel(ref, paths, jobs=jobs, backend=backend, scheduler=scheduler,
                              min_confidence=min_confidence, quiet=True, fmt=fmt,
                              **({"timeout": dask_timeout} if dask_timeout is not None else {}))
    else:
        stream = tag_paths(model, paths, min_confidence=min_confidence)
    try:
        with Writer(out, fmt, model_version=model.version) as writer:
            for tags in stream:
                writer.write(tags)
                if progress is not None:
                    progress(writer.reports, writer.sentences)
        if output:
            out.close()
            if tmp:
                os.replace(tmp, output)
    except BaseException as exc:
        if output:
            _close_quietly(out)
            if tmp:
                tmp.unlink(missing_ok=True)
            if isinstance(exc, OSError) and not exc.filename:  # a full disk: name the file, not the device
                raise ToolkitError(f"{output}: cannot write ({exc.strerror or exc}); nothing was written") from None
        raise
    return TagRun(writer.reports, writer.sentences, path.name, model.version)
