import json

import pytest

from toolkit.corpus import load_manifests, load_reports, source_key
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
