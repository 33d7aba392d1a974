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
    path = tmp_path / "m.npz"
    card = save_model(model, path)
    stored = json.loads(card_path(path).read_text(encoding="utf-8"))
    assert stored == card and len(card["model_sha256"]) == 64 and card["taxonomy_version"]
    loaded = load_model(path)
    assert loaded.predict(examples.records[:30]) == model.predict(examples.records[:30])


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage"])
def test_corrupt_model_fails_with_one_line(trained, tmp_path, damage):
    model, _ = trained
    path = tmp_path / "m.npz"
    save_model(model, path)
    data = path.read_bytes()
    path.write_bytes({"truncate": data[: len(data) // 2], "flip": data[:-10] + b"0123456789", "garbage": b"not a model"}[damage])
    with pytest.raises(ModelError, match="SHA-256 does not match") as info:
        load_model(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_foreign_pickle_with_forged_card_is_refused(tmp_path):
    import hashlib

    import joblib

    path = tmp_path / "foreign.npz"
    joblib.dump({"something": "else"}, path)
    from toolkit.model import FORMAT

    card = {"format": FORMAT, "taxonomy_version": __import__("toolkit.taxonomy").taxonomy.TAXONOMY_VERSION,
            "model_sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    card_path(path).write_text(json.dumps(card), encoding="utf-8")
    with pytest.raises(ModelError, match="not an .npz archive"):
        load_model(path)


def test_model_of_an_older_format_asks_for_retraining(trained, tmp_path):
    from toolkit.model import FORMAT

    model, _ = trained
    path = tmp_path / "old.npz"
    save_model(model, path)
    card = json.loads(card_path(path).read_text(encoding="utf-8"))
    card_path(path).write_text(json.dumps({**card, "format": "toolkit-section-model/1"}), encoding="utf-8")
    with pytest.raises(ModelError, match="not a toolkit model card") as err:
        load_model(path)
    assert "\n" not in str(err.value) and FORMAT != "toolkit-section-model/1"


def test_model_for_another_taxonomy_is_refused(trained, tmp_path):
    model, _ = trained
    path = tmp_path / "m.npz"
    save_model(model, path)
    card = json.loads(card_path(path).read_text(encoding="utf-8"))
    card["taxonomy_version"] = "1999.01"
    card_path(path).write_text(json.dumps(card), encoding="utf-8")
    with pytest.raises(ModelError, match="made for taxonomy '1999.01'"):
        load_model(path)


def test_missing_model_and_missing_card(tmp_path):
    with pytest.raises(ModelError, match="model file not found"):
        load_model(tmp_path / "none.npz")
    (tmp_path / "x.npz").write_bytes(b"x")
    with pytest.raises(ModelError, match=r"x\.npz: not a model file \(a model is the \.npz archive"):
        load_model(tmp_path / "x.npz")
    np.savez(tmp_path / "y.npz", a=np.zeros(2))
    with pytest.raises(ModelError, match="no model card y.json beside it"):
        load_model(tmp_path / "y.npz")


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
    assert np.allclose(mixed, [model.predict_proba([examples.records[0]])[0], by_text[1]])
    assert model.min_confidences([examples.records[0], alone[1]]) == [model.min_confidence, model.alone_min_confidence]
    path = tmp_path / "m.npz"
    save_model(model, path)
    loaded = load_model(path)
    assert loaded.calibration == model.calibration and np.allclose(loaded.predict_proba(alone), by_text)


def test_the_pipeline_lives_beside_the_model_is_checked_and_warned_about_outside_models(trained, tmp_path):
    import warnings

    from toolkit.errors import ModelWarning
    from toolkit.model import pipeline_path

    model, examples = trained
    path = tmp_path / "models" / "m.npz"
    card = save_model(model, path)
    assert pipeline_path(path).is_file() and card["pipeline_file"] == pipeline_path(path).name
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # inside a models/ folder: no warning
        assert load_model(path).pipeline.predict(examples.records[:5]).tolist()  # read on demand
    elsewhere = tmp_path / "elsewhere" / "m.npz"
    save_model(model, elsewhere)
    with pytest.warns(ModelWarning, match="outside models/"):
        assert load_model(elsewhere).pipeline.predict(examples.records[:5]).tolist()
    data = pipeline_path(path).read_bytes()
    pipeline_path(path).write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    with pytest.raises(ModelError, match="SHA-256 does not match"):
        _ = load_model(path).pipeline
    pipeline_path(path).unlink()
    assert load_model(path).predict(examples.records[:5])[0]  # tagging never needs it


def test_save_and_load_give_the_same_probabilities_exactly(trained, tmp_path):
    from toolkit.context import alone_record

    model, examples = trained
    path = tmp_path / "models" / "m.npz"
    card = save_model(model, path)
    assert card["pickled"] == [] and card["model_file"] == "m.npz"
    loaded = load_model(path)
    alone = [alone_record(r["text"]) for r in examples.records[:40]]
    records = examples.records[:40] + alone
    assert np.array_equal(loaded.predict_proba(records), model.predict_proba(records))
    assert loaded.compiled.tokenizer == model.compiled.tokenizer and loaded.classes == model.classes


def test_a_model_file_name_must_end_in_npz(trained, tmp_path):
    with pytest.raises(ModelError, match="ends in .npz"):
        save_model(trained[0], tmp_path / "m.joblib")
    assert list(tmp_path.iterdir()) == []


def test_the_shipped_model_gives_its_pipelines_probabilities_on_the_corpus(corpus_reports):
    """The shipped arrays predict what the scikit-learn pipeline they were compiled from predicts."""
    from toolkit.context import records_of
    from toolkit.model import SectionModel

    model = load_model()
    records = records_of(corpus_reports)
    through_pipeline = SectionModel(model.pipeline, model.card, calibration=model.calibration)
    assert np.abs(model.predict_proba(records) - through_pipeline.predict_proba(records)).max() < 1e-9


def test_loading_and_tagging_with_the_shipped_model_never_unpickle(monkeypatch):
    import pickle

    import joblib

    import toolkit

    def refuse(*args, **kwargs):
        raise AssertionError("unpickled")

    for module, name in ((pickle, "load"), (pickle, "loads"), (pickle, "Unpickler"), (joblib, "load")):
        monkeypatch.setattr(module, name, refuse)
    model = toolkit.load_model()
    assert model.tag("一、加强组织建设。新发展会员45人。")[1].label == "organization"
    assert model.tag_sentences(["三八节期间组织女职工开展健康讲座。"])[0].label == "women"


class _Payload:
    """Unpickling this creates the file ``marker``: proof that a pickle was executed."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _resign(path, **files) -> None:
    """Replace files beside the model and record their SHA-256 in its card, as a forger would."""
    import hashlib

    card = json.loads(card_path(path).read_text(encoding="utf-8"))
    for key, data in files.items():
        target = path.with_name(card[f"{key}_file"])
        target.write_bytes(data)
        card[f"{key}_sha256"] = hashlib.sha256(data).hexdigest()
    card_path(path).write_text(json.dumps(card), encoding="utf-8")


def _npz_with(path, member: str, value) -> bytes:
    """The model file at ``path`` with ``member`` replaced by ``value`` (pickled if it is an object)."""
    import io

    with np.load(path, allow_pickle=False) as arrays:
        members = {k: arrays[k] for k in arrays.files}
    members[member] = value
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **members)
    return buffer.getvalue()


@pytest.fixture()
def planted(trained, tmp_path):
    """A saved model, the payload's marker file (not yet existing) and the payload as joblib bytes."""
    import io

    import joblib

    path = tmp_path / "models" / "m.npz"
    save_model(trained[0], path)
    marker = tmp_path / "executed"
    buffer = io.BytesIO()
    joblib.dump({"format": "x", "payload": _Payload(str(marker))}, buffer)
    return path, marker, buffer.getvalue()


def _payload_array(marker) -> np.ndarray:
    value = np.empty(1, dtype=object)
    value[0] = _Payload(str(marker))
    return value


@pytest.mark.parametrize("member", ["spec", "context.coef", "context.block0.words", "alone.coef"])
def test_a_pickle_planted_in_the_npz_is_never_executed(planted, member):
    path, marker, _ = planted
    _resign(path, model=_npz_with(path, member, _payload_array(marker)))
    with pytest.raises(ModelError, match="pickled objects") as info:
        model = load_model(path)
        model.tag("一、加强组织建设。新发展会员45人。")
        model.tag_sentences(["三八节期间组织女职工开展健康讲座。"])
    assert "\n" not in str(info.value) and not marker.exists()


def test_a_joblib_file_under_the_models_name_is_never_executed(planted):
    path, marker, payload = planted
    _resign(path, model=payload)
    with pytest.raises(ModelError, match="not an .npz archive") as info:
        load_model(path)
    assert "\n" not in str(info.value) and not marker.exists()


def test_a_replaced_pipeline_file_is_never_read_when_tagging(planted):
    path, marker, payload = planted
    _resign(path, pipeline=payload)
    model = load_model(path)
    assert [t.label for t in model.tag("一、加强组织建设。新发展会员45人。")]
    assert model.tag_sentences(["三八节期间组织女职工开展健康讲座。"])[0].label
    assert not marker.exists()


def test_the_command_line_never_executes_a_planted_model(planted, capsys):
    from toolkit.cli import main

    path, marker, payload = planted
    _resign(path, model=payload)
    sample = path.parent / "s.txt"
    sample.write_text("一、加强组织建设。新发展会员45人。\n", encoding="utf-8")
    assert main(["tag", str(sample), "--model", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not an .npz archive" in err and not marker.exists()


@pytest.fixture(scope="module")
def uncompiled(corpus_reports, gold_labels):
    model = fit(labelled_examples(corpus_reports[:4], gold_labels), {"classifier": "svm", "calibrate": False})
    model.card = {"model_version": "svm"}
    return model


@pytest.mark.slow
def test_a_model_without_compiled_form_loads_only_when_pickles_are_trusted(uncompiled, tmp_path, monkeypatch):
    from toolkit.context import alone_record

    path = tmp_path / "models" / "svm.npz"
    card = save_model(uncompiled, path)
    assert card["pickled"] == ["context", "alone"] and card["alone_file"] == "svm.alone.joblib"
    monkeypatch.delenv("TOOLKIT_TRUST_PICKLE", raising=False)
    with pytest.raises(ModelError, match="trust_pickle=True") as info:
        load_model(path)
    assert "\n" not in str(info.value)
    records = [alone_record("三八节期间组织女职工开展健康讲座。"), alone_record("召开了职代会。")]
    loaded = load_model(path, trust_pickle=True)
    assert np.array_equal(loaded.predict_proba(records), uncompiled.predict_proba(records))
    monkeypatch.setenv("TOOLKIT_TRUST_PICKLE", "1")
    assert load_model(path).version == "svm"


@pytest.mark.slow
def test_an_untrusted_model_without_compiled_form_never_executes_its_pickles(uncompiled, tmp_path, monkeypatch):
    import io

    import joblib

    monkeypatch.delenv("TOOLKIT_TRUST_PICKLE", raising=False)
    path = tmp_path / "models" / "svm.npz"
    save_model(uncompiled, path)
    marker = tmp_path / "executed"
    buffer = io.BytesIO()
    joblib.dump(_Payload(str(marker)), buffer)
    _resign(path, pipeline=buffer.getvalue(), alone=buffer.getvalue())
    with pytest.raises(ModelError, match="trust_pickle"):
        load_model(path)
    assert not marker.exists()


def test_the_shipped_model_is_package_data_that_a_wheel_carries():
    import configparser
    from fnmatch import fnmatch
    from pathlib import Path

    from toolkit.model import shipped_model_path

    path = shipped_model_path()
    package = Path(__import__("toolkit").__file__).parent
    assert path.parent == package / "data" and path.is_file()
    card = json.loads(card_path(path).read_text(encoding="utf-8"))
    files = [path, path.with_name(card["pipeline_file"]), card_path(path)]
    config = configparser.ConfigParser()
    config.read(package.parent / "setup.cfg", encoding="utf-8")
    patterns = [p.strip() for p in config["options.package_data"]["toolkit"].replace("\n", ",").split(",") if p.strip()]
    for file in files:
        assert any(fnmatch(file.relative_to(package).as_posix(), p) for p in patterns), file


def _saved(model, path, version):
    model.card = {**model.card, "model_version": version}
    return save_model(model, path)


@pytest.mark.slow
def test_replace_keeps_the_replaced_model_and_rollback_swaps_them_back(trained, tmp_path):
    from toolkit.model import model_files, previous_path, replace_model, rollback_model

    model, examples = trained
    path = tmp_path / "models" / "m.npz"
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
    from toolkit.fileio import locked

    model, _ = trained
    path = tmp_path / "m.npz"
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


def test_no_single_cue_turns_a_report_into_plans():
    """A page whose blurb lists the report's parts, an overview that announces the next period's
    arrangements and a slogan heading that names a future goal: the topic sentences after them keep
    their topics, and no sentence whose text names a topic is a part at confidence >= 0.9."""
    from toolkit import load_model

    text = ("首页 > 工作总结 > 工会工作总结\n"
            "本文是某公司工会2023年工作总结,主要包括一年来的主要工作、存在的不足和下步打算等内容,供参考。\n"
            "某公司工会2023年工作总结\n"
            "2023年,公司工会在公司党委的领导下,紧紧围绕公司中心工作,认真履行各项职能,现将一年来的工作总结如下,"
            "并对下阶段工作作出安排。\n"
            "一、凝心聚力,为完成“十四五”目标建功立业\n"
            "全年组织开展岗位练兵和技能比武12场,参赛职工800余人次,评出技术能手20名。\n"
            "二、情系职工,扎实开展送温暖活动\n"
            "春节期间,公司领导和工会干部走访慰问困难职工45户,发放慰问金9万元。\n"
            "三、坚持民主管理,按时召开职代会\n"
            "3月份召开三届二次职代会,审议通过了公司年度工作报告和职工福利方案。\n"
            "四、关爱女职工\n"
            "三八节期间组织女职工开展健康讲座和两癌筛查,参加女职工320人。\n")
    tags = load_model().tag(text)
    by_text = {t.text: t for t in tags}
    topics = {"全年组织开展岗位练兵和技能比武12场,参赛职工800余人次,评出技术能手20名。": "competition",
              "春节期间,公司领导和工会干部走访慰问困难职工45户,发放慰问金9万元。": "assistance",
              "3月份召开三届二次职代会,审议通过了公司年度工作报告和职工福利方案。": "democracy",
              "三八节期间组织女职工开展健康讲座和两癌筛查,参加女职工320人。": "women"}
    for sentence, label in topics.items():
        assert by_text[sentence].label == label, (sentence, by_text[sentence].label)
    assert not [t for t in tags if t.label == "plans"]


def test_a_page_of_sample_reports_keeps_its_titles_apart():
    """The page's stacked titles (the site's, the collection's, the page's repeated) are `other`,
    the report's own title ("…篇1") is `overview`, whatever their words."""
    from toolkit import load_model

    text = ("车间工会工作总结\n"
            "车间工会工作总结(通用6篇)\n"
            "以下是小编整理的车间工会工作总结,欢迎阅读参考。\n"
            "车间工会工作总结\n"
            "车间工会工作总结 篇1\n"
            "今年以来,车间工会在分厂党支部的领导下,围绕安全生产和降本增效开展工作,现总结如下:\n"
            "一、抓班组建设\n"
            "全年新建职工小家3个,发展会员26名。\n")
    tags = load_model().tag(text)
    labels = [(t.text, t.label) for t in tags]
    assert labels[:5] == [("车间工会工作总结", "other"), ("车间工会工作总结(通用6篇)", "other"),
                          ("以下是小编整理的车间工会工作总结,欢迎阅读参考。", "other"), ("车间工会工作总结", "other"),
                          ("车间工会工作总结 篇1", "overview")]
    from toolkit.calibration import TITLE_CAP

    assert tags[4].confidence <= TITLE_CAP < 0.9  # which of the stacked titles is the report's own is likely, not sure
    assert tags[0].confidence <= TITLE_CAP and tags[3].confidence <= TITLE_CAP  # so are its copies, the page's
    assert tags[1].confidence >= 0.9  # a collection's title is the page's, sure


def test_batches_bounded_by_records_and_characters_give_the_same_probabilities(trained):
    from toolkit.model import BATCH_CHARS_PER_RECORD, _batch_bounds

    model, examples = trained
    records = examples.records[:40]
    assert np.abs(model.predict_proba(records, batch=7) - model.predict_proba(records)).max() < 1e-12
    long = [{"text": "字" * (3 * BATCH_CHARS_PER_RECORD)}] * 10
    assert _batch_bounds(long, 4) == [0, 2, 4, 6, 8, 10]  # two long records fill a batch of four
    assert _batch_bounds([{"text": "字"}] * 10, 4) == [0, 4, 8, 10]
