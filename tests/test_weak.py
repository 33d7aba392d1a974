import pytest

from toolkit.segment import segment_text
from toolkit.weak import RULES, apply_rules, by_heading, by_keywords, by_opening_position, by_plan_words, \
    by_problem_words, by_salutation, combine, rule_report

REPORT = segment_text(
    "各位领导、同志们:\n"
    "20xx年,公司工会在公司党委的正确领导下,较好地完成了全年任务。\n"
    "一、开展安康杯竞赛活动\n"
    "组织职工参加了知识答题。\n"
    "二、推进厂务公开\n"
    "召开了职代会,审议通过了集体合同。\n"
    "三、存在的不足\n"
    "工会活动开展不够经常。\n"
    "明年,我们将继续加强女职工工作。\n"
)[0]
S = {s.text: s for s in REPORT.sentences}


@pytest.mark.parametrize(
    "rule, text, expected",
    [
        (by_salutation, "各位领导、同志们:", "other"),
        (by_opening_position, "20xx年,公司工会在公司党委的正确领导下,较好地完成了全年任务。", "overview"),
        (by_opening_position, "组织职工参加了知识答题。", None),
        (by_heading, "组织职工参加了知识答题。", "safety"),
        (by_heading, "工会活动开展不够经常。", "problems"),
        (by_keywords, "召开了职代会,审议通过了集体合同。", "democracy"),
        (by_keywords, "组织职工参加了知识答题。", None),
        (by_problem_words, "工会活动开展不够经常。", "problems"),
        (by_plan_words, "明年,我们将继续加强女职工工作。", "plans"),
        (by_problem_words, "明年,我们将继续加强女职工工作。", None),
    ],
)
def test_each_rule_on_examples(rule, text, expected):
    assert rule(S[text], REPORT) == expected


def test_keyword_priority_women_first():
    assert by_keywords(S["明年,我们将继续加强女职工工作。"], REPORT) == "women"


def test_combined_takes_first_rule_in_priority_order():
    votes = apply_rules([REPORT])
    sid = S["明年,我们将继续加强女职工工作。"].id
    assert votes[sid]["plan_words"] == "plans" and votes[sid]["keywords"] == "women"
    assert combine(votes[sid]) == "plans"


def test_rule_report_on_the_real_corpus(corpus_reports, gold_labels):
    stats = {s.name: s for s in rule_report(apply_rules(corpus_reports), gold_labels)}
    assert set(stats) == set(RULES) | {"combined"}
    assert stats["opening_position"].accuracy > 0.9  # the opening paragraph is reliably the overview
    assert 0.5 < stats["combined"].coverage <= 1.0
    assert stats["combined"].conflicts == 0
    assert stats["keywords"].conflicts > 0


def test_cue_matrix_equals_a_search_per_text_and_family(corpus_reports):
    import numpy as np

    from toolkit.weak import _CUE_PATTERNS, CUE_NAMES, cue_matrix

    def cue_vector(text):
        return [1.0 if p.search(text) else 0.0 for p in _CUE_PATTERNS]

    texts = [s.text for r in corpus_reports for s in r.sentences] + [s.heading for r in corpus_reports for s in r.sentences]
    texts += ["", "取得了", "成绩。取得了很好成绩", "今后要继续加强", "明年", "\u3000"]
    assert np.array_equal(cue_matrix(texts), np.array([cue_vector(t) for t in texts]))
    assert cue_matrix([]).shape == (0, len(CUE_NAMES))
