"""ingest_daily end to end: dag.test() on a tiny landing zone and a migrated SQLite metadata DB.

Three runs in one Airflow process (see conftest_airflow.run_dag_tests):
1. up to February: GZ001 (two files, one row failing validation) and SH001 (one file and an
   identical resend under another name) -> two mapped stage tasks named after their batches;
2. SH001 only -> nothing new: no mapped task, load skipped;
3. GZ001 in March -> the file left out by run 1.
"""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from conftest_airflow import run_dag_tests

pytestmark = pytest.mark.slow  # see tests/conftest.py

KEY = "dag-e2e-test-pseudonym-key-0123456789"
RECEIVED = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)  # recorded arrival = received_at
HEADERS = [
    "hospital_code",
    "case_id",
    "report_type",
    "visit_datetime",
    "injury_datetime",
    "sex",
    "age",
    "age_unit",
    "residence_region",
    "cause",
    "place",
    "activity",
    "intent",
    "injury_nature",
    "body_region",
    "severity",
    "outcome",
    "product_name",
    "product_category",
    "product_relation",
    "narrative",
]


def case(hospital: str, case_id: str, **overrides: str) -> dict:
    row = {
        "hospital_code": hospital,
        "case_id": case_id,
        "report_type": "new",
        "visit_datetime": "2026-02-10 09:30",
        "injury_datetime": "2026-02-10 08:45",
        "sex": "female",
        "age": "6",
        "age_unit": "years",
        "residence_region": "440104",
        "cause": "burn_scald",
        "place": "home",
        "activity": "vital_activity",
        "intent": "unintentional",
        "injury_nature": "burn",
        "body_region": "upper_limb",
        "severity": "moderate",
        "outcome": "treated_released",
        "product_name": "电饭煲",
        "product_category": "HA01",
        "product_relation": "normal_use_accident",
        "narrative": "Child touched the steam vent of a rice cooker; scald on the right hand.",
    }
    row.update(overrides)
    return row


def record_arrival(path: Path) -> None:
    """What the submission API does at upload: the file's arrival (its received time) in
    ``<tmp>/sentinel/arrivals``, the home of this test."""
    import hashlib

    from pipeline.intake.arrivals import Arrival, Arrivals, normalise_time

    landing = path.parents[1]
    relpath = path.relative_to(landing).as_posix()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    Arrivals(landing.parent / "sentinel" / "arrivals").record(
        [Arrival(path.parent.name, relpath, digest, normalise_time(RECEIVED), "api")]
    )


def write_extract(path: Path, rows: list[dict]) -> Path:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=HEADERS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    record_arrival(path)
    return path


def query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def tasks_of(run: dict, task_id: str) -> list[dict]:
    return [t for t in run["tasks"] if t["task_id"] == task_id]


def test_ingest_daily_end_to_end(tmp_path, monkeypatch, airflow_home):
    landing, home = tmp_path / "landing", tmp_path / "sentinel"
    write_extract(
        landing / "GZ001" / "GZ001_20260210.csv",
        [
            case("GZ001", "G001"),
            case("GZ001", "G002", sex="male", age="3"),
            case("GZ001", "G003", age="150"),  # out of range: quarantined
        ],
    )
    write_extract(
        landing / "GZ001" / "GZ001_20260211.csv",
        [
            case(
                "GZ001",
                "G004",
                visit_datetime="2026-02-11 10:00",
                injury_datetime="2026-02-11 09:40",
            ),
        ],
    )
    sh001 = write_extract(
        landing / "SH001" / "SH001_20260210.csv",
        [
            case("SH001", "S001", residence_region="310106"),
            case(
                "SH001", "S002", residence_region="310106", cause="fall", injury_nature="fracture"
            ),
        ],
    )
    resend = landing / "SH001" / "SH001_20260210_resend.csv"
    resend.write_bytes(sh001.read_bytes())  # the same file sent again under another name
    record_arrival(resend)
    monkeypatch.setenv("SENTINEL_HOME", str(home))
    monkeypatch.setenv("SENTINEL_PSEUDONYM_KEY", KEY)
    monkeypatch.setenv("SENTINEL_LANDING", str(tmp_path / "does-not-exist"))  # param wins
    monkeypatch.delenv("SENTINEL_HOSPITAL_REGISTRY", raising=False)

    # Arrived later: run 1 stops at February, run 3 picks it up by hospital and date range.
    write_extract(
        landing / "GZ001" / "GZ001_20260301.csv",
        [
            case(
                "GZ001",
                "G005",
                visit_datetime="2026-03-01 07:00",
                injury_datetime="2026-03-01 06:30",
            ),
        ],
    )
    conf = {"landing": str(landing)}

    started = time.monotonic()
    result = run_dag_tests(
        "ingest_daily",
        [
            {**conf, "date_to": "2026-02-28"},
            {**conf, "hospitals": ["SH001"]},
            {**conf, "hospitals": ["GZ001"], "date_from": "2026-03-01", "date_to": "2026-03-31"},
        ],
        tmp_path,
    )
    elapsed = time.monotonic() - started
    print(f"ingest_daily e2e: 3 dag.test runs in {elapsed:.1f} s")

    # The pool exists with one slot and the writer (load) uses it.
    assert result["pools"]["sentinel_warehouse"] == 1
    run1, run2, run3 = result["runs"]
    assert [r["state"] for r in result["runs"]] == ["success"] * 3, result["log"][-5000:]

    # Run 1: one mapped stage task per hospital batch, named after the batch.
    assert [t["state"] for t in tasks_of(run1, "discover")] == ["success"]
    stages = tasks_of(run1, "stage")
    assert [t["state"] for t in stages] == ["success", "success"]
    assert [t["label"] for t in stages] == [
        "GZ001: 2 files GZ001_20260210.csv .. GZ001_20260211.csv",
        "SH001: 2 files SH001_20260210.csv .. SH001_20260210_resend.csv",
    ]
    (load1,) = tasks_of(run1, "load")
    assert load1["state"] == "success" and load1["pool"] == "sentinel_warehouse"
    # ... and updated the cases asset, saying what it stored.
    assert run1["asset_events"] == [
        {
            "name": "sentinel_cases",
            "uri": "x-sentinel://warehouse/cases",
            "task_id": "load",
            "extra": {
                "submissions": 4,
                "statuses": {"partially_accepted": 1, "accepted": 2, "duplicate": 1},
            },
        }
    ]

    # Run 2: nothing new for SH001 -> no mapped stage task, load skipped (no asset event);
    # run 1's date_to does not leak into it.
    assert "0 new files in 0 batches" in result["log"]
    assert "(hospitals: SH001, dates: open .. open)" in result["log"]
    assert [t["state"] for t in tasks_of(run2, "discover")] == ["success"]
    assert all(t["state"] == "skipped" for t in tasks_of(run2, "stage"))
    assert [t["state"] for t in tasks_of(run2, "load")] == ["skipped"]
    assert run2["asset_events"] == []

    # Run 3: only the March file of GZ001.
    assert [t["label"] for t in tasks_of(run3, "stage")] == ["GZ001: GZ001_20260301.csv"]
    assert [t["state"] for t in tasks_of(run3, "load")] == ["success"]
    assert [e["extra"]["statuses"] for e in run3["asset_events"]] == [{"accepted": 1}]

    # The warehouse: every file in the ledger with the right status.
    db = home / "warehouse.duckdb"
    submissions = {
        name: (status, stored, quarantined, duplicate)
        for name, status, stored, quarantined, duplicate in query(
            db,
            (
                "SELECT file_name, status, rows_stored, rows_quarantined, rows_duplicate "
                "FROM submissions"
            ),
        )
    }
    assert submissions == {
        "GZ001/GZ001_20260210.csv": ("partially_accepted", 2, 1, 0),
        "GZ001/GZ001_20260211.csv": ("accepted", 1, 0, 0),
        "GZ001/GZ001_20260301.csv": ("accepted", 1, 0, 0),
        "SH001/SH001_20260210.csv": ("accepted", 2, 0, 0),
        "SH001/SH001_20260210_resend.csv": ("duplicate", 0, 0, 2),
    }
    assert query(db, "SELECT hospital_code, count(*) FROM cases GROUP BY 1 ORDER BY 1") == [
        ("GZ001", 4),
        ("SH001", 2),
    ]
    quarantine = query(db, "SELECT hospital_code, case_id, field, rule FROM quarantine")
    assert [(h, c, f) for h, c, f, _ in quarantine] == [("GZ001", "G003", "age")]

    # A receipt (JSON + Markdown) for every submission, the bad row listed with its reason.
    ids = dict(query(db, "SELECT file_name, submission_id FROM submissions"))
    for name, sid in ids.items():
        hospital = name.split("/")[0]
        assert (home / "outbox" / hospital / f"{sid}.md").is_file()
        receipt = json.loads((home / "outbox" / hospital / f"{sid}.json").read_text("utf-8"))
        assert receipt["status"] == submissions[name][0]
    bad = json.loads(
        (home / "outbox" / "GZ001" / f"{ids['GZ001/GZ001_20260210.csv']}.json").read_text("utf-8")
    )
    assert [(e["field"], e["rule"]) for e in bad["errors"]] == [("age", quarantine[0][3])]
    dup = json.loads(
        (home / "outbox" / "SH001" / f"{ids['SH001/SH001_20260210_resend.csv']}.json").read_text(
            "utf-8"
        )
    )
    assert dup["duplicate_of"] == ids["SH001/SH001_20260210.csv"]

    # Nothing left behind in staging; the plans of the last run are the only leftovers.
    staged = [p.name for p in (home / "staging").iterdir() if p.name != "plans"]
    assert staged == []
