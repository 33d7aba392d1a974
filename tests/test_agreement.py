import json
from pathlib import Path

import pytest

from toolkit.agreement import cohen_kappa, compare, per_label_agreement

ROOT = Path(__file__).resolve().parents[1]


def test_kappa_hand_computed():
    # po = 0.75; pe = (2*1 + 2*3) / 16 = 0.5; kappa = (0.75 - 0.5) / 0.5 = 0.5
    assert cohen_kappa(["x", "x", "y", "y"], ["x", "y", "y", "y"]) == pytest.approx(0.5)
    # po = 2/5 = 0.4; pe = (3*2 + 2*3) / 25 = 0.48; kappa = -0.08 / 0.52
    assert cohen_kappa(list("aaabb"), list("abbab")) == pytest.approx(-0.08 / 0.52)
    assert cohen_kappa(["a", "a"], ["a", "a"]) == 1.0


def test_kappa_matches_scikit_learn():
    from sklearn.metrics import cohen_kappa_score

    a = list("abcabcaabbcc")
    b = list("abcabbacbbca")
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))


def test_per_label_agreement():
    out = per_label_agreement(["x", "x", "y"], ["x", "y", "y"])
    assert out["x"] == {"first": 2, "second": 1, "both": 1, "agreement": round(2 / 3, 4)}


def _jsonl(name: str) -> list[dict]:
    return [json.loads(line) for line in (ROOT / "annotations/agreement" / name).read_text(encoding="utf-8").splitlines()]


def test_recorded_agreement_of_the_shipped_labels():
    first = {r["id"]: r["label"] for r in _jsonl("first_pass.jsonl")}
    second = {r["id"]: r["label"] for r in _jsonl("second_pass.jsonl")}
    result = compare(first, second)
    assert result["items"] == len(second) >= 0.19 * len(first)
    recorded = json.loads((ROOT / "annotations/agreement/agreement.json").read_text(encoding="utf-8"))
    assert result["cohen_kappa"] == recorded["cohen_kappa"]
    decided = {r["id"] for r in _jsonl("adjudication.jsonl")}
    assert decided == {d["id"] for d in result["disagreements"]}  # every disagreement was adjudicated
