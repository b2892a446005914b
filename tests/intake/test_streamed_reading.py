"""Streamed reading (``read_extract_chunks``) reads exactly what the whole file reads.

Properties over generated delimited files: quoted cells with commas, quotes and line breaks
(CRLF, LF, lone CR), blank rows, a BOM, CRLF or LF line ends, UTF-8 or GB18030, cells over the
length limit, and sometimes one malformed row anywhere (at a piece boundary included). The
decoder's and the text reader's blocks are made a few bytes long, so block boundaries fall
inside multi-byte characters and quoted multi-line fields. The pieces, put together, equal
the whole file's RawExtract; a file rejected whole is rejected with the same rule, parameters
and header language when streamed. The strict decoding check, block by block, is compared
with the whole-text reference it replaced (decode all, then search)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.config import IntakeLimits
from pipeline.intake import reader
from pipeline.intake.bounds import FileRejected
from pipeline.intake.reader import check_encoding, read_extract, read_extract_chunks

HEADERS = ["case_id", "narrative", "age", "product_name"]
cell_st = st.one_of(
    st.sampled_from(["", " ", "K1", "张伟在家摔倒", 'say "hi"', "a,b", "line1\nline2", "x\r\ny"]),
    st.text(alphabet='ab ,"\n\r中é', max_size=12),
)
row_st = st.one_of(
    st.lists(cell_st, min_size=4, max_size=4),
    st.lists(cell_st, min_size=0, max_size=6),  # short, long and blank rows
)


def _file(rows: list[list[str]], bom: bool, crlf: bool, gb: bool, bad_at: int | None) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(HEADERS)
    for i, row in enumerate(rows):
        if i == bad_at:
            buffer.write('K9,"broken"x,3,p' + ("\r\n" if crlf else "\n"))
        writer.writerow(row)
    if bad_at is not None and bad_at >= len(rows):
        buffer.write('K9,"unclosed,3,p\n')
    text = buffer.getvalue()
    if gb:
        return text.encode("gb18030")
    return ("\ufeff" if bom else "").encode() + text.encode("utf-8")


def _outcome(read):  # type: ignore[no-untyped-def]
    try:
        return "ok", read()
    except FileRejected as exc:
        return "rejected", (exc.rule, exc.params, exc.headers)


def _joined(pieces: list[reader.RawExtract]) -> dict:
    rows, numbers, oversize = [], [], {}
    for piece in pieces:
        oversize.update({len(rows) + i: cols for i, cols in piece.oversize.items()})
        rows += piece.rows
        numbers += piece.row_numbers
    first = pieces[0]
    return {
        "headers": first.headers,
        "rows": rows,
        "row_numbers": numbers,
        "oversize": oversize,
        "format": first.file_format,
        "encoding": first.encoding,
        "warnings": first.warnings,
    }


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(row_st, min_size=0, max_size=12),
    bom=st.booleans(),
    crlf=st.booleans(),
    gb=st.booleans(),
    bad_at=st.one_of(st.none(), st.integers(0, 12)),
    chunk=st.integers(1, 5),
    block=st.integers(1, 17),
)
def test_streamed_pieces_equal_the_whole_file(rows, bom, crlf, gb, bad_at, chunk, block):
    data = _file(rows, bom, crlf, gb, bad_at)
    limits = IntakeLimits(max_cell_chars=6)
    path = Path("GZ001_20260215.csv")
    whole = _outcome(lambda: read_extract(path, data, limits))
    old_block = reader._DECODE_BLOCK
    reader._DECODE_BLOCK = block
    try:
        pieces = _outcome(lambda: list(read_extract_chunks(path, data, limits, chunk)))
    finally:
        reader._DECODE_BLOCK = old_block
    assert pieces[0] == whole[0], (pieces, whole)
    if whole[0] == "rejected":
        assert pieces[1] == whole[1]
        return
    got = pieces[1]
    assert all(len(p.rows) == chunk for p in got[:-1]) and 0 < len(got[-1].rows) <= chunk
    expected = whole[1]
    assert _joined(got) == _joined([expected])
    # Not vacuous: every non-blank record after the header is there, in the sender's
    # numbering (the csv module over the whole decoded text as an independent count).
    text = data.decode("gb18030" if gb else "utf-8-sig")
    records = list(csv.reader(io.StringIO(text, newline="")))
    # (cells over the limit are cut to it first: a row blank within the limit is blank)
    numbers = [i for i, r in enumerate(records) if i and any(c[:6].strip() for c in r)]
    assert expected.row_numbers == numbers


def _reference_decode(data: bytes) -> tuple[str, str]:
    """The whole-text decoding check as it was before streaming (decode everything, then
    search the text): the reference the block-by-block check must agree with."""
    control = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
    encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        encoding = reader._classify_lines(data)
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            raise FileRejected("undecodable_file") from None
        if control.search(text):
            raise FileRejected("undecodable_file") from None
        return text, encoding
    match = control.search(text)
    if match is not None:
        nul = text.find("\x00")
        if nul >= 0:
            raise FileRejected("undecodable_file", variant="nul", line=text.count("\n", 0, nul) + 1)
        line = text.count("\n", 0, match.start()) + 1
        raise FileRejected("control_characters", line=line, char=f"U+{ord(match.group()):04X}")
    return text, encoding


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet="ab\n\r,中é\x00\x01\x7f\x9b", max_size=30),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "mixed"]),
    junk=st.one_of(st.none(), st.binary(min_size=1, max_size=3)),
    block=st.integers(1, 9),
)
def test_block_decoding_check_equals_the_whole_text_check(text, encoding, junk, block):
    if encoding == "mixed":
        half = len(text) // 2
        data = text[:half].encode("utf-8") + b"\n" + text[half:].encode("gb18030")
    else:
        data = text.encode(encoding)
    if junk is not None:
        data += junk
    expected = _outcome(lambda: _reference_decode(data))
    old_block = reader._DECODE_BLOCK
    reader._DECODE_BLOCK = block
    try:
        got = _outcome(lambda: check_encoding(data))
    finally:
        reader._DECODE_BLOCK = old_block
    if expected[0] == "ok":
        assert got == ("ok", expected[1][1])
        assert reader.decode_text(data) == expected[1]
    else:
        assert got == expected


@pytest.mark.parametrize("chunk", [1, 2, 3])
def test_a_broken_row_after_the_first_piece_rejects_the_whole_file(chunk):
    rows = [[f"K{i}", f"在家\n摔倒 {i}", "30", "p"] for i in range(6)]
    data = _file(rows, bom=True, crlf=True, gb=False, bad_at=4)
    pieces = read_extract_chunks(Path("f.csv"), data, IntakeLimits(), chunk)
    assert len(next(pieces).rows) == chunk  # pieces came before the broken row...
    with pytest.raises(FileRejected) as caught:
        list(pieces)
    assert caught.value.rule == "malformed_csv"  # ...and the file is still rejected whole
    with pytest.raises(FileRejected) as whole:
        read_extract(Path("f.csv"), data)
    assert (whole.value.rule, whole.value.params) == (caught.value.rule, caught.value.params)


@pytest.mark.parametrize(
    ("extra_headers", "tail"),
    [
        ([], b""),  # accepted: the prepared frame equals the whole file's
        (["性别"], b""),  # two columns for one field: refused after reading, rows counted
        ([], b'K9,"broken"x,1\r\n'),  # a broken record after the first pieces
    ],
)
def test_a_streamed_submission_equals_the_whole_one(registry, extra_headers, tail):
    import intake_helpers as h

    from pipeline.intake.submission import read_submission

    rows = [h.case_row(f"C{i}", narrative=f"在家摔倒\r\n第{i}次") for i in range(7)]
    data = h.csv_bytes(rows, headers=[*h.EN_HEADERS, *extra_headers]) + tail
    f = h.unlanded_file(data)
    whole = read_submission(f, registry, h.KEY.encode(), data=data, limits=IntakeLimits())
    streamed = read_submission(
        f, registry, h.KEY.encode(), data=data, limits=IntakeLimits(chunk_rows=2)
    )
    assert streamed.meta == whole.meta
    assert streamed.row_errors == whole.row_errors
    if whole.frame is None:
        assert streamed.frame is None and whole.meta["file_rule"]
    else:
        assert whole.meta["rows_received"] == 7
        pd.testing.assert_frame_equal(streamed.frame, whole.frame)
