"""Deterministic file writers: CSV bytes in any encoding and reproducible XLSX workbooks.

openpyxl stamps the wall-clock time into ``docProps/core.xml`` and into every zip entry; the
XLSX writer pins both to a timestamp derived from the data and rewrites the archive with fixed
``ZipInfo`` metadata, so the same rows always give the same bytes.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell


def csv_bytes(
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    encoding: str,
    newline: str = "\r\n",
    delimiter: str = ",",
) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=newline, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL)
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)


_CORE_TS = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def xlsx_bytes(
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    stamp: datetime,
    date_columns: Sequence[int] = (),
    date_format: str = "yyyy-mm-dd hh:mm",
    sheet_title: str = "Sheet1",
    creator: str = "HIS export",
) -> bytes:
    """An XLSX workbook whose bytes depend only on the arguments."""
    wb = Workbook(write_only=True)
    wb.properties.creator = creator
    wb.properties.lastModifiedBy = creator
    wb.properties.created = stamp
    wb.properties.modified = stamp
    ws = wb.create_sheet(sheet_title)
    ws.append(list(header))
    date_cols = set(date_columns)
    for row in rows:
        out: list[object] = []
        for i, value in enumerate(row):
            if i in date_cols and isinstance(value, datetime):
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = date_format
                out.append(cell)
            else:
                out.append(value)
        ws.append(out)
    raw = io.BytesIO()
    wb.save(raw)
    return _normalise_zip(raw.getvalue(), stamp)


def _normalise_zip(data: bytes, stamp: datetime) -> bytes:
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    date_time = (
        max(stamp.year, 1980),
        stamp.month,
        stamp.day,
        stamp.hour,
        stamp.minute,
        stamp.second - stamp.second % 2,
    )
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            payload = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                payload = _CORE_TS.sub(lambda m: m.group(1) + iso + m.group(3), payload)
            zi = zipfile.ZipInfo(info.filename, date_time=date_time)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.create_system = 0
            zi.external_attr = 0
            dst.writestr(zi, payload, compresslevel=6)
    return out.getvalue()
