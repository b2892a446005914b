"""SENTINEL_INGEST_TRIGGER=airflow: an accepted submission starts the ``ingest_daily`` DAG for its
hospital through Airflow 3's REST API. A local HTTP server stands in for Airflow's API server
and records every request: the token request (``POST /auth/token``), the DAG run
(``POST /api/v2/dags/ingest_daily/dagRuns`` with a Bearer JWT, ``logical_date`` null, the
hospital in ``conf``), a new token after a 401, a 409 taken as "already started", retries when
Airflow is down; and through the real server: an upload's 202, then the DAG run, and the web
app writes no warehouse."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from api_server import KEY, SAMPLE, SYSTEM, Server

from pipeline.appdb import schema
from pipeline.appdb.db import AppDB
from pipeline.config import ConfigError, Settings
from pipeline.services import api_submissions, api_tokens
from pipeline.services.airflow_trigger import AirflowTrigger, run_id


class FakeAirflow:
    """Answers like Airflow 3's API server for the two calls, and records them."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.tokens_issued = 0
        self.expire_first_token = False
        self.existing_runs: set[str] = set()
        self.down = False
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append(
                    {
                        "path": self.path,
                        "auth": self.headers.get("authorization"),
                        "type": self.headers.get("content-type"),
                        "body": body,
                    }
                )
                if fake.down:
                    return self._send(503, {"detail": "starting"})
                if self.path == "/auth/token":
                    if body != {"username": "sentinel-api", "password": "s3cret-pass"}:
                        return self._send(401, {"detail": "Invalid credentials"})
                    fake.tokens_issued += 1
                    return self._send(201, {"access_token": f"jwt-{fake.tokens_issued}"})
                if self.path == "/api/v2/dags/ingest_daily/dagRuns":
                    auth = self.headers.get("authorization", "")
                    if not auth.startswith("Bearer jwt-"):
                        return self._send(401, {"detail": "Not authenticated"})
                    if fake.expire_first_token and auth == "Bearer jwt-1":
                        return self._send(401, {"detail": "Token expired"})
                    # Airflow's TriggerDAGRunPostBody: logical_date required (may be null),
                    # no unknown fields.
                    allowed = {"dag_run_id", "logical_date", "conf", "note", "run_after"}
                    if "logical_date" not in body or set(body) - allowed:
                        return self._send(422, {"detail": "validation error"})
                    if body["dag_run_id"] in fake.existing_runs:
                        return self._send(409, {"detail": "exists"})
                    fake.existing_runs.add(body["dag_run_id"])
                    return self._send(200, {"dag_run_id": body["dag_run_id"], "state": "queued"})
                return self._send(404, {"detail": "Not Found"})

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def airflow() -> Iterator[FakeAirflow]:
    fake = FakeAirflow()
    try:
        yield fake
    finally:
        fake.close()


def _env(home: Path, url: str) -> dict[str, str]:
    return {
        "SENTINEL_HOME": str(home),
        "SENTINEL_LANDING": str(home / "landing"),
        "SENTINEL_PSEUDONYM_KEY": KEY,
        "SENTINEL_INGEST_TRIGGER": "airflow",
        "SENTINEL_AIRFLOW_API_URL": url,
        "SENTINEL_AIRFLOW_USERNAME": "sentinel-api",
        "SENTINEL_AIRFLOW_PASSWORD": "s3cret-pass",
    }


def _home(tmp_path: Path, url: str) -> tuple[Settings, AppDB]:
    home = tmp_path / "home"
    (home / "landing").mkdir(parents=True)
    settings = Settings.from_env(_env(home, url))
    schema.upgrade(settings.app_database_url)
    return settings, AppDB.from_settings(settings)


def _accept(settings: Settings, db: AppDB, path: Path) -> str:
    token = api_tokens.issue(db, settings, SYSTEM, path.parent.name).view
    data = path.read_bytes()
    temp = api_submissions.temp_upload(settings, path.parent.name)
    temp.write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    return api_submissions.accept(
        settings, db, token, path.name, temp, sha, len(data), None
    ).submission_id


def _wait(check, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _last_status(db: AppDB, hospital: str) -> dict[str, str]:
    return {
        s["submission_id"]: s["status"]
        for s in api_submissions.list_submissions(db, hospital, None)
    }


def test_configuration() -> None:
    assert Settings.from_env({}).ingest_trigger.mode == "worker"  # the embedded default
    with pytest.raises(ConfigError, match="SENTINEL_AIRFLOW_API_URL"):
        Settings.from_env({"SENTINEL_INGEST_TRIGGER": "airflow"})
    with pytest.raises(ConfigError, match="SENTINEL_INGEST_TRIGGER"):
        Settings.from_env({"SENTINEL_INGEST_TRIGGER": "cron"})
    trigger = Settings.from_env(_env(Path("/tmp/x"), "http://af:8080/")).ingest_trigger
    assert trigger.airflow_url == "http://af:8080" and "s3cret" not in repr(trigger)


def test_accepted_files_start_one_dag_run_per_hospital(
    tmp_path: Path, airflow: FakeAirflow
) -> None:
    settings, db = _home(tmp_path, airflow.url)
    gz = sorted((SAMPLE / "GZ001").glob("*.csv"))[:2]
    sh = sorted((SAMPLE / "SH001").glob("*.csv"))[:1]
    sids = {p: _accept(settings, db, p) for p in [*gz, *sh]}
    trigger = api_submissions.make_trigger(settings, db)
    assert isinstance(trigger, AirflowTrigger)
    for sid in sids.values():
        trigger.submit(sid, start=False)
    trigger.start(recover=False)
    try:
        _wait(lambda: len(trigger.triggered) == 2)
    finally:
        trigger.stop()
    token_calls = [r for r in airflow.requests if r["path"] == "/auth/token"]
    assert len(token_calls) == 1 and token_calls[0]["type"] == "application/json"
    runs = [r for r in airflow.requests if r["path"] == "/api/v2/dags/ingest_daily/dagRuns"]
    assert [r["auth"] for r in runs] == ["Bearer jwt-1", "Bearer jwt-1"]
    by_hospital = {r["body"]["conf"]["hospitals"][0]: r["body"] for r in runs}
    assert set(by_hospital) == {"GZ001", "SH001"}
    for r in runs:
        assert r["body"]["logical_date"] is None and len(r["body"]["conf"]["hospitals"]) == 1
    gz_ids = [sids[p] for p in gz]
    assert by_hospital["GZ001"]["dag_run_id"] == run_id("GZ001", gz_ids)
    # Handed over: each submission's history says which run; the web app wrote no warehouse.
    assert set(_last_status(db, "GZ001").values()) == {"processing"}
    assert not settings.warehouse_path.exists()
    # A restart re-sends only what was never handed over.
    assert api_submissions.unfinished(db, last=("received",)) == []
    db.dispose()


def test_expired_token_conflict_and_airflow_down(tmp_path: Path, airflow: FakeAirflow) -> None:
    settings, db = _home(tmp_path, airflow.url)
    path = sorted((SAMPLE / "GZ001").glob("*.csv"))[0]
    sid = _accept(settings, db, path)
    # Airflow down: retried with backoff, then left to the daily run (status stays received).
    airflow.down = True
    trigger = AirflowTrigger(settings, db, retries=3, backoff=0.05)
    trigger.submit(sid)
    try:
        _wait(lambda: len(airflow.requests) >= 3)
        time.sleep(0.5)
    finally:
        trigger.stop()
    assert len(airflow.requests) == 3 and not trigger.triggered
    assert _last_status(db, "GZ001") == {sid: "received"}
    # Back up, the first token "expired": one new token, then the run; a second attempt for
    # the same files (a lost answer) is a 409, taken as started, not a second run.
    airflow.down, airflow.expire_first_token = False, True
    airflow.requests.clear()
    trigger = AirflowTrigger(settings, db)
    trigger.start()  # recovers the submission still "received"
    try:
        _wait(lambda: len(trigger.triggered) == 1)
    finally:
        trigger.stop()
    paths = [r["path"].rsplit("/", 1)[-1] for r in airflow.requests]
    assert paths == ["token", "dagRuns", "token", "dagRuns"], paths
    assert airflow.tokens_issued == 2
    again = AirflowTrigger(settings, db)
    again.client._token = "jwt-2"
    assert again.client.trigger("GZ001", [sid]) == trigger.triggered[0]
    assert len(airflow.existing_runs) == 1
    db.dispose()


@pytest.mark.slow
def test_through_the_server(tmp_path: Path, airflow: FakeAirflow) -> None:
    server = Server.make(tmp_path / "home", **_env(tmp_path / "home", airflow.url))
    server.start()
    try:
        token = server.token("GZ001")
        path = sorted((SAMPLE / "GZ001").glob("*.csv"))[0]
        with httpx.Client(base_url=server.url, timeout=60) as client:
            r = client.post(
                "/api/v1/submissions",
                params={"filename": path.name},
                content=path.read_bytes(),
                headers={"authorization": f"Bearer {token}", "content-type": "text/csv"},
            )
            assert r.status_code == 202, r.text
            sid = r.json()["submission_id"]
            _wait(lambda: any(q["path"].endswith("/dagRuns") for q in airflow.requests), 60)
            run = next(q for q in airflow.requests if q["path"].endswith("/dagRuns"))
            assert run["body"]["conf"] == {"hospitals": ["GZ001"]}
            assert run["body"]["dag_run_id"] == run_id("GZ001", [sid])

            def handed_over() -> bool:
                body = client.get(
                    f"/api/v1/submissions/{sid}", headers={"authorization": f"Bearer {token}"}
                ).json()
                return [h["status"] for h in body["history"]] == ["received", "processing"]

            _wait(handed_over, 30)
        assert not server.settings.warehouse_path.exists()  # Airflow's load task writes it
    finally:
        server.stop()
