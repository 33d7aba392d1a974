"""Loading reports from files into segmented :class:`~toolkit.segment.Report` objects, and writing
sentence records (jsonl/tsv)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from toolkit.segment import Report, iter_sentences, segment_documents
from toolkit.errors import InputError
from toolkit.textio import expand_paths, iter_documents

MANIFEST = "manifest.jsonl"
"""Beside corpus files: one JSON object per file (``file``, ``corpus``, ``unit_kind``, ``report_kind``…)."""
SENTENCE_FIELDS = ("id", "report", "group", "paragraph", "index", "heading", "is_heading", "text")


def load_reports(paths: Iterable[str | os.PathLike], *, group: bool = True) -> list[Report]:
    """Read every input and segment it; near-duplicate groups span all inputs."""
    return segment_documents(((doc.name, doc.text) for doc in iter_documents(paths)), group=group)


def source_key(path: str | os.PathLike) -> str:
    """How a corpus file is known in :func:`load_manifests` (its resolved path)."""
    return str(Path(path).resolve()) if str(path) not in ("", "-", "<stdin>") else str(path)


def load_manifests(paths: Iterable[str | os.PathLike]) -> dict[str, dict]:
    """Manifest entries of the corpus files among ``paths`` (directories expanded), by
    :func:`source_key`. A file's entry comes from ``manifest.jsonl`` in its folder; files no
    manifest lists have none. A malformed manifest is a one-line :class:`InputError`."""
    out: dict[str, dict] = {}
    folders = {Path(p).parent for p in expand_paths(paths) if p != "-"}
    for folder in sorted(folders):
        manifest = folder / MANIFEST
        if not manifest.is_file():
            continue
        for n, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                raise InputError(f"{manifest}:{n}: not a JSON object") from None
            if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
                raise InputError(f"{manifest}:{n}: an entry needs a \"file\" name")
            out[source_key(folder / entry["file"])] = entry
    return out


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
