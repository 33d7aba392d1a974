from pathlib import Path

import pytest

from toolkit.errors import InputError
from toolkit.segment_eval import load_cases, score_case, score_cases

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "annotations" / "segmentation"

TEXT = "首页 > 范文\nXX厂工会2023年工作总结\n20xx年,厂工会在厂党委领导下开展工作。\n一、组织建设\n新建分会3个。\n二、存在的问题\n经费紧张。\n"


def test_a_case_read_right_scores_one():
    answer = {"reports": [{"start": "XX厂工会2023年工作总结", "headings": ["一、组织建设", "二、存在的问题"],
                           "problems": "二、存在的问题", "plans": None, "closing": None}]}
    counts = score_case(TEXT, answer)
    assert all(c.scores()["f1"] == 1.0 for c in counts.values())


def test_a_missed_heading_and_a_wrong_start_count_against():
    answer = {"reports": [{"start": "20xx年", "headings": ["一、组织建设", "新建分会"], "problems": None,
                           "plans": None, "closing": None}]}
    counts = score_case(TEXT, answer)
    assert counts["reports"].tp == 0 and counts["reports"].predicted == 1
    assert counts["headings"].gold == 2 and counts["headings"].tp == 0  # an unmatched report scores no headings


def test_full_width_snippets_match_normalised_text():
    answer = {"reports": [{"start": "XX厂工会2023年工作总结", "headings": ["一、组织建设", "二、存在的问题"],
                           "problems": "二、存在的问题", "plans": None, "closing": None}]}
    counts = score_case(TEXT.replace(",", ","), answer)
    assert counts["reports"].tp == 1


def test_the_messy_segmentation_cases_score_above_their_floor():
    """The hand-checked messy inputs of annotations/segmentation (the data card and README give the figures)."""
    result = score_cases(load_cases(CASES))
    assert result["cases"] >= 20
    assert result["reports"]["f1"] >= 0.9
    assert result["headings"]["f1"] >= 0.8
    assert result["parts"]["f1"] >= 0.8


def test_bad_answer_files_are_one_line_errors(tmp_path):
    (tmp_path / "c.txt").write_text("一、组织\n", encoding="utf-8")
    (tmp_path / "c.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match=r"c\.json: not valid JSON"):
        load_cases(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no case files"):
        load_cases(empty)
