"""Word segmentation: jieba (or a faster port) with the union-work user dictionary, as a picklable
callable that scikit-learn pipelines and the compiled tagger share.

jieba facts that shape this module: a ``jieba.Tokenizer`` costs ~0.8 s to load, so there is one per
backend and dictionary per process; the shared ``jieba.dt`` is never changed; and a tokenizer that
is a lambda or a notebook class cannot be pickled, so :class:`JiebaTokenizer` rebuilds its
segmenter on first use and drops it when pickled.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from toolkit.errors import ModelError

USER_DICT = "userdict.txt"
_NOT_WORD = re.compile(r"^[\W_]*$")


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


def import_jieba():
    """The ``jieba`` module, imported without ``pkg_resources``.

    jieba 0.42 imports ``pkg_resources`` only to open its own data files, and opens them with
    ``open`` when that import fails; ``pkg_resources`` costs ~70 ms of every start-up (about 2 % of
    tagging a 5 MB file, measured with ``python -X importtime``) and a deprecation warning. The
    import is therefore refused while jieba loads, unless something has already loaded it."""
    import sys

    if "jieba" in sys.modules:
        return sys.modules["jieba"]
    refused = "pkg_resources" not in sys.modules
    if refused:
        sys.modules["pkg_resources"] = None  # makes "import pkg_resources" raise ImportError
    try:
        import jieba
    finally:
        if refused and sys.modules.get("pkg_resources", False) is None:
            del sys.modules["pkg_resources"]
    return jieba


def _user_words(user_dict: str) -> list[tuple[str, int, str]]:
    if not user_dict:
        return []
    text = resources.files("toolkit.data").joinpath(user_dict).read_text(encoding="utf-8")
    return [(w, int(f), t) for w, f, t in (line.split() for line in text.splitlines() if line.strip())]


@functools.lru_cache(maxsize=4)
def load_jieba(user_dict: str = USER_DICT):
    """One ``jieba.Tokenizer`` per user dictionary per process. Never touches the shared ``jieba.dt``.

    jieba's own start-up (``initialize`` and ``add_word`` for the user dictionary) takes ~0.5 s,
    most of it reading its marshal cache in small pieces while the garbage collector runs. The
    finished prefix dictionary is therefore cached once more (:func:`dictionary_cache`), user words
    included, and read back in one piece with the collector paused: ~0.15 s. Tokens are the same
    (tested); any problem with the cache falls back to jieba's own start-up.
    """
    jieba = import_jieba()

    tokenizer = jieba.Tokenizer()
    words = _user_words(user_dict)
    cache = dictionary_cache(words)
    if cache is not None and _load_cached(tokenizer, cache):
        return tokenizer
    tokenizer.initialize()
    for word, freq, tag in words:
        tokenizer.add_word(word, freq, tag)
    if cache is not None:
        _save_cached(tokenizer, cache)
    return tokenizer


def dictionary_cache(words: list[tuple[str, int, str]]) -> Path | None:
    """Where the prefix dictionary for jieba's main dictionary plus ``words`` is cached:
    ``$TOOLKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/toolkit`` or ``~/.cache/toolkit``; the name
    changes with jieba's version, its dictionary file and the user words. ``None`` if unknown."""
    import hashlib
    import os

    jieba = import_jieba()

    try:
        stat = (Path(jieba.__file__).parent / jieba.DEFAULT_DICT_NAME).stat()
    except (AttributeError, OSError, TypeError):
        return None
    base = os.environ.get("TOOLKIT_CACHE_DIR") or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "toolkit")
    key = hashlib.sha256(repr((jieba.__version__, stat.st_size, stat.st_mtime_ns, words)).encode()).hexdigest()[:16]
    return Path(base) / f"jieba-{key}.marshal"


def _load_cached(tokenizer, path: Path) -> bool:
    import gc
    import marshal

    try:
        data = path.read_bytes()
    except OSError:
        return False
    paused = gc.isenabled()
    gc.disable()
    try:
        freq, total, tags = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return False
    finally:
        if paused:
            gc.enable()
    if not isinstance(freq, dict) or not isinstance(total, int) or not isinstance(tags, dict):
        return False
    tokenizer.FREQ, tokenizer.total, tokenizer.user_word_tag_tab = freq, total, tags
    tokenizer.initialized = True
    return True


def _save_cached(tokenizer, path: Path) -> None:
    """Best effort (a read-only home only costs the fast start); written atomically."""
    import marshal
    import os
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            marshal.dump((tokenizer.FREQ, tokenizer.total, tokenizer.user_word_tag_tab), handle)
        os.replace(tmp, path)
    except OSError:
        return


@functools.lru_cache(maxsize=4)
def load_segmenter(backend: str = "jieba", user_dict: str = USER_DICT) -> Callable[[str, bool], list[str]]:
    """A ``(text, hmm) -> words`` function for ``backend``, with the union-work user dictionary."""
    if backend == "jieba":
        tokenizer = load_jieba(user_dict)
        if _exact_cut_applies():
            return AccurateCut(tokenizer)
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


EXACT_JIEBA_VERSIONS = ("0.42", "0.42.1")
"""jieba releases whose accurate mode :class:`AccurateCut` reproduces (0.42.1 is the current one,
unchanged since 2020); with any other release the toolkit calls jieba's own ``lcut``."""


def _exact_cut_applies() -> bool:
    jieba = import_jieba()

    return getattr(jieba, "__version__", "") in EXACT_JIEBA_VERSIONS


class AccurateCut:
    """jieba's accurate mode (``Tokenizer.lcut(text, HMM=hmm)``) over a ``jieba.Tokenizer``'s own
    dictionary, with the same arithmetic and tie-breaking, so the words are identical (tested on
    every sentence of the corpus, with and without the HMM), in about 0.6 of the time.

    Why it exists: tokenisation is most of the time of tagging, and jieba spends much of it on
    bookkeeping: a dict of candidate ends per character, a generator of tuples per position, a
    logarithm per candidate word. Here the lattice is walked once from the end, each word's
    log-probability is computed once per process (``log(freq) - log(total)``, as jieba computes
    it), and words are appended to one list. Unknown runs go to :class:`HmmCut` (jieba's HMM, the
    same way), and non-Chinese blocks are split as jieba splits them.
    """

    _PREFIX = -1.0e308  # a prefix of dictionary words that is not itself a word (jieba's count 0)

    def __init__(self, tokenizer):
        jieba = import_jieba()

        tokenizer.check_initialized()
        self._freq = tokenizer.FREQ
        self._log_total = math.log(tokenizer.total)
        self._logp: dict[str, float] = {}
        self._hmm_cut = HmmCut()
        self._han = jieba.re_han_default
        self._skip = jieba.re_skip_default
        self._eng = jieba.re_eng

    def __call__(self, text: str, hmm: bool = True) -> list[str]:
        out: list[str] = []
        han, skip = self._han, self._skip
        for block in han.split(text):
            if not block:
                continue
            if han.match(block):
                self._block(block, out, hmm)
            else:
                for piece in skip.split(block):
                    if skip.match(piece):
                        out.append(piece)
                    else:
                        out.extend(piece)
        return out

    def _route(self, s: str) -> list[int]:
        """End of the best word starting at each position (jieba's ``get_DAG`` and ``calc``). Each
        dictionary word's ``log(count) - log(total)`` is memoised (:attr:`_PREFIX` for a prefix that
        is not a word); a string in neither costs one look-up in each dictionary, not memoised, so
        memory stays bounded by the dictionary."""
        logp, freq, prefix, log, log_total = self._logp, self._freq, self._PREFIX, math.log, self._log_total
        n = len(s)
        score = [0.0] * (n + 1)
        end = [0] * (n + 1)
        for k in range(n - 1, -1, -1):
            best, best_end = None, k
            i = k
            while i < n:
                word = s[k:i + 1]
                value = logp.get(word)
                if value is None:
                    count = freq.get(word)
                    if count is None:
                        break
                    value = logp[word] = log(count) - log_total if count else prefix
                if value != prefix:
                    total = value + score[i + 1]
                    if best is None or total >= best:  # jieba's max over (score, end): ties go to the longer word
                        best, best_end = total, i
                i += 1
            if best is None:
                best = (log(freq.get(s[k]) or 1) - log_total) + score[k + 1]
            score[k], end[k] = best, best_end
        return end

    def _block(self, s: str, out: list[str], hmm: bool) -> None:
        end = self._route(s)
        n, x, buf = len(s), 0, ""
        append = out.append
        if not hmm:
            eng = self._eng
            while x < n:
                y = end[x] + 1
                word = s[x:y]
                if y - x == 1 and eng.match(word):
                    buf += word
                else:
                    if buf:
                        append(buf)
                        buf = ""
                    append(word)
                x = y
            if buf:
                append(buf)
            return
        while x < n:
            y = end[x] + 1
            if y - x == 1:
                buf += s[x]
            else:
                if buf:
                    self._flush(buf, out)
                    buf = ""
                append(s[x:y])
            x = y
        if buf:
            self._flush(buf, out)

    def _flush(self, buf: str, out: list[str]) -> None:
        """A run of single characters: kept as one word, or cut by the HMM if not a dictionary word."""
        if len(buf) == 1:
            out.append(buf)
        elif not self._freq.get(buf):
            out.extend(self._hmm_cut(buf))
        else:
            out.extend(buf)


class HmmCut:
    """``jieba.finalseg.cut`` (the HMM that cuts runs of characters jieba's dictionary does not
    know into words) with the same probabilities, sums and tie-breaking, so the words are
    identical (tested), in about half the time: the four-state Viterbi is unrolled and keeps one
    back-pointer per state and character instead of copying a path list per state and character.
    """

    _MIN = -3.14e100  # jieba.finalseg.MIN_FLOAT
    _SLOT = {"B": 0, "M": 1, "E": 2, "S": 3}  # a state's place in each back-pointer tuple

    def __init__(self):
        import_jieba()
        from jieba import finalseg

        self._finalseg = finalseg
        start, trans, emit = finalseg.start_P, finalseg.trans_P, finalseg.emit_P
        low = self._MIN
        self._start = tuple(start[y] for y in "BMES")
        self._emit = tuple(emit[y] for y in "BMES")
        t = {(a, b): trans[a].get(b, low) for a in "BMES" for b in "BMES"}
        self._trans = (t["E", "B"], t["S", "B"], t["M", "M"], t["B", "M"], t["S", "S"], t["E", "S"], t["B", "E"], t["M", "E"])
        self._han = finalseg.re_han
        self._skip = finalseg.re_skip

    def __call__(self, text: str) -> list[str]:
        out: list[str] = []
        han, skip = self._han, self._skip
        force_split = self._finalseg.Force_Split_Words
        for block in han.split(text):
            if han.match(block):
                for word in self._words(block):
                    if word in force_split:
                        out.extend(word)
                    else:
                        out.append(word)
            else:
                out.extend(x for x in skip.split(block) if x)
        return out

    def _states(self, obs: str) -> str:
        """The most probable B/M/E/S state of each character (``finalseg.viterbi``; on equal
        probabilities ``max`` over ``(prob, state)`` tuples prefers the later letter)."""
        low = self._MIN
        eb, em, ee, es = self._emit
        t_eb, t_sb, t_mm, t_bm, t_ss, t_es, t_be, t_me = self._trans
        first = obs[0]
        vb, vm, ve, vs = (p + e.get(first, low) for p, e in zip(self._start, self._emit))
        back = []
        for ch in obs[1:]:
            e = eb.get(ch, low)
            a, b = ve + t_eb + e, vs + t_sb + e
            nb, pb = (b, "S") if b >= a else (a, "E")
            e = em.get(ch, low)
            a, b = vm + t_mm + e, vb + t_bm + e
            nm, pm = (a, "M") if a >= b else (b, "B")
            e = es.get(ch, low)
            a, b = vs + t_ss + e, ve + t_es + e
            ns, ps = (a, "S") if a >= b else (b, "E")
            e = ee.get(ch, low)
            a, b = vb + t_be + e, vm + t_me + e
            ne, pe = (b, "M") if b >= a else (a, "B")
            back.append((pb, pm, pe, ps))
            vb, vm, ve, vs = nb, nm, ne, ns
        state = "S" if vs >= ve else "E"
        states = [state]
        for pointers in reversed(back):
            state = pointers[self._SLOT[state]]
            states.append(state)
        states.reverse()
        return "".join(states)

    def _words(self, block: str) -> list[str]:
        words, begin, after = [], 0, 0
        for i, state in enumerate(self._states(block)):
            if state == "B":
                begin = i
            elif state == "E":
                words.append(block[begin:i + 1])
                after = i + 1
            elif state == "S":
                words.append(block[i])
                after = i + 1
        if after < len(block):
            words.append(block[after:])
        return words


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
