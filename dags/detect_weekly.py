"""detect_weekly: the week's emerging-hazard alerts.

Runs every Monday at 07:00 China time for the week that just ended, and whenever hazard
patterns are updated (the ``sentinel_patterns`` asset, after new cases were coded and
clustered). One task writes the ``alerts`` table (pool ``sentinel_warehouse``: DuckDB allows
one writer) and updates the ``sentinel_alerts`` asset for reporting.

Params (nothing depends on the logical date, so asset-triggered and manual runs agree):

- ``week``: ISO week ``YYYY-Www`` (empty: the last complete week with cases)
- ``week_from`` / ``week_to``: a backfill range instead of one week (weeks run in order)
- ``method``, ``alpha``, ``fdr``: series detector and error rates (defaults in
  docs/detection.md)

Re-running a week replaces its alerts.
"""

from __future__ import annotations

import logging

import pendulum
from _common import (
    ALERTS_ASSET,
    DEFAULT_ARGS,
    PATTERNS_ASSET,
    WAREHOUSE_POOL,
    WAREHOUSE_QUEUE,
    WEEK_PATTERN,
    fail_fast,
)
from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, task

log = logging.getLogger("sentinel.dags.detect_weekly")


@dag(
    dag_id="detect_weekly",
    description="Flag emerging hazards for a week: series detectors, disproportionality, new terms",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 7 * * 1", timezone="Asia/Shanghai"),
        assets=[PATTERNS_ASSET],
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["sentinel", "detection"],
    doc_md=__doc__,
    params={
        "week": Param(
            "",
            type="string",
            pattern=WEEK_PATTERN,
            title="Week",
            description="ISO week YYYY-Www; empty: the last complete week.",
        ),
        "week_from": Param("", type="string", pattern=WEEK_PATTERN, title="Backfill from"),
        "week_to": Param("", type="string", pattern=WEEK_PATTERN, title="Backfill to"),
        "method": Param("auto-offset", type="string", title="Series detector"),
        "alpha": Param(0.005, type="number", exclusiveMinimum=0, maximum=0.5),
        "fdr": Param(0.05, type="number", exclusiveMinimum=0, maximum=1),
    },
)
def detect_weekly():
    @task(pool=WAREHOUSE_POOL, queue=WAREHOUSE_QUEUE, outlets=[ALERTS_ASSET])
    def detect(params: dict | None = None, outlet_events=None) -> dict[str, int]:
        """Detect and store the alerts of the requested week(s)."""
        from airflow.sdk.exceptions import AirflowSkipException

        from pipeline.config import Settings
        from pipeline.errors import SentinelError
        from pipeline.services import detection

        params = params or {}
        settings = Settings.from_env()
        requested = any(params.get(k) for k in ("week", "week_from", "week_to"))
        if not requested and not settings.warehouse_path.exists():
            # A fresh deployment: the Monday run (or the one Airflow starts on unpausing) comes
            # before the first ingest. Nothing to detect is not a failure to page anyone about.
            raise AirflowSkipException(f"no warehouse yet at {settings.warehouse_path}")
        try:
            weeks = detection.weeks_to_run(
                settings,
                params.get("week") or None,
                params.get("week_from") or None,
                params.get("week_to") or None,
            )
            cfg = detection.settings_for(
                method=params.get("method") or "auto-offset",
                alpha=float(params.get("alpha", 0.005)),
                fdr=float(params.get("fdr", 0.05)),
            )
            counts = detection.detect(settings, weeks, cfg, progress=log.info)
        except SentinelError as exc:
            raise fail_fast(exc) from exc
        if outlet_events is not None:
            outlet_events[ALERTS_ASSET].extra = {"weeks": weeks, "alerts": sum(counts.values())}
        return counts

    detect()


detect_weekly()
