"""report_weekly: the weekly hazard report for risk analysts (HTML in Chinese and English, JSON).

Triggered whenever detect_weekly writes a week's alerts (the ``sentinel_alerts`` asset) and
runnable on demand. One task reads the warehouse (pool ``sentinel_warehouse``: a DuckDB file
held open by a writer cannot be opened by another process) and writes
``$SENTINEL_HOME/reports/<week>/weekly-report-<week>-<lang>.html`` and ``...-<week>.json``.

Params:

- ``week``: ISO week ``YYYY-Www`` (empty: the week detect_weekly would evaluate by default)
- ``lang``: ``zh``, ``en`` or ``all``

Re-running a week rewrites its report from the warehouse as it is now (triage decisions and
follow-up results recorded since are included).
"""

from __future__ import annotations

import logging

import pendulum
from _common import (
    ALERTS_ASSET,
    DEFAULT_ARGS,
    REPORTS_ASSET,
    WAREHOUSE_POOL,
    WAREHOUSE_QUEUE,
    WEEK_PATTERN,
)
from airflow.sdk import Param, dag, task

log = logging.getLogger("sentinel.dags.report_weekly")


@dag(
    dag_id="report_weekly",
    description="Write the weekly hazard report (HTML zh/en and JSON)",
    schedule=[ALERTS_ASSET],
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["sentinel", "reporting"],
    doc_md=__doc__,
    params={
        "week": Param(
            "",
            type="string",
            pattern=WEEK_PATTERN,
            title="Week",
            description="ISO week YYYY-Www; empty: the last complete week.",
        ),
        "lang": Param("all", type="string", enum=["all", "zh", "en"], title="Language"),
    },
)
def report_weekly():
    @task(pool=WAREHOUSE_POOL, queue=WAREHOUSE_QUEUE, outlets=[REPORTS_ASSET])
    def report(params: dict | None = None, outlet_events=None) -> dict:
        """Write the report of the requested week; returns the week and the files' paths."""
        from airflow.sdk.exceptions import AirflowFailException

        from pipeline.alerts.weekly import default_week
        from pipeline.config import Settings
        from pipeline.reporting.weekly import write_weekly_report
        from pipeline.storage.warehouse import connect

        params = params or {}
        settings = Settings.from_env()
        if not settings.warehouse_path.exists():
            raise AirflowFailException(f"no warehouse at {settings.warehouse_path}")
        week = params.get("week") or ""
        if not week:
            con = connect(settings.warehouse_path, read_only=True)
            try:
                week = default_week(con)
            finally:
                con.close()
        lang = params.get("lang") or "all"
        langs = ("zh", "en") if lang == "all" else (lang,)
        paths = write_weekly_report(settings, week=week, langs=langs)
        result = {"week": week, "paths": {k: str(v) for k, v in paths.items()}}
        log.info("weekly report %s", result)
        if outlet_events is not None:
            outlet_events[REPORTS_ASSET].extra = result
        return result

    report()


report_weekly()
