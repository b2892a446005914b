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

import csv
import io
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import IntakeLimits
from pipeline.contract import header_language
from pipeline.intake.bounds import Bounds, FileRejected
from pipeline.intake.xlsx import cell_text, read_xlsx

__all__ = ["FileRejected", "RawExtract", "decode_text", "read_extract", "cell_text"]

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
    for number, line in enumerate(data.split(b"\n"), 1):
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


def _decode(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode bytes strictly: UTF-8 (with or without BOM), else GB18030, else reject. The
    whole text is checked for control characters (not only its beginning)."""
    encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    text = _decode(data, encoding)
    if text is None:
        encoding = _classify_lines(data)
        text = _decode(data, encoding)
        if text is None or _CONTROL.search(text):
            # GB18030 maps almost any byte string: control characters mean it is not text.
            raise FileRejected("undecodable_file")
        return text, encoding
    found = _control_character(text)
    if found is not None:
        nul = text.find("\x00")
        if nul >= 0:  # e.g. UTF-16, or a binary file that happens to be valid UTF-8
            line = text.count("\n", 0, nul) + 1
            raise FileRejected("undecodable_file", variant="nul", line=line)
        raise FileRejected("control_characters", line=found[0], char=found[1])
    return text, encoding


_CSV_PROBLEMS = (
    ("expected after", "after_quote"),
    ("unexpected end of data", "unclosed_quote"),
    ("eof inside string", "unclosed_quote"),
)


def _read_delimited(text: str, delimiter: str, bounds: Bounds) -> list[tuple[int, list[str]]]:
    """(record number, cells) of every record, within the row and column limits."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[tuple[int, list[str]]] = []
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
            records.append((index, row))
    except csv.Error as exc:
        problem = str(exc).lower()
        variant = next((v for key, v in _CSV_PROBLEMS if key in problem), None)
        raise FileRejected("malformed_csv", variant=variant, line=reader.line_num) from exc
    return records


def read_extract(
    path: Path, data: bytes | None = None, limits: IntakeLimits | None = None
) -> RawExtract:
    """Read ``path`` (or ``data`` if given) into a RawExtract, or raise FileRejected."""
    bounds = Bounds(limits)
    if data is None:
        bounds.file_size(path.stat().st_size)
        data = path.read_bytes()
    bounds.file_size(len(data))
    if not data.strip():
        raise FileRejected("empty_file")
    suffix = path.suffix.lower()
    oversize_by_line: dict[int, set[int]] = {}
    if suffix == ".xlsx" or data.startswith(b"PK\x03\x04"):
        sheet = read_xlsx(data, bounds)
        for number, cells, _ in sheet.rows:
            # XML carries DEL and the C1 controls (U+0080-U+009F): refused as in text files.
            found = next((f for f in map(_control_character, cells) if f), None)
            if found is not None:
                raise FileRejected("control_characters", line=number, char=found[1])
        table = [(number - 1, cells) for number, cells, _ in sheet.rows]
        oversize_by_line = {number - 1: over for number, _, over in sheet.rows if over}
        encoding, file_format = "xlsx", "xlsx"
    elif suffix == ".xls":
        raise FileRejected("unsupported_format", variant="xls", suffix=".xls")
    else:
        text, encoding = decode_text(data)
        first_line = text.split("\n", 1)[0]
        delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
        table = _read_delimited(text, delimiter, bounds)
        file_format = "tsv" if delimiter == "\t" else "csv"
        for index, row in table:
            over = {i for i, cell in enumerate(row) if len(cell) > bounds.limits.max_cell_chars}
            if over:
                oversize_by_line[index] = over
                for i in over:
                    row[i] = bounds.cell(row[i])[0]

    # Drop fully blank rows but keep the sender's row numbering.
    numbered = [(i, row) for i, row in table if any(c.strip() for c in row)]
    if not numbered:
        raise FileRejected("empty_file")
    header_index, headers = numbered[0]
    headers = [h.strip() for h in headers]
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        raise FileRejected("no_header")
    body = numbered[1:]
    if not body:
        rejection = FileRejected("no_rows")
        rejection.headers = headers  # the receipt is still in the headers' language
        raise rejection
    if file_format == "tsv" and NEISS_MARKER in {h.lower() for h in headers}:
        file_format = "neiss"
    warnings = []
    if file_format == "xlsx" and sheet.dimension:
        warnings.append(f"sheet dimension {sheet.dimension} (not used)")
    return RawExtract(
        headers=headers,
        rows=[row for _, row in body],
        row_numbers=[i - header_index for i, _ in body],
        file_format=file_format,
        encoding=encoding,
        warnings=warnings,
        oversize={
            position: oversize_by_line[i]
            for position, (i, _) in enumerate(body)
            if i in oversize_by_line
        },
    )
