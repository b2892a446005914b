"""The DAGs chain through assets the way the README's main job runs them in order, and each
one is wired as its docstring says."""

from __future__ import annotations

import pytest
from conftest_airflow import DAGS_DIR

# Loading the DAG folder imports Airflow (seconds): slow, like tests/test_dags.py.
pytestmark = pytest.mark.slow

CHAIN = ["ingest_daily", "code_and_cluster", "detect_weekly", "report_weekly"]


@pytest.fixture(scope="module")
def dags():
    from airflow.dag_processing.dagbag import BundleDagBag

    bag = BundleDagBag(dag_folder=DAGS_DIR, bundle_path=DAGS_DIR, bundle_name="dags-folder")
    assert bag.import_errors == {}
    return bag.dags


def _outlets(dag) -> set[str]:
    return {a.name for t in dag.tasks for a in t.outlets}


def _asset_names(condition) -> set[str]:
    """Asset names in an asset condition (an Asset, or AssetAll/AssetAny of them)."""
    if hasattr(condition, "objects"):
        return set().union(*(_asset_names(c) for c in condition.objects))
    return {condition.name}


def _schedule_assets(dag) -> set[str]:
    condition = getattr(dag.timetable, "asset_condition", None)
    return _asset_names(condition) if condition is not None else set()


def test_every_dag_is_known(dags):
    assert set(dags) == {*CHAIN, "evidence_pack", "retrain_models", "workspace_daily"}


def test_each_dag_of_the_chain_is_triggered_by_the_asset_of_the_one_before(dags):
    for upstream, downstream in zip(CHAIN, CHAIN[1:], strict=False):
        produced = _outlets(dags[upstream])
        assert produced, upstream
        assert produced & _schedule_assets(dags[downstream]), (upstream, downstream)
    assert _outlets(dags["report_weekly"]) == {"sentinel_reports"}


def test_schedules(dags):
    assert dags["evidence_pack"].schedule is None  # on request, with Params
    detect = dags["detect_weekly"].timetable.timetable  # or on the patterns asset (above)
    assert (detect.expression, str(detect.timezone)) == ("0 7 * * 1", "Asia/Shanghai")
    assert dags["retrain_models"].timetable.expression == "0 3 1 * *"


WRITERS = ("intake.load(", "coding.run(", "clustering.refresh_patterns(", "detection.detect(")
READERS = ("intake.discover(", "reporting.weekly(", "evidence.build(", "coding.train_model(")


def test_writers_share_the_single_writer_pool_and_readers_never_wait(dags):
    """Tasks calling a writing service take the one-slot pool; tasks that only read the
    published snapshot stay out of it (they never wait for a writer)."""
    import inspect

    seen = {"writer": 0, "reader": 0}
    for dag_id, dag in dags.items():
        for task in dag.tasks:
            source = (
                inspect.getsource(task.python_callable) if hasattr(task, "python_callable") else ""
            )
            assert "connect(" not in source, (dag_id, task.task_id)  # sessions are the services'
            if any(call in source for call in WRITERS):
                assert task.pool == "sentinel_warehouse", (dag_id, task.task_id)
                seen["writer"] += 1
            elif any(call in source for call in READERS):
                assert task.pool == "default_pool", (dag_id, task.task_id)
                seen["reader"] += 1
    assert seen == {"writer": 4, "reader": 4}


def test_shapes(dags):
    assert dags["evidence_pack"].get_task("verify").upstream_task_ids == {"build"}
    retrain = dags["retrain_models"]
    assert retrain.get_task("compare").upstream_task_ids == {"train"}
    assert retrain.get_task("promote").upstream_task_ids == {"compare"}
    assert dags["retrain_models"].params.dump()["promote"] is False  # never silently


@pytest.mark.parametrize(
    "dag_id,bad",
    [
        ("evidence_pack", {"date_from": "1/2/2026"}),
        ("evidence_pack", {"category": "rice cooker"}),
        ("report_weekly", {"lang": "fr"}),
        ("report_weekly", {"week": "2026-14"}),
        ("detect_weekly", {"week": "W14"}),
    ],
)
def test_params_refuse_malformed_values(dags, dag_id, bad):
    import copy

    from airflow.sdk.definitions.param import ParamValidationError

    params = copy.deepcopy(dags[dag_id].params)
    ((key, value),) = bad.items()
    with pytest.raises(ParamValidationError):
        params[key] = value
