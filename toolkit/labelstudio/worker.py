"""The backend's training worker: one background thread runs the queued retrains one at a time.

A run imports the project's annotations into the store (pulling them from Label Studio when its
URL and key are configured, else the annotated tasks of an older ``POST /train``), trains on the
store, saves the model, loads it back from disk and hands it to the backend. Requests that
arrive meanwhile are merged into the next run; a failed run keeps the old model and says why in
the status. The import holds the store's lock and the save the model's; the model a retrain
replaces is kept beside it (:func:`toolkit.model.replace_model`).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.corpus import load_reports
from toolkit.errors import ToolkitError
from toolkit.labelstudio.client import Settings, pull
from toolkit.labelstudio.exports import import_tasks
from toolkit.labelstudio.reports import CorpusSentenceIds
from toolkit.labelstudio.tasks import ModelPredictor, Predictor
from toolkit.model import load_model, replace_model
from toolkit.segment import Report

log = logging.getLogger("toolkit.serve")


@dataclass(frozen=True)
class BackendOptions:
    """Where the backend reads the corpus and labels, where its model lives (and retrains are
    saved), and the model it serves until its own exists (``start_model``: default the shipped one)."""

    corpus_paths: tuple[str, ...]
    labels_path: Path
    model_path: Path
    folds: int = 1
    ls_settings: Settings | None = None
    start_model: Path | None = None


@dataclass(frozen=True)
class TrainingJob:
    """One training request: a project to pull, or the annotated tasks Label Studio sent."""

    project: int | None
    tasks: tuple[dict, ...] | None = None


class TrainingWorker:
    """Runs queued training jobs in a background thread and hands each new model to ``install``."""

    def __init__(self, options: BackendOptions, install: Callable[[Predictor, Sequence[Report]], None]) -> None:
        self.options = options
        self._install = install
        self._lock = threading.Lock()
        self._status: dict[str, Any] = {"training": "idle", "trainings": 0, "last_error": "", "last_import": ""}
        self._pending = 0
        self._jobs: queue.Queue[TrainingJob | None] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="toolkit-training", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        """Requests queued or running."""
        with self._lock:
            return self._pending

    def status(self) -> dict[str, Any]:
        """``training`` (idle or running), ``trainings`` done, ``last_error`` and ``last_import``."""
        with self._lock:
            return dict(self._status)

    def submit(self, job: TrainingJob) -> None:
        with self._lock:
            self._pending += 1
        self._jobs.put(job)

    def _set(self, **status: Any) -> None:
        with self._lock:
            self._status.update(status)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            jobs = [job]
            while True:  # merge requests that queued up meanwhile into this run
                try:
                    more = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._jobs.put(None)
                    break
                jobs.append(more)
            try:
                self._retrain(jobs)
            finally:
                with self._lock:
                    self._pending -= len(jobs)

    def _retrain(self, jobs: Sequence[TrainingJob]) -> None:
        from toolkit.training import train_from_store  # scikit-learn: loaded when a retrain runs, not when serving starts

        self._set(training="running")
        try:
            notes = [self._import(job) for job in jobs]
            model = train_from_store(self.options.labels_path, self.options.corpus_paths, folds=self.options.folds)
            replace_model(model, self.options.model_path)
            predictor = ModelPredictor(load_model(self.options.model_path))
            self._install(predictor, load_reports(self.options.corpus_paths))
            with self._lock:
                self._status.update(training="idle", trainings=self._status["trainings"] + 1, last_error="",
                                    last_import="; ".join(n for n in notes if n))
            log.info("retrained: model %s", predictor.version)
        except Exception as exc:  # keep serving the old model, report why
            message = str(exc) if isinstance(exc, ToolkitError) else f"{type(exc).__name__}: {exc}"
            self._set(training="idle", last_error=message)
            log.warning("training failed: %s", message)

    def _import(self, job: TrainingJob) -> str:
        opts = self.options
        corpus_ids = CorpusSentenceIds(opts.corpus_paths)
        if job.tasks is not None:
            return import_tasks(job.tasks, opts.labels_path, where=f"/train request (project {job.project})",
                                project=job.project, corpus_ids=corpus_ids).summary()
        if job.project is not None and opts.ls_settings is not None:
            return pull(opts.ls_settings, opts.labels_path, project_id=job.project, corpus_ids=corpus_ids).summary()
        return f"project {job.project}: no Label Studio URL/key configured, trained on the store only"

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until queued training has finished; ``False`` on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._pending == 0:
                    return True
            time.sleep(0.05)
        return False

    def close(self, timeout: float = 300.0) -> bool:
        """Stop after the current run, waiting up to ``timeout`` seconds for it; ``False`` when it was
        still running and is left behind. The model file is replaced atomically, so it is whole
        either way: the old model, or the new one if the run got that far."""
        self._jobs.put(None)
        if self.pending:
            log.warning("stopping after the running retrain (waiting up to %.0f s; Ctrl+C again stops now and keeps "
                        "the model file as it is)", timeout)
        self._thread.join(timeout=timeout)
        if self._thread.is_alive():
            log.warning("stopped without the running retrain; the model file is left as it was")
            return False
        return True
