"""Airflow test environment and fixtures (imported by tests/conftest.py).

On import (before any test module imports Airflow) this points Airflow at a throw-away
AIRFLOW_HOME, the repository's airflow.cfg and dags/, so tests never read or write ~/airflow or
the developer's airflow_home/. Tests that need a metadata DB use the ``airflow_home`` fixture:
a fresh SQLite DB migrated with ``airflow db migrate`` plus the ``sentinel_warehouse`` pool, the
same commands the README gives. DAG runs (``dag.test()``) happen in a subprocess with that
environment, because Airflow reads its configuration once per process.
"""

from __future__ import annotations

import atexit
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DAGS_DIR = REPO / "dags"
AIRFLOW_CFG = REPO / "airflow.cfg"
AIRFLOW_BIN = Path(sys.executable).with_name("airflow")
DAG_TEST_SCRIPT = REPO / "scripts" / "dag_test.py"
WAREHOUSE_POOL = ("sentinel_warehouse", "1", "DuckDB single writer")


def _airflow_env(home: Path) -> dict[str, str]:
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW_CONFIG": str(AIRFLOW_CFG),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__LOGGING__COLORED_CONSOLE_LOG": "False",
    }


_SESSION_HOME = Path(tempfile.mkdtemp(prefix="sentinel-airflow-home-"))
atexit.register(shutil.rmtree, _SESSION_HOME, ignore_errors=True)
os.environ.update(_airflow_env(_SESSION_HOME))


def run_airflow(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run an ``airflow`` CLI command with the current environment; fails the test on error."""
    proc = subprocess.run(
        [str(AIRFLOW_BIN), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=os.environ.copy(),
    )
    assert proc.returncode == 0, (
        f"airflow {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n"
        f"{proc.stderr[-3000:]}"
    )
    return proc


@pytest.fixture
def airflow_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A migrated SQLite metadata DB in tmp_path, with the sentinel_warehouse pool."""
    home = tmp_path / "airflow_home"
    home.mkdir()
    for name, value in _airflow_env(home).items():
        monkeypatch.setenv(name, value)
    run_airflow("db", "migrate")
    run_airflow("pools", "set", *WAREHOUSE_POOL)
    return home


def run_dag_tests(dag_id: str, confs: list[dict], workdir: Path, timeout: float = 300) -> dict:
    """``dag.test(run_conf=conf)`` for each conf, in one subprocess with the current environment
    (use after the ``airflow_home`` fixture), through scripts/dag_test.py. Returns
    {"pools": {name: slots}, "log": str, "runs": [{"run_id", "state", "conf", "returns",
    "asset_events": [{"name", "uri", "extra", "task_id"}],
    "tasks": [{"task_id", "map_index", "state", "pool", "label"}]}]}."""
    out = workdir / f"dag_test_{dag_id}.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(DAG_TEST_SCRIPT),
            dag_id,
            *(f"--conf={json.dumps(c)}" for c in confs),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=os.environ.copy(),
        cwd=workdir,
    )
    assert proc.returncode == 0 and out.exists(), (
        f"dag.test runner failed ({proc.returncode}):\n{proc.stdout[-5000:]}\n{proc.stderr[-5000:]}"
    )
    result = json.loads(out.read_text())
    result["log"] = proc.stdout + proc.stderr
    return result
