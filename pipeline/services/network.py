"""Network service: the landing zone against the registry, what the warehouse holds, and the
supervision figures (monitoring-site supervision) the weekly report, the CLI and the web
coordinator page show."""

from __future__ import annotations

from pathlib import Path

from pipeline import reference
from pipeline.alerts.weekly import default_week
from pipeline.config import Settings
from pipeline.errors import BadInput
from pipeline.intake.discover import scan_landing
from pipeline.isoweek import is_iso_week
from pipeline.reporting.health import HEALTH_WEEKS, SILENT_DAYS, network_health
from pipeline.reporting.network import hospital_submissions, landing_summary, warehouse_summary
from pipeline.storage.session import reader


def summary(settings: Settings, landing: Path | None = None) -> tuple[Path, list[dict]]:
    """The landing directory and, per hospital folder, what it holds."""
    landing = (landing or settings.landing_dir).resolve()
    registry = reference.load_hospitals(settings.hospital_registry)
    return landing, landing_summary(scan_landing(landing), registry)


def report(settings: Settings) -> dict:
    """Per hospital: submissions, rows, cases and quarantine (from the published snapshot);
    see :func:`pipeline.reporting.network.warehouse_summary`."""
    with reader(settings) as con:
        return warehouse_summary(con)


def health(
    settings: Settings,
    week: str | None = None,
    weeks: int = HEALTH_WEEKS,
    silent_days: int = SILENT_DAYS,
) -> dict:
    """Monitoring-site supervision over the ``weeks`` weeks ending with ``week`` (default:
    the last complete week with cases), exactly as the weekly report shows it; see
    :func:`pipeline.reporting.health.network_health` (adds ``week``)."""
    if week is not None and not is_iso_week(week):
        raise BadInput(f"{week!r} is not an ISO week like 2026-W14")
    if weeks < 1 or silent_days < 1:
        raise BadInput("--weeks and --silent-days must be at least 1")
    with reader(settings) as con:
        week = week or default_week(con)
        return {"week": week, **network_health(con, week, weeks, silent_days)}


def submissions(settings: Settings, hospital_code: str, limit: int = 200) -> list[dict]:
    """One hospital's files, newest first (for the coordinator's drill-down to a receipt)."""
    with reader(settings) as con:
        return hospital_submissions(con, hospital_code, limit)
