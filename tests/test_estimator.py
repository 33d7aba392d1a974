"""SectionClassifier against the scikit-learn estimator contract (the checks of ``check_estimator``
that apply to an estimator over sentence records), on the seed corpus's labelled sentences."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GroupKFold, cross_val_predict
from sklearn.utils.validation import check_is_fitted

from toolkit.calibration import temper
from toolkit.context import alone_record
from toolkit.estimator import SectionClassifier
from toolkit.params import DEFAULT_PARAMS
from toolkit.taxonomy import SLUGS
from toolkit.training import labelled_examples

FAST = {"classifier": "cnb", "alpha": 0.3, "inner_folds": 2}


@pytest.fixture(scope="module")
def examples(corpus_reports, gold_labels):
    return labelled_examples(corpus_reports, gold_labels)


@pytest.fixture(scope="module")
def fitted(examples):
    return SectionClassifier(**FAST).fit(examples.records, examples.labels, groups=examples.groups)


def test_parameters_are_the_training_parameters_and_round_trip():
    clf = SectionClassifier()
    params = clf.get_params()
    assert set(params) == set(DEFAULT_PARAMS) | {"seed"}
    assert {k: list(v) if isinstance(v, tuple) else v for k, v in params.items() if k != "seed"} == DEFAULT_PARAMS
    changed = {**params, "C": 3.0, "context": ("heading",)}
    assert clf.set_params(**changed) is clf and clf.get_params() == changed
    assert SectionClassifier(**changed).get_params() == changed


def test_clone_copies_parameters_and_no_fitted_state(fitted):
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "model_") and not hasattr(copy, "classes_")
    with pytest.raises(NotFittedError):
        check_is_fitted(copy)


def test_unknown_parameters_are_refused_by_name():
    with pytest.raises(TypeError, match="classifer"):
        SectionClassifier(classifer="cnb")
    with pytest.raises(ValueError, match="classifer"):
        SectionClassifier().set_params(classifer="cnb")
    with pytest.raises(TypeError):
        SectionClassifier("cnb")  # keyword-only, as in scikit-learn


@pytest.mark.parametrize("param, value", [("classifier", "svn"), ("C", 0), ("C", "30"), ("alpha", -1.0),
                                          ("context", ["headings"]), ("context", "heading"),
                                          ("char_ngrams", (2, 1)), ("word_ngrams", (1,)), ("tokenizer", "pkuseg"),
                                          ("inner_folds", 1), ("flag_share", 1.0), ("calibrate", "no"), ("alone", "no"),
                                          ("sequence", None), ("seed", -1), ("seed", "x"), ("char_ngrams", 5)])
def test_invalid_values_are_refused_in_fit_not_in_the_constructor(examples, param, value):
    clf = SectionClassifier(**{param: value})
    assert clf.get_params()[param] == value
    with pytest.raises(ValueError, match=param):
        clf.fit(examples.records[:20], examples.labels[:20])


def test_fit_needs_two_labels_and_matching_lengths(examples):
    with pytest.raises(ValueError, match="two different labels"):
        SectionClassifier(**FAST).fit(examples.records[:3], ["plans"] * 3)
    with pytest.raises(ValueError, match="labels"):
        SectionClassifier(**FAST).fit(examples.records[:3], examples.labels[:2])
    with pytest.raises(ValueError, match="groups"):
        SectionClassifier(**FAST).fit(examples.records[:3], examples.labels[:3], groups=["a"])


def test_not_fitted_is_an_error():
    with pytest.raises(NotFittedError):
        SectionClassifier().predict([alone_record("慰问困难职工20户。")])
    with pytest.raises(NotFittedError):
        SectionClassifier().predict_proba([alone_record("慰问困难职工20户。")])


def test_fit_learns_classes_and_predicts_labels_only(fitted, examples):
    check_is_fitted(fitted)
    assert list(fitted.classes_) == sorted(set(examples.labels)) and set(fitted.classes_) <= set(SLUGS)
    labels = fitted.predict(examples.records[:50])
    assert labels.shape == (50,) and set(labels) <= set(fitted.classes_)
    assert fitted.score(examples.records, examples.labels) > 0.8
    assert fitted.n_groups_ == len(set(examples.groups)) and fitted.model_.calibration is not None


def test_predict_proba_columns_follow_classes(fitted, examples):
    proba = fitted.predict_proba(examples.records[:50])
    assert proba.shape == (50, len(fitted.classes_))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert list(fitted.classes_[proba.argmax(axis=1)]) == list(fitted.predict(examples.records[:50]))
    np.testing.assert_array_equal(proba, fitted.model_.predict_proba(examples.records[:50]))


def test_sentences_alone_go_to_the_text_only_model(fitted):
    records = [alone_record("三八节期间组织女职工开展健康讲座。"), alone_record("慰问困难职工20户,发放慰问金3万元。")]
    assert fitted.model_.has_alone
    expected = temper(fitted.model_.alone.predict_proba(records), fitted.model_.alone_calibration.temperature)
    np.testing.assert_array_equal(fitted.predict_proba(records), expected)


def test_fit_does_not_change_parameters(examples):
    clf = SectionClassifier(**FAST, context=["heading", "cues"])
    before = clf.get_params()
    clf.fit(examples.records, examples.labels, groups=examples.groups)
    assert clf.get_params() == before and clf.context == ["heading", "cues"]


def test_pickle_round_trip_gives_equal_predictions(fitted, examples):
    restored = pickle.loads(pickle.dumps(fitted))
    assert restored.get_params() == fitted.get_params()
    np.testing.assert_array_equal(restored.predict_proba(examples.records), fitted.predict_proba(examples.records))


@pytest.mark.slow
def test_same_data_same_model(fitted, examples):
    again = SectionClassifier(**FAST).fit(examples.records, examples.labels, groups=examples.groups)
    np.testing.assert_array_equal(again.predict_proba(examples.records), fitted.predict_proba(examples.records))
    assert again.model_.calibration == fitted.model_.calibration


def test_cross_val_predict_with_group_k_fold(examples):
    predicted = cross_val_predict(SectionClassifier(**FAST, calibrate=False, alone=False), examples.records,
                                  examples.labels, groups=examples.groups, cv=GroupKFold(n_splits=3))
    assert len(predicted) == len(examples) and set(predicted) <= set(examples.labels)
    assert np.mean(predicted == np.array(examples.labels)) > 0.6


def test_labels_must_be_section_slugs(examples):
    with pytest.raises(ValueError, match="not section slugs: 'bar', 'foo'"):
        SectionClassifier(**FAST).fit(examples.records[:4], ["foo", "bar", "foo", "bar"])
    with pytest.raises(ValueError, match="not section slugs: 0, 1"):
        SectionClassifier(**FAST).fit(examples.records[:4], [0, 1, 0, 1])  # integer-encoded labels


@pytest.mark.parametrize("X, what", [(["组织学习。"], "X\\[0\\] is str"), ([{"text": "组织学习。"}], "a dict without"),
                                     ([{}], "a dict without")])
def test_what_is_not_a_sentence_record_is_refused_saying_what_x_must_be(fitted, examples, X, what):
    with pytest.raises(TypeError, match=f"{what}.*X must be sentence records"):
        fitted.predict(X)
    with pytest.raises(TypeError, match="X must be sentence records"):
        SectionClassifier(**FAST).fit([*X, *examples.records[:3]], examples.labels[:4])
