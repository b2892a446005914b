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
