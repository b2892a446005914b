"""Issue 15, network supervision: the weekly report on networks the shipped sample does not
cover (no silent hospital, only test hospitals in the week, an empty week), test hospitals left
out of every figure, rejected files / quarantined rows / duplicates counted, timeliness from
the ledger's receipt time in hospital local time."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from pipeline.reporting.health import network_health
from pipeline.services import network as network_service
from pipeline.services import reporting
from pipeline.storage.session import reader

from .supervision_net import Hospital, Network, build_network

WEEK = "2026-W47"  # 2026-11-16 .. 2026-11-22


@pytest.fixture(scope="module")
def healthy(tmp_path_factory: pytest.TempPathFactory) -> Network:
    """Four production hospitals all reporting up to the report week, one late; a test
    hospital with many cases; a registered hospital that never reported."""
    return build_network(
        tmp_path_factory.mktemp("healthy"),
        [
            Hospital("GZ001", per_day=3, lag_hours=12),
            Hospital("SH001", per_day=2, lag_hours=2),
            Hospital("BJ001", per_day=2, lag_hours=8 * 24),  # late: files 8 days after
            Hospital("WH001", per_day=1, lag_hours=4),
            # the test hospital sends the most cases and the latest file (10 days late)
            Hospital("TS001", per_day=9, lag_hours=10 * 24, is_test=True),
            Hospital("BJ002", registered_only=True),
        ],
        "2026-W40",
        WEEK,
        quarantined={"SH001": 1},
        rejected_files={"BJ001": date(2026, 11, 12), "TS001": date(2026, 11, 12)},
        duplicate_files={"GZ001": date(2026, 11, 3)},
    )


def _weekly(network: Network, week: str = WEEK) -> dict:
    paths = reporting.weekly(network.settings, week=week)
    data = json.loads(Path(paths["json"]).read_text(encoding="utf-8"))
    for lang in ("zh", "en"):
        assert Path(paths[lang]).stat().st_size > 0
    return data


def test_weekly_report_on_a_network_without_a_silent_hospital(tmp_path: Path) -> None:
    """Finding: `report weekly` crashed (KeyError 'hospital_code') when every registered
    hospital reports (the normal state of a complete network)."""
    network = build_network(
        tmp_path / "net",
        [Hospital("GZ001"), Hospital("SH001", lag_hours=30), Hospital("WH001", per_day=1)],
        "2026-W44",
        WEEK,
    )
    data = _weekly(network)
    health = data["network_health"]
    assert health["silent"] == [] and health["never_reported"] == []
    assert not any(r["silent"] for r in health["hospitals"])
    assert [r["hospital_code"] for r in health["hospitals"]] == ["GZ001", "SH001", "WH001"]
    assert data["cases_in_week"] == 7 * 5


def test_a_registered_hospital_that_never_reported_is_listed_apart(healthy: Network) -> None:
    health = _weekly(healthy)["network_health"]
    assert health["silent"] == [] and health["never_reported"] == ["BJ002"]
    assert [r["hospital_code"] for r in health["hospitals"]] == ["BJ001", "GZ001", "SH001", "WH001"]


def test_test_hospitals_are_left_out_of_every_figure(healthy: Network) -> None:
    """Finding: the header said "Cases: 717 · Hospitals: 9", counting the test hospital TS001."""
    data = _weekly(healthy)
    # 7 days x (3 + 2 + 2 + 1) production cases in the week; TS001's 63 are not counted.
    assert data["cases_in_week"] == 7 * 8 and data["hospitals_in_week"] == 4
    health = data["network_health"]
    assert "TS001" not in {r["hospital_code"] for r in health["hospitals"]}
    assert health["test_hospitals"] == ["TS001"]
    assert health["network"]["cases"] == 4 * 7 * 8
    assert health["network"]["files_rejected"] == 1  # BJ001's; TS001's rejected file left out
    # "data as of" is the production hospitals' latest file: BJ001's of visit day 11-22,
    # received 12-01 00:00 local = 11-30 16:00 UTC (TS001's last arrives 12-03)
    assert data["data_as_of"] == "2026-11-30T16:00:00"
    summary = network_service.report(healthy.settings)
    assert "TS001" not in {r["hospital_code"] for r in summary["hospitals"]}
    assert [r["hospital_code"] for r in summary["test_hospitals"]] == ["TS001"]
    # the quarterly summary: visits 2026-10-01 .. 11-22 of the four production hospitals
    quarterly = reporting.quarterly(healthy.settings, "2026-Q4")
    total = json.loads(Path(quarterly["json"]).read_text(encoding="utf-8"))["total"]
    assert total["cases"] == 53 * 8


def test_rejected_files_duplicates_and_quarantined_rows_are_counted(healthy: Network) -> None:
    """Finding: "Files rejected 0/0" and no rejected rows while BJ001's empty file was rejected
    and rows were quarantined in the window."""
    health = _weekly(healthy)["network_health"]
    rows = {r["hospital_code"]: r for r in health["hospitals"]}
    # Window 2026-10-26 .. 11-22 (local days of receipt). BJ001's files arrive 9 days after
    # the visit day: those of visits 10-17 .. 11-13 fall in the window (28), plus the empty
    # file of 11-12.
    assert rows["BJ001"]["files"] == 29 and rows["BJ001"]["files_rejected"] == 1
    assert rows["BJ001"]["rows_received"] == 28 * 2 and rows["BJ001"]["rows_quarantined"] == 0
    # SH001's files arrive the next day (visits 10-25 .. 11-21), one bad row in each.
    assert rows["SH001"]["files"] == 28 and rows["SH001"]["files_rejected"] == 0
    assert rows["SH001"]["rows_received"] == 28 * 3 and rows["SH001"]["rows_quarantined"] == 28
    assert rows["SH001"]["rejection_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert rows["SH001"]["quarantine_rules"] == [{"rule": "range_years", "rows": 28}]
    assert "rejection_rate" in rows["SH001"]["flags"]
    # GZ001's byte-identical resend (of 11-03, arriving 11-05) is a file received, not 3 more
    # rows received.
    assert rows["GZ001"]["files"] == 29 and rows["GZ001"]["files_duplicate"] == 1
    assert rows["GZ001"]["rows_received"] == 28 * 3 and rows["GZ001"]["rejection_rate"] == 0
    network = health["network"]
    assert network["files"] == 29 + 29 + 28 + 28 and network["files_rejected"] == 1
    assert network["rows_quarantined"] == 28 and network["files_duplicate"] == 1


def test_timeliness_uses_the_ledger_receipt_in_local_time(healthy: Network) -> None:
    """Received times are stored in UTC; visits are local (UTC+8). GZ001's files arrive at
    12:00 local the next day: visits at 09:00-11:00 are 25-27 hours old, not within a day."""
    with reader(healthy.settings) as con:
        health = network_health(con, WEEK)
    rows = {r["hospital_code"]: r for r in health["hospitals"]}
    assert rows["GZ001"]["within_1d"] == 0.0 and rows["GZ001"]["within_7d"] == 1.0
    assert rows["GZ001"]["median_lag_days"] == pytest.approx(26 / 24, abs=1e-3)
    assert rows["SH001"]["within_1d"] == 1.0
    # the late hospital shows as late, the others on time
    assert rows["BJ001"]["within_7d"] == 0.0 and "within_7d" in rows["BJ001"]["flags"]
    assert all("within_7d" not in rows[c]["flags"] for c in ("GZ001", "SH001", "WH001"))


@pytest.mark.slow
def test_report_when_only_test_hospitals_reported_in_the_week(tmp_path: Path) -> None:
    network = build_network(
        tmp_path / "net",
        [Hospital("GZ001"), Hospital("SH001"), Hospital("TS001", is_test=True)],
        "2026-W44",
        WEEK,
        test_only_weeks=(WEEK,),
    )
    data = _weekly(network)
    assert data["cases_in_week"] == 0 and data["hospitals_in_week"] == 0
    health = data["network_health"]
    assert {r["hospital_code"] for r in health["hospitals"]} == {"GZ001", "SH001"}
    # the window W44-W47 holds GZ001's and SH001's cases of W44-W46 (2 a day each)
    assert health["network"]["cases"] == 2 * 21 * 2
    # GZ001 and SH001 sent nothing for 8 days (last visit 11-15): not yet silent (14 days).
    assert health["silent"] == [] and health["test_hospitals"] == ["TS001"]


@pytest.mark.slow
def test_report_on_an_empty_week(tmp_path: Path) -> None:
    network = build_network(
        tmp_path / "net",
        [Hospital("GZ001"), Hospital("SH001", last_day=date(2026, 11, 1))],
        "2026-W40",
        WEEK,
        empty_weeks=(WEEK,),
    )
    data = _weekly(network)
    assert data["cases_in_week"] == 0 and data["signals"] == []
    health = data["network_health"]
    rows = {r["hospital_code"]: r for r in health["hospitals"]}
    # SH001's last visit 11-01, last file 11-02: 20 days before 11-22 -> went silent.
    assert [s["hospital_code"] for s in health["silent"]] == ["SH001"]
    days = health["silent"][0]["days_silent"]
    assert days == 20 and isinstance(days, int)  # integers as integers ("19.0" before)
    # still a row of the window: its visits of 10-26 .. 11-01 (2 a day) count
    assert rows["SH001"]["silent"] and rows["SH001"]["cases"] == 14
    assert rows["GZ001"]["cases"] == 3 * 7 * 2 and not rows["GZ001"]["silent"]
    assert health["network"]["hospitals_silent"] == 1
