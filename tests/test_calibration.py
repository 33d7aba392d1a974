import numpy as np
import pytest

from toolkit.calibration import (
    Calibration,
    apply_parts,
    confidence_report,
    fit_calibration,
    fit_part_weights,
    fit_confidence_map,
    fit_temperature,
    map_confidence,
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


def test_sequence_smoothing_leans_on_neighbours_only_where_the_sentence_is_unsure():
    from toolkit.calibration import label_transitions, smooth_sequences

    records = [{"report": "r1"}] * 4 + [{"report": "r2"}] * 2
    labels = ["organization", "organization", "organization", "plans", "safety", "safety"]
    transitions = label_transitions(records, labels, CLASSES)
    assert np.allclose(transitions.sum(axis=1), 1.0)
    assert transitions[0, 0] > transitions[0, 2]  # organization follows organization in r1
    proba = np.array([[0.9, 0.05, 0.05], [0.4, 0.3, 0.3], [0.9, 0.05, 0.05], [0.02, 0.97, 0.01],
                      [0.2, 0.1, 0.7], [0.5, 0.1, 0.4]])
    assert np.allclose(smooth_sequences(records, proba, transitions, 0.0), proba)
    out = smooth_sequences(records, proba, transitions, 1.0)
    assert np.allclose(out.sum(axis=1), 1.0)
    assert out[1, 0] > proba[1, 0]  # the unsure sentence between two organization sentences
    assert out[3].argmax() == 1  # a sure sentence keeps its label
    alone = [{"report": ""}, {"report": ""}]
    assert np.allclose(smooth_sequences(alone, proba[:2], transitions, 1.0), proba[:2])  # no report, no sequence


def test_a_part_label_the_text_contradicts_stays_below_the_cap():
    from toolkit.calibration import CONTRADICTION_CAP, cap_contradicted

    proba = np.array([[0.02, 0.96, 0.02], [0.02, 0.96, 0.02], [0.96, 0.02, 0.02]])
    records = [{"text": "一是加强建会工作,发展会员50人。"}, {"text": "明年将继续加强建会工作。"},
               {"text": "一是加强建会工作,发展会员50人。"}]
    out = cap_contradicted(records, proba, CLASSES, CONTRADICTION_CAP)
    assert out[0, 1] == pytest.approx(CONTRADICTION_CAP) and out[0].argmax() == 1
    assert np.allclose(out.sum(axis=1), 1.0)
    assert np.allclose(out[1:], proba[1:])  # the text says plans; a topic label is never capped
    assert np.allclose(cap_contradicted(records, proba, CLASSES, 1.0), proba)


def test_a_report_title_line_stays_below_the_title_cap_and_keeps_its_label():
    from toolkit.calibration import TITLE_CAP, cap_titles

    proba = np.array([[0.96, 0.02, 0.02], [0.96, 0.02, 0.02], [0.5, 0.3, 0.2]])
    records = [{"evidence": "overview:title"}, {"evidence": ""}, {"evidence": "overview:title"}]
    out = cap_titles(records, proba, TITLE_CAP)
    assert out[0, 0] == pytest.approx(TITLE_CAP) and out[0].argmax() == 0
    assert out[0, 1] == pytest.approx(out[0, 2]) and np.allclose(out.sum(axis=1), 1.0)
    assert np.allclose(out[1:], proba[1:])  # other lines, and a title already below the cap, are left alone
    assert np.allclose(cap_titles(records, proba, 1.0), proba)


def test_a_line_naming_a_report_stays_below_the_title_cap_whatever_its_evidence():
    from toolkit.calibration import TITLE_CAP, cap_titles

    proba = np.array([[0.02, 0.02, 0.96], [0.96, 0.02, 0.02], [0.96, 0.02, 0.02]])
    records = [{"evidence": "other:page", "text": "人民医院工会年度工作总结"},  # the site's heading or the report's title
               {"evidence": "", "text": "工会汇报材料"},
               {"evidence": "other:page", "text": "人民医院工会工作总结(精选6篇)"}]  # a collection's title is the page's
    out = cap_titles(records, proba, TITLE_CAP)
    assert out[0, 2] == pytest.approx(TITLE_CAP) and out[0].argmax() == 2
    assert out[1, 0] == pytest.approx(TITLE_CAP) and out[1].argmax() == 0
    assert np.allclose(out[2], proba[2])


def test_calibration_round_trips_with_its_sequence():
    cal = Calibration({"plans:heading": 0.5}, 1.2, 0.6, [[0.5, 0.5], [0.2, 0.8]], 0.4, 0.85, [[0.3, 0.9], [0.4, 0.8]], 0.8)
    assert Calibration.from_dict(cal.to_dict()) == cal
    old = Calibration.from_dict({"temperature": 2.0})  # models fitted before the caps
    assert old.contradiction_cap == 1.0 and old.title_cap == 1.0


def test_temperature_and_threshold_can_be_fitted_on_real_rows_only():
    rng = np.random.default_rng(0)
    n = 400
    y = rng.integers(0, 3, n)
    proba = np.full((n, 3), 0.02)
    proba[np.arange(n), y] = 0.96  # written rows: sure and right
    real = np.zeros(n, dtype=bool)
    real[:100] = True
    wrong = (y[:100] + 1) % 3
    proba[np.arange(50), y[:50]] = 0.02
    proba[np.arange(50), wrong[:50]] = 0.96  # half the real rows: sure and wrong
    records = [{"evidence": ""}] * n
    labels = [CLASSES[i] for i in y]
    everywhere = fit_calibration(records, proba, labels, CLASSES, part_rule=False)
    on_real = fit_calibration(records, proba, labels, CLASSES, part_rule=False, temper_on=real)
    assert on_real.temperature > everywhere.temperature


def test_batched_sequence_smoothing_equals_one_report_at_a_time():
    from toolkit.calibration import smooth_sequences

    rng = np.random.default_rng(1)
    lengths = [1, 2, 3, 7, 30, 31, 64, 5]
    records = [{"report": f"r{i}"} for i, n in enumerate(lengths) for _ in range(n)]
    proba = rng.dirichlet(np.full(3, 0.5), len(records))
    transitions = rng.dirichlet(np.ones(3), 3)
    together = smooth_sequences(records, proba, transitions, 0.7)
    start = 0
    for n in lengths:
        alone = smooth_sequences(records[start:start + n], proba[start:start + n], transitions, 0.7)
        assert np.allclose(together[start:start + n], alone, atol=1e-12)
        start += n


def _overconfident(n: int = 600, seed: int = 0):
    """Rows whose top label is right about 70 % of the time at every confidence between 0.5 and 1."""
    rng = np.random.default_rng(seed)
    top = rng.uniform(0.5, 1.0, n)
    best = rng.integers(0, 3, n)
    proba = np.repeat(((1 - top) / 2)[:, None], 3, axis=1)
    proba[np.arange(n), best] = top
    y = np.where(rng.random(n) < 0.7, best, (best + 1) % 3)
    return proba, y


def test_the_confidence_map_says_how_often_the_top_label_was_right_and_keeps_it_on_top():
    proba, y = _overconfident()
    mapped = map_confidence(proba, fit_confidence_map(proba, y))
    assert np.allclose(mapped.sum(axis=1), 1.0) and (mapped.argmax(axis=1) == proba.argmax(axis=1)).all()
    sure = mapped.max(axis=1) >= 0.9
    assert (proba.max(axis=1) >= 0.9).mean() > 0.15 and sure.mean() < 0.05  # nothing here is right 9 times in 10
    assert abs(mapped.max(axis=1).mean() - (proba.argmax(axis=1) == y).mean()) < 0.02


def test_the_confidence_map_needs_enough_rows_and_leaves_probabilities_alone_without_one():
    proba, y = _overconfident(n=50)
    assert fit_confidence_map(proba, y) == []
    assert map_confidence(proba, []) is proba


def test_a_mapped_top_label_stays_first_however_low_the_map_goes():
    proba = np.array([[0.5, 0.45, 0.05], [0.9, 0.05, 0.05]])
    mapped = map_confidence(proba, [[0.0, 1.0], [0.0, 0.0]])  # a map that says nothing is ever right
    assert (mapped.argmax(axis=1) == [0, 0]).all() and np.allclose(mapped.sum(axis=1), 1.0)
    assert mapped[0, 0] < 0.5 and mapped[1, 0] < 0.34


def test_fit_calibration_maps_confidence_on_the_real_rows_when_asked():
    proba, y = _overconfident()
    records = [{"evidence": ""}] * len(y)
    labels = [CLASSES[i] for i in y]
    plain = fit_calibration(records, proba, labels, CLASSES, part_rule=False)
    mapped = fit_calibration(records, proba, labels, CLASSES, part_rule=False, map_confidence_on=True)
    assert plain.confidence_map == [] and len(mapped.confidence_map) == 2
    final = mapped.apply(records, proba, CLASSES)
    assert (final.max(axis=1) >= 0.9).mean() < (plain.apply(records, proba, CLASSES).max(axis=1) >= 0.9).mean()
