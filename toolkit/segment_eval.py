"""Scoring the structure reading (report boundaries, headings, parts) against hand-checked answers.

A case is a text file ``caseNN.txt`` and its answer ``caseNN.json``::

    {"reports": [{"start": "<first characters of the report's first line of real content>",
                  "headings": ["<first characters of each heading>", ...],
                  "problems": "<first characters of the first sentence of the problems part>" | null,
                  "plans": ... | null, "closing": ... | null}, ...]}

Snippets are prefixes of the text as written; both sides are normalised (:func:`toolkit.textio.normalize`)
before they are compared, so full- and half-width forms match.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from toolkit.context import sentence_records
from toolkit.errors import InputError
from toolkit.segment import Report, segment_text
from toolkit.textio import normalize, read_document

PART_NAMES = ("problems", "plans", "closing")


@dataclass
class Counts:
    """True positives, predictions and gold items of one kind of structure."""

    tp: int = 0
    predicted: int = 0
    gold: int = 0

    def add(self, other: "Counts") -> None:
        self.tp += other.tp
        self.predicted += other.predicted
        self.gold += other.gold

    def scores(self) -> dict:
        p = self.tp / self.predicted if self.predicted else 1.0
        r = self.tp / self.gold if self.gold else 1.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "gold": self.gold,
                "predicted": self.predicted}


def _norm(snippet: str) -> str:
    return normalize(snippet).strip()


def _first_content(report: Report) -> str:
    return next((p for i, p in enumerate(report.paragraphs) if i not in report.page_lines), "")


def _matches(text: str, snippet: str) -> bool:
    return bool(snippet) and text.startswith(snippet)


def score_case(text: str, answer: dict) -> dict[str, Counts]:
    """Counts for report starts, headings and part starts of one case."""
    reports = segment_text(normalize(text), group=False)
    gold = answer.get("reports", [])
    out = {"reports": Counts(predicted=len(reports), gold=len(gold)), "headings": Counts(), "parts": Counts()}
    starts = [_first_content(r) for r in reports]
    matched: dict[int, Report] = {}
    for g, entry in enumerate(gold):
        snippet = _norm(entry["start"])
        for k, start in enumerate(starts):
            if k not in matched.values() and _matches(start, snippet):
                matched[g] = k
                out["reports"].tp += 1
                break
    for g, entry in enumerate(gold):
        snippets = [_norm(h) for h in entry.get("headings", [])]
        parts = {name: _norm(entry[name]) if entry.get(name) else "" for name in PART_NAMES}
        out["headings"].gold += len(snippets)
        out["parts"].gold += sum(bool(v) for v in parts.values())
        if g not in matched:
            continue
        report = reports[matched[g]]
        headings = [s.text for s in report.sentences if s.is_heading]
        out["headings"].predicted += len(headings)
        used: set[int] = set()
        for snippet in snippets:
            hit = next((i for i, h in enumerate(headings) if i not in used and _matches(h, snippet)), None)
            if hit is not None:
                used.add(hit)
                out["headings"].tp += 1
        records = sentence_records(report)
        for name in PART_NAMES:
            first = next((r["text"] for r in records if r["part"] == name), "")
            out["parts"].predicted += bool(first)
            out["parts"].tp += bool(first) and _matches(first, parts[name])
    unmatched = [k for k in range(len(reports)) if k not in matched.values()]
    for k in unmatched:
        out["headings"].predicted += sum(s.is_heading for s in reports[k].sentences)
        out["parts"].predicted += sum(any(r["part"] == n for r in sentence_records(reports[k])) for n in PART_NAMES)
    return out


def load_cases(folder: str | os.PathLike) -> list[tuple[str, str, dict]]:
    """``(name, text, answer)`` of every ``*.txt`` in ``folder`` that has a ``.json`` answer beside it."""
    folder = Path(folder)
    cases = []
    for path in sorted(folder.glob("*.txt")):
        answer_path = path.with_suffix(".json")
        if not answer_path.is_file():
            continue
        try:
            answer = json.loads(answer_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(f"{answer_path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
        cases.append((path.name, read_document(path).text, answer))
    if not cases:
        raise InputError(f"{folder}: no case files (*.txt with a .json answer)")
    return cases


def score_cases(cases: Sequence[tuple[str, str, dict]]) -> dict:
    """Precision, recall and F1 of report starts, headings and part starts over all cases, and per case."""
    total = {key: Counts() for key in ("reports", "headings", "parts")}
    per_case = {}
    for name, text, answer in cases:
        counts = score_case(text, answer)
        for key, c in counts.items():
            total[key].add(c)
        per_case[name] = {key: c.scores()["f1"] for key, c in counts.items()}
    return {**{key: c.scores() for key, c in total.items()}, "cases": len(cases), "per_case": per_case}
