import numpy as np
import pytest

from toolkit.errors import FoldsError
from toolkit.estimator import SectionClassifier
from toolkit.evaluation import confident_errors
from toolkit.selection import (TunedSectionClassifier, cross_validate, group_folds, learning_curve, macro_f1,
                               weak_rule_baseline)
from toolkit.training import labelled_examples
from toolkit.weak import weak_labels


@pytest.fixture(scope="module")
def examples(corpus_reports, gold_labels):
    return labelled_examples(corpus_reports, gold_labels)


def test_no_group_is_ever_on_both_sides(examples):
    groups = np.asarray(examples.groups)
    seen_test = set()
    for train, test in group_folds(examples.groups, 5):
        assert not set(groups[train]) & set(groups[test])
        assert len(train) + len(test) == len(examples)
        seen_test |= set(test.tolist())
    assert seen_test == set(range(len(examples)))


def test_near_duplicate_reports_share_a_fold(corpus_reports, examples):
    by_group = {}
    for r in corpus_reports:
        by_group.setdefault(r.group, set()).add(r.id)
    dup_group = next(g for g, ids in by_group.items() if len(ids) == 3)
    for train, test in group_folds(examples.groups, 5):
        sides = {examples.groups[i] == dup_group for i in test}
        if True in sides:
            assert all(examples.groups[i] != dup_group for i in train)


def test_too_few_groups_is_an_error(examples):
    with pytest.raises(FoldsError, match="cannot make 5 grouped folds; use 2 folds or fewer"):
        group_folds(examples.groups[:5], 5)
    assert issubclass(FoldsError, ValueError)  # a library caller's except ValueError still holds


@pytest.mark.slow
def test_same_seed_same_numbers(examples):
    a = cross_validate(examples, {"classifier": "cnb"}, folds=3, seed=1).summary()
    b = cross_validate(examples, {"classifier": "cnb"}, folds=3, seed=1).summary()
    assert a == b


@pytest.mark.slow
def test_model_beats_baselines(examples, corpus_reports):
    model = cross_validate(examples, {"classifier": "logreg", "calibrate": False, "alone": False}, folds=5).scores()
    majority = cross_validate(examples, {"classifier": "majority"}, folds=5).scores()
    weak = weak_rule_baseline(examples, weak_labels(corpus_reports), folds=5).scores()
    assert model["macro_f1"] > weak["macro_f1"] > majority["macro_f1"]


@pytest.mark.slow
def test_nested_search_records_choices_per_fold(examples):
    result = cross_validate(examples, {"classifier": "cnb"}, folds=3,
                            grid=[{"classifier": "cnb", "alpha": 0.1}, {"classifier": "cnb", "alpha": 1.0}])
    assert len(result.chosen) == 3 and all(c["alpha"] in (0.1, 1.0) for c in result.chosen)


@pytest.mark.slow
def test_learning_curve_and_errors(examples):
    curve = learning_curve(examples, {"classifier": "cnb"}, folds=3, steps=[2, 6])
    assert [p["groups"] for p in curve] == [2, 6] and all(0 <= p["macro_f1"] <= 1 for p in curve)
    result = cross_validate(examples, {"classifier": "cnb"}, folds=3)
    errors = confident_errors(result, examples, top=5)
    assert len(errors) == 5 and all(e["gold"] != e["predicted"] for e in errors)
    assert [e["confidence"] for e in errors] == sorted((e["confidence"] for e in errors), reverse=True)


@pytest.mark.slow
def test_cross_validation_reports_sentences_alone_corpora_and_confidence(examples):
    result = cross_validate(examples, {"classifier": "logreg", "inner_folds": 2}, folds=3)
    alone = result.alone()
    assert alone is not None and len(alone.y_pred) == len(result.y_true)
    assert alone.scores()["accuracy"] < result.scores()["accuracy"]  # context helps
    report = result.confidence_report()
    assert 0 < report["flagged_share"] < 0.5 and 0 <= report["errors_flagged"] <= 1
    assert report["reliability"][-1]["ece"] >= 0
    assert sum(b["n"] for b in report["reliability"][:-1]) == len(result.y_true)
    assert set(result.by_corpus()) == {"unlisted"}  # no manifest in this fixture


@pytest.mark.slow
def test_out_of_fold_predictions_are_those_of_the_estimator_fitted_on_each_training_side(examples):
    params = {"classifier": "cnb", "inner_folds": 2, "alone": False}
    result = cross_validate(examples, params, folds=3)
    train, test = group_folds(examples.groups, 3)[1]
    sub = examples.subset(train)
    alone = SectionClassifier(**params).fit(sub.records, sub.labels, groups=sub.groups)
    assert [result.y_pred[i] for i in test] == list(alone.predict([examples.records[i] for i in test]))
    assert {result.fold[i] for i in test} == {1} and result.alone() is None


def test_the_tuned_classifier_searches_the_grid_on_its_training_data_only(examples):
    grid = [{"classifier": "cnb", "alpha": 0.1}, {"classifier": "cnb", "alpha": 1.0}]
    tuned = TunedSectionClassifier(SectionClassifier(calibrate=False, alone=False), grid, inner_folds=2)
    tuned.fit(examples.records, examples.labels, groups=examples.groups)
    assert tuned.best_params_ in grid and tuned.best_estimator_.alpha == tuned.best_params_["alpha"]
    assert list(tuned.classes_) == list(tuned.best_estimator_.classes_)
    records = examples.records[:30]
    assert list(tuned.predict(records)) == list(tuned.best_estimator_.predict(records))
    single = TunedSectionClassifier(SectionClassifier(calibrate=False, alone=False), grid[:1])
    assert single.fit(examples.records, examples.labels, groups=examples.groups).best_params_ == grid[0]


def test_macro_f1_counts_labels_never_predicted():
    assert macro_f1(["a", "b"], ["a", "a"]) == pytest.approx((2 / 3 + 0) / 2)


def test_model_selection_modules_are_in_no_import_cycle():
    """Every ``toolkit`` import, also those inside functions, of the modules that train and
    evaluate: none leads back to the module it starts from."""
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parents[1] / "toolkit"

    def imports(module: str) -> set[str]:
        tree = ast.parse((package / f"{module}.py").read_text(encoding="utf-8"))
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("toolkit."):
                found.add(node.module.split(".")[1])
            elif isinstance(node, ast.ImportFrom) and node.module == "toolkit":
                found |= {a.name for a in node.names if (package / f"{a.name}.py").exists()}
        return found - {module}

    for start in ("estimator", "examples", "selection", "training", "evaluation"):
        seen, todo = set(), list(imports(start))
        while todo:
            module = todo.pop()
            if module not in seen:
                seen.add(module)
                todo += imports(module)
        assert start not in seen, f"{start} imports itself through {sorted(seen)}"
