"""The ML backend over real HTTP (a server thread per test), and connected to a real Label Studio."""

from __future__ import annotations

import http.client
import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import interruptible
from toolkit import store
from toolkit.cli import main
from toolkit.corpus import load_reports
from toolkit.context import records_of
from toolkit.labelstudio import ModelPredictor, WeakPredictor, build_tasks, choice_result, label_config
from toolkit.labelstudio.backend import Backend, BackendOptions, BackendServer, make_server, project_id_of
from toolkit.model import load_model, shipped_model_path
from toolkit.taxonomy import SLUGS

DATA = Path(__file__).parent / "data"
OTHER_CONFIG = ('<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text">'
                '<Choice value="Positive"/></Choices></View>')


def call(server: BackendServer, method: str, path: str, body: object = None, *, raw: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict]:
    """One HTTP request to the backend; ``(status, JSON answer)``."""
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        conn.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def start(backend: Backend, **kwargs) -> BackendServer:
    server = make_server(backend, "127.0.0.1", 0, **kwargs)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def stop(server: BackendServer) -> None:
    server.shutdown()
    server.server_close()
    server.backend.close()


@pytest.fixture()
def store_copy(tmp_path: Path, ls_labels: Path) -> Path:
    path = tmp_path / "labels.jsonl"
    shutil.copy(ls_labels, path)
    return path


@pytest.fixture()
def backend(tmp_path: Path, ls_corpus: Path, store_copy: Path) -> Iterator[BackendServer]:
    """A backend with no model of its own yet (it serves the shipped model), on a free port."""
    options = BackendOptions((str(ls_corpus),), store_copy, tmp_path / "models" / "model.npz")
    server = start(Backend(options))
    yield server
    stop(server)


@pytest.fixture()
def weak_backend(tmp_path: Path, ls_corpus: Path, store_copy: Path) -> Iterator[BackendServer]:
    """A backend predicting with the weak rules, on a free port."""
    options = BackendOptions((str(ls_corpus),), store_copy, tmp_path / "models" / "model.npz")
    server = start(Backend(options, WeakPredictor()))
    yield server
    stop(server)


@pytest.fixture()
def corpus_tasks(ls_corpus: Path) -> list[dict]:
    return build_tasks(load_reports([ls_corpus]), WeakPredictor())


def test_a_backend_without_a_model_of_its_own_serves_the_shipped_model(backend, ls_corpus):
    shipped = load_model(shipped_model_path())
    status, health = call(backend, "GET", "/health")
    assert status == 200 and health["model_version"] == shipped.version and health["model_class"] == "SectionModel"
    reports = load_reports([ls_corpus])
    tasks = [{"id": n, "data": t["data"]} for n, t in enumerate(build_tasks(reports, ModelPredictor(shipped)))]
    status, answer = call(backend, "POST", "/predict", {"tasks": tasks, "label_config": label_config(), "project": "1.1"})
    assert status == 200 and answer["model_version"] == shipped.version
    assert all(r["result"] and r["model_version"] == shipped.version for r in answer["results"])


def test_health_setup_and_predict_with_weak_rules(weak_backend, corpus_tasks):
    backend = weak_backend
    status, health = call(backend, "GET", "/health")
    assert status == 200 and (health["status"], health["model_version"], health["model_class"]) == ("UP", "weak-rules", "WeakRules")
    assert call(backend, "POST", "/setup", {"project": "1.1", "schema": label_config()}) == (200, {"model_version": "weak-rules"})
    status, answer = call(backend, "POST", "/setup", {"project": "1.1", "schema": OTHER_CONFIG})
    assert status == 400 and "not the toolkit's" in answer["error"]
    tasks = [{"id": n, "data": t["data"]} for n, t in enumerate(corpus_tasks)]
    status, answer = call(backend, "POST", "/predict", {"tasks": tasks, "label_config": label_config(), "project": "1.1"})
    assert status == 200 and len(answer["results"]) == len(tasks)
    expected = [t.get("predictions", [{"result": [], "score": 0.0, "model_version": "weak-rules"}])[0] for t in corpus_tasks]
    assert answer["results"] == expected


def test_predict_tasks_from_outside_the_corpus(backend):
    tasks = [{"id": 1, "data": {"id": "sx", "text": "积极开展安康杯竞赛活动。", "heading": ""}},
             {"id": 2, "data": {"text": ""}}]
    status, answer = call(backend, "POST", "/predict", {"tasks": tasks})
    assert status == 200
    first, second = answer["results"]
    assert first["result"] == choice_result("safety") and first["score"] > 0
    assert second["result"] == [] and second["score"] == 0


@pytest.mark.parametrize("method, path, raw, headers, status, message", [
    ("POST", "/predict", b'{"tasks": [', {}, 400, "not valid JSON (Expecting value at line 1 column 12)"),
    ("POST", "/predict", b"[1, 2]", {}, 400, "must be a JSON object, not list"),
    ("POST", "/predict", b'{"tasks": [{"id": 1}]}', {}, 400, "'tasks' must be a list of tasks"),
    ("POST", "/predict", b"\xff\xfe", {}, 400, "not UTF-8 JSON"),
    ("POST", "/webhook", b"{}", {}, 400, "no 'action'"),
    ("POST", "/webhook", b'{"action": "START_TRAINING", "project": {"title": "x"}}', {}, 400,
     "no project id in data['project']['id']"),
    ("POST", "/setup", b"", {"Content-Length": "99999999999"}, 413, "over the 1000000 byte limit"),
    ("POST", "/nowhere", b"{}", {}, 404, "no POST /nowhere here"),
    ("GET", "/predict", None, {}, 405, "no GET /predict here"),
])
def test_bad_requests_get_4xx_and_the_server_keeps_serving(tmp_path, ls_corpus, store_copy, method, path, raw,
                                                          headers, status, message):
    options = BackendOptions((str(ls_corpus),), store_copy, tmp_path / "model.npz")
    server = start(Backend(options), max_body=1_000_000)
    try:
        got, answer = call(server, method, path, raw=raw, headers=headers)
        assert got == status and message in answer["error"]
        assert call(server, "GET", "/health")[0] == 200
    finally:
        stop(server)


def test_binds_loopback_by_default_and_requires_basic_auth_when_set(tmp_path, ls_corpus, store_copy):
    import base64

    backend = Backend(BackendOptions((str(ls_corpus),), store_copy, tmp_path / "model.npz"))
    server = make_server(backend, port=0, auth=("toolkit", "s3cret"))
    assert server.server_address[0] == "127.0.0.1"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert call(server, "GET", "/health")[0] == 401
        wrong = {"Authorization": "Basic " + base64.b64encode(b"toolkit:nope").decode()}
        assert call(server, "POST", "/predict", {"tasks": []}, headers=wrong)[0] == 401
        right = {"Authorization": "Basic " + base64.b64encode(b"toolkit:s3cret").decode()}
        assert call(server, "GET", "/health", headers=right)[0] == 200
    finally:
        stop(server)


def test_annotation_events_are_counted_not_written(backend, store_copy):
    before = store_copy.read_bytes()
    event = {"action": "ANNOTATION_CREATED", "annotation": {"id": 1, "result": choice_result("other"), "task": 1},
             "task": {"id": 1, "data": {"id": "s736d08334b63", "text": "x"}}, "project": {"id": 3}}
    assert call(backend, "POST", "/webhook", event)[0] == 200
    assert call(backend, "POST", "/webhook", {**event, "action": "ANNOTATION_DELETED"})[0] == 200
    assert call(backend, "POST", "/webhook", {"action": "PROJECT_UPDATED"}) == (200, {"status": "Unknown event"})
    events = call(backend, "GET", "/health")[1]["events"]
    assert events == {"ANNOTATION_CREATED": 1, "ANNOTATION_DELETED": 1}
    assert store_copy.read_bytes() == before


def test_start_training_retrains_saves_and_reloads(backend, store_copy, corpus_tasks, ls_corpus):
    model_path = backend.backend.options.model_path
    assert not model_path.exists()
    status, answer = call(backend, "POST", "/webhook", {"action": "START_TRAINING", "project": {"id": 7}})
    assert (status, answer["training"]) == (201, "queued")
    assert backend.backend.wait_idle(120)
    health = call(backend, "GET", "/health")[1]
    model = load_model(model_path)
    assert health["trainings"] == 1 and health["last_error"] == "" and health["model_class"] == "SectionModel"
    assert health["model_version"] == model.version != "weak-rules"
    assert "no Label Studio URL/key configured" in health["last_import"]
    tasks = [{"id": n, "data": t["data"]} for n, t in enumerate(corpus_tasks[:10])]
    results = call(backend, "POST", "/predict", {"tasks": tasks})[1]["results"]
    by_id = {r["id"]: r for r in records_of(load_reports([ls_corpus]))}
    labels, _ = model.predict([by_id[t["data"]["id"]] for t in corpus_tasks[:10]])
    assert [r["model_version"] for r in results] == [model.version] * 10
    assert [r["result"][0]["value"]["choices"][0] for r in results] == labels


@pytest.mark.slow
def test_retraining_reads_reports_pushed_since_the_backend_started(tmp_path, ls_corpus, store_copy):
    """A report added to the corpus after start (as ``toolkit ls push`` does) is trained on and
    predicted from its place in the corpus after the next retrain."""
    from toolkit.corpus import add_to_corpus, load_sentences

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(ls_corpus, corpus / "seed.txt")
    server = start(Backend(BackendOptions((str(corpus),), store_copy, tmp_path / "model.npz")))
    try:
        new = DATA / "loop" / "batch1" / "yiyuan.txt"
        add_to_corpus([new], corpus)
        sentences = [s for s in load_sentences([new]) if not s.is_heading]
        store.merge(store_copy, [store.Annotation(s.id, s.text, "women", "manual") for s in sentences[:3]])
        by_id_only = [{"id": n, "data": {"id": s.id}} for n, s in enumerate(sentences)]
        assert all(r["result"] == [] for r in call(server, "POST", "/predict", {"tasks": by_id_only})[1]["results"])
        assert call(server, "POST", "/webhook", {"action": "START_TRAINING", "project": {"id": 1}})[0] == 201
        assert server.backend.wait_idle(120)
        health = call(server, "GET", "/health")[1]
        assert health["last_error"] == "" and health["trainings"] == 1
        results = call(server, "POST", "/predict", {"tasks": by_id_only})[1]["results"]
        assert all(r["result"] and r["model_version"] == health["model_version"] for r in results)
        assert call(server, "GET", "/health")[1]["predicted_tasks"] == 2 * len(sentences)
    finally:
        stop(server)


def test_a_retrain_keeps_the_model_it_replaces_for_a_rollback(tmp_path, ls_corpus, ls_model, store_copy):
    from toolkit.model import model_files, previous_path, rollback_model

    model_path = tmp_path / "models" / ls_model.name
    model_path.parent.mkdir()
    for f in model_files(ls_model):
        shutil.copy(f, model_path.with_name(f.name))
    first = load_model(model_path).card
    first["model_version"] = "before-retrain"
    model_path.with_suffix(".json").write_text(json.dumps(first), encoding="utf-8")
    server = start(Backend(BackendOptions((str(ls_corpus),), store_copy, model_path)))
    try:
        assert call(server, "POST", "/webhook", {"action": "START_TRAINING", "project": {"id": 7}})[0] == 201
        assert server.backend.wait_idle(120)
        retrained = call(server, "GET", "/health")[1]["model_version"]
    finally:
        stop(server)
    assert retrained != "before-retrain" and load_model(model_path).version == retrained
    assert load_model(previous_path(model_path)).version == "before-retrain"
    assert rollback_model(model_path)["model_version"] == "before-retrain"
    assert load_model(model_path).version == "before-retrain"
    assert load_model(previous_path(model_path)).version == retrained


def test_failed_training_keeps_the_old_model(tmp_path, ls_corpus):
    labels = tmp_path / "labels.jsonl"
    labels.touch()  # an empty store: nothing to train on
    server = start(Backend(BackendOptions((str(ls_corpus),), labels, tmp_path / "model.npz")))
    try:
        assert call(server, "POST", "/webhook", {"action": "START_TRAINING", "project": {"id": 1}})[0] == 201
        assert server.backend.wait_idle(60)
        health = call(server, "GET", "/health")[1]
        shipped = load_model(shipped_model_path()).version
        assert health["last_error"] == "no labelled sentences to train on" and health["model_version"] == shipped
        assert call(server, "POST", "/predict", {"tasks": []}) == (200, {"results": [], "model_version": shipped})
    finally:
        stop(server)


def test_legacy_train_request_imports_the_tasks_then_retrains(backend, store_copy):
    tasks = json.loads((DATA / "ls_export_ids.json").read_text(encoding="utf-8"))
    before = store.load(store_copy)
    status, _ = call(backend, "POST", "/train", {"annotations": tasks, "project": f"{tasks[0]['project']}.1700000000",
                                                 "label_config": label_config()})
    assert status == 201 and backend.backend.wait_idle(120)
    after = store.load(store_copy)
    assert after["sa339d7d545dc"].label == "overview" and after["sa339d7d545dc"].source == "label-studio"
    assert after.keys() == before.keys()
    health = call(backend, "GET", "/health")[1]
    assert health["trainings"] == 1 and health["last_import"].startswith("7 tasks: 0 added, ")
    assert {h["id"] for h in store.iter_history(store_copy)} == {k for k, a in after.items() if a != before[k]}
    bad = [{**tasks[0], "annotations": [{**tasks[0]["annotations"][0], "result": choice_result("sports")}]}]
    status, answer = call(backend, "POST", "/train", {"annotations": bad, "project": "3.1"})
    assert status == 400 and "unknown label 'sports'" in answer["error"]


def test_project_id_forms():
    assert [project_id_of(v) for v in ({"id": 3}, 4, "5.1700000000", "x", None, True)] == [3, 4, 5, None, None, None]


def test_serve_command_runs_and_stops_on_interrupt(tmp_path, ls_corpus, store_copy):
    proc = subprocess.Popen(
        [sys.executable, "-m", "toolkit", "serve", "--port", "0", "--corpus", str(ls_corpus), "--data",
         str(store_copy), "--model", str(tmp_path / "model.npz")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, preexec_fn=interruptible)
    try:
        line, before = "", []
        deadline = time.monotonic() + 60
        while "serving model" not in line and time.monotonic() < deadline:
            line = proc.stderr.readline()
            before.append(line)
        assert line.startswith(f"serving model {load_model(shipped_model_path()).version} on http://127.0.0.1:"), line
        port = int(line.split("http://127.0.0.1:")[1].split()[0])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/health")
        assert json.loads(conn.getresponse().read())["status"] == "UP"
        conn.close()
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "toolkit: interrupted" in err
    assert f"model {shipped_model_path()} (the shipped model; version " in "".join(before)


def test_serve_refuses_a_malformed_store_before_it_serves(tmp_path, ls_corpus, one_line_error):
    bad = tmp_path / "labels.jsonl"
    bad.write_text('{"id": "s1", "label": "nonsense"}\n', encoding="utf-8")
    assert main(["serve", "--port", "0", "--corpus", str(ls_corpus), "--data", str(bad),
                 "--model", str(tmp_path / "model.npz")]) == 2
    assert str(bad) in one_line_error()


def test_serve_help_has_an_example():
    out = subprocess.run([sys.executable, "-m", "toolkit", "serve", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "example:" in out.stdout and "127.0.0.1" in out.stdout
    for sub in ("config", "export-tasks", "import", "push", "pull"):
        out = subprocess.run([sys.executable, "-m", "toolkit", "ls", sub, "--help"], capture_output=True, text=True)
        assert out.returncode == 0 and "example:\n  " in out.stdout


# --- connected to a real Label Studio --------------------------------------------------------


def _open_next_task(label_studio, project_id: int) -> dict:
    """What the labelling stream shows when the next task is opened (``GET /api/projects/N/next``)."""
    import httpx

    answer = httpx.get(f"{label_studio.url}/api/projects/{project_id}/next",
                       headers={"Authorization": f"Token {label_studio.token}"}, timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _retrieve(client, project_id: int, tasks: list, version: str) -> dict[str, list[str]]:
    """Have Label Studio fetch predictions for ``tasks`` from the backend ("Retrieve Predictions");
    return the labels of the predictions of ``version`` each task now has."""
    client.actions.create(id="retrieve_tasks_predictions", project=project_id,
                          selected_items={"all": False, "included": [t.id for t in tasks]})
    out = {}
    for task in tasks:
        task = client.tasks.get(id=task.id)
        out[task.data["id"]] = [p.result[0]["value"]["choices"][0] for p in task.predictions
                                if p.model_version == version and p.result]
    return out


@pytest.mark.labelstudio
def test_label_studio_gets_predictions_and_retrains_the_backend(label_studio, ls_corpus, ls_model, store_copy,
                                                                tmp_path, monkeypatch, capsys):
    """push --ml-backend connects the backend (with basic auth); opening the next task asks the
    backend for its prediction; Label Studio retrieves its predictions; annotations made in Label
    Studio reach the backend as webhooks; "Start training" (ml.train) sends START_TRAINING, the
    backend pulls the project, retrains, reloads, and Label Studio then receives the new model's
    predictions. With the backend down, an opened task shows no guess at all."""
    from toolkit.labelstudio import Settings

    model_path = tmp_path / "model.npz"
    shutil.copy(ls_model, model_path)
    shutil.copy(ls_model.with_suffix(".json"), model_path.with_suffix(".json"))
    settings = Settings(label_studio.url, label_studio.token)
    backend = Backend(BackendOptions((str(ls_corpus),), store_copy, model_path, 1, settings))
    server = start(backend, auth=("toolkit", "backend-pass-1"))
    try:
        for key, value in {**label_studio.env(), "TOOLKIT_ML_USER": "toolkit", "TOOLKIT_ML_PASSWORD": "backend-pass-1"}.items():
            monkeypatch.setenv(key, value)
        title = f"backend {time.monotonic_ns()}"
        assert main(["ls", "push", str(ls_corpus), "--title", title, "--weak-rules", "--ml-backend", server.url]) == 0
        out = capsys.readouterr().out
        assert f"ML backend {server.url} connected" in out and "1 webhook(s) given its basic auth" in out
        assert "backend-pass-1" not in out
        client = label_studio.client
        project = next(p for p in client.projects.list(title=title) if p.title == title)
        (ml,) = client.ml.list(project=project.id)
        assert ml.state == "CO" and ml.url == server.url
        assert main(["ls", "push", str(ls_corpus), "--title", title, "--weak-rules", "--ml-backend", server.url]) == 0
        assert "already connected" in capsys.readouterr().out

        first = backend.version
        assert client.projects.get(id=project.id).model_version == ml.title
        asked = backend.health()[1]["predicted_tasks"]
        opened = _open_next_task(label_studio, project.id)
        assert backend.health()[1]["predicted_tasks"] == asked + 1
        assert [p["model_version"] for p in opened["predictions"]] == [first]
        assert opened["predictions"][0]["result"] == call_predict(server, [opened])[0]["result"]

        sample = list(client.tasks.list(project=project.id, fields="task_only"))[:12]
        predicted = _retrieve(client, project.id, sample, first)
        mine = call_predict(server, [{"data": t.data} for t in sample])
        assert predicted == {t.data["id"]: [r["result"][0]["value"]["choices"][0]] for t, r in zip(sample, mine)}

        targets = sample[:3]
        for task in targets:
            client.annotations.create(id=task.id, result=choice_result("closing"))
        assert backend.health()[1]["events"].get("ANNOTATION_CREATED") == 3

        client.ml.train(id=ml.id)
        assert backend.wait_idle(120)
        health = backend.health()[1]
        assert health["last_error"] == "" and health["trainings"] == 1
        assert health["last_import"].startswith("3 tasks: ")
        assert all(store.load(store_copy)[t.data["id"]].label == "closing" for t in targets)
        second = backend.version
        assert second != first and load_model(model_path).version == second

        again = _retrieve(client, project.id, sample[:4], second)
        assert len(again) == 4 and all(len(v) == 1 and v[0] in SLUGS for v in again.values())
    finally:
        stop(server)
    assert _open_next_task(label_studio, project.id)["predictions"] == []


def call_predict(server: BackendServer, tasks: list[dict]) -> list[dict]:
    import base64

    auth = {"Authorization": "Basic " + base64.b64encode(b"toolkit:backend-pass-1").decode()}
    status, answer = call(server, "POST", "/predict", {"tasks": [{"id": n, "data": t["data"]} for n, t in enumerate(tasks)]},
                          headers=auth)
    assert status == 200
    return answer["results"]


def test_a_task_without_heading_is_classified_by_its_text_alone():
    from toolkit.labelstudio import ModelPredictor, record_from_task
    from toolkit.model import load_model
    from toolkit.tagging import default_model_path

    bare = record_from_task({"text": "三八节期间组织女职工开展健康讲座。"})
    assert bare["alone"] and bare["heading"] == "" and bare["part"] == ""
    headed = record_from_task({"text": "开展健康讲座。", "heading": "五、女职工工作"})
    assert not headed.get("alone") and headed["heading"] == "五、女职工工作"
    guess = ModelPredictor(load_model(default_model_path())).guess_records([bare])[0]
    assert guess.label == "women" and 0 < guess.score <= 1
