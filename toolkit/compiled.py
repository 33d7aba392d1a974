"""A fitted pipeline compiled to plain arrays, so tagging needs no scikit-learn.

Importing scikit-learn costs about 1.5 s and its per-call overhead adds up over thousands of
reports; a linear model over TF-IDF features is only vocabulary look-ups, a few NumPy operations
and a matrix product. :func:`compile_pipeline` reads a fitted :func:`toolkit.pipeline.build_pipeline`
pipeline (logistic regression or ComplementNB) into a :class:`CompiledModel` whose
``predict_proba`` gives the pipeline's probabilities (equal to 1e-9, tested). Pipelines it cannot
compile (the calibrated SVM, the majority baseline) stay with scikit-learn.

Each sentence is segmented once per call: its tokens serve its own words block and its neighbours'.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from toolkit.context import cue_matrix, position_matrix, structure_matrix
from toolkit.tokenizer import _NOT_WORD, JiebaTokenizer, load_segmenter

_WHITE_SPACES = re.compile(r"\s\s+")
_BASE = 0x110001
"""Character n-grams become integers in base (code point + 1); trigrams still fit in int64."""
MAX_CHAR_N = 3


@dataclass
class Sparse:
    """One feature block for a batch of rows: sorted unique (row, column) pairs and values."""

    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray


def _tfidf(rows: np.ndarray, cols: np.ndarray, n_cols: int, idf: np.ndarray, weight: float) -> Sparse:
    """Counts of (row, col) pairs → sublinear TF times IDF, each row L2-normalised, times ``weight``
    (what ``TfidfVectorizer(sublinear_tf=True)`` and a FeatureUnion weight do)."""
    if not len(rows):
        return Sparse(rows, cols, np.zeros(0))
    pairs, counts = np.unique(rows * n_cols + cols, return_counts=True)
    rows, cols = pairs // n_cols, pairs % n_cols
    values = (np.log(counts) + 1.0) * idf[cols]
    norms = np.sqrt(np.bincount(rows, weights=values * values))
    return Sparse(rows, cols, values / norms[rows] * weight)


def _sparse_product(part: Sparse, weights: np.ndarray, n_rows: int) -> np.ndarray | float:
    """The sparse block (``n_rows`` rows) times ``weights`` (features × classes), as a dense
    rows × classes array (``0.0`` when the block is empty). ``part``'s rows are sorted (:func:`_tfidf` makes them so), so
    each row's products are one ``np.add.reduceat`` run: NumPy alone, which keeps SciPy's import
    (~0.08 s) out of tagging's start-up. The weight rows are gathered with ``take`` and scaled in
    place: 2.4x faster than fancy indexing and a product (the character block of a 5 MB run: 0.26
    -> 0.11 s), with the same sums."""
    if not len(part.rows):
        return 0.0
    contributions = weights.take(part.cols, axis=0)
    contributions *= part.values[:, None]
    starts = np.flatnonzero(np.r_[True, part.rows[1:] != part.rows[:-1]])
    out = np.zeros((n_rows, weights.shape[1]))
    out[part.rows[starts]] = np.add.reduceat(contributions, starts, axis=0)
    return out


def _nonzero(matrix: np.ndarray) -> Sparse:
    """The non-zero cells of a dense block, row by row. The dense blocks (position and part flags,
    cue words) are mostly zeros, and multiplying them as sparse keeps tagging off BLAS: a BLAS
    product starts OpenBLAS's threads, whose spinning cost a quarter of the run's time on 2 cores."""
    rows, cols = np.nonzero(matrix)
    return Sparse(rows, cols, matrix[rows, cols])


def _joined(record: dict, fields: Sequence[str]) -> str:
    return "\n".join(record[f] for f in fields if record[f])


@dataclass
class WordBlock:
    """TF-IDF over segmenter words of some record fields (fields joined, n-grams across them)."""

    fields: tuple[str, ...]
    vocabulary: dict[str, int]
    idf: np.ndarray
    ngram_range: tuple[int, int]
    weight: float

    @property
    def size(self) -> int:
        return len(self.idf)

    def transform(self, records: Sequence[dict], tokens: Callable[[str], list[str]], memo: dict | None = None) -> Sparse:
        """``memo``: text → column ids, shared by the blocks of one batch whose vocabularies are
        equal (the sentence's own words and its neighbours' words: each text is looked up once)."""
        get = self.vocabulary.get
        min_n, max_n = self.ngram_range
        memo = {} if memo is None or max_n != 1 else memo
        counts: list[int] = []
        ids: list[int] = []
        add = ids.extend
        for r in records:
            n = 0
            if max_n == 1:
                for f in self.fields:
                    text = r[f]
                    if text:
                        found = memo.get(text)
                        if found is None:
                            found = memo[text] = [j for j in map(get, tokens(text)) if j is not None]
                        add(found)
                        n += len(found)
            else:
                key = tuple(r[f] for f in self.fields)
                found = memo.get(key)
                if found is None:
                    words = [w for f in self.fields if r[f] for w in tokens(r[f]) if not _NOT_WORD.match(w)]
                    found = memo[key] = [j for j in map(get, _word_ngrams(words, min_n, max_n)) if j is not None]
                add(found)
                n = len(found)
            counts.append(n)
        rows = np.repeat(np.arange(len(records), dtype=np.int64), counts)
        return _tfidf(rows, np.array(ids, dtype=np.int64), self.size, self.idf, self.weight)


def _word_ngrams(tokens: list[str], min_n: int, max_n: int) -> list[str]:
    """scikit-learn's word n-grams: space-joined runs of ``min_n`` to ``max_n`` tokens."""
    out = list(tokens) if min_n == 1 else []
    for n in range(max(min_n, 2), min(max_n, len(tokens)) + 1):
        out.extend(" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
    return out


def _gram_key(gram: str) -> int:
    key = 0
    for ch in gram:
        key = key * _BASE + ord(ch) + 1
    return key


class KeyIndex:
    """Integer keys → columns, looked up for a whole array at once: an open-addressing hash table
    (load factor at most 1/4, multiplicative hashing, linear probing) in NumPy arrays. About four
    times faster than ``searchsorted`` over the sorted keys for the millions of n-grams of a batch."""

    _MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)

    def __init__(self, keys: np.ndarray, columns: np.ndarray):
        bits = max(4, int(np.ceil(np.log2(max(len(keys), 1) * 4))))
        self.shift = np.uint64(64 - bits)
        self.mask = (1 << bits) - 1
        self.slots = np.full(1 << bits, -1, dtype=np.int64)
        self.columns = np.zeros(1 << bits, dtype=np.int64)
        self.probes = 0
        pending = np.arange(len(keys))
        slot = self._hash(keys)
        while len(pending):
            free = self.slots[slot[pending]] == -1
            place = pending[free]
            first = np.unique(slot[place], return_index=True)[1]
            self.slots[slot[place[first]]] = keys[place[first]]
            self.columns[slot[place[first]]] = columns[place[first]]
            done = np.zeros(len(pending), dtype=bool)
            done[np.flatnonzero(free)[first]] = True
            pending = pending[~done]
            moved = pending[self.slots[slot[pending]] != -1]
            slot[moved] = (slot[moved] + 1) & self.mask
            self.probes += 1

    def _hash(self, keys: np.ndarray) -> np.ndarray:
        return ((keys.astype(np.uint64) * self._MULTIPLIER) >> self.shift).astype(np.int64)

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which ``keys`` are known, and the columns of those that are."""
        slot = self._hash(keys)
        found = np.full(len(keys), -1, dtype=np.int64)
        open_ = np.arange(len(keys))
        for _ in range(self.probes + 1):
            stored = self.slots[slot[open_]]
            hit = stored == keys[open_]
            found[open_[hit]] = self.columns[slot[open_[hit]]]
            open_ = open_[~hit & (stored != -1)]
            if not len(open_):
                break
            slot[open_] = (slot[open_] + 1) & self.mask
        known = found >= 0
        return known, found[known]


@dataclass
class CharBlock:
    """TF-IDF over character n-grams (lower-cased, runs of white space collapsed), vectorised:
    every n-gram of the batch is an integer key looked up in the vocabulary's hash table
    (:class:`KeyIndex`, built from ``keys`` and ``columns`` on first use)."""

    fields: tuple[str, ...]
    keys: np.ndarray
    columns: np.ndarray
    idf: np.ndarray
    ngram_range: tuple[int, int]
    weight: float
    lowercase: bool = True
    _index: KeyIndex | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_index": None}

    @classmethod
    def from_vocabulary(cls, fields, vocabulary: dict[str, int], idf, ngram_range, weight, lowercase) -> "CharBlock":
        keys = np.array([_gram_key(g) for g in vocabulary], dtype=np.int64)
        columns = np.array(list(vocabulary.values()), dtype=np.int64)
        order = np.argsort(keys)
        return cls(tuple(fields), keys[order], columns[order], np.asarray(idf), tuple(ngram_range), weight, lowercase)

    @property
    def size(self) -> int:
        return len(self.idf)

    def index(self) -> KeyIndex:
        """The n-gram hash table (built on first use, not pickled)."""
        if self._index is None:
            self._index = KeyIndex(self.keys, self.columns)
        return self._index

    def transform(self, records: Sequence[dict], tokens=None) -> Sparse:
        index = self.index()
        docs = [_joined(r, self.fields) for r in records]
        if self.lowercase:
            docs = [d.lower() for d in docs]
        docs = [_WHITE_SPACES.sub(" ", d) for d in docs]
        lengths = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))
        points = np.frombuffer("".join(docs).encode("utf-32-le"), dtype=np.uint32).astype(np.int64) + 1
        row_of = np.repeat(np.arange(len(docs), dtype=np.int64), lengths)
        rows, cols = [], []
        min_n, max_n = self.ngram_range
        for n in range(min_n, max_n + 1):
            m = len(points) - n + 1
            if m <= 0:
                break
            key = points[:m].copy()
            for j in range(1, n):
                key = key * _BASE + points[j:j + m]
            same = row_of[:m] == row_of[n - 1:n - 1 + m]
            known, columns = index.lookup(key[same])
            rows.append(row_of[:m][same][known])
            cols.append(columns)
        rows_a = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        cols_a = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
        return _tfidf(rows_a, cols_a, self.size, self.idf, self.weight)


@dataclass
class DenseBlock:
    """Position-and-part flags or taxonomy cue words: a small dense matrix per batch."""

    kind: str
    fields: tuple[str, ...]
    size: int
    weight: float

    def matrix(self, records: Sequence[dict]) -> np.ndarray:
        if self.kind == "position":
            m = position_matrix(records)
        elif self.kind == "structure":
            m = structure_matrix(records)
        else:
            m = cue_matrix(records, self.fields)
        if m.shape[1] != self.size:
            raise ValueError(f"{self.kind} block has {m.shape[1]} features, the model expects {self.size}")
        return m * self.weight


@dataclass
class CompiledModel:
    """A linear model over the toolkit's features: ``softmax(X @ coef.T + intercept)`` (or the
    logistic function for two classes), X built block by block as the pipeline would."""

    classes: list[str]
    blocks: list
    coef: np.ndarray
    intercept: np.ndarray
    link: str
    tokenizer: dict
    _coef_t: np.ndarray | None = field(default=None, repr=False, compare=False)
    _memo_groups: list[int] | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_coef_t": None, "_memo_groups": None}

    def memo_groups(self) -> list[int]:
        """For each block, the index of the first word block with an equal vocabulary (blocks in
        one group share their text → ids memo within a batch); ``-1`` for other blocks."""
        if self._memo_groups is None:
            groups = []
            for i, block in enumerate(self.blocks):
                group = -1
                if isinstance(block, WordBlock) and block.ngram_range[1] == 1:
                    group = next(j for j in range(i + 1) if isinstance(self.blocks[j], WordBlock)
                                 and self.blocks[j].ngram_range[1] == 1 and self.blocks[j].vocabulary == block.vocabulary)
                groups.append(group)
            self._memo_groups = groups
        return self._memo_groups

    def warm(self) -> None:
        """Do once what the first prediction would: load the segmenter's dictionary, build the
        n-gram hash tables (so forked workers inherit them)."""
        self.segmenter()
        self.memo_groups()
        for block in self.blocks:
            if isinstance(block, CharBlock):
                block.index()

    def segmenter(self) -> Callable[[str, bool], list[str]]:
        """The ``(text, hmm) -> words`` function of the model's tokenizer backend (loaded once per process)."""
        return load_segmenter(self.tokenizer["backend"], self.tokenizer["user_dict"])

    def _scores(self, records: Sequence[dict]) -> np.ndarray:
        segment = self.segmenter()
        hmm = self.tokenizer["hmm"]
        cache: dict[str, list[str]] = {}

        def tokens(text: str) -> list[str]:
            words = cache.get(text)
            if words is None:
                words = cache[text] = segment(text, hmm)
            return words

        if self._coef_t is None:
            self._coef_t = np.ascontiguousarray(self.coef.T)
        scores = np.zeros((len(records), self.coef.shape[0]))
        offset = 0
        memos: dict[int, dict] = {}
        for block, group in zip(self.blocks, self.memo_groups()):
            weights = self._coef_t[offset:offset + block.size]
            offset += block.size
            if isinstance(block, DenseBlock):
                scores += _sparse_product(_nonzero(block.matrix(records)), weights, len(records))
                continue
            part = block.transform(records, tokens, memos.setdefault(group, {})) if group >= 0 else block.transform(records, tokens)
            scores += _sparse_product(part, weights, len(records))
        return scores + self.intercept

    def predict_proba(self, records: Sequence[dict]) -> np.ndarray:
        """Class probabilities, columns in :attr:`classes` order."""
        scores = self._scores(records)
        if self.link == "logistic":
            p = 1.0 / (1.0 + np.exp(-scores[:, 0]))
            return np.column_stack([1.0 - p, p])
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        return scores / scores.sum(axis=1, keepdims=True)


def _block(name: str, transformer, weight: float):
    from sklearn.pipeline import Pipeline

    from toolkit.features import CueFeatures, PositionFeatures  # scikit-learn: tagging with compiled arrays does without it

    if isinstance(transformer, PositionFeatures):
        return DenseBlock(transformer.kind, (), len(transformer.get_feature_names_out()), weight)
    if isinstance(transformer, CueFeatures):
        return DenseBlock("cues", tuple(transformer.fields), len(cue_matrix([{f: "" for f in transformer.fields}], transformer.fields)[0]), weight)
    if not isinstance(transformer, Pipeline):
        return None
    fields = tuple(transformer.steps[0][1].fields)
    vec = transformer.steps[-1][1]
    if vec.norm != "l2" or not vec.use_idf or not vec.sublinear_tf:
        return None
    if vec.analyzer == "char":
        if vec.ngram_range[1] > MAX_CHAR_N or vec.strip_accents or vec.preprocessor:
            return None
        return CharBlock.from_vocabulary(fields, vec.vocabulary_, vec.idf_, vec.ngram_range, weight, vec.lowercase)
    if vec.analyzer == "word" and vec.tokenizer is not None and not vec.lowercase and not vec.stop_words:
        return WordBlock(fields, dict(vec.vocabulary_), np.asarray(vec.idf_), tuple(vec.ngram_range), weight)
    return None


def compile_pipeline(pipeline) -> CompiledModel | None:
    """The fitted pipeline as a :class:`CompiledModel`, or ``None`` if its classifier or a feature
    block is not one this module knows (then the pipeline itself predicts)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import ComplementNB

    features, classifier = pipeline.steps[0][1], pipeline.steps[-1][1]
    classes = [str(c) for c in classifier.classes_]
    if isinstance(classifier, LogisticRegression):
        coef, intercept = classifier.coef_, classifier.intercept_
        link = "logistic" if len(classes) == 2 else "softmax"
    elif isinstance(classifier, ComplementNB):
        coef = classifier.feature_log_prob_
        intercept = classifier.class_log_prior_ if len(classes) == 1 else np.zeros(len(classes))
        link = "softmax"
    else:
        return None
    weights = features.transformer_weights or {}
    blocks = [_block(name, t, float(weights.get(name, 1.0))) for name, t in features.transformer_list]
    if any(b is None for b in blocks) or sum(b.size for b in blocks) != coef.shape[1]:
        return None
    tokenizers = {id(t.steps[-1][1].tokenizer): t.steps[-1][1].tokenizer for _, t in features.transformer_list
                  if hasattr(t, "steps") and getattr(t.steps[-1][1], "tokenizer", None) is not None}
    tok = next(iter(tokenizers.values()), JiebaTokenizer())
    if len(tokenizers) > 1 or not isinstance(tok, JiebaTokenizer):
        return None
    spec = {"backend": tok.backend, "user_dict": tok.user_dict, "hmm": tok.hmm}
    return CompiledModel(classes, blocks, np.ascontiguousarray(coef, dtype=np.float64),
                         np.asarray(intercept, dtype=np.float64), link, spec)


def _encode_strings(strings: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Strings as their UTF-8 bytes joined and their lengths in characters: arrays that need no
    pickle to store (NumPy's own string arrays would pad every word to the longest)."""
    data = np.frombuffer("".join(strings).encode("utf-8"), dtype=np.uint8)
    return data, np.fromiter(map(len, strings), dtype=np.int64, count=len(strings))


def _decode_strings(data: np.ndarray, lengths: np.ndarray) -> list[str]:
    text = data.tobytes().decode("utf-8")
    ends = np.cumsum(lengths).tolist()
    return [text[start:end] for start, end in zip([0, *ends[:-1]], ends)]


def to_arrays(model: CompiledModel, prefix: str) -> tuple[dict, dict[str, np.ndarray]]:
    """The model as a JSON-able spec and named arrays (names start with ``prefix``), for a file
    that loads with ``numpy.load(..., allow_pickle=False)``: see :func:`from_arrays`."""
    arrays = {f"{prefix}coef": model.coef, f"{prefix}intercept": model.intercept}
    blocks = []
    for i, block in enumerate(model.blocks):
        name = f"{prefix}block{i}."
        if isinstance(block, WordBlock):
            words = list(block.vocabulary)
            arrays[f"{name}words"], arrays[f"{name}lengths"] = _encode_strings(words)
            arrays[f"{name}columns"] = np.array([block.vocabulary[w] for w in words], dtype=np.int64)
            arrays[f"{name}idf"] = block.idf
            blocks.append({"kind": "words", "fields": list(block.fields), "ngram_range": list(block.ngram_range),
                           "weight": block.weight})
        elif isinstance(block, CharBlock):
            arrays[f"{name}keys"], arrays[f"{name}columns"], arrays[f"{name}idf"] = block.keys, block.columns, block.idf
            blocks.append({"kind": "chars", "fields": list(block.fields), "ngram_range": list(block.ngram_range),
                           "weight": block.weight, "lowercase": block.lowercase})
        else:
            blocks.append({"kind": "dense", "dense": block.kind, "fields": list(block.fields), "size": block.size,
                           "weight": block.weight})
    spec = {"classes": list(model.classes), "link": model.link, "tokenizer": dict(model.tokenizer), "blocks": blocks}
    return spec, arrays


def from_arrays(spec: dict, arrays, prefix: str) -> CompiledModel:
    """The :class:`CompiledModel` that :func:`to_arrays` stored (``arrays``: a mapping such as an
    ``NpzFile``). Raises ``KeyError``, ``TypeError`` or ``ValueError`` on a malformed spec or array."""
    blocks: list = []
    for i, b in enumerate(spec["blocks"]):
        name = f"{prefix}block{i}."
        fields, weight = tuple(str(f) for f in b["fields"]), float(b["weight"])
        if b["kind"] == "words":
            words = _decode_strings(arrays[f"{name}words"], arrays[f"{name}lengths"])
            vocabulary = dict(zip(words, arrays[f"{name}columns"].tolist()))
            blocks.append(WordBlock(fields, vocabulary, arrays[f"{name}idf"], tuple(b["ngram_range"]), weight))
        elif b["kind"] == "chars":
            blocks.append(CharBlock(fields, arrays[f"{name}keys"], arrays[f"{name}columns"], arrays[f"{name}idf"],
                                    tuple(b["ngram_range"]), weight, bool(b["lowercase"])))
        elif b["kind"] == "dense":
            blocks.append(DenseBlock(str(b["dense"]), fields, int(b["size"]), weight))
        else:
            raise ValueError(f"unknown feature block {b['kind']!r}")
    coef, intercept = arrays[f"{prefix}coef"], arrays[f"{prefix}intercept"]
    if coef.ndim != 2 or coef.shape[1] != sum(block.size for block in blocks) or intercept.shape != (coef.shape[0],):
        raise ValueError("coefficients do not fit the feature blocks")
    tokenizer = {"backend": str(spec["tokenizer"]["backend"]), "user_dict": str(spec["tokenizer"]["user_dict"]),
                 "hmm": bool(spec["tokenizer"]["hmm"])}
    return CompiledModel([str(c) for c in spec["classes"]], blocks, coef, intercept, str(spec["link"]), tokenizer)
