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

from toolkit.segment import LEAD_IN, Report
from toolkit.taxonomy import PARTS
from toolkit.weak import closing_paragraph, off_topic
from toolkit.weak import cue_matrix as weak_cue_matrix

POSITION_BINS = (0.05, 0.15, 0.5, 0.85, 0.95)
POSITION_NAMES = (*(f"pos_bin{i}" for i in range(len(POSITION_BINS) + 1)), "first_para", "last_para", "is_heading",
                  *(f"{p}_part" for p in PARTS))
CUE_FIELDS = ("text", "heading", "section")

_PLANS_START = re.compile(r"打算|计划|思路|设想|展望|^(下半年|明年|今后|新的一年|下一步)")
_PROBLEMS = re.compile(r"问题|不足")
_PROBLEMS_HEADING = re.compile(r"存在的?(主要)?问题|不足|差距|薄弱")
_PLANS_EARLIEST = 0.3
_FUTURE_START = re.compile(r"^(今后|明年|来年|下一步|下半年|新的一年|在新的一年|展望未来)|展望未来|^(\d{2,4}|[Xx]{2}|20[Xx]{2})年[^,,。]{0,6}(将|要|计划|拟)")
_FUTURE_EARLIEST = 0.6


def sentence_records(report: Report) -> list[dict]:
    """One feature record per sentence of ``report``: its text and its context."""
    sentences = report.sentences
    n_paragraphs = (sentences[-1].paragraph + 1) if sentences else 1
    records = []
    in_plans = False
    closing = closing_paragraph(report)
    opening = next((s.paragraph for s in sentences if s.is_heading), -1)
    for i, s in enumerate(sentences):
        in_plans = in_plans or _starts_plans(s)
        part = _part(s, in_plans, opening, closing)
        records.append({
            "id": s.id,
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
            "part": part,
        })
    return records


def _part(s, in_plans: bool, first_heading: int, closing: int) -> str:
    """The part of the report that decides a sentence's label over its topic words (see
    :func:`toolkit.model.apply_part_rule`): one of :data:`~toolkit.taxonomy.PARTS` or ``""``."""
    if s.paragraph < first_heading:
        return "overview"
    if in_plans:
        return "plans"
    if s.paragraph == closing:
        return "closing"
    section = s.text if s.is_heading and s.level == 1 else s.section
    if s.position >= _PLANS_EARLIEST and _PROBLEMS_HEADING.search(section):
        return "problems"
    return "other" if off_topic(section) else ""


def _starts_plans(s) -> bool:
    """A heading or lead-in ("…打算如下:") that opens the plans part, in the report's later part."""
    if s.position >= _FUTURE_EARLIEST and not s.is_heading and _FUTURE_START.search(s.text):
        return True
    return (s.position >= _PLANS_EARLIEST and (s.is_heading or bool(LEAD_IN.search(s.text)))
            and bool(_PLANS_START.search(s.text)) and not _PROBLEMS.search(s.text))


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


def cue_matrix(records: Sequence[dict], fields: Sequence[str] = CUE_FIELDS) -> np.ndarray:
    """Taxonomy cue families (:data:`toolkit.weak.CUE_NAMES`) found in each field of each record."""
    return np.hstack([weak_cue_matrix([r[f] for r in records]) for f in fields]) if fields else np.zeros((len(records), 0))
