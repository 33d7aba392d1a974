import json
import os
from pathlib import Path

import pytest

from toolkit import store
from toolkit.errors import AnnotationError, LockError
from toolkit.store import Annotation


def _rec(id_="s000000000001", label="safety", source="manual", text="开展安康杯竞赛。"):
    return Annotation(id_, text, label, source, "ann", "2026-01-01T00:00:00+00:00")


def test_round_trip_sorted_by_id(tmp_path):
    path = tmp_path / "labels.jsonl"
    records = {r.id: r for r in (_rec("s2"), _rec("s1", "women"))}
    store.save(path, records)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(l)["id"] for l in lines] == ["s1", "s2"]
    assert store.load(path) == records


def test_the_shipped_store_validates_against_the_corpus(all_corpus_reports):
    known = {s.id for r in all_corpus_reports for s in r.sentences}
    records = store.load(Path(__file__).parents[1] / "annotations" / "labels.jsonl", known_ids=known)
    assert set(records) == known  # every distinct sentence has exactly one label
    assert {r.source for r in records.values()} == {"manual"}


@pytest.mark.parametrize(
    "line, message",
    [
        ("{not json", "not valid JSON"),
        ('["a"]', "expected a JSON object"),
        ('{"id": "s1", "text": "x", "label": "bogus", "source": "manual"}', "unknown label 'bogus'"),
        ('{"id": "s1", "text": "x", "label": "women", "source": "robot"}', "unknown source 'robot'"),
        ('{"id": "s1", "text": "x", "source": "manual"}', "missing or empty field(s) label"),
    ],
)
def test_each_validation_error_names_file_and_line(tmp_path, line, message):
    path = tmp_path / "labels.jsonl"
    path.write_text(json.dumps(_rec().to_dict(), ensure_ascii=False) + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(AnnotationError) as info:
        store.load(path)
    assert str(info.value).startswith(f"{path}:2: ") and message in str(info.value)


def test_unknown_id_and_conflicting_duplicate(tmp_path):
    path = tmp_path / "labels.jsonl"
    a, b = _rec("s1", "women"), _rec("s1", "safety")
    path.write_text("\n".join(json.dumps(r.to_dict()) for r in (a, b)) + "\n", encoding="utf-8")
    with pytest.raises(AnnotationError, match=r":2: id s1 labelled 'safety' here but 'women' on line 1"):
        store.load(path)
    path.write_text(json.dumps(a.to_dict()) + "\n", encoding="utf-8")
    with pytest.raises(AnnotationError, match=r":1: id s1 is not a sentence of the corpus"):
        store.load(path, known_ids={"s9"})


def test_identical_duplicates_are_accepted(tmp_path):
    path = tmp_path / "labels.jsonl"
    line = json.dumps(_rec().to_dict())
    path.write_text(line + "\n" + line + "\n", encoding="utf-8")
    assert len(store.load(path)) == 1


def test_interrupted_write_leaves_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "labels.jsonl"
    store.save(path, {"s1": _rec("s1")})
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        store.save(path, {"s1": _rec("s1", "women"), "s2": _rec("s2")})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["labels.jsonl"]  # no temporary file left behind


def test_merge_adds_changes_with_history_and_is_idempotent(tmp_path):
    path = tmp_path / "labels.jsonl"
    first = store.merge(path, [_rec("s1", "women"), _rec("s2", "safety")])
    assert sorted(first.added) == ["s1", "s2"] and not first.changed
    again = store.merge(path, [_rec("s1", "women")])
    assert again.unchanged == ["s1"] and not again.added and not again.changed
    changed = store.merge(path, [_rec("s1", "culture", source="label-studio")])
    assert changed.changed == [("s1", "women", "culture")]
    history = list(store.iter_history(path))
    assert history[-1]["previous"]["label"] == "women" and history[-1]["new_label"] == "culture"
    assert store.load(path)["s1"].label == "culture"


def test_merge_can_protect_manual_labels(tmp_path):
    path = tmp_path / "labels.jsonl"
    store.merge(path, [_rec("s1", "women")])
    result = store.merge(path, [_rec("s1", "culture", source="weak")], overwrite_manual=False)
    assert result.unchanged == ["s1"] and store.load(path)["s1"].label == "women"


def _import_batch(args) -> int:
    path, batch = args
    from toolkit.store import Annotation, merge

    report = merge(path, [Annotation(id=f"s{batch:02d}{i:010d}", text=f"句子{batch}-{i}。", label="plans",
                                     source="label-studio", annotator=f"a{batch}") for i in range(15)])
    relabel = merge(path, [Annotation(id=f"s9{k:011d}", text=f"原句{k}。", label="closing", source="label-studio",
                                      annotator=f"a{batch}") for k in range(batch * 3, batch * 3 + 3)])
    return len(report.added) + len(relabel.changed)


def test_concurrent_writers_lose_nothing(tmp_path):
    """Twelve importers at once, each adding 15 labels and relabelling 3 of its own: every label and
    every history record is there afterwards."""
    import multiprocessing

    from toolkit.store import Annotation, history_path, iter_history, merge

    path = tmp_path / "labels.jsonl"
    merge(path, [Annotation(id=f"s9{k:011d}", text=f"原句{k}。", label="plans", source="manual", annotator="x")
                 for k in range(36)])
    with multiprocessing.get_context("fork").Pool(12) as pool:
        done = pool.map(_import_batch, [(path, b) for b in range(12)])
    assert done == [18] * 12
    records = store.load(path)
    assert len(records) == 36 + 12 * 15
    assert sum(r.label == "closing" for r in records.values()) == 36
    assert len(list(iter_history(path))) == 36 and history_path(path).is_file()


def test_a_writer_that_cannot_get_the_lock_changes_nothing(tmp_path, monkeypatch):
    from toolkit.fileio import locked
    from toolkit.store import Annotation, merge

    path = tmp_path / "labels.jsonl"
    merge(path, [Annotation(id="s000000000001", text="一。", label="plans", source="manual")])
    before = path.read_bytes()
    monkeypatch.setenv("TOOLKIT_LOCK_TIMEOUT", "0.2")
    with locked(path):  # another writer holds it (flock locks are per open file, so this blocks merge)
        with pytest.raises(LockError, match="another writer"):
            merge(path, [Annotation(id="s000000000002", text="二。", label="plans", source="manual")])
    assert path.read_bytes() == before


def test_a_truncated_store_says_where_and_that_it_is_cut(tmp_path):
    path = tmp_path / "labels.jsonl"
    store.save(path, {r.id: r for r in (_rec("s1"), _rec("s2", "women"))})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 12])
    with pytest.raises(AnnotationError) as info:
        store.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}:2: not valid JSON (Unterminated string starting at column ")
    assert message.endswith("the file ends inside this record (truncated?)") and "\n" not in message
