"""Read one extract file into rows of text, whatever its format and encoding.

Formats: CSV (UTF-8, UTF-8 with BOM, GB18030/GBK), tab-separated text, XLSX, and the public NEISS
annual tab-separated layout. Anything that cannot be read becomes a ``FileRejected`` with a
reason the sender can act on; a file is never decoded with a guess that could garble it.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from openpyxl import load_workbook

NEISS_MARKER = "cpsc_case_number"
_CONTROL = {chr(c) for c in range(32)} - {"\t", "\n", "\r"}
_CHINESE = re.compile(r"[\u4e00-\u9fff]")


class FileRejected(Exception):
    """The whole file is rejected; ``rule`` is a stable code, the message says why."""

    def __init__(self, rule: str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.detail = detail


@dataclass
class RawExtract:
    """A file's rows as text: headers as written, and one list of cells per data row."""

    headers: list[str]
    rows: list[list[str]]
    row_numbers: list[int]  # 1-based data row number as the sender counts it (header excluded)
    file_format: str  # csv | tsv | xlsx | neiss
    encoding: str  # utf-8 | utf-8-sig | gb18030 | xlsx
    warnings: list[str] = field(default_factory=list)


def _has_utf8_chinese_line(data: bytes) -> bool:
    """True when some line is valid UTF-8 holding Chinese characters. GB18030-encoded Chinese
    practically never forms valid UTF-8 (its bytes do not follow UTF-8's lead/continuation
    pattern), so such a line in a file that is not UTF-8 as a whole was written in UTF-8."""
    for line in data.split(b"\n"):
        if line.isascii():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if len(_CHINESE.findall(text)) >= 2:
            return True
    return False


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode bytes strictly: UTF-8 (with or without BOM), else GB18030, else reject."""
    candidates = ["utf-8-sig"] if data.startswith(b"\xef\xbb\xbf") else ["utf-8", "gb18030"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if any(ch in _CONTROL for ch in text[:65536]):
            # GB18030 maps almost any byte string; control bytes mean this is not text at all.
            break
        if encoding == "gb18030" and _has_utf8_chinese_line(data):
            # Part UTF-8, part GB18030: decoding it all as GB18030 would garble the UTF-8 rows.
            raise FileRejected(
                "mixed_encoding",
                "part of the file is UTF-8 and part GB18030 (GBK): it cannot be read safely",
                "save the whole extract in one encoding (UTF-8 or GB18030) and send it again",
            )
        return text, encoding
    raise FileRejected(
        "undecodable_file",
        "the file is not text in UTF-8 or GB18030 (GBK) and is not an XLSX workbook",
        "save the extract as CSV (UTF-8 or GB18030) or XLSX and send it again",
    )


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_xlsx(data: bytes) -> list[list[str]]:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # corrupt bytes fail in zipfile, zlib, XML parsers, openpyxl...
        raise FileRejected(
            "unreadable_file", f"the file is not a readable XLSX workbook ({type(exc).__name__})"
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        return [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    except Exception as exc:  # a corrupt sheet can fail in many ways inside openpyxl
        raise FileRejected(
            "unreadable_file", f"the XLSX workbook could not be read ({type(exc).__name__})"
        ) from exc
    finally:
        workbook.close()


def _read_delimited(text: str, delimiter: str) -> list[list[str]]:
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise FileRejected("malformed_csv", f"the file is not well-formed CSV: {exc}") from exc


def read_extract(path: Path, data: bytes | None = None) -> RawExtract:
    """Read ``path`` (or ``data`` if given) into a RawExtract, or raise FileRejected."""
    data = path.read_bytes() if data is None else data
    if not data.strip():
        raise FileRejected("empty_file", "the file is empty")
    suffix = path.suffix.lower()
    if suffix == ".xlsx" or data.startswith(b"PK\x03\x04"):
        table, encoding, file_format = _read_xlsx(data), "xlsx", "xlsx"
    elif suffix == ".xls":
        raise FileRejected(
            "unsupported_format", "legacy .xls workbooks are not accepted", "save as .xlsx or CSV"
        )
    else:
        text, encoding = decode_text(data)
        first_line = text.split("\n", 1)[0]
        delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
        table = _read_delimited(text, delimiter)
        file_format = "tsv" if delimiter == "\t" else "csv"

    # Drop fully blank rows but keep the sender's row numbering.
    numbered = [(i, row) for i, row in enumerate(table) if any(c.strip() for c in row)]
    if not numbered:
        raise FileRejected("empty_file", "the file has no header and no rows")
    header_index, headers = numbered[0]
    headers = [h.strip() for h in headers]
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        raise FileRejected("no_header", "the first row holds no column names")
    body = numbered[1:]
    if not body:
        raise FileRejected("no_rows", "the file has a header but no data rows")
    if file_format == "tsv" and NEISS_MARKER in {h.lower() for h in headers}:
        file_format = "neiss"
    return RawExtract(
        headers=headers,
        rows=[row for _, row in body],
        row_numbers=[i - header_index for i, _ in body],
        file_format=file_format,
        encoding=encoding,
    )
