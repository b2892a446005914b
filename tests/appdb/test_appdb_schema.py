"""Migrations: they create the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import time

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from pipeline.appdb import schema
from pipeline.appdb.db import AppDB, make_engine
from pipeline.appdb.errors import SchemaNotCurrent
from pipeline.appdb.models import Base

TABLES = {"users", "web_sessions", "login_attempts", "audit_log", "alembic_version"}


def test_upgrade_creates_every_table_and_is_idempotent(app_db_url: str) -> None:
    before = schema.status(app_db_url)
    assert before.current is None and not before.up_to_date
    try:
        schema.require_current(app_db_url)
    except SchemaNotCurrent as exc:
        assert "sentinel appdb upgrade" in exc.message("en")
        assert "sentinel appdb upgrade" in exc.message("zh")
    else:
        raise AssertionError("an empty database must not pass require_current")
    after = schema.upgrade(app_db_url)
    assert after.up_to_date and after.current == schema.head_revision()
    again = schema.upgrade(app_db_url)  # nothing pending: no error, same revision
    assert again == after
    engine = make_engine(app_db_url)
    try:
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()
    schema.require_current(app_db_url)


def test_models_match_the_migrations(app_db_url: str) -> None:
    """A model change without a migration (or the reverse) fails here."""
    schema.upgrade(app_db_url)
    db = AppDB(app_db_url)
    try:
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
    finally:
        db.dispose()
    assert diff == []


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'nested' / 'app.db'}"  # parent folder created on demand
    schema.upgrade(url)
    db = AppDB(url)
    try:
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        db.dispose()


def test_a_reading_session_sees_committed_rows_never_waits_for_a_writer_and_refuses_changes(
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    import pytest
    from sqlalchemy import select, text

    from pipeline.appdb.models import User

    url = f"sqlite:///{tmp_path / 'app.db'}"
    schema.upgrade(url)
    db = AppDB(url)
    other = AppDB(url)
    try:
        with other.transaction() as writing:  # holds the file's write lock (BEGIN IMMEDIATE)
            writing.execute(text("SELECT 1"))
            started = time.monotonic()
            with db.reading() as session:  # a deferred transaction: no wait for the lock
                assert session.execute(select(User)).scalars().all() == []
            assert time.monotonic() - started < 5  # the busy timeout is 30 s
        with pytest.raises(RuntimeError, match="for reads"), db.reading() as session:
            session.add(User(username="x", display_name="x", role="admin", password_hash="x"))
        with db.reading() as session:
            assert session.execute(select(User)).scalars().all() == []  # nothing written
    finally:
        db.dispose()
        other.dispose()
