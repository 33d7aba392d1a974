import pytest

from toolkit.training import labelled_examples


@pytest.mark.parametrize("name, floor", [("a", 0.8), ("b", 0.7), ("c", 0.7)])
def test_shipped_model_on_the_synthetic_test_sets(name, floor):
    """The reports in annotations/synthetic were written and labelled after the model's design and
    are never trained on: a guard against losing what generalises."""
    from pathlib import Path

    from toolkit import store
    from toolkit.corpus import load_reports
    from toolkit.evaluation import score_model
    from toolkit.model import load_model
    from toolkit.tagging import default_model_path

    folder = Path(__file__).resolve().parents[1] / "annotations" / "synthetic" / name
    labels = {k: a.label for k, a in store.load(folder / "labels.jsonl").items()}
    examples = labelled_examples(load_reports([folder / "reports.txt"]), labels)
    result = score_model(load_model(default_model_path()), examples)
    assert result["reports"] >= 4 and result["sentences"] >= 150  # set c: one report is merged (known)
    assert result["macro_f1"] >= floor, result


def test_cli_scores_a_model_on_a_test_set_and_needs_its_labels(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "annotations" / "synthetic" / "a"
    ok = subprocess.run([sys.executable, "-m", "toolkit", "evaluate", "--test-corpus", str(folder / "reports.txt"),
                         "--test-data", str(folder / "labels.jsonl")], capture_output=True, text=True)
    assert ok.returncode == 0 and "macro-F1" in ok.stdout and "| plans |" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "toolkit", "evaluate", "--test-corpus", str(folder / "reports.txt")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--test-data" in bad.stderr
