"""The one owner of output escaping: Markdown, spreadsheet (CSV formula) and terminal text.

Every value that comes from a hospital file or a user (narratives, product fields, file names,
reasons) is hostile until it is escaped for the place it is written to:

* Markdown (receipts, notices, evidence narratives): :func:`md_escape` for running text and
  :func:`md_cell` for a table cell;
* spreadsheets: :func:`safe_cell` / :func:`write_safe_csv` prefix a cell that a spreadsheet would
  run as a formula with ``'`` (OWASP "CSV injection"; full-width forms count too);
* terminals: :func:`terminal_text` drops control characters, so a narrative cannot move the
  cursor or recolour the screen; :func:`one_line` shows every control character (line breaks
  included) as an escape, so a file name cannot add a line of its own to a log.

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
    return _defused(text)


def _defused(text: str) -> str:
    """``text`` with a leading quote when a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def write_safe_csv(frame: pd.DataFrame, path: Path) -> None:
    """UTF-8 with BOM (Excel opens Chinese correctly), CRLF rows, every cell through
    :func:`safe_cell`; the same frame always gives the same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        _write_csv_rows(frame, handle)


def safe_csv_bytes(frame: pd.DataFrame) -> bytes:
    """The bytes :func:`write_safe_csv` would write (for a download), built column by column."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(str(c)) for c in frame.columns])
    columns = [_safe_column(frame[c]) for c in frame.columns]
    writer.writerows(zip(*columns, strict=True) if columns else [])
    return buffer.getvalue().encode("utf-8-sig")


def _write_csv_rows(frame: pd.DataFrame, handle: TextIO) -> None:
    writer = csv.writer(handle, lineterminator="\r\n")
    writer.writerow([safe_cell(str(c)) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        writer.writerow([safe_cell(_native(v)) for v in row])


def _safe_column(values: pd.Series) -> list[str]:
    """:func:`safe_cell` of every value of a column (as the row-by-row writer does it); a
    column of text only is done with column operations (an export's cells are mostly text)."""
    text = _text_column(values)
    if text is not None:
        return text
    return [safe_cell(_native(v)) for v in values.tolist()]


def _is_text_column(values: pd.Series) -> bool:
    """Every value is text or missing (what :func:`_text_column` may handle)."""
    if isinstance(values.dtype, pd.StringDtype):
        return True
    return values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) in (
        "string",
        "empty",
    )


def _text_column(values: pd.Series) -> list[str] | None:
    """:func:`safe_cell` of a column holding only text and missing values (missing -> "", a
    formula start -> a leading quote) in one pass without a call per cell; None for any other
    column."""
    if not _is_text_column(values):
        return None
    return [_defused(v) if isinstance(v, str) else "" for v in values.tolist()]


# Characters XML 1.0 cannot carry (a spreadsheet would refuse the file): dropped from cells.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _xml_text(text: str) -> str:
    text = _XML_ILLEGAL.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def safe_xlsx_bytes(frame: pd.DataFrame, sheet: str = "cases") -> bytes:
    """An XLSX workbook of ``frame`` that no spreadsheet evaluates: every text cell is the
    :func:`safe_cell` text stored as an inline string (never a formula, never a shared
    formula-looking value); real numbers stay numbers; characters XML cannot carry are
    dropped. Written directly as SpreadsheetML (a few thousand cells a millisecond, where an
    object model takes a hundred times longer); the same frame always gives the same bytes."""
    import zipfile

    letters = [_column_letter(i) for i in range(len(frame.columns))]
    numeric = [
        pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
        for c in frame.columns
    ]
    rows = [
        "".join(
            _inline_cell(f"{letters[i]}1", safe_cell(str(c))) for i, c in enumerate(frame.columns)
        )
    ]
    cells: list[list[str]] = []
    for i, column in enumerate(frame.columns):
        text = None if numeric[i] else _text_column(frame[column])
        if text is not None:
            cells.append(_xlsx_text_cells(frame[column], text, letters[i]))
            continue
        out = []
        for n, value in enumerate(frame[column].tolist(), start=2):
            value = _native(value)
            if _is_missing(value):
                out.append("")
            elif numeric[i] and isinstance(value, int | float) and not isinstance(value, bool):
                out.append(f'<c r="{letters[i]}{n}"><v>{value!r}</v></c>')
            else:
                out.append(_inline_cell(f"{letters[i]}{n}", safe_cell(value)))
        cells.append(out)
    rows += ["".join(parts) for parts in zip(*cells, strict=True)] if cells else []
    body = "".join(f'<row r="{n}">{row}</row>' for n, row in enumerate(rows, start=1))
    worksheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{body}</sheetData></worksheet>"
    )
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{_xml_text(sheet[:31])}" sheetId="1" r:id="rId1"/></sheets>'
        "</workbook>"
    )
    parts = {
        **_XLSX_PARTS,
        "xl/workbook.xml": workbook,
        "xl/worksheets/sheet1.xml": worksheet,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, text.encode("utf-8"))
    return buffer.getvalue()


def _xlsx_text_cells(values: pd.Series, texts: list[str], letter: str) -> list[str]:
    """The cells (from row 2) of a column of text only, as the cell-by-cell writer makes them
    (missing -> no cell); ``texts``: its :func:`_text_column`."""
    return [
        _inline_cell(f"{letter}{n}", text) if isinstance(value, str) else ""
        for n, (value, text) in enumerate(zip(values.tolist(), texts, strict=True), start=2)
    ]


def _inline_cell(ref: str, text: str) -> str:
    """A worksheet cell holding ``text`` (already made safe) as an inline string."""
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{_xml_text(text)}</t></is></c>'


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


_ANY_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(value: object) -> str:
    """Text for one log line: every control character (line breaks, tabs, escape sequences)
    shown as ``\\n``, ``\\t`` or ``\\xNN``, so the value stays on its line and inert."""
    if value is None:
        return ""
    return _ANY_CONTROL_RE.sub(lambda m: repr(m.group())[1:-1], str(value))
