"""Test-suite wide setup."""

# Airflow: a throw-away AIRFLOW_HOME for the whole session, plus the ``airflow_home`` fixture
# and the ``run_dag_tests`` helper (tests/conftest_airflow.py).
import pytest
from conftest_airflow import airflow_home  # noqa: F401


@pytest.fixture(scope="session")
def small_network(tmp_path_factory: pytest.TempPathFactory):
    """A small network ingested, coded, clustered and detected once per session (read only:
    tests that write use ``small_network_copy``)."""
    from network_fixture import build_small_network

    return build_small_network(tmp_path_factory.mktemp("small_network"))


@pytest.fixture
def small_network_copy(small_network, tmp_path):
    """A writable copy of ``small_network`` for one test."""
    from network_fixture import copy_network

    return copy_network(small_network, tmp_path / "home")
