"""workspace_daily for real (``dag.test()``): on a home with users and no pending evidence-pack
request or due notification, both tasks succeed and do nothing; without an SMTP server the
notify task says what it did not send instead of failing."""

from __future__ import annotations

import pytest
from conftest_airflow import run_dag_tests

from pipeline.config import Settings
from pipeline.services import accounts

pytestmark = pytest.mark.slow  # an Airflow metadata DB and a dag.test() subprocess


def test_workspace_daily_runs_and_does_nothing_when_nothing_is_due(
    airflow_home, tmp_path, monkeypatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("SENTINEL_HOME", str(home))
    monkeypatch.delenv("SENTINEL_SMTP_HOST", raising=False)
    db = accounts.open_appdb(Settings.from_env())  # creates and migrates the application DB
    db.dispose()
    result = run_dag_tests("workspace_daily", [{}], tmp_path)
    (run,) = result["runs"]
    assert run["state"] == "success", result["log"][-3000:]
    states = {t["task_id"]: t["state"] for t in run["tasks"]}
    assert states == {"packs": "success", "notify": "success"}
    assert run["returns"]["packs"] == []
    assert run["returns"]["notify"] == {"due": 0, "sent": 0}
    assert "SENTINEL_SMTP_HOST not set: 0 message(s) not sent" in result["log"]
