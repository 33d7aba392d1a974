"""Tasks with pre-annotations from the weak rules or a model (:mod:`toolkit.labelstudio.tasks`)."""

from __future__ import annotations

import json
from pathlib import Path

from toolkit import store
from toolkit.cli import main
from toolkit.labelstudio import FROM_NAME, TO_NAME
from toolkit.segment import text_id
from toolkit.taxonomy import SLUGS


def distinct_sentences(path: Path) -> int:
    from toolkit.corpus import load_sentences

    return len({s.id for s in load_sentences([path])})


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


