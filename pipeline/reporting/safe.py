"""Spreadsheet-safe text: a cell that a spreadsheet would run as a formula is prefixed with '.

A narrative such as ``=HYPERLINK("http://x")`` must open as text in Excel/WPS/LibreOffice
(OWASP "CSV injection"). Full-width forms count too: some spreadsheets fold them.
"""

from __future__ import annotations

import csv
import math
from datetime import date, datetime
from pathlib import Path

import pandas as pd

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
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow([safe_cell(str(c)) for c in frame.columns])
        for row in frame.itertuples(index=False, name=None):
            writer.writerow([safe_cell(_native(v)) for v in row])


def _native(value: object) -> object:
    """numpy scalars -> Python scalars (so 3.0 from an int column prints like Python does)."""
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, pd.Timestamp | str):
        try:
            return item()
        except (ValueError, TypeError):
            return value
    return value
