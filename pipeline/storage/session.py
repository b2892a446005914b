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
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import duckdb

from pipeline.config import Settings
from pipeline.errors import NotFound, SchemaError, from_os_error
from pipeline.storage import publish, schema
from pipeline.storage.lock import WarehouseLock
from pipeline.storage.warehouse import connect, transaction

Progress = Callable[[str], None]

__all__ = ["Progress", "reader", "transaction", "writer", "publish_now"]


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
