"""Cutting report text into reports, paragraphs, headings and sentences, with stable ids.

Decisions (see README, "Segmentation"):

* **Paragraphs** are non-blank lines.
* **Sentences** end at 。 ! ? (full-width forms are normalised to these) and at line ends, never
  inside “”「」『』‘’ or 《》 (an opener whose closer never comes within the paragraph is ignored,
  so one stray quote cannot swallow a paragraph). Closing quotes and brackets right after a
  terminator stay with its sentence.
* **Enumerations** "一是…;二是…;三是…" are split at the semicolons, one item per sentence (each
  item may belong to a different section); the lead-in stays with the first item. Any other
  sentence longer than :data:`LONG_SENTENCE` characters is also split at its semicolons.
* **Overlong sentences** (text with no stop punctuation, or a file without line breaks) are cut so
  that no sentence is longer than :data:`MAX_SENTENCE` characters: at commas (as many clauses to a
  piece as fit), and a clause still too long at every :data:`MAX_SENTENCE` characters. The pieces
  keep their order and together hold the whole sentence. No sentence of the corpus is that long
  (the longest has 270 characters), so no id of it moves.
* **Overlong lines and reports**: a line longer than :data:`MAX_PARAGRAPH` characters is cut into
  paragraphs after the last sentence end that fits (else the last comma, else at the limit), and a
  report longer than :data:`MAX_REPORT` characters into consecutive reports of whole paragraphs,
  so a file without line breaks is tagged in bounded memory. Real paragraphs and reports are far
  shorter (the corpus's longest: 1,584 and 5,206 characters).
* **Headings**: "一、" (level 1), "(一)" (2), "1、"/"1." (3), "(1)" (4), and short lines ending in a
  colon ("今后的工作打算:", level 1). A numbered paragraph whose first sentence is short
  ("1、调整充实人员力量。根据…") has that sentence as a run-in heading.
* **Reports** in one file are found by :func:`report_starts`: an opening paragraph after a
  non-opening one, or heading numbering that restarts at "一、".
* **Titles**: of the lines naming a report before its text, the last is its own title
  (:attr:`Report.title_line`); the others, a page's stacked site, collection and page titles, are
  page lines (:attr:`Report.page_lines`).
* **Ids**: a sentence's id is a hash of its text, so it does not move when reports are added
  before it, and the same sentence in a near-duplicate report has the same id (labelled once).
  A report's id hashes its whole text (a second identical copy in the same run, in the same file
  or another, gets ``-2``); a group's id is the smallest report id in the group.
* **Text as written**: all of the above works on normalised text (:func:`toolkit.textio.normalize`);
  every paragraph and sentence also keeps its span of the input as written (full-width
  punctuation, odd spaces), which is what outputs show to readers.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property

from toolkit.nearduplicates import assign_groups
from toolkit.textio import cut_line, normalize, split_lines, written_offsets, written_span

LONG_SENTENCE = 150
MAX_SENTENCE = 300
"""No sentence is longer than this many characters (see :func:`cut_long`): the tokenizer and the
features of one sentence then cost bounded memory and time whatever the input."""
MAX_PARAGRAPH = 20_000
"""A longer line is cut into paragraphs at sentence ends (see :func:`cut_paragraph`)."""
MAX_REPORT = 100_000
"""A longer report is cut into consecutive reports of whole paragraphs (see :func:`cut_report`)."""
HOLD_REPORT = 10 * MAX_REPORT
"""Characters of one report the segmenter holds before it yields its first :data:`MAX_REPORT`
characters without waiting for the report's end (see :func:`iter_report_paragraphs`)."""

_TERMINATORS = "。!?"
_CLOSERS_AFTER = "”’」』)》\"'"
_PAIRS = {"“": "”", "‘": "’", "「": "」", "『": "』", "《": "》"}
_MAX_QUOTE = 200
_ENUMERATION = re.compile(r"[一二三四五六七八九十]是")
_NUM_CN = "一二三四五六七八九十"
_HEADING_PATTERNS = (
    (1, re.compile(rf"^[{_NUM_CN}]{{1,3}}[、.]")),
    (2, re.compile(rf"^\([{_NUM_CN}]{{1,3}}\)")),
    (3, re.compile(r"^\d{1,2}(?:、|\.(?!\d))")),
    (4, re.compile(r"^\(\d{1,2}\)")),
)
_NUMBERED = re.compile("|".join(f"({pattern.pattern.removeprefix('^')})" for _, pattern in _HEADING_PATTERNS))
"""All numbering patterns in one: the number of the group that matched is the level."""
_TITLE_MAX = 20
_TITLE_BREAKS = re.compile(r"[,;:、]")
_PART_HEADING = re.compile(rf"^第[{_NUM_CN}]{{1,3}}部分")
""""第一部分 主要工作" divides a report like a level-1 heading."""
_ORDINAL = re.compile(rf"^第[{_NUM_CN}]{{1,3}}[,、:]")
""""第一,以教代会为载体,推进民主管理。…" opens a section like "一、": its first sentence is the heading."""
_ORDINAL_RUN_IN_MAX = 40
_JUNK = re.compile(
    r"^(首页|当前位置|您的位置|位置[::])|[>›»]\s*\S+\s*[>›»]|^(发布|发表|更新)(时间|日期)|^(时间|日期)[::]\s*\d{4}|^(来源|作者|责任编辑|编辑|浏览|阅读|点击)"
    r"(次数|量)?[::]|(浏览|阅读|点击)(次数|量)?[::]?\s*\d+次?$|^(上一篇|下一篇|上一页|下一页|相关(推荐|阅读|文章|范文)|"
    r"热门(推荐|文章)|推荐阅读|返回(顶部|首页|列表)|打印(本页)?|关闭(窗口)?|分享到|【?(打印|关闭|收藏)】?$)|"
    r"^-\s*\d{1,3}\s*-$|^第\s*\d{1,3}\s*页|共\s*\d{1,3}\s*页$|^\d{1,3}\s*/\s*\d{1,3}$|^\d{1,3}$|"
    r"(范文|文库|文档|文秘|资料|公文|写作)(网|大全|频道)|网\s*[-_|]|[-_|]\s*\S{0,12}(网|频道)$|(版权所有|Copyright|ICP备)|"
    r"[(( ](精选|优秀|通用|热门|实用|优质|最新|经典|推荐)?([\d一二三四五六七八九十]{1,2}|多)篇[))]|^\S{1,12}网$|"
    r"(总结|范文|报告|思路|计划|材料|大全|汇编)\S{0,4}\d{1,2}篇$|^(以下|下面)是?小编|小编(为大家|精心)?(整理|收集|编辑)|欢迎(阅读|参考|借鉴)|^您(的|现在的)?(当前)?位置|人气[::]|"
    r"^(摘要|关键词)[::]?$|^(搜索|登录|注册|文档简介|文档介绍|全文阅读|立即下载|下载文档)$")
"""Lines that belong to the page, not the report: site navigation and buttons, publishing data, page numbers."""
_SEPARATOR = re.compile(rf"^(篇|范文|例文|第)\s*([{_NUM_CN}]{{1,3}}|\d{{1,2}})\s*(篇)?[::]?$")
""""篇2", "范文三", "第二篇": a page of sample reports announces the next one."""
_REPORT_TITLE = re.compile(r"(工作总结|工作报告|工作汇报|工作回顾|述职报告)(\(.{0,12}\))?$")
_SALUTATION = re.compile(r"^(各位|尊敬的|同志们)")
_GREETING_MAX = 20
"""A salutation opens a report only as a short greeting line ("各位代表:"), not as the start of a
closing vow ("各位代表,在新的一年里…")."""
_OPENING_CUE = re.compile(r"(领导|指导|关心|支持|帮助)下")
_OPENING_START = re.compile(r"^(20|2x|XX|xx|今年|一年来|本年度|\d{4}年)", re.IGNORECASE)
_LOOKING_BACK = re.compile(r"^(总之|综上|回顾|回首|让我们|我们坚信|相信|我们相信)|展望|不足|差距|今后|新的一年|下一年|"
                           r"(将|要)(继续)?在[^。]{0,40}(领导|指导|关心|支持)下|^(今年|\d{4}年)[一二三四五六七八九十\d]{1,2}月")
_MODEST_LOOK_BACK = re.compile(r"做了一些工作|做了一定的工作|取得了一定的?成绩")
"""Near the start of a paragraph, the closing's modest look back ("一年来…做了一些工作"), which
otherwise reads like an opening ("一年来…在…领导下")."""
_CLOSING_CUE = re.compile(_LOOKING_BACK.pattern + r"|取得了[^。]{0,6}成绩|再创|新贡献|再立新功")
LEAD_IN = re.compile(r"以下|如下|[::]$")
"""A lead-in to a list ("…从以下几个方面:", "…总结如下:")."""


@dataclass(frozen=True)
class Sentence:
    """One sentence of a report, with where it stands and under which heading."""

    id: str
    report: str
    group: str
    paragraph: int
    index: int
    heading: str
    is_heading: bool
    text: str
    level: int = 0
    section: str = ""
    position: float = 0.0
    as_written: str = ""
    """The sentence as it stands in the input (``text`` is normalised for features and ids)."""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Report:
    """A report: its paragraphs (lines, normalised) and, once segmented, its sentences.
    ``as_written`` holds the same paragraphs as they stand in the input (empty: as ``paragraphs``)."""

    id: str
    paragraphs: list[str]
    source: str = ""
    group: str = ""
    sentences: list[Sentence] = field(default_factory=list)
    as_written: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)

    @cached_property
    def page_lines(self) -> frozenset[int]:
        """The paragraphs that are the page around the report, by index: :func:`is_junk` lines
        (breadcrumbs, "上一篇", page numbers…) and the page's titles before the report's own
        (:attr:`title_line`): found once per report, read by the context, the rules, the title line
        and the outputs."""
        return self._front[1]

    @cached_property
    def title_line(self) -> int:
        """The paragraph that is the report's own title, or -1: of the title lines before its first
        paragraph of text, the last; a page of sample reports repeats its own title and the
        collection's ("教育工会工作总结(15篇)") before the report's ("第1篇 教育工会工作总结").
        A collection's title is never the report's, nor is a title followed by nothing but the page
        unless it is marked as one of the collection ("篇1", "第二篇"). A subtitle ("——在…
        大会上的报告") belongs to the title above it."""
        return self._front[0]

    @cached_property
    def _front(self) -> tuple[int, frozenset[int]]:
        junk = {i for i, p in enumerate(self.paragraphs) if is_junk(p)}
        titles = []
        for i, p in enumerate(self.paragraphs):
            if i in junk:
                continue
            if _is_text(p):
                break
            if _NAMES_REPORT.search(p) and not (titles and p.startswith("—")):  # short, unnumbered, no stop or comma: a title
                titles.append(i)
        if not titles:
            return -1, frozenset(junk)
        own = titles[-1]
        page_after = all(i in junk for i in range(own + 1, len(self.paragraphs)))
        if _COLLECTION.search(self.paragraphs[own]) or (page_after and not _SAMPLE_AFFIX.search(self.paragraphs[own])):
            return -1, frozenset(junk | set(titles))
        return own, frozenset(junk | set(titles[:-1]))


def text_id(text: str, prefix: str = "s") -> str:
    """A short stable id from text: the same text always gives the same id.

    >>> text_id("一、组织建设")
    's8d2cd19fa8b0'
    """
    return prefix + hashlib.blake2b(text.strip().encode("utf-8"), digest_size=6).hexdigest()


def split_paragraphs(text: str) -> list[str]:
    """Non-blank lines, stripped."""
    return [line.strip() for line in text.split("\n") if line.strip()]


def _quote_end(text: str, start: int) -> int:
    """Index of the closer matching the opener at ``start``, or -1 if it does not close soon."""
    closer = _PAIRS[text[start]]
    end = text.find(closer, start + 1, start + 1 + _MAX_QUOTE)
    return end


def _raw_sentences(paragraph: str) -> list[str]:
    out, begin, i, n = [], 0, 0, len(paragraph)
    while i < n:
        ch = paragraph[i]
        if ch in _PAIRS:
            end = _quote_end(paragraph, i)
            if end > 0:
                i = end + 1
                continue
        elif ch in _TERMINATORS:
            i += 1
            while i < n and (paragraph[i] in _TERMINATORS or paragraph[i] in _CLOSERS_AFTER):
                i += 1
            out.append(paragraph[begin:i])
            begin = i
            continue
        i += 1
    if begin < n:
        out.append(paragraph[begin:])
    return [s.strip() for s in out if s.strip()]


def _split_semicolons(sentence: str) -> list[str]:
    parts, begin, i, n = [], 0, 0, len(sentence)
    while i < n:
        ch = sentence[i]
        if ch in _PAIRS:
            end = _quote_end(sentence, i)
            if end > 0:
                i = end + 1
                continue
        elif ch == ";":
            parts.append(sentence[begin : i + 1])
            begin = i + 1
        i += 1
    parts.append(sentence[begin:])
    return [p.strip() for p in parts if p.strip()]


_COMMA = re.compile(r"(?<=[,,])")


def cut_long(sentence: str, limit: int = MAX_SENTENCE) -> list[str]:
    """``sentence`` cut into pieces of at most ``limit`` characters: after commas, with as many
    clauses to a piece as fit, then a clause still too long every ``limit`` characters. Joined, the
    pieces are the sentence; one that fits is returned whole.

    >>> cut_long("甲乙," * 3 + "丙" * 5, limit=6)
    ['甲乙,甲乙,', '甲乙,', '丙丙丙丙丙']
    >>> cut_long("丙" * 5, limit=2)
    ['丙丙', '丙丙', '丙']
    """
    if len(sentence) <= limit:
        return [sentence]
    pieces: list[str] = []
    current = ""
    for clause in _COMMA.split(sentence):
        if len(current) + len(clause) <= limit:
            current += clause
            continue
        if current:
            pieces.append(current)
        while len(clause) > limit:
            pieces.append(clause[:limit])
            clause = clause[limit:]
        current = clause
    if current:
        pieces.append(current)
    return pieces


_SENTENCE_END = re.compile(rf"[{_TERMINATORS}][{_TERMINATORS}{re.escape(_CLOSERS_AFTER)}]*")


def cut_paragraph(line: str, limit: int = MAX_PARAGRAPH) -> list[str]:
    """``line`` cut into pieces of at most ``limit`` characters, each ending after the last sentence
    end that fits (closing quotes included), else after the last comma, else at ``limit``. Joined,
    the pieces are the line.

    >>> cut_paragraph("一二。三四五。六七", limit=5)
    ['一二。', '三四五。', '六七']
    """
    return cut_line(line, limit, _SENTENCE_END)


def cut_report(paragraphs: list[str], limit: int = MAX_REPORT) -> Iterator[list[str]]:
    """``paragraphs`` of one report in consecutive runs of at most ``limit`` characters (a run
    holds at least one paragraph), in order.

    >>> list(cut_report(["一二", "三四", "五"], limit=4))
    [['一二', '三四'], ['五']]
    """
    start, size = 0, 0
    for i, paragraph in enumerate(paragraphs):
        if i > start and size + len(paragraph) > limit:
            yield paragraphs[start:i]
            start, size = i, 0
        size += len(paragraph)
    if paragraphs:
        yield paragraphs[start:]


def split_sentences(paragraph: str) -> list[str]:
    """Split one paragraph into sentences (see the module docstring for the rules).

    >>> split_sentences("他说:“好。我们走。”大家同意。开展《工会法。》学习!")
    ['他说:“好。我们走。”大家同意。', '开展《工会法。》学习!']
    """
    out: list[str] = []
    for sentence in _raw_sentences(paragraph):
        if ";" in sentence and (len(_ENUMERATION.findall(sentence)) >= 2 or len(sentence) > LONG_SENTENCE):
            parts = _split_semicolons(sentence)
        else:
            parts = [sentence]
        out.extend(piece.strip() for part in parts for piece in cut_long(part) if piece.strip())
    return out


def numbered_level(line: str) -> int:
    """Heading level implied by the numbering at the start of ``line`` (0 if none).

    >>> [numbered_level(s) for s in ("一、组织", "(二)民主", "3、帮扶", "(4)安全", "1.5万人", "工会")]
    [1, 2, 3, 4, 0, 0]
    """
    match = _NUMBERED.match(line)
    if match:
        return match.lastindex
    return 1 if _PART_HEADING.match(line) or _ORDINAL.match(line) else 0


_BLURB = re.compile(r"小编|^总结是|^本文(是|为|主要|介绍|回顾|收集|整理)|(如何|怎么|怎样)(才能)?(写|把)[^。]{0,16}(总结|报告)|写好?一篇[^。]{0,12}(总结|报告)|"
                    r"(总结|报告)(要|该|应该)?(怎么|如何)写|(书写|撰写|写作)[^。]{0,6}(总结|报告)[^。]{0,4}(要用|要求|有哪些)|(总结|报告)在?(写作|书写)(时|有哪些)|"
                    r"(以下|下面)(是|为)[^。]{0,16}(为|给)(大家|你|您)[^。]{0,10}(整理|收集|搜集|带来|准备|推荐|分享|精选)|"
                    r"原创力文档|VIP(文档|会员)|付费(下载|前)|二次下载|(下载|上传)(本|该)?文档|本站(所有|不对|不保证|规则)|侵犯(著作权|商业秘密)|"
                    r"不支持退款|如有疑问请联系|写作神器|版权说明|由用户(提供并)?上传|收益归属|举报或认领|欢迎(来到|访问)[^。,]{0,12}(网|站)|"
                    r"网友为(您|你|大家)|【导读|仅供(大家|您)?参考|以供[^。]{0,6}参考|希望对(您|你|大家)有所帮助|由会员分享[,,]?可在线阅读|"
                    r"分享文档赚钱")
"""A site's blurb about the article or about writing summaries ("本文是一篇…的工作总结,主要包括…",
"总结是…的书面材料…以下是小编整理的…", "下面是我给大家整理的报告范文", "报告书写有哪些要求呢?",
"…仅供参考", "【导读引言】网友为您整理收集的…"), a site's greeting ("您好,欢迎来到…网。"), or a
document site's notices ("本站不对文档的完整性…", "成为VIP后…", "下载后,不支持退款", "版权说明:本文档由
用户提供并上传…", "《….doc》由会员分享,可在线阅读…"), whatever its length."""
_MARKUP = re.compile(r"^\s*(<(image|img|svg)\b|data:image/)|^\s*(</?(p|br|div|span)\b[^>]*>|/?p>)\s*$|^[\s?\uff1f\ufffd]+$",
                     re.IGNORECASE)
"""What a page's extraction left of its markup, not text: an inline image ("<image>data:image/…"), a
stray tag ("/p>"), or a line of only question marks where an encoding was lost ("???")."""


def is_junk(line: str) -> bool:
    """A line of the web page or the printed page around a report (breadcrumbs, "发布时间:…",
    "上一篇", page numbers, "篇2"), not part of its text. The answer for a line of up to
    :data:`_JUNK_MAX` characters is remembered for the last few thousand such lines (the segmenter
    asks while finding reports, :attr:`Report.page_lines` again for each report); a longer line is
    never junk, and is not kept (a file without line breaks has thousands of 20,000-character ones).

    >>> [is_junk(s) for s in ("首页 > 范文 > 工作总结", "- 3 -", "第2页 共5页", "篇2", "一、组织建设")]
    [True, True, True, True, False]
    """
    return len(line) <= _JUNK_MAX and _short_junk(line)


_JUNK_MAX = 400


@functools.lru_cache(maxsize=4096)
def _short_junk(line: str) -> bool:
    return ((len(line) <= 60 and bool(_JUNK.search(line) or _SEPARATOR.match(line))) or bool(_BLURB.search(line))
            or bool(_MARKUP.match(line)))


def is_report_title(line: str) -> bool:
    """A short line naming a report ("XX公司工会2023年工作总结"): it begins the report it names."""
    return (len(line) <= 40 and not _has_terminal_stop(line) and bool(_REPORT_TITLE.search(_SAMPLE_AFFIX.sub("", line)))
            and not is_junk(line) and not numbered_level(line))


_NAMES_REPORT = re.compile(r"总结|报告|汇报|小结|總結|報告")
_COLLECTION = re.compile(rf"(?<![第{_NUM_CN}\d])[{_NUM_CN}\d]{{1,3}}\s*篇(?![{_NUM_CN}\d])|多篇")
""""工会工作总结(实用5篇)", "区教育工会总结12篇": the title of a page of sample reports."""
_SAMPLE_AFFIX = re.compile(rf"^【?(第\s*[{_NUM_CN}\d]{{1,3}}\s*篇|篇\s*[{_NUM_CN}\d]{{1,3}})】?[::\s]*|"
                           rf"\s*((篇\s*)?[{_NUM_CN}\d]{{1,3}}|[((][{_NUM_CN}\d]{{1,3}}[))])$")
""""第1篇 ", "【篇1】" before a title, " 篇1", "2", "(一)" after it: how a page of sample reports marks
one of them ("第1篇 区工会2023年工作总结", "区工会2023年工作总结 篇1")."""
_CLAUSE_BREAK = re.compile(r"[,;]")


def names_a_report(line: str) -> bool:
    """A short line that names a report and is not page furniture ("人民医院工会年度工作总结",
    "工会汇报材料", "林业工会工作总结范文"). A page often prints such a line more than once (the site's
    heading, the page's, the report's own), and which copy is the report's title is a guess."""
    return (len(line) <= 40 and not _has_terminal_stop(line) and not _CLAUSE_BREAK.search(line)
            and not LEAD_IN.search(line) and bool(_NAMES_REPORT.search(line)) and not _COLLECTION.search(line)
            and not is_junk(line))


def _is_text(paragraph: str) -> bool:
    """A paragraph of a report's text rather than its front matter (a title, a byline): a
    numbered heading, a sentence, or a line too long or too divided to be a title."""
    return bool(numbered_level(paragraph) or _has_terminal_stop(paragraph) or len(paragraph) > 40
                or _CLAUSE_BREAK.search(paragraph))


def _has_terminal_stop(text: str) -> bool:
    return text.rstrip("”’」』)》\"'")[-1:] in _TERMINATORS


def _is_title_line(paragraph: str) -> bool:
    """A short unnumbered line with no stop and no comma: a section title ("下步打算",
    "二〇二五年工作思路"); not a line of the page around the report, nor the report's own title."""
    return (0 < len(paragraph) <= _TITLE_MAX and not _has_terminal_stop(paragraph) and not _TITLE_BREAKS.search(paragraph)
            and not _SALUTATION.match(paragraph) and not is_junk(paragraph) and not is_report_title(paragraph))


def _is_lead_title(paragraph: str) -> bool:
    """A short line ending in a colon that is not a greeting: a title ("今后的工作打算:")."""
    return (0 < len(paragraph) <= _TITLE_MAX and paragraph[-1] in "::" and not _SALUTATION.match(paragraph))


def heading_level(paragraph: str, sentences: Sequence[str] | None = None) -> int:
    """Level of ``paragraph`` if the whole paragraph is a heading, else 0."""
    level = numbered_level(paragraph)
    if not level:
        if _is_title_line(paragraph):
            return 1
        if not _is_lead_title(paragraph):
            return 0
    sentences = split_sentences(paragraph) if sentences is None else sentences
    if len(sentences) != 1:
        return 0
    if level in (1, 2):
        return level if len(paragraph) <= 40 else 0
    if level in (3, 4):
        body = _HEADING_PATTERNS[level - 1][1].sub("", paragraph)
        plain = len(paragraph) <= 40 and not _has_terminal_stop(paragraph) and not re.search(r"\d", body)
        return level if plain else 0
    return 1


def run_in_heading(paragraph: str, sentences: Sequence[str]) -> int:
    """Level of a run-in heading (the short first sentence of a numbered paragraph), else 0."""
    if len(sentences) < 2:
        return 0
    level = numbered_level(paragraph)
    longest = _ORDINAL_RUN_IN_MAX if _ORDINAL.match(paragraph) else 20
    return level if level and len(sentences[0]) <= longest else 0


def is_opening(paragraph: str) -> bool:
    """Does ``paragraph`` read like the first paragraph of a report?"""
    if numbered_level(paragraph) or heading_level(paragraph):
        return False
    if _SALUTATION.match(paragraph):
        return len(paragraph) <= _GREETING_MAX and paragraph[-1] in "::!"
    if _LOOKING_BACK.search(paragraph):
        return False
    head = paragraph[:60]
    if _MODEST_LOOK_BACK.search(head):
        return False
    return bool(_OPENING_CUE.search(head) and (_OPENING_START.match(paragraph) or _OPENING_CUE.search(paragraph[:30])))


def _is_strong_opening(paragraph: str) -> bool:
    """An opening that dates itself or names who speaks ("2023年,…在…领导下", "社区工会在…领导下"):
    it begins a report after any paragraph. One that begins with "在" ("在公司党委的支持下,我们建成
    了…") may as well stand in the middle of a report, so it begins one only after a closing, a title
    or the page's own lines."""
    return is_opening(paragraph) and not paragraph.startswith("在")


def _ends_report(paragraph: str) -> bool:
    return is_closing(paragraph) or is_junk(paragraph) or is_report_title(paragraph) or is_signature(paragraph)


_SIGNATURE = re.compile(r"^(\S{2,30}(工会|委员会|联合会|女工委|办公室))?\s*((\d{4}|二〇[〇一二三四五六七八九]{2}|20[Xx]{2})年\S{1,3}月(\S{1,3}日)?)?$")


def is_signature(paragraph: str) -> bool:
    """A signature or date line closing a report ("XX公司工会 2023年12月28日").

    >>> [is_signature(s) for s in ("XX公司工会 2023年12月28日", "二〇二三年十二月", "一、组织建设")]
    [True, True, False]
    """
    return len(paragraph) <= 40 and bool(_SIGNATURE.match(paragraph))


def is_closing(paragraph: str) -> bool:
    """Does ``paragraph`` read like a report's closing (or problems/plans) paragraph?"""
    return not numbered_level(paragraph) and bool(_CLOSING_CUE.search(paragraph))


def top_numeral(paragraph: str) -> str:
    """The numeral of a level-1 heading ("三、…" → "三"), or ``""``."""
    return paragraph[0] if numbered_level(paragraph) == 1 else ""


def iter_report_paragraphs(paragraphs: Iterable[str], min_paragraphs: int = 3) -> Iterator[list[str]]:
    """Group a stream of paragraphs into reports, yielding each report as soon as the next begins.

    A report begins:

    * at a separator line of a page of sample reports ("篇2", "范文三") or a report's title line
      ("XX公司工会2023年工作总结");
    * at an opening paragraph (:func:`is_opening`) that follows a non-opening one, when it is
      dated ("2023年,…在…领导下") or follows a closing, a title or the page's own lines;
    * where level-1 numbering restarts at "一、" after a report that has used it. The new report
      then begins after the last closing paragraph since the previous level-1 heading, else at the
      "一、" heading itself, unless the paragraph before it is a lead-in ("…从以下几个方面:") and
      no closing paragraph came before it: that keeps the list in the same report (a half-year
      summary followed by its plans).

    A report needs ``min_paragraphs`` paragraphs of its own text (page lines do not count) before
    another may begin; a new report takes the title and separator lines just before it. Only the
    current report is held in memory, and of a report that runs past :data:`HOLD_REPORT`
    characters (text without line breaks and sentence ends, where no report begins) its first
    :data:`MAX_REPORT` characters are yielded as they come, as :func:`cut_report` would cut them.
    """
    buf: list[str] = []
    page: list[bool] = []  # is_junk of each paragraph of buf, found once
    content = 0  # paragraphs of buf that are the report's own text
    chars = 0  # characters of buf
    seen_top = False
    last_top = 0
    for paragraph in paragraphs:
        numeral = top_numeral(paragraph)
        junk = is_junk(paragraph)
        if not buf:
            buf.append(paragraph)
            page.append(junk)
            content = int(not junk)
            chars = len(paragraph)
            seen_top = numeral != ""
            continue
        i = len(buf)
        cut = None
        if content >= min_paragraphs:
            if _SEPARATOR.match(paragraph) or (is_report_title(paragraph) and not is_report_title(buf[-1])):
                cut = i
            elif is_opening(paragraph) and not is_opening(buf[-1]) and (_is_strong_opening(paragraph) or _ends_report(buf[-1])):
                cut = i
            elif numeral == "一" and seen_top:
                closing = next((j for j in range(i - 1, last_top, -1) if is_closing(buf[j])), None)
                if closing is not None:
                    cut = closing + 1
                elif not LEAD_IN.search(buf[-1]) and not heading_level(buf[-1]):
                    cut = i
            while cut is not None and cut > 1 and (_SEPARATOR.match(buf[cut - 1]) or is_report_title(buf[cut - 1])):
                cut -= 1
            if cut is not None and page[:cut].count(False) < min_paragraphs:
                cut = None
        buf.append(paragraph)
        page.append(junk)
        content += not junk
        chars += len(paragraph)
        if cut is not None:
            yield buf[:cut]
            buf, page = buf[cut:], page[cut:]
            content = page.count(False)
            chars = sum(map(len, buf))
            seen_top = any(top_numeral(p) for p in buf[:-1])
            last_top -= cut
        elif chars > HOLD_REPORT:
            head = next(cut_report(buf))
            yield head
            buf, page = buf[len(head):], page[len(head):]
            content = page.count(False)
            chars -= sum(map(len, head))
            last_top = max(last_top - len(head), -1)
        if numeral:
            seen_top = True
            last_top = len(buf) - 1
    if buf:
        yield buf


_INLINE_HEADING = re.compile(rf"(?<=[。!?])\s*(?=[{_NUM_CN}]{{1,3}}、|\([{_NUM_CN}]{{1,3}}\)|第[{_NUM_CN}]{{1,3}}(?:部分|[,、]))")
_RUN_ON = 400


def restore_breaks(line: str) -> list[str]:
    """A line that has lost its line breaks, cut back into paragraphs: after the page's blurb it opens
    with (:func:`blurb_end`), and, in a long line, before each heading number that follows a full
    stop ("…完成。二、加强组织建设…"). The cuts fall where sentences end anyway, so every sentence
    keeps its text (and id). Two such numbers at least: one alone may be a list inside a paragraph.

    >>> restore_breaks("一、组织。" + "新建工会。" * 80 + "二、帮扶。慰问职工。三、文体。举办比赛。")[-2:]
    ['二、帮扶。慰问职工。', '三、文体。举办比赛。']
    >>> restore_breaks("以下是小编整理的总结。一年来," + "新建工会。" * 80)[0]
    '以下是小编整理的总结。'
    """
    cut = blurb_end(line) if len(line) >= _RUN_ON or is_junk(line) else 0
    head, rest = ([line[:cut].strip()], line[cut:].strip()) if 0 < cut < len(line) else ([], line)
    if len(rest) < _RUN_ON:
        return head + [rest]
    parts = [p.strip() for p in _INLINE_HEADING.split(rest)]
    return head + ([p for p in parts if p] if len(parts) > 2 else [rest])


def blurb_end(line: str) -> int:
    """Where the page's blurb that a line opens with ends: after the last of the sentences ending
    within its first :data:`_JUNK_MAX` characters that is a blurb (:data:`_BLURB`), 0 when none
    is. A page that lost its line breaks runs its blurb into the report ("…精编多篇优质文档,以供您
    学习参考!时光在流逝…以下是小编精心整理的…。一年来,我校工会…"); the sentences between two
    blurb sentences are the page's too."""
    window = line[:_JUNK_MAX]
    sentences = _raw_sentences(window)
    if len(window) < len(line):
        sentences = sentences[:-1]  # the last one may go on past the window
    end = cursor = 0
    for sentence in sentences:
        cursor = window.find(sentence, cursor) + len(sentence)
        if _BLURB.search(sentence):
            end = cursor
    return end


def report_starts(paragraphs: Sequence[str], min_paragraphs: int = 3) -> list[int]:
    """Indices of the paragraphs that begin a report (see :func:`iter_report_paragraphs`)."""
    starts, position = [], 0
    for chunk in iter_report_paragraphs(paragraphs, min_paragraphs):
        starts.append(position)
        position += len(chunk)
    return starts


def _pieces_as_written(text: str, written: str, pieces: Sequence[str]) -> list[str]:
    """Each of ``pieces`` (stripped substrings of normalised ``text``, in order) as it stands in
    ``written``, the text as written behind ``text``."""
    if written == text:
        return list(pieces)
    offsets = None if len(written) == len(text) else written_offsets(written)  # only dropped marks move characters
    out, at = [], 0
    for piece in pieces:
        start = text.find(piece, at)
        at = start + len(piece)
        out.append(written_span(written, offsets, start, at))
    return out


def sentences_of(report: Report) -> list[Sentence]:
    """Sentences of one report with paragraph/sentence indices, heading context, ids, and their
    text as written."""
    rows: list[tuple[int, str, bool, int, str, str]] = []
    written_rows: list[str] = []
    stack: list[tuple[int, str]] = []
    written = report.as_written or report.paragraphs
    for p_index, paragraph in enumerate(report.paragraphs):
        parts = split_sentences(paragraph)
        written_rows += _pieces_as_written(paragraph, written[p_index], parts)
        whole = heading_level(paragraph, parts)
        run_in = 0 if whole else run_in_heading(paragraph, parts)
        numbered = numbered_level(paragraph)
        if numbered and not (whole or run_in):
            while stack and stack[-1][0] >= numbered:
                stack.pop()
        for s_index, text in enumerate(parts):
            level = whole or (run_in if s_index == 0 else 0)
            if level:
                while stack and stack[-1][0] >= level:
                    stack.pop()
                parent = stack[-1][1] if stack else ""
                stack.append((level, text))
                rows.append((p_index, text, True, level, parent, _section(stack)))
            else:
                rows.append((p_index, text, False, 0, stack[-1][1] if stack else "", _section(stack)))
    total = max(len(rows) - 1, 1)
    return [
        Sentence(
            id=text_id(text),
            report=report.id,
            group=report.group or report.id,
            paragraph=p_index,
            index=index,
            heading=heading,
            is_heading=is_heading,
            text=text,
            level=level,
            section=section,
            position=round(index / total, 4),
            as_written=as_written,
        )
        for index, ((p_index, text, is_heading, level, heading, section), as_written)
        in enumerate(zip(rows, written_rows))
    ]


def _section(stack: list[tuple[int, str]]) -> str:
    return stack[0][1] if stack else ""


class ReportIds:
    """Names reports for one run: a report's id hashes its text; a second identical copy, in the
    same file or another one of the run, gets ``-2``, a third ``-3``… Holds one counter per
    distinct report."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def name(self, paragraphs: Sequence[str]) -> str:
        base = text_id("\n".join(paragraphs), prefix="r")
        n = self.seen[base] = self.seen.get(base, 0) + 1
        return base if n == 1 else f"{base}-{n}"


def paragraphs_as_written(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """``(paragraph, as_written)`` for each paragraph of lines as written: the paragraph normalised
    and stripped (a long line that lost its breaks cut back, :func:`restore_breaks`, an overlong one
    cut, :func:`cut_paragraph`), and the same span of the line as it stands in the input."""
    for line in lines:
        text = normalize(line)
        stripped = text.strip()
        if not stripped:
            continue
        lead = len(text) - len(text.lstrip())
        parts = [piece.strip() for part in restore_breaks(stripped) for piece in cut_paragraph(part) if piece.strip()]
        if text == line:
            yield from ((part, part) for part in parts)
            continue
        offsets = None if len(text) == len(line) else written_offsets(line)
        written = written_span(line, offsets, lead, lead + len(stripped))
        yield from zip(parts, _pieces_as_written(stripped, written, parts))


def _reports_with_ids(lines: Iterable[str], source: str, ids: ReportIds | None = None) -> Iterator[Report]:
    """Reports found in a stream of lines as written, with ids (:class:`ReportIds`, shared across
    the files of a run) but no sentences yet."""
    ids = ids or ReportIds()
    pending: deque[str] = deque()

    def normalised() -> Iterator[str]:
        for paragraph, written in paragraphs_as_written(lines):
            pending.append(written)
            yield paragraph

    for whole in iter_report_paragraphs(normalised()):
        for chunk in cut_report(whole):
            written = [pending.popleft() for _ in chunk]
            yield Report(id=ids.name(chunk), paragraphs=chunk, source=source,
                         as_written=[] if written == chunk else written)


def iter_reports(lines: Iterable[str], source: str = "", *, sentences: bool = True,
                 ids: ReportIds | None = None) -> Iterator[Report]:
    """Reports from a stream of lines (as written or normalised), one at a time (no grouping);
    with ``sentences=False`` only found and named, for a worker process to cut into sentences.
    ``ids`` names reports across the files of a run (see :class:`ReportIds`)."""
    for report in _reports_with_ids(lines, source, ids):
        if sentences:
            report.sentences = sentences_of(report)
        yield report


def segment_documents(texts: Iterable[tuple[str, str]], *, group: bool = True) -> list[Report]:
    """Segment several ``(source, text)`` documents (text as written or normalised); near-duplicate
    groups span all of them, and report ids are unique across them.

    Groups are assigned before sentences are cut, since every sentence records its group."""
    ids = ReportIds()
    reports = [r for source, text in texts for r in _reports_with_ids(split_lines(text), source, ids)]
    if group:
        assign_groups(reports)
    for report in reports:
        report.sentences = sentences_of(report)
    return reports


def segment_text(text: str, source: str = "", *, group: bool = True) -> list[Report]:
    """Split text (as written or normalised) into segmented reports (sentences filled in, groups
    assigned). ``text`` must be a ``str`` (decode bytes first: :func:`toolkit.textio.decode`)."""
    return segment_documents([(source, checked_text(text))], group=group)


def checked_text(text: str, what: str = "text") -> str:
    """``text`` itself, or a ``TypeError`` when it is not a ``str`` and a ``ValueError`` when it holds
    a lone surrogate (what a bad decoding leaves), which no sentence id can hash."""
    if not isinstance(text, str):
        raise TypeError(f"{what} must be a str, not {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{what} is not valid Unicode: a lone surrogate at position {exc.start}") from None
    return text


def iter_sentences(reports: Iterable[Report]) -> Iterator[Sentence]:
    """All sentences of ``reports``, in order."""
    for report in reports:
        yield from report.sentences
