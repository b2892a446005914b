"""Test-suite wide setup."""

# Airflow: a throw-away AIRFLOW_HOME for the whole session, plus the ``airflow_home`` fixture
# and the ``run_dag_tests`` helper (tests/conftest_airflow.py).
from conftest_airflow import airflow_home  # noqa: F401
