"""The 14 standard sections of a trade-union work report: the one place they are defined.

The Label Studio config, the guidelines' label list, the annotation store's validation, the model
card and the tagger's section order all derive from :data:`LABELS`.
"""

from __future__ import annotations

from dataclasses import dataclass

from toolkit.errors import UnknownLabelError

TAXONOMY_VERSION = "2026.11-1"


@dataclass(frozen=True)
class Label:
    """One standard section: slug used by code and files, Chinese name shown to people."""

    slug: str
    name: str
    description: str
    hotkey: str


LABELS: tuple[Label, ...] = (
    Label("overview", "总体概述", "Opening framing: who led and guided the work, guiding ideology, overall approach and results of the year, \"现将工作总结如下\".", "1"),
    Label("organization", "组织与自身建设", "Founding unions and recruiting members, elections and 换届, staffing, rules and 规范化建设, finance, dues and audit (经费、经审), 职工之家 as organisation building, 党建带工建, legal-person registration, information and reporting work.", "2"),
    Label("education", "思想教育与培训", "Political and theoretical study, training of union cadres, workers' skills training and 素质工程, reading and 职工书屋, 学习型组织, legal education campaigns.", "3"),
    Label("democracy", "民主管理", "Workers'/teachers' congresses (职代会、教代会), 厂务/校务/企务公开, democratic evaluation of leaders, taking part in decisions, passing workers' opinions upward.", "4"),
    Label("rights", "维权与劳动关系", "Labour contracts, collective contracts, wage collective bargaining, labour-dispute early warning and mediation, legal aid, harmonious labour relations campaigns.", "5"),
    Label("assistance", "帮扶与服务", "Hardship files and aid, 送温暖 and condolence visits, 金秋助学, re-employment help for laid-off workers, medical mutual aid, health checks and recuperation, summer cooling goods.", "6"),
    Label("competition", "劳动竞赛与建功立业", "Labour competitions, skills contests, technical innovation and rationalisation proposals, 工人先锋号, 名师带高徒, model workers and 五一劳动奖章, quality-service campaigns, the union's part in production and business goals.", "7"),
    Label("safety", "安全生产与劳动保护", "安康杯, safety-production month, labour-protection supervision, safety inspections and safety training.", "8"),
    Label("women", "女职工工作", "Women workers' committee, 三八 activities, special collective contracts for women's rights, 巾帼 campaigns, women's health lectures. Women-specific content goes here first.", "9"),
    Label("culture", "文体活动与职工文化", "Sports and cultural events, clubs and associations, festivals and parties, enterprise culture, cultural venues.", "0"),
    Label("problems", "存在问题与不足", "Shortcomings, gaps and difficulties the report admits.", "q"),
    Label("plans", "今后工作打算", "What the union will do next: plans, goals and intentions for the coming period.", "w"),
    Label("closing", "结束语", "Closing summary and vow: \"总之…\", \"一年来…取得了一定成绩\", \"为…做出新的贡献\".", "e"),
    Label("other", "其他", "Anything that fits none of the above: charity drives, disaster relief, greetings, stray fragments.", "r"),
)

DESCRIPTIONS_ZH: dict[str, str] = {
    "overview": "开篇的总体交代：在谁的领导和指导下开展工作、指导思想、全年的总体思路和成效，“现将工作总结如下”。",
    "organization": "建会和发展会员，选举与换届，人员配备，制度与规范化建设，经费、会费与经审，作为组织建设的职工之家，"
                    "党建带工建，法人资格登记，信息与报送工作。",
    "education": "政治理论学习，工会干部培训，职工技能培训与素质工程，读书活动与职工书屋，学习型组织，普法宣传教育。",
    "democracy": "职代会、教代会，厂务/校务/企务公开，民主评议领导干部，参与决策，向上反映职工意见。",
    "rights": "劳动合同，集体合同，工资集体协商，劳动争议预警与调解，法律援助，构建和谐劳动关系活动。",
    "assistance": "困难职工建档与帮扶，送温暖与走访慰问，金秋助学，下岗职工再就业帮扶，医疗互助，体检与疗休养，夏季送清凉。",
    "competition": "劳动竞赛，技能比武，技术创新与合理化建议，工人先锋号，名师带高徒，劳动模范与五一劳动奖章，优质服务活动，"
                   "工会在生产经营目标中的作用。",
    "safety": "安康杯，安全生产月，劳动保护监督，安全检查与安全培训。",
    "women": "女职工委员会，三八节活动，女职工权益保护专项集体合同，巾帼建功活动，女职工健康讲座。专门针对女职工的内容优先归入此类。",
    "culture": "文体活动，文体协会与兴趣小组，节日与联欢活动，企业文化，文化活动场所。",
    "problems": "报告承认的不足、差距和困难。",
    "plans": "工会下一步要做的事：今后一段时期的打算、目标和设想。",
    "closing": "结尾的总结与表态：“总之……”“一年来……取得了一定成绩”“为……做出新的贡献”。",
    "other": "不属于以上任何一类的内容：慈善募捐、抗灾救灾、问候语、零散片段。",
}
"""Each label's description in Chinese, shown to annotators before the English one."""

COLOURS: dict[str, tuple[str, str]] = {
    "overview": ("#77AADD", "浅蓝 light blue"),
    "organization": ("#EEDD88", "浅黄 light yellow"),
    "education": ("#44BB99", "薄荷绿 mint"),
    "democracy": ("#BB88FF", "紫 violet"),
    "rights": ("#FFAABB", "粉 pink"),
    "assistance": ("#88CC88", "绿 green"),
    "competition": ("#AAFF00", "黄绿 lime"),
    "safety": ("#BBCC33", "梨绿 pear"),
    "women": ("#CCAACC", "灰紫 mauve"),
    "culture": ("#99DDFF", "天蓝 sky blue"),
    "problems": ("#EE8866", "橙 orange"),
    "plans": ("#88FFBB", "浅绿 pale green"),
    "closing": ("#AAAA00", "橄榄 olive"),
    "other": ("#DDDDDD", "浅灰 pale grey"),
}
"""Each section's colour in the HTML view and its name in the legend: Paul Tol's "light" scheme
(colour-blind safe) for nine, five more chosen to stay as far from all of them as the nine are from
each other. Any two differ by at least 10 CIE76 ΔE for normal vision and under simulated
protanopia, deuteranopia and tritanopia (Machado et al. 2009), and each keeps a contrast of at least
5.5:1 with the page's dark text (tested)."""

SLUGS: tuple[str, ...] = tuple(label.slug for label in LABELS)
BY_SLUG: dict[str, Label] = {label.slug: label for label in LABELS}
ORDER: dict[str, int] = {slug: i for i, slug in enumerate(SLUGS)}
TOPICS: tuple[str, ...] = ("organization", "education", "democracy", "rights", "assistance", "competition", "safety",
                           "women", "culture")
"""The year's work by category: what a sentence is about, unless the part it stands in decides."""
PARTS: tuple[str, ...] = ("overview", "problems", "plans", "other", "closing")
"""Parts of a report that label their sentences whatever their topic: the paragraphs before the
first heading, a section on problems, a plans part, a section on charity or disaster relief, the
closing paragraph (see the last hard case)."""

HARD_CASES: tuple[str, ...] = (
    "A heading gets the label of the section it opens.",
    "Label by what the sentence is about; where it says too little on its own, use its paragraph and heading.",
    "A sentence that admits a shortcoming is problems, even inside the closing paragraph; one that states what will be done is plans, even inside a problems paragraph.",
    "Re-employment training for laid-off workers is assistance; training to raise the skills of employed workers is education; a contest of skills is competition.",
    "Women-specific content is women before any other label.",
    "Inside a plans part (after a heading or lead-in such as \"今后的工作打算:\"), items are plans whatever their topic; before the first heading they are overview; in a section on problems, problems; in a section on charity or disaster relief they are other; in the closing paragraph, closing.",
    "Closing vow or plan? In the closing paragraph, a sentence that promises in general terms to go on and do better (\"今后,我们将继续努力,…为…做出新的贡献\") is closing; one that names a concrete task, target or measure for the next period (\"明年将开展职工技能比赛\") is plans, wherever it stands.",
)


HARD_CASES_ZH: tuple[str, ...] = (
    "标题标为它所开启的那一部分的板块。",
    "按句子讲的内容标注；句子本身信息不足时，参考它所在的段落和标题。",
    "承认不足的句子是存在问题与不足（problems），即使在结束语段落中；说明将要做什么的句子是今后工作打算（plans），即使在问题段落中。",
    "下岗职工再就业培训是帮扶与服务（assistance）；提高在岗职工技能的培训是思想教育与培训（education）；技能比赛是劳动竞赛（competition）。",
    "专门针对女职工的内容优先标为女职工工作（women）。",
    "在今后工作打算部分内（“今后的工作打算:”这类标题或引导语之后），各条都是 plans，不论主题；第一个标题之前的是 overview；"
    "问题部分内是 problems；慈善或救灾部分内是 other；结束语段落内是 closing。",
    "表态还是打算？在结束语段落中，笼统承诺继续努力、做得更好的句子（“今后,我们将继续努力,…为…做出新的贡献”）是 closing；"
    "提出下一阶段具体任务、目标或措施的句子（“明年将开展职工技能比赛”）是 plans，不论在哪里。",
)
""":data:`HARD_CASES` in Chinese, one for one, shown to annotators before the English."""


def hint(slug: str) -> str:
    """A label's description for annotators: Chinese first, then English.

    >>> hint("problems")
    '报告承认的不足、差距和困难。 / Shortcomings, gaps and difficulties the report admits.'
    """
    return f"{DESCRIPTIONS_ZH[slug]} / {BY_SLUG[slug].description}"


def check_label(label: str, where: str = "") -> str:
    """Return ``label`` if it is a known slug, else raise :class:`UnknownLabelError`.

    >>> check_label("safety")
    'safety'
    """
    if label not in BY_SLUG:
        prefix = f"{where}: " if where else ""
        raise UnknownLabelError(f"{prefix}unknown label {label!r}; expected one of {', '.join(SLUGS)}")
    return label


def label_name(slug: str) -> str:
    """Chinese name of a slug."""
    return BY_SLUG[slug].name
