import pickle

import numpy as np
from sklearn.base import clone

from toolkit.context import records_of
from toolkit.features import CONTEXT_BLOCKS, build_features


def test_feature_union_pickles_and_reproduces(corpus_reports):
    records = records_of(corpus_reports[:2])
    features = build_features(context=CONTEXT_BLOCKS)
    X = features.fit_transform(records)
    again = pickle.loads(pickle.dumps(features)).transform(records)
    assert X.shape == again.shape and np.allclose(X.toarray(), again.toarray())
    assert clone(features).fit_transform(records).shape == X.shape


def test_context_blocks_add_columns(corpus_reports):
    records = records_of(corpus_reports[:2])
    widths = [build_features(context=ctx).fit_transform(records).shape[1] for ctx in ([], ["heading"], list(CONTEXT_BLOCKS))]
    assert widths[0] < widths[1] < widths[2]
    assert np.isfinite(build_features().fit_transform(records).data).all()


def test_defaults_are_the_shipped_model_parameters():
    from toolkit.params import DEFAULT_PARAMS

    blocks = dict(build_features().transformer_list)
    assert blocks["chars"].named_steps["tfidf"].ngram_range == tuple(DEFAULT_PARAMS["char_ngrams"])
    assert blocks["words"].named_steps["tfidf"].ngram_range == tuple(DEFAULT_PARAMS["word_ngrams"])
    assert [name for name in blocks if name not in ("words", "chars")] == DEFAULT_PARAMS["context"]
    assert build_features().transformer_weights["heading"] == DEFAULT_PARAMS["context_weight"]
