"""Issue 16, item 1: the documented reading limits. Each is its own rule with the limit in the
receipt, checked before reading where it can be and while reading otherwise; a cell over the
limit quarantines its row only. The limits are small here so the files stay small."""

from __future__ import annotations

from dataclasses import replace

import intake_helpers as h
import intake_hostile as x
import pytest

from pipeline.config import MIB, IntakeLimits, Settings
from pipeline.errors import ConfigError
from pipeline.services.intake import dry_run, ingest


def _limited(settings: Settings, **limits: int) -> Settings:
    return settings.with_overrides(intake=replace(IntakeLimits(), **limits))


def _check(tmp_path, settings, name: str, data: bytes, validator=None) -> dict:
    path = h.write(tmp_path / h.HOSPITAL / name, data)
    return dry_run(path, h.HOSPITAL, settings, validator=validator, received_at=h.RECEIVED)


def test_defaults_and_environment(tmp_path):
    limits = IntakeLimits()
    assert (limits.max_file_bytes, limits.max_unpacked_bytes) == (512 * MIB, 1024 * MIB)
    assert (limits.max_rows, limits.max_columns, limits.max_cell_chars) == (1_048_576, 256, 32_767)
    env = {
        "SENTINEL_HOME": str(tmp_path),
        "SENTINEL_MAX_FILE_MB": "5",
        "SENTINEL_MAX_UNPACKED_MB": "7",
        "SENTINEL_MAX_ROWS": "100",
        "SENTINEL_MAX_COLUMNS": "40",
        "SENTINEL_MAX_CELL_CHARS": "5000",
    }
    got = Settings.from_env(env).intake
    assert (got.max_file_bytes, got.max_unpacked_bytes) == (5 * MIB, 7 * MIB)
    assert (got.max_rows, got.max_columns, got.max_cell_chars) == (100, 40, 5000)
    with pytest.raises(ConfigError, match="SENTINEL_MAX_ROWS"):
        Settings.from_env({**env, "SENTINEL_MAX_ROWS": "many"})


@pytest.mark.slow  # a real ingest of a 1 MB file under an access watch: 1.5-4.7 s
def test_file_too_large_is_refused_before_a_byte_is_read(tmp_path, settings):
    settings = _limited(settings, max_file_bytes=1 * MIB)
    data = h.csv_bytes([h.case_row(f"C{i}") for i in range(4000)])
    assert len(data) > MIB
    path = h.write(settings.landing_dir / h.HOSPITAL / "GZ001_20260210.csv", data)
    watch = h.AccessWatch(path.parent)
    try:
        ingest(settings)
        events = watch.events()
    finally:
        watch.close()
    assert ("read", path.name) not in events  # opened (and measured), never read
    sub = h.submission(settings, "GZ001/GZ001_20260210.csv")
    assert (sub["status"], sub["file_rule"]) == ("rejected", "file_too_large")
    receipt = h.receipt_json(settings, sub["submission_id"])
    assert "1 MB" in receipt["file_message"] and receipt["advice"]


def test_file_too_large_in_a_dry_run(tmp_path, settings):
    settings = _limited(settings, max_file_bytes=1 * MIB)
    receipt = _check(tmp_path, settings, "big.csv", b"x" * (MIB + 1))
    assert receipt["file_rule"] == "file_too_large" and "1 MB" in receipt["file_message"]


def test_unpacked_workbook_too_large(tmp_path, settings):
    settings = _limited(settings, max_unpacked_bytes=2 * MIB)
    receipt = _check(tmp_path, settings, "x.xlsx", x.zip_bomb_xlsx(3 * MIB))
    assert receipt["file_rule"] == "unpacked_too_large" and "2 MB" in receipt["file_message"]
    lying = _check(tmp_path, settings, "y.xlsx", x.zip_bomb_xlsx(3 * MIB, lie=True))
    assert lying["file_rule"] == "unreadable_file"


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_too_many_rows(tmp_path, settings, suffix):
    settings = _limited(settings, max_rows=10)
    rows = [h.case_row(f"C{i}") for i in range(11)]
    data = h.csv_bytes(rows) if suffix == ".csv" else h.xlsx_bytes(rows)
    receipt = _check(tmp_path, settings, f"x{suffix}", data)
    assert receipt["file_rule"] == "too_many_rows" and "10" in receipt["file_message"]
    fits = h.csv_bytes(rows[:10]) if suffix == ".csv" else h.xlsx_bytes(rows[:10])
    assert _check(tmp_path, settings, f"y{suffix}", fits)["file_rule"] is None


@pytest.mark.parametrize("where", ["header", "row"])
def test_too_many_columns(tmp_path, settings, where):
    settings = _limited(settings, max_columns=40)
    table = h.rows_table([h.case_row("C1"), h.case_row("C2")])
    target = 0 if where == "header" else 2
    table[target] = table[target] + [""] * 20 + ["far"]
    receipt = _check(tmp_path, settings, "x.csv", h.table_bytes(table))
    assert receipt["file_rule"] == "too_many_columns"
    assert f"line {target + 1} has {len(table[target])} columns" in receipt["file_message"]
    sheet = x.raw_xlsx(
        x.sheet_xml(h.rows_table([h.case_row("C1")])).replace(
            "</row></sheetData>",
            '<c r="ZZ2" t="inlineStr"><is><t>far</t></is></c></row></sheetData>',
        )
    )
    workbook = _check(tmp_path, settings, "x.xlsx", sheet)
    assert workbook["file_rule"] == "too_many_columns" and "40" in workbook["file_message"]


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_cell_too_large_quarantines_the_row(tmp_path, settings, validator, suffix):
    settings = _limited(settings, max_cell_chars=3000)
    rows = [h.case_row("C1"), h.case_row("C2", brand="B" * 3001), h.case_row("C3")]
    data = h.csv_bytes(rows) if suffix == ".csv" else h.xlsx_bytes(rows)
    receipt = _check(tmp_path, settings, f"x{suffix}", data, validator)
    assert (receipt["status"], receipt["rows_stored"], receipt["rows_quarantined"]) == (
        "partially_accepted",
        2,
        1,
    )
    error = next(e for e in receipt["errors"] if e["rule"] == "cell_too_large")
    assert (error["row"], error["field"], error["value"]) == (2, "brand", None)
    assert "3,000" in error["message"]
