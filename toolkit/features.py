"""Features for the section classifier: the scikit-learn feature union over sentence records
(see :mod:`toolkit.context`): word and character TF-IDF of the sentence, plus optional context
blocks (heading, neighbours, position and part, taxonomy cue words) so the evaluation can show
what each adds. :mod:`toolkit.compiled` turns a fitted union into plain arrays for tagging.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline

from toolkit.context import CUE_FIELDS, POSITION_NAMES, STRUCTURE_NAMES, cue_matrix, position_matrix, structure_matrix
from toolkit.params import DEFAULT_PARAMS
from toolkit.tokenizer import JiebaTokenizer

CONTEXT_BLOCKS = ("heading", "neighbours", "position", "structure", "cues")


class FieldText(BaseEstimator, TransformerMixin):
    """Select text fields of the records and join them (stateless)."""

    def __init__(self, fields: Sequence[str] = ("text",)):
        self.fields = fields

    def fit(self, records, y=None):
        return self

    def transform(self, records) -> list[str]:
        return ["\n".join(r[f] for f in self.fields if r[f]) for r in records]


class PositionFeatures(BaseEstimator, TransformerMixin):
    """Where the sentence stands and the part it is in (:func:`toolkit.context.position_matrix`),
    or with ``kind="structure"`` only what holds on any cut of a report
    (:func:`toolkit.context.structure_matrix`)."""

    def __init__(self, kind: str = "position"):
        self.kind = kind

    def fit(self, records, y=None):
        return self

    def transform(self, records):
        return sparse.csr_matrix(structure_matrix(records) if self.kind == "structure" else position_matrix(records))

    def get_feature_names_out(self, input_features=None):
        return np.array(STRUCTURE_NAMES if self.kind == "structure" else POSITION_NAMES)


def _words(tokenizer: JiebaTokenizer, ngram_range: tuple[int, int], min_df=1, max_df=1.0) -> TfidfVectorizer:
    return TfidfVectorizer(tokenizer=tokenizer, token_pattern=None, lowercase=False,
                           ngram_range=ngram_range, sublinear_tf=True, min_df=min_df, max_df=max_df)


def build_features(
    *,
    context: Sequence[str] = tuple(DEFAULT_PARAMS["context"]),
    tokenizer: JiebaTokenizer | None = None,
    char_ngrams: tuple[int, int] = tuple(DEFAULT_PARAMS["char_ngrams"]),
    word_ngrams: tuple[int, int] = tuple(DEFAULT_PARAMS["word_ngrams"]),
    context_weight: float = DEFAULT_PARAMS["context_weight"],
    cue_weight: float = DEFAULT_PARAMS["cue_weight"],
    tokenizer_backend: str = DEFAULT_PARAMS["tokenizer"],
) -> FeatureUnion:
    """Word and character TF-IDF of the sentence, plus the chosen context blocks; the defaults are
    the shipped model's (:data:`toolkit.params.DEFAULT_PARAMS`).

    ``context`` is any subset of :data:`CONTEXT_BLOCKS`; ``context_weight`` scales the context
    blocks against the sentence's own text.
    """
    unknown = set(context) - set(CONTEXT_BLOCKS)
    if unknown:
        raise ValueError(f"unknown context block(s) {sorted(unknown)}; expected {CONTEXT_BLOCKS}")
    tokenizer = tokenizer or JiebaTokenizer(backend=tokenizer_backend)
    blocks = [
        ("words", Pipeline([("select", FieldText(("text",))), ("tfidf", _words(tokenizer, word_ngrams))])),
        ("chars", Pipeline([("select", FieldText(("text",))),
                            ("tfidf", TfidfVectorizer(analyzer="char", ngram_range=char_ngrams, sublinear_tf=True, min_df=2))])),
    ]
    weights = {"words": 1.0, "chars": 1.0}
    if "heading" in context:
        blocks.append(("heading", Pipeline([("select", FieldText(("heading", "section"))), ("tfidf", _words(tokenizer, (1, 1)))])))
        weights["heading"] = context_weight
    if "neighbours" in context:
        blocks.append(("neighbours", Pipeline([("select", FieldText(("prev", "next"))), ("tfidf", _words(tokenizer, (1, 1)))])))
        weights["neighbours"] = context_weight
    if "position" in context:
        blocks.append(("position", PositionFeatures()))
        weights["position"] = context_weight
    if "structure" in context:
        blocks.append(("structure", PositionFeatures("structure")))
        weights["structure"] = context_weight
    if "cues" in context:
        blocks.append(("cues", CueFeatures()))
        weights["cues"] = cue_weight
    return FeatureUnion(blocks, transformer_weights=weights)


class CueFeatures(BaseEstimator, TransformerMixin):
    """Taxonomy cue words (the weak-label keyword lists) found in the sentence, its heading and
    its section: prior knowledge that carries over to reports unlike the training ones."""

    def __init__(self, fields: Sequence[str] = CUE_FIELDS):
        self.fields = fields

    def fit(self, records, y=None):
        return self

    def transform(self, records):
        return sparse.csr_matrix(cue_matrix(records, self.fields))
