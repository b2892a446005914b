"""Read one extract file into rows of text, whatever its format and encoding, within limits.

Formats: CSV (UTF-8, UTF-8 with BOM, GB18030/GBK), tab-separated text, XLSX
(:mod:`pipeline.intake.xlsx`), and the public NEISS annual tab-separated layout. Anything that
cannot be read becomes a ``FileRejected`` with a rule the sender can act on; a file is never
decoded with a guess that could garble it. The limits of ``Settings.intake`` (file bytes,
unpacked bytes, rows, columns, cell length) are checked before reading where possible and
while reading (:class:`pipeline.intake.bounds.Bounds`); a cell over the length limit is cut
and flagged, so its row is quarantined while the rest of the file is kept.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import IntakeLimits
from pipeline.contract import header_language
from pipeline.intake.bounds import Bounds, FileRejected
from pipeline.intake.xlsx import cell_text, read_xlsx

__all__ = [
    "FileRejected",
    "RawExtract",
    "cell_text",
    "check_encoding",
    "decode_text",
    "read_extract",
    "read_extract_chunks",
]

NEISS_MARKER = "cpsc_case_number"
# C0 controls except tab, line feed and carriage return; DEL; C1 controls (U+0080-U+009F,
# e.g. the one-character CSI U+009B that terminals obey).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CHINESE = re.compile(r"[\u4e00-\u9fff]")
# The csv module refuses cells over 131,072 characters by raising for the whole file; the cell
# limit is ours to apply (per row), so the csv module's own is lifted once for the process.
csv.field_size_limit(sys.maxsize if sys.maxsize < 2**63 else 2**62)


@dataclass
class RawExtract:
    """A file's rows as text: headers as written, and one list of cells per data row."""

    headers: list[str]
    rows: list[list[str]]
    row_numbers: list[int]  # 1-based data row number as the sender counts it (header excluded)
    file_format: str  # csv | tsv | xlsx | neiss
    encoding: str  # utf-8 | utf-8-sig | gb18030 | xlsx
    warnings: list[str] = field(default_factory=list)
    # data row index (position in ``rows``) -> column positions whose cell was over the limit
    oversize: dict[int, set[int]] = field(default_factory=dict)

    @property
    def language(self) -> str:
        return header_language(self.headers)


def _has_utf8_chinese(line: bytes) -> bool:
    """A line that is valid UTF-8 holding Chinese: GB18030-encoded Chinese practically never
    forms valid UTF-8 (its bytes do not follow UTF-8's lead/continuation pattern)."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return len(_CHINESE.findall(text)) >= 2


def _classify_lines(data: bytes) -> str:
    """For bytes that are not UTF-8 as a whole: "gb18030", or raise ``mixed_encoding`` (some
    lines UTF-8, some GB18030) or ``undecodable_file`` (some line neither)."""
    utf8_line = gb_line = 0
    # Line by line without a list of every line (a copy of the file): the same lines as
    # ``data.split(b"\n")``, each with its line feed (which changes none of the tests below).
    for number, line in enumerate(io.BytesIO(data), 1):
        if line.isascii():
            continue
        if line.startswith(b"\xef\xbb\xbf") or _has_utf8_chinese(line):
            utf8_line = utf8_line or number
            continue
        try:
            line.decode("utf-8")
            continue  # valid UTF-8 without Chinese: also valid in either reading
        except UnicodeDecodeError:
            pass
        try:
            line.decode("gb18030")
        except UnicodeDecodeError:
            raise FileRejected("undecodable_file") from None
        gb_line = gb_line or number
    if utf8_line and gb_line:
        raise FileRejected("mixed_encoding", utf8_line=utf8_line, gb_line=gb_line)
    return "gb18030"


def _control_character(text: str) -> tuple[int, str] | None:
    match = _CONTROL.search(text)
    if match is None:
        return None
    line = text.count("\n", 0, match.start()) + 1
    return line, f"U+{ord(match.group()):04X}"


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode bytes strictly: UTF-8 (with or without BOM), else GB18030, else reject. The
    whole text is checked for control characters (not only its beginning)."""
    encoding = check_encoding(data)
    return data.decode(encoding), encoding


# Bytes decoded at a time by :func:`check_encoding` (the text of the file is never whole).
_DECODE_BLOCK = 4 * 1024 * 1024


def _check_blocks(data: bytes, encoding: str) -> None:
    """Decode ``data`` strictly block by block and raise what :func:`decode_text` raised for
    the whole text: undecodable bytes; else a NUL anywhere (its line); else the first control
    character (its line); GB18030 text with any control character is undecodable."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    view = memoryview(data)
    lines = 0  # line feeds before the current block
    control: tuple[int, str] | None = None
    for start in range(0, max(len(data), 1), _DECODE_BLOCK):
        stop = start + _DECODE_BLOCK
        try:
            text = decoder.decode(view[start:stop], final=stop >= len(data))
        except UnicodeDecodeError:
            raise FileRejected("undecodable_file") from None
        match = _CONTROL.search(text)
        if match is not None and encoding != "gb18030":
            nul = text.find("\x00")
            if nul >= 0:  # e.g. UTF-16, or a binary file that happens to be valid UTF-8
                nul_line = lines + text.count("\n", 0, nul) + 1
                # Later blocks may still be undecodable (that rejection comes first).
                for rest in range(stop, len(data), _DECODE_BLOCK):
                    try:
                        decoder.decode(
                            view[rest : rest + _DECODE_BLOCK],
                            final=rest + _DECODE_BLOCK >= len(data),
                        )
                    except UnicodeDecodeError:
                        raise FileRejected("undecodable_file") from None
                raise FileRejected("undecodable_file", variant="nul", line=nul_line)
            if control is None:
                control = (
                    lines + text.count("\n", 0, match.start()) + 1,
                    f"U+{ord(match.group()):04X}",
                )
        elif match is not None:
            control = control or (0, "")  # GB18030: any control character, no line
        lines += text.count("\n")
    if control is not None:
        if encoding == "gb18030":  # GB18030 maps almost any byte string: not text
            raise FileRejected("undecodable_file")
        raise FileRejected("control_characters", line=control[0], char=control[1])


def check_encoding(data: bytes) -> str:
    """The encoding :func:`decode_text` would decode ``data`` with, checked the same way
    (strictly, control characters anywhere), one block at a time (bounded memory)."""
    encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        _check_blocks(data, encoding)
        return encoding
    except FileRejected as exc:
        if exc.rule != "undecodable_file" or exc.params:
            raise  # a control character, or NUL, in valid UTF-8
    encoding = _classify_lines(data)
    _check_blocks(data, encoding)
    return encoding


_CSV_PROBLEMS = (
    ("expected after", "after_quote"),
    ("unexpected end of data", "unclosed_quote"),
    ("eof inside string", "unclosed_quote"),
)


def _read_delimited(
    data: bytes, encoding: str, delimiter: str, bounds: Bounds
) -> Iterator[tuple[int, list[str]]]:
    """(record number, cells) of every record, within the row and column limits, decoded as
    they are read (the file's text is never whole; ``encoding`` was checked before)."""
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    stream._CHUNK_SIZE = _DECODE_BLOCK  # bytes decoded at a time (tests make it tiny)
    reader = csv.reader(stream, delimiter=delimiter, strict=True)
    header: list[str] | None = None
    try:
        for index, row in enumerate(reader):
            if header is None and any(c.strip() for c in row):
                header = row
            try:
                bounds.row(len(row), reader.line_num)
            except FileRejected as exc:
                exc.headers = header[: bounds.limits.max_columns] if header else None
                raise
            yield index, row
    except csv.Error as exc:
        problem = str(exc).lower()
        variant = next((v for key, v in _CSV_PROBLEMS if key in problem), None)
        raise FileRejected("malformed_csv", variant=variant, line=reader.line_num) from exc


def read_extract(
    path: Path, data: bytes | None = None, limits: IntakeLimits | None = None
) -> RawExtract:
    """Read ``path`` (or ``data`` if given) into a RawExtract, or raise FileRejected."""
    return next(read_extract_chunks(path, data, limits))


def read_extract_chunks(
    path: Path,
    data: bytes | None = None,
    limits: IntakeLimits | None = None,
    chunk_rows: int | None = None,
) -> Iterator[RawExtract]:
    """:func:`read_extract` ``chunk_rows`` data rows at a time (None: the whole file as one
    piece), each piece a RawExtract with the file's headers, its own rows, their row numbers
    and oversize cells (positions within the piece). A text file is decoded and parsed as it
    is consumed, so only one piece of rows is held; an XLSX sheet is read whole first
    (bounded by its own size limits), then given in pieces. The pieces together are exactly what the whole file reads as.
    FileRejected may be raised after some pieces: the caller must then drop them (the whole
    file is rejected, as :func:`read_extract` would have rejected it before any row)."""
    bounds = Bounds(limits)
    if data is None:
        bounds.file_size(path.stat().st_size)
        data = path.read_bytes()
    bounds.file_size(len(data))
    if not data.strip():
        raise FileRejected("empty_file")
    suffix = path.suffix.lower()
    sheet = None
    if suffix == ".xlsx" or data.startswith(b"PK\x03\x04"):
        sheet = read_xlsx(data, bounds)
        for number, cells, _ in sheet.rows:
            # XML carries DEL and the C1 controls (U+0080-U+009F): refused as in text files.
            found = next((f for f in map(_control_character, cells) if f), None)
            if found is not None:
                raise FileRejected("control_characters", line=number, char=found[1])
        over_by_line = {number - 1: over for number, _, over in sheet.rows if over}
        table: Iterator[tuple[int, list[str], set[int]]] = (
            (number - 1, cells, over_by_line.get(number - 1, set()))
            for number, cells, _ in sheet.rows
        )
        # The sheet is read whole (bounded by the unpacked-size and row limits; see
        # pipeline/intake/xlsx.py), then given in pieces like a text file's rows.
        encoding, file_format = "xlsx", "xlsx"
    elif suffix == ".xls":
        raise FileRejected("unsupported_format", variant="xls", suffix=".xls")
    else:
        encoding = check_encoding(data)
        end = data.find(b"\n")
        first_line = (data if end < 0 else data[:end]).decode(encoding)
        delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
        table = _cut_oversize(_read_delimited(data, encoding, delimiter, bounds), bounds)
        file_format = "tsv" if delimiter == "\t" else "csv"

    headers: list[str] | None = None
    header_index = 0
    warnings: list[str] = []
    rows: list[list[str]] = []
    numbers: list[int] = []
    oversize: dict[int, set[int]] = {}
    pieces = 0
    for index, row, over in table:
        if not any(c.strip() for c in row):
            continue  # a fully blank row is dropped; the sender's numbering is kept
        if headers is None:
            header_index, headers = index, [h.strip() for h in row]
            while headers and not headers[-1]:
                headers.pop()
            if not headers:
                raise FileRejected("no_header")
            if file_format == "tsv" and NEISS_MARKER in {h.lower() for h in headers}:
                file_format = "neiss"
            if file_format == "xlsx" and sheet is not None and sheet.dimension:
                warnings.append(f"sheet dimension {sheet.dimension} (not used)")
            continue
        if over:
            oversize[len(rows)] = over
        rows.append(row)
        numbers.append(index - header_index)
        if chunk_rows and len(rows) >= chunk_rows:
            yield RawExtract(headers, rows, numbers, file_format, encoding, warnings, oversize)
            pieces += 1
            rows, numbers, oversize = [], [], {}
    if headers is None:
        raise FileRejected("empty_file")
    if rows or not pieces:
        if not rows:
            rejection = FileRejected("no_rows")
            rejection.headers = headers  # the receipt is still in the headers' language
            raise rejection
        yield RawExtract(headers, rows, numbers, file_format, encoding, warnings, oversize)


def _cut_oversize(
    records: Iterator[tuple[int, list[str]]], bounds: Bounds
) -> Iterator[tuple[int, list[str], set[int]]]:
    """Each record with the positions of its cells over the length limit, cut to the limit."""
    limit = bounds.limits.max_cell_chars
    for index, row in records:
        over = {i for i, cell in enumerate(row) if len(cell) > limit}
        for i in over:
            row[i] = bounds.cell(row[i])[0]
        yield index, row, over
