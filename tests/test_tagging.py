import csv
import html
import io
import json
import re
from html.parser import HTMLParser

import pytest

from toolkit.model import load_model
from toolkit.segment import segment_text
from toolkit.tagging import LOW_MARK, Writer, coverage, default_model_path, markdown, restructure, tag_report
from toolkit.taxonomy import ORDER

SAMPLE = """20xx年,县医院工会在院党委的正确领导下,较好地完成了全年各项工作任务。
一、加强工会自身建设
年内完成了工会委员会换届选举,新发展会员45人。
二、关心职工生活
春节前走访慰问困难职工18户,发放慰问金3.6万元。
三、明年工作打算
明年,我们将继续加强工会组织建设,深入开展劳动竞赛。
"""


@pytest.fixture(scope="module")
def tags():
    model = load_model(default_model_path())
    return tag_report(model, segment_text(SAMPLE, "sample.txt")[0], min_confidence=0.95)


def test_every_sentence_is_tagged_once_with_confidence(tags):
    assert [t.index for t in tags] == list(range(7))
    assert all(0 < t.confidence <= 1 and t.label_name for t in tags)
    assert all(t.low_confidence == (t.confidence < 0.95) for t in tags)
    assert tags[0].label == "overview"
    assert tags[4].label == "assistance"


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


def test_sentences_alone_are_tagged_by_their_text(capsys, tmp_path):
    from toolkit.cli import main
    from toolkit.tagging import tag_sentences

    model = load_model(default_model_path())
    lines = ["组织职工参加“安康杯”知识竞赛，开展隐患排查。", "", "\u3000三八节期间组织女职工开展健康讲座。 "]
    tagged = tag_sentences(model, lines, source="list.txt")
    assert [t.index for t in tagged] == [0, 2] and [t.label for t in tagged] == ["safety", "women"]
    assert all(t.heading == "" and t.low_confidence == (t.confidence < model.alone_min_confidence) for t in tagged)
    path = tmp_path / "list.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["tag", "--sentences", str(path)]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["label"] for r in out] == ["safety", "women"]
    assert [r["text"] for r in out] == [t.text for t in tagged] == ["组织职工参加“安康杯”知识竞赛，开展隐患排查。",
                                                                   "三八节期间组织女职工开展健康讲座。"]


def test_every_record_names_its_source_file(tmp_path, capsys):
    from toolkit.cli import main

    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(SAMPLE, encoding="utf-8")
    b.write_text(SAMPLE.replace("县医院", "县中学"), encoding="utf-8")
    assert main(["tag", str(a), str(b)]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["source"] for r in records} == {str(a), str(b)}
    assert [r["source"] for r in records] == sorted(r["source"] for r in records)  # in input order


# --- outputs made for people who read them ---------------------------------------------------

WRITTEN = ("首页 > 范文 > 工作总结\r\n"
           "市公交集团工会2025年工作总结\r\n"
           "2025年，市公交集团工会在市总工会的领导下，团结带领全体职工 较好地完成了全年各项任务！\r\n"
           "一、加强组织建设（夯实基础）\r\n"
           "\u3000\u3000全年新发展会员４５人，入会率达到98%；建成职工之家3个。\r\n"
           "二、关心职工生活\r\n"
           "春节前走访慰问困难职工18户，发放慰问金3.6万元。\r\n")
"""A report as people type it: full-width punctuation and digits, ideographic spaces, a space
inside a sentence, CRLF line ends, the page's own lines."""

PLANTED = ("20xx年,县总工会在县委的领导下开展工作。\n"
           "一、加强组织建设\n"
           "全年发展*组织*会员45人,评选_先进_集体3个。\n"
           "会员服务卡<b>全覆盖</b>,办理`2000`张。\n"
           "# 工会信息化平台上线运行。\n"
           "职工之家[示范点](见附件)建成5个 | 达标率100%。\n"
           "<script>alert(1)</script>\n"
           "1. 建立&nbsp;会员实名制数据库。\n")
"""Sentences that would render as markup if they were not escaped."""


def _no_spaces(text: str) -> str:
    return re.sub(r"\s", "", text)


def _check_as_written(texts: list[str], source: str) -> None:
    """Every sentence is a piece of the input as written, and together they hold all of its
    non-space characters in order."""
    assert all(t and t in source for t in texts)
    assert "".join(map(_no_spaces, texts)) == _no_spaces(source)


def test_model_tag_keeps_the_text_as_written():
    model = load_model(default_model_path())
    tags = model.tag(WRITTEN)
    _check_as_written([t.text for t in tags], WRITTEN)
    assert "2025年，市公交集团工会在市总工会的领导下，团结带领全体职工 较好地完成了全年各项任务！" in [t.text for t in tags]
    assert {t.heading for t in tags} >= {"一、加强组织建设（夯实基础）", "二、关心职工生活"}
    normalised = model.tag(WRITTEN.translate({0xFF0C: ",", 0xFF01: "!", 0xFF08: "(", 0xFF09: ")", 0xFF1B: ";",
                                              0xFF14: "4", 0xFF15: "5", 0x3000: " "}))
    assert [(t.id, t.label, t.confidence) for t in tags] == [(t.id, t.label, t.confidence) for t in normalised]


def test_zero_width_characters_stay_in_the_text_as_written():
    model = load_model(default_model_path())
    text = "一、加强组织建设\n新发展\u200b会员45人，建会3家。\n"
    tags = model.tag(text)
    assert tags[1].text == "新发展\u200b会员45人，建会3家。"
    assert tags[1].id == model.tag("一、加强组织建设\n新发展会员45人,建会3家。\n")[1].id


def _cli_output(tmp_path, paths, fmt: str, capsys) -> str:
    from toolkit.cli import main

    out = tmp_path / f"out.{fmt}"
    assert main(["tag", *map(str, paths), "--format", fmt, "--output", str(out)]) == 0
    capsys.readouterr()
    return out.read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "md", "html"])
def test_every_format_shows_the_text_as_written(tmp_path, capsys, fmt):
    source = tmp_path / "written.txt"
    source.write_bytes(WRITTEN.encode("gb18030"))
    text = _cli_output(tmp_path, [source], fmt, capsys)
    if fmt == "jsonl":
        texts = [json.loads(line)["text"] for line in text.splitlines()]
    elif fmt == "json":
        texts = [t["text"] for report in json.loads(text)["reports"] for t in report["sentences"]]
    elif fmt == "csv":
        texts = [row["text"] for row in csv.DictReader(io.StringIO(text))]
    elif fmt == "md":
        from markdown_it import MarkdownIt

        page = _Page.parse(MarkdownIt("commonmark").render(text))
        texts = [html.unescape(re.sub(r"<code>.*?</code>", "", item)).strip() for item in page.items]
        texts = sorted(texts, key=WRITTEN.index)
    else:
        texts = [span["text"] for span in _Page.parse(text).sentences if span["view"] == "as-written"]
    _check_as_written(texts, WRITTEN.replace("\r\n", "\n"))


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


def test_the_same_report_in_two_files_gets_two_ids(tmp_path, capsys):
    from toolkit.cli import main
    from toolkit.corpus import load_reports

    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(SAMPLE, encoding="utf-8")
    b.write_text(SAMPLE, encoding="utf-8")
    assert main(["tag", str(a), str(b)]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    ids = {r["source"]: r["report"] for r in records}
    assert len(set(ids.values())) == 2 and ids[str(b)] == ids[str(a)] + "-2"
    assert [r.id for r in load_reports([a, b])] == [ids[str(a)], ids[str(b)]]


def test_a_report_larger_than_a_batch_is_predicted_in_batches_with_the_same_result(monkeypatch):
    from toolkit import tagging

    model = load_model(default_model_path())
    reports = segment_text(SAMPLE * 3, "sample.txt", group=False)
    whole = tagging.tag_reports(model, reports)
    monkeypatch.setattr(tagging, "BATCH_SENTENCES", 4)
    assert sum(len(t) for t in whole) > 4 and tagging.tag_reports(model, reports) == whole


def test_a_long_report_not_yet_cut_counts_at_least_its_length_over_the_longest_sentence():
    from toolkit.segment import MAX_SENTENCE, Report
    from toolkit.tagging import report_batches

    long = [Report(id=f"r{i}", paragraphs=["工会" * (5 * MAX_SENTENCE)]) for i in range(4)]  # 10 sentences at least
    assert [len(b) for b in report_batches(long, size=20)] == [2, 2]
    short = [Report(id=f"r{i}", paragraphs=["一。", "二。", "三。"]) for i in range(4)]
    assert [len(b) for b in report_batches(short, size=6)] == [2, 2]


def test_tag_files_replaces_the_output_whole_and_says_what_it_tagged(tmp_path):
    from toolkit.tagging import tag_files

    source = tmp_path / "in" / "report.txt"
    source.parent.mkdir()
    source.write_text(SAMPLE, encoding="utf-8")
    out = tmp_path / "out" / "tagged.jsonl"
    out.parent.mkdir()
    out.write_text("old\n", encoding="utf-8")
    stdout = io.StringIO()
    seen = []
    run = tag_files([source], stdout, output=out, progress=lambda reports, sentences: seen.append((reports, sentences)))
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert stdout.getvalue() == "" and [p.name for p in out.parent.iterdir()] == ["tagged.jsonl"]
    assert run.reports == 1 and run.sentences == len(records) == 7 and seen[-1] == (1, 7)
    assert run.model == default_model_path().name and run.model_version
    assert run.summary() == f"tagged 7 sentences in 1 report with {run.model} ({run.model_version})"


def test_tag_files_refuses_a_missing_model_and_writes_nothing(tmp_path):
    from toolkit.errors import ToolkitError
    from toolkit.tagging import tag_files

    out = tmp_path / "tagged.jsonl"
    with pytest.raises(ToolkitError, match="model file not found"):
        tag_files(["-"], io.StringIO(), model_path=tmp_path / "missing.npz", output=out)
    assert list(tmp_path.iterdir()) == []


def test_tag_files_takes_a_model_from_any_folder_without_a_warning(tmp_path):
    """A model file is a NumPy archive that cannot run code, so one outside models/ is not warned about."""
    import shutil
    import warnings

    from toolkit.tagging import tag_files

    model = tmp_path / "elsewhere" / "copy.npz"
    model.parent.mkdir()
    shutil.copy(default_model_path(), model)
    shutil.copy(default_model_path().with_suffix(".json"), model.with_suffix(".json"))
    source = tmp_path / "report.txt"
    source.write_text(SAMPLE, encoding="utf-8")
    out = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = tag_files([source], out, model_path=model)
    assert run.model == "copy.npz" and run.sentences > 0 and out.getvalue().count("\n") == run.sentences


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_sigterm_stops_a_run_like_ctrl_c_and_leaves_no_temporary_file(tmp_path, corpus_path, jobs):
    import signal
    import subprocess
    import sys
    import time

    text = corpus_path.read_text(encoding="utf-8")
    big = tmp_path / "big.txt"
    big.write_text("".join(text.replace("。", f"{i}。") for i in range(40)), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    run = subprocess.Popen([sys.executable, "-m", "toolkit", "tag", str(big), "--output", str(out), "--jobs", jobs],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".out.jsonl.*.tmp")) and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run.poll() is None, "the run ended before it could be stopped: give it more input"
    run.send_signal(signal.SIGTERM)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 143 and err.strip().splitlines()[-1] == "toolkit: terminated"
    assert not list(tmp_path.glob(".out.jsonl.*")) and not out.exists()
