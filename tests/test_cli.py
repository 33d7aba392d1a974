import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.cli import build_parser, main

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


def test_stats_and_weak_label(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("TOOLKIT_PROJECT", raising=False)
    monkeypatch.chdir(ROOT / "annotations" / "corpus")  # the project is found from any folder inside it
    assert main(["stats"]) == 0
    out = capsys.readouterr().out
    stored = len((ROOT / "annotations" / "labels.jsonl").read_text(encoding="utf-8").splitlines())
    assert f"{stored} labelled, 0 unlabelled" in out
    weak = tmp_path / "weak.jsonl"
    assert main(["weak-label", "--out", str(weak)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["rule", "coverage", "covered"]
    assert all(json.loads(line)["source"] == "weak" for line in weak.read_text(encoding="utf-8").splitlines())


@pytest.mark.slow
def test_train_then_tag_every_format(small_store, tmp_path, capsys):
    corpus, labels = small_store
    model = tmp_path / "models" / "m.npz"
    assert main(["train", "--data", str(labels), "--corpus", str(corpus), "--out", str(model), "--folds", "3"]) == 0
    card = json.loads(model.with_suffix(".json").read_text(encoding="utf-8"))
    assert card["cross_validation"]["folds"] == 3 and card["model_sha256"]
    assert card["trained_with"] == shlex.join(["toolkit", "train", "--data", str(labels), "--corpus", str(corpus),
                                               "--out", str(model), "--folds", "3"])
    capsys.readouterr()
    for fmt in ("jsonl", "json", "csv", "md", "html"):
        out = tmp_path / f"out.{fmt}"
        assert main(["tag", str(corpus), "--model", str(model), "--format", fmt, "--output", str(out)]) == 0
        err = capsys.readouterr().err
        assert "warning" not in err and "tagged " in err  # an .npz model runs no code: nothing to warn about
        assert out.stat().st_size > 0
    assert (tmp_path / "out.md").read_text(encoding="utf-8").count("<sub>报告 ") == 10
    assert out.read_text(encoding="utf-8").count('<article class="report"') == 10
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
    assert {r["source"] for r in rows} == {"<stdin>"}


def test_sentences_from_stdin_name_their_source_as_reports_do(monkeypatch, capsys):
    import io

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("三八节期间组织女职工开展健康讲座。\n".encode())))
    assert main(["tag", "--sentences", "-"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["source"] for r in rows] == ["<stdin>"] and rows[0]["label"] == "women"


def test_tag_errors_are_one_line(tmp_path, one_line_error):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    bad_model = tmp_path / "m.npz"
    bad_model.write_bytes(b"junk")
    sample = tmp_path / "s.txt"
    sample.write_text("工会开展了活动。\n", encoding="utf-8")
    notes = tmp_path / "notes.txt"
    notes.write_text("模型的笔记\n", encoding="utf-8")
    truncated = tmp_path / "export.json"
    truncated.write_text('[{"id": 1, "annot', encoding="utf-8")
    no_bom = tmp_path / "word.txt"
    no_bom.write_bytes("一、加强组织建设。\n新发展会员45人。\n".encode("utf-16-le"))
    cases = [(["tag", str(empty)], "file is empty"), (["tag", str(sample), "--model", str(bad_model)], "not a model file"),
             (["tag", str(sample), "--model", str(notes)], f"{notes}: not a model file (a model is the .npz archive"),
             (["agreement", str(truncated)], "not valid JSON (Unterminated string starting at line 1 column 12)"),
             (["tag", str(no_bom)], f"{no_bom}: looks like UTF-16 without a byte-order mark"),
             (["evaluate", "--models", "bogus", "--corpus", str(sample), "--data", str(empty)], "choose from")]
    for argv, message in cases:
        assert main(argv) == 2
        err = one_line_error()
        assert message in err and "retrain" not in err and "at at" not in err


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


@pytest.mark.slow
def test_quick_evaluate_leads_with_the_seed_and_the_untouched_sets(small_store, tmp_path):
    corpus, labels = small_store
    out = tmp_path / "reports"
    heldout = Path(__file__).resolve().parents[1] / "annotations" / "heldout"
    argv = ["evaluate", "--data", str(labels), "--corpus", str(corpus), "--folds", "3", "--quick", "--out", str(out),
            "--heldout", str(heldout)]
    assert main(argv) == 0
    result = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    assert list(result["comparison"]) == ["logreg"] and result["context_ablation"] == {} and result["learning_curve"] == []
    assert set(result["untouched"]) == {"heldout"}
    report = (out / "evaluation.md").read_text(encoding="utf-8")
    assert report.index("## Real text first") < report.index("## Model comparison")
    assert "| untouched written set" in report and not (out / "learning_curve.png").exists()


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


def test_tag_reads_utf16_with_a_byte_order_mark_as_utf8(tmp_path, capsys, monkeypatch):
    text = (ROOT / "examples" / "sample_report.txt").read_text(encoding="utf-8")
    data = {"utf8": text.encode("utf-8"), "le": b"\xff\xfe" + text.encode("utf-16-le"),
            "be": b"\xfe\xff" + text.encode("utf-16-be")}
    out = {}
    for name, raw in data.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "r.txt").write_bytes(raw)
        monkeypatch.chdir(tmp_path / name)
        assert main(["tag", "r.txt", "--format", "md"]) == 0
        out[name] = capsys.readouterr().out
    assert out["le"] == out["utf8"] == out["be"] and "## " in out["le"]


def test_bad_output_and_model_are_one_line_errors_and_leave_nothing(tmp_path, one_line_error):
    sample = str(ROOT / "examples" / "sample_report.txt")
    assert main(["tag", sample, "--output", str(tmp_path / "no" / "x.md")]) == 2
    assert "does not exist" in one_line_error()
    assert main(["tag", sample, "--output", str(tmp_path)]) == 2
    assert "is a folder" in one_line_error()
    assert main(["tag", sample, "--model", str(tmp_path / "m.npz")]) == 2
    assert "model file not found" in one_line_error()
    assert list(tmp_path.iterdir()) == []


def test_tag_html_is_one_page_naming_each_source(tmp_path, capsys):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    sample = (ROOT / "examples" / "sample_report.txt").read_text(encoding="utf-8")
    a.write_text(sample, encoding="utf-8")
    b.write_text(sample.replace(",", "，"), encoding="utf-8")
    out = tmp_path / "tagged.html"
    assert main(["tag", str(a), str(b), "--format", "html", "--output", str(out)]) == 0
    assert "tagged " in capsys.readouterr().err
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>\n") and page.count("<html") == 1
    assert page.count('<article class="report"') == 2 and f"来源 {a}" in page and f"来源 {b}" in page
    assert "年内完成了院工会委员会换届选举，新发展会员45人，会员入会率达到98%。" in page
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt", "tagged.html"]


def test_tag_html_bad_input_writes_nothing(tmp_path, one_line_error):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    out = tmp_path / "tagged.html"
    assert main(["tag", str(ROOT / "examples" / "sample_report.txt"), str(empty), "--format", "html", "--output", str(out)]) == 2
    assert f"{empty}: file is empty" in one_line_error()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.txt"]


def test_rollback_puts_back_the_model_a_retrain_replaced(ls_model, tmp_path, capsys, one_line_error):
    import shutil

    from toolkit.model import load_model, model_files, previous_path, replace_model

    out = tmp_path / "models" / ls_model.name
    assert main(["rollback", "--model", str(out)]) == 2
    assert "no earlier model kept" in one_line_error()
    out.parent.mkdir(exist_ok=True)
    for f in model_files(ls_model):
        shutil.copy(f, out.with_name(f.name))
    first = load_model(out)
    second = load_model(out)
    second.card = {**second.card, "model_version": "retrained"}
    replace_model(second, out)
    assert main(["rollback", "--model", str(out)]) == 0
    assert "earlier model again" in capsys.readouterr().err
    assert load_model(out).version == first.version and load_model(previous_path(out)).version == "retrained"


def test_weak_label_never_writes_into_the_store(small_store, one_line_error):
    corpus, labels = small_store
    before = labels.read_bytes()
    assert main(["weak-label", str(corpus), "--data", str(labels), "--out", str(labels)]) == 2
    assert "names a file this command reads" in one_line_error()
    assert main(["weak-label", str(corpus), "--data", str(labels), "--out", str(labels.with_name("history.jsonl"))]) == 2
    assert "names the history of an annotation store" in one_line_error()
    assert labels.read_bytes() == before and not labels.with_name("history.jsonl").exists()


@pytest.mark.parametrize("argv", [
    ["tag", "{report}", "--output", "{store}"],
    ["tag", "{report}", "--output", "{report}"],
    ["tag", "--sentences", "{report}", "--output", "{corpus}"],
    ["audit", "--out", "{store}"],
    ["suggest", "{report}", "--out", "{history}"],
    ["ls", "export-tasks", "{report}", "--out", "{corpus}"],
    ["agreement", "{export}", "--out", "{export}"],
    ["ls", "pull", "--save-export", "{store}"],
    ["ls", "pull", "--data", "{export}", "--save-export", "{export}"],
])
def test_an_output_never_replaces_what_the_command_reads_or_a_project_file(argv, tmp_path, monkeypatch, one_line_error):
    files = {"store": tmp_path / "annotations" / "labels.jsonl", "history": tmp_path / "annotations" / "history.jsonl",
             "corpus": tmp_path / "annotations" / "corpus" / "reports.txt", "report": tmp_path / "r.txt",
             "export": tmp_path / "export.json"}
    files["corpus"].parent.mkdir(parents=True)
    for name, path in files.items():
        path.write_text("一、加强组织建设。新发展会员45人。\n" if path.suffix == ".txt" else "[]\n", encoding="utf-8")
    before = {name: path.read_bytes() for name, path in files.items()}
    monkeypatch.chdir(tmp_path)
    assert main([str(files[a[1:-1]]) if a[1:-1] in files else a for a in argv]) == 2
    assert "write elsewhere" in one_line_error()
    assert {name: path.read_bytes() for name, path in files.items()} == before


# --- every subcommand with bad arguments ------------------------------------------------------

INPUTS = {"paths", "export", "data", "labels", "model", "config", "corpus", "test_corpus", "test_data", "segmentation",
          "heldout", "excerpts", "realdev"}
"""Destinations of arguments that name files or folders to read."""
RANGED = ("--min-confidence", "--jobs", "--n", "--top", "--folds", "--seed")


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    """``(argv prefix, parser)`` of every command and subcommand, found in the parser itself."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*prefix, name), sub
                yield from _commands(sub, (*prefix, name))


COMMANDS = list(_commands(build_parser()))
MISSING, FOLDER, NO_FOLDER, FILE = "{missing}", "{folder}", "{no-folder}", "{file}"


def _bad_arguments():
    """Bad argument lists for every command: an unknown option; for every numeric option, a value
    that is not a number and values outside its range; every file to read missing at once; every
    file to write in a missing folder, or naming a folder."""
    for prefix, parser in COMMANDS:
        yield [*prefix, "--no-such-option"]
        inputs: list[str] = []
        for action in parser._actions:
            flag = action.option_strings[0] if action.option_strings else None
            if action.type in (int, float) or hasattr(action.type, "low"):
                yield [*prefix, flag, "many"]
                yield [*prefix, flag, "nan"]
                low, high = getattr(action.type, "low", None), getattr(action.type, "high", None)
                if low is not None:
                    yield [*prefix, flag, str(low - 1)]
                if high is not None:
                    yield [*prefix, flag, str(high + 1)]
            if getattr(action.type, "__name__", "") == "_output_file":
                yield [*prefix, flag, NO_FOLDER]
                yield [*prefix, flag, FOLDER]
            if getattr(action.type, "__name__", "") == "_output_folder":
                yield [*prefix, flag, FILE]
            if action.dest in INPUTS:
                inputs += [flag, MISSING] if flag else [MISSING]
        if inputs:
            yield [*prefix, *inputs]


BAD_ARGUMENTS = list(_bad_arguments())


def test_the_walk_reaches_every_command_and_range_checks_the_counts():
    leaves = {p for p, parser in COMMANDS if not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions)}
    assert {"tag", "serve", "rollback", ("ls", "import")} <= {p[0] if len(p) == 1 else p for p in leaves}
    assert all(any(argv[:len(p)] == list(p) for argv in BAD_ARGUMENTS) for p in leaves)
    checked = [a for _, parser in COMMANDS for a in parser._actions if set(a.option_strings) & set(RANGED)]
    assert {o for a in checked for o in a.option_strings} == set(RANGED)
    assert all(hasattr(a.type, "low") and a.type.low is not None for a in checked)
    confidence = [a.type for a in checked if "--min-confidence" in a.option_strings]
    assert all((t.low, t.high) == (0.0, 1.0) for t in confidence)
    assert all(a.type.low >= 1 for a in checked if set(a.option_strings) & {"--jobs", "--n"})
    assert all((a.type.low, a.type.high) == (0, 2**32 - 1) for a in checked if "--seed" in a.option_strings)
    assert all(a.type.high is not None for a in checked if "--jobs" in a.option_strings)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("argv", BAD_ARGUMENTS, ids=" ".join)
def test_every_command_refuses_bad_arguments_in_one_line(argv, tmp_path, monkeypatch, capsys):
    """One line on stderr, exit code 2, no traceback, nothing written, no temporary file left."""
    for name in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY", "TOOLKIT_MODEL", "TOOLKIT_ML_USER", "TOOLKIT_ML_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "kept.txt").write_text("已有内容。\n", encoding="utf-8")
    before = _snapshot(tmp_path)
    places = {MISSING: str(tmp_path / "missing.txt"), FOLDER: str(tmp_path / "folder"),
              NO_FOLDER: str(tmp_path / "no" / "such" / "out.txt"), FILE: str(tmp_path / "folder" / "kept.txt")}
    assert main([places.get(a, a) for a in argv]) == 2
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith("toolkit: error: "), err
    assert "Traceback" not in out + err
    assert _snapshot(tmp_path) == before and sorted(p.name for p in tmp_path.iterdir()) == ["folder"]


@pytest.mark.parametrize("argv", [
    pytest.param(["tag", "{sample}", "--output", "/dev/full"], marks=pytest.mark.slow),
    pytest.param(["tag", "{sample}", "--format", "md", "--output", "/dev/full"], marks=pytest.mark.slow),
    ["ls", "export-tasks", "{sample}", "--weak-rules", "--out", "/dev/full"],
    ["weak-label", "{sample}", "--data", "{empty}", "--out", "/dev/full"],
])
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="/dev/full is Linux's")
def test_a_full_disk_is_one_line(argv, tmp_path, capsys):
    """Every write to /dev/full fails with ENOSPC, as on a full disk."""
    sample = str(ROOT / "examples" / "sample_report.txt")
    empty = tmp_path / "labels.jsonl"
    empty.touch()  # a store with no labels yet
    argv = [sample if a == "{sample}" else str(empty) if a == "{empty}" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("toolkit: error: /dev/full: ") and "No space left" in err, err


def test_a_full_disk_behind_stdout_is_one_line_and_exit_2():
    sample = str(ROOT / "examples" / "sample_report.txt")
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "toolkit", "segment", sample], stdout=full, stderr=subprocess.PIPE,
                              text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("toolkit: error: ") and "No space left" in done.stderr


def test_output_to_a_link_to_stdout_lands_where_stdout_goes_and_the_link_stays(tmp_path):
    sample = str(ROOT / "examples" / "sample_report.txt")
    stdout = tmp_path / "stdout"
    stdout.symlink_to("/proc/self/fd/1")
    with open(tmp_path / "x.jsonl", "w") as redirected:
        done = subprocess.run([sys.executable, "-m", "toolkit", "tag", sample, "--output", str(stdout)],
                              stdout=redirected, stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert stdout.is_symlink()
    rows = [json.loads(line) for line in (tmp_path / "x.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) > 10 and rows[0]["source"] == sample


@pytest.mark.parametrize("command", [["train", "--out", "{tmp}/models/m.npz"], ["evaluate", "--quick", "--heldout", "none",
                                                                               "--out", "{tmp}/reports"]])
def test_more_folds_than_report_groups_is_an_error_and_writes_nothing(command, small_store, tmp_path, capsys):
    corpus, labels = small_store  # seven report groups
    argv = [a.replace("{tmp}", str(tmp_path)) for a in command]
    assert main([*argv, "--data", str(labels), "--corpus", str(corpus), "--folds", "8"]) == 2
    *progress, error = capsys.readouterr().err.splitlines()
    assert error == "toolkit: error: 7 report groups cannot make 8 grouped folds; use 7 folds or fewer"
    assert not any("Traceback" in line for line in progress)
    assert not (tmp_path / "models").exists() and not (tmp_path / "reports").exists()


def test_the_dask_backend_without_dask_installed_is_one_line(monkeypatch, tmp_path, one_line_error):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # what `import dask.distributed` meets without the extra
    out = tmp_path / "out.jsonl"
    assert main(["tag", str(ROOT / "examples" / "sample_report.txt"), "--backend", "dask", "--output", str(out)]) == 2
    assert "pip install 'toolkit[dask]'" in one_line_error()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv", [["stats"], ["register"], ["weak-label"], ["suggest", "r.txt"], ["train"], ["audit"],
                                  ["evaluate", "--quick"]])
def test_a_store_named_but_missing_is_one_line_not_an_empty_store(argv, tmp_path, monkeypatch, one_line_error):
    monkeypatch.chdir(tmp_path)
    assert main([*argv, "--data", "labelz.jsonl"]) == 2
    assert one_line_error() == "toolkit: error: labelz.jsonl: no such file (--data)\n"
    assert main(["evaluate", "--test-corpus", "r.txt", "--test-data", "missing.jsonl"]) == 2
    assert one_line_error() == "toolkit: error: missing.jsonl: no such file (--test-data)\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("mode", [["--no-cv"], ["--segmentation", str(ROOT / "annotations" / "segmentation")]])
def test_evaluate_that_only_prints_refuses_out_instead_of_ignoring_it(mode, tmp_path, one_line_error):
    assert main(["evaluate", *mode, "--out", str(tmp_path / "reports")]) == 2
    assert f"evaluate {mode[0]} prints its figures and writes no reports" in one_line_error()
    assert not (tmp_path / "reports").exists()


def test_an_output_never_names_the_projects_store_history_even_before_it_exists(tmp_path, monkeypatch, one_line_error):
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "labels.jsonl").touch()
    (tmp_path / "r.txt").write_text("一、加强组织建设。新发展会员45人。\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for argv in (["weak-label", "r.txt"], ["tag", "r.txt"]):
        out_option = "--out" if argv[0] == "weak-label" else "--output"
        assert main([*argv, out_option, "annotations/history.jsonl"]) == 2
        assert "names the history of an annotation store" in one_line_error()
    assert not (tmp_path / "annotations" / "history.jsonl").exists()
