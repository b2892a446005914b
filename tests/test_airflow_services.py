"""scripts/airflow_services.sh: the components start, listen only on 127.0.0.1, and ``stop``
leaves nothing behind (LocalExecutor on a SQLite metadata DB; the Celery variant is exercised by
scripts/cluster_check.sh)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request

import psutil
import pytest
from conftest_airflow import REPO

SCRIPT = REPO / "scripts" / "airflow_services.sh"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _group(pgid: int) -> list[psutil.Process]:
    out = []
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) == pgid:
                out.append(proc)
        except (ProcessLookupError, psutil.NoSuchProcess):
            pass
    return out


def _wait(what: str, ok, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if ok():
                return
        except OSError:
            pass
        time.sleep(1)
    raise AssertionError(f"{what} not ready after {timeout} s")


@pytest.mark.slow
def test_start_listens_on_loopback_only_and_stop_leaves_nothing(airflow_home, monkeypatch):
    api_port, log_port = _free_port(), _free_port()
    monkeypatch.setenv("AIRFLOW__API__PORT", str(api_port))
    monkeypatch.setenv("AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT", str(log_port))
    monkeypatch.setenv("AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT", str(_free_port()))
    monkeypatch.setenv("AIRFLOW__API__SECRET_KEY", "test-secret-key-0123456789")
    monkeypatch.setenv("AIRFLOW_BIN", str(REPO / ".venv" / "bin" / "airflow"))
    env = os.environ.copy()
    run_dir = airflow_home / "services"

    def script(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=180
        )

    started = script("start")
    try:
        assert started.returncode == 0, started.stderr
        names = {p.stem for p in run_dir.glob("*.pid")}
        assert names == {"log-server", "api-server", "scheduler", "dag-processor", "triggerer"}
        health = f"http://127.0.0.1:{api_port}/api/v2/monitor/health"
        _wait("api-server", lambda: urllib.request.urlopen(health, timeout=5).status == 200)
        _wait("log server", lambda: socket.create_connection(("127.0.0.1", log_port), 2))
        groups = {p.stem: int(p.read_text()) for p in run_dir.glob("*.pid")}
        members = {proc.pid: name for name, g in groups.items() for proc in _group(g)}
        listening = [
            (members[c.pid], c.laddr.ip, c.laddr.port)
            for c in psutil.net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN and c.pid in members
        ]
        ports = {port for _, _, port in listening}
        assert {api_port, log_port} <= ports, listening
        assert all(ip in ("127.0.0.1", "::1") for _, ip, _ in listening), listening
        status = script("status")
        assert status.stdout.count(": running") == 5, status.stdout
    finally:
        stopped = script("stop")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    for name, pgid in groups.items():
        assert _group(pgid) == [], f"{name} left processes behind"
    assert list(run_dir.glob("*.pid")) == []
