from toolkit.context import POSITION_NAMES, cue_matrix, position_matrix, sentence_records
from toolkit.segment import segment_text
from toolkit.weak import CUE_NAMES

TEXT = "20xx年,公司工会在公司党委的领导下开展工作。\n一、推进厂务公开\n召开了职代会。审议通过了集体合同。\n"


def test_records_carry_context():
    report = segment_text(TEXT)[0]
    records = sentence_records(report)
    last = records[-1]
    assert last["heading"] == "一、推进厂务公开" and last["prev"] == "召开了职代会。" and last["next"] == ""
    assert last["last_paragraph"] and not last["first_paragraph"] and records[0]["first_paragraph"]
    assert records[0]["position"] == 0.0 and last["position"] == 1.0


PARTS_REPORT = """20xx年,在上级工会的正确领导下,我单位工会紧紧围绕中心工作,现将工作总结如下:
一、加强组织建设
全年新发展会员50人,完成工会换届选举。
二、开展文体活动
举办职工运动会,丰富了职工生活。
三、积极参与慈善事业
组织职工为灾区捐款2万元。
四、存在的问题
工会活动场所较小,经费比较紧张。
五、今后的工作打算
1、继续推进工会组建。
2、举办职工篮球比赛。
总之,一年来工会工作取得了一定的成绩,我们将再创佳绩。
"""


def test_records_know_the_part_that_decides_their_label():
    records = {r["text"]: r["part"] for r in sentence_records(segment_text(PARTS_REPORT)[0])}
    assert records["20xx年,在上级工会的正确领导下,我单位工会紧紧围绕中心工作,现将工作总结如下:"] == "overview"
    assert records["全年新发展会员50人,完成工会换届选举。"] == ""
    assert records["举办职工运动会,丰富了职工生活。"] == ""
    assert records["组织职工为灾区捐款2万元。"] == "other"
    assert records["工会活动场所较小,经费比较紧张。"] == "problems"
    assert records["2、举办职工篮球比赛。"] == "plans"
    # a general vow closing the report is closing even after the plans (taxonomy: closing vow or plan?)
    assert records["总之,一年来工会工作取得了一定的成绩,我们将再创佳绩。"] == "closing"


def test_closing_paragraph_after_the_last_section_is_closing():
    text = PARTS_REPORT.replace("五、今后的工作打算\n1、继续推进工会组建。\n2、举办职工篮球比赛。\n", "")
    records = {r["text"]: r["part"] for r in sentence_records(segment_text(text)[0])}
    assert records["总之,一年来工会工作取得了一定的成绩,我们将再创佳绩。"] == "closing"
    assert records["组织职工为灾区捐款2万元。"] == "other"


def test_position_and_cue_matrices_have_one_row_per_record():
    records = sentence_records(segment_text(PARTS_REPORT)[0])
    position = position_matrix(records)
    assert position.shape == (len(records), len(POSITION_NAMES))
    assert (position[:, :6].sum(axis=1) == 1).all()
    assert position[0, POSITION_NAMES.index("overview_part")] == 1.0
    cues = cue_matrix(records)
    assert cues.shape == (len(records), 3 * len(CUE_NAMES))
    charity = records.index(next(r for r in records if "捐款" in r["text"]))
    assert cues[charity, CUE_NAMES.index("other")] == 1.0
    assert position_matrix([]).shape == (0, len(POSITION_NAMES))


def test_evidence_names_the_detector():
    from toolkit.context import EVIDENCE

    text = ("首页 > 范文\n20xx年,公司工会在公司党委的领导下开展工作。\n一、加强组织建设\n全年新发展会员50人。\n"
            "二、帮扶工作\n慰问困难职工20户。\n工作中还存在一些不足:一是活动阵地偏小;二是经费紧张。\n"
            "明年,工会将重点抓好职工技能培训。\n总之,一年来工会工作取得了一定的成绩。\n")
    records = {r["text"]: r["evidence"] for r in sentence_records(segment_text(text)[0])}
    assert records["首页 > 范文"] == "other:page"
    assert records["20xx年,公司工会在公司党委的领导下开展工作。"] == "overview:first-paragraph"
    titled = {r["text"]: r["evidence"] for r in sentence_records(segment_text("公司工会工作总结(3篇)\n公司工会工作总结 篇1\n" + text)[0])}
    assert titled["公司工会工作总结(3篇)"] == "other:page"
    assert titled["公司工会工作总结 篇1"] == "overview:title"
    assert records["全年新发展会员50人。"] == ""
    assert records["工作中还存在一些不足:一是活动阵地偏小;"] == "problems:text"  # found by what it says
    assert records["明年,工会将重点抓好职工技能培训。"] == "plans:future"
    assert records["总之,一年来工会工作取得了一定的成绩。"] == "closing:last-paragraph"
    assert set(records.values()) - {""} <= set(EVIDENCE)


def test_a_sentence_alone_has_no_context():
    from toolkit.context import alone_record

    record = alone_record("组织职工参加安康杯竞赛。", id="s1")
    assert record["alone"] and record["text"] == "组织职工参加安康杯竞赛。" and record["id"] == "s1"
    assert record["heading"] == record["prev"] == record["next"] == record["part"] == ""
    assert not record["first_paragraph"] and not record["last_paragraph"]
    assert position_matrix([record])[0, POSITION_NAMES.index("first_para")] == 0.0


def _parts(text: str) -> dict[str, str]:
    return {r["text"]: r["part"] for r in sentence_records(segment_text(text)[0])}


def test_no_single_cue_opens_the_plans_part():
    """An overview that announces the next period, a slogan heading that names a future goal and
    a mention of 规划 inside achievements open no plans part; a heading about what comes next does,
    and a later problems heading closes it."""
    text = ("XX公司工会2023年工作总结\n"
            "一年来,公司工会在党委领导下开展工作,现将一年来的工作总结如下,并对下阶段工作作出安排:\n"
            "一、抓组织建设,构建工会工作新平台\n按照五年规划的要求,新建分会3个,发展会员120人。\n"
            "二、送温暖\n春节期间走访慰问困难职工20户。\n"
            "三、凝心聚力,为完成“十四五”目标建功立业\n组织开展岗位练兵和技能比武5场。\n"
            "四、女职工工作\n三八节组织女职工健康讲座。\n"
            "五、下步工作打算\n一是继续推进建会工作。\n二是做好送温暖工作。\n"
            "六、存在的问题\n部分分会活动经费不足。\n")
    parts = _parts(text)
    for topic in ("按照五年规划的要求,新建分会3个,发展会员120人。", "春节期间走访慰问困难职工20户。",
                  "组织开展岗位练兵和技能比武5场。", "三八节组织女职工健康讲座。", "三、凝心聚力,为完成“十四五”目标建功立业"):
        assert parts[topic] != "plans", topic
    assert parts["五、下步工作打算"] == parts["一是继续推进建会工作。"] == parts["二是做好送温暖工作。"] == "plans"
    assert parts["部分分会活动经费不足。"] == "problems"


def test_a_later_section_that_goes_on_with_the_numbering_closes_the_plans_part():
    text = ("20xx年,街道工会在党委领导下开展工作。\n一、组织建设\n新建工会2家。\n二、帮扶工作\n慰问职工20户。\n"
            "三、帮扶工作计划\n明年继续开展帮扶。\n四、女职工工作\n组织三八健康讲座。\n五、文体活动\n举办职工运动会。\n")
    parts = _parts(text)
    assert parts["明年继续开展帮扶。"] == "plans"
    assert parts["组织三八健康讲座。"] == parts["举办职工运动会。"] == ""


def test_a_plans_part_with_its_own_numbered_list_keeps_it_to_the_end():
    """After sections 一 to 四, a plans part whose items start again at 一 keeps its topic items 二
    and 三 (they go on with its own list, not with the report's), and a later 五 closes it."""
    text = ("20xx年,街道工会在党委领导下开展工作。\n一、组织建设\n新建工会2家。\n二、帮扶工作\n慰问职工20户。\n"
            "三、民主管理\n召开职代会1次。\n四、文体活动\n举办职工运动会。\n"
            "下半年,街道工会将从以下几个方面抓好工作:\n一、扩大工会组织覆盖面\n继续推进建会。\n"
            "二、加强基层民主管理\n推进区域职代会建设。\n三、开展职工文体活动\n举办第二届职工游泳比赛。\n"
            "五、女职工工作\n组织三八健康讲座。\n")
    parts = _parts(text)
    assert [parts[t] for t in ("继续推进建会。", "二、加强基层民主管理", "推进区域职代会建设。", "举办第二届职工游泳比赛。")] == ["plans"] * 4
    assert parts["举办职工运动会。"] == parts["组织三八健康讲座。"] == ""


def test_structure_block_holds_no_relative_position():
    from toolkit.context import STRUCTURE_NAMES, structure_matrix

    records = sentence_records(segment_text("一、组织建设\n新建工会2家。\n二、帮扶\n慰问职工20户。")[0])
    m = structure_matrix(records)
    assert m.shape == (len(records), len(STRUCTURE_NAMES))
    assert m[:, STRUCTURE_NAMES.index("is_heading")].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert not any(name.startswith("pos_") for name in STRUCTURE_NAMES)


def test_a_section_number_run_into_the_opening_ends_the_overview_there():
    """On a page that lost its line breaks the first section starts inside the opening paragraph:
    from that sentence on, the overview evidence no longer speaks for the label."""
    text = ("20xx年,镇总工会在市总工会的领导下,围绕中心工作开展工作。其具体工作简要汇报如下:一、区域工资集体协商工作成效突出。"
            "我镇成立了区域工资集体协商工作领导小组。\n"
            "二、基层工会规范化建设\n新建基层工会12家。\n")
    evidence = [(r["text"], r["evidence"]) for r in sentence_records(segment_text(text)[0])]
    assert evidence[0] == ("20xx年,镇总工会在市总工会的领导下,围绕中心工作开展工作。", "overview:first-paragraph")
    assert [e for _, e in evidence[1:3]] == ["", ""]
    plain = sentence_records(segment_text("20xx年,镇总工会在市总工会的领导下开展工作。现将工作总结如下。\n一、组织建设\n新建基层工会12家。\n")[0])
    assert [r["evidence"] for r in plain[:2]] == ["overview:first-paragraph"] * 2  # an opening without a run-in number keeps it


def test_a_run_on_page_blurb_is_a_page_line_and_the_opening_after_it_is_the_overview():
    blurb = "工会总结范本【导读】网友为您整理的范本,仅供参考。"
    opening = "20xx年,机关工会在党组领导下,围绕中心工作开展了以下工作。"
    report = segment_text(blurb + opening + "新建工会小组3个,发展会员40人。" * 20 + "\n一、组织建设\n新建分会3个。")[0]
    records = sentence_records(report)
    assert records[0]["evidence"] == "other:page"
    assert records[1]["text"] == opening and records[1]["evidence"] == "overview:first-paragraph"


def test_the_reports_own_title_is_not_its_first_paragraph_nor_its_first_heading():
    report = segment_text("首页 > 范文\n机关工会工作总结范文\n20xx年,机关工会在党组领导下开展了以下工作。\n"
                          "一、组织建设\n新建分会3个。\n二、文体活动\n举办运动会。")[0]
    records = sentence_records(report)
    assert [r["evidence"] for r in records[:3]] == ["other:page", "overview:title", "overview:first-paragraph"]
