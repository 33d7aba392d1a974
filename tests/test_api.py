"""The Python API a researcher uses: one import."""

from pathlib import Path

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


def test_the_shipped_samples_are_the_repositorys_own():
    """The package's samples are copies: the example report, the seed corpus and its labels."""
    from toolkit import store
    from toolkit.corpus import load_sentences

    root = Path(__file__).resolve().parents[1]
    assert toolkit.sample_report_path().read_bytes() == (root / "examples" / "sample_report.txt").read_bytes()
    sample = toolkit.sample_corpus()
    assert sample.reports.read_bytes() == (root / "annotations" / "corpus" / "reports.txt").read_bytes()
    ids = {s.id for s in load_sentences([sample.reports])}
    everything = store.load(root / "annotations" / "labels.jsonl")
    assert store.load(sample.labels) == {k: a for k, a in everything.items() if k in ids} and len(ids) > 500


def test_readmes_python_example_runs_anywhere(tmp_path, monkeypatch, capsys):
    """README's example, as written there, run from a folder with nothing of the repository in it."""
    import re

    root = Path(__file__).resolve().parents[1]
    code = re.search(r"From Python, one import:\n\n```python\n(.*?)```", (root / "README.md").read_text(encoding="utf-8"),
                     re.S).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert len(out) > 10 and out[0].startswith("总体概述 ")
