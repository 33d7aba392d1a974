"""What to label next, and its tasks (:mod:`toolkit.active.suggest`, ``toolkit suggest``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolkit.active import suggest, suggestion_tasks, suggestions_summary
from toolkit.cli import main
from toolkit.context import sentence_records
from toolkit.corpus import load_reports
from toolkit.errors import ToolkitError
from toolkit.labelstudio import FROM_NAME, TO_NAME
from toolkit.model import shipped_model_path
from toolkit.segment import text_id

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample_report.txt"
MODEL = shipped_model_path()


@pytest.fixture(scope="module")
def model():
    from toolkit.model import load_model

    return load_model(MODEL)


UNSURE = "工会积极参与,取得了较好效果。"
"""A sentence that says too little to place: the model is unsure of it wherever it stands."""


def variants_report(tmp_path: Path) -> Path:
    """The sample report with ``UNSURE`` and four near-copies of it (one word added) after its first section."""
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    copies = [UNSURE.replace("。", f"{w}。") for w in ("", "了", "啊", "呀", "吧")]
    path = tmp_path / "variants.txt"
    path.write_text("\n".join(lines[:5] + copies + lines[5:]) + "\n", encoding="utf-8")
    return path


@pytest.mark.slow
def test_suggest_ranks_by_the_models_uncertainty_and_guards_diversity(tmp_path, model):
    stem = UNSURE[:8]
    reports = load_reports([variants_report(tmp_path)])
    unguarded = suggest(reports, model, n=5, threshold=1.0)
    crowd = sum(stem in c.record["text"] for c in unguarded.chosen)
    assert crowd >= 3  # the copies crowd the top
    chosen = suggest(reports, model, n=5)
    assert sum(stem in c.record["text"] for c in chosen.chosen) == 1 and chosen.near_duplicates >= crowd - 1
    assert stem in chosen.chosen[0].record["text"]  # one of the five is still the first choice
    every = [r for report in reports for r in sentence_records(report)]  # the model weighs whole reports
    first: dict[str, float] = {}
    for record, p in zip(every, model.predict_proba(every)):
        first.setdefault(record["id"], float(p.max()))
    confidence = [first[c.record["id"]] for c in chosen.chosen]
    assert [c.confidence for c in chosen.chosen] == pytest.approx(confidence, abs=1e-4)
    assert [c.score for c in chosen.chosen] == sorted((c.score for c in chosen.chosen), reverse=True)
    assert [c.score for c in chosen.chosen] == pytest.approx([1 - c for c in confidence], abs=1e-4)


def test_suggest_leaves_out_labelled_sentences(model):
    reports = load_reports([SAMPLE])
    every = suggest(reports, model, n=100, strategy="margin")
    assert len(every.chosen) == every.unlabelled == len({s.id for s in reports[0].sentences})
    labelled = {c.record["id"] for c in every.chosen[:5]}
    rest = suggest(reports, model, labelled, n=100, strategy="margin")
    assert rest.labelled_skipped == 5 and not labelled & {c.record["id"] for c in rest.chosen}
    assert [c.record["id"] for c in rest.chosen] == [c.record["id"] for c in every.chosen[5:]]
    none = suggest(reports, model, {s.id for s in reports[0].sentences})
    assert none.chosen == [] and suggestions_summary(none) == "nothing to suggest: all 22 distinct sentences are already labelled"
    with pytest.raises(ToolkitError, match="at least one"):
        suggest(reports, model, n=0)


def test_suggestion_tasks_are_export_tasks_in_rank_order(model):
    reports = load_reports([SAMPLE])
    suggestions = suggest(reports, model, n=6, strategy="entropy")
    tasks = suggestion_tasks(reports, suggestions, model.version)
    assert [t["data"]["id"] for t in tasks] == [c.record["id"] for c in suggestions.chosen]
    for rank, (task, candidate) in enumerate(zip(tasks, suggestions.chosen), 1):
        data = task["data"]
        assert set(data) == {"id", "text", "heading", "context", "report", "score", "guess", "rank", "al_score", "al_strategy"}
        assert data["rank"] == rank and data["al_strategy"] == "entropy" and data["al_score"] == candidate.score
        assert data["id"] == text_id(data["text"]) and data["context"]
        (p,) = task["predictions"]
        assert p["model_version"] == model.version and p["score"] == data["score"] == candidate.confidence
        assert p["result"][0]["from_name"] == FROM_NAME and p["result"][0]["to_name"] == TO_NAME
        assert p["result"][0]["value"]["choices"] == [candidate.label]


def test_cli_suggest_writes_tasks_and_refuses_bad_input(tmp_path, capsys):
    labels = tmp_path / "labels.jsonl"
    labels.touch()  # a store with no labels yet
    out = tmp_path / "next.json"
    assert main(["suggest", str(SAMPLE), "--n", "4", "--strategy", "margin", "--data", str(labels), "--out", str(out)]) == 0
    tasks = json.loads(out.read_text(encoding="utf-8"))
    assert [t["data"]["rank"] for t in tasks] == [1, 2, 3, 4]
    assert "4 of 22 unlabelled sentences suggested by margin" in capsys.readouterr().err
    assert main(["suggest", str(SAMPLE), "--n", "0", "--data", str(labels)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("toolkit: error: suggest: argument --n: 0 is out of range")
    assert main(["suggest", str(SAMPLE), "--model", str(tmp_path / "none.npz")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "model file not found" in err


