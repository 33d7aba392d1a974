"""Tagging runs (:mod:`toolkit.tagging`, ``toolkit tag``): files, sources, outputs replaced whole, signals."""

import csv
import html
import io
import json
import re

import pytest
from test_formats import _Page
from test_tags import SAMPLE, WRITTEN, _check_as_written

from toolkit.formats import LOW_MARK
from toolkit.model import load_model
from toolkit.tagging import default_model_path


def test_sentences_alone_are_tagged_by_their_text(capsys, tmp_path):
    from toolkit.cli import main
    from toolkit.tagging import tag_sentences

    model = load_model(default_model_path())
    lines = ["组织职工参加“安康杯”知识竞赛，开展隐患排查。", "", "\u3000三八节期间组织女职工开展健康讲座。 "]
    tagged = tag_sentences(model, lines, source="list.txt")
    assert [t.index for t in tagged] == [0, 2] and [t.label for t in tagged] == ["safety", "women"]
    assert all(t.heading == "" and t.low_confidence == (t.confidence < model.alone_min_confidence) for t in tagged)
    path = tmp_path / "list.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["tag", "--sentences", str(path)]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["label"] for r in out] == ["safety", "women"]
    assert [r["text"] for r in out] == [t.text for t in tagged] == ["组织职工参加“安康杯”知识竞赛，开展隐患排查。",
                                                                   "三八节期间组织女职工开展健康讲座。"]


def test_every_record_names_its_source_file(tmp_path, capsys):
    from toolkit.cli import main

    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(SAMPLE, encoding="utf-8")
    b.write_text(SAMPLE.replace("县医院", "县中学"), encoding="utf-8")
    assert main(["tag", str(a), str(b)]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["source"] for r in records} == {str(a), str(b)}
    assert [r["source"] for r in records] == sorted(r["source"] for r in records)  # in input order


# --- outputs made for people who read them ---------------------------------------------------


def _cli_output(tmp_path, paths, fmt: str, capsys) -> str:
    from toolkit.cli import main

    out = tmp_path / f"out.{fmt}"
    assert main(["tag", *map(str, paths), "--format", fmt, "--output", str(out)]) == 0
    capsys.readouterr()
    return out.read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "md", "html"])
def test_every_format_shows_the_text_as_written(tmp_path, capsys, fmt):
    source = tmp_path / "written.txt"
    source.write_bytes(WRITTEN.encode("gb18030"))
    text = _cli_output(tmp_path, [source], fmt, capsys)
    if fmt == "jsonl":
        texts = [json.loads(line)["text"] for line in text.splitlines()]
    elif fmt == "json":
        texts = [t["text"] for report in json.loads(text)["reports"] for t in report["sentences"]]
    elif fmt == "csv":
        texts = [row["text"] for row in csv.DictReader(io.StringIO(text))]
    elif fmt == "md":
        from markdown_it import MarkdownIt

        page = _Page.parse(MarkdownIt("commonmark").render(text))
        texts = [html.unescape(re.sub(r"<code>.*?</code>", "", item)).strip().removeprefix(LOW_MARK).strip() for item in page.items]
        texts = sorted(texts, key=WRITTEN.index)
    else:
        texts = [span["text"] for span in _Page.parse(text).sentences if span["view"] == "as-written"]
    _check_as_written(texts, WRITTEN.replace("\r\n", "\n"))


def test_the_same_report_in_two_files_gets_two_ids(tmp_path, capsys):
    from toolkit.cli import main
    from toolkit.corpus import load_reports

    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(SAMPLE, encoding="utf-8")
    b.write_text(SAMPLE, encoding="utf-8")
    assert main(["tag", str(a), str(b)]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    ids = {r["source"]: r["report"] for r in records}
    assert len(set(ids.values())) == 2 and ids[str(b)] == ids[str(a)] + "-2"
    assert [r.id for r in load_reports([a, b])] == [ids[str(a)], ids[str(b)]]


def test_tag_files_replaces_the_output_whole_and_says_what_it_tagged(tmp_path):
    from toolkit.tagging import tag_files

    source = tmp_path / "in" / "report.txt"
    source.parent.mkdir()
    source.write_text(SAMPLE, encoding="utf-8")
    out = tmp_path / "out" / "tagged.jsonl"
    out.parent.mkdir()
    out.write_text("old\n", encoding="utf-8")
    stdout = io.StringIO()
    seen = []
    run = tag_files([source], stdout, output=out, progress=lambda reports, sentences: seen.append((reports, sentences)))
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert stdout.getvalue() == "" and [p.name for p in out.parent.iterdir()] == ["tagged.jsonl"]
    assert run.reports == 1 and run.sentences == len(records) == 7 and seen[-1] == (1, 7)
    assert run.model == default_model_path().name and run.model_version
    assert run.summary() == f"tagged 7 sentences in 1 report with {run.model} ({run.model_version})"


def test_tag_files_refuses_a_missing_model_and_writes_nothing(tmp_path):
    from toolkit.errors import ToolkitError
    from toolkit.tagging import tag_files

    out = tmp_path / "tagged.jsonl"
    with pytest.raises(ToolkitError, match="model file not found"):
        tag_files(["-"], io.StringIO(), model_path=tmp_path / "missing.npz", output=out)
    assert list(tmp_path.iterdir()) == []


def test_tag_files_takes_a_model_from_any_folder_without_a_warning(tmp_path):
    """A model file is a NumPy archive that cannot run code, so one outside models/ is not warned about."""
    import shutil
    import warnings

    from toolkit.tagging import tag_files

    model = tmp_path / "elsewhere" / "copy.npz"
    model.parent.mkdir()
    shutil.copy(default_model_path(), model)
    shutil.copy(default_model_path().with_suffix(".json"), model.with_suffix(".json"))
    source = tmp_path / "report.txt"
    source.write_text(SAMPLE, encoding="utf-8")
    out = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = tag_files([source], out, model_path=model)
    assert run.model == "copy.npz" and run.sentences > 0 and out.getvalue().count("\n") == run.sentences


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_sigterm_stops_a_run_like_ctrl_c_and_leaves_no_temporary_file(tmp_path, corpus_path, jobs):
    import signal
    import subprocess
    import sys
    import time

    text = corpus_path.read_text(encoding="utf-8")
    big = tmp_path / "big.txt"
    big.write_text("".join(text.replace("。", f"{i}。") for i in range(40)), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    run = subprocess.Popen([sys.executable, "-m", "toolkit", "tag", str(big), "--output", str(out), "--jobs", jobs],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".out.jsonl.*.tmp")) and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run.poll() is None, "the run ended before it could be stopped: give it more input"
    run.send_signal(signal.SIGTERM)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 143 and err.strip().splitlines()[-1] == "toolkit: terminated"
    assert not list(tmp_path.glob(".out.jsonl.*")) and not out.exists()
