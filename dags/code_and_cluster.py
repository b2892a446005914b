"""code_and_cluster: product coding, then hazard patterns, whenever new cases are stored.

Triggered by the ``sentinel_cases`` asset (updated by ``ingest_daily`` when it stores new
submissions) and runnable on demand. Both tasks write the DuckDB warehouse, so both run in the
one-slot ``sentinel_warehouse`` pool:

- ``code``: codes every active case lacking a current coding with the model named in
  ``models/<model>/CURRENT`` (or the ``model_version`` param): valid hospital codes are kept
  and checked, blank or invalid ones predicted; low-confidence predictions and strong
  disagreements go to the coder-review queue (``coding_review``) and stay out of statistics;
- ``patterns``: assigns the newly coded cases to hazard patterns (existing cases keep their
  pattern ids) and updates the ``sentinel_patterns`` asset for the detection DAG.

Params (nothing depends on the logical date, so asset-triggered and manual runs agree):

- ``model`` / ``model_version``: model name and version (empty version: CURRENT)
- ``recode``: also re-code cases coded by another model version (after a model change)
- ``week``: cluster cases up to this ISO week ``YYYY-Www`` (empty: the latest week with cases)

Re-running is safe: a run with nothing new codes and clusters nothing. Workers need
``SENTINEL_HOME`` (see ``scripts/airflow_env.sh``); the model ships in the repository
(``models/product_coder/``), so no training step runs here (``sentinel model train`` is a
deliberate, reviewed act).
"""

from __future__ import annotations

import logging

import pendulum
from _common import (
    CASES_ASSET,
    DEFAULT_ARGS,
    PATTERNS_ASSET,
    WAREHOUSE_POOL,
    WAREHOUSE_QUEUE,
    WEEK_PATTERN,
    fail_fast,
    settings_from_params,
)
from airflow.sdk import Param, dag, task

log = logging.getLogger("sentinel.dags.code_and_cluster")


@dag(
    dag_id="code_and_cluster",
    description="Assign product categories to new cases, then update hazard patterns",
    schedule=[CASES_ASSET],
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,  # both tasks write the warehouse and the pattern state
    default_args=DEFAULT_ARGS,
    tags=["sentinel", "coding"],
    doc_md=__doc__,
    params={
        "model": Param("product_coder", type="string", title="Model name"),
        "model_version": Param(
            "",
            type="string",
            title="Model version",
            description="Empty: the version named in CURRENT.",
        ),
        "recode": Param(False, type="boolean", title="Re-code other model versions"),
        "week": Param(
            "",
            type="string",
            pattern=WEEK_PATTERN,
            title="Cluster up to week",
            description="ISO week YYYY-Www; empty: the latest week with cases.",
        ),
    },
)
def code_and_cluster():
    @task(pool=WAREHOUSE_POOL, queue=WAREHOUSE_QUEUE)
    def code(params: dict | None = None) -> dict:
        """Code every active case lacking a current coding (single writer)."""
        from pipeline.errors import SentinelError
        from pipeline.services import coding

        params = params or {}
        try:
            return coding.run(
                settings_from_params(params),
                params.get("model") or coding.DEFAULT_MODEL,
                params.get("model_version") or None,
                recode=bool(params.get("recode")),
                progress=log.info,
            )
        except SentinelError as exc:  # a missing model or warehouse: a retry cannot fix it
            raise fail_fast(exc) from exc

    @task(pool=WAREHOUSE_POOL, queue=WAREHOUSE_QUEUE, outlets=[PATTERNS_ASSET])
    def patterns(coding: dict, params: dict | None = None, outlet_events=None) -> dict:
        """Cluster newly coded cases into hazard patterns (single writer)."""
        from pipeline.errors import SentinelError
        from pipeline.services import clustering

        params = params or {}
        try:
            result = clustering.refresh_patterns(
                settings_from_params(params), week=params.get("week") or None, progress=log.info
            )
        except SentinelError as exc:
            raise fail_fast(exc) from exc
        log.info("coding %s; patterns %s", coding, result)
        if outlet_events is not None:
            outlet_events[PATTERNS_ASSET].extra = {
                k: result.get(k) for k in ("refresh_seq", "week", "assigned", "new_patterns")
            }
        return result

    patterns(code())


code_and_cluster()
