"""The streaming XLSX reader reads what openpyxl reads (openpyxl as the oracle, with its
dimension check switched off), on generated workbooks and on every workbook of the shipped
sample, and refuses what openpyxl would choke on or lose."""

from __future__ import annotations

import io
from datetime import date, datetime, time

import intake_helpers as h
import intake_hostile as x
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from pipeline.config import SAMPLE_DIR, IntakeLimits
from pipeline.intake.bounds import Bounds, FileRejected
from pipeline.intake.xlsx import cell_text, read_xlsx


def _trim(cells: list[str]) -> list[str]:
    while cells and cells[-1] == "":
        cells = cells[:-1]
    return cells


def oracle(data: bytes) -> list[tuple[int, list[str]]]:
    """openpyxl's reading (read-only, dimension reset), as (row number, cell texts)."""
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()
        rows = [
            (number, _trim([cell_text(v) for v in row]))
            for number, row in enumerate(sheet.iter_rows(values_only=True), 1)
        ]
    finally:
        book.close()
    return [(n, cells) for n, cells in rows if cells]


def ours(data: bytes, limits: IntakeLimits | None = None) -> list[tuple[int, list[str]]]:
    rows = read_xlsx(data, Bounds(limits)).rows
    return [(n, _trim(cells)) for n, cells, _ in rows if _trim(cells)]


VALUES = st.one_of(
    st.none(),
    st.integers(-(10**12), 10**15),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.datetimes(min_value=datetime(1901, 1, 1), max_value=datetime(2099, 12, 31)),
    st.dates(min_value=date(1901, 1, 1), max_value=date(2099, 12, 31)),
    st.times(),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=20).map(
        lambda t: ILLEGAL_CHARACTERS_RE.sub("", t)
    ),
)


@st.composite
def workbooks(draw) -> bytes:
    book = Workbook()
    if draw(st.booleans()):
        book.epoch = datetime(1904, 1, 1)  # the Mac 1904 date system
    sheet = book.active
    for _ in range(draw(st.integers(0, 6))):
        row = draw(st.integers(1, 30))
        column = draw(st.integers(1, 12))
        for offset, value in enumerate(draw(st.lists(VALUES, max_size=8))):
            cell = sheet.cell(row=row, column=column + offset, value=value)
            if isinstance(value, float) and draw(st.booleans()):
                cell.number_format = draw(st.sampled_from(["0.00", "yyyy-mm-dd", "[h]:mm:ss"]))
    if draw(st.booleans()):
        book.create_sheet("second").append(["never", "read"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.slow
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=workbooks())
def test_reads_what_openpyxl_reads(data):
    assert ours(data) == oracle(data)


@pytest.mark.slow
def test_every_workbook_of_the_shipped_sample_reads_the_same():
    books = sorted((SAMPLE_DIR / "landing").rglob("*.xlsx"))
    assert len(books) >= 50
    for path in books:
        data = path.read_bytes()
        try:
            expected = oracle(data)
        except Exception:  # a garbage file of the sample: both must refuse it
            with pytest.raises(FileRejected):
                ours(data)
            continue
        assert ours(data) == expected, path.name


def test_shared_strings_inline_strings_and_phonetic_runs():
    sheet = (
        x.SHEET_HEAD + "<sheetData>"
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><r><t>rich </t></r>'
        "<r><t>text</t></r></is></c></row>"
        '<row r="3"><c r="C3" t="s"><v>1</v></c><c r="D3" t="b"><v>1</v></c>'
        '<c r="E3" t="e"><v>#N/A</v></c><c r="F3" t="str"><f>A1</f><v>formula</v></c></row>'
        "</sheetData></worksheet>"
    )
    strings = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<si><t>中文</t></si><si><r><t>漢</t></r><rPh><t>かん</t></rPh></si></sst>"
    ).encode()
    data = x.raw_xlsx(sheet, {"xl/sharedStrings.xml": strings})
    assert ours(data) == [
        (1, ["中文", "rich text"]),
        (3, ["", "", "漢", "True", "#N/A", "formula"]),
    ]


def test_a_dtd_or_entity_declaration_is_refused():
    """No DTD in a workbook: a 'billion laughs' entity bomb is refused before expansion."""
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&b;</t></is></c></row>'
        "</sheetData></worksheet>"
    )
    with pytest.raises(FileRejected) as info:
        ours(x.raw_xlsx(bomb))
    assert info.value.rule == "unreadable_file"


def test_rows_the_parser_did_not_deliver_reject_the_file():
    """A <row> tag the parser never reports (here hidden in a CDATA section a broken exporter
    might write) is a difference between the sheet's bytes and what was read: refused, never
    silently short."""
    table = x.case_table(1)
    sheet = x.sheet_xml(table).replace(
        "</sheetData>",
        '<row r="9"><c r="A9" t="str"><v><![CDATA[<row r="10">]]></v></c></row></sheetData>',
    )
    with pytest.raises(FileRejected) as info:
        ours(x.raw_xlsx(sheet))
    assert info.value.params.get("variant") == "rows_lost"


def test_columns_and_rows_are_limited_while_parsing():
    wide = x.raw_xlsx(
        x.SHEET_HEAD + '<sheetData><row r="1"><c r="XFD1" t="inlineStr"><is><t>x</t></is></c>'
        "</row></sheetData></worksheet>"
    )
    with pytest.raises(FileRejected) as info:
        ours(wide)
    assert (info.value.rule, info.value.params["count"]) == ("too_many_columns", 16384)
    many = x.raw_xlsx(x.sheet_xml([["a"]] * 30))
    with pytest.raises(FileRejected) as info:
        ours(many, IntakeLimits(max_rows=20))
    assert info.value.rule == "too_many_rows"


def test_typed_cells_read_as_text_like_before():
    book = Workbook()
    book.active.append(
        [datetime(2026, 2, 10, 9, 30), date(2026, 2, 10), time(8, 45), 4.0, 4.5, True, None, "x"]
    )
    buffer = io.BytesIO()
    book.save(buffer)
    assert ours(buffer.getvalue()) == [
        (1, ["2026-02-10 09:30:00", "2026-02-10 00:00:00", "08:45:00", "4", "4.5", "True", "", "x"])
    ]
    assert h.xlsx_bytes([h.case_row()])  # the test builders use openpyxl too
