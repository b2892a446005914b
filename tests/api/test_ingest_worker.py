"""The submission API's embedded ingest worker, in process: bounded batches (by count and by
age), receipts published per batch (the first batch's receipts are readable before the last
batch starts), every submission loaded exactly once, and the Data Docs built once idle."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
from api_server import KEY, SAMPLE, SYSTEM
from sqlalchemy import select

from pipeline.appdb import schema
from pipeline.appdb.db import AppDB
from pipeline.appdb.models import ApiSubmissionEvent
from pipeline.config import Settings
from pipeline.services import api_submissions, api_tokens, intake
from pipeline.services.api_submissions import IngestWorker
from pipeline.storage.session import reader

pytestmark = pytest.mark.slow


def _settings(home: Path, **env: str) -> Settings:
    (home / "landing").mkdir(parents=True)
    settings = Settings.from_env(
        {
            "SENTINEL_HOME": str(home),
            "SENTINEL_LANDING": str(home / "landing"),
            "SENTINEL_PSEUDONYM_KEY": KEY,
            **env,
        }
    )
    schema.upgrade(settings.app_database_url)
    return settings


def _receive(settings: Settings, db: AppDB, tokens: dict, path: Path) -> str:
    hospital = path.parent.name
    if hospital not in tokens:
        tokens[hospital] = api_tokens.issue(db, settings, SYSTEM, hospital).view
    data = path.read_bytes()
    temp = api_submissions.temp_upload(settings, hospital)
    temp.write_bytes(data)
    accepted = api_submissions.accept(
        settings,
        db,
        tokens[hospital],
        path.name,
        temp,
        hashlib.sha256(data).hexdigest(),
        len(data),
        None,
    )
    assert accepted.created
    return accepted.submission_id


def _events(db: AppDB) -> list[tuple[str, str, int]]:
    with db.transaction() as session:
        return [
            (e.submission_id, e.status, e.id)
            for e in session.scalars(select(ApiSubmissionEvent).order_by(ApiSubmissionEvent.id))
        ]


def _wait(worker: IngestWorker, db: AppDB, sids: list[str], timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        final = {s for s, status, _ in _events(db) if status in ("processed", "failed")}
        if set(sids) <= final:
            return
        time.sleep(0.2)
    raise AssertionError(f"not processed in {timeout} s: {set(sids) - final}")


def test_bounded_batches_publish_receipts_per_batch(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "home")
    db = AppDB.from_settings(settings)
    files = sorted(p for h in ("GZ001", "SH001") for p in (SAMPLE / h).glob("*.csv"))[:7]
    tokens: dict = {}
    sids = [_receive(settings, db, tokens, p) for p in files]
    # Queued before the thread starts: 7 pending, batches of 3 -> 3 + 3 + 1.
    worker = IngestWorker(settings, db, batch_files=3, batch_wait=30)
    for sid in sids:
        worker.submit(sid, start=False)
    worker.start(recover=False)
    try:
        _wait(worker, db, sids)
    finally:
        worker.stop()
    assert worker.batches == 3
    events = _events(db)
    processing = {s: i for s, status, i in events if status == "processing"}
    processed = {s: i for s, status, i in events if status == "processed"}
    assert set(processed) == set(sids), events
    # Oldest first; the first batch's receipts were recorded before the last batch started.
    first, last = sids[:3], sids[6:]
    assert max(processed[s] for s in first) < min(processing[s] for s in last)
    with reader(settings) as con:
        counts = dict(
            con.execute("SELECT submission_id, count(*) FROM submissions GROUP BY 1").fetchall()
        )
    assert counts == dict.fromkeys(sids, 1)
    for path, sid in zip(files, sids, strict=True):
        body = api_submissions.status(settings, db, path.parent.name, sid)
        assert body["status"] == "processed" and body["receipt"]["submission_id"] == sid
    # The Data Docs: built once the queue was empty, one run site for the three batches.
    runs = list((settings.data_docs_dir / "runs").iterdir())
    assert len(runs) == 1 and (runs[0] / "index.html").is_file()
    db.dispose()


def test_a_batch_closes_by_age(tmp_path: Path) -> None:
    """Fewer files than a batch holds are not held back: the batch closes when its oldest file
    has waited the batch wait (it would never fill up to 50 here)."""
    settings = _settings(tmp_path / "home")
    db = AppDB.from_settings(settings)
    worker = IngestWorker(settings, db, batch_files=50, batch_wait=0.5)
    worker.start(recover=False)
    try:
        sid = _receive(settings, db, {}, SAMPLE / "GZ001" / "GZ001_20260928.csv")
        worker.submit(sid)
        _wait(worker, db, [sid])
    finally:
        worker.stop()
    assert worker.batches == 1
    assert intake.receipt(settings, sid)["submission_id"] == sid
    db.dispose()
