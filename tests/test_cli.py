import json
import subprocess
import sys

from toolkit.cli import main


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


def test_console_script_and_module_entry_points():
    out = subprocess.run([sys.executable, "-m", "toolkit", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("toolkit ")
    for command in ("segment",):
        help_ = subprocess.run([sys.executable, "-m", "toolkit", command, "--help"], capture_output=True, text=True)
        assert help_.returncode == 0 and "example:" in help_.stdout
