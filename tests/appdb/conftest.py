"""Fixtures of the application-database tests: every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from appdb_urls import BACKENDS, sqlite_url, url_for

from pipeline.appdb import schema
from pipeline.appdb.db import AppDB
from pipeline.config import TEST_PASSWORD_COST


@pytest.fixture(params=BACKENDS)
def app_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from url_for(request.param, tmp_path)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An upgraded SQLite application database (Alembic once), copied by each SQLite ``db``;
    the migrations themselves are tested on a fresh database (test_appdb_schema.py)."""
    directory = tmp_path_factory.mktemp("appdb-sqlite-template")
    schema.upgrade(sqlite_url(directory))
    return directory / "app.db"


@pytest.fixture
def db(app_db_url: str, sqlite_template: Path, tmp_path: Path) -> Iterator[AppDB]:
    if app_db_url == sqlite_url(tmp_path):
        shutil.copy(sqlite_template, tmp_path / "app.db")
    else:
        schema.upgrade(app_db_url)
    database = AppDB(app_db_url, TEST_PASSWORD_COST)  # cheap hashes: the rules, not the cost
    try:
        yield database
    finally:
        database.dispose()
