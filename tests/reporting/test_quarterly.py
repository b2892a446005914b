"""Quarterly statistical summary on the tiny warehouse."""

from __future__ import annotations

import csv
import shutil
from datetime import date
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.reporting.quarterly import (
    QuarterError,
    previous_year,
    quarter_range,
)
from pipeline.services.reporting import quarterly as write_quarterly_summary
from pipeline.storage.warehouse import connect


def test_quarter_ranges() -> None:
    assert quarter_range("2026-Q1") == (date(2026, 1, 1), date(2026, 3, 31))
    assert quarter_range("2026-Q4") == (date(2026, 10, 1), date(2026, 12, 31))
    assert previous_year("2026-Q3") == "2025-Q3"
    for bad in ("2026Q1", "2026-Q5", "26-Q1", ""):
        with pytest.raises(QuarterError):
            quarter_range(bad)


@pytest.fixture(scope="module")
def summary(tiny: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    home = tmp_path_factory.mktemp("quarterly")
    shutil.copy(tiny.warehouse_path, home / "warehouse.duckdb")
    return write_quarterly_summary(tiny.with_overrides(home=home), "2026-Q1")


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_counts_match_the_warehouse_and_last_year(tiny: Settings, summary: dict[str, Path]) -> None:
    con = connect(tiny.warehouse_path, read_only=True)
    try:

        def count(start: str, end: str) -> dict[str, int]:
            return dict(
                con.execute(
                    "SELECT substr(product_category, 1, 2), count(*) FROM cases "
                    "WHERE CAST(visit_datetime AS DATE) BETWEEN ? AND ? GROUP BY 1",
                    [start, end],
                ).fetchall()
            )

        now, before = count("2026-01-01", "2026-03-31"), count("2025-01-01", "2025-03-31")
    finally:
        con.close()
    rows = _rows(summary["summary_csv"])
    total = next(r for r in rows if r["dimension"] == "total")
    assert int(total["cases"]) == sum(now.values())
    assert int(total["cases_prev_year"]) == sum(before.values())
    families = {r["code"]: r for r in rows if r["dimension"] == "family"}
    assert set(families) == set(now)
    for family, n in now.items():
        row = families[family]
        assert int(row["cases"]) == n and int(row["cases_prev_year"]) == before.get(family, 0)
        assert int(row["change"]) == n - before.get(family, 0)
    assert families["HA"]["label_zh"] == "家用电器"
    assert {r["dimension"] for r in rows} == {
        "total",
        "family",
        "region",
        "severity",
        "outcome",
        "product_relation",
    }
    severities = {r["code"]: int(r["cases"]) for r in rows if r["dimension"] == "severity"}
    assert sum(severities.values()) == int(total["cases"])


def test_html_is_bilingual_and_self_contained(summary: dict[str, Path]) -> None:
    html = summary["html"].read_text(encoding="utf-8")
    assert summary["html"].parent.parent.name == "quarterly"
    assert "产品大类 · Product family" in html and "2025-Q1" in html
    assert "<script" not in html and "<svg" in html
    assert summary["patterns_csv"].read_bytes().startswith("\ufeff".encode())
