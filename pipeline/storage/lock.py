"""The writers' lock: one process writes the warehouse at a time, the others wait a bounded time.

DuckDB lets a single process open the file for writing; a second writer gets an ``IOException:
Conflicting lock`` at once. Writers instead take an exclusive ``fcntl.flock`` on
``<home>/warehouse.lock`` first, waiting up to ``Settings.lock_timeout`` seconds with a progress
line every few seconds, and then fail with :class:`~pipeline.errors.WarehouseBusy` (its own
exit code) naming the holder. The kernel drops the lock when the holder exits, even after
``kill -9``, so a crashed run never leaves the warehouse locked.

The lock is re-entrant within a process (a service that calls another service holds it once).
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pipeline.errors import WarehouseBusy, from_os_error

_HELD: dict[str, tuple[int, int]] = {}  # path -> (fd, depth) locks this process holds


def _describe_self() -> str:
    command = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv[:4]))
    started = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    return f"pid {os.getpid()}, {command or 'python'}, since {started} UTC"


def holder(path: Path) -> str:
    """Who holds (or last held) the lock, as its holder wrote it."""
    try:
        return path.read_text(encoding="utf-8").strip() or "unknown"
    except OSError:
        return "unknown"


class WarehouseLock:
    """``with WarehouseLock(path, timeout, progress):`` holds the exclusive writers' lock."""

    def __init__(
        self,
        path: Path,
        timeout: float,
        progress: Callable[[str], None] | None = None,
        say_every: float = 5.0,
        poll: float = 0.1,
    ) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self.progress = progress
        self.say_every = say_every
        self.poll = poll

    def __enter__(self) -> WarehouseLock:
        self.acquire()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()

    def acquire(self) -> None:
        key = str(self.path.resolve())
        if key in _HELD:
            fd, depth = _HELD[key]
            _HELD[key] = (fd, depth + 1)
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            _raise_mapped(exc, self.path.parent)
        started = time.monotonic()
        next_say = started + self.say_every
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                now = time.monotonic()
                if now - started >= self.timeout:
                    os.close(fd)
                    raise WarehouseBusy(holder=holder(self.path), waited=now - started) from None
                if self.progress and now >= next_say:
                    self.progress(
                        f"waiting for the warehouse ({holder(self.path)}): "
                        f"{now - started:.0f} of {self.timeout:.0f} s"
                    )
                    next_say = now + self.say_every
                time.sleep(self.poll)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, _describe_self().encode("utf-8"), 0)
        except OSError as exc:
            os.close(fd)
            _raise_mapped(exc, self.path.parent)
        _HELD[key] = (fd, 1)

    def release(self) -> None:
        key = str(self.path.resolve())
        if key not in _HELD:
            return
        fd, depth = _HELD[key]
        if depth > 1:
            _HELD[key] = (fd, depth - 1)
            return
        del _HELD[key]
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def _raise_mapped(exc: OSError, path: Path) -> None:
    mapped = from_os_error(exc, path)
    if mapped is None:
        raise exc
    raise mapped from exc


def held_by_this_process(path: Path) -> bool:
    return str(Path(path).resolve()) in _HELD
