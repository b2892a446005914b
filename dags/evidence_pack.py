"""evidence_pack: the evidence pack a recall officer asks for (manual runs with Params).

Builds a deterministic zip (de-identified case list as formula-safe CSV and Parquet,
narratives, charts, counts, summary page, provenance, SHA-256 manifest) under
``$SENTINEL_HOME/evidence/``, then verifies it against its manifest. The same request on the
same data gives a byte-identical zip, so re-running is harmless.

Params (give an alert, or a category with a date range; nothing: the week's top alert):

- ``alert_id`` and optional ``week`` (empty: the latest week the alert was active)
- ``category`` with ``date_from`` / ``date_to`` (``YYYY-MM-DD``)
- ``week`` alone: the top-ranked alert of that week
"""

from __future__ import annotations

import logging

import pendulum
from _common import DEFAULT_ARGS, WAREHOUSE_POOL, WAREHOUSE_QUEUE, WEEK_PATTERN, parse_day
from airflow.sdk import Param, dag, task

log = logging.getLogger("sentinel.dags.evidence_pack")
DAY_PATTERN = r"^([0-9]{4}-[0-9]{2}-[0-9]{2})?$"


@dag(
    dag_id="evidence_pack",
    description="Build and verify an evidence pack for an alert or a product category",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["sentinel", "evidence"],
    doc_md=__doc__,
    params={
        "alert_id": Param(
            "",
            type="string",
            title="Alert id",
            description="e.g. A1b2c3d4e5f6 (see `sentinel alerts list`).",
        ),
        "week": Param("", type="string", pattern=WEEK_PATTERN, title="Week"),
        "category": Param(
            "",
            type="string",
            pattern=r"^([A-Z]{2}[0-9]{2})?$",
            title="Product category",
            description="Instead of an alert.",
        ),
        "date_from": Param("", type="string", pattern=DAY_PATTERN, title="From (visit date)"),
        "date_to": Param("", type="string", pattern=DAY_PATTERN, title="To (visit date)"),
    },
)
def evidence_pack():
    @task(pool=WAREHOUSE_POOL, queue=WAREHOUSE_QUEUE)
    def build(params: dict | None = None) -> str:
        """Write the pack; returns its path."""
        from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

        from pipeline.config import Settings
        from pipeline.evidence.pack import build_evidence_pack, top_alert
        from pipeline.storage.warehouse import connect

        params = params or {}
        settings = Settings.from_env()
        alert_id, week = params.get("alert_id") or None, params.get("week") or None
        category = params.get("category") or None
        try:
            date_from = parse_day(params.get("date_from"), "date_from")
            date_to = parse_day(params.get("date_to"), "date_to")
        except ValueError as exc:
            raise AirflowFailException(str(exc)) from exc
        if alert_id and category:
            raise AirflowFailException("give alert_id or category, not both")
        if category and not (date_from and date_to):
            raise AirflowFailException("a category pack needs date_from and date_to")
        if not (alert_id or category):
            con = connect(settings.warehouse_path, read_only=True)
            try:
                top = top_alert(con, week)
            finally:
                con.close()
            if top is None:
                raise AirflowSkipException(f"no alerts in week {week or '(latest)'}")
            alert_id, week = top["alert_id"], top["week"]
        try:
            path = build_evidence_pack(
                settings,
                alert_id=alert_id,
                week=week,
                category=category,
                date_from=date_from,
                date_to=date_to,
            )
        except (LookupError, ValueError) as exc:  # a retry cannot find a missing alert
            raise AirflowFailException(str(exc)) from exc
        log.info("evidence pack %s", path)
        return str(path)

    @task
    def verify(path: str) -> dict:
        """Check every file of the pack against its manifest."""
        from pathlib import Path

        from airflow.sdk.exceptions import AirflowFailException

        from pipeline.evidence.pack import verify_evidence_pack

        problems = verify_evidence_pack(Path(path))
        if problems:
            raise AirflowFailException(f"{path} fails verification: {problems}")
        return {"path": path, "problems": problems}

    verify(build())


evidence_pack()
