"""The thread plumbing the web app's two ingest starters share (``IngestWorker`` in the
embedded default, ``AirflowTrigger`` in Airflow mode): submission ids queued from request
handlers, one background thread that takes them, a restart that re-queues what a crash left.
What happens to a queued id is the subclass's ``_run``."""

from __future__ import annotations

import threading
import time

from pipeline.appdb.db import AppDB
from pipeline.config import Settings


class SubmissionQueue:
    thread_name = "sentinel-queue"

    def __init__(self, settings: Settings, db: AppDB) -> None:
        self.settings, self.db = settings, db
        self._pending: dict[str, float] = {}  # submission id -> the subclass's _queued() value
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, recover: bool = True) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        if recover:
            self._recover()
        self._thread.start()

    def submit(self, submission_id: str, start: bool = True) -> None:
        with self._lock:
            self._pending.setdefault(submission_id, self._queued())
        self._wake.set()
        if start and self._thread is None:
            self.start(recover=False)

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _queued(self) -> float:
        """What a newly queued id records: when it was queued (monotonic seconds)."""
        return time.monotonic()

    def _recover(self) -> None:
        """Before the thread starts: clean up and re-queue what an earlier process left."""
        raise NotImplementedError

    def _run(self) -> None:
        raise NotImplementedError
