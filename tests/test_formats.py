"""The output formats (:mod:`toolkit.formats`): the canonical rebuild, markdown, HTML, jsonl, json, csv."""

import csv
import html
import io
import json
import re
from html.parser import HTMLParser

import pytest
from test_tags import PLANTED, SAMPLE, WRITTEN

from toolkit.formats import LOW_MARK, Writer, coverage, markdown, restructure
from toolkit.model import load_model
from toolkit.segment import segment_text
from toolkit.tags import tag_report
from toolkit.tagging import default_model_path
from toolkit.taxonomy import ORDER


@pytest.fixture(scope="module")
def tags():
    """The sample report tagged by the shipped model, flagged just above its least sure sentence (so
    some sentence is flagged whatever the model)."""
    model, report = load_model(default_model_path()), segment_text(SAMPLE, "sample.txt")[0]
    least = min(t.confidence for t in tag_report(model, report))
    return tag_report(model, report, min_confidence=least + 1e-4)  # confidences are rounded to 4 places


def test_restructure_is_canonical_and_complete(tags):
    sections = restructure(tags)
    assert [ORDER[s] for s in sections] == sorted(ORDER[s] for s in sections)
    assert sorted(t.index for items in sections.values() for t in items) == list(range(len(tags)))
    has, lacks = coverage(tags)
    assert set(has) | set(lacks) == set(ORDER) - {"other"} and not set(has) & set(lacks)


def test_markdown_lists_sections_in_order_and_shows_confidence(tags):
    text = markdown(tags)
    headings = [line[3:] for line in text.splitlines() if line.startswith("## ")]
    assert headings[0] == "总体概述"
    items = [line for line in text.splitlines() if line.startswith("- ")]
    assert len(items) == len(tags)
    assert sum(line.startswith(f"- {LOW_MARK} ") for line in items) == sum(t.low_confidence for t in tags) > 0
    by_text = {t.text: t for t in tags}
    for line in items:
        body, figure = line.rsplit(" `", 1)
        t = by_text[re.sub(r"\\(.)", r"\1", body.removeprefix(f"- {LOW_MARK} ").removeprefix("- "))]
        assert figure == f"{t.confidence:.2f}`"
    assert "覆盖: 有 " in text and "; 缺 " in text


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "md", "html"])
def test_writer_formats(tags, fmt):
    out = io.StringIO()
    with Writer(out, fmt, model_version="v1") as writer:
        writer.write(tags)
        writer.write(tags)
    text = out.getvalue()
    if fmt == "jsonl":
        rows = [json.loads(line) for line in text.splitlines()]
        assert len(rows) == 14 and set(rows[0]) == {"source", "report", "index", "text", "heading", "label",
                                                     "label_name", "confidence", "low_confidence"}
        assert rows[0]["source"] == "sample.txt"
    elif fmt == "json":
        doc = json.loads(text)
        assert doc["model_version"] == "v1" and len(doc["reports"]) == 2
        assert len(doc["reports"][0]["sentences"]) == 7 and "lacks" in doc["reports"][0]
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len(rows) == 14 and rows[0]["label_name"] == tags[0].label_name
    elif fmt == "md":
        assert text.count("\n# 20xx年") == 1 and text.startswith("# 20xx年") and text.count("<sub>报告 ") == 2
    else:
        page = _Page.parse(text)
        assert len(page.articles) == 2 and text.count("<!DOCTYPE html>") == 1 and "2 篇报告, 14 句" in text
    assert writer.reports == 2 and writer.sentences == 14


def test_jsonl_lines_equal_json_dumps(tags):
    import dataclasses
    import json

    from toolkit.tagging import jsonl_line

    odd = dataclasses.replace(tags[0], text='引号"\\反斜杠\t\x01 𠀀 \u2028', heading="", confidence=1.0, low_confidence=True)
    for t in [*tags, odd]:
        assert jsonl_line(t) == json.dumps(t.to_dict(), ensure_ascii=False) + "\n"


class _Page(HTMLParser):
    """Reads an HTML page and checks it as it goes: every tag closed in order, no script, no
    reference outside the page. Keeps the sentences (with their label, hover text and view), list
    items and articles."""

    VOID = {"meta", "br", "hr", "img", "input", "link"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.sentences: list[dict] = []
        self.items: list[str] = []
        self.articles: list[dict] = []
        self.view = self.article = ""
        self.tags: list[str] = []
        self._span: dict | None = None
        self._raw_li: list[str] | None = None

    @classmethod
    def parse(cls, text: str) -> "_Page":
        page = cls()
        page.feed(text)
        page.close()
        assert page.open == [], f"unclosed: {page.open}"
        return page

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        assert tag != "script" and not {"src", "href"} & set(attrs), (tag, attrs)
        if tag not in self.VOID:
            self.open.append(tag)
        if tag == "article":
            self.articles.append(attrs)
            self.article = attrs.get("id", "")
        if tag == "section":
            self.view = attrs.get("class", "")
        if tag == "span" and "data-label" in attrs:
            self._span = {**attrs, "text": "", "view": self.view, "report": self.article}
        if tag == "li":
            self._raw_li = []
        elif self._raw_li is not None:
            self._raw_li.append(self.get_starttag_text())

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:]}"
        self.open.pop()
        if tag == "span" and self._span is not None:
            self.sentences.append(self._span)
            self._span = None
        if tag == "li" and self._raw_li is not None:
            self.items.append("".join(self._raw_li))
            self._raw_li = None
        elif self._raw_li is not None:
            self._raw_li.append(f"</{tag}>")

    def handle_data(self, data):
        if self._span is not None:
            self._span["text"] += data
        if self._raw_li is not None:
            self._raw_li.append(html.escape(data, quote=False))


@pytest.fixture(scope="module")
def planted():
    model = load_model(default_model_path())
    return model.tag(PLANTED, source="planted_*file*.txt")


def test_markdown_renders_no_input_as_markup(planted):
    from markdown_it import MarkdownIt

    text = markdown(planted)
    rendered = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(text)
    page = _Page.parse(rendered)
    assert page.tags.count("h1") == 1 and page.tags.count("h2") == len(restructure(planted))
    assert page.tags.count("code") == len(planted)  # the confidence figures, nothing else
    assert not {"em", "strong", "b", "a", "table", "ol", "h3", "s", "del", "script"} & set(page.tags)
    assert page.tags.count("li") == len(planted) and page.tags.count("ul") == len(restructure(planted))
    shown = [html.unescape(re.sub(r"<code>.*?</code>|^⚠ ", "", item)).strip() for item in page.items]
    assert sorted(shown) == sorted(t.text for t in planted)
    assert "planted_*file*.txt" in html.unescape(rendered)


def test_markdown_heading_is_the_reports_own_title_with_the_id_in_small_print():
    model = load_model(default_model_path())
    text = markdown(model.tag(WRITTEN, source="a.txt"))
    lines = text.splitlines()
    assert lines[0] == "# 市公交集团工会2025年工作总结"
    assert re.fullmatch(r"<sub>报告 r[0-9a-f]{12} · 来源 a\\\.txt</sub>", lines[2])
    untitled = markdown(model.tag("20xx年,县总工会在县委的领导下,团结带领全县广大职工群众,较好地完成了全年各项工作任务。\n一、组织建设\n新建工会3家。\n"))
    assert untitled.startswith("# 20xx年,县总工会在县委的领导下,团结带领全县广大职工群众,较好地完成了全年各…\n")


REORDERED = ("2025年，区教育工会在区总工会的领导下，较好地完成了全年工作。\n"
             "一、丰富职工文化生活\n举办了教职工运动会和迎新春文艺晚会。\n"
             "二、加强工会组织建设\n完成了工会委员会换届选举，新发展会员45人。\n"
             "三、维护女职工权益\n“三八”节期间举办了女职工健康知识讲座。\n")


def test_markdown_keeps_the_numbering_and_says_where_sections_moved():
    model = load_model(default_model_path())
    tags = model.tag(REORDERED)
    assert [t.label for t in tags if t.text.startswith(("一", "二", "三"))] == ["culture", "organization", "women"]
    text = markdown(tags)
    assert "> 注: 各部分按标准顺序排列, 与原文顺序不同 (原文顺序: 总体概述 → 文体活动与职工文化 → 组织与自身建设 → 女职工工作)" in text
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == ["## 总体概述", "## 组织与自身建设 <sub>原文第 3 部分</sub>", "## 女职工工作 <sub>原文第 4 部分</sub>",
                        "## 文体活动与职工文化 <sub>原文第 2 部分</sub>"]
    assert "- 一、丰富职工文化生活 `" in text and "- 二、加强工会组织建设 `" in text
    assert "原文顺序" not in markdown(model.tag(SAMPLE))


def test_html_page_is_self_contained_valid_and_escaped(planted):
    out = io.StringIO()
    model = load_model(default_model_path())
    reordered = model.tag(REORDERED, source="b.txt")
    with Writer(out, "html", model_version="v1") as writer:
        writer.write(planted)
        writer.write(reordered)
    text = out.getvalue()
    page = _Page.parse(text)
    assert "http://" not in text and "https://" not in text and "@import" not in text and "url(" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "<script" not in text
    assert [a["id"] for a in page.articles] == [planted[0].report, reordered[0].report]
    for tags in (planted, reordered):
        by_text = {t.text: t for t in tags}
        written, canonical = ([s for s in page.sentences if s["report"] == tags[0].report and s["view"] == view]
                              for view in ("as-written", "canonical"))
        assert [s["text"] for s in written] == [t.text for t in tags]
        assert sorted(s["text"] for s in canonical) == sorted(by_text)
        assert [ORDER[s["data-label"]] for s in canonical] == sorted(ORDER[s["data-label"]] for s in canonical)
        for span in written + canonical:
            t = by_text[span["text"]]
            assert span["data-label"] == t.label
            assert span["title"].startswith(f"{t.label_name} ({t.label}) · 置信度 {t.confidence:.2f}")
    assert text.index('class="coverage"') < text.index('class="views"')
    assert "来源 b.txt" in text and "来源 planted_*file*.txt" in text
    low = [t for t in planted + reordered if t.low_confidence]
    marked = re.findall(r'<span class="warn" title="置信度低">⚠</span> <span class="s s-[a-z]+ low"', text)
    assert low and len(marked) == 2 * len(low) == text.count(" low\"")


def test_html_legend_names_each_section_and_its_colour():
    from toolkit.tagging import html_page_start
    from toolkit.taxonomy import COLOURS, LABELS

    head = html_page_start()
    items = re.findall(r'<li class="s-([a-z]+)">(.*?) <small>(.*?)</small></li>', head)
    assert items == [(lab.slug, lab.name, COLOURS[lab.slug][1]) for lab in LABELS]
    for slug, (colour, _) in COLOURS.items():
        assert f".s-{slug}{{background:{colour}}}" in head
