import io
import sys

import pytest

from toolkit.errors import InputError
from toolkit.textio import decode, expand_paths, normalize, read_document

SAMPLE = "今年以来,街道工会在县总工会的指导下开展工作。\n一、抓组织建设\n"


@pytest.mark.parametrize(
    "data, encoding",
    [
        (SAMPLE.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + SAMPLE.encode("utf-8"), "utf-8"),
        (SAMPLE.encode("gbk"), "gb18030"),
        (SAMPLE.encode("gb18030"), "gb18030"),
        (b"\xff\xfe" + SAMPLE.encode("utf-16-le"), "utf-16"),
        (b"\xfe\xff" + SAMPLE.encode("utf-16-be"), "utf-16"),
    ],
)
def test_decode_each_encoding(data, encoding):
    text, found = decode(data, "x.txt")
    assert found == encoding
    assert text.lstrip("\ufeff") == SAMPLE


def test_bom_is_removed(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf" + SAMPLE.encode("utf-8"))
    assert read_document(path).text == SAMPLE


@pytest.mark.parametrize("data", [b"", b"  \n\n \r\n"])
def test_empty_file_fails_naming_it(data):
    with pytest.raises(InputError, match=r"^empty\.txt: file is empty$"):
        decode(data, "empty.txt")


def test_binary_file_fails():
    with pytest.raises(InputError, match=r"^b\.bin: looks binary"):
        decode(b"\x7fELF\x02\x01\x01\x00\x00\x00" * 50, "b.bin")


def test_utf16_with_a_byte_order_mark_is_read_as_utf8_would_be(tmp_path):
    for bom, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        path = tmp_path / f"{codec}.txt"
        path.write_bytes(bom + SAMPLE.encode(codec))
        assert read_document(path).text == SAMPLE


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_says_so_and_how_to_resave(codec):
    for text in (SAMPLE, "工会工作总结" * 20):  # with ASCII (NUL bytes) and without
        with pytest.raises(InputError, match=r"^b\.txt: looks like UTF-16 without a byte-order mark.*re-save it as UTF-8"):
            decode(text.encode(codec), "b.txt")


def test_text_without_chinese_is_refused():
    with pytest.raises(InputError, match="no Chinese text"):
        decode(b"just some english words\n", "e.txt")


def test_undecodable_bytes_are_refused():
    with pytest.raises(InputError, match="not UTF-8 or GB18030"):
        decode(b"\x81\x30\x81" * 20 + b"\xff\xfe\xfd", "bad.txt")


def test_normalize_fullwidth_spaces_and_line_ends():
    assert normalize("ＡＢ，（一）\u3000工会\u00a0好！\r\n下\r一") == "AB,(一) 工会 好!\n下\n一"


def test_normalize_keeps_chinese_punctuation():
    assert normalize("“工会”、《法》。") == "“工会”、《法》。"


def test_normalize_maps_traditional_characters_to_simplified_one_for_one():
    text = "醫院工會工作總結,以下是小編為大家收集的範文。今後於職工"
    assert normalize(text) == "医院工会工作总结,以下是小编为大家收集的范文。今后于职工"
    assert len(normalize(text)) == len(text)


def test_normalize_drops_pinyin_in_brackets_after_a_character_and_offsets_point_past_it():
    from toolkit.textio import written_offsets, written_span

    line = "林業(yè)工會(huì)工作總結(jié)"
    assert normalize(line) == "林业工会工作总结"
    assert normalize("工会(一)组织、维权(union)、职代会(2023)") == "工会(一)组织、维权(union)、职代会(2023)"
    offsets = written_offsets(line)
    assert [line[i] for i in offsets] == list("林業工會工作總結")
    assert written_span(line, offsets, 0, 4) == "林業(yè)工會(huì)"  # a character's pinyin goes with it


def test_simplified_characters_that_look_traditional_are_kept():
    assert normalize("乾坤、显著、徵稿、夥伴") == "乾坤、显著、徵稿、夥伴"


def test_no_text_of_the_project_changes_under_the_traditional_map_or_the_pinyin_rule():
    """Sentence ids and stored labels hash the normalised text: normalisation must leave the
    project's simplified text as it is."""
    from conftest import ROOT

    from toolkit.textio import _traditional

    from toolkit.textio import _PINYIN

    mapped = {chr(c) for c in _traditional()}
    for path in sorted((ROOT / "annotations").rglob("*.txt")) + [ROOT / "toolkit" / "data" / "userdict.txt"]:
        text = path.read_text(encoding="utf-8")
        found = mapped & set(text)
        assert not found, f"{path}: {sorted(found)[:10]}"
        assert not _PINYIN.search(text), f"{path}: {_PINYIN.search(text)}"


def test_expand_paths_is_recursive_sorted_and_txt_only(tmp_path):
    (tmp_path / "b").mkdir()
    for name in ("b/2.txt", "a.txt", "b/1.txt", "c.md"):
        (tmp_path / name).write_text(SAMPLE, encoding="utf-8")
    found = expand_paths([tmp_path])
    assert [p[len(str(tmp_path)) + 1 :] for p in found] == ["a.txt", "b/1.txt", "b/2.txt"]
    assert expand_paths(tmp_path) == expand_paths(str(tmp_path)) == found  # one path alone, not its characters
    assert expand_paths(tmp_path / "a.txt") == [str(tmp_path / "a.txt")]


def test_missing_path_fails():
    with pytest.raises(InputError, match="nope.txt: no such file"):
        expand_paths(["nope.txt"])


def test_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(SAMPLE.encode("gbk"))))
    doc = read_document("-")
    assert doc.name == "<stdin>" and doc.text == SAMPLE and doc.encoding == "gb18030"


def _lines(tmp_path, data: bytes, monkeypatch, chunk: int = 7, sample: int = 16):
    import toolkit.textio as textio

    monkeypatch.setattr(textio, "CHUNK_BYTES", chunk)
    monkeypatch.setattr(textio, "SAMPLE_BYTES", sample)
    path = tmp_path / "in.txt"
    path.write_bytes(data)
    return list(textio.iter_lines(path))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "utf-16-be-bom"])
def test_iter_lines_streams_any_encoding_across_chunk_boundaries(tmp_path, monkeypatch, encoding):
    text = "工会，一、组织建设\r\n第二行（一）\r第三行\n\n最后"
    data = b"\xfe\xff" + text.encode("utf-16-be") if encoding == "utf-16-be-bom" else text.encode(encoding)
    lines = _lines(tmp_path, data, monkeypatch)
    assert lines == ["工会,一、组织建设", "第二行(一)", "第三行", "", "最后"]


def test_iter_lines_reports_a_bad_byte_with_its_offset(tmp_path, monkeypatch):
    data = ("工会" * 20).encode("utf-8") + b"\xff" + "工会".encode("utf-8")
    with pytest.raises(InputError, match=r"in\.txt: invalid utf-8 byte at offset 120"):
        _lines(tmp_path, data, monkeypatch, sample=32)


def test_iter_lines_refuses_empty_and_binary(tmp_path, monkeypatch):
    with pytest.raises(InputError, match="file is empty"):
        _lines(tmp_path, b"\n \n", monkeypatch)
    with pytest.raises(InputError, match="looks binary"):
        _lines(tmp_path, b"\x00\x01" * 100, monkeypatch)


def test_iter_lines_matches_read_document_on_the_corpus(corpus_path):
    from toolkit.textio import iter_lines

    assert list(iter_lines(corpus_path)) == read_document(corpus_path).text.split("\n")[:-1]


@pytest.mark.parametrize("chunk", [3, 7, 1000])
def test_iter_lines_as_written_cuts_where_normalised_lines_end(tmp_path, monkeypatch, chunk):
    text = "工会，一、组织建设\r\n第二行（一）\u3000空格\r第三行\u2028第四\u200b行\n\n最后"
    written = _lines_as_written(tmp_path, text.encode("utf-8"), monkeypatch, chunk)
    assert written == ["工会，一、组织建设", "第二行（一）\u3000空格", "第三行", "第四\u200b行", "", "最后"]
    assert [normalize(line) for line in written] == _lines(tmp_path, text.encode("utf-8"), monkeypatch, chunk)


def _lines_as_written(tmp_path, data: bytes, monkeypatch, chunk: int) -> list[str]:
    import toolkit.textio as textio

    monkeypatch.setattr(textio, "CHUNK_BYTES", chunk)
    monkeypatch.setattr(textio, "SAMPLE_BYTES", 16)
    path = tmp_path / "in.txt"
    path.write_bytes(data)
    return list(textio.iter_lines(path, as_written=True))


def test_a_line_end_cut_between_chunks_is_one_line_end(tmp_path, monkeypatch):
    data = "工会开展".encode("utf-8") + b"\r" + "\n第二行".encode("utf-8")
    assert _lines(tmp_path, data, monkeypatch, chunk=4, sample=13) == ["工会开展", "第二行"]  # the first read ends at \r


def test_written_span_maps_normalised_offsets_back_to_the_line():
    from toolkit.textio import written_offsets, written_span

    line = "\u200b新发展\u200b会员４５人，建会3家。"
    text = normalize(line)
    offsets = written_offsets(line)
    start = text.index("会员")
    assert written_span(line, offsets, start, len(text)) == "会员４５人，建会3家。"
    assert written_span(line, offsets, 0, start) == "新发展"  # zero-width marks at the ends are left out
    assert written_offsets("会员４５人") is None and written_span("会员４５人", None, 2, 4) == "４５"


@pytest.mark.parametrize("chunk", [5, 64])
def test_an_overlong_line_comes_in_pieces_cut_alike_as_written_and_normalised(tmp_path, monkeypatch, chunk):
    import toolkit.textio as textio

    monkeypatch.setattr(textio, "MAX_LINE", 12)
    line = "工会\u200b开展活动，效果好。”职工满意！会员，增加了很多很多很多很多人数字化推进。末尾"
    data = (line + "\n第二行").encode("utf-8")
    written = _lines_as_written(tmp_path, data, monkeypatch, chunk)
    assert "".join(written[:-1]) == line and written[-1] == "第二行"
    assert len(written) > 3 and all(len(piece) <= 12 for piece in written)
    assert written[1] == "”职工满意！"  # the stop that fits ends the piece, the next one its quote
    assert [normalize(piece) for piece in written] == _lines(tmp_path, data, monkeypatch, chunk)


def test_cut_line_prefers_a_sentence_end_then_a_comma_then_the_limit():
    from toolkit.textio import cut_line

    assert cut_line("一二三。四五六七八", limit=6) == ["一二三。", "四五六七八"]
    assert cut_line("一二，三四五六七八", limit=6) == ["一二，", "三四五六七八"]
    assert cut_line("一二三四五六七八", limit=6) == ["一二三四五六", "七八"]
    assert cut_line("一二三", limit=6) == ["一二三"]


def test_a_line_over_max_line_characters_is_read_in_pieces_of_whole_sentences(tmp_path):
    from toolkit.textio import MAX_LINE, iter_lines

    sentence = "工会组织职工开展劳动竞赛和技能比武活动。"
    path = tmp_path / "one_line.txt"
    path.write_text(sentence * (MAX_LINE // len(sentence) * 2 + 3), encoding="utf-8")
    lines = list(iter_lines(path))
    assert len(lines) == 3 and all(len(line) <= MAX_LINE and line.endswith("。") for line in lines)
    assert "".join(lines) == path.read_text(encoding="utf-8")
