"""Quarterly statistical summary on the tiny warehouse."""

from __future__ import annotations

import csv
import json
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


def test_rates_intervals_and_tests_against_the_warehouse_and_statsmodels(
    tiny: Settings, summary: dict[str, Path]
) -> None:
    """Finding: "+48.4% deaths" (31 -> 46) with no rate, no interval and no test. Every row now
    has a rate per 100 hospital-weeks with its exact interval, the exact test of the change and
    a verdict; the exposure is recomputed here from the warehouse."""
    from statsmodels.stats import rates as sm_rates

    con = connect(tiny.warehouse_path, read_only=True)
    try:

        def hospital_weeks(start: str, end: str) -> float:
            # weeks in which a hospital reported a case, by their days inside the quarter
            return con.execute(
                """
                WITH w AS (
                    SELECT DISTINCT hospital_code,
                           date_trunc('week', CAST(visit_datetime AS DATE)) AS monday
                    FROM cases WHERE status = 'active'
                      AND CAST(visit_datetime AS DATE) BETWEEN CAST(? AS DATE) AND CAST(? AS DATE))
                SELECT sum(date_diff('day',
                           greatest(monday, CAST(? AS DATE)),
                           least(monday + INTERVAL 6 DAY, CAST(? AS DATE))) + 1) / 7.0
                FROM w""",
                [start, end, start, end],
            ).fetchone()[0]

        now = hospital_weeks("2026-01-01", "2026-03-31")
        before = hospital_weeks("2025-01-01", "2025-03-31")
    finally:
        con.close()
    data = json.loads(summary["json"].read_text(encoding="utf-8"))
    assert data["rate_unit"] == "cases per 100 hospital-weeks"
    assert data["hospital_weeks"] == pytest.approx(now, abs=1e-4)
    assert data["hospital_weeks_prev_year"] == pytest.approx(before, abs=1e-4)
    rows = _rows(summary["summary_csv"])
    assert "change_pct" not in rows[0]
    verdicts = set()
    for row in rows:
        x1, x0 = int(row["cases"]), int(row["cases_prev_year"])
        assert float(row["rate"]) == pytest.approx(100 * x1 / now, rel=1e-4)
        assert float(row["rate_low"]) <= float(row["rate"]) <= float(row["rate_high"])
        if x1 + x0:
            p = sm_rates.test_poisson_2indep(x1, now, x0, before, method="exact-cond").pvalue
            assert float(row["pvalue"]) == pytest.approx(p, abs=2e-6)
        significant = row["qvalue"] != "" and float(row["qvalue"]) < 0.05
        assert (row["verdict"] in ("rise", "fall")) == significant
        verdicts.add(row["verdict"])
    assert "no_change" in verdicts
    html = summary["html"].read_text(encoding="utf-8")
    assert "无显著变化 · no significant change" in html and "+48.4%" not in html
