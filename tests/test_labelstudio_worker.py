"""The backend's training worker (:mod:`toolkit.labelstudio.worker`): one run at a time, a failed
run keeps the old model and says why."""

from __future__ import annotations

from pathlib import Path

from toolkit.labelstudio.worker import BackendOptions, TrainingJob, TrainingWorker


def test_a_failed_run_installs_nothing_and_reports_why(two_reports: Path, tmp_path: Path):
    installed = []
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
