"""Clustering service: hazard patterns (refresh, list, purity against a sample's hazards)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from pipeline.clustering.patterns import list_patterns, refresh
from pipeline.clustering.quality import hazard_purity
from pipeline.config import Settings
from pipeline.errors import BadInput
from pipeline.storage.session import Progress, reader, writer


def refresh_patterns(
    settings: Settings,
    week: str | None = None,
    rebuild: bool = False,
    progress: Progress | None = None,
) -> dict:
    """Assign newly coded cases to hazard patterns (existing cases keep their pattern ids)."""
    if week is not None and not re.fullmatch(r"[0-9]{4}-W[0-9]{2}", week):
        raise BadInput("--week must look like 2026-W47")
    with writer(settings, progress) as con:
        return refresh(con, settings, week=week, rebuild=rebuild, progress=progress)


def patterns(
    settings: Settings, category: str | None = None, limit: int = 50, sort: str = "cases"
) -> pd.DataFrame:
    with reader(settings) as con:
        return list_patterns(con, category=category, limit=limit, sort=sort)


def purity(settings: Settings, ground_truth: Path) -> list[dict]:
    """Hazard purity of the patterns against a sample's injected hazards."""
    with reader(settings) as con:
        return hazard_purity(con, ground_truth)
