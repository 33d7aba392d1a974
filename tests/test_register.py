"""The register figures and the copy check, on small texts and on the project's training corpus."""

from __future__ import annotations

import pytest

from conftest import CORPUS_DIR, ROOT
from toolkit import store
from toolkit.cli import main
from toolkit.corpus import load_manifests, load_reports
from toolkit.register import TARGETS, by_corpus, copied_sentences, measure_corpus, register_stats
from toolkit.segment import segment_text

REPORT = ("20xx年,街道工会在党委领导下开展工作。\n"
          "一、抓组织建设,构建工会工作新平台\n"
          "积极开展建会工作,新建工会xx家,发展会员120人,同时积极开展送温暖活动,走访慰问困难职工20户,"
          "并组织开展了职工技能比武和女职工健康讲座,职工的归属感明显增强,工会在职工群众中的凝聚力和号召力进一步提升。\n"
          "积极开展职工书屋建设。")


def test_figures_of_a_small_report():
    reports = segment_text(REPORT)
    ids = [s.id for s in reports[0].sentences]
    stats = register_stats(reports, {ids[0]: "overview", ids[1]: "organization", ids[2]: "organization"}, "small")
    body = [s.text for s in reports[0].sentences if not s.is_heading]
    assert stats.body == len(body) == 3
    assert stats.mean_length == pytest.approx(sum(map(len, body)) / 3)
    assert stats.long_share == pytest.approx(1 / 3)
    assert stats.multi_topic_share == pytest.approx(1 / 3)
    assert stats.placeholder_share == pytest.approx(2 / 3)
    assert stats.repeated_opening_share == pytest.approx(2 / 3)
    assert stats.labels["organization"] == pytest.approx(2 / 3)
    assert stats.misses() == [f"mean_length {stats.mean_length:.3f} (target >= 50.0)"]
    assert stats.misses({"long_share": (">=", 0.3), "plans": (">=", 0.1)}) == ["plans 0.000 (target >= 0.1)"]


def test_copy_check_finds_a_shared_stretch_and_ignores_stock_terms():
    real = "街道工会会同企管站对未组建工会企业的运作状况进行全面分析了解。推动签订女职工权益保护专项集体合同。"
    copied = "年初我们对未组建工会企业的运作状况进行了分析。"
    fresh = "年初我们逐户摸排了辖区没有建会的企业。"
    stock = "全年推动14家企业签订女职工权益保护专项集体合同。"
    hits = copied_sentences([copied, fresh, stock], real)
    assert [text for text, _ in hits] == [copied]
    assert len(hits[0][1]) == 12


def test_the_training_corpus_reads_like_real_reports():
    """The register targets of the training corpus, and no written sentence copied from the seed."""
    reports = load_reports([CORPUS_DIR])
    labels = {k: a.label for k, a in store.load(ROOT / "annotations" / "labels.jsonl").items()}
    result = measure_corpus(reports, load_manifests([CORPUS_DIR]), labels)
    assert result.training.misses(TARGETS) == []
    assert result.columns[0].name == "seed" and result.columns[-1] is result.training
    assert len(result.columns) == len(by_corpus(reports, load_manifests([CORPUS_DIR]))) + 1
    assert result.copied == []


def test_the_copy_check_covers_every_corpus_but_the_seed_and_the_extra_reports(tmp_path, corpus_lines):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "seed.txt").write_text("\n".join(corpus_lines[:20]) + "\n", encoding="utf-8")
    (corpus / "manifest.jsonl").write_text('{"file": "seed.txt", "corpus": "seed"}\n', encoding="utf-8")
    extra = tmp_path / "extra.txt"
    copy = next(t for line in corpus_lines[1:20] for t in line.split("。") if len(t) >= 30) + "。"
    extra.write_text(f"一、组织建设\n{copy}\n新建分会3个,发展会员45人。\n", encoding="utf-8")
    result = measure_corpus(load_reports([corpus]), load_manifests([corpus]), {}, {"extra": load_reports([extra])})
    assert [c.name for c in result.columns] == ["seed", "training corpus", "extra"]
    assert [text for text, _ in result.copied] == [copy]  # the seed's own sentences are not copies


def test_register_command_prints_the_table(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    code = main(["register"])
    out = capsys.readouterr().out
    assert "| mean length of non-heading sentences |" in out
    assert out.splitlines()[0].startswith("| statistic | seed |")
    assert "training corpus" in out.splitlines()[0]
    assert code == 0
