"""Active learning: the strategies' rankings, the diversity guard, suggest and its tasks, and the
simulation (small settings; the full run is ``toolkit evaluate --active``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from toolkit import store
from toolkit.active import (
    CHEAP_PARAMS,
    SimulationSettings,
    conclusion,
    diverse_top,
    entropy_score,
    informativeness,
    least_confidence,
    margin_score,
    shingle_vectors,
    simulate,
    suggest,
    suggestion_tasks,
    suggestions_summary,
    write_report,
)
from toolkit.active.simulation import _areas, _targets
from toolkit.cli import main
from toolkit.corpus import load_reports
from toolkit.errors import ToolkitError
from toolkit.labelstudio import FROM_NAME, TO_NAME
from toolkit.model import shipped_model_path
from toolkit.segment import text_id

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample_report.txt"
MODEL = shipped_model_path()

# Four sentences' probabilities over three sections, built so that each strategy ranks them
# differently (hand-computed):
#                      least confidence   margin (1 - (p1 - p2))   entropy (nats)
# A [0.90 0.05 0.05]   0.10               0.15                      0.394
# B [0.50 0.48 0.02]   0.50               0.98                      0.777
# C [0.40 0.30 0.30]   0.60               0.90                      1.089
# D [0.55 0.25 0.20]   0.45               0.70                      0.997
PROBA = np.array([[0.90, 0.05, 0.05], [0.50, 0.48, 0.02], [0.40, 0.30, 0.30], [0.55, 0.25, 0.20]])


def ranking(scores) -> str:
    return "".join("ABCD"[i] for i in sorted(range(len(scores)), key=lambda i: (-scores[i], i)))


@pytest.fixture(scope="module")
def model():
    from toolkit.model import load_model

    return load_model(MODEL)


def test_each_strategy_ranks_the_known_uncertain_sentences():
    assert least_confidence(PROBA) == pytest.approx([0.10, 0.50, 0.60, 0.45])
    assert margin_score(PROBA) == pytest.approx([0.15, 0.98, 0.90, 0.70])
    assert entropy_score(PROBA) == pytest.approx([0.3944, 0.7772, 1.0889, 0.9973], abs=1e-4)
    assert ranking(informativeness(PROBA, "uncertainty")) == "CBDA"
    assert ranking(informativeness(PROBA, "margin")) == "BCDA"
    assert ranking(informativeness(PROBA, "entropy")) == "CDBA"
    assert entropy_score(np.array([[1.0, 0.0, 0.0]]))[0] == 0.0  # 0 log 0 = 0, no warning


def test_random_strategy_is_seeded():
    proba = np.full((50, 3), 1 / 3)
    first = informativeness(proba, "random", seed=3)
    assert np.array_equal(first, informativeness(proba, "random", seed=3))
    assert not np.array_equal(first, informativeness(proba, "random", seed=4))
    with pytest.raises(ToolkitError, match="unknown strategy 'smart'"):
        informativeness(proba, "smart")


@pytest.mark.slow
def test_diversity_guard_skips_near_duplicates_of_chosen_sentences():
    texts = ["组织职工开展文体活动,丰富了职工业余生活。",   # best
             "组织职工开展文体活动,丰富了职工的业余生活。",  # near-duplicate of the best
             "召开职工代表大会,审议通过集体合同。",
             "走访慰问困难职工,发放慰问金。"]
    scores = [0.9, 0.8, 0.7, 0.1]
    vectors = shingle_vectors(texts)
    assert (vectors[0] @ vectors[1].T).toarray()[0, 0] > 0.7 > (vectors[0] @ vectors[2].T).toarray()[0, 0]
    guarded = diverse_top(scores, texts, 3)
    assert guarded.chosen == [0, 2, 3] and guarded.skipped == [1]
    assert diverse_top(scores, texts, 3, threshold=1.0).chosen == [0, 1, 2]  # guard off
    assert diverse_top(scores, texts, 4, fill=True).chosen == [0, 2, 3, 1]  # topped up, best skipped first
    assert diverse_top(scores, texts, 4).chosen == [0, 2, 3]


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
    records = [c.record for c in chosen.chosen]
    confidence = model.predict_proba(records).max(axis=1)
    assert [c.confidence for c in chosen.chosen] == pytest.approx(confidence, abs=1e-4)
    assert [c.score for c in chosen.chosen] == sorted((c.score for c in chosen.chosen), reverse=True)
    assert [c.score for c in chosen.chosen] == pytest.approx(1 - confidence, abs=1e-4)


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


# --- the simulation --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_examples(corpus_lines, tmp_path_factory):
    from toolkit.training import labelled_examples

    path = tmp_path_factory.mktemp("active") / "corpus.txt"
    path.write_text("\n".join(corpus_lines[:161]) + "\n", encoding="utf-8")
    reports = load_reports([path])
    labels = {k: a.label for k, a in store.load(ROOT / "annotations" / "labels.jsonl").items()}
    return labelled_examples(reports, labels)


@pytest.mark.slow
def test_simulation_is_grouped_reproducible_and_reported(small_examples, tmp_path):
    settings = SimulationSettings(seeds=2, folds=3, rounds=2, batch=15, params=CHEAP_PARAMS)
    result = simulate(small_examples, settings)
    assert result == simulate(small_examples, settings)  # same seed, same numbers
    curves = result["curves"]
    assert list(curves) == ["uncertainty", "margin", "entropy", "random"]
    for curve in curves.values():
        assert curve["added"] == [0, 15, 30] and len(curve["per_seed"]) == 2
        assert all(0 <= f <= 1 for run in curve["per_seed"] for f in run)
    # every strategy starts from the same labelled reports, so the first point is shared
    assert len({c["macro_f1_mean"][0] for c in curves.values()}) == 1
    for run in result["runs"]:
        assert run["start"] + run["pool"] + run["test"] == len(small_examples)
    assert result["area"]["random"]["diff_vs_random"] == 0
    paths = write_report(result, tmp_path)
    assert [p.name for p in paths] == ["active_learning.json", "active_learning.md", "active_learning.png"]
    assert paths[2].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = paths[1].read_text(encoding="utf-8")
    assert result["conclusion"] in md and "| added | labelled (mean) |" in md
    assert json.loads(paths[0].read_text(encoding="utf-8")) == json.loads(json.dumps(result))


def fake_result(gains: list[float]) -> dict:
    """A simulation result whose margin curve beats random by ``gains`` per seed."""
    base = [0.40, 0.50, 0.55, 0.58, 0.60]
    random_runs = [[b + 0.01 * s for b in base] for s in range(len(gains))]
    margin_runs = [[b + g for b in run] for run, g in zip(random_runs, gains)]
    result = {"ceiling": 0.62, "runs": [{}] * len(gains), "data": {"groups": 13},
              "settings": {"batch": 20, "params": {"classifier": "cnb"}}, "curves": {}}
    for name, runs in (("margin", margin_runs), ("random", random_runs)):
        result["curves"][name] = {"added": [0, 20, 40, 60, 80],
                                  "macro_f1_mean": [float(np.mean(c)) for c in zip(*runs)],
                                  "macro_f1_std": [float(np.std(c)) for c in zip(*runs)], "per_seed": runs}
    result["targets"] = _targets(result, (0.95,))
    result["area"] = _areas(result)
    return result


def test_conclusion_says_honestly_whether_it_helps():
    clear = fake_result([0.03, 0.04, 0.02, 0.03, 0.05])
    assert clear["targets"][0]["saved_vs_random"]["margin"] == 20
    assert conclusion(clear).startswith("Active learning helps here: margin gains +0.034")
    noisy = fake_result([0.05, -0.04, 0.03, -0.03, 0.005])
    text = conclusion(noisy)
    assert text.startswith("Active learning does not clearly help here") and "within the noise" in text
    worse = fake_result([-0.03, -0.04, -0.02, -0.03, -0.05])
    assert conclusion(worse).startswith("Active learning hurts here: every strategy does worse than random")


@pytest.mark.slow
def test_cli_evaluate_active_writes_the_report(small_store, tmp_path, capsys):
    corpus, labels = small_store
    out = tmp_path / "reports"
    argv = ["evaluate", "--active", "--corpus", str(corpus), "--data", str(labels), "--folds", "3", "--out", str(out)]
    assert main(argv + ["--active-seeds", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "at least one seed" in err
    assert main(argv + ["--active-seeds", "2"]) == 0
    printed = capsys.readouterr()
    result = json.loads((out / "active_learning.json").read_text(encoding="utf-8"))
    assert result["settings"]["holdout"] == "1 of 3 grouped folds" and len(result["runs"]) == 2
    assert result["settings"]["params"]["classifier"] == "logreg"  # the shipped model's settings
    assert printed.out.rstrip().endswith(result["conclusion"]) and "wrote " in printed.err
    assert (out / "active_learning.png").stat().st_size > 10_000 and not (out / "evaluation.md").exists()
