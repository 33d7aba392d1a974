import pytest

from toolkit.intervals import figure_intervals, group_interval


def test_errors_on_one_page_move_the_figure_more_than_the_same_errors_spread_out():
    groups = [i // 10 for i in range(100)]  # ten pages of ten sentences
    together = [i >= 10 for i in range(100)]  # the ten errors all on the first page
    spread = [i % 10 != 0 for i in range(100)]  # one error on each page
    lo_t, hi_t = group_interval(together, [True] * 100, groups)
    lo_s, hi_s = group_interval(spread, [True] * 100, groups)
    assert lo_s == hi_s == 0.9  # every page alike: resampling pages cannot move the figure
    assert lo_t < 0.9 - 0.05 and hi_t == 1.0
    assert lo_t <= 0.9 <= hi_t


def test_precision_counts_only_the_counted_rows():
    hits = [True, False, True, True] * 10
    counted = [True, True, False, False] * 10
    groups = [i // 4 for i in range(40)]
    assert group_interval(hits, counted, groups) == (0.5, 0.5)
    confidence = [0.95 if c else 0.5 for c in counted]
    assert figure_intervals(hits, confidence, groups)["precision_at_0.9_interval"] == [0.5, 0.5]


def test_the_interval_is_reproducible_and_widens_with_the_level():
    hits = [i % 3 != 0 or i < 12 for i in range(60)]
    groups = [i // 6 for i in range(60)]
    assert group_interval(hits, [True] * 60, groups) == group_interval(hits, [True] * 60, groups)
    lo80, hi80 = group_interval(hits, [True] * 60, groups, level=0.8)
    lo99, hi99 = group_interval(hits, [True] * 60, groups, level=0.99)
    assert lo99 <= lo80 < hi80 <= hi99


def test_no_interval_without_counted_rows_or_with_one_page():
    assert group_interval([True, False], [False, False], ["a", "b"]) is None
    assert group_interval([True, False], [True, True], ["a", "a"]) is None
    assert figure_intervals([True, False], [0.95, 0.95], ["a", "a"]) == {"accuracy_interval": None,
                                                                        "precision_at_0.9_interval": None}


@pytest.mark.parametrize("kwargs, message", [({"level": 1.0}, "level"), ({"n_resamples": 0}, "n_resamples")])
def test_bad_parameters_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        group_interval([True], [True], ["a"], **kwargs)


def test_inputs_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="differ in length"):
        group_interval([True, True], [True], ["a", "b"])
