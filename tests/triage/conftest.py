"""A tiny hand-made warehouse: a handful of cases and two weeks of alerts."""

from __future__ import annotations

import json

import pandas as pd
import pytest


def _alert(week: str, alert_id: str, keys: list[str], status: str = "new", rank: int = 1) -> dict:
    return {
        "week": week,
        "alert_id": alert_id,
        "alert_type": "category",
        "subject": "HA01",
        "category": "HA01",
        "pattern_id": None,
        "region": None,
        "term": None,
        "method": "auto-offset",
        "observed": float(len(keys)),
        "expected": 1.0,
        "threshold": 3.0,
        "score": 2.0,
        "pvalue": 0.001,
        "qvalue": 0.01,
        "status": status,
        "n_hospitals": 2,
        "hospitals": "GZ001,SH001",
        "n_severe": 1,
        "n_admitted": 1,
        "n_died": 0,
        "priority": 3.0 / rank,
        "rank": rank if status != "resolved" else None,
        "case_keys": json.dumps(sorted(keys)),
        "params": json.dumps({"version": "alerts-1"}),
    }


@pytest.fixture
def tiny_con(tmp_path):
    from pipeline.alerts.weekly import ALERT_COLUMNS
    from pipeline.storage.schema import initialise
    from pipeline.storage.warehouse import connect

    con = connect(tmp_path / "warehouse.duckdb")
    initialise(con)
    cases = pd.DataFrame(
        [
            {
                "hospital_code": h,
                "case_id": c,
                "version": 1,
                "status": "active",
                "content_hash": "x",
                "submission_id": "S1",
                "source_row": i,
                "received_at": pd.Timestamp("2026-03-10"),
                "visit_week": "2026-W10",
                "narrative": "scalded by kettle",
                "severity": "moderate",
                "outcome": "admitted",
            }
            for i, (h, c) in enumerate(
                [("GZ001", "C1"), ("GZ001", "C2"), ("SH001", "C3"), ("SH001", "C9")]
            )
        ]
    )
    con.register("_c", cases)
    con.execute("INSERT INTO cases BY NAME SELECT * FROM _c")
    con.unregister("_c")
    alerts = pd.DataFrame(
        [
            _alert("2026-W10", "A1", ["GZ001/C1", "GZ001/C2", "SH001/C3"]),
            _alert("2026-W11", "A1", ["GZ001/C1", "GZ001/C2", "SH001/C3"], status="ongoing"),
            _alert("2026-W11", "A2", ["SH001/C9"], rank=2),
            _alert("2026-W12", "A1", ["GZ001/C1"], status="resolved"),
        ]
    ).reindex(columns=ALERT_COLUMNS)
    con.register("_a", alerts)
    con.execute("INSERT INTO alerts BY NAME SELECT * FROM _a")
    con.unregister("_a")
    yield con
    con.close()


@pytest.fixture
def tiny_home(tiny_con, tmp_path):
    """SENTINEL_HOME holding the tiny warehouse, closed so the CLI can open it."""
    tiny_con.close()
    return tmp_path
