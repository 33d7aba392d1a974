"""The simulation and its report (:mod:`toolkit.active.simulation`, :mod:`toolkit.active.report`),
with small settings; the full run is ``toolkit evaluate --active``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from toolkit import store
from toolkit.active import CHEAP_PARAMS, SimulationSettings, conclusion, simulate, write_report
from toolkit.active.simulation import _areas, _targets
from toolkit.cli import main
from toolkit.corpus import load_reports

ROOT = Path(__file__).resolve().parents[1]


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
    assert err.count("\n") == 1 and "--active-seeds: 0 is out of range (at least 1)" in err
    assert main(argv + ["--active-seeds", "2"]) == 0
    printed = capsys.readouterr()
    result = json.loads((out / "active_learning.json").read_text(encoding="utf-8"))
    assert result["settings"]["holdout"] == "1 of 3 grouped folds" and len(result["runs"]) == 2
    assert result["settings"]["params"]["classifier"] == "logreg"  # the shipped model's settings
    assert printed.out.rstrip().endswith(result["conclusion"]) and "wrote " in printed.err
    assert (out / "active_learning.png").stat().st_size > 10_000 and not (out / "evaluation.md").exists()
