"""The annotation store: ``annotations/labels.jsonl``, one record per labelled sentence.

Records are sorted by id and carry ``id, text, label, source, annotator, updated_at``. Loading
validates every line and reports each problem with its line number. Writes are atomic (a
temporary file in the same directory, then ``os.replace``; :mod:`toolkit.fileio`), and every
changed label is appended to ``history.jsonl`` next to the store with its previous value, so
nothing is silently lost.
"""

from __future__ import annotations

import json
import os
from collections.abc import Container, Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from toolkit.errors import AnnotationError
from toolkit.fileio import atomic_write_text, locked
from toolkit.taxonomy import BY_SLUG, SLUGS

SOURCES = ("manual", "weak", "model", "label-studio")
FIELDS = ("id", "text", "label", "source", "annotator", "updated_at")


@dataclass(frozen=True)
class Annotation:
    """One sentence's label and where it came from."""

    id: str
    text: str
    label: str
    source: str
    annotator: str = ""
    updated_at: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class MergeReport:
    """What a merge did: ids added, changed (with old label), unchanged, and refused."""

    added: list[str]
    changed: list[tuple[str, str, str]]
    unchanged: list[str]

    def summary(self) -> str:
        return f"{len(self.added)} added, {len(self.changed)} changed, {len(self.unchanged)} unchanged"


def now() -> str:
    """UTC timestamp in ISO 8601, seconds precision."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _parse_line(line: str, where: str, *, last: bool = False) -> Annotation:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        cut = "; the file ends inside this record (truncated?)" if last else ""
        raise AnnotationError(f"{where}: not valid JSON ({exc.msg} column {exc.colno}){cut}") from None
    if not isinstance(raw, dict):
        raise AnnotationError(f"{where}: expected a JSON object")
    missing = [k for k in ("id", "text", "label", "source") if not isinstance(raw.get(k), str) or not raw.get(k)]
    if missing:
        raise AnnotationError(f"{where}: missing or empty field(s) {', '.join(missing)}")
    if raw["label"] not in BY_SLUG:
        raise AnnotationError(f"{where}: unknown label {raw['label']!r}; expected one of {', '.join(SLUGS)}")
    if raw["source"] not in SOURCES:
        raise AnnotationError(f"{where}: unknown source {raw['source']!r}; expected one of {', '.join(SOURCES)}")
    return Annotation(**{k: str(raw.get(k) or "") for k in FIELDS})


def load(path: str | os.PathLike, *, known_ids: Container[str] | None = None,
         unknown_hint: str = "") -> dict[str, Annotation]:
    """Load and validate the store; a missing file is an empty store.

    Raises :class:`AnnotationError` for the first problem, naming file and line: invalid JSON,
    unknown labels or sources, ids not in ``known_ids`` (when given; the message quotes the
    sentence and ends with ``unknown_hint``) and conflicting duplicates.
    """
    path = Path(path)
    if not path.exists():
        return {}
    records: dict[str, Annotation] = {}
    first_line: dict[str, int] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise AnnotationError(f"{path}: not UTF-8 text") from None
    lines = text.splitlines()
    unfinished = len(lines) if text and not text.endswith("\n") else 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        record = _parse_line(line, where, last=number == unfinished)
        if known_ids is not None and record.id not in known_ids:
            excerpt = record.text if len(record.text) <= 30 else record.text[:29] + "…"
            raise AnnotationError(f"{where}: id {record.id} is not a sentence of the corpus "
                                  f"(“{excerpt}”){unknown_hint}")
        previous = records.get(record.id)
        if previous is not None and previous.label != record.label:
            raise AnnotationError(
                f"{where}: id {record.id} labelled {record.label!r} here but {previous.label!r} on line {first_line[record.id]}"
            )
        records.setdefault(record.id, record)
        first_line.setdefault(record.id, number)
    return records


def _dump(records: Iterable[Annotation]) -> str:
    return "".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in sorted(records, key=lambda r: r.id))


def save(path: str | os.PathLike, records: dict[str, Annotation]) -> None:
    """Write the whole store, sorted by id, atomically (a read-modify-write holds :func:`locked`
    around its read and this write, as :func:`merge` does)."""
    atomic_write_text(path, _dump(records.values()))


def history_path(path: str | os.PathLike) -> Path:
    """``history.jsonl`` beside the store."""
    return Path(path).with_name("history.jsonl")


def _append_history(path: Path, entries: list[dict]) -> None:
    if not entries:
        return
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    atomic_write_text(path, old + "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries))


def merge(
    path: str | os.PathLike,
    incoming: Iterable[Annotation],
    *,
    known_ids: Container[str] | None = None,
    overwrite_manual: bool = True,
) -> MergeReport:
    """Merge ``incoming`` annotations into the store at ``path``.

    Same label: unchanged (idempotent). New id: added. Different label: replaced, with the
    previous record appended to ``history.jsonl``; with ``overwrite_manual=False`` a manual label
    is kept and the incoming one is not applied (reported as unchanged). The store's lock is held
    from the read to the rename (:func:`locked`).
    """
    with locked(path):
        return _merge(path, incoming, known_ids=known_ids, overwrite_manual=overwrite_manual)


def _merge(path: str | os.PathLike, incoming: Iterable[Annotation], *, known_ids: Container[str] | None,
           overwrite_manual: bool) -> MergeReport:
    records = load(path, known_ids=known_ids)
    report = MergeReport([], [], [])
    history: list[dict] = []
    stamp = now()
    for item in incoming:
        if item.label not in BY_SLUG:
            raise AnnotationError(f"{item.id}: unknown label {item.label!r}")
        old = records.get(item.id)
        if old is not None and (old.label == item.label or (old.source == "manual" and not overwrite_manual)):
            report.unchanged.append(item.id)
            continue
        new = replace(item, updated_at=item.updated_at or stamp)
        if old is None:
            report.added.append(item.id)
        else:
            report.changed.append((item.id, old.label, item.label))
            history.append({"id": item.id, "previous": old.to_dict(), "new_label": item.label,
                            "new_source": item.source, "changed_at": stamp})
        records[item.id] = new
    if report.added or report.changed:
        _append_history(history_path(path), history)
        save(path, records)
    return report


def iter_history(path: str | os.PathLike) -> Iterator[dict]:
    """Entries of ``history.jsonl`` beside the store, oldest first."""
    hist = history_path(path)
    if hist.exists():
        for line in hist.read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield json.loads(line)
