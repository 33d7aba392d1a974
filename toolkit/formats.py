"""Writing tagged reports: jsonl, json, csv, markdown and HTML, one report at a time, so memory
does not grow with the input; a report rebuilt in the canonical section order.

Every output shows the text as written in the input (the model reads it normalised). The formats
made for people escape it, so that nothing in a report renders as markup: markdown backslash-escapes
the ASCII marks it could read as markup (:func:`md_escape`), HTML uses :func:`html.escape`.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from dataclasses import dataclass
from typing import TextIO

from toolkit.tags import FIELDS, Tagged
from toolkit.taxonomy import COLOURS, LABELS, ORDER, label_name

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
    page: set[int] = set()
    for t in tags:
        lines[t.paragraph] = lines.get(t.paragraph, "") + t.text
        if t.page:
            page.add(t.paragraph)
    first = next((line for p, line in lines.items() if p not in page), next(iter(lines.values()), ""))
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
