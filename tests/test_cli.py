import json
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_segment_jsonl(two_reports, capsys):
    assert main(["segment", str(two_reports)]) == 0
    out, err = capsys.readouterr()
    records = [json.loads(line) for line in out.splitlines()]
    assert set(records[0]) == {"id", "report", "group", "paragraph", "index", "heading", "is_heading", "text"}
    assert len({r["report"] for r in records}) == 2
    assert err.strip() == f"2 reports, 2 groups, {len(records)} sentences"


def test_segment_tsv(two_reports, capsys):
    assert main(["segment", str(two_reports), "--format", "tsv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split("\t") == ["id", "report", "group", "paragraph", "index", "heading", "is_heading", "text"]
    assert all(len(line.split("\t")) == 8 for line in lines)


def test_empty_and_binary_files_fail_with_one_line(tmp_path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    binary = tmp_path / "data.txt"
    binary.write_bytes(bytes(range(256)) * 8)
    for path, reason in ((empty, "file is empty"), (binary, "looks binary")):
        assert main(["segment", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and str(path) in err and reason in err


@pytest.mark.slow
def test_console_script_and_module_entry_points():
    out = subprocess.run([sys.executable, "-m", "toolkit", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("toolkit ")
    commands = [[c] for c in ("segment", "weak-label", "stats", "train", "evaluate", "tag", "suggest", "audit",
                              "agreement", "serve")]
    commands += [["ls", c] for c in ("config", "export-tasks", "import", "push", "pull")]
    for command in commands:
        help_ = subprocess.run([sys.executable, "-m", "toolkit", *command, "--help"], capture_output=True, text=True)
        assert help_.returncode == 0 and "example:" in help_.stdout, command


def test_stats_and_weak_label(capsys, tmp_path):
    labels, corpus = str(ROOT / "annotations" / "labels.jsonl"), str(ROOT / "annotations" / "corpus")
    assert main(["stats", "--data", labels, "--corpus", corpus]) == 0
    out = capsys.readouterr().out
    stored = len((ROOT / "annotations" / "labels.jsonl").read_text(encoding="utf-8").splitlines())
    assert f"{stored} labelled, 0 unlabelled" in out
    weak = tmp_path / "weak.jsonl"
    assert main(["weak-label", corpus, "--data", labels, "--out", str(weak)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["rule", "coverage", "covered"]
    assert all(json.loads(line)["source"] == "weak" for line in weak.read_text(encoding="utf-8").splitlines())


@pytest.mark.slow
def test_train_then_tag_every_format(small_store, tmp_path, capsys):
    corpus, labels = small_store
    model = tmp_path / "models" / "m.joblib"
    assert main(["train", "--data", str(labels), "--corpus", str(corpus), "--out", str(model), "--folds", "3"]) == 0
    card = json.loads(model.with_suffix(".json").read_text(encoding="utf-8"))
    assert card["cross_validation"]["folds"] == 3 and card["model_sha256"]
    capsys.readouterr()
    for fmt in ("jsonl", "json", "csv", "md"):
        out = tmp_path / f"out.{fmt}"
        assert main(["tag", str(corpus), "--model", str(model), "--format", fmt, "--output", str(out)]) == 0
        err = capsys.readouterr().err
        assert "outside models/" in err and "tagged " in err
        assert out.stat().st_size > 0
    assert out.read_text(encoding="utf-8").count("# 报告 ") == 10
    from toolkit.corpus import load_sentences

    lines = (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(load_sentences([corpus]))


def test_tag_default_model_from_stdin(monkeypatch, capsys):
    import io

    sample = "20xx年,公司工会在公司党委的正确领导下开展工作。\n一、开展安康杯竞赛\n组织了安全知识竞赛。\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(sample.encode("gb18030"))))
    assert main(["tag", "-"]) == 0
    out, err = capsys.readouterr()
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 3 and rows[1]["label"] == "safety"
    assert "outside models/" not in err


def test_tag_errors_are_one_line(tmp_path, one_line_error):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    bad_model = tmp_path / "m.joblib"
    bad_model.write_bytes(b"junk")
    sample = tmp_path / "s.txt"
    sample.write_text("工会开展了活动。\n", encoding="utf-8")
    cases = [(["tag", str(empty)], "file is empty"), (["tag", str(sample), "--model", str(bad_model)], "no model card"),
             (["evaluate", "--models", "bogus", "--corpus", str(sample), "--data", str(empty)], "choose from")]
    for argv, message in cases:
        assert main(argv) == 2
        assert message in one_line_error()


@pytest.mark.slow
def test_evaluate_writes_report_and_plots(small_store, tmp_path, capsys):
    corpus, labels = small_store
    out = tmp_path / "reports"
    argv = ["evaluate", "--data", str(labels), "--corpus", str(corpus), "--folds", "3", "--models", "cnb", "--out", str(out)]
    assert main(argv) == 0
    first = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    assert set(first["comparison"]) == {"majority", "weak rules", "cnb"}
    assert len(first["confident_errors"]) <= 20 and first["confusion"]["labels"]
    for name in ("confusion_matrix.png", "per_label_f1.png", "learning_curve.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "## Model comparison" in (out / "evaluation.md").read_text(encoding="utf-8")
    assert main(argv) == 0  # same seed, same numbers
    again = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    assert again["comparison"] == first["comparison"]


@pytest.mark.parametrize("argv", [
    ["tag", "x.txt", "--min-confidence", "5"],
    ["tag", "x.txt", "--jobs", "0"],
    ["tag", "x.txt", "--jobs", "two"],
    ["suggest", "--n", "0"],
    ["audit", "--top", "-1"],
    ["evaluate", "--folds", "1"],
    ["serve", "--port", "70000"],
    ["no-such-command"],
])
def test_bad_arguments_are_one_line_errors(argv, one_line_error):
    assert main(argv) == 2
    assert "see --help" in one_line_error()


def test_bad_output_and_model_are_one_line_errors_and_leave_nothing(tmp_path, one_line_error):
    sample = str(ROOT / "examples" / "sample_report.txt")
    assert main(["tag", sample, "--output", str(tmp_path / "no" / "x.md")]) == 2
    assert "does not exist" in one_line_error()
    assert main(["tag", sample, "--output", str(tmp_path)]) == 2
    assert "names a folder" in one_line_error()
    assert main(["tag", sample, "--model", str(tmp_path / "m.joblib")]) == 2
    assert "model file not found" in one_line_error()
    assert list(tmp_path.iterdir()) == []
