"""Small helpers shared by the Sentinel DAGs (not a DAG file itself).

Keep this module light: it is imported whenever a DAG file is parsed, so it may import only the
standard library and ``airflow.sdk``. Library code (``pipeline.*``, pandas, DuckDB, Great
Expectations) is imported inside task bodies, through the helpers below.

DAG files import it as ``from _common import ...``: Airflow puts the DAG folder (the bundle
path) on ``sys.path`` when it parses DAGs and when it runs tasks.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset

if TYPE_CHECKING:
    from pipeline.config import Settings

OWNER = "sentinel"
log = logging.getLogger("sentinel.dags")


def notify_failure(context: Mapping[str, Any]) -> None:
    """``on_failure_callback`` of every task: e-mail the failure (after the last retry) to
    ``SENTINEL_FAILURE_EMAIL`` through the Airflow connection ``smtp_default`` (host, port,
    TLS, sender: docs/operations.md section 6). Without recipients nothing is sent.

    The message names the DAG, task, run and error (exceptions carry no patient data: intake
    puts row values in receipts and quarantine, never in exceptions)."""
    from pipeline.config import Settings

    recipients = Settings.from_env().failure_emails
    if not recipients:
        return
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    ti = context["ti"]
    where = f"{ti.dag_id}.{ti.task_id}" + (f"[{ti.map_index}]" if ti.map_index >= 0 else "")
    error = str(context.get("exception") or "unknown error")[:2000]
    rows = {
        "DAG": ti.dag_id,
        "task": where,
        "run": ti.run_id,
        "attempt": ti.try_number,
        "error": error,
        "log": getattr(ti, "log_url", ""),
    }
    body = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows.items()
    )
    SmtpNotifier(
        to=list(recipients),
        subject=f"[Sentinel] task failed: {where} ({ti.run_id})",
        html_content=f"<p>A Sentinel task failed after its retries.</p><table>{body}</table>",
    ).notify(context)
    log.info("failure e-mail for %s sent to %s", where, ", ".join(recipients))


DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "on_failure_callback": notify_failure,
}

# The DuckDB warehouse allows a single writer, and a file held open for writing cannot even be
# opened read-only by another process. Every task that opens the warehouse runs in this pool,
# which must exist with exactly one slot:
#     airflow pools set sentinel_warehouse 1 "DuckDB single writer"
# (tasks in a pool that does not exist are never scheduled; there is no silent fallback).
WAREHOUSE_POOL = "sentinel_warehouse"
WAREHOUSE_POOL_SLOTS = 1
WAREHOUSE_POOL_DESCRIPTION = "DuckDB single writer"
# With the CeleryExecutor the same tasks go to this queue, served by the one worker on the host
# that holds the warehouse (`airflow celery worker --queues sentinel_warehouse`); every other task
# goes to the default queue. The LocalExecutor ignores queues.
WAREHOUSE_QUEUE = "sentinel_warehouse"

# Updated by ingest_daily every time it stores new submissions; downstream DAGs schedule on it
# (``schedule=[CASES_ASSET]``). Custom URI schemes take the ``x-`` prefix (Airflow does not
# validate those); consumers may also refer to it as ``Asset.ref(name="sentinel_cases")``.
CASES_ASSET = Asset(name="sentinel_cases", uri="x-sentinel://warehouse/cases", group="sentinel")
# Updated by code_and_cluster when cases are coded and hazard patterns change; detect_weekly
# schedules on it. Updated by detect_weekly when a week's alerts are written; reporting uses it.
PATTERNS_ASSET = Asset(
    name="sentinel_patterns", uri="x-sentinel://warehouse/patterns", group="sentinel"
)
ALERTS_ASSET = Asset(name="sentinel_alerts", uri="x-sentinel://warehouse/alerts", group="sentinel")
# Updated by report_weekly when a week's report is written (for anything that publishes it).
REPORTS_ASSET = Asset(name="sentinel_reports", uri="x-sentinel://reports/weekly", group="sentinel")

# An ISO week param ``YYYY-Www``, or empty for the default week.
WEEK_PATTERN = r"^([0-9]{4}-W[0-9]{2})?$"


def settings_from_params(params: Mapping[str, Any] | None = None) -> Settings:
    """``Settings.from_env()`` (SENTINEL_* variables of the worker), with the run's ``landing``
    param, when set, overriding the landing directory."""
    from pathlib import Path

    from pipeline.config import Settings

    settings = Settings.from_env()
    landing = (params or {}).get("landing") or ""
    if landing.strip():
        settings = settings.with_overrides(landing_dir=Path(landing.strip()).expanduser().resolve())
    return settings


def fail_fast(exc: Exception):  # type: ignore[no-untyped-def]
    """A user-facing Sentinel error (bad param, missing key, unknown alert...): a retry cannot
    fix it, so the task fails without retrying."""
    from airflow.sdk.exceptions import AirflowFailException

    return AirflowFailException(str(exc))


def parse_day(value: str | None, name: str) -> date | None:
    """A ``YYYY-MM-DD`` param, or None when empty."""
    if value is None or not str(value).strip():
        return None
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise ValueError(f"param {name} must be YYYY-MM-DD or empty, got {value!r}") from exc
