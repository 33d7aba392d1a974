"""Weak labels: small named rules from headings, position and keywords.

Each rule looks at one sentence in its report and returns a slug or ``None`` (abstain). They give
annotators a first guess and the evaluation a baseline; :func:`rule_report` measures each rule's
coverage, its conflicts with the other rules and, where manual labels exist, its accuracy.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from toolkit.segment import Report, Sentence, is_report_title, is_signature, numbered_level

Rule = Callable[[Sentence, Report], "str | None"]

TOPIC_CUES: tuple[tuple[str, str], ...] = (
    ("women", r"女职工|女工|巾帼|三八|妇女|女性|女员工|女教职工|女教工|孕期|哺乳|母婴"),
    ("safety", r"安康杯|安全生产|劳动保护|安全检查|安全培训|隐患|安全教育|应急演练|消防"),
    ("democracy", r"职代会|教代会|职工代表大会|教职工代表大会|厂务公开|校务公开|政务公开|企务公开|民主管理|民主评议|民主"),
    ("rights", r"集体合同|劳动合同|工资集体协商|集体协商|劳动争议|劳动关系|法律援助|维权|调解|预警|和谐企业"),
    ("assistance", r"送温暖|金秋助学|困难职工|帮扶|帮困|慰问|救助|互助|疗休养|体检|再就业|下岗|送清凉|扶贫|助学|降温"),
    ("competition", r"劳动竞赛|技能比武|技能竞赛|技术革新|合理化建议|工人先锋号|劳模|劳动奖章|建功立业|名师带高徒|竞赛|技术创新|优质服务|合理化|生产经营|经济建设|技能比赛|技能大赛|技术能手|岗位练兵"),
    ("education", r"职工书屋|学习型|素质工程|培训|理论学习|政治学习|读书|普法|法制教育|学习"),
    ("culture", r"文体|文艺|运动会|体育|联欢|文化活动|俱乐部|比赛|健身|企业文化|娱乐|文化"),
    ("organization", r"组建|建会|入会|会员发展|发展会员|换届|选举|经审|经费|财务|规范化|职工之家|党建带工建|法人资格|自身建设|组织建设|信息|队伍|会费|审计"),
)
"""Cue words per topic, from the taxonomy's descriptions; the order is the taxonomy's priority
(women-specific content first)."""
_TOPICS = tuple((label, re.compile(pattern)) for label, pattern in TOPIC_CUES)
_PROBLEM = re.compile(r"不足|差距|问题|不够|有待|欠缺|薄弱|不完善|不明显|尚未|缺乏")
_PLAN = re.compile(r"^(今后|明年|下半年|下一步|新的一年|在新的一年|来年|XX年将|继续|进一步)|下半年|明年|来年|(将|要|拟|准备|计划)(继续|进一步|着力|认真|加强|完善|开展|组织|举办|推进|抓好|做好|在)|打算")
_CLOSING = re.compile(r"^(总之|综上|回顾|回首|一年来|相信)|取得了[^。]{0,8}成绩|做出[^。]{0,6}贡献|再创|再立新功|新业绩|越办越好")
_SALUTATION = re.compile(r"^(各位|尊敬的|同志们)")
_OTHER = re.compile(r"慈善|捐款|捐赠|募捐|捐献|献爱心|一日捐|献血|救灾|赈灾|灾区|抗洪|抗震|志愿|公益")


def topic_of(text: str) -> str | None:
    """The first topic whose cue occurs in ``text`` (the order encodes the taxonomy's priority)."""
    for label, pattern in _TOPICS:
        if pattern.search(text):
            return label
    return None


def topic_cues(text: str) -> list[str]:
    """Every topic whose cue occurs in ``text``, in the taxonomy's priority order."""
    return [label for label, pattern in _TOPICS if pattern.search(text)]


def off_topic(heading: str) -> bool:
    """A section heading about charity or disaster relief, and about no union topic: its content is ``other``."""
    return bool(heading) and bool(_OTHER.search(heading)) and topic_of(heading) is None


_CLOSING_PARAGRAPH = re.compile(_CLOSING.pattern + r"|^总的来[看说]|一年来的实践|来之不易|贡献力量|新的更大|更大的?贡献|"
                                 r"^(新的一年|展望\d{0,4}年?|展望未来|站在新的起点)[^。]{0,40}(再接再厉|奋力|努力|携手|砥砺|凝心)")


def closing_paragraph(report: Report) -> int:
    """Index of the report's closing paragraph, or -1: its last paragraph of text (signature, date
    and page lines after it do not count), unnumbered, looking back on the year or vowing in
    general terms."""
    if not report.sentences:
        return -1
    last = report.sentences[-1].paragraph
    while last > 0 and last < len(report.paragraphs) and (last in report.page_lines or _after_text(report.paragraphs[last])):
        last -= 1
    text = report.paragraphs[last] if last < len(report.paragraphs) else ""
    if numbered_level(text) or not _CLOSING_PARAGRAPH.search(text):
        return -1
    return last


def _after_text(paragraph: str) -> bool:
    """A signature or a title line: after a report's text, not part of it (page lines aside)."""
    return is_signature(paragraph) or is_report_title(paragraph)


def by_heading(sentence: Sentence, report: Report) -> str | None:
    """A sentence takes the label its section heading implies (problems/plans headings first)."""
    heading = sentence.text if sentence.is_heading and sentence.level == 1 else sentence.section
    if not heading:
        return None
    if re.search(r"打算|计划|思路|下半年|明年|今后", heading):
        return "plans"
    if re.search(r"问题|不足", heading):
        return "problems"
    return topic_of(heading)


def by_opening_position(sentence: Sentence, report: Report) -> str | None:
    """Sentences of the paragraphs before the first heading are the overview."""
    first_heading = next((s.paragraph for s in report.sentences if s.is_heading), None)
    if first_heading is not None and sentence.paragraph < first_heading and not _SALUTATION.match(sentence.text):
        return "overview"
    return None


def by_closing_position(sentence: Sentence, report: Report) -> str | None:
    """The last paragraph's sentences that look back on the year are the closing."""
    last = report.sentences[-1].paragraph if report.sentences else -1
    if sentence.paragraph == last and not sentence.is_heading and _CLOSING.search(sentence.text):
        return "closing"
    return None


def by_problem_words(sentence: Sentence, report: Report) -> str | None:
    """A sentence that admits a shortcoming is problems."""
    return "problems" if _PROBLEM.search(sentence.text) and not _PLAN.search(sentence.text) else None


def by_plan_words(sentence: Sentence, report: Report) -> str | None:
    """A sentence that says what will be done next is plans."""
    return "plans" if _PLAN.search(sentence.text) else None


def by_keywords(sentence: Sentence, report: Report) -> str | None:
    """Topic keywords in the sentence itself (安康杯 → safety, 职代会 → democracy, 三八 → women …)."""
    return topic_of(sentence.text)


def by_salutation(sentence: Sentence, report: Report) -> str | None:
    """A greeting ("各位领导、同志们:") is other."""
    return "other" if _SALUTATION.match(sentence.text) else None


RULES: dict[str, Rule] = {
    "salutation": by_salutation,
    "opening_position": by_opening_position,
    "problem_words": by_problem_words,
    "plan_words": by_plan_words,
    "closing_position": by_closing_position,
    "heading": by_heading,
    "keywords": by_keywords,
}
"""In priority order: :func:`weak_label` takes the first rule that does not abstain."""


def apply_rules(reports: Iterable[Report]) -> dict[str, dict[str, str | None]]:
    """``{sentence_id: {rule_name: label_or_None}}`` for every distinct sentence (first occurrence)."""
    votes: dict[str, dict[str, str | None]] = {}
    for report in reports:
        for sentence in report.sentences:
            if sentence.id not in votes:
                votes[sentence.id] = {name: rule(sentence, report) for name, rule in RULES.items()}
    return votes


def combine(votes: Mapping[str, str | None]) -> str | None:
    """The first non-abstaining rule's label, in :data:`RULES` order."""
    return next((label for label in votes.values() if label is not None), None)


def weak_labels(reports: Iterable[Report]) -> dict[str, str | None]:
    """The combined weak label of every distinct sentence (``None`` where every rule abstains)."""
    return {sid: combine(v) for sid, v in apply_rules(reports).items()}


@dataclass(frozen=True)
class RuleStats:
    """Coverage, conflicts and accuracy of one rule (accuracy is ``None`` without manual labels)."""

    name: str
    coverage: float
    covered: int
    conflicts: int
    accuracy: float | None
    checked: int


def rule_report(
    votes: Mapping[str, Mapping[str, str | None]], gold: Mapping[str, str] | None = None
) -> list[RuleStats]:
    """Per rule: share of sentences it labels, how many of those another rule labels differently,
    and its accuracy on sentences that have a manual label."""
    gold = gold or {}
    total = max(len(votes), 1)
    out = []
    for name in list(RULES) + ["combined"]:
        covered = conflicts = right = checked = 0
        for sid, v in votes.items():
            label = combine(v) if name == "combined" else v[name]
            if label is None:
                continue
            covered += 1
            others = {x for k, x in v.items() if k != name and x is not None}
            conflicts += name != "combined" and bool(others - {label})
            if sid in gold:
                checked += 1
                right += gold[sid] == label
        out.append(RuleStats(name, covered / total, covered, conflicts, right / checked if checked else None, checked))
    return out


def label_counts(labels: Iterable[str | None]) -> Counter:
    """Counts of labels, ``None`` counted as ``"(none)"``."""
    return Counter(label or "(none)" for label in labels)


CUE_NAMES: tuple[str, ...] = tuple(label for label, _ in TOPIC_CUES) + ("problems", "plans", "closing", "other")
_CUE_PATTERNS = tuple(p for _, p in _TOPICS) + (_PROBLEM, _PLAN, _CLOSING, _OTHER)


_CUE_PATTERNS_MULTILINE = tuple(re.compile(p.pattern, re.MULTILINE) for p in _CUE_PATTERNS)
_CUE_SEPARATOR = "。\n"
"""Joins texts for :func:`cue_matrix`: no cue spans a "。" or a newline, and ``^`` (multi-line)
matches at the start of every text, so each text is matched as on its own."""


def cue_matrix(texts: Sequence[str]) -> np.ndarray:
    """1.0 for each cue family (:data:`CUE_NAMES`) whose words occur in each of ``texts``, rows in
    ``texts`` order: one regex scan per family over all distinct texts joined, not one search per
    text and family."""
    distinct = list(dict.fromkeys(texts))
    starts = np.cumsum([0] + [len(t) + len(_CUE_SEPARATOR) for t in distinct[:-1]]) if distinct else np.zeros(0, int)
    joined = _CUE_SEPARATOR.join(distinct)
    out = np.zeros((len(distinct), len(_CUE_PATTERNS_MULTILINE)))
    for j, pattern in enumerate(_CUE_PATTERNS_MULTILINE):
        hits = [m.start() for m in pattern.finditer(joined)]
        if hits:
            out[np.searchsorted(starts, hits, side="right") - 1, j] = 1.0
    row = {t: i for i, t in enumerate(distinct)}
    return out[[row[t] for t in texts]] if distinct else out.reshape(0, len(_CUE_PATTERNS_MULTILINE))
