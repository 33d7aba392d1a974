from toolkit.params import DEFAULT_PARAMS
from toolkit.pipeline import build_pipeline, make_classifier


def test_the_svm_takes_c_as_given():
    assert make_classifier("svm", C=3.0).C == 3.0
    assert make_classifier("logreg").C == make_classifier("svm").C == DEFAULT_PARAMS["C"]


def test_pipeline_classifier_follows_the_parameters():
    pipeline = build_pipeline({"classifier": "svm", "C": 1.0})
    assert pipeline.named_steps["classifier"].C == 1.0
    assert build_pipeline().named_steps["classifier"].C == DEFAULT_PARAMS["C"]
