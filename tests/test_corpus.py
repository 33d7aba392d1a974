import json
from pathlib import Path

import pytest

from toolkit import store
from toolkit.cli import main
from toolkit.corpus import MANIFEST, NEW_FOLDER, add_to_corpus, load_manifests, load_reports, load_sentences, source_key
from toolkit.errors import InputError
from toolkit.training import labelled_examples

REPORTS = {
    "医院": "20xx年,医院工会在院党委领导下开展工作。\n一、院务公开\n召开职代会审议绩效方案。\n二、关爱医护\n为夜班护士送去夜宵。\n",
    "人民医院": "今年以来,人民医院工会团结职工开展工作。\n一、技能比武\n举办护理技能大赛。\n二、女职工\n开展两癌筛查。\n",
    "煤矿": "20xx年,煤矿工会在矿党委领导下开展工作。\n一、安康杯竞赛\n查处井下隐患120条。\n二、送清凉\n向井下职工发放防暑用品。\n",
    "街道": "20xx年,街道总工会在街道党工委领导下开展工作。\n一、非公企业建会\n新建工会15家。\n二、驿站\n建成户外劳动者驿站3个。\n",
}


def _project(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    rows = [("a.txt", "医院", "hospital"), ("b.txt", "人民医院", "hospital"), ("c.txt", "煤矿", "mine")]
    for name, unit, _ in rows:
        (folder / name).write_text(REPORTS[unit], encoding="utf-8")
    (folder / "seed.txt").write_text(REPORTS["街道"], encoding="utf-8")
    (folder / "manifest.jsonl").write_text("".join(json.dumps({"file": n, "corpus": "written", "unit_kind": k}) + "\n"
                                                   for n, _, k in rows), encoding="utf-8")
    return folder


def test_manifests_describe_their_files(tmp_path):
    folder = _project(tmp_path)
    meta = load_manifests([folder])
    assert meta[source_key(folder / "a.txt")]["unit_kind"] == "hospital"
    assert source_key(folder / "seed.txt") not in meta


def test_reports_of_one_unit_kind_share_a_split_group(tmp_path):
    folder = _project(tmp_path)
    reports = load_reports([folder])
    labels = {s.id: "organization" for r in reports for s in r.sentences}
    examples = labelled_examples(reports, labels, load_manifests([folder]))
    by_file = {}
    for record, group, corpus in zip(examples.records, examples.groups, examples.corpora):
        by_file.setdefault(corpus, set()).add(group)
    assert by_file["written"] == {"kind:hospital", "kind:mine"}
    assert len(by_file[""]) == 1 and not next(iter(by_file[""])).startswith("kind:")


def test_a_malformed_manifest_is_a_one_line_error(tmp_path):
    folder = _project(tmp_path)
    (folder / "manifest.jsonl").write_text('{"file": "a.txt"}\nnot json\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"manifest\.jsonl:2: not a JSON object"):
        load_manifests([folder])
    (folder / "manifest.jsonl").write_text('{"name": "a.txt"}\n', encoding="utf-8")
    with pytest.raises(InputError, match="needs a \"file\""):
        load_manifests([folder])


# --- new reports join the corpus ----------------------------------------------------------------


BATCH = Path(__file__).parent / "data" / "loop" / "batch1"
"""Three short reports written for the tests, one a file."""


def _manifest(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / NEW_FOLDER / MANIFEST).read_text(encoding="utf-8").splitlines()]


def test_new_reports_are_copied_in_once(tmp_path):
    folder = _project(tmp_path)
    added = add_to_corpus([BATCH], folder)
    names = sorted(p.name for p in BATCH.glob("*.txt"))
    assert [Path(a.copied_to).name for a in added] == names
    assert all((folder / NEW_FOLDER / n).read_bytes() == (BATCH / n).read_bytes() for n in names)
    entries = _manifest(folder)
    assert [e["file"] for e in entries] == names and {e["corpus"] for e in entries} == {"new"}
    assert load_manifests([folder])[source_key(folder / NEW_FOLDER / names[0])]["corpus"] == "new"
    assert {s.id for s in load_sentences([BATCH])} <= {s.id for s in load_sentences([folder])}

    again = add_to_corpus([BATCH], folder)
    assert [a.copied_to for a in again] == ["", "", ""] and "already in the corpus, not copied" in again[0].line()
    renamed = tmp_path / "copy-of-a-report.txt"
    renamed.write_bytes((BATCH / names[0]).read_bytes())
    assert add_to_corpus([renamed, folder], folder)[0].copied_to == ""
    assert len(_manifest(folder)) == 3


def test_same_name_other_text_gets_a_new_name(tmp_path):
    folder = _project(tmp_path)
    add_to_corpus([BATCH / "yiyuan.txt"], folder)
    other = tmp_path / "elsewhere" / "yiyuan.txt"
    other.parent.mkdir()
    other.write_text(REPORTS["煤矿"].replace("煤矿", "二号煤矿"), encoding="utf-8")
    (added,) = add_to_corpus([other], folder)
    assert Path(added.copied_to).name == "yiyuan-2.txt" and added.known == 0
    assert [e["file"] for e in _manifest(folder)] == ["yiyuan.txt", "yiyuan-2.txt"]


def test_a_bad_file_among_new_reports_writes_nothing(tmp_path):
    folder = _project(tmp_path)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty.txt"):
        add_to_corpus([BATCH, empty], folder)
    assert not (folder / NEW_FOLDER).exists()
    with pytest.raises(InputError, match="stdin"):
        add_to_corpus(["-"], folder)


def _push_copy(args: tuple[str, str]) -> int:
    return sum(bool(a.copied_to) for a in add_to_corpus([args[0]], args[1]))


def test_concurrent_pushes_copy_each_report_once(tmp_path):
    import multiprocessing

    folder = _project(tmp_path)
    with multiprocessing.get_context("fork").Pool(4) as pool:
        copied = pool.map(_push_copy, [(str(BATCH), str(folder))] * 4)
    assert sum(copied) == 3
    assert sorted(e["file"] for e in _manifest(folder)) == sorted(p.name for p in BATCH.glob("*.txt"))
    assert sorted(p.name for p in (folder / NEW_FOLDER).glob("*.txt")) == sorted(p.name for p in BATCH.glob("*.txt"))
    assert not list((folder / NEW_FOLDER).glob(".*.tmp"))


def test_a_label_of_a_missing_report_says_how_to_add_it(tmp_path, monkeypatch, capsys, one_line_error):
    """In a project laid out as the repository (cwd), labels of pushed reports work with no flag."""
    folder = tmp_path / "annotations" / "corpus"
    folder.parent.mkdir()
    _project(tmp_path).rename(folder)
    sentence = next(s for s in load_sentences([BATCH / "jiedao.txt"]) if not s.is_heading)
    store.save(folder.parent / "labels.jsonl", {sentence.id: store.Annotation(sentence.id, sentence.text, "rights", "manual")})
    monkeypatch.chdir(tmp_path)
    assert main(["stats"]) == 2
    err = one_line_error()
    assert f"labels.jsonl:1: id {sentence.id} is not a sentence of the corpus" in err
    assert sentence.text[:20] in err and "'toolkit ls push REPORT.txt'" in err and "annotations/corpus/new/" in err
    one_file = tmp_path / "one.txt"
    one_file.write_text("一、加强组织建设。新发展会员45人。\n", encoding="utf-8")
    assert main(["stats", "--corpus", str(one_file)]) == 2  # a corpus file has no folder to push into
    err = one_line_error()
    assert "ls push" not in err and f"it is in no report of {one_file}: add the report file that holds it by listing it after --corpus" in err
    add_to_corpus([BATCH / "jiedao.txt"], "annotations/corpus")
    assert main(["stats"]) == 0
    assert "rights" in capsys.readouterr().out
