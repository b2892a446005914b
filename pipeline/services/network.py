"""Network service: the landing zone against the registry, and what the warehouse holds."""

from __future__ import annotations

from pathlib import Path

from pipeline import reference
from pipeline.config import Settings
from pipeline.intake.discover import scan_landing
from pipeline.reporting.network import landing_summary, warehouse_summary
from pipeline.storage.session import reader


def summary(settings: Settings, landing: Path | None = None) -> tuple[Path, list[dict]]:
    """The landing directory and, per hospital folder, what it holds."""
    landing = (landing or settings.landing_dir).resolve()
    registry = reference.load_hospitals(settings.hospital_registry)
    return landing, landing_summary(scan_landing(landing), registry)


def report(settings: Settings) -> dict:
    """Per hospital: submissions, rows, cases and quarantine (from the published snapshot)."""
    with reader(settings) as con:
        return warehouse_summary(con)
