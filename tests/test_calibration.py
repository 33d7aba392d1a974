import numpy as np
import pytest

from toolkit.calibration import (
    Calibration,
    apply_parts,
    confidence_report,
    fit_calibration,
    fit_part_weights,
    fit_temperature,
    reliability,
    temper,
)

CLASSES = ["organization", "plans", "safety"]


def test_temper_keeps_the_ranking_and_sums_to_one():
    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    for t in (0.5, 1.0, 2.0):
        out = temper(proba, t)
        assert np.allclose(out.sum(axis=1), 1.0)
        assert (out.argmax(axis=1) == proba.argmax(axis=1)).all()
    assert temper(proba, 2.0)[0, 0] < 0.7 < temper(proba, 0.5)[0, 0]  # softer / sharper


def test_apply_parts_moves_a_share_of_the_topics_only():
    proba = np.array([[0.6, 0.1, 0.3], [0.6, 0.1, 0.3]])
    records = [{"evidence": "plans:heading"}, {"evidence": ""}]
    half = apply_parts(records, proba, CLASSES, {"plans:heading": 0.5})
    assert np.allclose(half[0], [0.3, 0.55, 0.15]) and np.allclose(half[1], proba[1])
    full = apply_parts(records, proba, CLASSES, {"plans:heading": 1.0})
    assert np.allclose(full[0], [0.0, 1.0, 0.0])
    assert np.allclose(apply_parts(records, proba, CLASSES, {}), proba)  # no weight: no move
    assert np.allclose(full.sum(axis=1), 1.0)


def test_part_weights_follow_how_often_a_detector_is_right():
    n = 200
    proba = np.tile([0.7, 0.2, 0.1], (n, 1))
    records = [{"evidence": "plans:heading" if i < n // 2 else "plans:future"} for i in range(n)]
    # plans:heading is right every time; plans:future is never right (the text's organization is)
    y = np.array([1] * (n // 2) + [0] * (n // 2))
    weights = fit_part_weights(records, proba, y, CLASSES)
    assert weights["plans:heading"] == 1.0 and weights["plans:future"] == 0.0


def test_temperature_softens_an_overconfident_model():
    proba = np.tile([0.98, 0.01, 0.01], (100, 1))
    y = np.array([0] * 70 + [1] * 30)  # right only 70 % of the time at 0.98
    assert fit_temperature(proba, y) > 1.5
    assert fit_temperature(np.tile([0.5, 0.25, 0.25], (100, 1)), np.zeros(100, dtype=int)) < 1.0


def test_fit_calibration_threshold_flags_the_asked_share():
    rng = np.random.default_rng(1)
    raw = rng.dirichlet([1, 1, 1], size=500)
    labels = [CLASSES[i] for i in raw.argmax(axis=1)]
    cal = fit_calibration([{}] * 500, raw, labels, CLASSES, flag_share=0.2)
    confidence = cal.apply([{}] * 500, raw, CLASSES).max(axis=1)
    assert abs((confidence < cal.min_confidence).mean() - 0.2) < 0.02
    assert Calibration.from_dict(cal.to_dict()) == cal
    with pytest.raises(ValueError):
        fit_calibration([{}], raw[:1], labels[:1], CLASSES, flag_share=1.5)


def test_reliability_and_confidence_report():
    confidence = [0.95, 0.95, 0.95, 0.95, 0.3, 0.3]
    correct = [True, True, True, False, False, True]
    bins = reliability(confidence, correct, bins=10)
    top = next(b for b in bins if b.get("low") == 0.9)
    assert top["n"] == 4 and top["accuracy"] == 0.75
    assert bins[-1]["ece"] == pytest.approx((4 * 0.2 + 2 * 0.2) / 6, abs=1e-4)
    report = confidence_report(confidence, correct, [c < 0.5 for c in confidence])
    assert report["high_confidence_precision"] == 0.75 and report["flagged_share"] == pytest.approx(0.3333, abs=1e-4)
    assert report["errors_flagged"] == 0.5
