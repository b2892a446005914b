"""Application-database URLs for tests: a SQLite file, and a fresh schema of a real PostgreSQL
server when SENTINEL_TEST_PG_URL is set (``.ci/run`` sets it; with CI=true a missing server is a
failure, not a skip)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_ENV = "SENTINEL_TEST_PG_URL"
BACKENDS = ["sqlite", "postgresql"]


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'app.db'}"


def _pg_base() -> str:
    base = os.environ.get(PG_ENV)
    if not base:
        if os.environ.get("CI"):
            pytest.fail(f"{PG_ENV} must point at a PostgreSQL database in CI (.ci/run sets it)")
        pytest.skip(f"{PG_ENV} not set: no PostgreSQL server to test against")
    return base


def pg_schema_url() -> Iterator[str]:
    """A URL whose connections live in a new, empty schema; dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = _pg_base()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    engine = create_engine(base)
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def url_for(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        yield from pg_schema_url()
