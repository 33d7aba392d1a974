"""Import of Label Studio exports into the store (:mod:`toolkit.labelstudio.exports`): real
exports from tests/data, vote resolution, refusals, concurrency, and malformed exports.

``tests/data/ls_export_*.json`` were captured from label-studio 1.23.2 by
``tests/data/capture_exports.py``; its docstring lists the annotation scenario the tests rely on."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from toolkit import store
from toolkit.cli import main
from toolkit.errors import AnnotationError, UnknownLabelError
from toolkit.fileio import locked
from toolkit.labelstudio import choice_result, import_export
from toolkit.segment import text_id
from toolkit.taxonomy import SLUGS

DATA = Path(__file__).parent / "data"
EXPORT_IDS = DATA / "ls_export_ids.json"
EXPORT_OBJECTS = DATA / "ls_export_objects.json"
EXPORT_FOREIGN = DATA / "ls_export_foreign.json"

# The scenario of tests/data/capture_exports.py, by sentence id.
AGREED, TIED, MAJORITY, GROUND_TRUTH = "s736d08334b63", "s4e7d58b798bd", "sd7ad9785ab85", "sa339d7d545dc"
CANCELLED, EMPTY, UPDATED = "s93e1d74bb486", "s1903f247a69f", "s1206dd1af884"
EXPECTED = {AGREED: "organization", MAJORITY: "organization", GROUND_TRUTH: "overview", UPDATED: "organization"}


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


def test_a_store_in_a_folder_that_does_not_exist_is_refused_before_any_work(tmp_path, one_line_error):
    store = tmp_path / "nodir" / "labels.jsonl"
    assert main(["ls", "import", str(EXPORT_IDS), "--data", str(store)]) == 2
    assert f"{store}: its folder {store.parent} does not exist" in one_line_error()
    assert not store.parent.exists()


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
