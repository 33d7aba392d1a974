"""Sentence records: each sentence of a report with the context the classifier uses: its heading
and section, its neighbours, where it stands, and the part of the report it is in.

Context matters in these reports: a short sentence ("通过活动,增进了感情。") is labelled by the
section it stands in, and inside some parts (the plans part, the paragraphs before the first
heading, the closing paragraph, a charity section) the part decides over the topic words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np

from toolkit.segment import LEAD_IN, Report, top_numeral
from toolkit.taxonomy import PARTS
from toolkit.weak import closing_paragraph, off_topic, topic_of
from toolkit.weak import cue_matrix as weak_cue_matrix

POSITION_BINS = (0.05, 0.15, 0.5, 0.85, 0.95)
POSITION_NAMES = (*(f"pos_bin{i}" for i in range(len(POSITION_BINS) + 1)), "first_para", "last_para", "is_heading",
                  *(f"{p}_part" for p in PARTS))
CUE_FIELDS = ("text", "heading", "section")

_PLANS_START = re.compile(r"打算|计划|思路|设想|展望|安排|规划|^(下半年|明年|今后|新的一年|下一步|下步)|(下一年度?|明年|\d{4}年)(的?)(主要)?(工作|任务|重点)")
_PROBLEMS = re.compile(r"问题|不足")
_PROBLEMS_HEADING = re.compile(r"存在的?(主要)?(问题|困难)|不足|差距|薄弱")
_PLANS_EARLIEST = 0.3
_PLANS_HEADING = re.compile(r"^\W*[((]?[一二三四五六七八九十\d]*[))、.,,]?\s*(第[一二三四五六七八九十]部分)?\s*"
                            r"(今后|下一步|下步|明年|来年|下半年|新的一年|下阶段|下一阶段|(\d{2,4}|[Xx]{2}|20[Xx]{2})年(度)?[,,]?[^,,。]{0,10}(打算|计划|思路|安排|设想|重点|目标|任务|要点|意见))"
                            r"|(工作)?(打算|计划|思路|设想|展望|安排)[::]?$")
"""A heading about what comes next ("四、下步工作打算", "2024年工作思路", "二、2012年的主要任务"); a
heading that names a topic or a slogan and only mentions a plan ("依据学校整体工作思路,认真做好工会
工作", "为完成'十四五'目标建功立业") opens no plans part."""
_SUMMARY = re.compile(r"总结|回顾")
"""A lead-in that announces the summary as well ("现将工作总结如下,并对下阶段工作作出安排") opens no plans part."""
_NUMERALS = "一二三四五六七八九十"
_FUTURE_START = re.compile(r"^(今后|明年|来年|下一步|下步|下半年|新的一年|在新的一年|展望未来)|展望未来|"
                           r"^(\d{2,4}|[Xx]{2}|20[Xx]{2})年(度)?[^,,。]{0,6}(将|要|计划|拟)|"
                           r"^(\d{2,4}|[Xx]{2}|20[Xx]{2})年(度)?,[^,。]{0,16}(将|要|计划|拟)|"
                           r"^.{0,6}(下一年度?|明年)[^,。]{0,10}(打算|将|要|计划|拟)")
_FUTURE_EARLIEST = 0.6
_PROBLEMS_TEXT = re.compile(r"^.{0,24}(存在(的|着)?(一些|以下|不少)?(问题|不足|差距|薄弱|困难)|(问题|不足|差距)(主要)?(是|有|表现在)|还有(一些|不少)?(差距|不足))"
                            r"|^(但是?|同时|然而|不过|当然|工作虽|虽然)[,,]?.{0,40}(问题|不足|差距|薄弱|短板)")
"""A paragraph that opens by admitting shortcomings ("工作中还存在一些不足:一是…"): a problems part
without a heading."""
_PROBLEMS_EARLIEST = 0.5
_INLINE_SECTION = re.compile(r"(^|[::])\s*[一二三四五六七八九十]{1,2}、")
"""A section number run into a sentence ("现总结如下:一、区域工资集体协商工作成效突出。"): on a page
that lost its line breaks the report's sections start inside its first paragraph."""
EVIDENCE = ("overview:title", "overview:first-paragraph", "overview:before-heading", "problems:heading", "problems:text",
            "plans:heading", "plans:lead-in", "plans:future", "closing:last-paragraph", "other:heading", "other:page")
"""How a part was found (``part:detector``). Each detector is evidence of a different strength; the
model learns how far each may move a sentence's label (:mod:`toolkit.calibration`)."""


def sentence_records(report: Report) -> list[dict]:
    """One feature record per sentence of ``report``: its text and its context."""
    sentences = report.sentences
    n_paragraphs = (sentences[-1].paragraph + 1) if sentences else 1
    records = []
    plans_by = ""
    closing = closing_paragraph(report)
    page = report.page_lines
    title = report.title_line
    body = [s.paragraph for s in sentences if s.paragraph not in page and s.paragraph != title]
    first_body = body[0] if body else -1
    opening = next((s.paragraph for s in sentences if s.is_heading and s.paragraph not in page and s.paragraph != title), -1)
    first_of: dict[int, int] = {}
    for s in sentences:
        first_of.setdefault(s.paragraph, s.index)
    problems_text = {s.paragraph for s in sentences if s.position >= _PROBLEMS_EARLIEST and not s.is_heading
                     and s.index == first_of[s.paragraph] and _PROBLEMS_TEXT.search(s.text)}
    inline = next((s.index for s in sentences if s.paragraph < opening and s.paragraph not in page
                   and s.index > 0 and _INLINE_SECTION.search(s.text)), len(sentences))
    top_before = inside = ""
    for i, s in enumerate(sentences):
        top = top_numeral(s.text) if s.is_heading and s.level == 1 else ""
        if plans_by and _ends_plans(s, top, top_before, inside):
            plans_by = ""
        if not plans_by and s.paragraph > max(opening, first_body) and s.paragraph not in page:
            plans_by, inside = _starts_plans(s), ""
        elif top and plans_by:
            inside = top
        if top and not plans_by:
            top_before = top
        evidence = _evidence(s, plans_by, first_body, opening if s.index < inline else -1, closing, page, problems_text,
                             title)
        records.append({
            "id": s.id,
            "report": report.id,
            "text": s.text,
            "heading": s.heading,
            "section": s.section,
            "prev": sentences[i - 1].text if i > 0 else "",
            "next": sentences[i + 1].text if i + 1 < len(sentences) else "",
            "position": s.position,
            "paragraph_position": s.paragraph / max(n_paragraphs - 1, 1),
            "is_heading": s.is_heading,
            "first_paragraph": s.paragraph == 0,
            "last_paragraph": s.paragraph == n_paragraphs - 1,
            "part": evidence.split(":")[0] if evidence else "",
            "evidence": evidence,
        })
    return records


def alone_record(text: str, *, id: str = "") -> dict:
    """The record of a sentence known without its report (one line of a list, a Label Studio task
    with no context): no heading, no neighbours, no position, no part. Models classify it by its
    text alone (:meth:`toolkit.model.SectionModel.predict_proba`)."""
    return {"id": id, "text": text, "heading": "", "section": "", "prev": "", "next": "", "position": 0.5,
            "paragraph_position": 0.5, "is_heading": False, "first_paragraph": False, "last_paragraph": False,
            "part": "", "evidence": "", "alone": True}


def _evidence(s, plans_by: str, first_body: int, opening: int, closing: int, page: set[int],
              problems_text: set[int], title: int) -> str:
    """The part of the report that speaks for a sentence's label over its topic words, and how it
    was found: one of :data:`EVIDENCE` or ``""``."""
    if s.paragraph in page:
        return "other:page"
    if s.paragraph == title:
        return "overview:title"
    if s.paragraph < opening:
        return "overview:first-paragraph" if s.paragraph == first_body else "overview:before-heading"
    if s.paragraph == closing:
        return "closing:last-paragraph"
    if plans_by:
        return plans_by
    section = s.text if s.is_heading and s.level == 1 else s.section
    if s.position >= _PLANS_EARLIEST and _PROBLEMS_HEADING.search(section):
        return "problems:heading"
    if s.paragraph in problems_text:
        return "problems:text"
    return "other:heading" if off_topic(section) else ""


def _starts_plans(s) -> str:
    """How a sentence opens the plans part, after the report's opening and in its later part: a
    heading that is about what comes next rather than a topic ("四、下步工作打算", not
    "为完成'十四五'目标建功立业"), a lead-in to a list ("…打算如下:", not "现将工作总结如下,并对
    下阶段工作作出安排"), or a sentence that opens on the future ("明年,…"); ``""`` if it does not.
    A cue word inside a sentence of achievements, the overview or a page's blurb never opens it."""
    if s.position >= _FUTURE_EARLIEST and not s.is_heading and _FUTURE_START.search(s.text):
        return "plans:future"
    if s.position < _PLANS_EARLIEST or not _PLANS_START.search(s.text) or _PROBLEMS.search(s.text):
        return ""
    if s.is_heading:
        return "plans:heading" if _PLANS_HEADING.search(s.text) else ""
    if LEAD_IN.search(s.text) and not _SUMMARY.search(s.text):
        return "plans:lead-in"
    return ""


def _ends_plans(s, top: str, top_before: str, inside: str) -> bool:
    """Whether a heading closes the plans part: a problems heading, or a level-1 topic heading
    that goes on with the numbering of the sections before the part (``top_before``: "五、" after
    "四、"), not with the part's own list, which starts again at 一 (``inside``: its last number).
    A plans part of six items after a report's sections 一 to 六 keeps its 二 to 六."""
    if not s.is_heading:
        return False
    if _PROBLEMS_HEADING.search(s.text) and not _PLANS_START.search(s.text):
        return True
    if not (top and top_before) or topic_of(s.text) is None or _PLANS_HEADING.search(s.text):
        return False
    rank, before = _rank(top), _rank(top_before)
    if inside and rank and rank == _rank(inside) + 1:
        return False
    return rank > before if rank and before else top != "一"


def _rank(numeral: str) -> int:
    """一 → 1 … 十 → 10; 0 for another numbering ("第二部分")."""
    return _NUMERALS.find(numeral) + 1 if numeral else 0


def records_of(reports: Iterable[Report]) -> list[dict]:
    """Feature records of every sentence of ``reports``, in order."""
    return [r for report in reports for r in sentence_records(report)]


def position_matrix(records: Sequence[dict]) -> np.ndarray:
    """Where each sentence stands (:data:`POSITION_NAMES`): a one-hot position bin, first/last
    paragraph and heading flags, and one flag per report part."""
    out = np.zeros((len(records), len(POSITION_NAMES)))
    if not records:
        return out
    rows = np.arange(len(records))
    out[rows, np.searchsorted(POSITION_BINS, [r["position"] for r in records])] = 1.0
    first = len(POSITION_BINS) + 1
    for j, key in enumerate(("first_paragraph", "last_paragraph", "is_heading")):
        out[:, first + j] = [bool(r[key]) for r in records]
    for j, part in enumerate(PARTS):
        out[:, first + 3 + j] = [r.get("part") == part for r in records]
    return out


STRUCTURE_NAMES = ("first_para", "is_heading", *(f"{p}_part" for p in PARTS))
_STRUCTURE_COLUMNS = [POSITION_NAMES.index(name) for name in STRUCTURE_NAMES]


def structure_matrix(records: Sequence[dict]) -> np.ndarray:
    """What holds on any cut of a report (:data:`STRUCTURE_NAMES`): the columns of
    :func:`position_matrix` for the first paragraph, the heading flag and the part flags, without
    the relative position, which on a page that stops mid-report makes early sections look late."""
    return position_matrix(records)[:, _STRUCTURE_COLUMNS]


def cue_matrix(records: Sequence[dict], fields: Sequence[str] = CUE_FIELDS) -> np.ndarray:
    """Taxonomy cue families (:data:`toolkit.weak.CUE_NAMES`) found in each field of each record."""
    return np.hstack([weak_cue_matrix([r[f] for r in records]) for f in fields]) if fields else np.zeros((len(records), 0))
