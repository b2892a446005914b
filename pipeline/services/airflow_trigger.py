"""Start ingestion in Airflow when the submission API accepts a file
(``SENTINEL_INGEST_TRIGGER=airflow``), instead of the web app's own ingest worker.

Per hospital with newly accepted files, one run of the ``ingest_daily`` DAG through Airflow 3's
REST API (no Airflow import: plain HTTP, standard library)::

    POST {SENTINEL_AIRFLOW_API_URL}/auth/token            {"username", "password"}
         -> 201 {"access_token": "<JWT>"}                 (kept; fetched again after a 401)
    POST {url}/api/v2/dags/ingest_daily/dagRuns           Authorization: Bearer <JWT>
         {"dag_run_id": "sentinel_api__GZ001__<hash>", "logical_date": null,
          "conf": {"hospitals": ["GZ001"]}, "note": "..."}
         -> 200 (created) or 409 (a run with this id exists: a retry after a lost answer)

The run id is derived from the hospital and the submission ids it covers, so a retried request
never starts a second run for the same files. The DAG's own load task is then the warehouse's
single writer (Airflow pool ``sentinel_warehouse``, one slot, and the writers' file lock of
``storage.session.writer``); the web app writes nothing. Airflow unreachable or refusing: the
submission keeps its ``received`` status, the request is retried with backoff (bounded), and
the file is in any case picked up by the daily scheduled run (the ledger loads each file once).
"""

from __future__ import annotations

import hashlib
import json
import logging
import urllib.error
import urllib.request

from sqlalchemy import select

from pipeline.appdb.db import AppDB
from pipeline.appdb.models import ApiSubmission
from pipeline.config import Settings
from pipeline.services.submission_queue import SubmissionQueue

log = logging.getLogger("sentinel.api.airflow")


class AirflowError(Exception):
    """Airflow did not accept the request (``status`` 0: not reachable)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}" if status else message)
        self.status = status


def run_id(hospital: str, submission_ids: list[str]) -> str:
    digest = hashlib.sha256("\0".join(sorted(submission_ids)).encode()).hexdigest()[:16]
    return f"sentinel_api__{hospital}__{digest}"


class AirflowClient:
    """The two calls Sentinel makes to Airflow's public REST API (v2, Airflow 3)."""

    def __init__(self, settings: Settings) -> None:
        self.config = settings.ingest_trigger
        self._token: str | None = None

    def _post(self, path: str, body: dict, token: str | None) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(
            self.config.airflow_url + path,
            data=json.dumps(body).encode("utf-8"),
            headers=headers,
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.config.airflow_timeout) as reply:
                return reply.status, json.loads(reply.read() or b"{}")
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:500].decode("utf-8", "replace")
            return exc.code, {"detail": detail}
        except (OSError, ValueError) as exc:  # refused, timed out, not JSON
            raise AirflowError(0, f"Airflow API not reachable: {exc}") from None

    def token(self, refresh: bool = False) -> str:
        if self._token is None or refresh:
            status, body = self._post(
                "/auth/token",
                {
                    "username": self.config.airflow_username,
                    "password": self.config.airflow_password,
                },
                None,
            )
            if status not in (200, 201) or not body.get("access_token"):
                raise AirflowError(status, "no token from /auth/token (check the credentials)")
            self._token = str(body["access_token"])
        return self._token

    def trigger(self, hospital: str, submission_ids: list[str]) -> str:
        """Start the ingest DAG for ``hospital``; returns the run id (also when it existed)."""
        rid = run_id(hospital, submission_ids)
        body = {
            "dag_run_id": rid,
            "logical_date": None,  # required, may be null (manual runs need no logical date)
            "conf": {"hospitals": [hospital]},
            "note": f"Sentinel submission API: {len(submission_ids)} file(s) from {hospital}",
        }
        path = f"/api/v2/dags/{self.config.airflow_dag_id}/dagRuns"
        status, reply = self._post(path, body, self.token())
        if status == 401:  # the JWT expired: one new token
            status, reply = self._post(path, body, self.token(refresh=True))
        if status in (200, 201, 409):  # 409: this run exists (an earlier attempt got through)
            return rid
        raise AirflowError(status, str(reply.get("detail", ""))[:300])


class AirflowTrigger(SubmissionQueue):
    """The web app's ingest trigger in Airflow mode: same interface as ``IngestWorker``
    (``start``, ``submit``, ``stop``). Requests go out from one background thread, so an
    upload's 202 never waits for Airflow; submissions of one hospital that arrive together
    share one DAG run."""

    thread_name = "sentinel-airflow"

    def __init__(
        self,
        settings: Settings,
        db: AppDB,
        retries: int = 5,
        backoff: float = 2.0,
        client: AirflowClient | None = None,
    ) -> None:
        super().__init__(settings, db)  # _pending: submission id -> attempts so far
        self.client = client or AirflowClient(settings)
        self.retries, self.backoff = retries, backoff
        self.triggered: list[str] = []  # run ids (tests, logs)

    def _queued(self) -> int:
        return 0  # attempts so far

    def _recover(self) -> None:
        from pipeline.services import api_submissions  # noqa: PLC0415 (it imports this module)

        api_submissions.clean_partial_uploads(self.settings)
        for sid in api_submissions.unfinished(self.db, last=("received",)):
            self.submit(sid, start=False)

    def idle(self) -> bool:
        with self._lock:
            return not self._pending

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                batch, self._pending = dict(self._pending), {}
            if batch:
                self._send(batch)

    def _send(self, batch: dict[str, int]) -> None:
        from pipeline.services import api_submissions  # noqa: PLC0415

        with self.db.transaction() as session:
            rows = list(
                session.scalars(select(ApiSubmission).where(ApiSubmission.id.in_(list(batch))))
            )
        by_hospital: dict[str, list[str]] = {}
        for row in rows:
            by_hospital.setdefault(row.hospital_code, []).append(row.id)
        retry: dict[str, int] = {}
        for hospital, ids in sorted(by_hospital.items()):
            try:
                rid = self.client.trigger(hospital, ids)
            except AirflowError as exc:
                attempts = max(batch[s] for s in ids) + 1
                if attempts < self.retries:
                    log.warning("airflow trigger for %s failed (%s): retry", hospital, exc)
                    retry.update(dict.fromkeys(ids, attempts))
                else:
                    log.error(
                        "airflow trigger for %s failed %d times (%s): the daily run ingests "
                        "these files",
                        hospital,
                        attempts,
                        exc,
                    )
                continue
            self.triggered.append(rid)
            api_submissions.record_events(
                self.db, ids, "processing", dict.fromkeys(ids, f"airflow dag run {rid}")
            )
        if retry and not self._stop.is_set():
            delay = self.backoff * 2 ** (max(retry.values()) - 1)
            self._stop.wait(delay)
            with self._lock:
                for sid, attempts in retry.items():
                    self._pending.setdefault(sid, attempts)
            self._wake.set()
