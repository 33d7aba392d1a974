"""Label Studio integration: config, tasks, import of exports (real ones from tests/data and ones
captured live), push/pull against a real server started by ``tests/conftest.py``.

``tests/data/ls_export_*.json`` were captured from label-studio 1.23.2 by
``tests/data/capture_exports.py``; its docstring lists the annotation scenario the tests rely on.
"""

from __future__ import annotations

import json
import shutil
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit import store
from toolkit.cli import main
from toolkit.errors import AnnotationError, LabelStudioError, UnknownLabelError
from toolkit.fileio import locked
from toolkit.labelstudio import (
    FROM_NAME,
    TO_NAME,
    Settings,
    choice_result,
    config_choices,
    import_export,
    is_toolkit_config,
    label_config,
    load_settings,
    pull,
)
from toolkit.segment import text_id
from toolkit.taxonomy import HARD_CASES, LABELS, SLUGS

DATA = Path(__file__).parent / "data"
EXPORT_IDS = DATA / "ls_export_ids.json"
EXPORT_OBJECTS = DATA / "ls_export_objects.json"
EXPORT_FOREIGN = DATA / "ls_export_foreign.json"

# The scenario of tests/data/capture_exports.py, by sentence id.
AGREED, TIED, MAJORITY, GROUND_TRUTH = "s736d08334b63", "s4e7d58b798bd", "sd7ad9785ab85", "sa339d7d545dc"
CANCELLED, EMPTY, UPDATED = "s93e1d74bb486", "s1903f247a69f", "s1206dd1af884"
EXPECTED = {AGREED: "organization", MAJORITY: "organization", GROUND_TRUTH: "overview", UPDATED: "organization"}


def distinct_sentences(path: Path) -> int:
    from toolkit.corpus import load_sentences

    return len({s.id for s in load_sentences([path])})


# --- config ----------------------------------------------------------------------------------


def test_config_is_valid_xml_generated_from_the_taxonomy():
    root = ET.fromstring(label_config())
    choices = root.find("Choices")
    assert choices.get("name") == FROM_NAME and choices.get("toName") == TO_NAME
    assert choices.get("choice") == "single-radio" and choices.get("required") == "true"
    items = choices.findall("Choice")
    assert [c.get("value") for c in items] == list(SLUGS)
    assert [c.get("hotkey") for c in items] == [label.hotkey for label in LABELS]
    assert all(c.get("html").startswith(label.name) and c.get("hint") == label.description for c, label in zip(items, LABELS))
    texts = {t.get("name"): t.get("value") for t in root.iter("Text")}
    assert texts == {"heading": "$heading", "context": "$context", "text": "$text"}
    assert all(t.get("selectionEnabled") == "false" for t in root.iter("Text"))
    shown = [h.get("value") for h in root.iter("Header")]
    assert all(case in shown for case in HARD_CASES)
    assert is_toolkit_config(label_config())


def test_config_is_accepted_by_the_sdks_label_interface():
    from label_studio_sdk.label_interface import LabelInterface

    interface = LabelInterface(label_config())
    assert interface.get_control().labels == list(SLUGS)
    prediction = {"model_version": "x", "score": 0.5, "result": choice_result("safety")}
    assert interface.validate_prediction(prediction, return_errors=True) == []
    bad = {"model_version": "x", "score": 0.5, "result": choice_result("sports")}
    assert interface.validate_prediction(bad, return_errors=True)


def test_other_configs_are_told_apart():
    foreign = ('<View><Text name="text" value="$text"/><Choices name="section" toName="text">'
               '<Choice value="Positive"/></Choices></View>')
    assert config_choices(foreign) == (FROM_NAME, TO_NAME, ("Positive",)) and not is_toolkit_config(foreign)
    assert config_choices("<View/>") is None
    fewer = label_config().replace('<Choice value="other"', '<Choice value="others"')
    assert fewer != label_config() and not is_toolkit_config(fewer)
    with pytest.raises(LabelStudioError, match="not valid XML"):
        config_choices("<View>")


def test_cli_config_prints_the_config(capsys):
    assert main(["ls", "config"]) == 0
    assert capsys.readouterr().out == label_config() + "\n"


# --- export-tasks ----------------------------------------------------------------------------


def test_export_tasks_shape_with_weak_rules(two_reports, tmp_path, capsys, one_line_error):
    out = tmp_path / "tasks.json"
    assert main(["ls", "export-tasks", str(two_reports), "--out", str(out), "--model", str(tmp_path / "none.npz")]) == 2
    assert "model file not found" in one_line_error()
    assert main(["ls", "export-tasks", str(two_reports), "--out", str(out), "--weak-rules"]) == 0
    tasks = json.loads(out.read_text(encoding="utf-8"))
    assert capsys.readouterr().err.startswith(f"{len(tasks)} tasks, ")
    assert len(tasks) == len({t["data"]["id"] for t in tasks}) > 50
    with_prediction = [t for t in tasks if "predictions" in t]
    assert len(with_prediction) > len(tasks) / 2
    for task in tasks:
        data = task["data"]
        assert set(data) == {"id", "text", "heading", "context", "report", "score", "guess"}
        assert data["id"] == text_id(data["text"]) and data["context"]
        for p in task.get("predictions", []):
            assert p["model_version"] == "weak-rules" and 0 < p["score"] <= 1 == len(p["result"])
            result = p["result"][0]
            assert (result["from_name"], result["to_name"], result["type"]) == (FROM_NAME, TO_NAME, "choices")
            assert result["value"]["choices"][0] in SLUGS and data["score"] == p["score"]
        if "predictions" not in task:
            assert data["score"] == 0 and data["guess"] == ""
    heading_task = next(t for t in tasks if t["data"]["text"] == "1、调整充实人员力量。")
    assert heading_task["data"]["heading"] == "一、抓组织建设,构建工会工作新平台"


def test_export_tasks_only_unlabelled_and_model_version(two_reports, ls_labels, ls_model, tmp_path, capsys):
    labels = tmp_path / "labels.jsonl"
    records = store.load(ls_labels)
    keep = dict(list(records.items())[:30])
    store.save(labels, keep)
    out = tmp_path / "tasks.json"
    assert main(["ls", "export-tasks", str(two_reports), "--only-unlabelled", "--data", str(labels),
                 "--model", str(ls_model), "--out", str(out)]) == 0
    tasks = json.loads(out.read_text(encoding="utf-8"))
    ids = {t["data"]["id"] for t in tasks}
    assert not ids & keep.keys() and len(ids) == distinct_sentences(two_reports) - len(keep)
    card = json.loads(ls_model.with_suffix(".json").read_text(encoding="utf-8"))
    assert all(t["predictions"][0]["model_version"] == card["model_version"] for t in tasks)
    assert all(0 < t["predictions"][0]["score"] <= 1 for t in tasks)


# --- import of exports -----------------------------------------------------------------------


def test_import_real_export_with_integer_completed_by(tmp_path, capsys):
    raw = json.loads(EXPORT_IDS.read_text(encoding="utf-8"))  # the shapes this test is about:
    assert all(isinstance(a["completed_by"], int) for t in raw for a in t["annotations"])
    assert all(isinstance(p, int) for t in raw for p in t["predictions"])  # predictions as ids only
    labels = tmp_path / "labels.jsonl"
    assert main(["ls", "import", str(EXPORT_IDS), "--data", str(labels)]) == 0
    out = capsys.readouterr().out
    saved = store.load(labels)
    assert {k: a.label for k, a in saved.items()} == EXPECTED
    assert all(a.source == "label-studio" for a in saved.values())
    assert saved[AGREED].annotator == "user-1+user-3" and saved[GROUND_TRUTH].annotator == "user-1"
    assert f"conflict {TIED}: annotators disagree: user-1=organization, user-3=education" in out
    assert f"skipped {CANCELLED}: cancelled (skipped) by user-1" in out
    assert f"skipped {EMPTY}: empty result from user-1" in out
    assert out.rstrip().endswith("7 tasks: 4 added, 0 changed, 0 unchanged, 2 skipped, 1 conflicts")


def test_import_real_snapshot_export_with_user_objects(tmp_path):
    raw = json.loads(EXPORT_OBJECTS.read_text(encoding="utf-8"))
    assert all(isinstance(a["completed_by"], dict) for t in raw for a in t["annotations"])
    assert any(not t["annotations"] for t in raw) and all(isinstance(p, dict) for t in raw for p in t["predictions"])
    labels = tmp_path / "labels.jsonl"
    report = import_export(EXPORT_OBJECTS, labels)
    saved = store.load(labels)
    assert {k: a.label for k, a in saved.items()} == EXPECTED
    assert saved[MAJORITY].annotator == "annotator2@example.com+annotator3@example.com"
    assert saved[GROUND_TRUTH].annotator == "admin@example.com"
    assert len(report.added) == 4 and len(report.conflicts) == 1


def test_import_is_idempotent_and_loses_no_label(tmp_path, ls_labels, capsys):
    labels = tmp_path / "labels.jsonl"
    shutil.copy(ls_labels, labels)
    before = store.load(labels)
    assert main(["ls", "import", str(EXPORT_IDS), "--data", str(labels)]) == 0
    first = capsys.readouterr().out
    after = store.load(labels)
    assert after.keys() == before.keys()  # every label still there
    history = list(store.iter_history(labels))
    changed = {k for k in EXPECTED if before[k].label != EXPECTED[k]}
    assert {h["id"] for h in history} == changed and changed
    for entry in history:
        assert entry["previous"] == before[entry["id"]].to_dict()
        assert f"changed {entry['id']} {before[entry['id']].label} -> {EXPECTED[entry['id']]}" in first
    for sid in (TIED, CANCELLED, EMPTY):  # not decided in Label Studio: the store keeps its label
        assert after[sid] == before[sid]
    snapshot = labels.read_bytes(), store.history_path(labels).read_bytes()
    assert main(["ls", "import", str(EXPORT_IDS), "--data", str(labels)]) == 0
    assert "0 added, 0 changed, 4 unchanged" in capsys.readouterr().out
    assert (labels.read_bytes(), store.history_path(labels).read_bytes()) == snapshot
    import_export(EXPORT_OBJECTS, labels)  # the same annotations in the other export shape
    assert (labels.read_bytes(), store.history_path(labels).read_bytes()) == snapshot


def test_ground_truth_disagreement_is_a_conflict(tmp_path):
    tasks = json.loads(EXPORT_IDS.read_text(encoding="utf-8"))
    task = next(t for t in tasks if t["data"]["id"] == GROUND_TRUTH)
    task["annotations"][1]["ground_truth"] = True  # a second ground truth that says "other"
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    report = import_export(path, tmp_path / "labels.jsonl")
    assert report.conflicts == [(TIED, "annotators disagree: user-1=organization, user-3=education [task 4]"),
                                (GROUND_TRUTH, "ground-truth annotations disagree: user-1=overview, user-3=other [task 6]")]
    assert GROUND_TRUTH not in store.load(tmp_path / "labels.jsonl")


def write_variant(tmp_path: Path, change) -> Path:
    tasks = json.loads(EXPORT_IDS.read_text(encoding="utf-8"))
    change(tasks)
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    return path


def test_unknown_label_refuses_the_whole_export(tmp_path, one_line_error):
    def sports(tasks):
        tasks[2]["annotations"][0]["result"][0]["value"]["choices"] = ["sports"]

    path = write_variant(tmp_path, sports)
    labels = tmp_path / "labels.jsonl"
    with pytest.raises(UnknownLabelError, match=r"task 5 annotation \d+: unknown label 'sports'"):
        import_export(path, labels)
    assert main(["ls", "import", str(path), "--data", str(labels)]) == 2
    assert str(path) in one_line_error()
    assert not labels.exists()


@pytest.mark.parametrize("change, message", [
    (lambda tasks: tasks[0]["data"].update(text="改过的句子。"), "is not the id of its text"),
    (lambda tasks: tasks[0]["data"].pop("id"), "this export is of another project"),
    (lambda tasks: tasks[1]["annotations"][0]["result"][0].update(from_name="sentiment"), "another project"),
    (lambda tasks: tasks[0]["annotations"][0]["result"][0]["value"]["choices"].append("overview"), "single-choice"),
])
def test_tampered_or_foreign_tasks_are_refused(tmp_path, change, message):
    with pytest.raises(AnnotationError, match=message):
        import_export(write_variant(tmp_path, change), tmp_path / "labels.jsonl")
    assert not (tmp_path / "labels.jsonl").exists()


def test_export_of_another_project_is_refused_with_one_line(tmp_path, one_line_error):
    labels = tmp_path / "labels.jsonl"
    assert main(["ls", "import", str(EXPORT_FOREIGN), "--data", str(labels)]) == 2
    err = one_line_error()
    assert str(EXPORT_FOREIGN) in err and "another project" in err
    assert main(["ls", "import", str(EXPORT_IDS), "--data", str(labels), "--project", "99"]) == 2
    assert "belongs to project" in one_line_error() and not labels.exists()


@pytest.mark.parametrize("content, message", [
    (b'[{"id": 1, "data": {"id": "s1"', "not valid JSON (Expecting"),
    (b'{"tasks": []}', "expected a JSON list of tasks"),
    (b'[{"text": "a", "section": "overview"}]', "not JSON_MIN or CSV"),
    (b"\xff\xfe[]", "not UTF-8"),
])
def test_malformed_exports_fail_with_one_line(tmp_path, content, message, one_line_error):
    path = tmp_path / "export.json"
    path.write_bytes(content)
    assert main(["ls", "import", str(path), "--data", str(tmp_path / "labels.jsonl")]) == 2
    err = one_line_error()
    assert str(path) in err and message in err


def test_empty_export_changes_nothing(tmp_path, ls_labels, capsys):
    path = tmp_path / "export.json"
    path.write_text("[]\n", encoding="utf-8")
    labels = tmp_path / "labels.jsonl"
    shutil.copy(ls_labels, labels)
    before = labels.read_bytes()
    assert main(["ls", "import", str(path), "--data", str(labels)]) == 0
    assert capsys.readouterr().out.strip() == "0 tasks: 0 added, 0 changed, 0 unchanged, 0 skipped, 0 conflicts"
    assert labels.read_bytes() == before and not store.history_path(labels).exists()


def _export(tasks: list[tuple[str, str, str]], annotator: int) -> list[dict]:
    """A Label Studio JSON export of ``(sentence id, text, label)`` tasks, each annotated once."""
    return [{"id": n, "project": 3, "data": {"id": sid, "text": text},
             "annotations": [{"id": n, "completed_by": annotator, "result": choice_result(label), "was_cancelled": False,
                              "ground_truth": False, "updated_at": "2026-11-30T10:00:00Z"}]}
            for n, (sid, text, label) in enumerate(tasks, 1)]


def _run_import(args: tuple[str, str]) -> int:
    export, labels = args
    return main(["ls", "import", export, "--data", labels])


IMPORTERS = 12


def test_concurrent_importers_lose_no_label_and_no_history(tmp_path):
    """Twelve `toolkit ls import` processes at once, each adding 15 labels and relabelling 3 that
    were in the store: every label and every history record is there afterwards."""
    import multiprocessing

    labels = tmp_path / "labels.jsonl"
    old = [(text_id(f"原句{k}。"), f"原句{k}。") for k in range(3 * IMPORTERS)]
    store.merge(labels, [store.Annotation(sid, text, "plans", "manual", "x") for sid, text in old])
    exports = []
    for b in range(IMPORTERS):
        new = [(text_id(f"句子{b}-{i}。"), f"句子{b}-{i}。", "women") for i in range(15)]
        relabel = [(sid, text, "closing") for sid, text in old[3 * b:3 * b + 3]]
        path = tmp_path / f"export{b}.json"
        path.write_text(json.dumps(_export(new + relabel, annotator=b + 1), ensure_ascii=False), encoding="utf-8")
        exports.append((str(path), str(labels)))
    with multiprocessing.get_context("fork").Pool(IMPORTERS) as pool:
        assert pool.map(_run_import, exports) == [0] * IMPORTERS
    records = store.load(labels)
    assert len(records) == 3 * IMPORTERS + 15 * IMPORTERS
    assert sum(r.label == "women" for r in records.values()) == 15 * IMPORTERS
    assert sum(r.label == "closing" for r in records.values()) == 3 * IMPORTERS
    history = list(store.iter_history(labels))
    assert sorted(h["id"] for h in history) == sorted(sid for sid, _ in old)
    assert all(h["previous"]["label"] == "plans" and h["new_label"] == "closing" for h in history)


def test_an_import_that_cannot_get_the_lock_says_so_and_changes_nothing(tmp_path, ls_labels, monkeypatch, one_line_error):
    labels = tmp_path / "labels.jsonl"
    shutil.copy(ls_labels, labels)
    before = labels.read_bytes()
    monkeypatch.setenv("TOOLKIT_LOCK_TIMEOUT", "0.2")
    with locked(labels):  # a pull or the backend's retrain holds the store
        assert main(["ls", "import", str(EXPORT_IDS), "--data", str(labels)]) == 2
    err = one_line_error()
    assert str(labels) in err and "another writer" in err and "nothing was changed" in err
    assert labels.read_bytes() == before and not store.history_path(labels).exists()


# --- settings and connection errors (no server needed) ---------------------------------------


def test_settings_from_env_or_config_file_never_show_the_key(tmp_path):
    config = tmp_path / "ls.json"
    config.write_text(json.dumps({"url": "http://127.0.0.1:8080/", "api_key": "file-secret"}), encoding="utf-8")
    settings = load_settings({"TOOLKIT_LS_CONFIG": str(config)})
    assert (settings.url, settings.api_key) == ("http://127.0.0.1:8080", "file-secret")
    assert "file-secret" not in repr(settings)
    settings = load_settings({"TOOLKIT_LS_CONFIG": str(config), "LABEL_STUDIO_API_KEY": "env-secret"})
    assert settings.api_key == "env-secret"
    with pytest.raises(LabelStudioError, match="no Label Studio URL"):
        load_settings({"XDG_CONFIG_HOME": str(tmp_path / "empty")})
    config.write_text("{not json", encoding="utf-8")
    with pytest.raises(LabelStudioError, match="not valid JSON") as info:
        load_settings({"TOOLKIT_LS_CONFIG": str(config)})
    assert "secret" not in str(info.value)
    assert Settings("http://u:pw@host:8080/x", "k").safe_url == "http://host:8080/x"


def test_server_down_is_one_line_without_the_key(tmp_path, monkeypatch, one_line_error):
    from conftest import free_port

    monkeypatch.setenv("LABEL_STUDIO_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "very-secret-key-123")
    assert main(["ls", "pull", "--data", str(tmp_path / "labels.jsonl")]) == 2
    err = one_line_error()
    assert "cannot reach Label Studio" in err and "very-secret-key-123" not in err


# --- against a real Label Studio server ------------------------------------------------------


def unique_title(prefix: str) -> str:
    return f"{prefix} {time.monotonic_ns()}"


def tasks_by_sentence(client, project_id: int) -> dict[str, object]:
    return {t.data["id"]: t for t in client.tasks.list(project=project_id, fields="all")}


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

    from conftest import free_port

    port = free_port()
    env = {**os.environ, **label_studio.env()}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "toolkit", "serve", "--port", str(port)], cwd=project, env=env,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
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
        assert main(["ls", "pull"]) == 0
        out = capsys.readouterr().out
        sid = {t.id: t.data["id"] for t in tasks}
        assert f"skipped {sid[skip.id]}: cancelled (skipped) by {first}" in out
        assert f"conflict {sid[conflict.id]}: annotators disagree: " in out and f"{second}={other_label[conflict.id]}" in out
        after = store.load(labels)
        assert set(after) - set(before) == {sid[t.id] for t in tasks} - {sid[skip.id], sid[conflict.id]}
        assert after[sid[starred.id]].label == _chosen(starred)
        assert after[sid[agree.id]].annotator == "+".join(sorted([first, second]))
        assert f"{n} tasks: {n - 2} added, 0 changed, 0 unchanged, 1 skipped, 1 conflicts" in out

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


# --- property: a malformed export changes nothing ---------------------------------------------

_JUNK = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2),
                  st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@st.composite
def malformed_export(draw) -> bytes:
    """A real export (tests/data) broken in one of the ways a file can be: cut short, or one part
    of it (the whole, a task, its data, its sentence, its annotations, a result, a label) replaced
    by something of the wrong kind."""
    raw = EXPORT_IDS.read_bytes().rstrip()
    tasks = json.loads(raw)
    task = draw(st.sampled_from(tasks))
    annotation = draw(st.sampled_from(task["annotations"]))
    kind = draw(st.sampled_from(["cut", "whole", "task", "data", "id", "text", "annotations", "annotation",
                                 "result", "label"]))
    if kind == "cut":
        return raw[: draw(st.integers(1, len(raw) - 1))]
    if kind == "whole":
        return json.dumps(draw(_JUNK.filter(lambda v: not isinstance(v, list)))).encode()
    if kind == "task":
        tasks[tasks.index(task)] = draw(_JUNK.filter(lambda v: not isinstance(v, dict)))
    elif kind == "data":
        task["data"] = draw(_JUNK.filter(lambda v: not isinstance(v, dict)))
    elif kind == "id":
        task["data"]["id"] = draw(_JUNK.filter(lambda v: v != task["data"]["id"]))
    elif kind == "text":
        task["data"]["text"] = draw(_JUNK.filter(lambda v: not isinstance(v, str) or v.strip() != task["data"]["text"]))
    elif kind == "annotations":
        task["annotations"] = draw(_JUNK.filter(lambda v: v is not None and not isinstance(v, list)))
    elif kind == "annotation":
        task["annotations"][task["annotations"].index(annotation)] = draw(_JUNK.filter(lambda v: not isinstance(v, dict)))
    elif kind == "result":
        annotation["result"] = draw(_JUNK.filter(lambda v: v is not None and v != [] and not isinstance(v, list)))
    else:
        annotation["was_cancelled"] = False
        annotation["result"] = choice_result(draw(st.text(min_size=1, max_size=12).filter(lambda v: v not in SLUGS)))
    return json.dumps(tasks, ensure_ascii=False).encode()


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory, ls_labels) -> Path:
    """A store with labels and history, the same for every example (each must leave it unchanged)."""
    path = tmp_path_factory.mktemp("store") / "labels.jsonl"
    shutil.copy(ls_labels, path)
    assert main(["ls", "import", str(EXPORT_IDS), "--data", str(path)]) == 0
    return path


@pytest.mark.slow
@settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(export=malformed_export())
def test_a_malformed_export_is_refused_in_one_line_and_changes_nothing(shared_store, export):
    import contextlib
    import io
    import tempfile

    history = store.history_path(shared_store)
    before = shared_store.read_bytes(), history.read_bytes()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.json"
        path.write_bytes(export)
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(["ls", "import", str(path), "--data", str(shared_store)])
    assert code == 2 and err.getvalue().count("\n") == 1 and err.getvalue().startswith("toolkit: error: ")
    assert (shared_store.read_bytes(), history.read_bytes()) == before
