import json

import numpy as np
import pytest

from toolkit.errors import ModelError
from toolkit.model import card_path, load_model, save_model
from toolkit.training import fit, labelled_examples


@pytest.fixture(scope="module")
def trained(corpus_reports, gold_labels):
    examples = labelled_examples(corpus_reports[:6], gold_labels)
    model = fit(examples, {"classifier": "logreg"})
    model.card = {"model_version": "test"}
    return model, examples


def test_predict_gives_known_labels_and_confidences(trained):
    model, examples = trained
    labels, confidence = model.predict(examples.records[:20])
    assert len(labels) == 20 and set(labels) <= set(model.classes)
    assert all(0 < c <= 1 for c in confidence)
    accuracy = sum(a == b for a, b in zip(labels, examples.labels[:20])) / 20
    assert accuracy >= 0.8  # training data: it should fit it


def test_save_load_round_trip_and_card(trained, tmp_path):
    model, examples = trained
    path = tmp_path / "m.joblib"
    card = save_model(model, path)
    stored = json.loads(card_path(path).read_text(encoding="utf-8"))
    assert stored == card and len(card["model_sha256"]) == 64 and card["taxonomy_version"]
    loaded = load_model(path)
    assert loaded.predict(examples.records[:30]) == model.predict(examples.records[:30])


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage"])
def test_corrupt_model_fails_with_one_line(trained, tmp_path, damage):
    model, _ = trained
    path = tmp_path / "m.joblib"
    save_model(model, path)
    data = path.read_bytes()
    path.write_bytes({"truncate": data[: len(data) // 2], "flip": data[:-10] + b"0123456789", "garbage": b"not a model"}[damage])
    with pytest.raises(ModelError, match="SHA-256 does not match") as info:
        load_model(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_foreign_pickle_with_forged_card_is_refused(tmp_path):
    import hashlib

    import joblib

    path = tmp_path / "foreign.joblib"
    joblib.dump({"something": "else"}, path)
    from toolkit.model import FORMAT

    card = {"format": FORMAT, "taxonomy_version": __import__("toolkit.taxonomy").taxonomy.TAXONOMY_VERSION,
            "model_sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    card_path(path).write_text(json.dumps(card), encoding="utf-8")
    with pytest.raises(ModelError, match="not a toolkit section model"):
        load_model(path)


def test_model_of_an_older_format_asks_for_retraining(trained, tmp_path):
    from toolkit.model import FORMAT

    model, _ = trained
    path = tmp_path / "old.joblib"
    save_model(model, path)
    card = json.loads(card_path(path).read_text(encoding="utf-8"))
    card_path(path).write_text(json.dumps({**card, "format": "toolkit-section-model/1"}), encoding="utf-8")
    with pytest.raises(ModelError, match="not a toolkit model card") as err:
        load_model(path)
    assert "\n" not in str(err.value) and FORMAT != "toolkit-section-model/1"


def test_model_for_another_taxonomy_is_refused(trained, tmp_path):
    model, _ = trained
    path = tmp_path / "m.joblib"
    save_model(model, path)
    card = json.loads(card_path(path).read_text(encoding="utf-8"))
    card["taxonomy_version"] = "1999.01"
    card_path(path).write_text(json.dumps(card), encoding="utf-8")
    with pytest.raises(ModelError, match="made for taxonomy '1999.01'"):
        load_model(path)


def test_missing_model_and_missing_card(tmp_path):
    with pytest.raises(ModelError, match="model file not found"):
        load_model(tmp_path / "none.joblib")
    (tmp_path / "x.joblib").write_bytes(b"x")
    with pytest.raises(ModelError, match="no model card"):
        load_model(tmp_path / "x.joblib")


def test_shipped_default_model_loads_and_is_small():
    from toolkit.tagging import default_model_path

    path = default_model_path()
    assert path.stat().st_size < 20 * 1024 * 1024
    model = load_model(path)
    assert model.card["cross_validation"]["folds"] == 5
    assert model.card["training_data"]["sentences"] > 500


def test_part_rule_moves_topic_probability_to_the_part_label():
    import numpy as np

    from toolkit.model import apply_part_rule

    classes = ["assistance", "closing", "culture", "plans", "problems"]
    proba = np.array([[0.5, 0.1, 0.2, 0.1, 0.1]] * 3)
    records = [{"part": "plans"}, {"part": ""}, {"part": "closing"}]
    out = apply_part_rule(records, proba, classes)
    assert np.allclose(out.sum(axis=1), 1.0)
    assert np.allclose(out[0], [0.0, 0.1, 0.0, 0.8, 0.1])  # problems stays: it is not a topic
    assert np.allclose(out[1], proba[1])
    assert np.allclose(out[2], [0.0, 0.8, 0.0, 0.1, 0.1])
    assert np.allclose(proba[0], [0.5, 0.1, 0.2, 0.1, 0.1])  # input untouched


def test_a_fitted_model_has_a_text_only_part_and_a_calibration(trained, tmp_path):
    from toolkit.context import alone_record

    model, examples = trained
    assert model.alone is not None and model.calibration is not None and model.alone_calibration is not None
    assert 0.0 < model.min_confidence < 1.0 and model.calibration.temperature > 0
    alone = [alone_record(r["text"]) for r in examples.records[:30]]
    in_context = model.predict_proba(examples.records[:30])
    by_text = model.predict_proba(alone)
    assert np.allclose(by_text.sum(axis=1), 1.0) and not np.allclose(by_text, in_context)
    mixed = model.predict_proba([examples.records[0], alone[1]])  # each row goes to its own part
    assert np.allclose(mixed, [in_context[0], by_text[1]])
    assert model.min_confidences([examples.records[0], alone[1]]) == [model.min_confidence, model.alone_min_confidence]
    path = tmp_path / "m.joblib"
    save_model(model, path)
    loaded = load_model(path)
    assert loaded.calibration == model.calibration and np.allclose(loaded.predict_proba(alone), by_text)


def test_the_pipeline_of_a_compiled_model_lives_beside_it_and_is_checked(trained, tmp_path):
    from toolkit.model import pipeline_path

    model, examples = trained
    path = tmp_path / "m.joblib"
    card = save_model(model, path)
    assert pipeline_path(path).is_file() and card["pipeline_file"] == pipeline_path(path).name
    loaded = load_model(path)
    assert loaded.pipeline.predict(examples.records[:5]).tolist()  # read on demand
    data = pipeline_path(path).read_bytes()
    pipeline_path(path).write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    with pytest.raises(ModelError, match="SHA-256 does not match"):
        _ = load_model(path).pipeline
    pipeline_path(path).unlink()
    assert load_model(path).predict(examples.records[:5])[0]  # tagging never needs it


def _saved(model, path, version):
    model.card = {**model.card, "model_version": version}
    return save_model(model, path)


@pytest.mark.slow
def test_replace_keeps_the_replaced_model_and_rollback_swaps_them_back(trained, tmp_path):
    from toolkit.model import model_files, previous_path, replace_model, rollback_model

    model, examples = trained
    path = tmp_path / "models" / "m.joblib"
    _saved(model, path, "first")
    model.card = {**model.card, "model_version": "second"}
    replace_model(model, path)
    kept = previous_path(path)
    assert load_model(path).version == "second" and load_model(kept).version == "first"
    assert sorted(f.name for f in model_files(kept)) == sorted(f.name for f in model_files(path))
    assert rollback_model(path)["model_version"] == "first"
    assert load_model(path).version == "first" and load_model(kept).version == "second"
    assert load_model(path).predict(examples.records[:10]) == model.predict(examples.records[:10])
    rollback_model(path)  # a second rollback undoes the first
    assert load_model(path).version == "second" and load_model(kept).version == "first"
    assert not [p.name for p in path.parent.iterdir() if p.name.endswith((".tmp", ".swap", ".old"))]


def test_rollback_needs_a_kept_model_and_a_locked_model_is_left_alone(trained, tmp_path, monkeypatch):
    from toolkit.errors import LockError
    from toolkit.model import previous_path, replace_model, rollback_model
    from toolkit.store import locked

    model, _ = trained
    path = tmp_path / "m.joblib"
    _saved(model, path, "first")
    with pytest.raises(ModelError, match="no earlier model kept"):
        rollback_model(path)
    def files() -> dict[str, bytes]:  # the lock file a writer leaves is no change
        return {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file() and p.suffix != ".lock"}

    before = files()
    monkeypatch.setenv("TOOLKIT_LOCK_TIMEOUT", "0.2")
    with locked(path):  # another writer: a retrain that has not finished
        model.card = {**model.card, "model_version": "second"}
        with pytest.raises(LockError, match="another writer"):
            replace_model(model, path)
    assert files() == before
    assert not previous_path(path).exists()
