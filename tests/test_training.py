import json

import pytest

from toolkit.errors import AnnotationError, InputError, ToolkitError
from toolkit.examples import load_examples
from toolkit.training import data_hash, fit, labelled_examples, load_params, make_card, train_from_store


def test_duplicated_reports_count_once(corpus_reports, gold_labels):
    examples = labelled_examples(corpus_reports, gold_labels)
    keys = list(zip(examples.groups, (r["id"] for r in examples.records)))
    assert len(keys) == len(set(keys))
    assert len(examples) < sum(len(r.sentences) for r in corpus_reports)


def test_data_hash_changes_with_labels():
    assert data_hash({"s1": "women"}) == data_hash({"s1": "women"}) != data_hash({"s1": "safety"})


def test_the_card_records_the_command_it_is_given(corpus_reports, gold_labels):
    examples = labelled_examples(corpus_reports, gold_labels)
    model = fit(examples)
    assert make_card(model, examples, gold_labels, None, "toolkit train --folds 5")["trained_with"] == "toolkit train --folds 5"
    assert make_card(model, examples, gold_labels, None)["trained_with"] == ""  # trained from a program


def test_load_params(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"C": 3.0, "classifier": "svm"}))
    assert load_params(path)["C"] == 3.0
    path.write_text(json.dumps({"bogus": 1}))
    with pytest.raises(ToolkitError, match="unknown parameter"):
        load_params(path)
    with pytest.raises(ToolkitError, match="not found"):
        load_params(tmp_path / "none.json")
    for bad, problem in (({"C": -1}, "C=-1: expected a positive number"), ({"C": float("nan")}, "C=nan"),
                         ({"char_ngrams": 5}, "char_ngrams=5: expected (min_n, max_n)"),
                         ({"tokenizer": "nope"}, "tokenizer='nope': expected one of")):
        path.write_text(json.dumps(bad))
        with pytest.raises(ToolkitError) as caught:
            load_params(path)  # before any work, naming the file
        assert str(caught.value).startswith(f"{path}: {problem}")


def test_fit_refuses_empty_and_single_label(corpus_reports, gold_labels):
    examples = labelled_examples(corpus_reports[:1], gold_labels)
    with pytest.raises(AnnotationError, match="no labelled"):
        fit(examples.subset([]))
    same = [i for i, lab in enumerate(examples.labels) if lab == examples.labels[0]]
    with pytest.raises(AnnotationError, match="two different labels"):
        fit(examples.subset(same))


@pytest.mark.slow
def test_train_from_store_fills_the_card(small_store):
    corpus, labels = small_store
    model = train_from_store(labels, [corpus], {"classifier": "cnb"}, folds=3)
    card = model.card
    assert card["training_data"]["groups"] == 7 and card["training_data"]["sentences"] > 100
    assert card["params"]["classifier"] == "cnb"
    assert 0 < card["cross_validation"]["macro_f1"] <= 1 and card["cross_validation"]["folds"] == 3
    assert set(card["library_versions"]) >= {"scikit-learn", "jieba", "joblib", "python"}
    assert card["labels"] and all(lab in model.classes for lab in card["labels"])


def test_fit_refuses_unknown_parameters(corpus_reports, gold_labels):
    examples = labelled_examples(corpus_reports[:3], gold_labels)
    with pytest.raises(ValueError, match="unknown parameter"):
        fit(examples, {"classifer": "cnb"})


def test_load_examples_takes_one_corpus_path_and_refuses_a_missing_labels_file(small_store, tmp_path):
    corpus, labels = small_store
    reports, examples, _ = load_examples(corpus, labels)  # one path, as a list of one
    assert len(reports) == 10 and len(examples) > 100
    with pytest.raises(InputError, match="labelz.jsonl: no such labels file"):
        load_examples([corpus], tmp_path / "labelz.jsonl")
