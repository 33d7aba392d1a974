import json
from pathlib import Path

import pytest

from toolkit.agreement import (
    cohen_kappa,
    compare,
    export_agreement,
    fleiss_kappa,
    krippendorff_alpha_nominal,
    per_label_agreement,
    specific_agreement,
)
from toolkit.cli import main
from toolkit.errors import AnnotationError, UnknownLabelError

ROOT = Path(__file__).resolve().parents[1]


def test_kappa_hand_computed():
    # po = 0.75; pe = (2*1 + 2*3) / 16 = 0.5; kappa = (0.75 - 0.5) / 0.5 = 0.5
    assert cohen_kappa(["x", "x", "y", "y"], ["x", "y", "y", "y"]) == pytest.approx(0.5)
    # po = 2/5 = 0.4; pe = (3*2 + 2*3) / 25 = 0.48; kappa = -0.08 / 0.52
    assert cohen_kappa(list("aaabb"), list("abbab")) == pytest.approx(-0.08 / 0.52)
    assert cohen_kappa(["a", "a"], ["a", "a"]) == 1.0


def test_kappa_matches_scikit_learn():
    from sklearn.metrics import cohen_kappa_score

    a = list("abcabcaabbcc")
    b = list("abcabbacbbca")
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))


def test_per_label_agreement():
    out = per_label_agreement(["x", "x", "y"], ["x", "y", "y"])
    assert out["x"] == {"first": 2, "second": 1, "both": 1, "agreement": round(2 / 3, 4)}


def _jsonl(name: str) -> list[dict]:
    return [json.loads(line) for line in (ROOT / "annotations/agreement" / name).read_text(encoding="utf-8").splitlines()]


def test_recorded_agreement_of_the_shipped_labels():
    first = {r["id"]: r["label"] for r in _jsonl("first_pass.jsonl")}
    second = {r["id"]: r["label"] for r in _jsonl("second_pass.jsonl")}
    result = compare(first, second)
    assert result["items"] == len(second) >= 0.19 * len(first)
    recorded = json.loads((ROOT / "annotations/agreement/agreement.json").read_text(encoding="utf-8"))
    assert result["cohen_kappa"] == recorded["cohen_kappa"]
    decided = {r["id"] for r in _jsonl("adjudication.jsonl")}
    assert decided == {d["id"] for d in result["disagreements"]}  # every disagreement was adjudicated


# --- several annotators: Fleiss, Krippendorff, Label Studio exports --------------------------

DATA = Path(__file__).parent / "data"
EXPORT_AGREEMENT = DATA / "ls_export_agreement.json"  # see tests/data/capture_agreement_export.py
EXPORT_IDS = DATA / "ls_export_ids.json"  # see tests/data/capture_exports.py


def test_fleiss_kappa_of_the_wikipedia_example():
    # Fleiss' kappa article: 10 subjects, 14 raters, 5 categories; P-bar = 0.378, P-e = 0.213, kappa = 0.210
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
             [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    p_bar = (1.0 + 0.253 + 0.308 + 0.440 + 0.330 + 0.462 + 0.242 + 0.176 + 0.286 + 0.286) / 10
    p_e = 0.143 ** 2 + 0.200 ** 2 + 0.279 ** 2 + 0.150 ** 2 + 0.229 ** 2
    assert fleiss_kappa(table) == pytest.approx((p_bar - p_e) / (1 - p_e), abs=2e-3)
    assert round(fleiss_kappa(table), 3) == 0.210
    assert fleiss_kappa([[3, 0], [0, 3]]) == 1.0 and fleiss_kappa([[2], [2]]) == 1.0
    with pytest.raises(ValueError, match="at least two ratings"):
        fleiss_kappa([[1, 0]])


def test_fleiss_kappa_of_two_raters_is_scotts_pi():
    # a = x x y y, b = x y y y: po = 0.75; pooled shares x 3/8, y 5/8; pe = 9/64 + 25/64 = 34/64
    table = [[2, 0], [1, 1], [0, 2], [0, 2]]
    assert fleiss_kappa(table) == pytest.approx((0.75 - 34 / 64) / (1 - 34 / 64))


def test_krippendorffs_alpha_of_krippendorffs_example():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability": 4 observers, 12 units,
    # missing values; nominal alpha = 0.743.
    rows = ["1 2 3 3 2 1 4 1 2 . . .", "1 2 3 3 2 2 4 1 2 5 . 3", ". 3 3 3 2 3 4 2 2 5 1 .", "1 2 3 3 2 4 4 1 2 5 1 ."]
    units = [[v for v in column if v != "."] for column in zip(*(r.split() for r in rows))]
    assert round(krippendorff_alpha_nominal(units), 3) == 0.743
    assert krippendorff_alpha_nominal([["a", "a"], ["b", "b"]]) == 1.0
    with pytest.raises(ValueError, match="no unit"):
        krippendorff_alpha_nominal([["a"], []])


def test_specific_agreement_generalises_the_two_rater_one():
    ratings = {"s1": {"a": "x", "b": "x"}, "s2": {"a": "x", "b": "y"}, "s3": {"a": "y", "b": "y"}}
    assert specific_agreement(ratings, ["x", "y"])["x"]["agreement"] == per_label_agreement(
        ["x", "x", "y"], ["x", "y", "y"])["x"]["agreement"]


def _raw_ratings(path: Path) -> dict[str, dict[int, str]]:
    """The export read plainly, without the library: {sentence id: {user id: label}}."""
    out = {}
    for task in json.loads(path.read_text(encoding="utf-8")):
        for a in task["annotations"]:
            if not a["was_cancelled"] and a["result"]:
                out.setdefault(task["data"]["id"], {})[a["completed_by"]] = a["result"][0]["value"]["choices"][0]
    return out


def test_agreement_of_a_captured_export_with_three_annotators():
    from sklearn.metrics import cohen_kappa_score

    result = export_agreement(EXPORT_AGREEMENT)
    raw = _raw_ratings(EXPORT_AGREEMENT)
    assert result["annotators"] == ["user-1", "user-2", "user-3"]
    assert result["items"] == 20 and result["ratings"] == 50
    pairs = {(p["first"], p["second"]): p for p in result["pairs"]}
    assert [pairs[k]["items"] for k in sorted(pairs)] == [20, 10, 10]
    for (first, second), pair in pairs.items():
        u, v = int(first[5:]), int(second[5:])
        ids = sorted(i for i in raw if u in raw[i] and v in raw[i])
        expected = cohen_kappa_score([raw[i][u] for i in ids], [raw[i][v] for i in ids])
        assert pair["cohen_kappa"] == pytest.approx(expected, abs=1e-4)
    # the scenario of the capture script: annotator 2 differs on tasks 2, 5, 9, 14, annotator 3 on 1 and 5
    assert pairs["user-1", "user-2"]["observed_agreement"] == 0.8 and pairs["user-1", "user-3"]["observed_agreement"] == 0.8
    assert len(result["disagreements"]) == 5
    assert {d["id"] for d in result["disagreements"]} == {i for i, by in raw.items() if len(set(by.values())) > 1}
    three_way = [d for d in result["disagreements"] if len(set(d["labels"].values())) == 3]
    assert len(three_way) == 1 and len(three_way[0]["labels"]) == 3
    table = [[list(by.values()).count(label) for label in sorted({l for b in raw.values() for l in b.values()})]
             for by in raw.values()]
    assert result["fleiss_kappa"] == pytest.approx(fleiss_kappa(table), abs=1e-4)
    assert result["krippendorff_alpha"] == pytest.approx(krippendorff_alpha_nominal([list(b.values()) for b in raw.values()]), abs=1e-4)
    confused = {tuple(c["labels"]): c["count"] for c in result["confused"]}
    assert sum(confused.values()) == sum(1 for by in raw.values() for i, p in enumerate(by.values())
                                         for q in list(by.values())[i + 1:] if p != q)


def test_agreement_uses_each_annotators_latest_label():
    # tests/data/ls_export_ids.json: task 6 is annotated twice by one annotator (culture, then
    # organization): one annotator only, so it is not an item; hand-computed over the other four:
    # P-bar = (1 + 0 + 1/3 + 1/3) / 4 = 5/12, shares over 10 labels .2 .5 .1 .2 -> Pe = .34
    result = export_agreement(EXPORT_IDS)
    assert result["items"] == 4 and result["tasks_labelled"] == 5
    assert result["fleiss_kappa"] == pytest.approx((5 / 12 - 0.34) / 0.66, abs=1e-4)
    assert result["krippendorff_alpha"] == pytest.approx(1 - 9 * 6 / 66, abs=1e-4)
    assert result["per_label"]["organization"] == {"ratings": 5, "agreement": round(4 / 7, 4)}


def test_cli_agreement_report(tmp_path, capsys):
    assert main(["agreement", str(EXPORT_AGREEMENT)]) == 0
    md = capsys.readouterr().out
    assert md.startswith("# Annotator agreement") and "Fleiss' kappa: **" in md
    assert "| user-1 | user-2 | 20 | 0.800 |" in md and "## Sentences they disagree on (5)" in md
    out = tmp_path / "agreement.json"
    assert main(["agreement", str(EXPORT_AGREEMENT), "--format", "json", "--out", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8")) == json.loads(json.dumps(export_agreement(EXPORT_AGREEMENT)))


EMAILS = {1: "admin@example.org", 2: "li@example.org", 3: "zhao@example.org"}


def test_annotators_are_named_by_email_from_the_export_or_the_server(tmp_path):
    named = export_agreement(EXPORT_AGREEMENT, EMAILS)
    assert named["annotators"] == sorted(EMAILS.values())
    assert {(p["first"], p["second"]) for p in named["pairs"]} == {
        ("admin@example.org", "li@example.org"), ("admin@example.org", "zhao@example.org"), ("li@example.org", "zhao@example.org")}
    assert "user-" not in json.dumps(named)
    tasks = json.loads(EXPORT_AGREEMENT.read_text(encoding="utf-8"))
    for task in tasks:
        for a in task["annotations"]:
            a["completed_by"] = {"id": a["completed_by"], "email": EMAILS[a["completed_by"]], "first_name": "", "last_name": ""}
    objects = tmp_path / "objects.json"
    objects.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    from_export = export_agreement(objects)
    assert {k: v for k, v in from_export.items() if k != "export"} == {k: v for k, v in named.items() if k != "export"}


def test_cli_agreement_with_the_server_out_of_reach_warns_and_names_ids(monkeypatch, capsys):
    from conftest import free_port

    monkeypatch.setenv("LABEL_STUDIO_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "secret-key-42")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("always")  # as outside the test run: the CLI shows it as one line
        assert main(["agreement", str(EXPORT_AGREEMENT)]) == 0
    out, err = capsys.readouterr()
    assert "| user-1 | user-2 | 20 | 0.800 |" in out
    assert err.startswith("toolkit: warning: annotators are named by their Label Studio ids: cannot reach Label Studio")
    assert err.count("\n") == 1 and "secret-key-42" not in err


def test_export_without_several_annotators_is_refused(tmp_path, one_line_error):
    tasks = json.loads(EXPORT_AGREEMENT.read_text(encoding="utf-8"))
    for task in tasks:
        task["annotations"] = task["annotations"][:1]
    path = tmp_path / "single.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(AnnotationError, match=rf"no sentence is labelled by two or more annotators \({len(tasks)} labelled sentences"):
        export_agreement(path)  # sentence tasks: one sentence each
    assert main(["agreement", str(path)]) == 2
    assert str(path) in one_line_error()


@pytest.mark.parametrize("content, message", [
    (b'[{"id": 1, "data": {"id": "s1"', "not valid JSON"),
    (b'{"tasks": []}', "expected a JSON list of tasks"),
    (b'[{"text": "a"}]', "not JSON_MIN or CSV"),
])
def test_malformed_exports_are_one_line_errors(tmp_path, content, message, one_line_error):
    path = tmp_path / "export.json"
    path.write_bytes(content)
    assert main(["agreement", str(path)]) == 2
    err = one_line_error()
    assert str(path) in err and message in err
    assert main(["agreement", str(tmp_path / "missing.json")]) == 2
    assert "no such file" in one_line_error()


def test_unknown_label_is_refused_naming_the_task(tmp_path, one_line_error):
    tasks = json.loads(EXPORT_AGREEMENT.read_text(encoding="utf-8"))
    tasks[3]["annotations"][1]["result"][0]["value"]["choices"] = ["sports"]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(UnknownLabelError, match=rf"task {tasks[3]['id']} annotation \d+: unknown label 'sports'"):
        export_agreement(path)
    assert main(["agreement", str(path)]) == 2
    assert "unknown label 'sports'" in one_line_error()
