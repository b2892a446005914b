"""Fixtures of the web tests: an app on a fresh application database with one user per role,
a clock the test moves, and HTTPS test clients (the cookies are Secure)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from web_helpers import WebEnv, populate

from pipeline.appdb import schema
from pipeline.appdb.db import AppDB
from pipeline.config import Settings

T0 = dt.datetime(2026, 12, 1, 9, 0, 0)


@pytest.fixture(scope="session")
def populated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite application database with the test users, built once and copied per test
    (argon2 makes creating users the slow part)."""
    home = tmp_path_factory.mktemp("web_template")
    settings = Settings(home=home, landing_dir=home / "landing")
    schema.upgrade(settings.app_database_url)
    db = AppDB.from_settings(settings)
    try:
        populate(db, settings)
    finally:
        db.dispose()
    return home / "app.db"


@pytest.fixture
def web(populated_template: Path, tmp_path: Path) -> Iterator[WebEnv]:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(populated_template, home / "app.db")
    env = WebEnv.start(Settings(home=home, landing_dir=home / "landing"), T0)
    try:
        yield env
    finally:
        env.close()
