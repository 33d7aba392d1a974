"""Parallel and distributed tagging: batches of reports tagged by worker processes, results
streamed in input order with a bounded number of batches in flight (memory stays flat).

Three engines, one task function (:func:`predict_batch`):

* ``fork`` (default where the OS has it): the parent loads the model and the jieba dictionary,
  then forks its workers, which inherit both; no worker pays the ~1 s start-up again.
* ``loky`` (joblib): fresh worker processes, each loading the model file once (checked against
  its SHA-256); for platforms without fork.
* ``dask``: a Dask cluster through joblib's dask backend; workers receive the model's verified
  bytes (about 2 MB) instead of a path, so they need no shared files.

The parent only finds and names reports; workers cut them into sentences and tag them, so the
parent's share of the work stays small. Output is identical to the serial run.
"""

from __future__ import annotations

import functools
import os
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import ModelError, ToolkitError
from toolkit.model import SectionModel, model_from_bytes, read_model_bytes
from toolkit.segment import Report, sentences_of
from toolkit.tagging import (BATCH_SENTENCES, DEFAULT_MIN_CONFIDENCE, Formatted, Tagged, iter_reports, render,
                             report_batches, tag_reports)
from toolkit.tokenizer import quiet_jieba_logging

BACKENDS = ("fork", "loky", "dask")


def default_backend() -> str:
    """``fork`` where the OS offers it (Linux, macOS), else ``loky``."""
    import multiprocessing

    return "fork" if "fork" in multiprocessing.get_all_start_methods() else "loky"


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


def shared_model(model: str | os.PathLike | ModelRef, backend: str) -> tuple[ModelRef, SectionModel]:
    """The model as the workers of ``backend`` receive it, and the model itself, loaded once in this
    process (forked workers inherit it; the caller may use it too, e.g. for its version)."""
    ref = model if isinstance(model, ModelRef) else ModelRef.from_path(model, with_bytes=backend == "dask")
    return ref, _worker_model(ref)


def predict_batch(ref: ModelRef, reports: list[tuple[str, str, list[str], list[str]]], quiet: bool = False, *,
                  min_confidence: float | None = DEFAULT_MIN_CONFIDENCE, fmt: str | None = None) -> list:
    """Worker task: cut a batch of ``(id, source, paragraphs, as_written)`` reports into sentences
    and tag them; each report's tagged sentences, or with ``fmt`` the report rendered in that format."""
    if quiet:
        quiet_jieba_logging()
    model = _worker_model(ref)
    batch = []
    for report_id, source, paragraphs, as_written in reports:
        report = Report(id=report_id, paragraphs=paragraphs, source=source, as_written=as_written)
        report.sentences = sentences_of(report)
        batch.append(report)
    tagged = tag_reports(model, batch, min_confidence=min_confidence)
    return [render(tags, fmt) for tags in tagged] if fmt else tagged


def tag_parallel(
    model: str | os.PathLike | ModelRef,
    paths: Iterable[str | os.PathLike],
    *,
    jobs: int = 2,
    backend: str = "fork",
    scheduler: str | None = None,
    min_confidence: float | None = DEFAULT_MIN_CONFIDENCE,
    batch: int = BATCH_SENTENCES,
    quiet: bool = False,
    fmt: str | None = None,
) -> Iterator[list[Tagged] | Formatted]:
    """Tag ``paths`` on ``jobs`` workers; yields one list of tagged sentences per report, in input
    order, or with ``fmt`` each report already rendered by its worker (for :class:`~toolkit.tagging.Writer`).

    ``backend="dask"`` runs on the Dask cluster at ``scheduler`` (``tcp://host:8786``); workers
    need the toolkit installed but not the model file.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
    ref, loaded = shared_model(model, backend)
    tasks = ([(r.id, r.source, r.paragraphs, r.as_written) for r in group]
             for group in report_batches(iter_reports(paths, sentences=False), batch))
    options = {"min_confidence": min_confidence, "fmt": fmt}
    if backend == "fork":
        results = _forked(ref, loaded, tasks, jobs, quiet, options)
    else:
        results = _joblib(ref, tasks, jobs, backend, scheduler, quiet, options)
    for tagged in results:
        yield from tagged


def _forked(ref: ModelRef, model: SectionModel, tasks: Iterable[list], jobs: int, quiet: bool, options: dict):
    """Results of :func:`predict_batch` in order from ``jobs`` forked workers that inherit the loaded model."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    if quiet:
        quiet_jieba_logging()
    model.warm()
    window: deque = deque()
    try:
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            for task in tasks:
                window.append(pool.submit(predict_batch, ref, task, quiet, **options))
                if len(window) > 2 * jobs:
                    yield window.popleft().result()
            while window:
                yield window.popleft().result()
    except BrokenProcessPool:
        raise ToolkitError("a tagging worker died (killed, or out of memory?); rerun with fewer --jobs") from None


def _joblib(ref: ModelRef, tasks: Iterable[list], jobs: int, backend: str, scheduler: str | None, quiet: bool,
            options: dict):
    """Results of :func:`predict_batch` in order from joblib workers (loky, or a Dask cluster)."""
    import joblib

    client = None
    if backend == "dask":
        from dask.distributed import Client

        client = Client(scheduler) if scheduler else Client(processes=True, n_workers=jobs, threads_per_worker=1)
    in_flight = max(2, 2 * jobs)
    try:
        with joblib.parallel_config(backend=backend, n_jobs=jobs if backend == "loky" else -1):
            with joblib.Parallel(return_as="generator", pre_dispatch=f"{in_flight}") as parallel:
                yield from parallel(joblib.delayed(predict_batch)(ref, task, quiet, **options)
                                    for task in tasks)
    finally:
        if client is not None:
            client.close()
