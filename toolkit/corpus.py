"""Loading reports from files into segmented :class:`~toolkit.segment.Report` objects, and writing
sentence records (jsonl/tsv)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import TextIO

from toolkit.segment import Report, iter_sentences, segment_documents
from toolkit.textio import iter_documents

SENTENCE_FIELDS = ("id", "report", "group", "paragraph", "index", "heading", "is_heading", "text")


def load_reports(paths: Iterable[str | os.PathLike], *, group: bool = True) -> list[Report]:
    """Read every input and segment it; near-duplicate groups span all inputs."""
    return segment_documents(((doc.name, doc.text) for doc in iter_documents(paths)), group=group)


def load_sentences(paths: Iterable[str | os.PathLike]) -> list:
    """All sentences of the inputs, in order."""
    return list(iter_sentences(load_reports(paths)))


def _tsv_cell(value) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return text.replace("\t", " ").replace("\n", " ")


def write_sentences(reports: Iterable[Report], out: TextIO, fmt: str = "jsonl") -> int:
    """Write one record per sentence with :data:`SENTENCE_FIELDS`; return the count."""
    n = 0
    if fmt == "tsv":
        out.write("\t".join(SENTENCE_FIELDS) + "\n")
    for sentence in iter_sentences(reports):
        record = {k: getattr(sentence, k) for k in SENTENCE_FIELDS}
        if fmt == "tsv":
            out.write("\t".join(_tsv_cell(record[k]) for k in SENTENCE_FIELDS) + "\n")
        else:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        n += 1
    return n
