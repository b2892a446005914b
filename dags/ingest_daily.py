"""ingest_daily: pick up new hospital extracts, validate them, store them, write receipts.

``discover`` lists the landing files not yet in the (published) submissions ledger and writes
one plan file per batch (one hospital each); ``stage`` runs once per batch, in parallel (read, prepare,
Great Expectations; touches no database); ``load`` is the single DuckDB writer: it applies every
staged submission in each hospital's file order, writes the receipts, publishes a snapshot for
the readers, and updates the ``sentinel_cases`` asset so downstream DAGs run. Tasks exchange only file paths and ids.

Runs daily at 06:00 China time (no catch-up: one run picks up everything that is new) and on
demand. Params restrict what a run picks up; nothing depends on the logical date, so manual and
asset-triggered runs behave the same:

- ``landing``: landing directory (empty: ``SENTINEL_LANDING`` of the workers)
- ``hospitals``: hospital codes (empty: all)
- ``date_from`` / ``date_to``: ``YYYY-MM-DD``, by the date in the file name (empty: open)

Re-running is safe: files already in the ledger are skipped, and an interrupted load is
completed by the next run. Setup: ``airflow pools set sentinel_warehouse 1 "DuckDB single
writer"``; workers need ``SENTINEL_HOME`` and ``SENTINEL_PSEUDONYM_KEY`` (see
``scripts/airflow_env.sh``).
"""

from __future__ import annotations

import logging

import pendulum
from _common import (
    CASES_ASSET,
    DEFAULT_ARGS,
    WAREHOUSE_POOL,
    WAREHOUSE_QUEUE,
    fail_fast,
    parse_day,
    settings_from_params,
)
from airflow.sdk import Param, dag, get_current_context, task

log = logging.getLogger("sentinel.dags.ingest_daily")

DATE_PATTERN = r"^([0-9]{4}-[0-9]{2}-[0-9]{2})?$"


@dag(
    dag_id="ingest_daily",
    description="Validate and store new hospital extracts; write a receipt for every file",
    schedule="0 6 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,  # runs share the staging area and the warehouse
    default_args=DEFAULT_ARGS,
    tags=["sentinel", "intake"],
    doc_md=__doc__,
    params={
        "landing": Param(
            "",
            type="string",
            title="Landing directory",
            description="Empty: SENTINEL_LANDING of the workers.",
        ),
        "hospitals": Param(
            [],
            type="array",
            items={"type": "string", "pattern": "^[A-Z]{2}[0-9]{3}$"},
            title="Hospitals",
            description="Hospital codes; empty: all.",
        ),
        "date_from": Param(
            "",
            type="string",
            pattern=DATE_PATTERN,
            title="From date",
            description="YYYY-MM-DD (date in the file name); empty: open.",
        ),
        "date_to": Param(
            "",
            type="string",
            pattern=DATE_PATTERN,
            title="To date",
            description="YYYY-MM-DD (date in the file name); empty: open.",
        ),
    },
)
def ingest_daily():
    @task
    def discover(params: dict | None = None) -> list[str]:
        """New landing files -> one JSON plan per batch; returns the plan paths."""
        from pipeline.errors import SentinelError
        from pipeline.intake.discover import batch_label
        from pipeline.services import intake

        params = params or {}
        hospitals = sorted(set(params.get("hospitals") or [])) or None
        try:
            settings = settings_from_params(params)
            date_from = parse_day(params.get("date_from"), "date_from")
            date_to = parse_day(params.get("date_to"), "date_to")
            for warning in intake.check_request(settings, hospitals, date_from, date_to):
                log.warning(warning)
            batches = intake.discover(settings, hospitals, date_from, date_to)
        except (SentinelError, ValueError) as exc:  # a retry cannot fix these
            raise fail_fast(exc) from exc
        log.info(
            "%d new files in %d batches under %s (hospitals: %s, dates: %s .. %s)",
            sum(len(b) for b in batches),
            len(batches),
            settings.landing_dir,
            ", ".join(hospitals) if hospitals else "all",
            date_from or "open",
            date_to or "open",
        )
        for batch in batches:
            log.info("batch %s", batch_label(batch))
        return intake.write_plan(settings, batches)

    @task(map_index_template="{{ batch_label }}")
    def stage(plan_path: str, params: dict | None = None) -> list[str]:
        """Read, prepare and validate one batch into the staging area; returns submission ids."""
        from pipeline.intake.discover import batch_label
        from pipeline.services import intake

        batch = intake.read_plan(plan_path)
        label = batch_label(batch)
        get_current_context()["batch_label"] = label  # the map index name in the UI
        log.info("staging %s", label)
        ids = intake.stage(settings_from_params(params), batch)
        log.info("staged %d submissions of %s", len(ids), label)
        return ids

    @task(
        pool=WAREHOUSE_POOL,
        queue=WAREHOUSE_QUEUE,
        outlets=[CASES_ASSET],
        trigger_rule="none_failed",
    )
    def load(params: dict | None = None, outlet_events=None) -> dict[str, int]:
        """Apply every staged submission (single writer) and write the receipts."""
        from airflow.sdk.exceptions import AirflowSkipException

        from pipeline.errors import KeyMismatch
        from pipeline.services import intake

        settings = settings_from_params(params)
        try:
            summary = intake.load(settings, progress=log.info)
        except KeyMismatch as exc:  # staged with another pseudonym key: a retry cannot fix it
            raise fail_fast(exc) from exc
        log.info(
            "loaded %d submissions into %s: %s",
            len(summary.loaded),
            settings.warehouse_path,
            summary.statuses or "nothing new",
        )
        if not summary.loaded:
            # Skipped, not succeeded: no asset event, so downstream DAGs do not run for nothing.
            raise AirflowSkipException("no new submissions")
        if outlet_events is not None:
            outlet_events[CASES_ASSET].extra = {
                "submissions": len(summary.loaded),
                "statuses": summary.statuses,
            }
        return summary.statuses

    stage.expand(plan_path=discover()) >> load()


ingest_daily()
