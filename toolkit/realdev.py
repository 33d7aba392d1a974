"""Sets of real report pages kept as hashes and labels, never as text: the development set
(``annotations/realdev``) and the untouched real pages (``annotations/realtest``).

A row of a set's ``rows.jsonl`` names a page (``url``, the search ``query`` and ``rank``
it was found by) and one of its sentences by position (``idx``, counted over the page's sentences
as :func:`page_sentences` cuts them), ``sha`` (the first 16 hex digits of the SHA-1 of the sentence
with all whitespace removed), its length ``chars`` and its ``label``. The page text itself is
fetched at evaluation time into a ``{url: excerpt}`` JSON file kept outside the repository;
:func:`match_rows` finds each row's sentence in it by position and hash, so a page that changed
is reported, not silently mis-scored.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from toolkit.calibration import confidence_report
from toolkit.context import alone_record, sentence_records
from toolkit.errors import InputError, json_problem
from toolkit.intervals import figure_intervals
from toolkit.segment import Report, segment_text
from toolkit.textio import read_bytes

ROW_FIELDS = ("url", "query", "rank", "idx", "sha", "chars", "label")
REAL_PAGE_SETS = {"realdev": "real development set", "realtest": "untouched real pages"}
"""The project's sets of real pages (folders of ``annotations/`` holding ``rows.jsonl``) and their
names in reports: the development set, looked at while choosing settings, and the untouched pages,
scored once per model."""
_SPACE = re.compile(r"\s+")


def sentence_sha(text: str) -> str:
    """First 16 hex digits of the SHA-1 (UTF-8) of ``text`` with all whitespace removed."""
    return hashlib.sha1(_SPACE.sub("", text).encode("utf-8")).hexdigest()[:16]


def url_sha(url: str) -> str:
    """SHA-1 (hex) of a URL exactly as given: the form of ``excluded-pages.txt``."""
    return hashlib.sha1(url.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PageSentence:
    """One sentence of a page, in reading order over the whole page."""

    idx: int
    sha: str
    chars: int
    text: str
    heading: str
    is_heading: bool


def page_reports(excerpt: str, url: str = "") -> list[Report]:
    """The page cut into reports, as the tagger cuts any input."""
    return segment_text(excerpt, url or "page")


def page_sentences(excerpt: str, reports: Sequence[Report] | None = None) -> list[PageSentence]:
    """The sentences of a page's excerpt in reading order, as the tagger cuts them (``reports``:
    the page already cut by :func:`page_reports`)."""
    out = []
    for report in page_reports(excerpt) if reports is None else reports:
        for s in report.sentences:
            written = s.as_written or s.text
            out.append(PageSentence(len(out), sentence_sha(written), len(written), written, s.heading, s.is_heading))
    return out


def read_hash_list(path: str | Path) -> set[str]:
    """The hashes of a holdout list: one hex string a line, ``#`` comments skipped."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return {line.strip().lower() for line in lines if line.strip() and not line.lstrip().startswith("#")}


def excluded_reason(url: str, excerpt: str, pages: set[str], sentences: set[str]) -> str:
    """Why a page may not be used (its URL is kept out, or it copies two or more kept-out
    sentences), or ``""``. Only sentences of 12+ characters count, as in the list."""
    if url_sha(url) in pages:
        return "its URL is on the kept-out list"
    hits = set()
    for report in page_reports(excerpt, url):
        for s in report.sentences:
            if len(_SPACE.sub("", s.text)) >= 12:
                hits |= {sentence_sha(s.text), sentence_sha(s.as_written or s.text)} & sentences
    return f"it holds {len(hits)} kept-out sentences (a copy of a kept-out page)" if len(hits) >= 2 else ""


def read_rows(path: str | Path) -> list[dict]:
    """The rows of a development set file, checked for their fields; a file that is missing, empty,
    undecodable or malformed is an :class:`~toolkit.errors.InputError` naming it."""
    rows = []
    for n, line in enumerate(_utf8(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: line {n} is not valid JSON ({json_problem(exc)})") from None
        missing = [f for f in ROW_FIELDS if f not in row] if isinstance(row, dict) else list(ROW_FIELDS)
        if missing:
            raise InputError(f"{path}: line {n} lacks {', '.join(missing)}")
        rows.append(row)
    if not rows:
        raise InputError(f"{path}: holds no rows")
    return rows


def _utf8(path: str | Path) -> str:
    """A JSON file's text (UTF-8, with or without BOM); missing, oversized or other text is an
    :class:`~toolkit.errors.InputError` naming it."""
    try:
        return read_bytes(path).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None


def read_all_excerpts(paths: Iterable[str | Path]) -> dict[str, str]:
    """The pages of several excerpts files in one mapping (a URL in two files: the later one)."""
    out: dict[str, str] = {}
    for path in paths:
        out.update(read_excerpts(path))
    return out


def read_excerpts(path: str | Path) -> dict[str, str]:
    """The fetched pages, ``{url: excerpt text}``, as written; a file that is missing, undecodable
    or not such an object is an :class:`~toolkit.errors.InputError` naming it."""
    try:
        excerpts = json.loads(_utf8(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({json_problem(exc)})") from None
    if not isinstance(excerpts, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in excerpts.items()):
        raise InputError(f"{path}: expected a JSON object {{url: excerpt text}}")
    return excerpts


def match_rows(rows: Sequence[dict], excerpts: Mapping[str, str],
               pages: dict[str, list[PageSentence]] | None = None) -> tuple[list[tuple[dict, PageSentence]], list[str]]:
    """Each row with its sentence in the fetched excerpts, and what could not be matched: a page
    missing from ``excerpts``, or a sentence whose hash is not at its position (nor anywhere on
    the page). ``pages``: the sentences of pages already cut, by URL; each other page is cut once."""
    matched, problems = [], []
    pages = {} if pages is None else pages
    for row in rows:
        url = row["url"]
        if url not in excerpts:
            problems.append(f"{url}: page not in the excerpts file")
            continue
        if url not in pages:
            pages[url] = page_sentences(excerpts[url])
        sents = pages[url]
        idx = int(row["idx"])
        if idx < len(sents) and sents[idx].sha == row["sha"]:
            matched.append((row, sents[idx]))
            continue
        moved = [s for s in sents if s.sha == row["sha"]]
        if moved:
            matched.append((row, moved[0]))
        else:
            problems.append(f"{url}: sentence {idx} ({row['sha']}) not found: the page changed")
    return matched, problems


def unique_problems(problems: Iterable[str]) -> list[str]:
    """Problems once each, in order."""
    return list(dict.fromkeys(problems))


def score_pages(model, rows: Sequence[dict], excerpts: Mapping[str, str]) -> dict:
    """``model`` on a set of real pages: each page of ``excerpts`` tagged as the tagger tags any
    input (in context), and each scored sentence by its text alone; accuracy, macro-F1, precision
    and share at confidence >= 0.9, per label and per page, and what could not be matched."""
    cut = {url: page_reports(excerpts[url], url) for url in dict.fromkeys(r["url"] for r in rows) if url in excerpts}
    matched, problems = match_rows(rows, excerpts, {url: page_sentences(excerpts[url], reports) for url, reports in cut.items()})
    wanted: dict[str, dict[int, str]] = {}
    for row, sentence in matched:
        wanted.setdefault(row["url"], {})[sentence.idx] = row["label"]
    gold, pred, conf, alone, alone_conf, pages = [], [], [], [], [], []
    for url, labels in wanted.items():
        records = [r for report in cut[url] for r in sentence_records(report)]
        got, got_conf = model.predict(records)
        texts = [records[i]["text"] for i in sorted(labels)]
        by_alone, by_alone_conf = model.predict([alone_record(t) for t in texts])
        for k, i in enumerate(sorted(labels)):
            gold.append(labels[i])
            pred.append(got[i])
            conf.append(got_conf[i])
            alone.append(by_alone[k])
            alone_conf.append(by_alone_conf[k])
            pages.append(url)
    return {"pages": len(wanted), "sentences": len(gold), "problems": unique_problems(problems),
            "in_context": _figures(gold, pred, conf, pages), "alone": _figures(gold, alone, alone_conf, pages),
            "gold": gold, "predicted": pred, "confidence": conf, "page_of": pages}


def _figures(gold: Sequence[str], pred: Sequence[str], conf: Sequence[float], pages: Sequence[str]) -> dict:
    """Accuracy, macro-F1 (:func:`toolkit.selection.macro_f1`) and the precision and share of the
    predictions at confidence >= 0.9 (:func:`toolkit.calibration.confidence_report`); the 95 %
    intervals of accuracy and precision when whole pages are resampled (:mod:`toolkit.intervals`)."""
    from toolkit.selection import macro_f1  # scikit-learn: only when scoring

    ok = [g == p for g, p in zip(gold, pred)]
    confident = confidence_report(conf, ok, [False] * len(ok))
    return {"accuracy": round(sum(ok) / max(len(ok), 1), 4), "macro_f1": round(macro_f1(gold, pred), 4) if gold else 0.0,
            "precision_at_0.9": confident["high_confidence_precision"],
            "share_at_0.9": confident["high_confidence_share"] or 0.0, **figure_intervals(ok, conf, pages)}
