"""Engines and transactions for the application database.

SQLite (the embedded default) runs in WAL mode with foreign keys on, and every transaction starts
with ``BEGIN IMMEDIATE``: a request takes the single write lock up front instead of failing half
way when it upgrades a read to a write; readers are never blocked in WAL mode. Reads only
(``AppDB.reading()``) start a deferred transaction instead, which never takes that lock. PostgreSQL uses
its default READ COMMITTED; the audit chain serialises its appenders with an advisory lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from pipeline.appdb.passwords import HASHER_KEY, Hasher
from pipeline.config import PasswordCost, Settings

SQLITE_BUSY_SECONDS = 30
READ_ONLY = "sentinel_read_only"  # execution option of AppDB.reading()'s connections


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, future=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS}, future=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy, not the driver, open transactions (see the "begin" hook).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # type: ignore[no-untyped-def]
        # AppDB.reading(): a deferred transaction, a WAL reader that never takes the lock.
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class AppDB:
    """One application database: an engine, its session factory and the password hasher its
    sessions use (``Session.info``; pass it down, no globals)."""

    def __init__(self, url: str, password_cost: PasswordCost | None = None) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.hasher = Hasher(password_cost or PasswordCost())
        self._sessions = sessionmaker(
            self.engine, expire_on_commit=False, info={HASHER_KEY: self.hasher}
        )
        self._readers = sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}),
            expire_on_commit=False,
            info={HASHER_KEY: self.hasher},
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> AppDB:
        return cls(settings.app_database_url, settings.web.password_cost)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        with self._sessions.begin() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads only (the pages' lists and states). On SQLite a deferred
        transaction: in WAL mode it neither waits for nor holds the file's write lock, so
        pages do not queue behind each other or behind a writer (``transaction()`` takes the
        lock at ``BEGIN``). Elsewhere the same as ``transaction()``. A change made in it is
        a programming error: refused, rolled back."""
        with self._readers.begin() as session:
            yield session
            if session.new or session.dirty or session.deleted:
                raise RuntimeError("AppDB.reading() is for reads; use transaction() to write")

    def dispose(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> AppDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.dispose()


def redacted(url: str) -> str:
    """The URL with any password hidden (for messages and logs)."""
    return make_url(url).render_as_string(hide_password=True)
