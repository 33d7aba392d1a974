import copy
import pickle

import numpy as np
from sklearn.base import clone

from toolkit.features import CONTEXT_BLOCKS, JiebaTokenizer, build_features, sentence_records
from toolkit.segment import segment_text

TEXT = "20xx年,公司工会在公司党委的领导下开展工作。\n一、推进厂务公开\n召开了职代会。审议通过了集体合同。\n"


def test_tokenizer_uses_the_union_dictionary_and_drops_punctuation():
    assert JiebaTokenizer()("工会积极开展安康杯竞赛和送温暖活动,召开职代会。") == [
        "工会", "积极开展", "安康杯", "竞赛", "和", "送温暖", "活动", "召开", "职代会"]


def test_tokenizer_never_touches_the_shared_jieba_dictionary():
    import jieba

    assert "工人先锋号" in JiebaTokenizer()("创建工人先锋号")
    assert "工人先锋号" not in jieba.lcut("创建工人先锋号")


def test_tokenizer_pickles_without_its_jieba_instance_and_clones_share_memo():
    tok = JiebaTokenizer()
    tok("工会")
    blob = pickle.dumps(tok)
    assert len(blob) < 500
    assert pickle.loads(blob)("送温暖活动") == ["送温暖", "活动"]
    assert copy.deepcopy(tok) is tok


def test_records_carry_context():
    report = segment_text(TEXT)[0]
    records = sentence_records(report)
    last = records[-1]
    assert last["heading"] == "一、推进厂务公开" and last["prev"] == "召开了职代会。" and last["next"] == ""
    assert last["last_paragraph"] and not last["first_paragraph"] and records[0]["first_paragraph"]
    assert records[0]["position"] == 0.0 and last["position"] == 1.0


def test_feature_union_pickles_and_reproduces(corpus_reports):
    from toolkit.features import records_of

    records = records_of(corpus_reports[:2])
    features = build_features(context=CONTEXT_BLOCKS)
    X = features.fit_transform(records)
    again = pickle.loads(pickle.dumps(features)).transform(records)
    assert X.shape == again.shape and np.allclose(X.toarray(), again.toarray())
    assert clone(features).fit_transform(records).shape == X.shape


def test_context_blocks_add_columns(corpus_reports):
    from toolkit.features import records_of

    records = records_of(corpus_reports[:2])
    widths = [build_features(context=ctx).fit_transform(records).shape[1] for ctx in ([], ["heading"], list(CONTEXT_BLOCKS))]
    assert widths[0] < widths[1] < widths[2]
    assert np.isfinite(build_features().fit_transform(records).data).all()


def _backend(name: str) -> str:
    """In CI the fast extra is installed and these tests must run; elsewhere they may skip."""
    import importlib
    import os

    import pytest

    if os.environ.get("CI") == "true":
        importlib.import_module(name)
    else:
        pytest.importorskip(name, reason=f"pip install -e '.[fast]' to compare {name} with jieba")
    return name


def test_rjieba_token_parity_on_the_corpus(corpus_reports):
    from toolkit.features import load_segmenter

    jieba_cut, rjieba_cut = load_segmenter("jieba"), load_segmenter(_backend("rjieba"))
    texts = sorted({s.text for r in corpus_reports for s in r.sentences})
    for hmm, floor in ((False, 1.0), (True, 0.99)):
        same = sum(jieba_cut(t, hmm) == rjieba_cut(t, hmm) for t in texts) / len(texts)
        assert same >= floor, (hmm, same)


def test_tokenizer_backend_is_part_of_the_model(corpus_reports, gold_labels):
    from toolkit.training import fit, labelled_examples

    examples = labelled_examples(corpus_reports[:4], gold_labels)
    model = fit(examples, {"tokenizer": _backend("rjieba")})
    assert model.card["params"]["tokenizer"] == "rjieba"
    tokenizer = model.pipeline.named_steps["features"].transformer_list[0][1].named_steps["tfidf"].tokenizer
    assert pickle.loads(pickle.dumps(tokenizer)).backend == "rjieba"


def test_unknown_or_missing_backend_is_a_clear_error():
    import pytest

    from toolkit.errors import ModelError

    with pytest.raises(ModelError, match="unknown tokenizer backend 'nope'"):
        JiebaTokenizer(backend="nope")("工会")


PARTS_REPORT = """20xx年,在上级工会的正确领导下,我单位工会紧紧围绕中心工作,现将工作总结如下:
一、加强组织建设
全年新发展会员50人,完成工会换届选举。
二、开展文体活动
举办职工运动会,丰富了职工生活。
三、积极参与慈善事业
组织职工为灾区捐款2万元。
四、今后的工作打算
1、继续推进工会组建。
2、举办职工篮球比赛。
总之,一年来工会工作取得了一定的成绩,我们将再创佳绩。
"""


def test_records_know_the_part_that_decides_their_label():
    records = {r["text"]: r["part"] for r in sentence_records(segment_text(PARTS_REPORT)[0])}
    assert records["20xx年,在上级工会的正确领导下,我单位工会紧紧围绕中心工作,现将工作总结如下:"] == "overview"
    assert records["全年新发展会员50人,完成工会换届选举。"] == ""
    assert records["举办职工运动会,丰富了职工生活。"] == ""
    assert records["组织职工为灾区捐款2万元。"] == "other"
    assert records["2、举办职工篮球比赛。"] == "plans"
    assert records["总之,一年来工会工作取得了一定的成绩,我们将再创佳绩。"] == "plans"


def test_closing_paragraph_after_the_last_section_is_closing():
    text = PARTS_REPORT.replace("四、今后的工作打算\n1、继续推进工会组建。\n2、举办职工篮球比赛。\n", "")
    records = {r["text"]: r["part"] for r in sentence_records(segment_text(text)[0])}
    assert records["总之,一年来工会工作取得了一定的成绩,我们将再创佳绩。"] == "closing"
    assert records["组织职工为灾区捐款2万元。"] == "other"
