"""Fixtures for the coding and clustering tests: tiny synthetic warehouses, the shipped model.

``helpers.py`` is registered as ``coding_helpers`` so it cannot collide with another test
folder's helper module (the test folders are not packages).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

if "coding_helpers" not in sys.modules:
    _spec = importlib.util.spec_from_file_location(
        "coding_helpers", Path(__file__).with_name("helpers.py")
    )
    assert _spec and _spec.loader
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["coding_helpers"] = _module
    _spec.loader.exec_module(_module)


@pytest.fixture(scope="session")
def shipped_model():
    """The model the repository ships (models/product_coder/CURRENT)."""
    from pipeline.coding import model
    from pipeline.config import REPO_ROOT

    return model.load(REPO_ROOT / "models")


@pytest.fixture
def settings(tmp_path):
    from pipeline.config import Settings

    return Settings(home=tmp_path / "home", landing_dir=tmp_path / "landing")


@pytest.fixture
def con(settings):
    from pipeline.storage.schema import initialise
    from pipeline.storage.warehouse import connect

    connection = connect(settings.warehouse_path)
    initialise(connection)
    yield connection
    connection.close()
