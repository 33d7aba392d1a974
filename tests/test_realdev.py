"""The sets of real pages: hashes, the kept-out lists, matching rows to fetched pages, scoring."""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from conftest import ROOT
from toolkit import load_model
from toolkit.cli import main
from toolkit.errors import InputError
from toolkit.realdev import (ROW_FIELDS, excluded_reason, match_rows, page_sentences, read_excerpts, read_rows,
                             score_pages, sentence_sha, url_sha)

PAGE = ("某某公司工会2023年工作总结\n"
        "一年来,公司工会在党委领导下开展了大量工作。\n"
        "一、组织建设\n"
        "新发展会员45人,组建分会3个。\n"
        "二、帮扶工作\n"
        "春节期间走访慰问困难职工20户,发放慰问金2万元。")
URL = "http://example.org/report-1.html"


def _rows(page: str = PAGE, url: str = URL) -> list[dict]:
    labels = ["overview", "overview", "organization", "organization", "assistance", "assistance"]
    return [{"url": url, "query": "工会工作总结", "rank": 1, "idx": s.idx, "sha": s.sha, "chars": s.chars, "label": lab}
            for s, lab in zip(page_sentences(page), labels)]


def test_sentence_hash_ignores_whitespace_and_is_sha1_prefix():
    assert sentence_sha("新发展 会员\t45人。") == hashlib.sha1("新发展会员45人。".encode()).hexdigest()[:16]
    assert url_sha(URL) == hashlib.sha1(URL.encode()).hexdigest()


def test_page_sentences_in_reading_order():
    sents = page_sentences(PAGE)
    assert [s.idx for s in sents] == list(range(6))
    assert sents[2].is_heading and sents[3].heading == "一、组织建设"


def test_kept_out_pages_and_their_copies_are_refused():
    shas = {s.sha for s in page_sentences(PAGE) if s.chars >= 12}
    assert excluded_reason(URL, PAGE, set(), set()) == ""
    assert "URL" in excluded_reason(URL, PAGE, {url_sha(URL)}, set())
    assert "copy" in excluded_reason("http://other.example/x", PAGE, set(), shas)
    assert excluded_reason("http://other.example/x", PAGE, set(), set(list(shas)[:1])) == ""


def test_rows_match_moved_sentences_and_report_changed_pages():
    rows = _rows()
    matched, problems = match_rows(rows, {URL: PAGE})
    assert len(matched) == 6 and problems == []
    moved, problems = match_rows(rows, {URL: "首页 > 工作总结\n" + PAGE})
    assert len(moved) == 6 and problems == []
    changed, problems = match_rows(rows, {URL: PAGE.replace("45人", "46人")})
    assert len(changed) == 5 and problems == [f"{URL}: sentence 3 ({rows[3]['sha']}) not found: the page changed"]
    _, problems = match_rows(rows, {})
    assert problems[0] == f"{URL}: page not in the excerpts file"


def test_score_pages_scores_in_context_and_alone():
    result = score_pages(load_model(), _rows(), {URL: PAGE})
    assert result["pages"] == 1 and result["sentences"] == 6
    assert result["gold"][3] == "organization"
    for key in ("in_context", "alone"):
        assert 0.5 <= result[key]["accuracy"] <= 1.0
        assert result[key]["share_at_0.9"] <= 1.0
        assert result[key]["accuracy_interval"] is None  # one page: nothing to resample


def test_score_pages_gives_page_resampled_intervals():
    second = URL + "?p=2"
    rows = _rows() + [{**r, "url": second} for r in _rows()]
    result = score_pages(load_model(), rows, {URL: PAGE, second: PAGE})
    figures = result["in_context"]
    assert result["pages"] == 2
    assert figures["accuracy_interval"] == [figures["accuracy"], figures["accuracy"]]  # the two pages are alike


def test_evaluate_command_on_excerpts(tmp_path, capsys):
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _rows()), encoding="utf-8")
    excerpts = tmp_path / "excerpts.json"
    excerpts.write_text(json.dumps({URL: PAGE}, ensure_ascii=False), encoding="utf-8")
    assert main(["evaluate", "--no-cv", "--heldout", "none", "--realdev", str(rows), "--excerpts", str(excerpts)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("## Real text first")
    row = next(line for line in out.splitlines() if line.startswith("| real development set (1 pages"))
    assert row.split(" | ")[1] == "6"


def test_evaluate_scores_each_real_page_set_its_excerpts_hold(tmp_path, capsys, one_line_error):
    other = "http://example.org/report-2.html"
    for name, url in (("realdev", URL), ("realtest", other)):
        folder = tmp_path / "annotations" / name
        folder.mkdir(parents=True)
        (folder / "rows.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _rows(url=url)),
                                           encoding="utf-8")
    dev, test = tmp_path / "dev.json", tmp_path / "test.json"
    dev.write_text(json.dumps({URL: PAGE}, ensure_ascii=False), encoding="utf-8")
    test.write_text(json.dumps({other: PAGE}, ensure_ascii=False), encoding="utf-8")
    base = ["evaluate", "--no-cv", "--heldout", "none", "--project", str(tmp_path), "--excerpts"]
    assert main([*base, str(dev), str(test)]) == 0
    captured = capsys.readouterr()
    rows = [line for line in captured.out.splitlines() if line.startswith("| ") and "pages, hash-only" in line]
    assert [r.split(" (")[0] for r in rows] == ["| real development set", "| untouched real pages"]
    assert main([*base, str(test)]) == 0
    captured = capsys.readouterr()
    assert "untouched real pages" in captured.out and "real development set" not in captured.out
    assert "realdev/rows.jsonl: none of its pages is in" in captured.err
    empty = tmp_path / "empty.json"
    empty.write_text("{}", encoding="utf-8")
    assert main([*base, str(empty)]) == 2
    assert "holds no page of the project's real page sets" in one_line_error()


def test_evaluate_command_with_bad_excerpts_is_one_line(tmp_path, one_line_error):
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps(_rows()[0]) + "\n", encoding="utf-8")
    bad = tmp_path / "excerpts.json"
    bad.write_text('["not", "an", "object"]', encoding="utf-8")
    assert main(["evaluate", "--no-cv", "--heldout", "none", "--realdev", str(rows), "--excerpts", str(bad)]) == 2
    assert "expected a JSON object" in one_line_error()
    assert main(["evaluate", "--no-cv", "--heldout", "none", "--realdev", str(rows)]) == 2  # nothing to score it on
    assert f"{rows}: --realdev scores pages fetched into --excerpts FILE" in one_line_error()
    good = tmp_path / "good.json"
    good.write_text(json.dumps({_rows()[0]["url"]: "一、加强组织建设。"}), encoding="utf-8")
    rows.write_text("\n", encoding="utf-8")
    assert main(["evaluate", "--no-cv", "--heldout", "none", "--realdev", str(rows), "--excerpts", str(good)]) == 2
    assert f"{rows}: holds no rows" in one_line_error()


@pytest.mark.parametrize("name", ["realdev", "realtest"])
def test_the_real_page_sets_hold_hashes_and_labels_only(name):
    """The rows of annotations/realdev and annotations/realtest: no text, every field, enough pages
    and sentences, no kept-out page, and no page in both."""
    path = ROOT / "annotations" / name / "rows.jsonl"
    rows = read_rows(path)
    other = read_rows(ROOT / "annotations" / ({"realdev": "realtest", "realtest": "realdev"}[name]) / "rows.jsonl")
    assert not {r["url"] for r in rows} & {r["url"] for r in other}
    theirs = {r["sha"] for r in other if r["chars"] >= 12}
    for url in {r["url"] for r in rows}:  # no page is a copy of a page of the other set
        assert sum(r["sha"] in theirs for r in rows if r["url"] == url and r["chars"] >= 12) < 2
    assert all(set(r) == set(ROW_FIELDS) for r in rows)
    assert all(len(r["sha"]) == 16 and int(r["sha"], 16) >= 0 for r in rows)
    assert len({r["url"] for r in rows}) >= 30 and len(rows) >= 400
    kept_out = (ROOT.parent / "shared" / "holdout" / "excluded-pages.txt")
    if kept_out.is_file():
        listed = {line.strip() for line in kept_out.read_text(encoding="utf-8").splitlines() if not line.startswith("#")}
        assert not {url_sha(r["url"]) for r in rows} & listed


@pytest.mark.parametrize("content, message", [
    (b'{"http://x": "page"', "not valid JSON (Expecting ',' delimiter at line 1 column 20)"),
    ("\u4e2d\u6587".encode("gbk"), "not UTF-8 text"),
    (b'["a list"]', "expected a JSON object {url: excerpt text}"),
])
def test_bad_excerpts_files_are_one_line_errors_naming_the_file(tmp_path, content, message):
    path = tmp_path / "excerpts.json"
    path.write_bytes(content)
    with pytest.raises(InputError) as raised:
        read_excerpts(path)
    assert str(raised.value) == f"{path}: {message}"


def test_bad_rows_are_one_line_errors_naming_the_file_and_line(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps(_rows()[0]) + "\n" + '{"url": "http://x"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=rf"^{re.escape(str(path))}: line 2 lacks query, rank, idx, sha, chars, label$"):
        read_rows(path)
    path.write_text("[1, 2]\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 1 lacks url"):
        read_rows(path)
    with pytest.raises(InputError, match="no such file"):
        read_rows(tmp_path / "missing.jsonl")
