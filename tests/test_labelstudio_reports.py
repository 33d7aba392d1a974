"""Report mode (:mod:`toolkit.labelstudio.reports`): the config, report tasks and their
pre-labels, reading report annotations back sentence by sentence, exports holding both kinds of
task, the backend's ``/predict`` for report tasks and ``suggest --by report``. The round trip
against a real server is ``test_report_mode_round_trip`` in ``tests/test_labelstudio.py``."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from toolkit import store
from toolkit.cli import main
from toolkit.context import sentence_records
from toolkit.corpus import load_reports
from toolkit.labelstudio import (REPORT_FROM, REPORT_TO, ModelPredictor, WeakPredictor, build_report_tasks, build_tasks,
                                 choice_result, is_report_config, is_toolkit_config, region, report_config, run_region,
                                 sentence_labels)
from toolkit.labelstudio.backend import Backend, BackendOptions
from toolkit.model import load_model, shipped_model_path
from toolkit.taxonomy import COLOURS, LABELS, SLUGS


def test_report_config_lists_the_sections_with_names_colours_and_hotkeys(capsys):
    xml = report_config()
    root = ET.fromstring(xml)
    labels = root.find("ParagraphLabels")
    assert (labels.get("name"), labels.get("toName"), labels.get("choice")) == (REPORT_FROM, REPORT_TO, "single")
    items = labels.findall("Label")
    assert [i.get("value") for i in items] == list(SLUGS)
    assert [(i.get("html"), i.get("hotkey"), i.get("background")) for i in items] == \
        [(label.name, label.hotkey, COLOURS[label.slug][0]) for label in LABELS]
    paragraphs = root.find("Paragraphs")
    assert (paragraphs.get("name"), paragraphs.get("value"), paragraphs.get("granularity")) == (REPORT_TO, "$sentences", "paragraph")
    assert root.find("Header").get("value") == "$title"
    assert is_report_config(xml) and not is_toolkit_config(xml)
    assert main(["ls", "config", "--by", "report"]) == 0
    assert capsys.readouterr().out.strip() == xml.strip()


def test_report_tasks_hold_every_sentence_in_reading_order_with_its_pre_label(two_reports, tmp_path, capsys):
    out = tmp_path / "reports.json"
    assert main(["ls", "export-tasks", str(two_reports), "--by", "report", "--weak-rules", "--out", str(out)]) == 0
    tasks = json.loads(out.read_text(encoding="utf-8"))
    reports = load_reports([two_reports])
    assert [t["data"]["report"] for t in tasks] == [r.id for r in reports]
    for task, report in zip(tasks, reports):
        items = task["data"]["sentences"]
        assert [s["id"] for s in items] == [s.id for s in report.sentences]
        assert [s["is_heading"] for s in items] == [s.is_heading for s in report.sentences]
        assert any(s["is_heading"] for s in items) and task["data"]["n"] == len(items)
        guessed = [s for s in items if s["guess"]]
        assert task["data"]["score"] == min(s["score"] for s in guessed) == task["predictions"][0]["score"]
        result = task["predictions"][0]["result"]
        assert [r["value"]["paragraphlabels"][0] for r in result] == [s["guess"] for s in guessed]
        assert all(r["value"]["start"] == r["value"]["end"] and r["score"] == items[int(r["value"]["start"])]["score"]
                   for r in result)
        low = [s for s in items if s["low"]]
        assert task["data"]["low"] == len(low) and all(s["mark"].startswith("⚠") and s["score"] < 0.5 for s in low)
        assert all(not s["mark"].startswith("⚠") for s in items if not s["low"])
    assert capsys.readouterr().err.startswith("2 tasks, 2 with predictions (weak-rules)")


def test_model_pre_labels_match_sentence_mode_and_only_unlabelled_leaves_labelled_reports_out(two_reports, shipped):
    predictor = shipped
    reports = load_reports([two_reports])
    by_sentence = {t["data"]["id"]: t["data"]["score"] for t in build_tasks(reports, predictor)}
    tasks = build_report_tasks(reports, predictor)
    assert all(s["score"] == by_sentence[s["id"]] for t in tasks for s in t["data"]["sentences"])
    threshold = predictor.model.min_confidence
    assert all(s["low"] == (s["score"] < threshold) for t in tasks for s in t["data"]["sentences"])
    first = {s.id for s in reports[0].sentences}
    assert [t["data"]["report"] for t in build_report_tasks(reports, predictor, skip_ids=first)] == [reports[1].id]


def test_sentence_labels_follow_the_rules():
    pre = [{"overview"}, {"organization"}, {"organization"}, {"education"}, {"plans"}]
    regions = [([i], label) for i, label in enumerate(["overview", "organization", "organization", "education", "plans"])]
    # a run over 1..3 put on top of the pre-labels; sentence 4's region relabelled; sentence 0 kept
    reading = sentence_labels(regions[:4] + [([4], "closing"), ([1, 2, 3], "women")], pre)
    assert reading.labels == {0: "overview", 1: "women", 2: "women", 3: "women", 4: "closing"}
    # two new labels on one sentence: the annotator contradicts themself; a sentence with no region has no label
    reading = sentence_labels([([0], "overview"), ([1], "women"), ([1], "safety")], pre)
    assert reading.labels == {0: "overview"} and reading.contradictions == {1: ["safety", "women"]}


def test_count_actions_in_each_mode(two_reports, shipped):
    from toolkit.labelstudio import Guess, count_actions

    reports = load_reports([two_reports])
    guesses = shipped.guess(reports)
    gold = {sid: g.label for sid, g in guesses.items()}
    first = reports[0].sentences
    wrong = {first[3].id: "women", first[4].id: "women", first[5].id: "women", first[9].id: "culture"}
    assert len({first[i].id for i in (3, 4, 5, 9)}) == 4 and all(gold[k] != v for k, v in wrong.items())
    counted = count_actions(reports, guesses, {**gold, **wrong})
    distinct = len(gold)
    assert counted["sentence"].total == distinct + 4 and counted["sentence"].keys == 4
    assert (counted["report"].selections, counted["report"].keys, counted["report"].submits) == (2, 2, 2)
    assert counted["report"].sentences == sum(len(r.sentences) for r in reports)
    none = count_actions(reports, {k: Guess(None, 0.0) for k in gold}, gold)
    assert none["sentence"].wrong == distinct and none["report"].selections >= 2


def _report_task(task_id: int, data: dict, annotations: list[dict], prediction: dict | None = None) -> dict:
    return {"id": task_id, "project": 7, "data": data, "annotations": annotations,
            "predictions": [prediction] if prediction else []}


def _annotation(who: int, result: list[dict], *, cancelled: bool = False, at: str = "2026-12-01T10:00:00Z") -> dict:
    return {"id": who * 100, "completed_by": who, "result": result, "was_cancelled": cancelled, "ground_truth": False,
            "updated_at": at}


@pytest.fixture(scope="module")
def shipped() -> ModelPredictor:
    return ModelPredictor(load_model(shipped_model_path()))


@pytest.fixture()
def report_export(two_reports, tmp_path, shipped) -> tuple[Path, list[dict], list[dict]]:
    """An export of the two reports as report tasks pre-labelled by the shipped model: user 1
    relabels the run 2..4 of the first as women, user 2 confirms it as pre-labelled; user 2 skips
    the second; and a sentence task of the first report's sentence 6, labelled by user 3."""
    tasks = build_report_tasks(load_reports([two_reports]), shipped)
    first, second = tasks
    pre = first["predictions"][0]["result"]
    texts = [s["text"] for s in first["data"]["sentences"]]
    assert all(s["guess"] for s in first["data"]["sentences"]) and "women" not in [
        s["guess"] for s in first["data"]["sentences"][2:5]] and first["data"]["sentences"][6]["guess"] != "safety"
    exported = [
        _report_task(1, first["data"], [_annotation(1, pre + [run_region(2, 4, texts, "women")]), _annotation(2, pre)],
                     first["predictions"][0]),
        _report_task(2, second["data"], [_annotation(2, [], cancelled=True)], second["predictions"][0]),
        {"id": 3, "project": 7, "data": {"id": first["data"]["sentences"][6]["id"], "text": texts[6]},
         "annotations": [_annotation(3, choice_result("safety"))]},
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(exported, ensure_ascii=False), encoding="utf-8")
    return path, first["data"]["sentences"], second["data"]["sentences"]


def test_import_of_report_and_sentence_tasks_sentence_by_sentence(report_export, tmp_path, capsys):
    path, first, second = report_export
    labels = tmp_path / "labels.jsonl"
    assert main(["ls", "import", str(path), "--data", str(labels), "--project", "7"]) == 0
    out = capsys.readouterr().out
    stored = store.load(labels)
    run = {first[i]["id"] for i in (2, 3, 4)}
    for sid in run:
        assert f"conflict {sid}: annotators disagree: user-1=women, user-2={first[[s['id'] for s in first].index(sid)]['guess']}" in out
    expected = {s["id"]: (s["guess"], "user-1+user-2") for s in first if s["id"] not in run}
    assert {k: (a.label, a.annotator) for k, a in stored.items()} == expected  # sentence 6: two to one
    for s in second:
        if s["id"] not in {x["id"] for x in first}:
            assert f"skipped {s['id']}: cancelled (skipped) by user-2" in out and s["id"] not in stored
    state = labels.read_bytes()
    assert main(["ls", "import", str(path), "--data", str(labels), "--project", "7"]) == 0
    assert ", 0 changed, " in capsys.readouterr().out and labels.read_bytes() == state


def test_agreement_is_per_sentence_in_report_tasks(report_export, capsys):
    path, first, _ = report_export
    assert main(["agreement", str(path), "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["items"] == len({s["id"] for s in first})
    assert {d["id"] for d in result["disagreements"]} == {first[i]["id"] for i in (2, 3, 4, 6)}
    assert result["annotators"] == ["user-1", "user-2", "user-3"]


@pytest.mark.parametrize("change, message", [
    (lambda t: t["annotations"][0]["result"].append(run_region(0, 1, ["a", "b"], "women") | {
        "value": {"start": "0", "end": "999", "startOffset": 0, "endOffset": 1, "paragraphlabels": ["women"]}}),
     "region covers sentences 0..999"),
    (lambda t: t["annotations"][0]["result"].append(region(0, "x", "nonsense")), "nonsense"),
    (lambda t: t["data"]["sentences"][0].update(text="改过的句子。"), "is not the id of its text"),
    (lambda t: t["annotations"][0]["result"].append({**region(0, "x", "women"), "from_name": "other"}),
     "this export is of another project"),
])
def test_a_bad_report_task_is_one_line_and_writes_nothing(report_export, tmp_path, change, message, one_line_error):
    path, _, _ = report_export
    tasks = json.loads(path.read_text(encoding="utf-8"))
    change(tasks[0])
    path.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    labels = tmp_path / "labels.jsonl"
    assert main(["ls", "import", str(path), "--data", str(labels)]) == 2
    err = one_line_error()
    assert message in err and str(path) in err and "task 1" in err
    assert not labels.exists()


def test_labels_on_sentences_no_longer_in_the_corpus_are_listed_not_imported(report_export, two_reports, tmp_path,
                                                                            monkeypatch, capsys):
    path, first, _ = report_export
    project = tmp_path / "proj"
    corpus = project / "annotations" / "corpus"
    corpus.mkdir(parents=True)
    text = two_reports.read_text(encoding="utf-8")
    edited = next(s for s in load_reports([two_reports])[0].sentences if s.id == first[0]["id"])
    (corpus / "two.txt").write_text(text.replace(edited.as_written or edited.text, "本段已重写。", 1), encoding="utf-8")
    monkeypatch.chdir(project)
    assert main(["ls", "import", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"skipped {first[0]['id']}: labelled by user-1, user-2, but the sentence is in no report of the corpus any more" in out
    stored = store.load(project / "annotations" / "labels.jsonl")
    assert first[0]["id"] not in stored and first[1]["id"] in stored


def test_backend_predicts_report_tasks(tmp_path, ls_corpus, ls_labels):
    options = BackendOptions((str(ls_corpus),), ls_labels, tmp_path / "models" / "model.npz")
    backend = Backend(options, WeakPredictor())
    try:
        reports = load_reports([ls_corpus])
        pushed = build_report_tasks(reports, WeakPredictor())
        outside = {"title": "外来报告", "sentences": [
            {"id": "x1", "text": "一、安全生产", "heading": "", "is_heading": True},
            {"id": "x2", "text": "积极开展安康杯竞赛活动,组织安全生产知识培训。", "heading": "一、安全生产", "is_heading": False}]}
        status, answer = backend.predict({"tasks": [{"id": 1, "data": pushed[0]["data"]}, {"id": 2, "data": outside},
                                                    {"id": 3, "data": {"id": "sx", "text": "积极开展安康杯竞赛活动。"}}],
                                          "label_config": report_config()})
        assert status == 200
        first, second, third = answer["results"]
        assert first == pushed[0]["predictions"][0]
        assert second["result"] and all(r["from_name"] == REPORT_FROM for r in second["result"])
        assert second["score"] == min(r["score"] for r in second["result"])
        assert third["result"] == choice_result("safety")
        assert backend.setup({"schema": report_config()})[0] == 200
    finally:
        backend.close()


def test_suggest_by_report_ranks_reports_by_their_least_sure_sentences(two_reports, tmp_path, capsys):
    out = tmp_path / "next.json"
    empty = tmp_path / "labels.jsonl"
    empty.write_text("")
    assert main(["suggest", str(two_reports), "--by", "report", "--n", "1", "--data", str(empty), "--out", str(out)]) == 0
    assert "1 of 2 reports with unlabelled sentences suggested by uncertainty" in capsys.readouterr().err
    (task,) = json.loads(out.read_text(encoding="utf-8"))
    from toolkit.active import suggest_reports

    model = load_model(shipped_model_path())
    ranked = suggest_reports(load_reports([two_reports]), model, n=2)
    assert [c.score for c in ranked.chosen] == sorted((c.score for c in ranked.chosen), reverse=True)
    assert task["data"]["report"] == ranked.chosen[0].report.id and task["data"]["rank"] == 1
    assert task["data"]["al_score"] == ranked.chosen[0].score
    least = [1 - s["score"] for s in task["data"]["sentences"]]
    assert ranked.chosen[0].score == pytest.approx(sum(sorted(least, reverse=True)[:5]) / 5, abs=2e-3)
    labelled = tmp_path / "all.jsonl"
    store.save(labelled, {r["id"]: store.Annotation(r["id"], r["text"], "other", "manual")
                          for report in load_reports([two_reports]) for r in sentence_records(report)})
    assert main(["suggest", str(two_reports), "--by", "report", "--data", str(labelled), "--out", str(out)]) == 0
    assert "nothing to suggest" in capsys.readouterr().err and json.loads(out.read_text(encoding="utf-8")) == []


def test_a_sentence_printed_twice_in_a_report_takes_the_correction_made_on_either_copy(tmp_path, shipped, capsys,
                                                                                       monkeypatch):
    report = tmp_path / "annotations" / "corpus" / "dup.txt"
    report.parent.mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    report.write_text("某区环卫处工会2025年工作总结\n一、帮扶工作\n春节前走访慰问困难职工20户。\n开展金秋助学活动。\n"
                      "二、文体活动\n春节前走访慰问困难职工20户。\n举办职工乒乓球比赛。\n", encoding="utf-8")
    task = build_report_tasks(load_reports([report]), shipped)[0]
    sentences = task["data"]["sentences"]
    texts = [s["text"] for s in sentences]
    first, second = [i for i, t in enumerate(texts) if t == "春节前走访慰问困难职工20户。"]
    pre = task["predictions"][0]["result"]
    assert sentences[first]["guess"] != "culture"
    corrected = [_annotation(1, pre + [run_region(second, second, texts, "culture")])]  # the second copy only
    torn = [_annotation(2, pre + [run_region(first, first, texts, "women"), run_region(second, second, texts, "culture")])]
    for given, expected in ((corrected, "culture"), (torn, None)):
        path = tmp_path / "export.json"
        path.write_text(json.dumps([_report_task(1, task["data"], given, task["predictions"][0])], ensure_ascii=False),
                        encoding="utf-8")
        labels = tmp_path / "annotations" / "labels.jsonl"
        labels.unlink(missing_ok=True)
        assert main(["ls", "import", str(path), "--data", str(labels), "--project", "7"]) == 0
        stored = store.load(labels).get(sentences[first]["id"])
        if expected:
            assert stored.label == expected
        else:  # two new labels on the two copies: the annotator's own contradiction, listed, not imported
            assert stored is None and "culture/women" in capsys.readouterr().out
