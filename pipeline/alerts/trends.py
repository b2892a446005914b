"""The series behind each alert, as detection computed it: stored in ``alert_series``.

For every alert of a week, detection stores the ``TREND_WEEKS`` weeks up to the alert's week:
observed count, the week's denominator and, for series alerts (category, pattern, category x
city), the expected value, upper bound and alarm of the alert's own method at each week, with
the history that week had (the same single-series run the alert came from, evaluated at every
week of the span). Alert types without a baseline (new terms, disproportionality, new patterns,
and any type added later) store the weekly counts of their subject.

Reports, notices and evidence packs read these rows (``pipeline.reporting.context``) instead of
re-running the detectors.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd

from pipeline.alerts.series import age_group
from pipeline.detection.base import DetectionInputError
from pipeline.detection.registry import detect_series
from pipeline.detection.series import WeeklySeries
from pipeline.isoweek import add_weeks, week_range

TREND_WEEKS = 26
SERIES_TYPES = ("category", "pattern", "category_region")
NON_SERIES_TYPES = ("new_term", "disproportionality", "new_pattern")
TREND_COLUMNS = ["week", "observed", "expected", "upper", "alarm"]
STORED_COLUMNS = [
    "week",
    "alert_id",
    "series_week",
    "observed",
    "denominator",
    "expected",
    "upper",
    "alarm",
]


def case_keys(alert: dict) -> list[tuple[str, str]]:
    keys = json.loads(alert.get("case_keys") or "[]")
    return [tuple(k.split("/", 1)) for k in keys]  # type: ignore[misc]


def _series_trend(
    panel: WeeklySeries, alert: dict, alpha: float, weeks: int
) -> pd.DataFrame | None:
    """The alert's own method on its series, evaluated at each of the last ``weeks`` weeks;
    None when the panel has no such series."""
    match = np.flatnonzero(
        (panel.meta["kind"] == alert["alert_type"]).to_numpy()
        & (panel.meta["subject"] == alert["subject"]).to_numpy()
    )
    if match.size == 0:
        return None
    row = int(match[0])
    n = len(panel.weeks)
    evaluate = list(range(max(0, n - weeks), n))
    # weeks without any case get a denominator of 1 (the trend spans quiet weeks too)
    floored = replace(panel, denominator=np.where(panel.denominator > 0, panel.denominator, 1.0))
    try:
        result = detect_series(
            floored, alert["method"], rows=[row], evaluate=[evaluate], alpha=alpha
        )
    except (DetectionInputError, ValueError, KeyError):
        result = pd.DataFrame(columns=["index", "expected", "upper", "alarm"])
    trend = pd.DataFrame(
        {
            "week": [panel.weeks[i] for i in evaluate],
            "observed": panel.counts[row, evaluate].astype(float),
        }
    )
    fitted = (
        result.set_index(result["index"].astype(int))[["expected", "upper", "alarm"]]
        if not result.empty
        else pd.DataFrame(columns=["expected", "upper", "alarm"])
    )
    trend["expected"] = [float(fitted["expected"].get(i, np.nan)) for i in evaluate]
    trend["upper"] = [float(fitted["upper"].get(i, np.nan)) for i in evaluate]
    trend["alarm"] = [bool(fitted["alarm"].get(i, False)) for i in evaluate]
    return trend[TREND_COLUMNS]


def _subject_mask(cases: pd.DataFrame, alert: dict) -> pd.Series | None:
    """Cases matching a non-series alert's subject; None for other alert types."""
    kind = alert["alert_type"]
    if kind == "new_pattern" and alert.get("pattern_id"):
        return cases["pattern_id"] == alert["pattern_id"]
    if kind == "new_term" and alert.get("term"):
        return (
            cases["narrative"]
            .fillna("")
            .str.lower()
            .str.contains(str(alert["term"]).lower(), regex=False)
        )
    if kind == "disproportionality":
        subject = str(alert.get("subject") or "")
        category, _, pair = subject.partition(" x ")
        dimension, _, level = pair.partition("=")
        if dimension == "age_group":
            values = pd.Series(
                [age_group(a, u) for a, u in zip(cases["age"], cases["age_unit"], strict=True)],
                index=cases.index,
            )
        elif dimension in cases:
            values = cases[dimension]
        else:
            return None
        return (cases["category"] == category) & (values == level)
    return None


def subject_trend(cases: pd.DataFrame, alert: dict, weeks: int = TREND_WEEKS) -> pd.DataFrame:
    """Weekly counts of the alert's subject (new term, pattern, disproportionality pair; for
    other types: of the alert's own cases) over the ``weeks`` weeks up to the alert's week, no
    expected value or bound, the alarm at the alert's week. ``cases``: as
    :func:`pipeline.alerts.series.load_cases` returns them."""
    week = alert["week"]
    span = week_range(add_weeks(week, -(weeks - 1)), week)
    mask = _subject_mask(cases, alert) if not cases.empty else None
    if mask is not None:
        counts = cases.loc[mask, "visit_week"].value_counts()
    else:
        keys = {f"{h}/{c}" for h, c in case_keys(alert)}
        own = (
            cases[(cases["hospital_code"] + "/" + cases["case_id"]).isin(keys)]
            if not cases.empty
            else cases
        )
        counts = own["visit_week"].value_counts() if not own.empty else pd.Series(dtype=int)
    return pd.DataFrame(
        {
            "week": span,
            "observed": [float(counts.get(w, 0)) for w in span],
            "expected": np.nan,
            "upper": np.nan,
            "alarm": [w == week for w in span],
        }
    )[TREND_COLUMNS]


def alert_series(
    alerts: pd.DataFrame,
    panel: WeeklySeries,
    cases: pd.DataFrame,
    alpha: float,
    weeks: int = TREND_WEEKS,
) -> pd.DataFrame:
    """``alert_series`` rows for the live (not resolved) alerts of one week. ``panel``: the
    week's series as detection saw them; ``cases``: every loaded case (subject counts)."""
    position = {w: i for i, w in enumerate(panel.weeks)}
    frames = []
    for alert in alerts[alerts["status"] != "resolved"].to_dict("records"):
        trend = None
        if alert["alert_type"] in SERIES_TYPES:
            trend = _series_trend(panel, alert, alpha, weeks)
        if trend is None:
            trend = subject_trend(cases, alert, weeks)
        trend = trend.rename(columns={"week": "series_week"})
        trend["denominator"] = [
            float(panel.denominator[position[w]]) if w in position else np.nan
            for w in trend["series_week"]
        ]
        trend["week"] = alert["week"]
        trend["alert_id"] = alert["alert_id"]
        frames.append(trend)
    if not frames:
        return pd.DataFrame(columns=STORED_COLUMNS)
    out = pd.concat(frames, ignore_index=True)[STORED_COLUMNS]
    out["alarm"] = out["alarm"].astype(bool)
    return out


__all__ = [
    "NON_SERIES_TYPES",
    "SERIES_TYPES",
    "STORED_COLUMNS",
    "TREND_COLUMNS",
    "TREND_WEEKS",
    "alert_series",
    "case_keys",
    "subject_trend",
]
