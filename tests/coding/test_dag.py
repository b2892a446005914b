"""The code_and_cluster DAG: shape, pools, assets; its tasks run the library end to end."""

from __future__ import annotations

import coding_helpers as h
import pytest
from conftest_airflow import DAGS_DIR

pytestmark = pytest.mark.slow  # parses the DAGs with Airflow


@pytest.fixture(scope="module")
def dag():
    from airflow.dag_processing.dagbag import BundleDagBag

    bag = BundleDagBag(
        dag_folder=DAGS_DIR / "code_and_cluster.py", bundle_path=DAGS_DIR, bundle_name="dags-folder"
    )
    assert bag.import_errors == {}
    return bag.dags["code_and_cluster"]


@pytest.mark.slow
def test_shape_pools_and_assets(dag):
    assert set(dag.task_ids) == {"code", "patterns"}
    assert dag.get_task("patterns").upstream_task_ids == {"code"}
    assert dag.tags == {"sentinel", "coding"}
    assert dag.max_active_runs == 1 and dag.catchup is False
    assert "sentinel_cases" in repr(dag.timetable.asset_condition)  # schedule=[CASES_ASSET]
    for task in dag.tasks:
        assert task.pool == "sentinel_warehouse" and task.pool_slots == 1
        assert task.owner == "sentinel" and task.retries >= 1
    assert [(a.name, a.uri) for a in dag.get_task("patterns").outlets] == [
        ("sentinel_patterns", "x-sentinel://warehouse/patterns")
    ]
    assert dag.params.dump() == {
        "model": "product_coder",
        "model_version": "",
        "recode": False,
        "week": "",
    }


def test_tasks_code_and_cluster(dag, con, settings, monkeypatch):
    h.store(con, [h.case(f"R{i}", h.RICE_ZH) for i in range(5)])
    con.close()
    monkeypatch.setenv("SENTINEL_HOME", str(settings.home))
    params = {"model": "product_coder", "model_version": "", "recode": False, "week": ""}
    coding = dag.get_task("code").python_callable(params=params)
    assert coding["cases_coded"] == 5
    result = dag.get_task("patterns").python_callable(coding, params=params, outlet_events=None)
    assert result["patterns"] == 1 and result["assigned"] == 5
    again = dag.get_task("code").python_callable(params=params)
    assert again["cases_coded"] == 0
