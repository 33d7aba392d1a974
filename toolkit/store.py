"""The annotation store: ``annotations/labels.jsonl``, one record per labelled sentence.

Records are sorted by id and carry ``id, text, label, source, annotator, updated_at``. Loading
validates every line and reports each problem with its line number. Writes are atomic (a
temporary file in the same directory, then ``os.replace``), and every changed label is appended
to ``history.jsonl`` next to the store with its previous value, so nothing is silently lost.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Container, Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from toolkit.errors import AnnotationError, LockError
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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` via a temporary file and rename, so a crash leaves the old file."""
    atomic_write_bytes(path, text.encode("utf-8"))


def temporary_beside(path: str | os.PathLike) -> Path | None:
    """A new empty temporary file in ``path``'s folder to write and then rename over ``path``; ``None``
    when ``path`` exists and is not a regular file (a device such as ``/dev/stdout``, a pipe): that is
    written in place, never replaced."""
    path = Path(path)
    if path.exists() and not path.is_file():
        return None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())
    return Path(tmp)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same directory, fsync, then rename
    (a device or pipe is written in place). A failed write (a full disk) raises an ``OSError``
    naming ``path`` and leaves the old file and no temporary one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_beside(path)
    try:
        with open(tmp or path, "wb") as handle:
            handle.write(data)
            handle.flush()
            if tmp:
                os.fsync(handle.fileno())
        if tmp:
            os.replace(tmp, path)
    except BaseException as exc:
        if tmp:
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and not exc.filename:
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise


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


LOCK_TIMEOUT = 30.0
"""Seconds a writer waits for the store's lock (``$TOOLKIT_LOCK_TIMEOUT`` overrides)."""


@contextlib.contextmanager
def locked(path: str | os.PathLike, timeout: float | None = None) -> Iterator[None]:
    """Hold the exclusive lock of the file at ``path`` (an ``flock`` on ``.NAME.lock`` beside it) for
    a whole read-modify-write, so writers in several processes (an import, a pull, the backend's
    retrain) cannot lose each other's labels or mix the files of two models. A writer that cannot
    get it within ``timeout`` seconds (default ``$TOOLKIT_LOCK_TIMEOUT``, else :data:`LOCK_TIMEOUT`)
    gets a one-line :class:`~toolkit.errors.LockError` and has changed nothing."""
    import fcntl

    path = Path(path)
    if timeout is None:
        setting = os.environ.get("TOOLKIT_LOCK_TIMEOUT", str(LOCK_TIMEOUT))
        try:
            timeout = float(setting)
        except ValueError:
            raise LockError(f"TOOLKIT_LOCK_TIMEOUT={setting!r} is not a number of seconds") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.with_name(f".{path.name}.lock")
    with open(lock, "a+b") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockError(f"{path}: another writer has held it for {timeout:g} s; "
                                    "nothing was changed, try again") from None
                time.sleep(0.02)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


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
