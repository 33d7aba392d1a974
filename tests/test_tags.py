"""Tagged sentences (:mod:`toolkit.tags`): every sentence with a section and a confidence, the text as
written, batches."""

import re

import pytest

from toolkit.model import load_model
from toolkit.segment import segment_text
from toolkit.tagging import default_model_path, tag_report

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


def test_a_report_in_traditional_characters_or_with_pinyin_is_tagged_as_its_simplified_text_and_shown_as_written():
    model = load_model(default_model_path())
    simplified = "一、关心职工生活\n春节期间走访慰问困难职工36户,发放慰问金5万元。\n二、加强组织建设\n新建基层工会12家,发展会员860人。\n"
    traditional = "一、關心職工生活\n春節期間走訪慰問困難職工36戶,發放慰問金5萬元。\n二、加強組織建設\n新建基層工會12家,發展會員860人。\n"
    plain, served = model.tag(simplified), model.tag(traditional)
    assert [t.text for t in served] == traditional.split()
    assert [(t.label, round(t.confidence, 9)) for t in served] == [(t.label, round(t.confidence, 9)) for t in plain]
    assert [t.label for t in served] == ["assistance", "assistance", "organization", "organization"]
    ruby = "一、關(guān)心職工生活\n春節(jié)期間走訪慰問困難職工36戶,發(fā)放慰問金5萬元。\n二、加強(qiáng)組織建設(shè)\n新建基層工會(huì)12家,發(fā)展會員860人。\n"
    annotated = model.tag(ruby)
    assert [t.text for t in annotated] == ruby.split()
    assert [(t.label, round(t.confidence, 9)) for t in annotated] == [(t.label, round(t.confidence, 9)) for t in plain]


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


@pytest.mark.parametrize("call, given, error, message", [
    ("tag_sentences", "三八节期间组织女职工开展健康讲座。", TypeError, "a list of sentences, not one str"),
    ("tag_sentences", ["组织学习。", None], TypeError, "sentence 1 must be a str, not NoneType"),
    ("tag_sentences", ["组织学习。", b"abc"], TypeError, "sentence 1 must be a str, not bytes"),
    ("tag", b"\xe4\xb8\x80", TypeError, "text must be a str, not bytes"),
    ("tag", None, TypeError, "text must be a str, not NoneType"),
    ("tag", "一、加强\ud800组织建设。", ValueError, "lone surrogate at position 4"),
])
def test_what_is_not_text_is_refused_saying_what_was_expected(call, given, error, message):
    with pytest.raises(error, match=message):
        getattr(load_model(default_model_path()), call)(given)
