"""Reading report text: encoding detection by content, normalisation, and path expansion.

Real reports arrive as UTF-8, UTF-8 with a BOM, GBK/GB18030, or UTF-16 with a byte-order mark (Word's
and Notepad's "Unicode text"). We decide by content, never by file name, and refuse anything that is
empty, binary or in no Chinese-capable encoding; UTF-16 without a byte-order mark is refused with a
message saying so and how to re-save it.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import InputError

MAX_BYTES = 1 << 30
"""Files above 1 GiB are refused: split them first (the reader holds one file in memory)."""

_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_SPACES = {code: " " for code in (0x00A0, 0x1680, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000)}
_ZERO_WIDTH = {code: None for code in (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF)}
TRADITIONAL_TABLE = Path(__file__).parent / "data" / "t2s.txt"
"""Traditional characters and their simplified forms (derived from OpenCC; see the file's header)."""


def _traditional() -> dict[int, int]:
    """Traditional → simplified, character for character. Many web copies of reports are served in
    traditional characters, while the model and the page and part rules know simplified text only."""
    lines = [line for line in TRADITIONAL_TABLE.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return {ord(t): ord(s) for t, s in zip(lines[0], lines[1])}


def _translation_table() -> list:
    """A full table of the basic plane (code points above it map to themselves). With a dict,
    str.translate raises and catches a KeyError for every unmapped character; with this table it
    never does, which makes it twice as fast."""
    table: list = list(range(0x10000))
    for code, to in {**_traditional(), **_FULLWIDTH, **_SPACES, **_ZERO_WIDTH}.items():
        table[code] = to
    return table


_TRANSLATION = _translation_table()
_LINE_BREAK = re.compile("\r\n|[\r\n\u2028\u2029]")
_DROPPED = re.compile("[" + "".join(map(chr, _ZERO_WIDTH)) + "]")
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_PINYIN = re.compile(rf"(?<=[\u3400-\u9fff])[(（](?=[a-zü]*[{_TONED}])[a-zü{_TONED}]{{1,7}}[)）]")
"""Pinyin in brackets after each character ("工會(huì)工作總結(jié)"), as some sites serve copied
reports: a bracketed syllable with a tone mark right after a Chinese character. Reports do not
write one, and it cuts every word and n-gram in two, so normalisation drops it."""
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class Document:
    """The decoded, normalised text of one input file (or stdin, named ``-``)."""

    name: str
    text: str
    encoding: str


def normalize(text: str) -> str:
    """Map full-width ASCII to half-width, odd spaces to a plain space, traditional characters to
    simplified ones, and all line ends to ``\\n``; drop pinyin in brackets after a character. Every
    other character maps to one character (only zero-width ones are dropped), so text as written can
    always be shown beside it (:func:`written_offsets`).

    Chinese punctuation outside the full-width ASCII block (。、“”《》) is kept.

    >>> normalize("ＡＢＣ，１２３\\u3000好\\r\\n")
    'ABC,123 好\\n'
    >>> normalize("工會工作總結"), normalize("工會(huì)工作總結(jié)")
    ('工会工作总结', '工会工作总结')
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    if "(" in text or "（" in text:  # the regular expression costs five times this test on lines without a bracket
        text = _PINYIN.sub("", text)
    return text.translate(_TRANSLATION)


def split_lines(text: str) -> list[str]:
    """Lines of ``text`` as written, cut where :func:`normalize` puts its line ends, so that
    ``[normalize(line) for line in split_lines(text)] == normalize(text).split("\\n")``.

    >>> split_lines("一、组织，建设\\r\\n（一）\\r末行")
    ['一、组织，建设', '（一）', '末行']
    """
    return _LINE_BREAK.split(text)


def written_offsets(line: str) -> list[int] | None:
    """Where each character of ``normalize(line)`` stands in ``line`` (one line, no line end), or
    ``None`` when they stand at the same places (normalisation only drops zero-width characters and
    bracketed pinyin, every other character maps to one character). Outputs use it to show text as
    written.

    >>> written_offsets("工会，好"), written_offsets("工\\u200b会"), written_offsets("工會(huì)好")
    (None, [0, 2], [0, 1, 7])
    """
    pinyin = [m.span() for m in _PINYIN.finditer(line)]
    if not pinyin and not _DROPPED.search(line):
        return None
    dropped = {i for start, end in pinyin for i in range(start, end)}
    return [i for i, ch in enumerate(line) if i not in dropped and not _DROPPED.match(ch)]


def written_span(line: str, offsets: list[int] | None, start: int, end: int) -> str:
    """The text of ``line`` as written behind ``normalize(line)[start:end]`` (``offsets`` from
    :func:`written_offsets`)."""
    if offsets is None:
        return line[start:end]
    if end <= start:
        return ""
    stop = offsets[end - 1] + 1
    if after := _PINYIN.match(line, stop):  # the last character's pinyin goes with it (one at most: it follows a character)
        stop = after.end()
    return line[offsets[start]:stop]


SAMPLE_BYTES = 1 << 16
CHUNK_BYTES = 1 << 20
MAX_LINE = 1_000_000
"""Characters a line may hold before :func:`iter_lines` yields it in pieces (:func:`cut_line`): a
file without line breaks is then read, cut and tagged in bounded memory, whatever its size and
number of jobs. A real paragraph is far shorter (the corpus's longest: 1,584 characters)."""
_LINE_END = re.compile(r"[。！？!?][”’\"』」）)]*")


def cut_line(line: str, limit: int = MAX_LINE, ends: re.Pattern = _LINE_END) -> list[str]:
    """``line`` (no line break in it) cut into pieces of at most ``limit`` characters, each ending
    after the last sentence end that fits (a match of ``ends``: a stop and its closing quotes),
    else after the last comma, else at ``limit``. Joined, the pieces are the line; the cuts fall on
    the same characters whether the line is later normalised or not.

    >>> cut_line("一二。三四五。六七", limit=5)
    ['一二。', '三四五。', '六七']
    """
    pieces: list[str] = []
    start = 0
    while len(line) - start > limit:
        window = line[start:start + limit]
        found = [m.end() for m in ends.finditer(window, max(0, limit - 4096))]  # the window's tail first
        found = found or [m.end() for m in ends.finditer(window)]
        end = found[-1] if found else max(window.rfind("，"), window.rfind(",")) + 1 or limit
        pieces.append(window[:end])
        start += end
    pieces.append(line[start:])
    return pieces


def _decode_start(data: bytes, name: str, *, complete: bool = True) -> tuple[str, str]:
    """``(codec, text)`` for ``data``, the first bytes of a file or all of it (``complete``): the
    first of UTF-8 (with or without BOM) and GB18030 that decodes it and reads as Chinese text.

    Raises :class:`InputError` naming ``name`` for empty, binary and non-Chinese input.
    """
    if complete and not data.strip():
        raise InputError(f"{name}: file is empty")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not data.startswith(codecs.BOM_UTF32_LE):
        try:
            text = codecs.getincrementaldecoder("utf-16")().decode(data, final=complete)
        except UnicodeDecodeError:
            raise InputError(f"{name}: starts as UTF-16 (byte-order mark) but is not valid UTF-16; re-save it as UTF-8") from None
        if complete and not text.strip():
            raise InputError(f"{name}: file is empty")
        _check_text(text, name)
        return "utf-16", text
    if b"\x00" in data[:SAMPLE_BYTES]:
        if _utf16_without_bom(data[:SAMPLE_BYTES]):
            raise InputError(_NO_BOM.format(name=name))
        raise InputError(f"{name}: looks binary (NUL bytes), not UTF-8, UTF-16 or GB18030 text")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = codecs.getincrementaldecoder(encoding)().decode(data, final=complete)
        except UnicodeDecodeError:
            continue
        if _controls(text) and _utf16_without_bom(data[:SAMPLE_BYTES]):
            raise InputError(_NO_BOM.format(name=name))
        _check_text(text, name)
        return encoding, text
    if _utf16_without_bom(data[:SAMPLE_BYTES]):
        raise InputError(_NO_BOM.format(name=name))
    raise InputError(f"{name}: not UTF-8 or GB18030/GBK text; re-save it in UTF-8")


_NO_BOM = ("{name}: looks like UTF-16 without a byte-order mark, which cannot be told apart reliably; "
           "re-save it as UTF-8 (in Notepad or Word: Save As, encoding UTF-8)")
_TEXT_CHARACTER = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf\u3000-\u303f\uff00-\uffef\x20-\x7e\t\n\r\u2018-\u201d\u2026]")


def _utf16_without_bom(sample: bytes) -> bool:
    """Does ``sample`` read as Chinese text in UTF-16 (little- or big-endian) with no byte-order
    mark: some Chinese, and nine characters in ten Chinese, punctuation, ASCII or line ends?"""
    sample = sample[:len(sample) - len(sample) % 2]
    for codec in ("utf-16-le", "utf-16-be"):
        try:
            text = sample.decode(codec)
        except UnicodeDecodeError:
            continue
        if _CJK.search(text) and len(_TEXT_CHARACTER.findall(text)) >= 0.9 * len(text):
            return True
    return False


def detect_encoding(sample: bytes, name: str, *, complete: bool = True) -> str:
    """``"utf-8-sig"``, ``"gb18030"`` or ``"utf-16"`` for the first bytes of a file, judged by content.

    ``complete`` says whether ``sample`` is the whole file (a multi-byte character may be cut at
    its end otherwise). Raises :class:`InputError` for empty, binary and non-Chinese input.
    """
    return _decode_start(sample, name, complete=complete)[0]


def source_name(path: str | os.PathLike) -> str:
    """How outputs and errors name an input: its path, or ``<stdin>`` for ``-``."""
    return "<stdin>" if str(path) == "-" else str(path)


def _open_binary(path: str | os.PathLike):
    if str(path) == "-":
        return contextlib.nullcontext(sys.stdin.buffer)
    p = Path(path)
    try:
        return p.open("rb")
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{p}: is a directory") from None
    except PermissionError:
        raise InputError(f"{p}: permission denied") from None


def iter_lines(path: str | os.PathLike, *, as_written: bool = False) -> Iterator[str]:
    """Normalised lines of a file (``-``: stdin), decoded incrementally: memory stays flat however
    large the file. Encoding is detected on the first 64 KiB; a bad byte later is an
    :class:`InputError` naming its offset. ``as_written``: the lines as decoded, not normalised
    (cut at the same places, see :func:`split_lines`), for outputs that show the text as written.
    A line of over :data:`MAX_LINE` characters comes in pieces (:func:`cut_line`)."""
    name = source_name(path)
    with _open_binary(path) as handle:
        data = handle.read(SAMPLE_BYTES)
        encoding = detect_encoding(data, name, complete=len(data) < SAMPLE_BYTES)
        decoder = codecs.getincrementaldecoder(encoding)()
        pending, offset, final = "", 0, False
        while not final:
            final = not data
            carried = len(decoder.getstate()[0])
            try:
                text = decoder.decode(data, final=final)
            except UnicodeDecodeError as exc:
                where = offset - carried + exc.start
                raise InputError(f"{name}: invalid {encoding.replace('-sig', '')} byte at offset {where}") from None
            offset += len(data)
            pending += text
            held = "\r" if pending.endswith("\r") and not final else ""
            *lines, pending = split_lines(pending[:len(pending) - len(held)])
            if len(pending) > MAX_LINE or any(len(line) > MAX_LINE for line in lines):
                *lines, pending = [piece for line in (*lines, pending) for piece in cut_line(line, MAX_LINE)]
            pending += held
            yield from (lines if as_written else map(normalize, lines))
            if not final:
                data = handle.read(CHUNK_BYTES)
        if pending:
            yield pending if as_written else normalize(pending)


def decode(data: bytes, name: str) -> tuple[str, str]:
    """Decode ``data`` as UTF-8 (with or without BOM), GB18030 or UTF-16 with a BOM, judged by content.

    Returns ``(text, encoding)``; raises :class:`InputError` naming ``name`` otherwise.
    """
    encoding, text = _decode_start(data, name)
    return text, "utf-8" if encoding == "utf-8-sig" else encoding


def _controls(text: str) -> int:
    """How many control characters the start of ``text`` holds, when they are too many for text (else 0)."""
    sample = text[:65536]
    controls = len(_CONTROL.findall(sample))
    return controls if controls > max(8, len(sample) // 200) else 0


def _check_text(text: str, name: str) -> None:
    sample = text[:65536]
    if controls := _controls(sample):
        raise InputError(f"{name}: looks binary ({controls} control characters), not report text")
    if not _CJK.search(sample):
        raise InputError(f"{name}: contains no Chinese text")


def read_bytes(path: str | os.PathLike) -> bytes:
    """Read a file's bytes, or stdin's for ``-``, refusing missing and oversized files."""
    with _open_binary(path) as handle:
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise InputError(f"{path}: over the {MAX_BYTES} byte limit of whole-file reading; split the file "
                         "(toolkit tag streams files of any size)")
    return data


def read_document(path: str | os.PathLike) -> Document:
    """Read, decode and normalise one file (``-`` for stdin)."""
    name = source_name(path)
    text, encoding = decode(read_bytes(path), name)
    return Document(name=name, text=normalize(text), encoding=encoding)


def expand_paths(paths: Iterable[str | os.PathLike]) -> list[str]:
    """Expand directories recursively to their ``*.txt`` files, sorted; keep files and ``-`` as given.
    One path alone (a ``str`` or a ``Path``) is read as a list of one, not as its characters."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out: list[str] = []
    for path in paths:
        if str(path) == "-":
            out.append("-")
            continue
        p = Path(path)
        if p.is_dir():
            found = sorted(str(f) for f in p.rglob("*.txt") if f.is_file())
            if not found:
                raise InputError(f"{p}: directory holds no *.txt files")
            out.extend(found)
        elif not p.exists():
            raise InputError(f"{p}: no such file or directory")
        else:
            out.append(str(p))
    return out


def iter_documents(paths: Iterable[str | os.PathLike]) -> Iterator[Document]:
    """Yield each input as a :class:`Document`, one file at a time, in a stable order."""
    for path in expand_paths(paths):
        yield read_document(path)
