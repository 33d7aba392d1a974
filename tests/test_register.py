"""The register figures and the copy check, on small texts and on the project's training corpus."""

from __future__ import annotations

import pytest

from conftest import CORPUS, CORPUS_DIR, ROOT
from toolkit import store
from toolkit.cli import main
from toolkit.corpus import load_manifests, load_reports
from toolkit.register import TARGETS, by_corpus, copied_sentences, register_stats
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
    stats = register_stats(reports, labels, "training corpus")
    assert stats.misses(TARGETS) == []
    groups = by_corpus(reports, load_manifests([CORPUS_DIR]))
    assert next(iter(groups)) == "seed"
    written = [s.text for name, rs in groups.items() if name != "seed" for r in rs for s in r.sentences]
    assert copied_sentences(written, CORPUS.read_text(encoding="utf-8")) == []


def test_register_command_prints_the_table(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    code = main(["register"])
    out = capsys.readouterr().out
    assert "| mean length of non-heading sentences |" in out
    assert out.splitlines()[0].startswith("| statistic | seed |")
    assert "training corpus" in out.splitlines()[0]
    assert code == 0
