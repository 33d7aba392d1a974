"""Parallel and distributed tagging: batches of reports tagged by worker processes, results
streamed in input order with a bounded number of batches in flight (memory stays flat).

Three engines, one task function (:func:`predict_batch`):

* ``fork`` (default where the OS has it): the parent loads the model and the jieba dictionary,
  then forks its workers, which inherit both; no worker pays the ~1 s start-up again.
* ``loky`` (joblib): fresh worker processes, each loading the model file once (checked against
  its SHA-256); for platforms without fork.
* ``dask``: a Dask cluster (``dask.distributed``) of any size, one worker thread included; the
  model's verified bytes (about 9 MB) travel to the cluster once, as a task the batches depend
  on, so workers need no shared files. A cluster with no workers, or one whose every worker is
  lost mid-run, stops the run with one line after ``timeout`` seconds (:data:`DASK_TIMEOUT`); a
  lost worker's batches are tagged again by the others, and so is the model it held.

The parent only finds and names reports; workers cut them into sentences and tag them, so the
parent's share of the work stays small. Output is identical to the serial run.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import ModelError, ToolkitError
from toolkit.model import SectionModel, model_from_bytes, read_model_bytes, trusts_pickle
from toolkit.segment import Report, sentences_of
from toolkit.formats import Formatted, render
from toolkit.tags import BATCH_SENTENCES, DEFAULT_MIN_CONFIDENCE, Tagged, iter_reports, report_batches, tag_reports
from toolkit.tokenizer import quiet_jieba_logging

BACKENDS = ("fork", "loky", "dask")
DASK_TIMEOUT = 30.0
"""Seconds to wait for a Dask scheduler to answer and for a worker to be there (``--dask-timeout``)."""
POLL = 0.5
"""Seconds between checks that a Dask cluster still has workers while a batch is awaited."""


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
    trust_pickle: bool = False

    @classmethod
    def from_path(cls, path: str | os.PathLike, *, with_bytes: bool = False, trust_pickle: bool | None = None) -> "ModelRef":
        data, card = read_model_bytes(path)
        return cls(str(Path(path).resolve()), card["model_sha256"], card, data if with_bytes else None,
                   trusts_pickle(trust_pickle))

    def __hash__(self) -> int:
        return hash(self.sha256)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ModelRef) and other.sha256 == self.sha256


@functools.lru_cache(maxsize=2)
def _worker_model(ref: ModelRef) -> SectionModel:
    folder = Path(ref.path).parent
    if ref.data is not None:
        return model_from_bytes(ref.data, ref.card, f"model {ref.sha256[:12]}", folder=folder, trust_pickle=ref.trust_pickle)
    data, card = read_model_bytes(ref.path)
    if card["model_sha256"] != ref.sha256:
        raise ModelError(f"{ref.path}: changed while tagging (SHA-256 differs)")
    return model_from_bytes(data, card, ref.path, folder=folder, trust_pickle=ref.trust_pickle)


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
    timeout: float = DASK_TIMEOUT,
) -> Iterator[list[Tagged] | Formatted]:
    """Tag ``paths`` on ``jobs`` workers; yields one list of tagged sentences per report, in input
    order, or with ``fmt`` each report already rendered by its worker (for :class:`~toolkit.tagging.Writer`).

    ``backend="dask"`` runs on the Dask cluster at ``scheduler`` (``tcp://host:8786``; default a
    local cluster of ``jobs`` workers); workers need the toolkit installed but not the model file.
    A cluster without workers for ``timeout`` seconds, at the start or mid-run, is a one-line
    :class:`~toolkit.errors.ToolkitError`.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
    ref, loaded = shared_model(model, backend)
    tasks = ([(r.id, r.source, r.paragraphs, r.as_written) for r in group]
             for group in report_batches(iter_reports(paths, sentences=False), batch))
    options = {"min_confidence": min_confidence, "fmt": fmt}
    if backend == "fork":
        results = _forked(ref, loaded, tasks, jobs, quiet, options)
    elif backend == "dask":
        results = _dask(ref, tasks, jobs, scheduler, quiet, options, timeout)
    else:
        results = _joblib(ref, tasks, jobs, quiet, options)
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
    pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"), initializer=_worker_start,
                               initargs=(os.getpid(),))
    finished = False
    try:
        for task in tasks:
            with _stop_signals_held():  # the first submit forks every worker; none is left half-made
                window.append(pool.submit(predict_batch, ref, task, quiet, **options))
            if len(window) > 2 * jobs:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()
        finished = True
    except BrokenProcessPool:
        raise ToolkitError("a tagging worker died (killed, or out of memory?); rerun with fewer --jobs") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=not finished)  # a stopped run waits for running batches only


_STOP_SIGNALS = ("SIGTERM", "SIGINT")


@contextlib.contextmanager
def _stop_signals_held() -> Iterator[None]:
    """SIGTERM and SIGINT held back while a batch is handed to the pool, and delivered after. A
    stop signal that lands inside the fork of a worker runs its Python handler in the fork's own
    callbacks (logging's lock release), where the exception it raises is ignored, and one that
    lands inside ``submit`` can leave a batch half-queued that the pool's shutdown then waits for
    forever: the run would go on and keep its output, or never end."""
    import signal

    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {getattr(signal, name) for name in _STOP_SIGNALS})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _worker_start(parent: int) -> None:
    """A forked worker ends on SIGTERM as a process does (the parent's handler cleans up the
    parent's files), takes the stop signals its parent held back while forking it, and, on Linux,
    is sent SIGTERM when its parent ends (``PR_SET_PDEATHSIG``): no worker outlives a stopped run,
    holding its terminal or pipes open."""
    import signal
    import sys

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {getattr(signal, name) for name in _STOP_SIGNALS})
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM))
        except (OSError, AttributeError):
            pass
        if os.getppid() != parent:  # the parent ended before the request was made
            os._exit(1)


_PR_SET_PDEATHSIG = 1


def _joblib(ref: ModelRef, tasks: Iterable[list], jobs: int, quiet: bool, options: dict):
    """Results of :func:`predict_batch` in order from joblib's loky workers."""
    import joblib

    in_flight = max(2, 2 * jobs)
    with joblib.parallel_config(backend="loky", n_jobs=jobs):
        with joblib.Parallel(return_as="generator", pre_dispatch=f"{in_flight}") as parallel:
            yield from parallel(joblib.delayed(predict_batch)(ref, task, quiet, **options) for task in tasks)


def _dask(ref: ModelRef, tasks: Iterable[list], jobs: int, scheduler: str | None, quiet: bool, options: dict,
          timeout: float):
    """Results of :func:`predict_batch` in order from the workers of a Dask cluster, with at most
    two batches per worker thread in flight."""
    try:
        from dask.distributed import Client
        from distributed.client import FutureCancelledError
    except ImportError:
        raise ToolkitError("the dask backend needs Dask and its distributed scheduler: pip install 'toolkit[dask]'") from None

    where = f"the Dask cluster at {scheduler}" if scheduler else "the local Dask cluster"
    try:
        if scheduler:
            client = Client(scheduler, timeout=timeout, set_as_default=False)
        else:
            client = Client(processes=True, n_workers=jobs, threads_per_worker=1, dashboard_address=None,
                            set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ToolkitError(f"cannot reach the Dask scheduler at {scheduler} within {timeout:g} s ({exc}); "
                           "is it running and the address right? (--dask-timeout sets the wait)") from None
    window: deque = deque()
    try:
        try:
            client.wait_for_workers(1, timeout=timeout)
        except TimeoutError:
            raise ToolkitError(f"the cluster has no workers: {where} had none for {timeout:g} s; start workers "
                               f"(dask worker {scheduler or 'SCHEDULER'}) or raise --dask-timeout") from None
        threads = max(1, sum(client.nthreads().values()))
        import dask

        with dask.config.set({"distributed.admin.large-graph-warning-threshold": _MODEL_GRAPH_LIMIT}):
            model = client.submit(_received, ref, pure=False)  # a task, not scattered data: recomputed if its worker is lost
        for task in tasks:
            window.append(client.submit(predict_batch, model, task, quiet, pure=False, **options))
            if len(window) > 2 * threads:
                yield _dask_result(client, window.popleft(), where, timeout)
        while window:
            yield _dask_result(client, window.popleft(), where, timeout)
    except FutureCancelledError:
        raise ToolkitError(f"{where} cancelled the run (its scheduler stopped?); rerun when it is up again") from None
    finally:
        if window:
            try:
                client.cancel(list(window))
            except Exception:  # noqa: BLE001 - the cluster may be gone already
                pass
        client.close(timeout=timeout)


_MODEL_GRAPH_LIMIT = "64MiB"
"""The model's bytes travel once, in the task that hands it to the workers: Dask's warning about
large graphs (10 MB by default) is meant for data sent with every task, not for this one."""


def _received(ref: ModelRef) -> ModelRef:
    """The model as a Dask task's result, so that the batches depend on it and any worker can make it again."""
    return ref


def _dask_result(client, future, where: str, timeout: float):
    """``future``'s result, polling the cluster meanwhile: no worker for ``timeout`` seconds is a
    :class:`ToolkitError` (every worker lost mid-run); a batch that killed its workers is one too."""
    import time

    from distributed import KilledWorker

    alone_since = None
    while True:
        try:
            return future.result(timeout=POLL)
        except TimeoutError:
            pass
        except KilledWorker:
            raise ToolkitError(f"a batch of reports killed workers of {where} several times (out of memory?); "
                               "give the workers more memory or tag fewer reports at once") from None
        try:
            workers = len(client.nthreads())
        except (OSError, TimeoutError):
            workers = 0
        now = time.monotonic()
        if workers:
            alone_since = None
        elif alone_since is None:
            alone_since = now
        elif now - alone_since >= timeout:
            raise ToolkitError(f"no worker left: every worker of {where} was lost mid-run and none came back within "
                               f"{timeout:g} s; restart the workers and rerun (nothing was written)")
