"""A bounded, streaming reader for the first worksheet of an XLSX workbook.

Why not openpyxl: in read-only mode it trusts the sheet's ``<dimension>`` header (a workbook
that claims one row but holds five loses four, silently), and it cannot bound what a hostile
workbook unpacks to (a 6 MB file unpacked to 1.6 GB ran for minutes). This reader

* refuses, before unpacking anything, a workbook whose parts declare more than
  ``max_unpacked_bytes`` or whose zip directory lists more than :data:`MAX_PARTS` parts; Python's
  ``zipfile`` never returns more than a part declares, so a part that lies about its size ends
  in a CRC error (``unreadable_file``), never in unbounded output;
* parses the XML with expat as a stream (64 KiB at a time), refuses any DTD or entity
  declaration, and applies the row, column and cell limits while parsing: a cell longer than
  ``max_cell_chars`` is cut at the limit and flagged (its row is quarantined), so memory stays
  bounded by the limits, not by the file;
* never reads ``<dimension>`` to decide what to read, and counts the ``<row>`` tags of the
  sheet's bytes independently of the parser: a difference means rows were not read, and the
  file is rejected instead of losing them.

Values are converted as openpyxl converts them (shared and inline strings, numbers, booleans,
errors, dates by the cell's number format, the 1904 date system), so a workbook reads the same
as before; ``tests/intake/test_xlsx.py`` checks this against openpyxl on generated workbooks.
"""

from __future__ import annotations

import contextlib
import io
import re
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from xml.parsers import expat

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, WINDOWS_EPOCH, from_excel, from_ISO8601

from pipeline.intake.bounds import Bounds, FileRejected

MAX_PARTS = 10_000  # zip entries: a real workbook has tens; millions would exhaust memory
CHUNK = 1 << 16
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?row[\s/>]")
_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]+)$")
_SAFE_TYPES = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


def _unreadable(variant: str | None = None, **params: object) -> FileRejected:
    return FileRejected("unreadable_file", variant=variant, **params)


def _zip_entry_count(data: bytes) -> int:
    """The number of entries the zip's end-of-central-directory record declares (read before
    ``zipfile`` builds an object per entry)."""
    tail = data[-(65_535 + 22) :]
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise _unreadable()
    (entries,) = struct.unpack("<H", tail[at + 10 : at + 12])
    if entries == 0xFFFF:  # zip64: the locator precedes the record
        locator = tail.rfind(b"PK\x06\x07", 0, at)
        if locator < 0:
            raise _unreadable()
        (offset,) = struct.unpack("<Q", tail[locator + 8 : locator + 16])
        record = data[offset : offset + 56]
        if len(record) < 56 or record[:4] != b"PK\x06\x06":
            raise _unreadable()
        (entries,) = struct.unpack("<Q", record[32:40])
    return entries


class _Forbidden(Exception):
    pass


def _parser(
    start: Callable[[str, dict], None],
    end: Callable[[str], None],
    text: Callable[[str], None] | None = None,
) -> expat.XMLParserType:
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True

    def forbid(*_args: object) -> None:
        raise _Forbidden("DTDs and entity declarations are not allowed in a workbook")

    parser.StartDoctypeDeclHandler = forbid
    parser.EntityDeclHandler = forbid
    parser.ExternalEntityRefHandler = forbid
    parser.StartElementHandler = lambda name, attrs: start(name.rpartition(" ")[2], attrs)
    parser.EndElementHandler = lambda name: end(name.rpartition(" ")[2])
    if text is not None:
        parser.CharacterDataHandler = text
    return parser


def _local_attr(attrs: dict, name: str, namespaced: bool = False) -> str | None:
    for key, value in attrs.items():
        ns, _, local = key.rpartition(" ")
        if local == name and bool(ns) == namespaced:
            return value
    return None


@dataclass
class _Part:
    """One zip member streamed through a parser; counts bytes and ``<row>`` tags."""

    archive: zipfile.ZipFile
    name: str
    bounds: Bounds
    count_rows: bool = False
    row_tags: int = 0

    def feed(self, parser: expat.XMLParserType) -> None:
        carry = b""
        with self.archive.open(self.name) as stream:
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                self.bounds.unpacked(len(chunk))
                if self.count_rows:
                    # A tag ending inside the carried tail was counted with the previous chunk.
                    window = carry + chunk
                    self.row_tags += sum(
                        1 for m in _ROW_TAG.finditer(window) if m.end() > len(carry)
                    )
                    carry = window[-256:]
                parser.Parse(chunk, False)
        parser.Parse(b"", True)


def _resolve(target: str, base: str = "xl/") -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    parts: list[str] = []
    for piece in (base + target).split("/"):
        if piece == "..":
            if parts:
                parts.pop()
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)


@dataclass
class _Workbook:
    sheet_rid: str | None = None
    epoch: datetime = WINDOWS_EPOCH
    targets: dict[str, tuple[str, str]] = field(default_factory=dict)  # rId -> (type, path)
    sheet_rids: list[str] = field(default_factory=list)


def _read_workbook(archive: zipfile.ZipFile, bounds: Bounds) -> tuple[str, datetime]:
    """The path of the first worksheet and the workbook's date epoch."""
    book = _Workbook()

    def start(tag: str, attrs: dict) -> None:
        if tag == "sheet":
            rid = _local_attr(attrs, "id", namespaced=True)
            if rid:
                book.sheet_rids.append(rid)
        elif tag == "workbookPr" and attrs.get("date1904", "").lower() in ("1", "true"):
            book.epoch = CALENDAR_MAC_1904

    names = set(archive.namelist())
    if "xl/workbook.xml" not in names:
        raise _unreadable()
    _Part(archive, "xl/workbook.xml", bounds).feed(_parser(start, lambda _t: None))
    if "xl/_rels/workbook.xml.rels" in names:

        def rel(tag: str, attrs: dict) -> None:
            if tag == "Relationship" and attrs.get("Id") and attrs.get("Target"):
                book.targets[attrs["Id"]] = (attrs.get("Type", ""), _resolve(attrs["Target"]))

        _Part(archive, "xl/_rels/workbook.xml.rels", bounds).feed(_parser(rel, lambda _t: None))
    for rid in book.sheet_rids:
        kind, path = book.targets.get(rid, ("", ""))
        if kind.endswith("/worksheet") and path in names:
            return path, book.epoch
    if not book.sheet_rids and "xl/worksheets/sheet1.xml" in names:
        return "xl/worksheets/sheet1.xml", book.epoch
    raise _unreadable()


def _read_styles(archive: zipfile.ZipFile, bounds: Bounds) -> tuple[set[int], set[int]]:
    """Indexes of the cell formats that hold dates and durations (as openpyxl decides)."""
    if "xl/styles.xml" not in archive.namelist():
        return set(), set()
    custom: dict[int, str] = {}
    xf_formats: list[int] = []
    where: list[str] = []

    def start(tag: str, attrs: dict) -> None:
        where.append(tag)
        if tag == "numFmt":
            with contextlib.suppress(ValueError):
                custom[int(attrs.get("numFmtId", ""))] = attrs.get("formatCode", "")
        elif tag == "xf" and len(where) >= 2 and where[-2] == "cellXfs":
            try:
                xf_formats.append(int(attrs.get("numFmtId", "0")))
            except ValueError:
                xf_formats.append(0)

    _Part(archive, "xl/styles.xml", bounds).feed(_parser(start, lambda _t: where.pop()))
    dates, durations = set(), set()
    for index, fmt_id in enumerate(xf_formats):
        code = custom.get(fmt_id, BUILTIN_FORMATS.get(fmt_id, "General"))
        if is_date_format(code):
            dates.add(index)
        if is_timedelta_format(code):
            durations.add(index)
    return dates, durations


class _TextCollector:
    """Text of ``<t>`` elements inside a string item, cut at the cell limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0
        self.over = False
        self.in_t = False
        self.skip = 0  # depth inside <rPh> (phonetic runs are not part of the text)

    def reset(self) -> None:
        self.parts, self.size, self.over = [], 0, False

    def add(self, data: str) -> None:
        if not self.in_t or self.skip:
            return
        room = self.limit + 1 - self.size
        if room <= 0:
            self.over = True
            return
        piece = data[:room]
        self.parts.append(piece)
        self.size += len(piece)
        if self.size > self.limit:
            self.over = True

    def text(self) -> str:
        return "".join(self.parts)


def _read_shared_strings(archive: zipfile.ZipFile, bounds: Bounds) -> list[tuple[str, bool]]:
    """Every shared string as (text, longer than the cell limit)."""
    if "xl/sharedStrings.xml" not in archive.namelist():
        return []
    strings: list[tuple[str, bool]] = []
    collect = _TextCollector(bounds.limits.max_cell_chars)

    def start(tag: str, attrs: dict) -> None:
        if tag == "si":
            collect.reset()
        elif tag == "rPh":
            collect.skip += 1
        elif tag == "t":
            collect.in_t = True

    def end(tag: str) -> None:
        if tag == "t":
            collect.in_t = False
        elif tag == "rPh":
            collect.skip -= 1
        elif tag == "si":
            # openpyxl drops the escape prefix of an escaped underscore the same way.
            strings.append((collect.text().replace("x005F_", ""), collect.over))

    _Part(archive, "xl/sharedStrings.xml", bounds).feed(_parser(start, end, collect.add))
    return strings


def _column_index(ref: str | None) -> int | None:
    if not ref:
        return None
    match = _REF.match(ref)
    if not match:
        return None
    index = 0
    for ch in match.group(1).upper():
        index = index * 26 + ord(ch) - 64
    return index


def cell_text(value: object) -> str:
    """A cell value as the text intake works with (dates in ISO form, whole floats as ints)."""
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


def _number(text: str) -> int | float:
    return float(text) if ("." in text or "E" in text or "e" in text) else int(text)


class _Sheet:
    """Expat handlers for a worksheet: one list of cell texts per ``<row>``."""

    def __init__(
        self,
        bounds: Bounds,
        strings: list[tuple[str, bool]],
        dates: set[int],
        durations: set[int],
        epoch: datetime,
    ) -> None:
        self.bounds, self.strings = bounds, strings
        self.dates, self.durations, self.epoch = dates, durations, epoch
        self.rows: list[tuple[int, list[str], set[int]]] = []
        self.row_number = 0
        self.column = 0
        self.cells: dict[int, str] = {}
        self.oversize: set[int] = set()
        self.cell: dict[str, str] | None = None
        self.value = _TextCollector(bounds.limits.max_cell_chars)
        self.inline = _TextCollector(bounds.limits.max_cell_chars)
        self.in_inline = False
        self.rows_ended = 0
        self.dimension: str | None = None

    def start(self, tag: str, attrs: dict) -> None:
        if tag == "c":
            self.cell = attrs
            self.value.reset()
            self.inline.reset()
            ref_col = _column_index(attrs.get("r"))
            self.column = ref_col if ref_col is not None else self.column + 1
            if self.column > self.bounds.limits.max_columns:
                self.bounds.too_many_columns(self.row_number, self.column)
        elif tag == "v" and self.cell is not None:
            self.value.in_t = True
        elif tag == "is" and self.cell is not None:
            self.in_inline = True
        elif tag == "t" and self.in_inline:
            self.inline.in_t = True
        elif tag == "rPh" and self.in_inline:
            self.inline.skip += 1
        elif tag == "row":
            number = attrs.get("r")
            self.row_number = int(number) if number and number.isdigit() else self.row_number + 1
            self.column = 0
            self.cells, self.oversize = {}, set()
        elif tag == "dimension":
            self.dimension = attrs.get("ref")

    def text(self, data: str) -> None:
        self.value.add(data)
        self.inline.add(data)

    def end(self, tag: str) -> None:
        if tag == "v":
            self.value.in_t = False
        elif tag == "t":
            self.inline.in_t = False
        elif tag == "rPh" and self.in_inline:
            self.inline.skip -= 1
        elif tag == "is":
            self.in_inline = False
        elif tag == "c" and self.cell is not None:
            text, over = self._convert(self.cell)
            if text:
                self.cells[self.column] = text
            if over:
                self.oversize.add(self.column - 1)
            self.cell = None
        elif tag == "row":
            self.rows_ended += 1
            self.bounds.row(0, self.row_number)
            width = max(self.cells) if self.cells else 0
            values = [self.cells.get(i, "") for i in range(1, width + 1)]
            self.rows.append((self.row_number, values, self.oversize))

    def _convert(self, cell: dict) -> tuple[str, bool]:
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            return self.inline.text(), self.inline.over
        raw, over = self.value.text(), self.value.over
        if not raw:
            return "", False
        if over:
            return raw[: self.bounds.limits.max_cell_chars], True
        try:
            if kind == "s":
                text, over = self.strings[int(raw)]
                return (text[: self.bounds.limits.max_cell_chars], True) if over else (text, False)
            if kind == "b":
                return str(bool(int(raw))), False
            if kind in ("str", "e"):
                return raw, False
            if kind == "d":
                return cell_text(from_ISO8601(raw)), False
            value = _number(raw)
        except (ValueError, IndexError, OverflowError):
            raise _unreadable() from None
        style_attr = cell.get("s") or ""
        style = int(style_attr) if style_attr.isdigit() else 0
        if style in self.dates:
            try:
                converted = from_excel(value, self.epoch, timedelta=style in self.durations)
            except (OverflowError, ValueError):
                return "#VALUE!", False
            if isinstance(converted, timedelta):
                return str(converted), False
            return cell_text(converted), False
        return cell_text(value), False


@dataclass
class SheetRows:
    rows: list[tuple[int, list[str], set[int]]]  # (sheet row number, cells, oversize columns)
    dimension: str | None


def read_xlsx(data: bytes, bounds: Bounds) -> SheetRows:
    """Rows of the first worksheet of ``data``, or FileRejected (unreadable or over a limit)."""
    try:
        if _zip_entry_count(data) > MAX_PARTS:
            raise _unreadable(variant="parts", limit=MAX_PARTS)
        archive = zipfile.ZipFile(io.BytesIO(data))
    except FileRejected:
        raise
    except Exception as exc:  # corrupt bytes fail in struct, zipfile, zlib ...
        raise _unreadable() from exc
    with archive:
        infos = archive.infolist()
        bounds.declared_unpacked(sum(max(i.file_size, 0) for i in infos))
        try:
            sheet_path, epoch = _read_workbook(archive, bounds)
            for needed in ("xl/workbook.xml", sheet_path, "xl/styles.xml", "xl/sharedStrings.xml"):
                if needed in archive.NameToInfo and (
                    archive.NameToInfo[needed].compress_type not in _SAFE_TYPES
                ):
                    raise _unreadable()
            dates, durations = _read_styles(archive, bounds)
            strings = _read_shared_strings(archive, bounds)
            sheet = _Sheet(bounds, strings, dates, durations, epoch)
            part = _Part(archive, sheet_path, bounds, count_rows=True)
            try:
                part.feed(_parser(sheet.start, sheet.end, sheet.text))
            except FileRejected as exc:
                # Over a limit after the header row: the receipt can use its language.
                header = next((cells for _, cells, _ in sheet.rows if any(cells)), None)
                exc.headers = header[: bounds.limits.max_columns] if header else None
                raise
        except FileRejected:
            raise
        except Exception as exc:  # expat, zlib, CRC (a part that lied about its size) ...
            raise _unreadable() from exc
    if part.row_tags != sheet.rows_ended:
        # Rows in the sheet's bytes that the parser did not deliver: never lose them quietly.
        raise _unreadable(variant="rows_lost", read=sheet.rows_ended, found=part.row_tags)
    return SheetRows(rows=sheet.rows, dimension=sheet.dimension)
