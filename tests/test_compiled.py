import subprocess
import sys

import numpy as np
import pytest

from toolkit.context import records_of
from toolkit.training import fit, labelled_examples


@pytest.fixture(scope="module")
def split(corpus_reports, gold_labels):
    """Train on the first six reports, predict the rest of the corpus."""
    return labelled_examples(corpus_reports[:6], gold_labels), records_of(corpus_reports[6:])


@pytest.mark.parametrize("params", [
    {},
    {"classifier": "cnb"},
    {"char_ngrams": [1, 3], "word_ngrams": [1, 2]},
    {"context": []},
    {"context": ["heading", "neighbours"], "part_rule": False},
])
@pytest.mark.slow
def test_compiled_model_gives_the_pipelines_probabilities(split, params):
    examples, records = split
    model = fit(examples, params)
    assert model.compiled is not None
    expected = model.pipeline.predict_proba(records)
    got = model.compiled.predict_proba(records)
    assert got.shape == expected.shape == (len(records), len(model.classes))
    assert np.abs(got - expected).max() < 1e-9


def test_two_classes_use_the_logistic_link(split):
    examples, records = split
    keep = [i for i, label in enumerate(examples.labels) if label in ("assistance", "culture")]
    model = fit(examples.subset(keep), {})
    assert model.compiled.link == "logistic"
    assert np.abs(model.compiled.predict_proba(records) - model.pipeline.predict_proba(records)).max() < 1e-9


def test_models_it_cannot_compile_predict_through_scikit_learn(split):
    examples, records = split
    model = fit(examples, {"classifier": "svm"})
    assert model.compiled is None
    labels, confidence = model.predict(records[:5])
    assert len(labels) == 5 and all(0 < c <= 1 for c in confidence)


@pytest.mark.slow
def test_compiled_model_handles_empty_and_odd_text(split):
    examples, _ = split
    model = fit(examples, {})
    odd = {"id": "x", "text": "", "heading": "", "section": "", "prev": "", "next": "", "position": 0.5,
           "paragraph_position": 0.5, "is_heading": False, "first_paragraph": False, "last_paragraph": False, "part": ""}
    records = [odd, {**odd, "text": "  A\tB  工会\n 𠀀"}, {**odd, "text": "。"}, {**odd, "text": "工会\u3000\u3000活动\r\x0b职工"}]
    assert np.abs(model.compiled.predict_proba(records) - model.pipeline.predict_proba(records)).max() < 1e-9


@pytest.mark.slow
def test_tagging_with_a_saved_model_never_imports_scikit_learn(split, tmp_path):
    from toolkit.model import save_model

    examples, _ = split
    path = tmp_path / "m.npz"
    save_model(fit(examples, {}), path)
    script = (
        "import sys\n"
        "from toolkit.model import load_model\n"
        "from toolkit.tagging import tag_paths\n"
        f"model = load_model({str(path)!r})\n"
        "tags = [t for report in tag_paths(model, [sys.argv[1]]) for t in report]\n"
        "assert tags and all(t.label for t in tags), tags\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sklearn'))\n"
    )
    sample = tmp_path / "one.txt"
    sample.write_text("20xx年,公司工会在公司党委的领导下开展工作。\n一、推进厂务公开\n召开了职代会。\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-c", script, str(sample)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_key_index_finds_exactly_the_known_keys():
    from toolkit.compiled import KeyIndex

    rng = np.random.default_rng(0)
    keys = np.unique(rng.integers(0, 2**40, 5000))
    columns = rng.permutation(len(keys))
    index = KeyIndex(keys, columns)
    queries = np.concatenate([keys, rng.integers(0, 2**40, 5000), keys[:10]])
    known, found = index.lookup(queries)
    expected = dict(zip(keys.tolist(), columns.tolist()))
    assert known.tolist() == [q in expected for q in queries.tolist()]
    assert found.tolist() == [expected[q] for q in queries.tolist() if q in expected]
    assert KeyIndex(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)).lookup(queries)[0].sum() == 0

