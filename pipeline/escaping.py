"""The one owner of output escaping: Markdown, spreadsheet (CSV formula) and terminal text.

Every value that comes from a hospital file or a user (narratives, product fields, file names,
reasons) is hostile until it is escaped for the place it is written to:

* Markdown (receipts, notices, evidence narratives): :func:`md_escape` for running text and
  :func:`md_cell` for a table cell;
* spreadsheets: :func:`safe_cell` / :func:`write_safe_csv` prefix a cell that a spreadsheet would
  run as a formula with ``'`` (OWASP "CSV injection"; full-width forms count too);
* terminals: :func:`terminal_text` drops control characters, so a narrative cannot move the
  cursor or recolour the screen.

HTML is escaped by Jinja2's autoescape in the templates (reports, notices, evidence summary);
nothing here marks text as safe.
"""

from __future__ import annotations

import csv
import io
import math
import re
from datetime import date, datetime
from pathlib import Path
from typing import TextIO

import pandas as pd

# ---- Markdown ------------------------------------------------------------------------------

_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_INLINE = set("\\`*_{}[]|~")
_LINE_START = re.compile(r"^(?:[#+\-=]|\d+[.)])")


def md_escape(value: object) -> str:
    """Markdown that shows hostile text as text.

    ``<``, ``>`` and ``&`` become HTML entities (so text stays text whether or not the renderer
    passes raw HTML through); characters that open inline Markdown anywhere (emphasis, code,
    links, tables, escapes) are backslash-escaped; characters that only mean something at the
    start of a line (headings, lists, quotes, setext underlines) are escaped when the value
    starts with them. Line breaks become spaces, so one value cannot add a line of its own.
    """
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = " ".join(str(value).split())
    out = "".join(_ENTITIES.get(ch) or ("\\" + ch if ch in _INLINE else ch) for ch in text)
    match = _LINE_START.match(out)
    if match:  # "# x", "- x", "1. x", "===": escape the marker's last character
        end = match.end() - 1
        out = out[:end] + "\\" + out[end:]
    return out


def md_cell(text: object) -> str:
    """A Markdown table cell: inert in Markdown and in any HTML it is rendered to."""
    return (
        str(text)
        .replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\n", " ")
    )


# ---- spreadsheets --------------------------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def safe_cell(value: object) -> str:
    """Text of ``value`` that no spreadsheet evaluates; None/NaN -> ""."""
    if _is_missing(value):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)  # a real number is data, not a formula: -3 stays -3
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, pd.Timestamp | datetime):
        text = value.isoformat(sep=" ")
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def write_safe_csv(frame: pd.DataFrame, path: Path) -> None:
    """UTF-8 with BOM (Excel opens Chinese correctly), CRLF rows, every cell through
    :func:`safe_cell`; the same frame always gives the same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        _write_csv_rows(frame, handle)


def safe_csv_bytes(frame: pd.DataFrame) -> bytes:
    """The bytes :func:`write_safe_csv` would write (for a download)."""
    buffer = io.StringIO(newline="")
    _write_csv_rows(frame, buffer)
    return buffer.getvalue().encode("utf-8-sig")


def _write_csv_rows(frame: pd.DataFrame, handle: TextIO) -> None:
    writer = csv.writer(handle, lineterminator="\r\n")
    writer.writerow([safe_cell(str(c)) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        writer.writerow([safe_cell(_native(v)) for v in row])


def safe_xlsx_bytes(frame: pd.DataFrame, sheet: str = "cases") -> bytes:
    """An XLSX workbook of ``frame`` that no spreadsheet evaluates: every text cell goes through
    :func:`safe_cell` and is stored with the string type (never a formula); real numbers stay
    numbers. The same frame always gives the same bytes (fixed document times)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    fixed = datetime(2000, 1, 1)
    book.properties.created = book.properties.modified = fixed
    book.properties.creator = "Sentinel"
    ws = book.create_sheet(sheet[:31])

    def cell(value: object) -> WriteOnlyCell:
        value = _native(value)
        if (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and not _is_missing(value)
        ):
            return WriteOnlyCell(ws, value=value)
        out = WriteOnlyCell(ws, value=safe_cell(value))
        out.data_type = "s"
        return out

    ws.append([cell(str(c)) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        ws.append([cell(v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return _fixed_zip_times(buffer.getvalue())


def _fixed_zip_times(data: bytes) -> bytes:
    """openpyxl stamps each zip member with the current time: rewrite them to a fixed one."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()


def _native(value: object) -> object:
    """numpy scalars -> Python scalars (so 3.0 from an int column prints like Python does)."""
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, pd.Timestamp | str):
        try:
            return item()
        except (ValueError, TypeError):
            return value
    return value


# ---- terminals -----------------------------------------------------------------------------

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x9b]")


def terminal_text(value: object, width: int | None = None) -> str:
    """Terminal-safe text: no control characters (a narrative cannot move the cursor);
    cut to ``width`` characters with an ellipsis."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = _CONTROL_RE.sub(" ", str(value))
    if width and len(text) > width:
        text = text[: width - 1] + "…"
    return text
