import importlib
import json
import os

import pytest

from toolkit.model import load_model
from toolkit.parallel import ModelRef, predict_batch, tag_parallel
from toolkit.tagging import default_model_path, tag_paths


@pytest.fixture(scope="module")
def six_copies(tmp_path_factory, corpus_path):
    """The corpus six times (each copy made unique), so several batches are in flight."""
    text = corpus_path.read_text(encoding="utf-8").replace(",", "，")  # workers keep the text as written
    path = tmp_path_factory.mktemp("par") / "six.txt"
    path.write_text("".join(text.replace("。", f"{i}。") for i in range(6)), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def serial(six_copies):
    model = load_model(default_model_path())
    return [t.to_dict() for tags in tag_paths(model, [six_copies]) for t in tags]


def test_serial_batching_does_not_change_output(six_copies, serial):
    model = load_model(default_model_path())
    small = [t.to_dict() for tags in tag_paths(model, [six_copies], batch=50) for t in tags]
    assert small == serial


def test_two_loky_jobs_give_the_serial_output_in_order(six_copies, serial):
    out = [t.to_dict() for tags in tag_parallel(default_model_path(), [six_copies], jobs=2, batch=300, backend="loky")
           for t in tags]
    assert len(out) == len(serial) > 3000
    assert out == serial


def test_worker_task_cuts_and_tags_its_reports(corpus_lines):
    ref = ModelRef.from_path(default_model_path())
    (tags, written) = predict_batch(ref, [("r1", "a.txt", corpus_lines[:17], []),
                                          ("r2", "b.txt", ["一、组织建设", "新发展会员45人,建会3家。"],
                                           ["一、组织建设", "新发展会员45人，建会3家。"])])
    assert len(tags) > 20 and {t.report for t in tags} == {"r1"} and {t.source for t in tags} == {"a.txt"}
    assert [t.index for t in tags] == list(range(len(tags))) and all(0 < t.confidence <= 1 for t in tags)
    assert [t.text for t in written] == ["一、组织建设", "新发展会员45人，建会3家。"]


def test_two_forked_jobs_give_the_serial_output_in_order(six_copies, serial):
    out = [t.to_dict() for tags in tag_parallel(default_model_path(), [six_copies], jobs=2, batch=300, backend="fork")
           for t in tags]
    assert out == serial and sum("，" in t["text"] for t in out) > 100


def _distributed():
    """In CI the dask extra is installed and the test must run; elsewhere it may skip."""
    if os.environ.get("CI") == "true":
        return importlib.import_module("distributed")
    return pytest.importorskip("distributed", reason="pip install -e '.[dask]' to run the Dask test")


def test_dask_cluster_gives_the_serial_output(six_copies, serial):
    distributed = _distributed()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        out = [t.to_dict() for tags in tag_parallel(default_model_path(), [six_copies], backend="dask",
                                                     scheduler=cluster.scheduler_address, batch=500) for t in tags]
    assert out == serial


@pytest.mark.slow
def test_cli_jobs_identical_to_serial(six_copies, tmp_path):
    from toolkit.cli import main

    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert main(["tag", str(six_copies), "--output", str(one)]) == 0
    assert main(["tag", str(six_copies), "--jobs", "2", "--output", str(two)]) == 0
    assert one.read_bytes() == two.read_bytes()
    assert json.loads(one.read_text(encoding="utf-8").splitlines()[0])["index"] == 0


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "md", "json", "html"])
def test_reports_rendered_by_workers_write_the_serial_output(six_copies, fmt):
    import io

    from toolkit.model import load_model
    from toolkit.tagging import Writer, tag_paths

    outputs = []
    for stream in (tag_paths(load_model(default_model_path()), [six_copies]),
                   tag_parallel(default_model_path(), [six_copies], jobs=2, batch=400, fmt=fmt)):
        buffer = io.StringIO()
        with Writer(buffer, fmt, model_version="v") as writer:
            for report in stream:
                writer.write(report)
        outputs.append(buffer.getvalue())
    assert outputs[0] == outputs[1] and len(outputs[0]) > 10000


def _die(*args, **kwargs):
    os._exit(3)


def test_a_dead_worker_is_a_one_line_error(six_copies, monkeypatch):
    import toolkit.parallel
    from toolkit.errors import ToolkitError

    monkeypatch.setattr(toolkit.parallel, "predict_batch", _die)
    with pytest.raises(ToolkitError, match="worker died"):
        list(tag_parallel(default_model_path(), [six_copies], jobs=2, batch=300, backend="fork"))


# --- a Dask cluster's faults: no workers, every worker lost, one worker thread -------------------


@pytest.fixture(scope="module")
def many_copies(tmp_path_factory, corpus_path):
    """The corpus 24 times (each copy unique): about six batches of the default size."""
    text = corpus_path.read_text(encoding="utf-8")
    path = tmp_path_factory.mktemp("many") / "many.txt"
    path.write_text("".join(text.replace("。", f"{i}。") for i in range(24)), encoding="utf-8")
    return path


def _scheduler_only(distributed):
    return distributed.LocalCluster(n_workers=0, processes=True, dashboard_address=None)


def test_a_cluster_without_workers_is_one_line_and_writes_nothing(six_copies, tmp_path, one_line_error):
    import time

    from toolkit.cli import main

    distributed = _distributed()
    out = tmp_path / "tagged.jsonl"
    with _scheduler_only(distributed) as cluster:
        started = time.monotonic()
        assert main(["tag", str(six_copies), "--backend", "dask", "--scheduler", cluster.scheduler_address,
                     "--dask-timeout", "2", "--output", str(out)]) == 2
        took = time.monotonic() - started
    err = one_line_error()
    assert "the cluster has no workers" in err and "had none for 2 s" in err and "cannot write" not in err
    assert took < 20 and list(tmp_path.iterdir()) == []


def test_a_scheduler_that_is_not_there_is_one_line(six_copies, tmp_path, one_line_error):
    from conftest import free_port
    from toolkit.cli import main

    _distributed()
    address = f"tcp://127.0.0.1:{free_port()}"
    assert main(["tag", str(six_copies), "--backend", "dask", "--scheduler", address, "--dask-timeout", "1",
                 "--output", str(tmp_path / "t.jsonl")]) == 2
    err = one_line_error()
    assert f"cannot reach the Dask scheduler at {address} within 1 s" in err and "cannot write" not in err
    assert list(tmp_path.iterdir()) == []


def test_a_cluster_of_one_worker_thread_is_used(six_copies, serial):
    distributed = _distributed()
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        out = [t.to_dict() for tags in tag_parallel(default_model_path(), [six_copies], backend="dask",
                                                     scheduler=cluster.scheduler_address, batch=800) for t in tags]
        prefix = cluster.scheduler.task_prefixes.get("predict_batch")
        computed = prefix.all_durations.get("compute", 0.0) if prefix is not None else 0.0
    assert out == serial
    assert computed > 0.5  # the batches were tagged on the cluster's one worker, not in this process


@pytest.mark.slow
def test_every_worker_lost_mid_run_stops_within_bounds_and_removes_the_output(many_copies, tmp_path):
    """A worker outside any nanny (as 'dask worker --no-nanny' runs it) killed after the first
    report is written: the run stops with one line and leaves no output, temporary or final."""
    import signal
    import subprocess
    import sys
    import time

    from toolkit.errors import ToolkitError
    from toolkit.tagging import tag_files

    distributed = _distributed()
    out = tmp_path / "tagged.jsonl"
    with _scheduler_only(distributed) as cluster:
        worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", cluster.scheduler_address,
                                   "--nthreads", "1", "--no-nanny", "--no-dashboard"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        killed = []

        def kill_the_worker(reports, sentences):
            if not killed:
                worker.send_signal(signal.SIGKILL)
                killed.append(time.monotonic())

        try:
            with pytest.raises(ToolkitError) as info:
                with open(os.devnull, "w") as sink:
                    tag_files([many_copies], sink, output=out, backend="dask", scheduler=cluster.scheduler_address,
                              dask_timeout=3, progress=kill_the_worker)
        finally:
            worker.kill()
            worker.wait(10)
        stopped = time.monotonic()
    message = str(info.value)
    assert killed and stopped - killed[0] < 20
    assert message.startswith("no worker left: every worker of the Dask cluster at ") and "restart the workers" in message
    assert "\n" not in message and list(tmp_path.iterdir()) == []
