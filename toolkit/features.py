"""Features for the section classifier: a picklable jieba tokenizer, sentence records with their
context (heading, neighbours, position), and the feature union built on them.

Context matters in these reports: a short sentence ("通过活动,增进了感情。") is labelled by the
section it stands in. Each context block is optional so the evaluation can show what it adds.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from importlib import resources

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline

from toolkit.segment import Report
from toolkit.taxonomy import PARTS
from toolkit.weak import closing_paragraph, off_topic

USER_DICT = "userdict.txt"
_PLANS_START = re.compile(r"打算|计划|思路|设想|展望|^(下半年|明年|今后|新的一年|下一步)")
_PROBLEMS = re.compile(r"问题|不足")
_PLANS_EARLIEST = 0.3
_FUTURE_START = re.compile(r"^(今后|明年|来年|下一步|下半年|新的一年|在新的一年|展望未来)|展望未来|^(\d{2,4}|[Xx]{2}|20[Xx]{2})年[^,,。]{0,6}(将|要|计划|拟)")
_FUTURE_EARLIEST = 0.6
_LEAD = re.compile(r"以下|如下|[::]$")
_NOT_WORD = re.compile(r"^[\W_]*$")
CONTEXT_BLOCKS = ("heading", "neighbours", "position", "cues")



def quiet_jieba_logging() -> None:
    """Keep jieba's dictionary-loading chatter off stderr (for CLI runs and their workers).

    jieba sets its logger to DEBUG on import; a filter survives that.
    """
    import logging

    for name in ("jieba", "jieba_fast"):
        logger = logging.getLogger(name)
        if not any(getattr(f, "toolkit_quiet", False) for f in logger.filters):
            quiet = logging.Filter()
            quiet.filter = lambda record: record.levelno >= logging.WARNING
            quiet.toolkit_quiet = True
            logger.addFilter(quiet)


TOKENIZER_BACKENDS = ("jieba", "rjieba", "jieba_fast")
"""``jieba`` is the reference; ``rjieba`` (Rust) and ``jieba_fast`` (C) are optional, faster ports
(``pip install 'toolkit[fast]'``). A model records its backend and is used with the same one."""


def _user_words(user_dict: str) -> list[tuple[str, int, str]]:
    if not user_dict:
        return []
    text = resources.files("toolkit.data").joinpath(user_dict).read_text(encoding="utf-8")
    return [(w, int(f), t) for w, f, t in (line.split() for line in text.splitlines() if line.strip())]


@functools.lru_cache(maxsize=4)
def load_jieba(user_dict: str = USER_DICT):
    """One ``jieba.Tokenizer`` per user dictionary per process (each costs ~0.8 s to load).

    Never touches the shared ``jieba.dt``.
    """
    import jieba

    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word, freq, tag in _user_words(user_dict):
        tokenizer.add_word(word, freq, tag)
    return tokenizer


@functools.lru_cache(maxsize=4)
def load_segmenter(backend: str = "jieba", user_dict: str = USER_DICT) -> Callable[[str, bool], list[str]]:
    """A ``(text, hmm) -> words`` function for ``backend``, with the union-work user dictionary."""
    from toolkit.errors import ModelError

    if backend == "jieba":
        tokenizer = load_jieba(user_dict)
        return lambda text, hmm: tokenizer.lcut(text, HMM=hmm)
    if backend not in TOKENIZER_BACKENDS:
        raise ModelError(f"unknown tokenizer backend {backend!r}; expected one of {', '.join(TOKENIZER_BACKENDS)}")
    try:
        module = __import__(backend)
    except ImportError:
        raise ModelError(f"tokenizer backend {backend!r} is not installed: pip install {backend.replace('_', '-')}") from None
    if backend == "rjieba":
        segmenter = module.Jieba()
        for word, freq, tag in _user_words(user_dict):
            segmenter.add_word(word, freq, tag)
        return lambda text, hmm: segmenter.cut(text, hmm)
    tokenizer = module.Tokenizer()
    tokenizer.initialize()
    for word, freq, tag in _user_words(user_dict):
        tokenizer.add_word(word, freq, tag)
    return lambda text, hmm: tokenizer.lcut(text, HMM=hmm)


class JiebaTokenizer:
    """Picklable callable: text → jieba words (punctuation and spaces dropped).

    Creates its ``jieba.Tokenizer`` on first use and drops it (and its memo) when pickled, so a
    saved pipeline reloads anywhere. Results are memoised per instance (bounded), and
    ``copy.deepcopy`` (hence ``sklearn.clone``) returns the same instance, so cross-validation and
    model search tokenise each distinct text once.
    """

    def __init__(self, user_dict: str = USER_DICT, hmm: bool = True, memo_size: int = 20_000, backend: str = "jieba"):
        self.user_dict = user_dict
        self.hmm = hmm
        self.memo_size = memo_size
        self.backend = backend
        self._cut = None

    def _build(self):
        segment = load_segmenter(self.backend, self.user_dict)
        hmm = self.hmm

        @functools.lru_cache(maxsize=self.memo_size)
        def cut(text: str) -> tuple[str, ...]:
            return tuple(w for w in segment(text, hmm) if not _NOT_WORD.match(w))

        return cut

    def __call__(self, text: str) -> list[str]:
        """Tokens of ``text``; fields joined with newlines are tokenised (and memoised) one by one."""
        if self._cut is None:
            self._cut = self._build()
        if "\n" not in text:
            return list(self._cut(text))
        return [w for part in text.split("\n") if part for w in self._cut(part)]

    def __getstate__(self) -> dict:
        return {"user_dict": self.user_dict, "hmm": self.hmm, "memo_size": self.memo_size, "backend": self.backend}


    def __deepcopy__(self, memo: dict) -> "JiebaTokenizer":
        return self

    def __setstate__(self, state: dict) -> None:
        self.__init__(**{"backend": "jieba", **state})

    def __repr__(self) -> str:
        return f"JiebaTokenizer(user_dict={self.user_dict!r}, hmm={self.hmm}, backend={self.backend!r})"


def sentence_records(report: Report) -> list[dict]:
    """One feature record per sentence of ``report``: its text and its context."""
    sentences = report.sentences
    n_paragraphs = (sentences[-1].paragraph + 1) if sentences else 1
    records = []
    in_plans = False
    closing = closing_paragraph(report)
    opening = next((s.paragraph for s in sentences if s.is_heading), -1)
    for i, s in enumerate(sentences):
        in_plans = in_plans or _starts_plans(s)
        part = _part(s, in_plans, opening, closing)
        records.append({
            "id": s.id,
            "text": s.text,
            "heading": s.heading,
            "section": s.section,
            "prev": sentences[i - 1].text if i > 0 else "",
            "next": sentences[i + 1].text if i + 1 < len(sentences) else "",
            "position": s.position,
            "paragraph_position": s.paragraph / max(n_paragraphs - 1, 1),
            "is_heading": s.is_heading,
            "first_paragraph": s.paragraph == 0,
            "last_paragraph": s.paragraph == n_paragraphs - 1,
            "part": part,
        })
    return records


def _part(s, in_plans: bool, first_heading: int, closing: int) -> str:
    """The part of the report that decides a sentence's label over its topic words (see
    :func:`toolkit.model.apply_part_rule`): one of :data:`~toolkit.taxonomy.PARTS` or ``""``."""
    if s.paragraph < first_heading:
        return "overview"
    if in_plans:
        return "plans"
    if s.paragraph == closing:
        return "closing"
    return "other" if off_topic(s.text if s.is_heading and s.level == 1 else s.section) else ""


def _starts_plans(s) -> bool:
    """A heading or lead-in ("…打算如下:") that opens the plans part, in the report's later part."""
    if s.position >= _FUTURE_EARLIEST and not s.is_heading and _FUTURE_START.search(s.text):
        return True
    return (s.position >= _PLANS_EARLIEST and (s.is_heading or bool(_LEAD.search(s.text)))
            and bool(_PLANS_START.search(s.text)) and not _PROBLEMS.search(s.text))


def records_of(reports: Iterable[Report]) -> list[dict]:
    """Feature records of every sentence of ``reports``, in order."""
    return [r for report in reports for r in sentence_records(report)]


class FieldText(BaseEstimator, TransformerMixin):
    """Select text fields of the records and join them (stateless)."""

    def __init__(self, fields: Sequence[str] = ("text",)):
        self.fields = fields

    def fit(self, records, y=None):
        return self

    def transform(self, records) -> list[str]:
        return ["\n".join(r[f] for f in self.fields if r[f]) for r in records]


class PositionFeatures(BaseEstimator, TransformerMixin):
    """Where the sentence stands: position bins, first/last paragraph, heading flag."""

    BINS = (0.05, 0.15, 0.5, 0.85, 0.95)

    def fit(self, records, y=None):
        return self

    def transform(self, records):
        rows = []
        for r in records:
            bins = np.zeros(len(self.BINS) + 1)
            bins[int(np.searchsorted(self.BINS, r["position"]))] = 1.0
            flags = [float(r["first_paragraph"]), float(r["last_paragraph"]), float(r["is_heading"]),
                     *(float(r.get("part") == part) for part in PARTS)]
            rows.append(np.concatenate([bins, flags]))
        return sparse.csr_matrix(np.array(rows).reshape(len(rows), -1))

    def get_feature_names_out(self, input_features=None):
        return np.array([f"pos_bin{i}" for i in range(len(self.BINS) + 1)] + ["first_para", "last_para", "is_heading"] + [f"{p}_part" for p in PARTS])


def _words(tokenizer: JiebaTokenizer, ngram_range=(1, 2), min_df=1, max_df=1.0) -> TfidfVectorizer:
    return TfidfVectorizer(tokenizer=tokenizer, token_pattern=None, lowercase=False,
                           ngram_range=ngram_range, sublinear_tf=True, min_df=min_df, max_df=max_df)


def build_features(
    *,
    context: Sequence[str] = CONTEXT_BLOCKS,
    tokenizer: JiebaTokenizer | None = None,
    char_ngrams: tuple[int, int] = (1, 3),
    word_ngrams: tuple[int, int] = (1, 2),
    context_weight: float = 0.5,
    cue_weight: float = 1.0,
    tokenizer_backend: str = "jieba",
) -> FeatureUnion:
    """Word and character TF-IDF of the sentence, plus the chosen context blocks.

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
    if "cues" in context:
        blocks.append(("cues", CueFeatures()))
        weights["cues"] = cue_weight
    return FeatureUnion(blocks, transformer_weights=weights)


class CueFeatures(BaseEstimator, TransformerMixin):
    """Taxonomy cue words (the weak-label keyword lists) found in the sentence, its heading and
    its section: prior knowledge that carries over to reports unlike the training ones."""

    def __init__(self, fields: Sequence[str] = ("text", "heading", "section")):
        self.fields = fields

    def fit(self, records, y=None):
        return self

    def transform(self, records):
        from toolkit.weak import cue_vector

        return sparse.csr_matrix(np.array([np.concatenate([cue_vector(r[f]) for f in self.fields]) for r in records]))
