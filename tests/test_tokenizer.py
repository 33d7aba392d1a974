import pytest
import copy
import pickle

from toolkit.tokenizer import JiebaTokenizer, load_segmenter


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
    jieba_cut, rjieba_cut = load_segmenter("jieba"), load_segmenter(_backend("rjieba"))
    texts = sorted({s.text for r in corpus_reports for s in r.sentences})
    for hmm, floor in ((False, 1.0), (True, 0.99)):
        same = sum(jieba_cut(t, hmm) == rjieba_cut(t, hmm) for t in texts) / len(texts)
        assert same >= floor, (hmm, same)


@pytest.mark.slow
def test_tokenizer_backend_is_part_of_the_model(corpus_reports, gold_labels):
    from toolkit.training import fit, labelled_examples

    examples = labelled_examples(corpus_reports[:4], gold_labels)
    model = fit(examples, {"tokenizer": _backend("rjieba")})
    assert model.card["params"]["tokenizer"] == "rjieba"
    tokenizer = model.pipeline.named_steps["features"].transformer_list[0][1].named_steps["tfidf"].tokenizer
    assert pickle.loads(pickle.dumps(tokenizer)).backend == "rjieba"
    assert model.compiled.tokenizer["backend"] == "rjieba"


def test_unknown_or_missing_backend_is_a_clear_error():
    import pytest

    from toolkit.errors import ModelError

    with pytest.raises(ModelError, match="unknown tokenizer backend 'nope'"):
        JiebaTokenizer(backend="nope")("工会")


@pytest.mark.slow
def test_cached_prefix_dictionary_gives_jiebas_own(tmp_path, monkeypatch, corpus_reports):
    from toolkit.tokenizer import USER_DICT, dictionary_cache, _user_words, load_jieba

    monkeypatch.setenv("TOOLKIT_CACHE_DIR", str(tmp_path))
    fresh = load_jieba.__wrapped__(USER_DICT)
    cache = dictionary_cache(_user_words(USER_DICT))
    assert cache.parent == tmp_path and cache.exists()
    cached = load_jieba.__wrapped__(USER_DICT)
    assert cached.FREQ == fresh.FREQ and cached.total == fresh.total
    assert cached.user_word_tag_tab == fresh.user_word_tag_tab
    texts = [s.text for r in corpus_reports[:5] for s in r.sentences]
    assert [cached.lcut(t) for t in texts] == [fresh.lcut(t) for t in texts]

    cache.write_bytes(b"not marshal")
    assert load_jieba.__wrapped__(USER_DICT).lcut("召开职代会") == ["召开", "职代会"]
    assert cache.read_bytes() != b"not marshal"  # rebuilt


def test_unwritable_cache_directory_still_loads(tmp_path, monkeypatch):
    from toolkit.tokenizer import USER_DICT, load_jieba

    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("TOOLKIT_CACHE_DIR", str(blocker / "sub"))
    assert load_jieba.__wrapped__(USER_DICT).lcut("召开职代会") == ["召开", "职代会"]
