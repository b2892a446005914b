"""Detection service: the weekly alerts (``sentinel detect``, ``detect_weekly``) and the
stand-alone detector on a series file (``sentinel detect-series``)."""

from __future__ import annotations

from pathlib import Path

from pipeline.alerts.weekly import AlertSettings, default_week, run_weeks
from pipeline.config import Settings
from pipeline.detection.base import DetectionInputError
from pipeline.detection.registry import METHOD_SUMMARIES, METHODS
from pipeline.detection.series_io import SeriesInputError, SeriesRunSummary, run_detect_series
from pipeline.errors import BadInput
from pipeline.isoweek import is_iso_week, week_range
from pipeline.storage.session import Progress, reader, writer


def latest_week(settings: Settings) -> str:
    """The week a run evaluates by default: the last complete week with cases."""
    with reader(settings) as con:
        return default_week(con)


def weeks_to_run(
    settings: Settings,
    week: str | None = None,
    week_from: str | None = None,
    week_to: str | None = None,
) -> list[str]:
    """One week, a backfill range, or (nothing given) the default week."""
    if week and (week_from or week_to):
        raise BadInput("give --week or --from/--to, not both")
    if bool(week_from) != bool(week_to):
        raise BadInput("a backfill needs both --from and --to")
    if not (week or week_from):
        week = latest_week(settings)
    start, end = (week, week) if week else (week_from, week_to)
    for value in (start, end):
        if not is_iso_week(value):
            raise BadInput(f"{value!r} is not an ISO week like 2026-W14")
    weeks = week_range(start, end)  # type: ignore[arg-type]
    if not weeks:
        raise BadInput(f"--from {start} is after --to {end}")
    return weeks


def settings_for(
    method: str = "auto-offset",
    alpha: float = 0.005,
    fdr: float = 0.05,
    rise_method: str = "auto-rise-offset",
    fdr_scope: str = "all",
) -> AlertSettings:
    for name, value in (("--method", method), ("--rise-method", rise_method)):
        if value not in METHODS and not (name == "--rise-method" and value == "none"):
            raise BadInput(f"{name}: unknown method {value!r}")
    if fdr_scope not in ("kind", "all"):
        raise BadInput("--fdr-scope must be 'kind' or 'all'")
    return AlertSettings(
        method=method, alpha=alpha, fdr=fdr, rise_method=rise_method, fdr_scope=fdr_scope
    )


def detect(
    settings: Settings,
    weeks: list[str],
    cfg: AlertSettings = AlertSettings(),
    progress: Progress | None = None,
) -> dict[str, int]:
    """Detect and store the alerts (and their series) of each week, in order."""
    with writer(settings, progress) as con:
        return run_weeks(con, weeks, cfg, progress=progress)


def detect_series(
    input_csv: Path,
    method: str,
    output: Path,
    alpha: float | None = None,
    from_week: str | None = None,
    to_week: str | None = None,
) -> SeriesRunSummary:
    """Run one detector over a weekly counts file (no warehouse)."""
    try:
        return run_detect_series(input_csv, method, output, alpha, from_week, to_week)
    except (SeriesInputError, DetectionInputError) as exc:
        raise BadInput(str(exc)) from exc


def methods() -> dict[str, str]:
    return dict(METHOD_SUMMARIES)
