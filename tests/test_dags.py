"""The DAG folder parses cleanly and cheaply; ingest_daily has the intended shape.

Parsing happens the way the DAG processor does it (a BundleDagBag over dags/, which puts the
folder on sys.path); conftest_airflow points Airflow at a throw-away AIRFLOW_HOME first.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from datetime import timedelta

import pytest
from conftest_airflow import AIRFLOW_CFG, DAGS_DIR, REPO

pytestmark = pytest.mark.slow  # see tests/conftest.py

DAG_FILES = sorted(p for p in DAGS_DIR.glob("*.py"))
HEAVY = (
    "pandas",
    "great_expectations",
    "duckdb",
    "sklearn",
    "scipy",
    "statsmodels",
    "matplotlib",
    "pyarrow",
    "openpyxl",
)
KNOWN_POOLS = {"default_pool", "sentinel_warehouse"}


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import BundleDagBag

    return BundleDagBag(dag_folder=DAGS_DIR, bundle_path=DAGS_DIR, bundle_name="dags-folder")


@pytest.fixture(scope="module")
def dag(dagbag):
    return dagbag.dags["ingest_daily"]


def test_dag_folder_has_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "ingest_daily" in dagbag.dags


def test_each_file_parses_in_under_a_second(dagbag):
    stats = {s.file: s.duration for s in dagbag.dagbag_stats}
    assert "ingest_daily.py" in stats
    slow = {name: d for name, d in stats.items() if d >= timedelta(seconds=1)}
    assert not slow, f"DAG files too slow to parse: {slow}"


def test_every_dag_has_tags_owner_and_retries(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert "sentinel" in dag.tags, dag_id
        assert dag.doc_md or dag.description, dag_id
        for task in dag.tasks:
            assert task.owner == "sentinel", (dag_id, task.task_id)
            assert task.retries >= 1, (dag_id, task.task_id)
            assert task.pool in KNOWN_POOLS, (dag_id, task.task_id, task.pool)


def test_warehouse_tasks_are_pinned_to_one_queue(dagbag):
    """With Celery, every task that writes the warehouse goes to the queue one worker serves;
    the others (readers of the published snapshot included) to the default queue."""
    pinned = set()
    for dag_id, dag in dagbag.dags.items():
        for task in dag.tasks:
            if task.pool == "sentinel_warehouse":
                pinned.add(f"{dag_id}.{task.task_id}")
                assert task.queue == "sentinel_warehouse", (dag_id, task.task_id)
            else:
                assert task.queue == "default", (dag_id, task.task_id, task.queue)
    assert pinned == {
        "ingest_daily.load",
        "code_and_cluster.code",
        "code_and_cluster.patterns",
        "detect_weekly.detect",
    }


def test_every_task_e_mails_its_failure(dagbag):
    for dag_id, dag in dagbag.dags.items():
        for task in dag.tasks:
            callbacks = task.on_failure_callback
            callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
            names = [getattr(c, "__name__", "") for c in callbacks]
            assert "notify_failure" in names, (dag_id, task.task_id, callbacks)


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_imports_no_heavy_library(path):
    """Importing a DAG file in a fresh interpreter loads Airflow's SDK, nothing heavier: the
    library, pandas, DuckDB and Great Expectations are imported inside the task bodies."""
    code = (
        "import importlib.util, json, sys\n"
        f"sys.path.insert(0, {str(DAGS_DIR)!r})\n"
        f"spec = importlib.util.spec_from_file_location('dag_under_test', {str(path)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        f"heavy = {HEAVY!r}\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)\n"
        "                        | {m for m in sys.modules if m.startswith('pipeline')})))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


def test_ingest_daily_shape(dag):
    assert set(dag.task_ids) == {"discover", "stage", "load"}
    assert dag.get_task("stage").upstream_task_ids == {"discover"}
    assert dag.get_task("load").upstream_task_ids == {"stage"}
    assert dag.tags == {"sentinel", "intake"}
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert dag.schedule == "0 6 * * *"
    assert dag.timezone.name == "Asia/Shanghai"  # 06:00 China time


def test_ingest_daily_tasks(dag):
    discover, stage, load = (dag.get_task(t) for t in ("discover", "stage", "load"))
    # The single writer (load) takes the one-slot pool; discover reads the published ledger.
    assert (discover.pool, load.pool) == ("default_pool", "sentinel_warehouse")
    assert load.pool_slots == 1
    # Staging is parallel, one mapped task per batch, named after the batch.
    assert stage.is_mapped and not discover.is_mapped and not load.is_mapped
    assert stage.map_index_template == "{{ batch_label }}"
    assert stage.pool == "default_pool"
    # load runs when there was nothing to stage (empty map = skipped), not after a failure.
    assert load.trigger_rule == "none_failed"
    assert [(a.name, a.uri) for a in load.outlets] == [
        ("sentinel_cases", "x-sentinel://warehouse/cases")
    ]
    for task in (stage, load):
        assert task.retries == 2
        assert task.retry_delay <= timedelta(minutes=1)


def test_ingest_daily_params(dag):
    from airflow.sdk.definitions.param import ParamValidationError

    assert dag.params.dump() == {"landing": "", "hospitals": [], "date_from": "", "date_to": ""}
    params = copy.deepcopy(dag.params)
    params.update(
        {
            "hospitals": ["GZ001", "SH001"],
            "date_from": "2026-03-01",
            "date_to": "2026-03-31",
            "landing": "/data/landing",
        }
    )
    assert params.validate()["hospitals"] == ["GZ001", "SH001"]
    for key, bad in [
        ("date_from", "2026-3-1"),
        ("date_to", "yesterday"),
        ("hospitals", ["gz001"]),
        ("hospitals", "GZ001"),
    ]:
        with pytest.raises(ParamValidationError):
            copy.deepcopy(dag.params)[key] = bad


def _params(**overrides):
    return {"landing": "", "hospitals": [], "date_from": "", "date_to": "", **overrides}


def test_discover_refuses_bad_runs_without_retrying(dag, tmp_path, monkeypatch):
    from airflow.sdk.exceptions import AirflowFailException

    discover = dag.get_task("discover").python_callable
    (tmp_path / "landing").mkdir()
    monkeypatch.setenv("SENTINEL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SENTINEL_LANDING", str(tmp_path / "landing"))
    monkeypatch.delenv("SENTINEL_PSEUDONYM_KEY", raising=False)
    with pytest.raises(AirflowFailException, match="SENTINEL_PSEUDONYM_KEY"):
        discover(params=_params())
    monkeypatch.setenv("SENTINEL_PSEUDONYM_KEY", "dag-unit-test-key-0123456789")
    with pytest.raises(AirflowFailException, match="after date_to"):
        discover(params=_params(date_from="2026-03-02", date_to="2026-03-01"))
    with pytest.raises(AirflowFailException, match="does not exist"):
        discover(params=_params(landing=str(tmp_path / "nowhere")))
    assert discover(params=_params()) == []  # an empty landing zone is a normal day


def test_load_with_nothing_staged_is_skipped(dag, tmp_path, monkeypatch):
    """No asset event (and so no downstream run) when nothing new was stored."""
    from airflow.sdk.exceptions import AirflowSkipException

    monkeypatch.setenv("SENTINEL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SENTINEL_PSEUDONYM_KEY", "dag-unit-test-key-0123456789")
    with pytest.raises(AirflowSkipException):
        dag.get_task("load").python_callable(params=_params(), outlet_events=None)


def test_airflow_cfg_one_machine_defaults(tmp_path):
    """airflow.cfg alone (no exported overrides): SQLite under AIRFLOW_HOME, LocalExecutor,
    no examples, dags/ next to airflow_home/."""
    repo = tmp_path / "repo"
    (repo / "airflow_home").mkdir(parents=True)
    shutil.copy(AIRFLOW_CFG, repo / "airflow.cfg")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(AIRFLOW_HOME=str(repo / "airflow_home"), AIRFLOW_CONFIG=str(repo / "airflow.cfg"))
    code = (
        "import json; from airflow.configuration import conf\n"
        "print(json.dumps({k: conf.get(*k.split('.')) for k in ['core.executor',"
        " 'core.load_examples', 'core.dags_folder', 'database.sql_alchemy_conn',"
        " 'core.parallelism', 'logging.base_log_folder', 'core.dags_are_paused_at_creation',"
        " 'email.email_conn_id']}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    values = json.loads(proc.stdout.strip().splitlines()[-1])
    assert values["core.executor"] == "LocalExecutor"
    assert values["core.load_examples"] == "False"
    assert os.path.normpath(values["core.dags_folder"]) == str(repo / "dags")
    assert values["database.sql_alchemy_conn"] == f"sqlite:///{repo}/airflow_home/airflow.db"
    assert values["logging.base_log_folder"] == f"{repo}/airflow_home/logs"
    # Pause-on-creation policy (docs/operations.md): nothing runs until unpaused.
    assert values["core.dags_are_paused_at_creation"] == "True"
    assert values["email.email_conn_id"] == "smtp_default"


def test_env_script_exports_a_stable_environment(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW", "SENTINEL", "PYTHONPATH"))
    }
    env.update(AIRFLOW_HOME=str(tmp_path / "airflow_home"), SENTINEL_HOME=str(tmp_path / "var"))
    show = (
        f"source {REPO}/scripts/airflow_env.sh && python -c 'import json, os; print(json.dumps("
        '{k: v for k, v in os.environ.items() if k.startswith(("AIRFLOW", "SENTINEL",'
        ' "PYTHONPATH"))}))\''
    )
    runs = []
    for _ in range(2):
        proc = subprocess.run(
            ["bash", "-c", show], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60
        )
        assert proc.returncode == 0, proc.stderr
        runs.append(json.loads(proc.stdout))
    first, second = runs
    assert first == second  # secrets are generated once and kept
    assert first["AIRFLOW_HOME"] == str(tmp_path / "airflow_home")
    assert first["AIRFLOW_CONFIG"] == str(REPO / "airflow.cfg")
    assert first["AIRFLOW__CORE__DAGS_FOLDER"] == str(DAGS_DIR)
    assert first["PYTHONPATH"].split(":")[0] == str(DAGS_DIR)
    assert first["SENTINEL_HOME"] == str(tmp_path / "var")
    assert len(first["SENTINEL_PSEUDONYM_KEY"]) >= 16
    assert len(first["AIRFLOW__API_AUTH__JWT_SECRET"]) >= 32
    assert len(first["AIRFLOW__CORE__FERNET_KEY"]) == 44
    for secret in (
        tmp_path / "airflow_home" / "secrets" / "jwt_secret",
        tmp_path / "var" / "secrets" / "pseudonym.key",
    ):
        assert secret.stat().st_mode & 0o077 == 0, secret
