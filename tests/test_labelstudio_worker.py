"""The backend's training worker (:mod:`toolkit.labelstudio.worker`): one run at a time, a failed
run keeps the old model and says why."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from toolkit.labelstudio.worker import BackendOptions, TrainingJob, TrainingWorker
from toolkit.model import load_model


def test_a_failed_run_installs_nothing_and_reports_why(two_reports: Path, tmp_path: Path):
    installed = []
    (tmp_path / "labels.jsonl").touch()  # an empty store: nothing to train on
    options = BackendOptions((str(two_reports),), tmp_path / "labels.jsonl", tmp_path / "models" / "m.npz")
    worker = TrainingWorker(options, lambda predictor, reports: installed.append(predictor))
    try:
        assert worker.status() == {"training": "idle", "trainings": 0, "last_error": "", "last_import": ""}
        worker.submit(TrainingJob(3))
        worker.submit(TrainingJob(None))
        assert worker.wait_idle(120) and worker.pending == 0
        status = worker.status()
        assert status["training"] == "idle" and status["trainings"] == 0
        assert status["last_error"] == "no labelled sentences to train on"
        assert installed == [] and not options.model_path.exists()
    finally:
        worker.close()


def test_stopping_during_a_retrain_says_so_and_leaves_the_model_file_whole(ls_corpus: Path, ls_labels: Path,
                                                                            tmp_path: Path, caplog):
    labels = tmp_path / "labels.jsonl"
    labels.write_bytes(ls_labels.read_bytes())
    options = BackendOptions((str(ls_corpus),), labels, tmp_path / "models" / "m.npz")
    entered, release = threading.Event(), threading.Event()

    def install(predictor, reports):
        entered.set()
        release.wait(60)

    worker = TrainingWorker(options, install)
    worker.submit(TrainingJob(None))
    try:
        assert entered.wait(120), worker.status()
        with caplog.at_level(logging.WARNING, logger="toolkit.serve"):
            assert worker.close(timeout=0.1) is False
        messages = [r.getMessage() for r in caplog.records]
        assert any(m.startswith("stopping after the running retrain") for m in messages), messages
        assert any(m.startswith("stopped without the running retrain") for m in messages), messages
        assert load_model(options.model_path).version  # saved before the install: whole
    finally:
        release.set()
    assert worker.wait_idle(60)


def test_stopping_an_idle_worker_waits_for_nothing(two_reports: Path, tmp_path: Path, caplog):
    options = BackendOptions((str(two_reports),), tmp_path / "labels.jsonl", tmp_path / "models" / "m.npz")
    worker = TrainingWorker(options, lambda predictor, reports: None)
    with caplog.at_level(logging.WARNING, logger="toolkit.serve"):
        assert worker.close() is True
    assert caplog.records == []
