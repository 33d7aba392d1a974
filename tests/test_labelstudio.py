"""Label Studio integration against a real server started by ``tests/conftest.py``: push, pull,
annotators, training from the pulled store, and a day of annotation step by step. The modules'
own tests are ``tests/test_labelstudio_<module>.py``.

``tests/data/ls_export_*.json`` were captured from label-studio 1.23.2 by
``tests/data/capture_exports.py``; its docstring lists the annotation scenario the tests rely on.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from toolkit import store
from toolkit.cli import main
from toolkit.labelstudio import choice_result, label_config, load_settings, pull

DATA = Path(__file__).parent / "data"


def distinct_sentences(path: Path) -> int:
    from toolkit.corpus import load_sentences

    return len({s.id for s in load_sentences([path])})


# --- against a real Label Studio server ------------------------------------------------------


def unique_title(prefix: str) -> str:
    return f"{prefix} {time.monotonic_ns()}"


def tasks_by_sentence(client, project_id: int) -> dict[str, object]:
    return {t.data["id"]: t for t in client.tasks.list(project=project_id, fields="all")}


def empty_project(tmp_path, monkeypatch, label_studio):
    """A new annotation project with an empty corpus and store, as the current folder, with the
    server's credentials in the environment; returns the project folder and its store."""
    project = tmp_path / "project"
    (project / "annotations" / "corpus").mkdir(parents=True)
    labels = project / "annotations" / "labels.jsonl"
    labels.write_text("")
    monkeypatch.chdir(project)
    for key, value in label_studio.env().items():
        monkeypatch.setenv(key, value)
    return project, labels


def pushed_project(label_studio, monkeypatch, path, prefix: str):
    """``toolkit ls push`` of ``path`` into a new project with the server's credentials in the
    environment; returns the project's title and the project as the server has it."""
    for key, value in label_studio.env().items():
        monkeypatch.setenv(key, value)
    title = unique_title(prefix)
    assert main(["ls", "push", str(path), "--title", title, "--weak-rules"]) == 0
    return title, next(p for p in label_studio.client.projects.list(title=title) if p.title == title)


@pytest.mark.labelstudio
def test_push_creates_a_validated_project_once(label_studio, two_reports, tmp_path, monkeypatch, capsys):
    title, project = pushed_project(label_studio, monkeypatch, two_reports, "push")
    out = capsys.readouterr().out
    client = label_studio.client
    n = distinct_sentences(two_reports)
    assert f"project {project.id} {title!r} (created): {n} tasks imported, 0 already there" in out
    assert client.projects.get(id=project.id).label_config == label_config()
    client.projects.validate_label_config(id=project.id, label_config=label_config())  # raises if invalid
    tasks = tasks_by_sentence(client, project.id)
    assert len(tasks) == n
    predicted = [t for t in tasks.values() if t.predictions]
    assert predicted and all(p.model_version == "weak-rules" for t in predicted for p in t.predictions)
    assert main(["ls", "push", str(two_reports), "--title", title, "--weak-rules"]) == 0
    assert f"(found): 0 tasks imported, {n} already there" in capsys.readouterr().out
    assert len(tasks_by_sentence(client, project.id)) == n


@pytest.mark.labelstudio
def test_new_reports_go_to_the_named_projects_corpus_once_pushed(label_studio, tmp_path, monkeypatch, capsys):
    """From outside the project with $TOOLKIT_PROJECT set: the report is copied into that project's
    corpus (nothing where the command runs), listed with a relative source and its SHA-256, and no
    lock file stays behind."""
    import hashlib

    project = tmp_path / "proj"
    (project / "annotations" / "corpus").mkdir(parents=True)
    incoming = project / "incoming"
    incoming.mkdir()
    report = incoming / "jiedao.txt"
    shutil.copy(DATA / "loop" / "batch1" / "jiedao.txt", report)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    other = elsewhere / "qiaoliang.txt"
    shutil.copy(DATA / "loop" / "batch1" / "qiaoliang.txt", other)
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("TOOLKIT_PROJECT", str(project))
    for key, value in label_studio.env().items():
        monkeypatch.setenv(key, value)
    assert main(["ls", "push", str(report), str(other), "--title", unique_title("new"), "--weak-rules"]) == 0
    out = capsys.readouterr().out
    new = project / "annotations" / "corpus" / "new"
    assert "(created): " in out and f"as {new / 'jiedao.txt'} (1 report)" in out
    assert sorted(p.name for p in elsewhere.iterdir()) == ["qiaoliang.txt"]
    entries = [json.loads(line) for line in (new / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(e["file"], e["source"]) for e in entries] == [("jiedao.txt", "incoming/jiedao.txt"), ("qiaoliang.txt", "qiaoliang.txt")]
    assert [e["sha256"] for e in entries] == [hashlib.sha256(p.read_bytes()).hexdigest() for p in (report, other)]
    assert not [p for p in project.rglob("*") if p.name.endswith(".lock")]
    monkeypatch.delenv("TOOLKIT_PROJECT")
    third = elsewhere / "yiyuan.txt"
    shutil.copy(DATA / "loop" / "batch1" / "yiyuan.txt", third)
    assert main(["--project", str(project), "ls", "push", str(third), "--title", unique_title("new"), "--weak-rules"]) == 0
    assert (new / "yiyuan.txt").read_bytes() == third.read_bytes() and not (elsewhere / "annotations").exists()


@pytest.mark.labelstudio
def test_wrong_key_and_foreign_project_are_one_line_errors(label_studio, two_reports, monkeypatch, one_line_error):
    monkeypatch.setenv("LABEL_STUDIO_URL", label_studio.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "wrong-key-0123456789")
    assert main(["ls", "push", str(two_reports), "--title", unique_title("key")]) == 2
    err = one_line_error()
    assert "refused the API key (HTTP 401)" in err and "wrong-key-0123456789" not in err
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", label_studio.token)
    title = unique_title("sentiment")
    label_studio.client.projects.create(title=title, label_config=(
        '<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text">'
        '<Choice value="Positive"/></Choices></View>'))
    assert main(["ls", "push", str(two_reports), "--title", title]) == 2
    err = one_line_error()
    assert "has another labelling config" in err and label_studio.token not in err
    assert main(["ls", "pull", "--title", title, "--data", str(two_reports.parent / "labels.jsonl")]) == 2
    assert "has another labelling config" in one_line_error()
    from conftest import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    assert main(["ls", "push", str(two_reports), "--title", unique_title("dead"), "--weak-rules", "--ml-backend", dead]) == 2
    err = one_line_error()
    assert f"while connecting ML backend {dead}: " in err and label_studio.token not in err
    assert err.startswith("toolkit: error: ") and " task(s) imported into project " in err  # what was done, then what failed


@pytest.mark.labelstudio
def test_round_trip_with_two_annotators(label_studio, two_reports, ls_labels, tmp_path, monkeypatch, capsys):
    """Two annotators label through the API (the second is a user created through the API): one
    agreement, one disagreement, one skip; pull merges the agreement, lists the conflict, skips the
    skip; a live export imported from a file gives the same store; pulling again changes nothing."""
    title, project = pushed_project(label_studio, monkeypatch, two_reports, "round trip")
    client = label_studio.client
    tasks = list(tasks_by_sentence(client, project.id).values())
    email = f"second-{time.monotonic_ns()}@example.com"
    second = client.users.create(username=email.split("@")[0], email=email, password="second-annotator-1")
    me = client.users.whoami()
    agree, disagree, skip, solo = tasks[3], tasks[4], tasks[5], tasks[6]
    for task, mine, theirs in ((agree, "safety", "safety"), (disagree, "women", "culture")):
        client.annotations.create(id=task.id, result=choice_result(mine))
        client.annotations.create(id=task.id, result=choice_result(theirs), completed_by=second.id)
    client.annotations.create(id=skip.id, result=[], was_cancelled=True)
    client.annotations.create(id=solo.id, result=choice_result("plans"), completed_by=second.id)

    labels = tmp_path / "labels.jsonl"
    shutil.copy(ls_labels, labels)
    before = store.load(labels)
    assert main(["ls", "pull", "--title", title, "--data", str(labels), "--save-export", str(tmp_path / "raw.json")]) == 0
    out = capsys.readouterr().out
    after = store.load(labels)
    assert after.keys() == before.keys()
    assert after[agree.data["id"]].label == "safety" and after[solo.data["id"]].label == "plans"
    assert after[agree.data["id"]].annotator == "+".join(sorted([me.email, email]))
    assert after[disagree.data["id"]] == before[disagree.data["id"]]
    assert after[skip.data["id"]] == before[skip.data["id"]]
    assert f"conflict {disagree.data['id']}: annotators disagree: " in out and f"{email}=culture" in out
    assert f"skipped {skip.data['id']}: cancelled (skipped) by {me.email}" in out
    assert "4 tasks: " in out

    state = labels.read_bytes()
    assert main(["ls", "pull", "--title", title, "--data", str(labels)]) == 0
    assert ", 0 changed," in capsys.readouterr().out and labels.read_bytes() == state

    fresh = tmp_path / "fresh.jsonl"
    shutil.copy(ls_labels, fresh)
    raw = b"".join(client.projects.exports.download_sync(id=project.id, export_type="JSON"))
    (tmp_path / "live.json").write_bytes(raw)
    assert json.loads(raw) == json.loads((tmp_path / "raw.json").read_bytes())
    assert any(isinstance(a["completed_by"], int) for t in json.loads(raw) for a in t["annotations"])
    assert main(["ls", "import", str(tmp_path / "live.json"), "--data", str(fresh), "--project", str(project.id)]) == 0
    capsys.readouterr()
    assert {k: a.label for k, a in store.load(fresh).items()} == {k: a.label for k, a in after.items()}


@pytest.mark.labelstudio
def test_train_from_the_pulled_store(label_studio, two_reports, ls_labels, tmp_path, monkeypatch, capsys):
    """The round trip ends in training: labels pulled from Label Studio train a model."""
    from toolkit.training import train_from_store

    title, project = pushed_project(label_studio, monkeypatch, two_reports, "train")
    client = label_studio.client
    tasks = list(tasks_by_sentence(client, project.id).values())[:2]
    for task in tasks:
        client.annotations.create(id=task.id, result=choice_result("other"))
    labels = tmp_path / "labels.jsonl"
    shutil.copy(ls_labels, labels)
    report = pull(load_settings(), labels, title=title)
    assert len(report.changed) + len(report.unchanged) == 2
    model = train_from_store(labels, [two_reports], folds=1)
    assert "other" in model.classes
    assert model.card["training_data"]["label_counts"]["other"] >= 2


# --- a day of annotation (docs/labelstudio.md, section 6), step by step ---------------------


def _create_annotator(label_studio, email: str, password: str) -> None:
    """Section 1, "Accounts": the admin creates the account, then sets its password on the server."""
    import os
    import subprocess

    label_studio.client.users.create(username=email.split("@")[0], email=email)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(LABEL_STUDIO_BASE_DATA_DIR=str(label_studio.data_dir), LATEST_VERSION_CHECK="false")
    done = subprocess.run([str(label_studio.binary), "reset_password", "--username", email, "--password", password,
                           "--data-dir", str(label_studio.data_dir)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "Password successfully changed" in done.stdout, done.stdout + done.stderr


def _log_in(url: str, email: str, password: str) -> str | None:
    """What an annotator does: log in on the login page with e-mail and password; their own API
    token (``GET /api/current-user/token``), or ``None`` if the login page refuses them."""
    import httpx

    with httpx.Client(base_url=url, follow_redirects=True, timeout=60) as web:
        web.get("/user/login/")
        page = web.post("/user/login/", data={"email": email, "password": password,
                                              "csrfmiddlewaretoken": web.cookies.get("csrftoken", "")},
                        headers={"Referer": f"{url}/user/login/"})
        if page.status_code != 200 or page.url.path.startswith("/user/login"):
            return None
        answer = web.get("/api/current-user/token")
        return answer.json()["token"] if answer.status_code == 200 else None


def _start_backend(project: Path, label_studio, log: Path):
    """``toolkit serve --port N`` in the project's folder, with the server's URL and key set."""
    import os
    import subprocess
    import sys
    import urllib.request

    from conftest import free_port, interruptible

    port = free_port()
    env = {**os.environ, **label_studio.env()}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "toolkit", "serve", "--port", str(port)], cwd=project, env=env,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, preexec_fn=interruptible)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text(encoding="utf-8", errors="replace")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    pytest.fail(f"toolkit serve did not answer within 120 s: {log.read_text(encoding='utf-8', errors='replace')}")


def _health(url: str) -> dict:
    import urllib.request

    with urllib.request.urlopen(f"{url}/health", timeout=10) as answer:
        return json.loads(answer.read())


def _chosen(task) -> str:
    """An annotator's choice for a task: the pre-filled guess, or "other" where there is none."""
    results = [p.result for p in task.predictions or [] if p.result]
    return results[0][0]["value"]["choices"][0] if results else "other"


@pytest.mark.labelstudio
@pytest.mark.slow
def test_a_day_of_annotation(label_studio, ls_corpus, ls_labels, tmp_path, monkeypatch, capsys):
    """docs/labelstudio.md section 6 on a project laid out as the repository (a small seed corpus
    and its labels), with only the commands and flags shown there: new reports pushed with the
    backend, two annotators with their own accounts, a skip, a conflict, a ground truth, pull,
    stats, train, evaluate, suggest --push of the next folder, and the backend's retraining."""
    import contextlib
    import signal

    import httpx
    from label_studio_sdk import LabelStudio

    from toolkit.corpus import load_sentences
    from toolkit.labelstudio import DEFAULT_TITLE
    from toolkit.model import load_model

    project = tmp_path / "project"
    (project / "annotations" / "corpus").mkdir(parents=True)
    shutil.copy(ls_corpus, project / "annotations" / "corpus" / "reports.txt")
    (project / "annotations" / "corpus" / "manifest.jsonl").write_text('{"file": "reports.txt", "corpus": "seed"}\n')
    shutil.copy(ls_labels, project / "annotations" / "labels.jsonl")
    labels = project / "annotations" / "labels.jsonl"
    batch1, batch2 = DATA / "loop" / "batch1", DATA / "loop" / "batch2"
    monkeypatch.chdir(project)
    for key, value in label_studio.env().items():
        monkeypatch.setenv(key, value)
    admin = label_studio.client

    # 1. Accounts, once.
    stamp = time.monotonic_ns()
    first, second = f"li-{stamp}@example.org", f"zhao-{stamp}@example.org"
    for email in (first, second):
        _create_annotator(label_studio, email, f"pw-{email}")
    assert _log_in(label_studio.url, first, "not their password") is None
    ignored = f"wu-{stamp}@example.org"  # the password users.create is given is not the account's
    label_studio.client.users.create(username=ignored.split("@")[0], email=ignored, password="given-to-create-1")
    assert _log_in(label_studio.url, ignored, "given-to-create-1") is None
    tokens = {email: _log_in(label_studio.url, email, f"pw-{email}") for email in (first, second)}
    assert all(tokens.values()) and label_studio.token not in tokens.values()
    connections = contextlib.ExitStack()
    li, zhao = (LabelStudio(base_url=label_studio.url, api_key=tokens[e],
                            httpx_client=connections.enter_context(httpx.Client(timeout=60))) for e in (first, second))
    assert li.users.whoami().email == first and zhao.users.whoami().email == second

    # 2. Morning: the backend and today's reports.
    proc, backend = _start_backend(project, label_studio, tmp_path / "serve.log")
    try:
        assert main(["ls", "push", str(batch1), "--ml-backend", backend]) == 0
        out = capsys.readouterr().out
        for name in ("jiedao.txt", "qiaoliang.txt", "yiyuan.txt"):
            assert f"as annotations/corpus/new/{name} (1 report)" in out
            assert (project / "annotations" / "corpus" / "new" / name).read_bytes() == (batch1 / name).read_bytes()
        manifest = (project / "annotations" / "corpus" / "new" / "manifest.jsonl").read_text(encoding="utf-8")
        assert str(tmp_path) not in manifest and '"source": "jiedao.txt"' in manifest
        assert not list((project / "annotations").rglob(".*.lock"))
        n = len({s.id for s in load_sentences([batch1])})
        assert f"(created): {n} tasks imported, 0 already there" in out and f"ML backend {backend} connected" in out
        (pid,) = [p.id for p in admin.projects.list(title=DEFAULT_TITLE) if p.title == DEFAULT_TITLE]

        # 3. Labelling: li labels everything but a skip; zhao agrees once and disagrees twice; a
        # reviewer stars li's annotation of the second disagreement as ground truth.
        tasks = sorted(li.tasks.list(project=pid, fields="all"), key=lambda t: t.id)
        assert len(tasks) == n
        skip, agree, conflict, starred = tasks[1], tasks[2], tasks[3], tasks[4]
        other_label = {t.id: "safety" if _chosen(t) != "safety" else "culture" for t in (conflict, starred)}
        mine = {}
        for task in tasks:
            if task is skip:
                li.annotations.create(id=task.id, result=[], was_cancelled=True)
            else:
                mine[task.id] = li.annotations.create(id=task.id, result=choice_result(_chosen(task)))
        zhao.annotations.create(id=agree.id, result=choice_result(_chosen(agree)))
        for task in (conflict, starred):
            zhao.annotations.create(id=task.id, result=choice_result(other_label[task.id]))
        admin.annotations.update(id=mine[starred.id].id, ground_truth=True)

        # 4. Evening: labels back, a new model, a check.
        before = store.load(labels)
        assert main(["ls", "pull", "--save-export", "export.json"]) == 0
        out = capsys.readouterr().out
        sid = {t.id: t.data["id"] for t in tasks}
        assert f"skipped {sid[skip.id]}: cancelled (skipped) by {first}" in out
        assert f"conflict {sid[conflict.id]}: annotators disagree: " in out and f"{second}={other_label[conflict.id]}" in out
        after = store.load(labels)
        assert set(after) - set(before) == {sid[t.id] for t in tasks} - {sid[skip.id], sid[conflict.id]}
        assert after[sid[starred.id]].label == _chosen(starred)
        assert after[sid[agree.id]].annotator == "+".join(sorted([first, second]))
        assert f"{n} tasks: {n - 2} added, 0 changed, 0 unchanged, 1 skipped, 1 conflicts" in out
        assert main(["agreement", "export.json"]) == 0
        report = capsys.readouterr().out
        assert f"| {first} | {second} | 3 |" in report and "user-" not in report

        assert main(["stats"]) == 0
        assert str(len(after)) in capsys.readouterr().out
        assert main(["train"]) == 0
        card = json.loads((project / "models" / "default.json").read_text(encoding="utf-8"))
        assert card["training_data"]["sentences_by_corpus"]["new"] == n - 2 and card["cross_validation"]
        trained = load_model(project / "models" / "default.npz").version
        assert main(["evaluate", "--folds", "2", "--models", "cnb", "--out", "reports/today"]) == 0
        assert "macro-F1" in (project / "reports" / "today" / "evaluation.md").read_text(encoding="utf-8")
        capsys.readouterr()

        # 5. Tomorrow's batch: what the new model is least sure of.
        assert main(["suggest", str(batch2), "--n", "5", "--push"]) == 0
        out = capsys.readouterr().out
        assert "as annotations/corpus/new/" in out and "(found): 5 tasks imported" in out
        suggested = [t for t in admin.tasks.list(project=pid, fields="all") if t.id > tasks[-1].id]
        assert len(suggested) == 5 and all(p.model_version == trained for t in suggested for p in t.predictions)
        held = {s.id for s in load_sentences([project / "annotations" / "corpus" / "new"])}
        assert {t.data["id"] for t in suggested} <= held

        # 6. The backend retrains on everything labelled so far ("Start Training").
        zhao.annotations.create(id=suggested[0].id, result=choice_result("assistance"))
        (ml,) = admin.ml.list(project=pid)
        admin.ml.train(id=ml.id)
        deadline = time.monotonic() + 240
        while (health := _health(backend))["trainings"] < 1 or health["training"] != "idle":
            assert time.monotonic() < deadline, health
            time.sleep(1)
        assert health["last_error"] == "" and health["last_import"].startswith(f"{n + 1} tasks: 1 added, 0 changed")
        assert store.load(labels)[suggested[0].data["id"]].label == "assistance"
        retrained = load_model(project / "models" / "default.npz")
        assert health["model_version"] == retrained.version != trained
        assert retrained.card["training_data"]["sentences_by_corpus"]["new"] > card["training_data"]["sentences_by_corpus"]["new"]
        assert retrained.card["cross_validation"] == {}

        asked = health["predicted_tasks"]
        opened = _open_next(label_studio.url, tokens[first], pid)
        assert [p["model_version"] for p in opened["predictions"]] == [retrained.version]
        assert _health(backend)["predicted_tasks"] > asked
        # Ctrl+C lets a running retrain finish: let any that Label Studio queued meanwhile end first.
        deadline = time.monotonic() + 240
        while (health := _health(backend))["queued"] or health["training"] != "idle":
            assert time.monotonic() < deadline, health
            time.sleep(1)
    finally:
        connections.close()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)


def _open_next(url: str, token: str, project_id: int) -> dict:
    """The task the labelling stream opens next for the owner of ``token``."""
    import httpx

    answer = httpx.get(f"{url}/api/projects/{project_id}/next", headers={"Authorization": f"Token {token}"}, timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()




# --- report mode: one task per report (docs/labelstudio.md, "Report mode") ------------------


def _regions(task) -> list[dict]:
    """What an annotator starts from in a report task: the prediction's regions, one per sentence."""
    (pred,) = task.predictions
    return [dict(item) for item in pred.result]


@pytest.mark.labelstudio
def test_report_mode_round_trip(label_studio, tmp_path, monkeypatch, capsys):
    """Push --by report; one annotator relabels a run of three sentences of a report with one
    selection (a new region over the pre-labels), another changes one sentence of the same report
    (the region's label replaced); a second report is confirmed as pre-labelled by one annotator,
    a third skipped. Pull stores exactly the agreed sentences, lists the per-sentence conflicts,
    the skip and a sentence edited out of the corpus, keeps the history; a second pull changes
    nothing; agreement reports the per-sentence figures."""
    from toolkit.labelstudio import report_config, run_region

    project, labels = empty_project(tmp_path, monkeypatch, label_studio)
    title = unique_title("reports")
    assert main(["ls", "push", "--by", "report", str(DATA / "loop" / "batch1"), "--title", title]) == 0
    out = capsys.readouterr().out
    assert "(created): 3 tasks imported, 0 already there" in out
    assert main(["ls", "push", "--by", "report", str(DATA / "loop" / "batch1"), "--title", title]) == 0
    assert "(found): 0 tasks imported, 3 already there" in capsys.readouterr().out
    assert main(["ls", "push", str(DATA / "loop" / "batch1"), "--title", title]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds report tasks" in err and "not sentence tasks" in err
    admin = label_studio.client
    (project_info,) = [p for p in admin.projects.list(title=title) if p.title == title]
    assert admin.projects.get(id=project_info.id).label_config == report_config()
    tasks = sorted(admin.tasks.list(project=project_info.id, fields="all"), key=lambda t: t.id)
    assert len(tasks) == 3
    corrected, confirmed, skipped = tasks
    for task in tasks:
        sentences = task.data["sentences"]
        (pred,) = task.predictions
        assert len(pred.result) == len(sentences) and pred.score == min(s["score"] for s in sentences)
        assert task.data["score"] == pred.score

    email = f"second-{time.monotonic_ns()}@example.com"
    second = admin.users.create(username=email.split("@")[0], email=email)
    me = admin.users.whoami()
    items = corrected.data["sentences"]
    texts = [s["text"] for s in items]
    guess = [s["guess"] for s in items]
    ids = [s["id"] for s in items]
    assert len(set(ids)) == len(ids)
    run = next(i for i in range(1, len(items) - 2) if "women" not in guess[i:i + 3])
    single = run + 4
    single_label = "culture" if guess[single] != "culture" else "safety"
    admin.annotations.create(id=corrected.id, result=_regions(corrected) + [run_region(run, run + 2, texts, "women")])
    theirs = _regions(corrected)
    theirs[single]["value"] = {**theirs[single]["value"], "paragraphlabels": [single_label]}
    admin.annotations.create(id=corrected.id, result=theirs, completed_by=second.id)
    admin.annotations.create(id=confirmed.id, result=_regions(confirmed), completed_by=second.id)
    admin.annotations.create(id=skipped.id, result=[], was_cancelled=True)

    # the store already holds another label for a sentence both annotators leave as pre-labelled
    kept = 0
    before_label = "other" if guess[kept] != "other" else "plans"
    store.save(labels, {ids[kept]: store.Annotation(ids[kept], texts[kept], before_label, "manual", "earlier@example.org")})
    # the confirmed report's last line is rewritten in the corpus after the push
    from toolkit.corpus import load_sentences

    corpus_file = project / "annotations" / "corpus" / "new" / Path(confirmed.data["source"]).name
    lines = corpus_file.read_text(encoding="utf-8").rstrip("\n").split("\n")
    corpus_file.write_text("\n".join(lines[:-1] + ["全年工作到此告一段落，谢谢大家。"]) + "\n", encoding="utf-8")
    gone = {s["id"] for s in confirmed.data["sentences"]} - {s.id for s in load_sentences([corpus_file])}
    assert gone

    assert main(["ls", "pull", "--title", title, "--save-export", "export.json"]) == 0
    out = capsys.readouterr().out
    after = store.load(labels)
    conflicts = {ids[i] for i in (run, run + 1, run + 2, single)}
    for sid in conflicts:
        assert f"conflict {sid}: annotators disagree: " in out
    assert f"{me.email}=women" in out and f"{email}={single_label}" in out
    both = "+".join(sorted([me.email, email]))
    expected = {sid: (label, both) for sid, label in zip(ids, guess) if sid not in conflicts}
    others = confirmed.data["sentences"]
    expected.update({s["id"]: (s["guess"], email) for s in others if s["id"] not in gone})
    assert {sid: (a.label, a.annotator) for sid, a in after.items()} == expected
    assert all(a.source == "label-studio" for a in after.values())
    for sid in gone:
        assert f"skipped {sid}: labelled by {email}, but the sentence is in no report of the corpus any more" in out
    for s in skipped.data["sentences"]:
        assert f"skipped {s['id']}: cancelled (skipped) by {me.email}" in out and s["id"] not in after
    assert f"changed {ids[kept]} {before_label} -> {guess[kept]}" in out
    history = [json.loads(line) for line in (project / "annotations" / "history.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(h["id"], h["previous"]["label"], h["new_label"]) for h in history] == [(ids[kept], before_label, guess[kept])]

    state = (labels.read_bytes(), (project / "annotations" / "history.jsonl").read_bytes())
    assert main(["ls", "pull", "--title", title]) == 0
    assert ", 0 changed, " in capsys.readouterr().out
    assert (labels.read_bytes(), (project / "annotations" / "history.jsonl").read_bytes()) == state

    assert main(["agreement", "export.json", "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    distinct = len(set(ids))
    assert result["items"] == distinct and result["annotators"] == sorted([me.email, email])
    assert {d["id"] for d in result["disagreements"]} == conflicts
    assert result["observed_agreement"] == round((distinct - 4) / distinct, 4)
    assert result["pairs"][0]["items"] == distinct


@pytest.mark.labelstudio
def test_a_mixed_project_pulls_cleanly(label_studio, tmp_path, monkeypatch, capsys):
    """A project whose config labels both kinds of task (``ls config --by mixed``) takes sentence
    tasks and report tasks of the same report; a sentence labelled in each gets a vote from each,
    and pull reads both kinds into the one store."""
    from toolkit.labelstudio import choice_result, mixed_config

    project, labels = empty_project(tmp_path, monkeypatch, label_studio)
    title = unique_title("mixed")
    assert main(["ls", "config", "--by", "mixed"]) == 0
    assert capsys.readouterr().out.strip() == mixed_config().strip()
    admin = label_studio.client
    created = admin.projects.create(title=title, label_config=mixed_config())
    report_file = DATA / "loop" / "batch1" / "jiedao.txt"
    assert main(["ls", "push", str(report_file), "--title", title]) == 0
    assert main(["ls", "push", "--by", "report", str(report_file), "--title", title]) == 0
    out = capsys.readouterr().out
    assert "(found): 1 tasks imported, 0 already there" in out
    tasks = sorted(admin.tasks.list(project=created.id, fields="all"), key=lambda t: t.id)
    (report_task,) = [t for t in tasks if t.data["sentences"]]
    sentence_tasks = [t for t in tasks if not t.data["sentences"]]
    assert len(sentence_tasks) == len(report_task.data["sentences"])
    items = report_task.data["sentences"]
    relabel = "women" if items[1]["guess"] != "women" else "safety"
    result = _regions(report_task)
    result[1]["value"] = {**result[1]["value"], "paragraphlabels": [relabel]}
    admin.annotations.create(id=report_task.id, result=result)
    first = next(t for t in sentence_tasks if t.data["id"] == items[1]["id"])
    admin.annotations.create(id=first.id, result=choice_result(relabel))
    assert main(["ls", "pull", "--title", title]) == 0
    out = capsys.readouterr().out
    stored = store.load(labels)
    assert {k: a.label for k, a in stored.items()} == {s["id"]: (relabel if i == 1 else s["guess"]) for i, s in enumerate(items)}
    assert f"added {items[1]['id']} {relabel} (by admin@example.com)" in out
    assert f"{len(tasks) - len(sentence_tasks) + 1} tasks: {len(items)} added, 0 changed" in out
