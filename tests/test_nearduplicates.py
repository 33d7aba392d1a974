from itertools import combinations
from types import SimpleNamespace

from toolkit.nearduplicates import (NEAR_DUPLICATE_JACCARD, assign_groups, candidate_pairs, jaccard, minhash_signature,
                                    shingles)
from toolkit.segment import segment_text


def test_lsh_grouping_equals_exact_all_pairs(corpus_reports):
    sets = {r.id: shingles(r.text) for r in corpus_reports}
    exact = {frozenset((a, b)) for a, b in combinations(sets, 2) if jaccard(sets[a], sets[b]) >= NEAR_DUPLICATE_JACCARD}
    found = {frozenset((a.id, b.id)) for a, b in combinations(corpus_reports, 2) if a.group == b.group}
    assert found == exact and len(found) == 5


def test_grouping_scales_to_many_reports(corpus_lines):
    text = "\n".join(corpus_lines)
    copies = "\n".join(text.replace("。", f"{i}。") for i in range(20))
    reports = segment_text(copies)
    assert len(reports) == 20 * 17
    assert len({r.group for r in reports}) == 13  # every copy joins its original's group


def test_shingles_ignore_punctuation_and_spaces():
    assert shingles("职工 之家,建设。") == {"职工之家", "工之家建", "之家建设"}
    assert shingles("短") == {"短"} and jaccard(set(), set()) == 0.0


def test_similar_reports_share_a_group_named_by_their_smallest_id():
    base = "县总工会组织开展职工技能竞赛，参赛职工三百余人，评选技术能手十名，帮扶困难职工二十户。"
    reports = [SimpleNamespace(id="r2", text=base, group=""), SimpleNamespace(id="r1", text=base + "全年共慰问。", group=""),
               SimpleNamespace(id="r3", text="女职工委员会举办健康讲座，覆盖女职工五百人次。", group="")]
    assign_groups(reports)
    assert [r.group for r in reports] == ["g1", "g1", "g3"]
    signatures = [minhash_signature(shingles(r.text)) for r in reports]
    assert (0, 1) in candidate_pairs(signatures) and len(signatures[0]) == 64


def test_grouping_does_not_depend_on_the_order_of_the_input(corpus_lines):
    reports = segment_text("\n".join(corpus_lines))
    again = segment_text("\n".join(corpus_lines), group=False)
    assign_groups(list(reversed(again)))
    assert [r.group for r in again] == [r.group for r in reports]
