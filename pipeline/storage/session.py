"""The one way to open the warehouse: ``writer(settings)`` and ``reader(settings)``.

Every service (and ``bench/``) opens and closes its connection here; library modules below take
a connection and never open one.

``with writer(settings, progress=...) as con:``
    takes the writers' lock (bounded wait, :mod:`pipeline.storage.lock`), opens the live
    warehouse, applies pending schema migrations (:mod:`pipeline.storage.schema`), hands out
    the connection, and when the block ends without an exception checkpoints, closes and
    publishes a snapshot (:mod:`pipeline.storage.publish`). An exception publishes nothing:
    readers keep the previous whole state, and the next successful run publishes everything.

``with reader(settings) as con:``
    a read-only connection to the current published snapshot; never the live file, never a
    wait for a writer. The first read after an upgrade of Sentinel (no snapshot yet, or one of
    an older schema) publishes one first, under the writers' lock.

An unwritable ``SENTINEL_HOME`` or a full disk becomes :class:`~pipeline.errors.HomeNotWritable`
/ :class:`~pipeline.errors.DiskFull` (one line and an exit code at the command line).
"""

from __future__ import annotations

import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import duckdb

from pipeline.config import Settings
from pipeline.errors import NotFound, SchemaError, from_os_error
from pipeline.storage import publish, schema
from pipeline.storage.lock import WarehouseLock
from pipeline.storage.warehouse import connect, transaction

Progress = Callable[[str], None]
T = TypeVar("T")

__all__ = [
    "Progress",
    "Snapshots",
    "open_reader",
    "publish_now",
    "read_cached",
    "reader",
    "transaction",
    "writer",
]


def _writer_name() -> str:
    return " ".join([os.path.basename(sys.argv[0] or "python"), *sys.argv[1:3]])[:120]


def _no_warehouse(settings: Settings) -> NotFound:
    return NotFound(
        f"no warehouse at {settings.warehouse_path}: run `sentinel ingest` first",
        detail_zh=f"{settings.warehouse_path} 处没有数据仓库：请先运行 `sentinel ingest`",
    )


def _mapped(exc: OSError, settings: Settings) -> BaseException:
    return from_os_error(exc, settings.home) or exc


@contextmanager
def writer(
    settings: Settings,
    progress: Progress | None = None,
    *,
    create: bool = False,
    publish_snapshot: bool = True,
    move_out: schema.MoveOut | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The live warehouse for writing (see the module docstring). Only intake creates the
    warehouse (``create=True``); every other writer needs one (NotFound otherwise).
    ``move_out``: see :func:`pipeline.storage.schema.upgrade` (``sentinel db upgrade``)."""
    if not create and not settings.warehouse_path.exists():
        raise _no_warehouse(settings)
    try:
        with WarehouseLock(settings.lock_path, settings.lock_timeout, progress):
            try:
                con = connect(settings.warehouse_path)
            except duckdb.IOException as exc:
                # e.g. a process of an older Sentinel that does not take the lock
                raise SchemaError(f"cannot open {settings.warehouse_path}: {exc}") from exc
            ok = False
            try:
                schema.upgrade(con, progress, move_out)
                version = schema.current_version(con)
                yield con
                con.execute("CHECKPOINT")
                ok = True
            finally:
                con.close()
            if ok and publish_snapshot:
                publish.publish(settings, version, _writer_name())
    except OSError as exc:
        mapped = _mapped(exc, settings)
        if mapped is exc:
            raise
        raise mapped from exc


def publish_now(
    settings: Settings,
    progress: Progress | None = None,
    move_out: schema.MoveOut | None = None,
) -> publish.Snapshot | None:
    """Upgrade the live warehouse and publish it (``sentinel db upgrade`` and the first read
    after an upgrade of Sentinel); None when there is no warehouse yet."""
    if not settings.warehouse_path.exists():
        return None
    with writer(settings, progress, publish_snapshot=True, move_out=move_out):
        pass
    path = publish.current(settings)
    seqs = publish.snapshots(settings)
    return publish.Snapshot(seqs[-1], path, {}) if path and seqs else None


@contextmanager
def reader(
    settings: Settings, progress: Progress | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the current published snapshot."""
    con = _open_reader(settings, progress)
    try:
        yield con
    finally:
        con.close()


def _open_reader(settings: Settings, progress: Progress | None) -> duckdb.DuckDBPyConnection:
    if publish.current(settings) is None:
        if not settings.warehouse_path.exists():
            raise _no_warehouse(settings)
        publish_now(settings, progress)  # a warehouse from before the read side existed
    con = publish.open_current(settings)
    version = schema.current_version(con)
    if version < schema.latest_version() and settings.warehouse_path.exists():
        con.close()
        publish_now(settings, progress)  # published by an older Sentinel
        con = publish.open_current(settings)
    elif version > schema.latest_version():
        con.close()
        raise SchemaError(
            f"the published warehouse is at schema {version}, newer than this Sentinel "
            f"(schema {schema.latest_version()}): upgrade Sentinel"
        )
    return con


class _Open:
    """One open snapshot database, how many cursors use it, and what was computed from it."""

    def __init__(self, path: Path, con: duckdb.DuckDBPyConnection) -> None:
        self.path, self.con, self.users, self.retired = path, con, 0, False
        self.cache: OrderedDict[object, object] = OrderedDict()
        self.cache_lock = threading.Lock()
        self.computing: dict[object, threading.Lock] = {}  # one computation per key at a time


class Snapshots:
    """The published read side for a long-lived reader (the web app).

    Keeps the current snapshot's database open (its cache stays warm across requests) and hands
    out one cursor per use; the next use after a writer publishes opens the newer snapshot, and
    the older one is closed when its last cursor is. Never takes the writers' lock and never
    waits for a writer: a snapshot published by an older Sentinel is refused with
    :class:`~pipeline.errors.SchemaError` (``sentinel db upgrade`` publishes a current one).
    """

    def __init__(
        self,
        settings: Settings,
        memory_limit: str = "2GB",
        threads: int = 2,
        cache_entries: int = 256,
    ) -> None:
        self.settings = settings
        self._config = {"memory_limit": memory_limit, "threads": threads}
        self._lock = threading.Lock()
        self._open: _Open | None = None
        self.cache_entries = cache_entries
        self.hits = self.misses = 0
        # The snapshot a computation of this thread reads: a nested cached() call (a part
        # shared by several answers, e.g. a signal's cases for both languages) uses the same
        # snapshot as the answer it is part of, even if a newer one is published meanwhile.
        self._computing = threading.local()

    def _acquire(self) -> _Open:
        path = publish.current(self.settings)
        if path is None:
            publish.open_current(self.settings).close()  # raises the NotFound that says why
        assert path is not None
        with self._lock:
            current = self._open
            if current is None or current.path != path:
                # No connect-time config: DuckDB shares one database instance per file in a
                # process, and a reader() of the same snapshot (a pack built by the web app)
                # must be able to join it. The limits are set on the instance instead.
                con = duckdb.connect(str(path), read_only=True)
                for name, value in self._config.items():
                    con.execute(f"SET {name} = '{value}'")
                version = schema.current_version(con)
                if version != schema.latest_version():
                    con.close()
                    raise SchemaError(
                        f"the published warehouse is at schema {version}, this Sentinel reads "
                        f"schema {schema.latest_version()}: run `sentinel db upgrade`"
                    )
                if current is not None:
                    current.retired = True
                    self._close_if_idle(current)
                current = self._open = _Open(path, con)
            current.users += 1
            return current

    def _release(self, item: _Open) -> None:
        with self._lock:
            item.users -= 1
            self._close_if_idle(item)

    @staticmethod
    def _close_if_idle(item: _Open) -> None:
        # Closing a DuckDB connection ends its cursors too: only once nobody reads from it.
        if item.retired and item.users == 0:
            item.con.close()

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        item = self._acquire()
        try:
            cursor = item.con.cursor()
            try:
                yield cursor
            finally:
                cursor.close()
        finally:
            self._release(item)

    def cached(self, key: object, compute: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """``compute(con)`` on the current snapshot, remembered for that snapshot (a published
        snapshot never changes, so neither does what was computed from it; the memory goes
        with the snapshot when a newer one is published). At most ``cache_entries`` results,
        least recently used first out. Callers must not change what they get. Called from
        inside another ``compute``, it reads that computation's snapshot."""
        outer = getattr(self._computing, "item", None)
        if outer is not None:
            return self._cached_in(outer, key, compute)
        item = self._acquire()
        try:
            return self._cached_in(item, key, compute)
        finally:
            self._release(item)

    def _cached_in(
        self, item: _Open, key: object, compute: Callable[[duckdb.DuckDBPyConnection], T]
    ) -> T:
        with item.cache_lock:
            if key in item.cache:
                item.cache.move_to_end(key)
                self.hits += 1
                return item.cache[key]  # type: ignore[return-value]
            gate = item.computing.setdefault(key, threading.Lock())
        # Many readers asking for the same thing at once: one computes, the others wait
        # for its answer instead of computing it too.
        with gate:
            with item.cache_lock:
                if key in item.cache:
                    self.hits += 1
                    return item.cache[key]  # type: ignore[return-value]
            self.misses += 1
            cursor = item.con.cursor()
            outer = getattr(self._computing, "item", None)
            self._computing.item = item
            try:
                value = compute(cursor)
            finally:
                self._computing.item = outer
                cursor.close()
            with item.cache_lock:
                item.cache[key] = value
                item.computing.pop(key, None)
                while len(item.cache) > self.cache_entries:
                    item.cache.popitem(last=False)
        return value

    @property
    def path(self) -> Path | None:
        return self._open.path if self._open else None

    def close(self) -> None:
        with self._lock:
            if self._open is not None:
                self._open.retired = True
                self._close_if_idle(self._open)
            self._open = None


def read_cached(
    settings: Settings,
    snapshots: Snapshots | None,
    key: object,
    compute: Callable[[duckdb.DuckDBPyConnection], T],
) -> T:
    """``compute(con)`` on the published snapshot: remembered per snapshot by a long-lived
    reader's :class:`Snapshots`, computed afresh through :func:`reader` otherwise."""
    if snapshots is not None:
        return snapshots.cached(key, compute)
    with reader(settings) as con:
        return compute(con)


@contextmanager
def open_reader(
    settings: Settings, snapshots: Snapshots | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """``snapshots.read()`` when a long-lived reader passes its :class:`Snapshots`, else
    :func:`reader` (services take either)."""
    if snapshots is not None:
        with snapshots.read() as con:
            yield con
    else:
        with reader(settings) as con:
            yield con
