"""The Python API a researcher uses: one import."""

import pytest

import toolkit


def test_one_import_tags_raw_text_in_any_accepted_form():
    model = toolkit.load_model()
    tags = model.tag("20xx年，公司工会在党委领导下开展工作！一、加强组织建设。新发展会员45人。")
    assert [t.index for t in tags] == list(range(len(tags))) and len(tags) == 3  # full-width ！ ends a sentence
    assert tags[1].label == tags[2].label == "organization" and tags[2].label_name == "组织与自身建设"
    assert all(isinstance(t, toolkit.Tagged) and 0 < t.confidence <= 1 for t in tags)


def test_sentences_alone_and_segmentation():
    model = toolkit.load_model()
    assert [t.label for t in model.tag_sentences(["组织开展“安康杯”竞赛,排查隐患120处。"])] == ["safety"]
    reports = toolkit.segment("一、帮扶。慰问职工20户。")
    assert isinstance(reports[0], toolkit.Report) and [s.is_heading for s in reports[0].sentences] == [True, False]
    assert set(toolkit.__all__) >= {"load_model", "segment", "SectionModel", "Tagged"}


def test_a_missing_model_is_a_one_line_error(tmp_path):
    from toolkit.errors import ModelError

    with pytest.raises(ModelError, match="model file not found"):
        toolkit.load_model(tmp_path / "none.npz")


def test_the_estimator_is_part_of_the_api_without_slowing_the_import():
    import subprocess
    import sys

    from toolkit.estimator import SectionClassifier

    assert toolkit.SectionClassifier is SectionClassifier and "SectionClassifier" in toolkit.__all__
    with pytest.raises(AttributeError, match="no_such_name"):
        toolkit.no_such_name
    probe = "import sys, toolkit; print(any(m.startswith('sklearn') for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip() == "False"
