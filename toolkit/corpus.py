"""Loading reports from files into segmented :class:`~toolkit.segment.Report` objects, adding new
report files to the project's corpus, checking labels against it, and writing sentence records
(jsonl/tsv).

The corpus is every ``*.txt`` under one folder (``annotations/corpus``), each subfolder with an
optional ``manifest.jsonl``. Reports pushed to Label Studio from outside it are copied into its
``new/`` subfolder (:func:`add_to_corpus`), so that every command that reads the default corpus
finds the sentences annotators labelled.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from toolkit import store
from toolkit.errors import InputError
from toolkit.fileio import atomic_write_bytes, atomic_write_text, locked
from toolkit.segment import Report, iter_reports, iter_sentences, segment_documents, split_paragraphs, text_id
from toolkit.textio import decode, expand_paths, iter_documents, normalize, read_bytes

MANIFEST = "manifest.jsonl"
"""Beside corpus files: one JSON object per file (``file``, ``corpus``, ``unit_kind``, ``report_kind``…)."""
NEW_FOLDER = "new"
"""Subfolder of the corpus that pushed reports are copied into, with its own manifest."""
NEW_CORPUS = "new"
"""The ``corpus`` of their manifest entries (the seed is ``seed``, the written corpus ``written``)."""
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


def report_key(report: Report) -> str:
    """What makes two reports the same: a hash of the report's text, whatever file it is in."""
    return text_id(report.text, prefix="r")


def _report_keys(text: str) -> list[str]:
    return [report_key(r) for r in iter_reports(split_paragraphs(text), sentences=False)]


def is_inside(path: str | os.PathLike, folder: str | os.PathLike) -> bool:
    """Is ``path`` the folder itself or somewhere under it (links resolved)?"""
    return Path(path).resolve().is_relative_to(Path(folder).resolve())


@dataclass(frozen=True)
class AddedFile:
    """One input of :func:`add_to_corpus`: where it went (``""`` if not copied) and why."""

    source: str
    copied_to: str
    reports: int
    known: int

    def line(self) -> str:
        reports = f"{self.reports} report{'s' if self.reports != 1 else ''}"
        if self.copied_to:
            known = f", {self.known} of them already in the corpus" if self.known else ""
            return f"added {self.source} to the corpus as {_shown(self.copied_to)} ({reports}{known})"
        return f"{self.source}: its {reports} already in the corpus, not copied"


def _shown(path: str) -> str:
    """``path`` relative to the current folder when it lies under it, else as it is."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path


def _free_name(folder: Path, name: str, taken: set[str]) -> str:
    stem, suffix = (name[:-4], ".txt") if name.endswith(".txt") else (name, ".txt")
    candidate, n = stem + suffix, 1
    while candidate in taken or (folder / candidate).exists():
        n += 1
        candidate = f"{stem}-{n}{suffix}"
    return candidate


@dataclass(frozen=True)
class PendingFile:
    """A report file read and checked for :func:`add_to_corpus`, not yet copied."""

    path: str
    data: bytes
    keys: tuple[str, ...]


@dataclass(frozen=True)
class PendingAdditions:
    """What :func:`add_to_corpus` would copy into ``corpus_dir/new/``: every input outside the
    corpus, read and checked (:func:`read_additions`); :meth:`write` copies them."""

    corpus_dir: Path
    files: tuple[PendingFile, ...]
    root: Path | None = None

    def write(self) -> list[AddedFile]:
        """Copy the files whose reports are not all in the corpus already, and list them in the manifest."""
        return _write_additions(self)


def manifest_source(path: str | os.PathLike, root: str | os.PathLike | None) -> str:
    """How a pushed file's origin is recorded in the manifest: its path relative to the project's
    ``root`` when it lies inside it, else its file name (the manifest also records its SHA-256)."""
    resolved = Path(path).resolve()
    if root is not None and resolved.is_relative_to(Path(root).resolve()):
        return resolved.relative_to(Path(root).resolve()).as_posix()
    return Path(path).name


def read_additions(paths: Iterable[str | os.PathLike], corpus_dir: str | os.PathLike, *,
                   root: str | os.PathLike | None = None) -> PendingAdditions:
    """The report files among ``paths`` (directories expanded) that lie outside ``corpus_dir``,
    read and checked; a bad file is a one-line :class:`InputError` and nothing has been written.
    ``root`` is the project's root, against which the manifest records where a file came from."""
    corpus_dir = Path(corpus_dir)
    files = []
    for path in expand_paths(paths):
        if path == "-":
            raise InputError("-: reports from stdin cannot be added to the corpus; save them to a file and push that")
        if not is_inside(path, corpus_dir):
            data = read_bytes(path)
            files.append(PendingFile(str(path), data, tuple(_report_keys(normalize(decode(data, path)[0])))))
    return PendingAdditions(corpus_dir, tuple(files), Path(root) if root is not None else None)


def _known_reports(corpus_dir: Path) -> set[str]:
    return {key for doc in (iter_documents([corpus_dir]) if any(corpus_dir.rglob("*.txt")) else ())
            for key in _report_keys(doc.text)}


def _write_additions(pending: PendingAdditions) -> list[AddedFile]:
    if not pending.files:
        return []
    corpus_dir = pending.corpus_dir
    folder = corpus_dir / NEW_FOLDER
    manifest = folder / MANIFEST
    before = _known_reports(corpus_dir)
    if all(set(item.keys) <= before for item in pending.files):
        return [AddedFile(item.path, "", len(item.keys), len(item.keys)) for item in pending.files]
    with locked(manifest):
        known = _known_reports(corpus_dir)
        added: list[AddedFile] = []
        entries: list[dict] = []
        taken: set[str] = set()
        for item in pending.files:
            seen = sum(key in known for key in item.keys)
            if seen == len(item.keys):
                added.append(AddedFile(item.path, "", len(item.keys), seen))
                continue
            name = _free_name(folder, Path(item.path).name, taken)
            taken.add(name)
            atomic_write_bytes(folder / name, item.data)
            known.update(item.keys)
            entries.append({"file": name, "corpus": NEW_CORPUS, "source": manifest_source(item.path, pending.root),
                            "sha256": hashlib.sha256(item.data).hexdigest(), "reports": len(item.keys),
                            "added_at": store.now()})
            added.append(AddedFile(item.path, str(folder / name), len(item.keys), seen))
        if entries:
            old = manifest.read_text(encoding="utf-8") if manifest.is_file() else ""
            if old and not old.endswith("\n"):
                old += "\n"
            atomic_write_text(manifest, old + "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries))
    return added


def add_to_corpus(paths: Iterable[str | os.PathLike], corpus_dir: str | os.PathLike, *,
                  root: str | os.PathLike | None = None) -> list[AddedFile]:
    """Copy the report files among ``paths`` (directories expanded) that lie outside ``corpus_dir``
    into ``corpus_dir/new/``, byte for byte, and list them in its manifest with corpus ``"new"``,
    their origin (:func:`manifest_source`, relative to the project's ``root``) and SHA-256.

    A file whose reports are all in the corpus already (same text, in any file) is not copied, so
    pushing the same folder twice adds nothing. Every input is read and checked before anything
    is written (:func:`read_additions`; a bad file is a one-line :class:`InputError` and changes
    nothing); the copies and the manifest are written atomically while the manifest's lock
    (:func:`toolkit.fileio.locked`) is held, so concurrent pushes neither lose entries nor copy a
    report twice.
    """
    return read_additions(paths, corpus_dir, root=root).write()


def missing_report_hint(corpus_paths: Sequence[str | os.PathLike]) -> str:
    """How to fix a label whose sentence is in no report of ``corpus_paths``."""
    where = " ".join(map(str, corpus_paths))
    folder = next((Path(str(p)) for p in corpus_paths if Path(str(p)).is_dir()), None)
    push = (f"with 'toolkit ls push REPORT.txt' (copies it into {folder / NEW_FOLDER}/) or "
            if folder is not None else "")
    return f"; it is in no report of {where}: add the report file that holds it {push}by listing it after --corpus"


def load_labels(labels_path: str | os.PathLike, reports: Iterable[Report],
                corpus_paths: Sequence[str | os.PathLike], hint: str | None = None) -> dict[str, store.Annotation]:
    """The store's records, each checked to be a sentence of ``reports`` (read from ``corpus_paths``);
    a label of a sentence no report holds is a one-line error saying how to add its report."""
    known = {s.id for r in reports for s in r.sentences}
    return store.load(labels_path, known_ids=known,
                      unknown_hint=missing_report_hint(corpus_paths) if hint is None else hint)


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
