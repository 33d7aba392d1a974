"""The strategies' rankings and the diversity guard (:mod:`toolkit.active.strategies`)."""

from __future__ import annotations


import numpy as np
import pytest

from toolkit.active import diverse_top, entropy_score, informativeness, least_confidence, margin_score, shingle_vectors
from toolkit.errors import ToolkitError



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


