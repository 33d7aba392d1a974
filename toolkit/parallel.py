"""Parallel and distributed tagging: batches of reports tagged by joblib workers (loky on one
machine, or a Dask cluster through joblib's dask backend), results streamed in input order.

Workers on this machine load the model file once per process (checked against its SHA-256);
Dask workers receive its verified bytes (about 1 MB) instead, so they need no shared files.
Batches carry paragraphs and return only label indices and confidences. Output is identical to
the serial run.
"""

from __future__ import annotations

import functools
import os
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toolkit.errors import ModelError
from toolkit.context import sentence_records
from toolkit.tokenizer import quiet_jieba_logging
from toolkit.model import SectionModel, model_from_bytes, read_model_bytes
from toolkit.segment import Report, sentences_of
from toolkit.tagging import BATCH_SENTENCES, DEFAULT_MIN_CONFIDENCE, Tagged, assemble, iter_reports, report_batches

BACKENDS = ("loky", "dask")


@dataclass(frozen=True)
class ModelRef:
    """A model as workers receive it: its path, SHA-256 and card, and, for workers on other
    machines (Dask), its verified bytes; workers on this machine read the file themselves."""

    path: str
    sha256: str
    card: dict
    data: bytes | None = None

    @classmethod
    def from_path(cls, path: str | os.PathLike, *, with_bytes: bool = False) -> "ModelRef":
        data, card = read_model_bytes(path)
        return cls(str(Path(path).resolve()), card["model_sha256"], card, data if with_bytes else None)

    def __hash__(self) -> int:
        return hash(self.sha256)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ModelRef) and other.sha256 == self.sha256


@functools.lru_cache(maxsize=2)
def _worker_model(ref: ModelRef) -> SectionModel:
    if ref.data is not None:
        return model_from_bytes(ref.data, ref.card, f"model {ref.sha256[:12]}")
    data, card = read_model_bytes(ref.path)
    if card["model_sha256"] != ref.sha256:
        raise ModelError(f"{ref.path}: changed while tagging (SHA-256 differs)")
    return model_from_bytes(data, card, ref.path)


def predict_batch(ref: ModelRef, paragraph_lists: list[list[str]], quiet: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Worker task: label indices (into the model's classes) and confidences for a batch of reports."""
    if quiet:
        quiet_jieba_logging()
    model = _worker_model(ref)
    records = []
    for paragraphs in paragraph_lists:
        report = Report(id="", paragraphs=paragraphs)
        report.sentences = sentences_of(report)
        records.extend(sentence_records(report))
    proba = model.predict_proba(records)
    best = proba.argmax(axis=1) if len(proba) else np.zeros(0, dtype=int)
    conf = proba[np.arange(len(best)), best] if len(proba) else np.zeros(0)
    return best.astype(np.int16), conf.astype(np.float64)


def tag_parallel(
    model_path: str | os.PathLike,
    paths: Iterable[str | os.PathLike],
    *,
    jobs: int = 2,
    backend: str = "loky",
    scheduler: str | None = None,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    batch: int = BATCH_SENTENCES,
    quiet: bool = False,
) -> Iterator[list[Tagged]]:
    """Tag ``paths`` on ``jobs`` workers; yields one list of tagged sentences per report, in input order.

    ``backend="dask"`` runs on the Dask cluster at ``scheduler`` (``tcp://host:8786``); workers
    need the toolkit installed but not the model file.
    """
    import joblib

    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
    ref = ModelRef.from_path(model_path, with_bytes=backend == "dask")
    labels = _worker_model(ref).classes
    client = None
    if backend == "dask":
        from dask.distributed import Client

        client = Client(scheduler) if scheduler else Client(processes=True, n_workers=jobs, threads_per_worker=1)
    in_flight = max(2, 2 * jobs)
    try:
        with joblib.parallel_config(backend=backend, n_jobs=jobs if backend == "loky" else -1):
            with joblib.Parallel(return_as="generator", pre_dispatch=f"{in_flight}") as parallel:
                pending: deque[list[Report]] = deque()

                def tasks():
                    for group in report_batches(iter_reports(paths), batch):
                        pending.append(group)
                        yield joblib.delayed(predict_batch)(ref, [r.paragraphs for r in group], quiet)

                for best, conf in parallel(tasks()):
                    yield from assemble(pending.popleft(), [labels[i] for i in best], conf, min_confidence=min_confidence)
    finally:
        if client is not None:
            client.close()

