import csv
import io
import json

import pytest

from toolkit.model import load_model
from toolkit.segment import segment_text
from toolkit.tagging import Writer, coverage, default_model_path, markdown, restructure, tag_report
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
    return tag_report(model, segment_text(SAMPLE, "sample.txt")[0], min_confidence=0.9)


def test_every_sentence_is_tagged_once_with_confidence(tags):
    assert [t.index for t in tags] == list(range(7))
    assert all(0 < t.confidence <= 1 and t.label_name for t in tags)
    assert all(t.low_confidence == (t.confidence < 0.9) for t in tags)
    assert tags[0].label == "overview"
    assert tags[4].label == "assistance"


def test_restructure_is_canonical_and_complete(tags):
    sections = restructure(tags)
    assert [ORDER[s] for s in sections] == sorted(ORDER[s] for s in sections)
    assert sorted(t.index for items in sections.values() for t in items) == list(range(len(tags)))
    has, lacks = coverage(tags)
    assert set(has) | set(lacks) == set(ORDER) - {"other"} and not set(has) & set(lacks)


def test_markdown_lists_sections_in_order_and_marks_low_confidence(tags):
    text = markdown(tags)
    headings = [line[3:] for line in text.splitlines() if line.startswith("## ")]
    assert headings[0] == "总体概述"
    assert sum(1 for line in text.splitlines() if line.startswith("- ")) == len(tags)
    assert text.count("(?)") == sum(t.low_confidence for t in tags)
    assert "覆盖: 有 " in text and "; 缺 " in text


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "md"])
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
    else:
        assert text.count("# 报告 ") == 2
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
    lines = ["组织职工参加“安康杯”知识竞赛,开展隐患排查。", "", "三八节期间组织女职工开展健康讲座。"]
    tagged = tag_sentences(model, lines, source="list.txt")
    assert [t.index for t in tagged] == [0, 2] and [t.label for t in tagged] == ["safety", "women"]
    assert all(t.heading == "" and t.low_confidence == (t.confidence < model.alone_min_confidence) for t in tagged)
    path = tmp_path / "list.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["tag", "--sentences", str(path)]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["label"] for r in out] == ["safety", "women"]


def test_every_record_names_its_source_file(tmp_path, capsys):
    from toolkit.cli import main

    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(SAMPLE, encoding="utf-8")
    b.write_text(SAMPLE.replace("县医院", "县中学"), encoding="utf-8")
    assert main(["tag", str(a), str(b)]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["source"] for r in records} == {str(a), str(b)}
    assert [r["source"] for r in records] == sorted(r["source"] for r in records)  # in input order


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
