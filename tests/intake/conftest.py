"""Shared fixtures for the intake tests.

``helpers.py`` and ``hostile.py`` (the hostile-input corpus of issue 16) are registered as the
modules ``intake_helpers`` and ``intake_hostile`` so that they cannot collide with a module of
another test folder (the test folders are not packages).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

for _name, _file in (("intake_helpers", "helpers.py"), ("intake_hostile", "hostile.py")):
    if _name not in sys.modules:
        _spec = importlib.util.spec_from_file_location(_name, Path(__file__).with_name(_file))
        assert _spec and _spec.loader
        _module = importlib.util.module_from_spec(_spec)
        sys.modules[_name] = _module
        _spec.loader.exec_module(_module)

import intake_helpers as h  # noqa: E402


@pytest.fixture(scope="session")
def validator():
    """One GX validator (no Data Docs) for every test that validates. A validation run costs
    about a second of CPU even for one row (and the first import of GX several more): a test
    that validates (a dry run or ingest with rows) is ``slow``."""
    from pipeline.validation.runner import CaseValidator

    return CaseValidator(data_docs_dir=None)


@pytest.fixture
def settings(tmp_path):
    """Settings with home and landing under tmp_path and the test pseudonym key."""
    (tmp_path / "landing").mkdir()
    return h.make_settings(tmp_path)


@pytest.fixture
def registry():
    from pipeline import reference

    return reference.load_hospitals()
