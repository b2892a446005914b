"""The submission API's service: receive a file atomically into the landing zone, record its
arrival, keep its status history, and ingest it in the application's own single worker.

Receiving (``POST /api/v1/submissions``), in this order, so nothing partial is ever visible:

1. the body is streamed into ``<landing>/<HOSPITAL>/.sentinel-upload-<random>`` (a dot-name:
   ingest skips dot-names; same folder, so the rename below is atomic), hashed and counted;
2. :func:`accept`: the arrival is recorded (``record_arrival(source="api")``) *before* the
   file is renamed (``os.replace``) to its name, then the submission row, its ``received``
   event and an audit entry are committed together;
3. the worker is told. A crash (even ``kill -9``) at any step leaves either no file (the
   dot-file is removed at the next start by :func:`clean_partial_uploads`) or the whole file;
   the client, which got no 202, retries and gets the same submission (its id is the ledger's
   submission id: a hash of hospital, name and content).

The worker (:class:`IngestWorker`) is one thread per application process: it runs
``intake.ingest`` on bounded batches of pending submissions, each taking the warehouse's single
writer lock (``storage.session.writer``), so it never writes at the same time as a command-line
or Airflow ingest, and never twice at once in this process. With
``SENTINEL_INGEST_TRIGGER=airflow`` (:func:`make_trigger`) the app writes nothing and starts the
ingest DAG instead (:mod:`pipeline.services.airflow_trigger`).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import threading
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pipeline.appdb import audit
from pipeline.appdb.audit import Actor
from pipeline.appdb.db import AppDB
from pipeline.appdb.models import ApiSubmission, ApiSubmissionEvent, utcnow
from pipeline.config import Settings
from pipeline.errors import NotFound, SentinelError, WarehouseBusy
from pipeline.intake.discover import SUPPORTED_SUFFIXES, LandingFile, sha256_file
from pipeline.services import intake
from pipeline.services.airflow_trigger import AirflowTrigger
from pipeline.services.api_tokens import TokenView
from pipeline.services.submission_queue import SubmissionQueue
from pipeline.storage import publish
from pipeline.storage.session import reader

log = logging.getLogger("sentinel.api")
TEMP_PREFIX = ".sentinel-upload-"
MAX_NAME_CHARS = 200
FINAL_STATES = ("processed", "failed")


class ApiProblem(Exception):
    """A request the API refuses: HTTP ``status`` and a message code (``api.error.<code>``)."""

    def __init__(self, status: int, code: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(code)
        self.status, self.code, self.headers = status, code, headers or {}


@dataclass(frozen=True)
class Accepted:
    submission_id: str
    created: bool  # False: the same submission was already received (an idempotent retry)
    received_at: dt.datetime
    duplicate_of: str | None  # an earlier API submission of the same bytes


def check_name(name: str | None) -> str:
    """A plain file name with a supported extension (400 / 415 otherwise)."""
    if not name:
        raise ApiProblem(400, "no_filename")
    name = unicodedata.normalize("NFC", name.strip())
    plain = PurePosixPath(name).name
    if (
        plain != name
        or "\\" in name
        or name.startswith(".")
        or len(name) > MAX_NAME_CHARS
        or not all(ch.isprintable() for ch in name)
    ):
        raise ApiProblem(400, "bad_filename")
    if PurePosixPath(name).suffix.lower() not in SUPPORTED_SUFFIXES:
        raise ApiProblem(415, "unsupported_type")
    return name


def temp_upload(settings: Settings, hospital: str) -> Path:
    """A new dot-file in the hospital's landing folder to receive an upload into."""
    folder = settings.landing_dir / hospital
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{TEMP_PREFIX}{secrets.token_hex(8)}"


def clean_partial_uploads(settings: Settings) -> int:
    """Remove uploads interrupted by a crash (only this process writes these dot-files, and it
    is starting: none is in flight)."""
    removed = 0
    if settings.landing_dir.is_dir():
        for path in settings.landing_dir.glob(f"*/{TEMP_PREFIX}*"):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def ledger_id(hospital: str, name: str, sha256: str) -> str:
    return LandingFile(hospital, "", f"{hospital}/{name}", sha256, 0, "", "").submission_id


@dataclass(frozen=True)
class Sender:
    """Who sends: a hospital's system with its token, or a clerk signed in on the web page (the
    hospital is the clerk's binding, never a form field)."""

    hospital_code: str
    actor: Actor
    token_id: int | None = None
    user_id: int | None = None

    @classmethod
    def of_token(cls, token: TokenView) -> Sender:
        return cls(token.hospital_code, Actor(None, f"token:{token.prefix}", "api"), token.id)

    @classmethod
    def of_clerk(cls, user_id: int, username: str, hospital_code: str) -> Sender:
        return cls(hospital_code, Actor(user_id, username, "web"), None, user_id)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_locks_guard = threading.Lock()
_place_locks: dict[str, threading.Lock] = {}


def _place_lock(hospital: str) -> threading.Lock:
    """Per hospital and process: the check-then-rename of a file name is one step (the app is
    one process per home, docs/web.md)."""
    with _locks_guard:
        return _place_locks.setdefault(hospital, threading.Lock())


def accept(
    settings: Settings,
    db: AppDB,
    sender: Sender | TokenView,
    name: str,
    temp: Path,
    sha256: str,
    size: int,
    idempotency_key: str | None,
    now: dt.datetime | None = None,
) -> Accepted:
    """Move a fully received upload into place and record it (see the module docstring).
    ``temp`` is consumed (renamed or removed)."""
    if isinstance(sender, TokenView):
        sender = Sender.of_token(sender)
    hospital = sender.hospital_code
    sid = ledger_id(hospital, name, sha256)
    try:
        with _place_lock(hospital):
            with db.transaction() as session:
                if idempotency_key:
                    row = session.scalars(
                        select(ApiSubmission).where(
                            ApiSubmission.hospital_code == hospital,
                            ApiSubmission.idempotency_key == idempotency_key,
                        )
                    ).first()
                    if row is not None and row.id != sid:
                        raise ApiProblem(409, "idempotency_conflict")
                existing = session.get(ApiSubmission, sid)
            if existing is not None:
                return Accepted(sid, False, existing.received_at, _duplicate_of(db, existing))
            final = settings.landing_dir / hospital / name
            if final.exists() and sha256_file(final) != sha256:
                raise ApiProblem(409, "name_taken")
            arrival = intake.record_arrival(settings, hospital, name, sha256, size, source="api")
            with temp.open("rb+") as handle:
                os.fsync(handle.fileno())
            os.replace(temp, final)
            _fsync_dir(final.parent)
            received = dt.datetime.fromisoformat(arrival.received_at)
            row = ApiSubmission(
                id=sid,
                hospital_code=hospital,
                file_name=name,
                sha256=sha256,
                size_bytes=size,
                received_at=received,
                token_id=sender.token_id,
                user_id=sender.user_id,
                idempotency_key=idempotency_key or None,
            )
            try:
                with db.transaction() as session:
                    session.add(row)
                    session.flush()
                    session.add(
                        ApiSubmissionEvent(
                            submission_id=sid, at=now or utcnow(), status="received", detail=None
                        )
                    )
                    audit.append(
                        session,
                        sender.actor,
                        "api.submit",
                        "submission",
                        sid,
                        {"hospital": hospital, "file": name, "sha256": sha256, "bytes": size},
                        at=now,
                    )
            except IntegrityError:
                raise ApiProblem(409, "idempotency_conflict") from None
            return Accepted(sid, True, received, _duplicate_of(db, row))
    finally:
        temp.unlink(missing_ok=True)


def _duplicate_of(db: AppDB, row: ApiSubmission) -> str | None:
    """The first API submission of the same bytes from this hospital (by the order received:
    the first event's id, since arrival times are kept to the second)."""
    with db.transaction() as session:
        first = session.execute(
            select(ApiSubmissionEvent.submission_id)
            .join(ApiSubmission, ApiSubmission.id == ApiSubmissionEvent.submission_id)
            .where(
                ApiSubmission.hospital_code == row.hospital_code,
                ApiSubmission.sha256 == row.sha256,
            )
            .order_by(ApiSubmissionEvent.id)
            .limit(1)
        ).scalar()
    return first if first is not None and first != row.id else None


def _events(session, ids: list[str]) -> dict[str, list[ApiSubmissionEvent]]:  # type: ignore[no-untyped-def]
    found: dict[str, list[ApiSubmissionEvent]] = {i: [] for i in ids}
    if ids:
        query = (
            select(ApiSubmissionEvent)
            .where(ApiSubmissionEvent.submission_id.in_(ids))
            .order_by(ApiSubmissionEvent.id)
        )
        for event in session.scalars(query):
            found[event.submission_id].append(event)
    return found


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _summary(row: ApiSubmission, events: list[ApiSubmissionEvent]) -> dict:
    return {
        "submission_id": row.id,
        "hospital_code": row.hospital_code,
        "file_name": row.file_name,
        "sha256": row.sha256,
        "size_bytes": row.size_bytes,
        "received_at": _iso(row.received_at),
        "status": events[-1].status if events else "received",
        "status_url": f"/api/v1/submissions/{row.id}",
    }


def status(settings: Settings, db: AppDB, hospital: str, submission_id: str) -> dict:
    """Status history and, once loaded, the receipt (JSON, the ledger's language). Another
    hospital's submission is not found, like one that does not exist."""
    with db.transaction() as session:
        row = session.get(ApiSubmission, submission_id)
        if row is None or row.hospital_code != hospital:
            raise ApiProblem(404, "not_found")
        events = _events(session, [row.id])[row.id]
    body = _summary(row, events)
    body["history"] = [{"at": _iso(e.at), "status": e.status, "detail": e.detail} for e in events]
    receipt = None
    # Only a published snapshot is read: before the first publication, reader() would publish
    # one itself, under the writer's lock the worker may hold.
    if publish.current(settings) is not None:
        try:
            receipt = intake.receipt(settings, row.id)
        except NotFound:
            receipt = None
    if receipt is not None:
        body["status"] = "processed"  # also when loaded by a scheduled ingest
    body["receipt"] = receipt
    body["duplicate_of"] = _duplicate_of(db, row)
    return body


def list_submissions(
    db: AppDB, hospital: str, since: dt.datetime | None, limit: int = 1000
) -> list[dict]:
    with db.transaction() as session:
        query = select(ApiSubmission).where(ApiSubmission.hospital_code == hospital)
        if since is not None:
            query = query.where(ApiSubmission.received_at >= since)
        rows = list(
            session.scalars(
                query.order_by(ApiSubmission.received_at, ApiSubmission.id).limit(limit)
            )
        )
        events = _events(session, [r.id for r in rows])
    return [_summary(r, events[r.id]) for r in rows]


def record_events(db: AppDB, ids: list[str], status_: str, details: dict[str, str | None]) -> None:
    now = utcnow()
    with db.transaction() as session:
        for sid in ids:
            session.add(
                ApiSubmissionEvent(
                    submission_id=sid, at=now, status=status_, detail=details.get(sid)
                )
            )


def unfinished(db: AppDB, last: tuple[str, ...] | None = None) -> list[str]:
    """Submissions whose last event is not final (interrupted by a stop or a crash); ``last``:
    only those whose last event is one of these (the Airflow trigger: ``received``, never
    handed over)."""
    with db.transaction() as session:
        rows = list(session.scalars(select(ApiSubmission.id)))
        events = _events(session, rows)
    states = {sid: events[sid][-1].status if events[sid] else "received" for sid in rows}
    if last is not None:
        return [sid for sid in rows if states[sid] in last]
    return [sid for sid in rows if states[sid] not in FINAL_STATES]


def make_trigger(settings: Settings, db: AppDB) -> IngestWorker | AirflowTrigger:
    """What starts ingestion of accepted files: the app's own worker, or Airflow
    (``SENTINEL_INGEST_TRIGGER``)."""
    if settings.ingest_trigger.mode == "airflow":
        return AirflowTrigger(settings, db)
    return IngestWorker(settings, db)


class IngestWorker(SubmissionQueue):
    """The application's single ingest worker (one thread; see the module docstring).

    It ingests in bounded batches: a batch closes at ``batch_files`` submissions (oldest
    first) or once its oldest submission has waited ``batch_wait`` seconds, so the first
    receipts are published while later files still wait. Each batch is one writer session
    (``intake.ingest(only=...)``): every submission's ledger change is its own transaction and
    the snapshot readers see (hence the receipts the API serves) is published when the batch
    ends; a crash mid-batch publishes nothing of it, and the restart re-queues the batch
    (:func:`unfinished`), whose committed files the ledger skips. The validator (a GX context)
    is kept across batches; its Data Docs are built once the queue is empty, then a new one
    starts (building them per batch would re-render every earlier result of the validator).
    """

    thread_name = "sentinel-ingest"

    def __init__(
        self,
        settings: Settings,
        db: AppDB,
        busy_retry_seconds: float = 5.0,
        batch_files: int | None = None,
        batch_wait: float | None = None,
    ) -> None:
        super().__init__(settings, db)  # _pending: submission id -> when queued (monotonic)
        self.busy_retry_seconds = busy_retry_seconds
        self.batch_files = max(1, batch_files or settings.api.batch_files)
        self.batch_wait = (
            settings.api.batch_wait_ms / 1000 if batch_wait is None else max(0.0, batch_wait)
        )
        self._validator = None
        self.batches = 0  # batches ingested (tests, logs)

    def _recover(self) -> None:
        clean_partial_uploads(self.settings)
        for sid in unfinished(self.db):
            self.submit(sid, start=False)

    def _due(self, now: float) -> float:
        """Seconds until the next batch should start (0: now; inf: nothing pending)."""
        with self._lock:
            if not self._pending:
                return float("inf")
            if len(self._pending) >= self.batch_files:
                return 0.0
            return max(0.0, min(self._pending.values()) + self.batch_wait - now)

    def _take(self) -> list[str]:
        """The next batch: up to ``batch_files`` submissions, the longest waiting first."""
        with self._lock:
            order = sorted(self._pending.items(), key=lambda item: (item[1], item[0]))
            ids = [sid for sid, _ in order[: self.batch_files]]
            for sid in ids:
                del self._pending[sid]
        return ids

    def _run(self) -> None:
        while not self._stop.is_set():
            wait = self._due(time.monotonic())
            if wait > 0:
                if wait == float("inf"):
                    self._finish_docs()  # idle: the Data Docs of what was ingested
                self._wake.wait(None if wait == float("inf") else wait)
                self._wake.clear()
                continue
            ids = self._take()
            if ids:
                try:
                    self._process(ids)
                except Exception:  # never let the worker die: the next submission retries
                    log.exception("ingest worker: batch of %d submissions failed", len(ids))

    def _finish_docs(self) -> None:
        validator, self._validator = self._validator, None
        if validator is not None:
            try:
                validator.build_docs(self.settings.data_docs_keep_runs)
            except Exception:  # the receipts are out; only the validation report is missing
                log.exception("ingest worker: building the Data Docs failed")

    def _process(self, ids: list[str]) -> None:
        with self.db.transaction() as session:
            rows = list(session.scalars(select(ApiSubmission).where(ApiSubmission.id.in_(ids))))
        if not rows:
            return
        ids = [r.id for r in rows]
        hospitals = sorted({r.hospital_code for r in rows})
        only = {f"{r.hospital_code}/{r.file_name}" for r in rows}
        record_events(self.db, ids, "processing", {})
        error: str | None = None
        started = time.monotonic()
        try:
            self.settings.require_pseudonym_key()  # before building a validator for nothing
            if self._validator is None:
                from pipeline.validation.runner import CaseValidator  # noqa: PLC0415

                self._validator = CaseValidator(data_docs_dir=self.settings.data_docs_dir)
            intake.ingest(
                self.settings,
                hospitals=hospitals,
                validator=self._validator,
                only=only,
                build_docs=False,
            )
        except WarehouseBusy:
            log.warning("warehouse busy: %d submissions wait", len(ids))
            time.sleep(self.busy_retry_seconds)
            for sid in ids:
                self.submit(sid, start=False)
            return
        except SentinelError as exc:
            error = exc.user_message("en")
        except Exception as exc:
            log.exception("ingest of %s failed", hospitals)
            error = f"internal error ({type(exc).__name__})"
        self.batches += 1
        log.info(
            "ingest worker: batch of %d files ingested in %.1f s",
            len(ids),
            time.monotonic() - started,
        )
        loaded = self._loaded(ids)
        done = [sid for sid in ids if sid in loaded]
        record_events(self.db, done, "processed", loaded)
        failed = [sid for sid in ids if sid not in loaded]
        if failed:
            why = error or "not loaded by the ingest run"
            record_events(self.db, failed, "failed", dict.fromkeys(failed, why))

    def _loaded(self, ids: list[str]) -> dict[str, str | None]:
        if publish.current(self.settings) is None:
            return {}
        try:
            with reader(self.settings) as con:
                marks = ",".join("?" * len(ids))
                found = con.execute(
                    f"SELECT submission_id, status FROM submissions WHERE submission_id IN ({marks})",
                    ids,
                ).fetchall()
        except NotFound:
            return {}
        return {sid: status_ for sid, status_ in found}

    def idle(self) -> bool:
        with self._lock:
            return not self._pending and not self._wake.is_set()
