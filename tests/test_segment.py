import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.corpus import load_reports
from toolkit.segment import (
    heading_level,
    numbered_level,
    report_starts,
    segment_text,
    split_paragraphs,
    split_sentences,
    text_id,
)

# Checked by hand against the corpus: the 1-based line where each report begins.
REPORT_START_LINES = [1, 18, 47, 58, 87, 107, 121, 132, 141, 152, 162, 178, 192, 218, 227, 246, 257]
# Near-duplicate reports (by start line); every other report is a group of its own.
DUPLICATE_GROUPS = [{18, 58}, {47, 121, 141}, {132, 218}]


def test_report_boundaries_match_hand_checked_list(corpus_lines):
    paragraphs = split_paragraphs("\n".join(corpus_lines))
    assert len(paragraphs) == len(corpus_lines)  # the corpus has no blank lines
    assert [i + 1 for i in report_starts(paragraphs)] == REPORT_START_LINES


def test_near_duplicate_groups_match_hand_checked_list(corpus_path, corpus_lines):
    reports = load_reports([corpus_path])
    line_of = dict(zip((r.id for r in reports), REPORT_START_LINES))
    groups: dict[str, set[int]] = {}
    for report in reports:
        groups.setdefault(report.group, set()).add(line_of[report.id])
    multi = sorted((g for g in groups.values() if len(g) > 1), key=min)
    assert multi == DUPLICATE_GROUPS
    assert len(groups) == len(REPORT_START_LINES) - sum(len(g) - 1 for g in DUPLICATE_GROUPS)


def test_half_year_plans_stay_in_their_report(corpus_lines):
    """Line 282 ("下半年…从以下几个方面") leads into a list restarting at 一、: same report."""
    reports = segment_text("\n".join(corpus_lines))
    last = reports[-1]
    assert last.paragraphs[0].startswith("20xx年,X街道总工会")
    assert last.paragraphs[-1] == corpus_lines[-1]


@pytest.mark.parametrize(
    "line, level",
    [
        ("一、抓组织建设,构建工会工作新平台", 1),
        ("一、切实加强领导,建立健全工会组织。", 1),
        ("(一)加强组织建设", 2),
        ("(二)民主管理", 2),
        ("1、组织健全", 3),
        ("2.完善制度", 3),
        ("(1)继续坚持实行校务公开民主管理制度", 4),
        ("今后的工作打算:", 1),
        ("7、新增女职工特殊权益保护专项集体合同10家。", 0),
        ("各位领导、同志们:", 0),
        ("1.5万名职工参加了活动。", 0),
        ("工会积极组织开展活动,效果明显。", 0),
    ],
)
def test_heading_styles(line, level):
    from toolkit.textio import normalize

    assert heading_level(normalize(line)) == level


def test_numbered_level_does_not_take_decimals():
    assert numbered_level("1.5万人") == 0
    assert numbered_level("1.组织") == 3


def test_run_in_heading_is_its_own_sentence():
    report = segment_text("一、组织建设\n1、调整充实人员力量。根据人员变动,重新调整了力量。\n")[0]
    texts = [(s.text, s.is_heading, s.heading) for s in report.sentences]
    assert texts == [
        ("一、组织建设", True, ""),
        ("1、调整充实人员力量。", True, "一、组织建设"),
        ("根据人员变动,重新调整了力量。", False, "1、调整充实人员力量。"),
    ]


def test_numbered_item_that_is_not_a_heading_closes_the_previous_item():
    text = "一、组织建设\n1、举办培训班。我们举办了培训。\n2、签订了20xx年工会工作目标考核责任书并召开了工作会议。年初召开了会议。\n"
    sentences = segment_text(text)[0].sentences
    assert sentences[-1].text == "年初召开了会议。"
    assert sentences[-1].heading == "一、组织建设"


def test_quotes_and_book_titles_are_never_split():
    assert split_sentences("他说:“好。我们走!”大家同意。学习《工会法。》很重要?是的。") == [
        "他说:“好。我们走!”大家同意。",
        "学习《工会法。》很重要?",
        "是的。",
    ]
    assert split_sentences("开展「安全。月」活动。结束") == ["开展「安全。月」活动。", "结束"]


def test_unclosed_quote_does_not_swallow_the_paragraph():
    assert split_sentences("六•一”期间慰问了职工。又开展了活动。") == ["六•一”期间慰问了职工。", "又开展了活动。"]
    assert split_sentences("开展“活动。又开展了工作。") == ["开展“活动。", "又开展了工作。"]


def test_enumeration_splits_at_semicolons_but_short_lists_do_not():
    parts = split_sentences("主要表现在:一是主动性不够强;二是有重建轻管现象;三是维权需加强。")
    assert parts == ["主要表现在:一是主动性不够强;", "二是有重建轻管现象;", "三是维权需加强。"]
    assert split_sentences("临时救济8户;医疗救助2人。") == ["临时救济8户;医疗救助2人。"]


def test_very_long_sentence_splits_at_semicolons():
    long_part = "工会" * 80
    assert split_sentences(f"{long_part};{long_part}。") == [f"{long_part};", f"{long_part}。"]


def test_line_end_ends_a_sentence():
    assert [s.text for s in segment_text("没有句号的标题\n正文。")[0].sentences] == ["没有句号的标题", "正文。"]


NEW_REPORT = """20xx年,县医院工会在院党委的正确领导下,团结带领全院职工,较好地完成了全年各项任务。
一、加强组织建设
今年新发展会员35人,完成了工会换届选举。
二、关心职工生活
春节前走访慰问困难职工12户。
总之,我们将继续努力,为医院发展做出新的贡献。"""


def test_ids_are_stable_across_rereads_and_prepending(corpus_lines):
    text = "\n".join(corpus_lines)
    first = segment_text(text)
    again = segment_text(text)
    assert [s.to_dict() for r in first for s in r.sentences] == [s.to_dict() for r in again for s in r.sentences]
    other = NEW_REPORT
    prepended = segment_text(other + "\n" + text)
    assert len(prepended) == len(first) + 1
    for before, after in zip(first, prepended[1:]):
        assert before.id == after.id and before.group == after.group
        assert [(s.id, s.index, s.paragraph, s.heading) for s in before.sentences] == [
            (s.id, s.index, s.paragraph, s.heading) for s in after.sentences
        ]


def test_same_sentence_in_near_duplicate_reports_has_same_id(corpus_path):
    reports = load_reports([corpus_path])
    by_group: dict[str, list] = {}
    for report in reports:
        by_group.setdefault(report.group, []).append(report)
    first, identical, variant = sorted(next(g for g in by_group.values() if len(g) == 3), key=lambda r: r.id)[::-1][:3]
    ids = [[s.id for s in r.sentences] for r in (first, identical, variant)]
    exact = [pair for pair in ((ids[0], ids[1]), (ids[0], ids[2]), (ids[1], ids[2])) if pair[0] == pair[1]]
    assert len(exact) == 1  # two copies are word-for-word the same
    shared = set(ids[0]) & set(ids[1]) & set(ids[2])
    assert len(shared) >= len(ids[0]) // 2  # the third swaps a few words, so most sentences recur
    assert len({first.id, identical.id, variant.id}) == 3


def test_identical_reports_get_distinct_report_ids(corpus_path):
    reports = load_reports([corpus_path])
    assert len({r.id for r in reports}) == len(reports)


def test_text_id_is_deterministic():
    assert text_id("工会。") == text_id(" 工会。 ") != text_id("工会!")
    assert text_id("工会。").startswith("s") and len(text_id("工会。")) == 13


def test_gbk_copy_gives_identical_records(tmp_path, corpus_path):
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes(corpus_path.read_text(encoding="utf-8").encode("gb18030"))
    utf = [s.to_dict() for r in load_reports([corpus_path]) for s in r.sentences]
    assert [s.to_dict() for r in load_reports([gbk]) for s in r.sentences] == utf


def test_part_headings_and_greeting_lines():
    from toolkit.segment import heading_level, is_opening, numbered_level

    assert numbered_level("第二部分 存在的主要问题") == 1 and heading_level("第一部分 主要工作及成效") == 1
    assert is_opening("各位代表:")
    assert not is_opening("各位代表,在新的一年里,我们要在公司党委的坚强领导下,进一步解放思想,为公司发展作出新的更大贡献!")
    assert not is_opening("一年来,院工会在医院党委的领导下做了一些工作,取得了一定的成绩,我们将继续努力。")


def test_a_modest_closing_stays_with_its_report():
    text = ("20xx年,县医院工会在院党委的正确领导下,较好地完成了全年各项工作任务。\n一、加强组织建设\n新发展会员45人。\n"
            "二、关心职工生活\n走访慰问困难职工18户。\n"
            "一年来,院工会在医院党委的领导下做了一些工作,取得了一定的成绩,我们将为医院发展做出新的贡献。\n"
            "各位代表:\n20xx年,公司工会在公司党委的领导下,团结带领广大职工,较好地完成了各项任务。\n一、民主管理\n召开了职代会。\n"
            "二、文体活动\n举办了职工运动会。\n"
            "各位代表,在新的一年里,我们要在公司党委的坚强领导下,为公司发展作出新的更大贡献!\n")
    reports = segment_text(text)
    assert [len(r.paragraphs) for r in reports] == [6, 7]
    assert reports[0].paragraphs[-1].startswith("一年来") and reports[1].paragraphs[-1].startswith("各位代表,在新的一年里")


def test_page_lines_are_neither_headings_nor_reports():
    from toolkit.segment import is_junk

    page = ["XX范文网 - 免费范文大全", "首页 > 范文大全 > 工作总结", "发布时间:2024-01-05 来源:网络 阅读:1203",
            "- 2 -", "第3页 共5页", "篇2", "范文三", "上一篇:XX工会工作总结", "返回顶部", "工会工作总结(精选2篇)"]
    text = ["一、加强组织建设", "XX公司工会2023年工作总结", "全年新发展会员45人。", "下步打算"]
    assert all(is_junk(line) for line in page)
    assert not any(is_junk(line) for line in text)
    report = segment_text("首页 > 范文 > 工作总结\n20xx年,公司工会在党委领导下开展工作。\n一、组织建设\n新建分会3个。\n返回顶部\n")[0]
    headings = [s.text for s in report.sentences if s.is_heading]
    assert headings == ["一、组织建设"]


def test_sample_pages_and_titles_begin_reports():
    from toolkit.segment import report_starts

    body = ["20xx年,厂工会在厂党委领导下开展工作。", "一、组织建设", "新建分会3个。", "二、帮扶", "慰问职工20户。"]
    page = ["某某范文网", "篇1", *body, "篇2", "XX学校工会2023年工作总结", *body[:1], "一、师德建设", "开展师德教育。", "二、帮扶"]
    starts = report_starts(page)
    assert [page[i] for i in starts] == ["某某范文网", "篇2"]
    titled = [*body, "XX学校工会2023年工作总结", "今年以来,校工会在校党委领导下开展工作。", "一、师德建设", "开展师德教育。"]
    assert [titled[i] for i in report_starts(titled)] == [body[0], "XX学校工会2023年工作总结"]


def test_an_undated_opening_inside_a_report_does_not_cut_it():
    from toolkit.segment import report_starts

    lines = ["今年以来,物流公司工会在公司党委领导下开展工作。", "1、建设职工活动阵地。", "新建职工之家1个。",
             "在公司党委的支持下,我们建成了面积约600平方米的职工活动中心。", "2、维护职工权益。", "签订集体合同。"]
    assert report_starts(lines) == [0]
    after_closing = [*lines, "总之,一年来工会工作取得了一定成绩。", "在镇党委的支持下,镇总工会今年新建基层工会5个。",
                     "一、组建工会", "新建工会5个。"]
    assert report_starts(after_closing) == [0, 7]


def test_ordinal_openers_are_headings():
    report = segment_text("20xx年,县教育工会在县总工会领导下开展工作。\n第一,以教代会为载体,推进学校民主管理。全县学校全部召开了教代会。\n第二,关心教职工生活。走访慰问教师50人。\n")[0]
    headings = [s.text for s in report.sentences if s.is_heading]
    assert headings == ["第一,以教代会为载体,推进学校民主管理。", "第二,关心教职工生活。"]
    assert report.sentences[-1].heading == "第二,关心教职工生活。"


def test_lost_line_breaks_are_restored_before_heading_numbers_without_changing_sentences():
    from toolkit.segment import restore_breaks, split_sentences

    line = "20xx年,公司工会在党委领导下开展工作。" + "新建工会小组3个,发展会员40人。" * 30 + "二、帮扶工作。慰问职工。(一)送温暖。发放慰问金。"
    parts = restore_breaks(line)
    assert parts[1:] == ["二、帮扶工作。慰问职工。", "(一)送温暖。发放慰问金。"]
    assert [s for p in parts for s in split_sentences(p)] == split_sentences(line)
    assert restore_breaks("短行。二、帮扶。") == ["短行。二、帮扶。"]


def test_a_run_on_page_blurb_is_cut_off_as_its_own_paragraph_without_changing_sentences():
    from toolkit.segment import blurb_end, restore_breaks, split_sentences

    blurb = "机关工会总结范本(精编2篇)【导读】网友为您整理的范本,以供您参考。又到写总结的时候了。以下是小编整理的总结。"
    text = "20xx年,机关工会在党组领导下开展工作。" + "新建工会小组3个,发展会员40人。" * 20
    parts = restore_breaks(blurb + text)
    assert parts == [blurb, text]
    assert [s for p in parts for s in split_sentences(p)] == split_sentences(blurb + text)
    assert blurb_end(text) == 0
    assert blurb_end("以下是小编整理的总结。" + "开展工作。" * 100) == len("以下是小编整理的总结。")
    late = "开展工作。" * 100 + "以下是小编整理的总结。"  # beyond the opening window: the report's own text
    assert restore_breaks(late) == [late]


def test_sentences_keep_their_text_as_written_beside_the_normalised_text():
    from toolkit.textio import normalize

    run_on = ("一、组织建设。" + "新建工会，发展会员。" * 40 + "二、帮扶工作。慰问职工\u300020户！"
              + "三、文体活动。举办“迎新春”晚会；开展\u200b球赛。")
    text = "\u3000\u300020xx年，公司工会在党委领导下开展工作。\r\n" + run_on + "\r\n"
    written = segment_text(text)
    normalised = segment_text(normalize(text))
    assert [s.id for r in written for s in r.sentences] == [s.id for r in normalised for s in r.sentences]
    assert [s.text for r in written for s in r.sentences] == [s.text for r in normalised for s in r.sentences]
    sentences = [s for r in written for s in r.sentences]
    assert len(written) == 1 and [p[:7] for p in written[0].as_written] == ["20xx年，公", "一、组织建设。", "二、帮扶工作。",
                                                                          "三、文体活动。"]  # the lost breaks restored
    assert sentences[0].as_written == "20xx年，公司工会在党委领导下开展工作。"
    assert [s.as_written for s in sentences[-4:]] == ["二、帮扶工作。", "慰问职工\u300020户！", "三、文体活动。",
                                                      "举办“迎新春”晚会；开展\u200b球赛。"]
    assert all(normalize(s.as_written) == s.text for s in sentences)
    assert [r.as_written for r in normalised] == [[]]  # nothing to keep when the input is normalised


def test_report_ids_are_unique_across_documents():
    from toolkit.segment import segment_documents

    reports = segment_documents([("a.txt", NEW_REPORT), ("b.txt", NEW_REPORT), ("c.txt", NEW_REPORT + "\n" + NEW_REPORT)])
    assert [r.source for r in reports] == ["a.txt", "b.txt", "c.txt", "c.txt"]
    base = reports[0].id
    assert [r.id for r in reports] == [base, f"{base}-2", f"{base}-3", f"{base}-4"]
    assert len({r.group for r in reports}) == 1


def test_an_overlong_sentence_is_cut_at_commas_then_at_a_fixed_length():
    from toolkit.segment import MAX_SENTENCE

    clause = "组织职工参加技能培训和劳动竞赛活动,"  # 18 characters
    sentence = clause * 40 + "完成。"
    parts = split_sentences(sentence)
    assert "".join(parts) == sentence and len(parts) == 3
    assert all(len(p) <= MAX_SENTENCE for p in parts) and all(p.endswith(",") for p in parts[:-1])
    no_commas = "工会" * MAX_SENTENCE + "。"
    parts = split_sentences(no_commas)
    assert "".join(parts) == no_commas and [len(p) for p in parts] == [MAX_SENTENCE, MAX_SENTENCE, 1]
    assert split_sentences(clause * 10 + "。") == [clause * 10 + "。"]  # 181 characters: kept whole


def test_overlong_lines_and_reports_are_cut_in_order_without_loss():
    from toolkit.segment import cut_paragraph, cut_report

    line = "新建工会小组3个。" * 5 + "发展会员,会员" * 4
    pieces = cut_paragraph(line, limit=20)
    assert "".join(pieces) == line and all(len(p) <= 20 for p in pieces)
    assert pieces[0] == "新建工会小组3个。新建工会小组3个。"  # after the last sentence end that fits
    assert cut_paragraph("“完成了。”然后继续", limit=8) == ["“完成了。”", "然后继续"]
    assert cut_paragraph("甲乙丙丁戊己", limit=4) == ["甲乙丙丁", "戊己"]
    paragraphs = ["一" * 3, "二" * 3, "三" * 5, "四"]
    runs = list(cut_report(paragraphs, limit=6))
    assert runs == [["一" * 3, "二" * 3], ["三" * 5, "四"]]


def test_a_file_without_line_breaks_is_cut_into_bounded_paragraphs_and_reports(corpus_lines):
    from toolkit.segment import MAX_PARAGRAPH, MAX_REPORT, MAX_SENTENCE

    text = "".join(corpus_lines)
    text = (text * (MAX_REPORT // len(text) + 1))[: MAX_REPORT + 10]
    reports = segment_text(text, group=False)
    assert len(reports) >= 2
    assert all(len(p) <= MAX_PARAGRAPH for r in reports for p in r.paragraphs)
    assert all(len(r.text) <= MAX_REPORT + MAX_PARAGRAPH for r in reports)
    assert all(len(s.text) <= MAX_SENTENCE for r in reports for s in r.sentences)
    assert "".join("".join(s.text.split()) for r in reports for s in r.sentences) == "".join(text.split())


def test_no_sentence_paragraph_or_report_of_the_data_is_long_enough_to_be_cut(all_corpus_reports):
    """Cutting leaves the corpus, the held-out set and the check sets as they were, so every
    sentence id the labels are keyed by is unchanged."""
    from pathlib import Path

    from toolkit.segment import MAX_PARAGRAPH, MAX_REPORT, MAX_SENTENCE

    annotations = Path(__file__).resolve().parents[1] / "annotations"
    reports = list(all_corpus_reports) + load_reports([annotations / "heldout" / "reports", annotations / "synthetic"])
    assert max(len(s.text) for r in reports for s in r.sentences) < MAX_SENTENCE
    assert max(len(p) for r in reports for p in r.paragraphs) < MAX_PARAGRAPH
    assert max(len(r.text) for r in reports) < MAX_REPORT


# --- property: nothing lost -------------------------------------------------------------------

SNIPPETS = ("一、", "(二)", "3、", "(4)", "第一部分", "第二,", "一是", ";二是", "篇2", "首页 > 范文 > 总结",
            "发布时间:2023-01-01", "- 3 -", "工会2023年工作总结", "20xx年,公司工会在党委领导下,", "一年来,",
            "各位代表:", "总之,", "存在的问题", "下步打算", "“", "”", "《", "》", "。", "!", "?", ";", ",", ":",
            "\n", "\n\n", " ", "\u3000", "\r\n", "\t", "ＡＢ,", "1.5万", "工會總結", "工會(huì)")
_CJK = re.compile(r"[\u3400-\u9fff]")


@st.composite
def report_like_text(draw) -> str:
    """Text made of Chinese characters, punctuation, line breaks and the structure the segmenter
    reads (headings, openings, page lines, quotes), sometimes with runs long enough to be cut."""
    piece = st.one_of(st.sampled_from(SNIPPETS),
                      st.text(alphabet="工会职工开展活动组织建设慰问帮扶安全生产女是的了一二三", min_size=1, max_size=40),
                      st.text(max_size=8),
                      st.integers(300, 700).map(lambda n: "职工" * (n // 2)))
    return "".join(draw(st.lists(piece, max_size=60)))


@settings(max_examples=100, deadline=None, database=None)
@given(report_like_text())
def test_segmentation_keeps_every_chinese_character_once_in_order(text):
    """Either a one-line ToolkitError, or sentences that together hold every Chinese character of
    the input exactly once, in order: as written, and normalised (traditional characters read as
    simplified ones, "剗" as "刬")."""
    import toolkit
    from toolkit.errors import ToolkitError
    from toolkit.textio import normalize

    try:
        reports = toolkit.segment(text)
    except ToolkitError as exc:
        assert "\n" not in str(exc)
        return
    sentences = [s for r in reports for s in r.sentences]
    assert "".join(_CJK.findall("".join(s.as_written or s.text for s in sentences))) == "".join(_CJK.findall(text))
    assert "".join(_CJK.findall("".join(s.text for s in sentences))) == "".join(_CJK.findall(normalize(text)))


def test_a_traditional_character_is_kept_as_written_and_read_as_simplified():
    (sentence,) = segment_text("剗")[0].sentences
    assert (sentence.as_written or sentence.text, sentence.text) == ("剗", "刬")


def test_a_closing_vow_under_leadership_does_not_begin_a_report():
    """"我们相信,在…领导下…" and "…将在…领导下…" read like openings but close a report; a dated
    event inside a report ("今年五月,在…指导下") does not begin one either."""
    text = ("XX公司工会2023年工作总结\n"
            "2023年,公司工会在公司党委的领导下,认真履行各项职能,较好地完成了全年任务。\n"
            "一、组织建设\n全年新发展会员45人。\n"
            "今年五月,在园区总工会的指导下,公司工会与公司方开展了工资集体协商。\n"
            "二、帮扶工作\n春节期间走访慰问困难职工20户。\n"
            "公司工会将在公司党委的坚强领导下,团结带领广大职工,为公司高质量发展作出新的贡献。\n"
            "我们相信,在公司党委的领导下,工会工作一定会再上新台阶。\n")
    assert len(segment_text(text)) == 1


def test_a_page_blurb_about_the_article_is_a_page_line():
    from toolkit.segment import is_junk

    assert is_junk("本文是一篇建筑施工企业工会的年度工作总结,主要包括一年来的主要工作、存在的不足和下步打算等内容,供参考。")
    assert is_junk("以下是小编精心整理的工会工作总结,欢迎阅读,希望大家能够喜欢。")
    assert is_junk("街道总工会工作总结(实用三篇)") and not is_junk("街道总工会工作总结 篇1")
    assert not is_junk("全年报送信息56篇")


@pytest.mark.parametrize("line", [
    "下面是我给大家整理的报告范文,欢迎大家阅读分享借鉴,希望对大家能够有所帮助。",
    "以下是为大家整理的关于2015年园林局工会工作总结的文章,希望大家能够喜欢!",
    "报告书写有哪些要求呢?",
    "书写工作总结要用第一人称。即要从本单位、本部门的角度来撰写。",
    "如果您已付费下载过本站文档,您可以点击这里二次下载。",
    "- 4、该文档为VIP文档,如果想要下载,成为VIP会员后,下载免费。",
    "版权声明在先,版权说明:本文由网友投稿上传,如有侵权请联系删除",
    "您好,欢迎访问范本资料站。",
    "本篇是某单位工会的年度工作总结,仅供参考。",
    "【导读】网友为您收集的工会总结范本,以供您学习参考之用。",
    "搜索",
    "文档简介",
    "《某某工会工作总结.doc》由会员分享,可在线阅读,更多相关《某某工会工作总结.doc(8页珍藏版)》请在某某文库上搜索。",
])
def test_blurbs_about_writing_and_document_site_notices_are_page_lines(line):
    from toolkit.segment import is_junk

    assert is_junk(line)


@pytest.mark.parametrize("line, page_line", [
    ('<image>data:image/png;base64,iVBORw0KGgo=" alt="资源得分" title="</image>', True),
    ("<img src=\"logo.png\">", True),
    ("</p>", True),
    ("/p>", True),
    ("<br/>", True),
    ("???", True),
    ("？？？", True),
    ("<p>一年来,工会在党委领导下开展工作。", False),
    ("全年开展活动12次?", False),
    ("二、职工之家建设<br>", False),
])
def test_markup_left_by_a_pages_extraction_is_a_page_line_and_text_around_it_is_not(line, page_line):
    from toolkit.segment import is_junk

    assert is_junk(line) is page_line


@pytest.mark.parametrize("line", [
    "工会下载整理了劳动法律法规学习资料,发放到各班组。",
    "我们为大家整理了职工需求清单,逐项推动解决。",
    "全年撰写工作总结和调研报告12篇。",
    "欢迎来到工会之家的新会员接受了入会教育。",
    "搜索职工需求,建立帮扶台账。",
    "职工书屋开通了电子阅览室,职工可在线阅读各类图书。",
    "读书月活动中,由会员分享读书心得,交流学习体会。",
])
def test_report_sentences_that_share_words_with_blurbs_are_not_page_lines(line):
    from toolkit.segment import is_junk

    assert not is_junk(line)


def test_page_lines_are_found_once_on_the_report():
    report = segment_text("首页 > 工作总结\n某某公司工会2023年工作总结\n一年来,工会在党委领导下开展工作。\n一、组织建设\n新建分会3个。\n上一篇:某某")[0]
    assert report.page_lines is report.page_lines  # computed once, then kept
    assert sorted(report.page_lines) == [i for i, p in enumerate(report.paragraphs) if p.startswith(("首页", "上一篇"))]


def _front(report):
    return report.paragraphs[report.title_line] if report.title_line >= 0 else "", [report.paragraphs[i] for i in sorted(report.page_lines)]


def test_a_page_of_sample_reports_keeps_only_the_reports_own_title():
    body = "今年以来,镇总工会在镇党委领导下开展工作。\n一、组织建设\n新建分会3个。\n"
    report = segment_text("镇总工会工作总结\n时间:2024-01-05 来源:投稿\n以下是小编整理的镇总工会工作总结,欢迎阅读。\n"
                          "镇总工会工作总结\n镇总工会工作总结 篇1\n" + body)[0]
    title, page = _front(report)
    assert title == "镇总工会工作总结 篇1"
    assert page == ["镇总工会工作总结", "时间:2024-01-05 来源:投稿", "以下是小编整理的镇总工会工作总结,欢迎阅读。", "镇总工会工作总结"]


@pytest.mark.parametrize("front, title", [
    ("镇总工会工作总结(精选3篇)\n", ""),  # a collection's title is the page's
    ("某某公司工会2023年工作总结\n", "某某公司工会2023年工作总结"),
    ("凝心聚力 建功新时代\n——在某某公司工会第三次会员代表大会上的报告\n",  # a slogan stays in the report
     "——在某某公司工会第三次会员代表大会上的报告"),
    ("某某公司工会2023年工作报告\n——在第三次会员代表大会上的报告\n", "某某公司工会2023年工作报告"),  # the subtitle is the title's
    ("", ""),
])
def test_the_reports_own_title(front, title):
    report = segment_text(front + "今年以来,公司工会在公司党委领导下开展工作。\n一、组织建设\n新建分会3个。\n")[0]
    assert _front(report) == (title, [p for p in front.splitlines() if p not in (title, "凝心聚力 建功新时代") and not p.startswith("——")])


@pytest.mark.parametrize("title", ["车间工会工作总结 篇1", "第1篇 2023年车间工会工作总结", "【篇2】车间工会工作总结",
                                   "车间工会工作总结2", "车间工会工作总结(一)"])
def test_a_title_marked_as_one_of_a_collection_begins_its_report(title):
    from toolkit.segment import is_report_title

    assert is_report_title(title)
    page = ["车间工会工作总结(通用6篇)", "以下是小编整理的车间工会工作总结,欢迎阅读参考。", title,
            "今年以来,车间工会在分厂党支部的领导下开展工作。", "一、班组建设", "新建职工小家3个。"]
    reports = segment_text("\n".join(page))
    assert [r.paragraphs[r.title_line] for r in reports] == [title]
    assert not any(s.is_heading and s.text == title for s in reports[0].sentences)


def test_a_title_with_nothing_but_the_page_after_it_is_the_pages():
    page_title = segment_text("首页 > 工作总结\n镇总工会工作总结\n上一篇:某某")[0]
    assert _front(page_title) == ("", ["首页 > 工作总结", "镇总工会工作总结", "上一篇:某某"])
    sample = segment_text("首页 > 工作总结\n镇总工会工作总结 篇1")[0]
    assert _front(sample) == ("镇总工会工作总结 篇1", ["首页 > 工作总结"])


def test_is_junk_keeps_no_long_line_in_its_memory():
    from toolkit.segment import _short_junk, is_junk

    before = _short_junk.cache_info().currsize
    assert not is_junk("工会组织职工开展活动," * 2000)  # a paragraph of a file without line breaks
    assert _short_junk.cache_info().currsize == before
    assert is_junk("首页 > 范文 > 工作总结")


def test_a_report_without_end_is_yielded_in_bounded_pieces_as_cut_report_would_cut_it():
    from toolkit.segment import HOLD_REPORT, MAX_REPORT, cut_report, iter_report_paragraphs

    paragraph = "工会组织职工开展劳动竞赛和技能比武活动," * 300  # 6,000 characters, no sentence end
    total = 3 * HOLD_REPORT // len(paragraph)
    drawn = 0

    def stream():
        nonlocal drawn
        for _ in range(total):
            drawn += 1
            yield paragraph

    reports = iter_report_paragraphs(stream())
    first = next(reports)
    assert drawn < total / 2 and sum(map(len, first)) <= MAX_REPORT  # yielded long before the input ends
    pieces = [first] + [piece for report in reports for piece in cut_report(report)]
    assert pieces == list(cut_report([paragraph] * total))


@pytest.mark.parametrize("line", ["人民医院工会年度工作总结", "工会汇报材料", "林业工会工作总结范文", "2021年工会春节送温暖活动总结",
                                  "篇一:工会困难职工脱困解困工作总结汇报", "3.工会2021年工作总结和2022年工作思路(三)"])
def test_a_line_that_names_a_report(line):
    from toolkit.segment import names_a_report

    assert names_a_report(line)


@pytest.mark.parametrize("line", ["区教育工会总结12篇", "工会工作总结(实用5篇)", "当前位置:首页>工作总结>工会工作总结",
                                  "现将本年度工会工作总结如下:", "年终召开总结表彰大会,表彰先进个人12名。",
                                  "认真总结经验,查找不足", "一、组织建设", "2023年工会工作计划"])
def test_a_line_that_does_not_name_a_report(line):
    from toolkit.segment import names_a_report

    assert not names_a_report(line)
