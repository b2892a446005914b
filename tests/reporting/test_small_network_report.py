"""Both reports on the shared small network (generated, ingested, coded, clustered, detected):
they are written, name every alert, and no clear-text identifier or live markup gets out."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline.services.reporting import quarterly as write_quarterly_summary
from pipeline.services.reporting import weekly as write_weekly_report


@pytest.fixture(scope="module")
def outputs(small_network, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:  # type: ignore[no-untyped-def]
    home = tmp_path_factory.mktemp("small-network-reports")
    shutil.copy(small_network.warehouse_path, home / "warehouse.duckdb")
    settings = small_network.with_overrides(home=home)
    weekly = write_weekly_report(settings, "2026-W47")
    quarterly = write_quarterly_summary(settings, "2026-Q4")
    return [*weekly.values(), *quarterly.values()]


def test_every_alert_of_the_week_is_reported_under_its_signal(
    small_network, outputs: list[Path]
) -> None:  # type: ignore[no-untyped-def]
    from pipeline.storage.warehouse import connect

    con = connect(small_network.warehouse_path, read_only=True)
    try:
        active = {
            a
            for (a,) in con.execute(
                "SELECT alert_id FROM alerts WHERE week = '2026-W47' AND status <> 'resolved'"
            ).fetchall()
        }
        signals = {
            s
            for (s,) in con.execute(
                "SELECT signal_id FROM signal_weeks WHERE week = '2026-W47' AND rank IS NOT NULL"
            ).fetchall()
        }
    finally:
        con.close()
    data = json.loads(next(p for p in outputs if p.suffix == ".json").read_text("utf-8"))
    assert {s["signal_id"] for s in data["signals"]} == signals
    assert {m["alert_id"] for s in data["signals"] for m in s["members"]} == active
    html = next(p for p in outputs if p.name.endswith("-zh.html")).read_text("utf-8")
    assert all(f'id="signal-{s}"' in html for s in signals)
    assert all(a in html for a in active)
    hospitals = {r["hospital_code"] for r in data["network_health"]["hospitals"]}
    assert len(hospitals) >= 4


def test_no_clear_identifiers_or_live_markup_in_any_output(outputs: list[Path]) -> None:
    from network_fixture import HOSTILE_IDENTIFIERS

    for path in outputs:
        raw = path.read_bytes()
        for value in HOSTILE_IDENTIFIERS.values():
            assert value.encode() not in raw, (path.name, value)
        assert b"<script" not in raw and b"<img" not in raw and b"<b>" not in raw, path.name
