"""Issue 15 "Done when": every number in the weekly report's JSON is checked against the
warehouse with independent SQL (``report_numbers.py``), on a network with no silent hospital,
one where only test hospitals reported in the week, one with an empty week, the tiny warehouse
(signals of alerts of every series type) and the shared small network (the real pipeline)."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.services import reporting
from pipeline.storage.session import reader

from .report_numbers import check
from .supervision_net import Hospital, build_network

WEEK = "2026-W47"


def _checked(settings: Settings, week: str) -> tuple[dict, int]:
    paths = reporting.weekly(settings, week=week)
    data = json.loads(Path(paths["json"]).read_text(encoding="utf-8"))
    with reader(settings) as con:
        problems, count = check(con, data, settings.app_database_url)
    assert problems == [], "\n".join(problems[:40])
    return data, count


def test_every_number_on_a_network_without_a_silent_hospital(tmp_path: Path) -> None:
    network = build_network(
        tmp_path / "net",
        [
            Hospital("GZ001", per_day=3, lag_hours=12),
            Hospital("SH001", per_day=2, lag_hours=30),
            Hospital("BJ001", per_day=2, lag_hours=8 * 24),
            Hospital("TS001", per_day=5, is_test=True),
        ],
        "2026-W42",
        WEEK,
        quarantined={"SH001": 1},
        rejected_files={"BJ001": date(2026, 11, 12)},
        duplicate_files={"GZ001": date(2026, 11, 3)},
    )
    data, count = _checked(network.settings, WEEK)
    assert data["network_health"]["silent"] == [] and count > 80


@pytest.mark.slow
def test_every_number_when_only_test_hospitals_reported(tmp_path: Path) -> None:
    network = build_network(
        tmp_path / "net",
        [Hospital("GZ001"), Hospital("WH001", per_day=1), Hospital("TS001", is_test=True)],
        "2026-W40",
        WEEK,
        test_only_weeks=(WEEK,),
    )
    data, _ = _checked(network.settings, WEEK)
    assert data["cases_in_week"] == 0


@pytest.mark.slow
def test_every_number_on_an_empty_week(tmp_path: Path) -> None:
    network = build_network(
        tmp_path / "net",
        [Hospital("GZ001"), Hospital("SH001", last_day=date(2026, 10, 30))],
        "2026-W40",
        WEEK,
        empty_weeks=(WEEK,),
    )
    data, _ = _checked(network.settings, WEEK)
    assert data["cases_in_week"] == 0 and len(data["network_health"]["silent"]) == 1


@pytest.mark.slow
def test_every_number_with_alerts_on_the_tiny_warehouse(tiny: Settings, tmp_path: Path) -> None:
    shutil.copy(tiny.warehouse_path, tmp_path / "warehouse.duckdb")
    data, count = _checked(tiny.with_overrides(home=tmp_path), "2026-W20")
    assert data["signals"] and count > 200


@pytest.mark.slow
def test_every_number_on_the_small_network(small_network, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shutil.copy(small_network.warehouse_path, tmp_path / "warehouse.duckdb")
    data, count = _checked(small_network.with_overrides(home=tmp_path), "2026-W47")
    assert data["signals"] and count > 300


def test_the_check_catches_a_wrong_and_an_unchecked_number(tmp_path: Path) -> None:
    network = build_network(
        tmp_path / "net", [Hospital("GZ001"), Hospital("SH001", per_day=1)], "2026-W45", WEEK
    )
    paths = reporting.weekly(network.settings, week=WEEK)
    data = json.loads(Path(paths["json"]).read_text(encoding="utf-8"))
    data["network_health"]["hospitals"][0]["cases"] += 1
    data["network_health"]["network"]["within_7d"] = 0.5
    data["network_health"]["hospitals"][1]["invented"] = 3
    with reader(network.settings) as con:
        problems, _ = check(con, data, network.settings.app_database_url)
    assert len(problems) == 3, problems
    assert any("'invented'" in p and "unchecked" in p for p in problems)
