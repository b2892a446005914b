"""Bounded background work of the web app: one worker thread and a short queue.

Building an evidence pack reads the published snapshot for a few seconds; a request handler
records the request and hands the build to this worker instead of holding the browser. The
worker never opens the warehouse for writing, so it cannot make the pipeline wait. A full queue
refuses new work (the request stays recorded, and ``sentinel evidence-pack requests --build``
or the next submission builds it).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger("sentinel.web.jobs")


class Jobs:
    def __init__(self, max_queued: int = 8) -> None:
        self._queue: queue.Queue[Callable[[], object]] = queue.Queue(maxsize=max_queued)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], object]) -> bool:
        """Queue ``job``; False when the queue is full (nothing is lost: the caller recorded
        the work first)."""
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            return False
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="sentinel-jobs", daemon=True)
                self._thread.start()
        return True

    def _run(self) -> None:
        while True:
            try:
                job = self._queue.get(timeout=5)
            except queue.Empty:
                return  # idle: the thread ends, the next submit starts another
            try:
                job()
            except Exception:  # logged; the job recorded its own failure where it could
                log.exception("background job failed")
            finally:
                self._queue.task_done()

    def wait(self, timeout: float = 30.0) -> bool:
        """Until the queue is empty (tests); False on timeout."""
        import time

        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True
