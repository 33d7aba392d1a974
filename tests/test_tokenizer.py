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


_ODD_TEXTS = ["", "  ", "abc def 12.5% 工会ABC工作", "Ｕ盘和U盘", "2025年,市总工会召开十届三次全委(扩大)会议。",
              "一是…二是…", "职工之家\t建设\r\n先进", "的的的的的", "#1楼&2号-3室_4.5"]


def _texts_of(paths) -> list[str]:
    texts = set(_ODD_TEXTS)
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            texts.add(line)
            texts.update(line.replace("。", "。\n").replace(",", ",\n").split("\n"))
    return sorted(texts)


def _assert_accurate_cut_is_jieba(texts: list[str]) -> None:
    from toolkit.tokenizer import AccurateCut, load_jieba

    jieba_tokenizer = load_jieba()
    cut = AccurateCut(jieba_tokenizer)
    for hmm in (True, False):
        differ = [t for t in texts if cut(t, hmm) != jieba_tokenizer.lcut(t, HMM=hmm)]
        assert not differ, (hmm, differ[:3])


def test_accurate_cut_gives_jiebas_words_on_the_seed_corpus(corpus_path):
    from pathlib import Path

    _assert_accurate_cut_is_jieba(_texts_of([Path(corpus_path)]))


@pytest.mark.slow
def test_accurate_cut_gives_jiebas_words_on_every_text_of_the_project():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    paths = sorted((root / "annotations").rglob("*.txt")) + sorted((root / "tests" / "data").rglob("*.txt"))
    assert len(paths) > 100
    _assert_accurate_cut_is_jieba(_texts_of(paths))


def test_the_jieba_backend_tokenises_with_accurate_cut_on_known_jieba_releases():
    import jieba

    from toolkit.tokenizer import EXACT_JIEBA_VERSIONS, AccurateCut

    segmenter = load_segmenter("jieba")
    assert isinstance(segmenter, AccurateCut) == (jieba.__version__ in EXACT_JIEBA_VERSIONS)
    assert segmenter("召开职代会", True) == ["召开", "职代会"]


def test_hmm_cut_gives_jiebas_hmm_words(corpus_path):
    """Every run of Chinese characters of the seed corpus, and random runs of its characters
    (fixed seed), cut as ``jieba.finalseg.cut`` cuts them."""
    import random
    import re
    from pathlib import Path

    from jieba import finalseg

    from toolkit.tokenizer import HmmCut

    text = Path(corpus_path).read_text(encoding="utf-8")
    runs = sorted(set(re.findall("[\u4e00-\u9fd5]+", text)))
    chars = sorted(set("".join(runs)))
    rng = random.Random(0)
    runs += ["".join(rng.choice(chars) for _ in range(rng.randint(1, 30))) for _ in range(3000)]
    runs += ["", "abc12.5%工会x", "Ab甲乙丙丁", "职工 之家"]
    cut = HmmCut()
    differ = [t for t in runs if cut(t) != list(finalseg.cut(t))]
    assert not differ, differ[:3]


def test_jieba_loads_without_pkg_resources_and_still_finds_its_own_dictionary():
    """A fresh process that tokenises never imports pkg_resources (about 70 ms of start-up), and
    jieba's own tokenizer, loaded from its dictionary file without it, cuts as the toolkit does."""
    import json
    import subprocess
    import sys

    code = ("import json, sys\n"
            "from toolkit.tokenizer import import_jieba, load_segmenter\n"
            "words = load_segmenter()('今年以来,车间工会在分厂党支部的领导下开展工作。', True)\n"
            "jieba = import_jieba()\n"
            "plain = jieba.Tokenizer().lcut('今年以来,车间工会在分厂党支部的领导下开展工作。')\n"
            "print(json.dumps(['pkg_resources' in sys.modules, words, plain]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded, words, plain = json.loads(out)
    assert loaded is False
    assert words == plain == ["今年以来", ",", "车间", "工会", "在", "分厂", "党支部", "的", "领导", "下", "开展", "工作", "。"]
