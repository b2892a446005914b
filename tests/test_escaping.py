"""Formula-safe cells and CSV files."""

from __future__ import annotations

import csv
import math

import pandas as pd
import pytest

from pipeline.escaping import safe_cell, write_safe_csv


@pytest.mark.parametrize(
    "text",
    [
        "=1+1",
        "+1",
        "-2+3",
        "@SUM(A1)",
        "\tx",
        "\rx",
        "＝1+1",
        "＋1",
        "－1",
        "＠A1",
        '=HYPERLINK("http://x")',
    ],
)
def test_formula_starts_are_prefixed(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize(
    "value,expected",
    [
        (None, ""),
        (math.nan, ""),
        (pd.NA, ""),
        ("电饭煲", "电饭煲"),
        ("a=1", "a=1"),
        (-3, "-3"),
        (2.5, "2.5"),
        (True, "true"),
        ("<script>", "<script>"),
    ],
)
def test_other_values(value: object, expected: str) -> None:
    assert safe_cell(value) == expected


def test_csv_has_bom_crlf_and_safe_cells(tmp_path) -> None:  # type: ignore[no-untyped-def]
    frame = pd.DataFrame({"=col": ["=cmd|' /C calc'!A0", "普通", None], "n": [1, -2, 3]})
    path = tmp_path / "x.csv"
    write_safe_csv(frame, path)
    raw = path.read_bytes()
    assert raw.startswith("\ufeff".encode())
    assert raw.count(b"\r\n") == 4 and b"\n" not in raw.replace(b"\r\n", b"")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0] == ["'=col", "n"]
    assert rows[1] == ["'=cmd|' /C calc'!A0", "1"]
    assert rows[2] == ["普通", "-2"] and rows[3] == ["", "3"]
    write_safe_csv(frame, tmp_path / "y.csv")
    assert (tmp_path / "y.csv").read_bytes() == raw


HOSTILE_FRAME = pd.DataFrame(
    {
        "narrative": [
            '=HYPERLINK("http://e.x")',
            "<script>&</script>",
            None,
            " lead\x07bell",
            "ok",
        ],
        "product": ["@SUM(1+1)", "+cmd", "－x", "＝y", "\tt"],
        "age": [3.0, None, 45.5, -2.0, 7.0],
        "count": [1, 2, 3, -4, 5],
        "visit": [pd.Timestamp("2026-11-20"), None, "2026-11-21", None, None],
    }
)


def test_csv_bytes_for_a_download_equal_the_written_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pipeline.escaping import safe_csv_bytes

    path = tmp_path / "cases.csv"
    write_safe_csv(HOSTILE_FRAME, path)
    assert safe_csv_bytes(HOSTILE_FRAME) == path.read_bytes()


def test_xlsx_cells_are_strings_numbers_or_empty_never_formulas() -> None:
    import io

    import openpyxl

    from pipeline.escaping import safe_xlsx_bytes

    data = safe_xlsx_bytes(HOSTILE_FRAME, "cases")
    assert data == safe_xlsx_bytes(HOSTILE_FRAME, "cases")  # deterministic
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = [[(c.value, c.data_type) for c in row] for row in sheet.iter_rows()]
    assert [v for v, _ in rows[0]] == list(HOSTILE_FRAME.columns)
    for row, expected in zip(rows[1:], HOSTILE_FRAME.itertuples(index=False), strict=True):
        for (value, kind), original in zip(row, expected, strict=True):
            assert kind != "f"  # no formula cell anywhere
            if isinstance(original, int | float) and not isinstance(original, bool):
                if not math.isnan(original):
                    assert kind == "n" and value == original
            elif original is not None and not (
                isinstance(original, float) and math.isnan(original)
            ):
                # the same text as the CSV cell, minus what XML cannot carry
                assert value == safe_cell(original).replace("\x07", "")
    assert rows[1][0][0] == '\'=HYPERLINK("http://e.x")' and rows[1][1][0] == "'@SUM(1+1)"
    assert rows[4][1][0] == "'＝y" and rows[5][1][0] == "'\tt"


# ---- column-wise writers: byte for byte what the cell-by-cell writers give ------------------


def _reference_xlsx_sheet(frame: pd.DataFrame) -> str:
    """The worksheet XML of the cell-by-cell writer (main before the column-wise one): every
    value through _native, _is_missing, safe_cell and _xml_text."""
    from pipeline.escaping import _column_letter, _is_missing, _native, _xml_text

    letters = [_column_letter(i) for i in range(len(frame.columns))]
    numeric = [
        pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
        for c in frame.columns
    ]
    rows = [
        "".join(
            f'<c r="{letters[i]}1" t="inlineStr"><is><t xml:space="preserve">'
            f"{_xml_text(safe_cell(str(c)))}</t></is></c>"
            for i, c in enumerate(frame.columns)
        )
    ]
    cells = []
    for i, column in enumerate(frame.columns):
        out = []
        for n, value in enumerate(frame[column].tolist(), start=2):
            value = _native(value)
            if _is_missing(value):
                out.append("")
            elif numeric[i] and isinstance(value, int | float) and not isinstance(value, bool):
                out.append(f'<c r="{letters[i]}{n}"><v>{value!r}</v></c>')
            else:
                out.append(
                    f'<c r="{letters[i]}{n}" t="inlineStr"><is><t xml:space="preserve">'
                    f"{_xml_text(safe_cell(value))}</t></is></c>"
                )
        cells.append(out)
    rows += ["".join(parts) for parts in zip(*cells, strict=True)] if cells else []
    return "".join(f'<row r="{n}">{row}</row>' for n, row in enumerate(rows, start=1))


def _sheet_of(data: bytes) -> str:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
    return xml[xml.index("<sheetData>") + len("<sheetData>") : xml.index("</sheetData>")]


def _check_column_wise(frame: pd.DataFrame, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pipeline.escaping import safe_csv_bytes, safe_xlsx_bytes

    path = tmp_path / "ref.csv"
    write_safe_csv(frame, path)  # the row-by-row writer
    assert safe_csv_bytes(frame) == path.read_bytes()
    assert _sheet_of(safe_xlsx_bytes(frame, "cases")) == _reference_xlsx_sheet(frame)


_TEXTS = [
    "=1+1",
    "+1",
    "-2",
    "@A1",
    "\tx",
    "\rx",
    "＝y",
    "＋1",
    "－1",
    "＠A",
    "<script>alert(1)</script>",
    "a & b > c",
    "bell\x07\x0bx",
    "",
    " =lead space",
    "电饭煲 lid",
    '=HYPERLINK("http://e.x")',
    'line\nbreak, "quoted"',
]


@pytest.mark.parametrize("dtype", ["str", object, "string"])
def test_text_columns_written_column_wise_equal_the_cell_by_cell_writers(
    dtype: object,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    values = [*_TEXTS, None]
    frame = pd.DataFrame(
        {
            "text": pd.Series(values, dtype=dtype),
            "=head": pd.Series(list(reversed(values)), dtype=dtype),
            "n": range(len(values)),
            "missing": pd.Series([None] * len(values), dtype=object),
        }
    )
    _check_column_wise(frame, tmp_path)
    _check_column_wise(HOSTILE_FRAME, tmp_path)


try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover
    given = None

if given is not None:

    @settings(max_examples=60, deadline=None)
    @given(
        st.lists(
            st.one_of(st.none(), st.text(max_size=12), st.sampled_from(_TEXTS)),
            min_size=0,
            max_size=12,
        )
    )
    def test_any_text_column_is_written_like_the_cell_by_cell_writers(
        values: list,
    ) -> None:
        import tempfile
        from pathlib import Path

        for dtype in ("str", object):
            frame = pd.DataFrame({"t": pd.Series(values, dtype=dtype), "k": range(len(values))})
            with tempfile.TemporaryDirectory() as tmp:
                _check_column_wise(frame, Path(tmp))
