"""Reporting service: the weekly hazard report and the quarterly summary, from the published
snapshot (they never wait for a pipeline run)."""

from __future__ import annotations

from pathlib import Path

from pipeline.config import Settings
from pipeline.reporting.quarterly import write_quarterly_summary
from pipeline.reporting.weekly import check_request, report_week, write_weekly_report
from pipeline.storage.session import reader


def default_week(settings: Settings) -> str:
    """The latest week with alerts, up to the last complete week with cases."""
    with reader(settings) as con:
        return report_week(con)


def weekly(
    settings: Settings, week: str | None = None, langs: tuple[str, ...] = ("zh", "en")
) -> dict[str, Path]:
    """Write the weekly report (HTML per language and JSON) under reports/<week>/; the
    signals' decisions and follow-ups come from the application database."""
    from pipeline.services import triage

    check_request(week, langs)
    state = triage.state(settings)
    with reader(settings) as con:
        return write_weekly_report(con, settings.reports_dir, week, langs, state)


def quarterly(settings: Settings, quarter: str) -> dict[str, Path]:
    """Write the quarterly statistical summary under reports/quarterly/<quarter>/."""
    with reader(settings) as con:
        return write_quarterly_summary(con, settings.reports_dir, quarter)
