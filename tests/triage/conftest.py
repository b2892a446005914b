"""A tiny hand-made warehouse (a handful of coded cases, three weeks of alerts and their
signals) and an application database with an analyst, two supervisors and a coder, on SQLite
and on PostgreSQL."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from appdb_urls import BACKENDS, url_for
from triage_people import add_people

from pipeline.appdb import schema
from pipeline.appdb.db import AppDB


def _alert(
    week: str,
    alert_id: str,
    keys: list[str],
    status: str = "new",
    rank: int = 1,
    category: str = "HA01",
) -> dict:
    return {
        "week": week,
        "alert_id": alert_id,
        "alert_type": "category",
        "subject": category,
        "category": category,
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


CASES = [
    ("GZ001", "C1", "HA01", "2026-W10"),
    ("GZ001", "C2", "HA01", "2026-W10"),
    ("SH001", "C3", "HA01", "2026-W10"),
    ("SH001", "C9", "TY04", "2026-W11"),
]


@pytest.fixture
def tiny_con(tmp_path):
    """Signals of the tiny warehouse: S(HA01) with A1 in W10-W11, S(TY04) with A2 in W11."""
    from pipeline.alerts.weekly import ALERT_COLUMNS, build_signals
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
                "visit_week": week,
                "visit_datetime": pd.Timestamp("2026-03-03")
                if week == "2026-W10"
                else (pd.Timestamp("2026-03-10")),
                "narrative": "scalded by kettle",
                "severity": "moderate",
                "outcome": "admitted",
                "product_category": category,
            }
            for i, (h, c, category, week) in enumerate(CASES)
        ]
    )
    con.register("_c", cases)
    con.execute("INSERT INTO cases BY NAME SELECT * FROM _c")
    con.execute("""INSERT INTO case_coding BY NAME SELECT hospital_code, case_id,
        version AS case_version, product_category AS category_code, true AS product_involved,
        'hospital' AS source, 'tiny' AS model_name, 'v0' AS model_version,
        product_category AS model_category, false AS needs_review, 'hospital_code' AS reason,
        'x' AS input_hash, received_at AS coded_at FROM _c""")
    con.unregister("_c")
    alerts = pd.DataFrame(
        [
            _alert("2026-W10", "A1", ["GZ001/C1", "GZ001/C2", "SH001/C3"]),
            _alert("2026-W11", "A1", ["GZ001/C1", "GZ001/C2", "SH001/C3"], status="ongoing"),
            _alert("2026-W11", "A2", ["SH001/C9"], rank=2, category="TY04"),
            _alert("2026-W12", "A1", ["GZ001/C1"], status="resolved"),
        ]
    ).reindex(columns=ALERT_COLUMNS)
    con.register("_a", alerts)
    con.execute("INSERT INTO alerts BY NAME SELECT * FROM _a")
    con.unregister("_a")
    build_signals(con)
    yield con
    con.close()


@pytest.fixture(scope="session")
def appdb_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An upgraded SQLite application database, copied by each test (Alembic once)."""
    path = tmp_path_factory.mktemp("appdb-template") / "app.db"
    schema.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def tiny_home(tiny_con, tmp_path, appdb_template) -> Path:
    """SENTINEL_HOME holding the tiny warehouse (closed so the CLI can open it) and an
    application database with the test users."""
    tiny_con.close()
    shutil.copy(appdb_template, tmp_path / "app.db")
    db = AppDB(f"sqlite:///{tmp_path / 'app.db'}")
    try:
        add_people(db)
    finally:
        db.dispose()
    return tmp_path


@pytest.fixture(params=BACKENDS)
def app_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from url_for(request.param, tmp_path)


@pytest.fixture
def db(app_db_url: str, appdb_template: Path, tmp_path: Path) -> Iterator[AppDB]:
    if app_db_url.startswith("sqlite"):
        shutil.copy(appdb_template, tmp_path / "app.db")
    else:
        schema.upgrade(app_db_url)
    database = AppDB(app_db_url)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def people(db: AppDB) -> dict:
    return add_people(db)
