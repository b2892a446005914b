"""Fixtures of the application-database tests: every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from appdb_urls import BACKENDS, url_for

from pipeline.appdb import schema
from pipeline.appdb.db import AppDB
from pipeline.config import TEST_PASSWORD_COST


@pytest.fixture(params=BACKENDS)
def app_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from url_for(request.param, tmp_path)


@pytest.fixture
def db(app_db_url: str) -> Iterator[AppDB]:
    schema.upgrade(app_db_url)
    database = AppDB(app_db_url, TEST_PASSWORD_COST)  # cheap hashes: the rules, not the cost
    try:
        yield database
    finally:
        database.dispose()
