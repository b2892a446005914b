"""Network-health metrics on hand-made rows, and on the tiny warehouse."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from pipeline.reporting.health import (
    code_agreement,
    completeness,
    narrative_quality,
    network_health,
    rejection,
    silent_hospitals,
    timeliness,
)
from pipeline.storage.warehouse import connect


def test_timeliness_lags_and_shares() -> None:
    visit = datetime(2026, 5, 1, 10)
    frame = pd.DataFrame(
        {
            "hospital_code": ["A", "A", "A", "A", "B"],
            "visit_datetime": [visit] * 5,
            "received_at": [
                datetime(2026, 5, 1, 20),
                datetime(2026, 5, 2, 9),
                datetime(2026, 5, 5, 10),
                datetime(2026, 5, 20, 10),
                datetime(2026, 5, 1, 11),
            ],
        }
    )
    out = timeliness(frame)
    assert out.loc["A", "cases"] == 4
    assert out.loc["A", "within_1d"] == 0.5 and out.loc["A", "within_7d"] == 0.75
    assert out.loc["A", "median_lag_days"] == pytest.approx((23 / 24 + 4) / 2)
    assert out.loc["B", "within_1d"] == 1.0


def test_completeness_counts_blank_and_unknown_as_missing() -> None:
    frame = pd.DataFrame(
        {
            "hospital_code": ["A", "A"],
            "residence_region": ["440104", None],
            "place": ["home", "unknown"],
            "product_name": [" ", "电饭煲"],
        }
    )
    out = completeness(frame, ("residence_region", "place", "product_name"))
    assert out.loc["A", "filled_residence_region"] == 0.5
    assert out.loc["A", "filled_place"] == 0.5 and out.loc["A", "filled_product_name"] == 0.5
    assert out.loc["A", "completeness"] == 0.5


def test_rejection_rate_and_rejected_files() -> None:
    frame = pd.DataFrame(
        {
            "hospital_code": ["A", "A", "B"],
            "status": ["accepted", "rejected", "partially_accepted"],
            "rows_received": [90, 10, 50],
            "rows_quarantined": [0, 10, 5],
        }
    )
    out = rejection(frame)
    assert out.loc["A", "files"] == 2 and out.loc["A", "files_rejected"] == 1
    assert out.loc["A", "rejection_rate"] == pytest.approx(0.1)
    assert out.loc["B", "rejection_rate"] == pytest.approx(0.1)


def test_narrative_quality_short_and_templated() -> None:
    template = "患儿在家中玩耍时不慎摔倒，{}岁，头部着地"
    frame = pd.DataFrame(
        {
            "hospital_code": ["A"] * 5 + ["B"],
            "narrative": [
                template.format(3),
                template.format(4),
                template.format(5),
                "摔伤",
                "使用电饭煲时锅盖突然弹开，蒸汽烫伤面部和双手",
                None,
            ],
        }
    )
    out = narrative_quality(frame)
    assert out.loc["A", "share_templated"] == pytest.approx(3 / 5)
    assert out.loc["A", "share_short"] == pytest.approx(1 / 5)
    assert out.loc["B", "share_short"] == 1.0 and out.loc["B", "share_templated"] == 0.0


def test_code_agreement_only_counts_hospital_codes() -> None:
    frame = pd.DataFrame(
        {
            "hospital_code": ["A", "A", "A", "A"],
            "product_category": ["HA01", "HA01", None, "TY04"],
            "model_category": ["HA01", "HA02", "HA01", "TY04"],
        }
    )
    out = code_agreement(frame)
    assert out.loc["A", "hospital_coded"] == 3
    assert out.loc["A", "agreement"] == pytest.approx(2 / 3)


def test_silent_hospitals() -> None:
    registry = pd.DataFrame(
        {
            "hospital_code": ["A", "B", "C", "T", "R", "N"],
            "is_test": ["False", "False", "False", "True", "False", "False"],
            "active_from": ["2020-01-01"] * 4 + ["2020-01-01", "2026-06-01"],
            "active_to": ["", "", "", "", "2025-12-31", ""],
        }
    )
    received = pd.Series(
        {"A": datetime(2026, 5, 16), "B": datetime(2026, 4, 1), "T": datetime(2026, 1, 1)}
    )
    visits = pd.Series({"A": datetime(2026, 5, 15), "B": datetime(2026, 3, 30)})
    out = silent_hospitals(registry, received, visits, date(2026, 5, 17), days=14)
    # A reported; B went silent; C never reported; T is a test hospital; R retired; N not
    # active yet.
    assert out["hospital_code"].tolist() == ["B", "C"]
    b = out.iloc[0]
    assert b["days_silent"] == 46 and b["ever_reported"]
    assert not out.iloc[1]["ever_reported"]


def test_network_health_on_the_tiny_warehouse(tiny) -> None:  # type: ignore[no-untyped-def]
    con = connect(tiny.warehouse_path, read_only=True)
    try:
        health = network_health(con, "2026-W20")
        blanks = dict(
            con.execute(
                "SELECT hospital_code, avg(CASE WHEN residence_region IS NULL THEN 1 ELSE 0 END) "
                "FROM cases WHERE visit_week BETWEEN '2026-W17' AND '2026-W20' GROUP BY 1"
            ).fetchall()
        )
    finally:
        con.close()
    rows = {r["hospital_code"]: r for r in health["hospitals"]}
    assert health["window"] == {
        "from_week": "2026-W17",
        "to_week": "2026-W20",
        "from": "2026-04-20",
        "to": "2026-05-17",
        "weeks": 4,
    }
    assert set(rows) == {"GZ001", "SH001", "BJ001", "BJ002"}
    assert rows["BJ002"]["silent"] and rows["BJ002"]["cases"] == 0
    assert [s["hospital_code"] for s in health["silent"]] == ["BJ002"]
    assert "GZ002" in health["never_reported"]
    # SH001 quarantines one row per weekly file; the others none.
    assert rows["SH001"]["rejection_rate"] > 0 and rows["GZ001"]["rejection_rate"] == 0
    assert "rejection_rate" in rows["SH001"]["flags"]
    assert 0 < rows["GZ001"]["within_1d"] < rows["GZ001"]["within_7d"] <= 1
    # Only residence_region is ever blank in the tiny data (1 of the 6 key fields).
    for code, blank in blanks.items():
        assert rows[code]["completeness"] == pytest.approx(1 - blank / 6, abs=1e-4)
    assert any(blank > 0 for blank in blanks.values())
