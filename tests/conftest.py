"""Test-suite wide setup.

The inner loop is ``pytest -m "not slow" -n 2`` (under a minute, two pytest-xdist workers: keep
fast tests parallel-safe, see README); CI runs everything (scripts/test.sh). A test is
``slow`` when it takes more than about a second or needs a server, a browser, R or Airflow:
mark it with ``@pytest.mark.slow`` (or ``pytestmark`` for a whole module). Tests that use one
of the heavy fixtures below are marked here, so a new test on them cannot slow the loop down.
"""

import sys

# PYTHONDONTWRITEBYTECODE=1 (set in CI and in these containers) stops Python and pytest from
# caching compiled code, so every run (every xdist worker) re-compiled the library and re-did
# pytest's assertion rewriting of each test module: about 5 s of each process's collection.
# The caches go to the git-ignored __pycache__/ folders next to the sources (written atomically,
# checked against the source's mtime); subprocesses that tests start keep the variable.
sys.dont_write_bytecode = False

# Airflow: a throw-away AIRFLOW_HOME for the whole session, plus the ``airflow_home`` fixture
# and the ``run_dag_tests`` helper (tests/conftest_airflow.py).
import pytest  # noqa: E402
from conftest_airflow import airflow_home  # noqa: E402, F401

# Session fixtures that build a whole network (ingest, coding, patterns, detection) or an
# Airflow metadata DB: tens of seconds each.
HEAVY_FIXTURES = {"small_network", "small_network_copy", "airflow_home"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HEAVY_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def small_network(tmp_path_factory: pytest.TempPathFactory):
    """A small network ingested, coded, clustered and detected once per session (read only:
    tests that write use ``small_network_copy``)."""
    from network_fixture import build_small_network

    return build_small_network(tmp_path_factory.mktemp("small_network"))


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory):
    """The reporting tests' tiny hand-made warehouse (tests/reporting/tinydata.py, seconds),
    shared by tests/reporting and tests/evidence: read only, tests that write copy it."""
    from reporting.tinydata import build

    return build(tmp_path_factory.mktemp("reporting-tiny"))


@pytest.fixture
def small_network_copy(small_network, tmp_path):
    """A writable copy of ``small_network`` for one test."""
    from network_fixture import copy_network

    return copy_network(small_network, tmp_path / "home")
