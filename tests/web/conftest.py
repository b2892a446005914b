"""Fixtures of the web tests: an app on a fresh application database with one user per role and
a tiny published warehouse (``tiny_warehouse``), a clock the test moves, and HTTPS test clients
(the cookies are Secure). Password hashes use the test cost (``TEST_PASSWORD_COST``)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from tiny_warehouse import build_tiny_warehouse, record_triage
from web_helpers import CHROMIUM, CHROMIUM_ARGS, WebEnv, populate, settings_for

from pipeline.appdb import schema
from pipeline.appdb.db import AppDB

T0 = dt.datetime(2026, 12, 1, 9, 0, 0)


@pytest.fixture(scope="session")
def populated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with the test users in its SQLite application database and a tiny published
    warehouse, built once and copied per test."""
    home = tmp_path_factory.mktemp("web_template") / "home"
    settings = settings_for(home)
    build_tiny_warehouse(home)
    schema.upgrade(settings.app_database_url)
    db = AppDB.from_settings(settings)
    try:
        populate(db, settings)
        record_triage(db, settings)
    finally:
        db.dispose()
    return home


@pytest.fixture
def web(populated_template: Path, tmp_path: Path) -> Iterator[WebEnv]:
    home = tmp_path / "home"
    shutil.copytree(populated_template, home, symlinks=True)
    env = WebEnv.start(settings_for(home), T0)
    try:
        yield env
    finally:
        env.close()


# ---- the browser tests' chromium (test_web_browser.py, test_web_workspace_browser.py) -------


@pytest.fixture(scope="module")
def browser(server: object) -> Iterator[object]:
    """One headless chromium per module, after the module's own ``server`` fixture started."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield instance
        finally:
            instance.close()
