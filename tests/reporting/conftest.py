"""Reporting tests share one tiny warehouse per session (built in ~seconds)."""

from __future__ import annotations

import pytest

from pipeline.config import Settings

from .tinydata import build


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return build(tmp_path_factory.mktemp("reporting-tiny"))
