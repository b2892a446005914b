"""What the reports, notices and evidence packs say about one alert: the alert row, its
de-identified cases and its weekly trend (re-running the alert's own detector).

Cases come out de-identified: no patient-identifier pseudonyms (``IDENTIFIER_FIELDS``), no
visit time of day, no submission bookkeeping; narratives were scrubbed at intake.
"""

from __future__ import annotations

import json
from datetime import date

import duckdb
import numpy as np
import pandas as pd

from pipeline.contract import IDENTIFIER_FIELDS
from pipeline.isoweek import add_weeks, week_ordinal, week_range
from pipeline.storage.warehouse import has_table

CASE_COLUMNS = [
    "hospital_code",
    "case_id",
    "visit_date",
    "visit_week",
    "sex",
    "age",
    "age_unit",
    "residence_region",
    "severity",
    "outcome",
    "injury_nature",
    "body_region",
    "product_name",
    "brand",
    "model",
    "batch",
    "barcode",
    "product_category",
    "category_code",
    "pattern_id",
    "product_relation",
    "narrative",
]
assert not set(CASE_COLUMNS) & set(IDENTIFIER_FIELDS)
SERIES_TYPES = ("category", "pattern", "category_region")
NON_SERIES_TYPES = ("new_term", "disproportionality", "new_pattern")
TREND_COLUMNS = ["week", "observed", "expected", "upper", "alarm"]


def load_alert(con: duckdb.DuckDBPyConnection, alert_id: str, week: str | None = None) -> dict:
    """The ``alerts`` row of ``alert_id`` in ``week`` (default: the latest week in which it is
    not resolved)."""
    if not has_table(con, "alerts"):
        raise LookupError(
            f"alert {alert_id} not found: the warehouse has no alerts (run `sentinel detect` first)"
        )
    if week is None:
        rows = con.execute(
            "SELECT * FROM alerts WHERE alert_id = ? AND status <> 'resolved'", [alert_id]
        ).df()
    else:
        rows = con.execute(
            "SELECT * FROM alerts WHERE alert_id = ? AND week = ?", [alert_id, week]
        ).df()
    if rows.empty:
        where = f"in week {week}" if week else "in any week (or only as resolved)"
        raise LookupError(f"alert {alert_id} not found {where}")
    rows["_o"] = rows["week"].map(week_ordinal)
    row = rows.sort_values("_o").iloc[-1].drop("_o")
    return {k: _plain(v) for k, v in row.items()}


def _plain(value: object) -> object:
    """numpy/pandas scalars -> Python values, NaN/NA -> None (JSON- and template-friendly)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating) and np.isnan(value):
        return None
    item = getattr(value, "item", None)
    return item() if callable(item) and isinstance(value, np.generic) else value


def case_keys(alert: dict) -> list[tuple[str, str]]:
    keys = json.loads(alert.get("case_keys") or "[]")
    return [tuple(k.split("/", 1)) for k in keys]  # type: ignore[misc]


def _coding_join(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    """(category expression, join clause): the final coding when coding has run."""
    if has_table(con, "case_coding"):
        return (
            "CASE WHEN k.needs_review THEN NULL ELSE k.category_code END",
            "LEFT JOIN case_coding k ON k.hospital_code = c.hospital_code "
            "AND k.case_id = c.case_id AND k.case_version = c.version",
        )
    return "c.product_category", ""


def _select_cases(
    con: duckdb.DuckDBPyConnection, where: str, params: list, extra_join: str = ""
) -> pd.DataFrame:
    category, coding = _coding_join(con)
    pattern, patterns = "NULL::VARCHAR", ""
    if has_table(con, "case_patterns"):
        pattern = "cp.pattern_id"
        patterns = (
            "LEFT JOIN case_patterns cp ON cp.hospital_code = c.hospital_code "
            "AND cp.case_id = c.case_id"
        )
    frame = con.execute(
        f"""
        SELECT c.hospital_code, c.case_id, CAST(c.visit_datetime AS DATE) AS visit_date,
               c.visit_week, c.sex, c.age, c.age_unit, c.residence_region, c.severity,
               c.outcome, c.injury_nature, c.body_region, c.product_name, c.brand, c.model,
               c.batch, c.barcode, c.product_category, {category} AS category_code,
               {pattern} AS pattern_id, c.product_relation, c.narrative
        FROM cases c {extra_join} {coding} {patterns}
        WHERE c.status = 'active' AND {where}
        ORDER BY visit_date, c.hospital_code, c.case_id
    """,
        params,
    ).df()
    frame["visit_date"] = [
        d.date() if isinstance(d, pd.Timestamp) else d for d in frame["visit_date"]
    ]
    return frame.reindex(columns=CASE_COLUMNS).reset_index(drop=True)


def alert_cases(con: duckdb.DuckDBPyConnection, alert: dict) -> pd.DataFrame:
    """The alert's cases (current active versions), de-identified, sorted by
    (visit_date, hospital_code, case_id)."""
    keys = pd.DataFrame(case_keys(alert), columns=["hospital_code", "case_id"])
    if keys.empty:
        return pd.DataFrame(columns=CASE_COLUMNS)
    name = "_alert_keys"
    con.register(name, keys)
    try:
        return _select_cases(
            con,
            "TRUE",
            [],
            extra_join=(
                f"JOIN {name} ak ON ak.hospital_code = c.hospital_code AND ak.case_id = c.case_id"
            ),
        )
    finally:
        con.unregister(name)


def category_cases(
    con: duckdb.DuckDBPyConnection, category: str, date_from: date, date_to: date
) -> pd.DataFrame:
    """Cases of production hospitals whose final category is ``category``, visited between
    ``date_from`` and ``date_to`` (inclusive)."""
    category_expr, _ = _coding_join(con)
    production = (
        "c.hospital_code IN (SELECT hospital_code FROM ref_hospitals WHERE is_test = 'False')"
        if has_table(con, "ref_hospitals")
        else "TRUE"
    )
    return _select_cases(
        con,
        f"{category_expr} = ? AND CAST(c.visit_datetime AS DATE) BETWEEN ? AND ? AND {production}",
        [category, date_from, date_to],
    )


def _params(alert: dict) -> dict:
    try:
        return json.loads(alert.get("params") or "{}")
    except (TypeError, ValueError):
        return {}


def _empty_trend(weeks: list[str], alert_week: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "week": weeks,
            "observed": 0.0,
            "expected": np.nan,
            "upper": np.nan,
            "alarm": [w == alert_week for w in weeks],
        }
    )


_PANEL_CACHE: dict[tuple, tuple] = {}


def _panel(seen: pd.DataFrame, cases: pd.DataFrame, week: str):  # type: ignore[no-untyped-def]
    """The week's series panel; a report asks for it once per alert, so the last one is kept
    (keyed on the very frame object, which the cache holds so its id stays unique)."""
    from pipeline.alerts.series import build_panel

    key = (id(cases), len(cases), week)
    if key not in _PANEL_CACHE:
        _PANEL_CACHE.clear()
        # 'YYYY-Www' strings sort in week order: min() is the first week.
        _PANEL_CACHE[key] = (cases, build_panel(seen, str(cases["visit_week"].min()), week))
    return _PANEL_CACHE[key][1]


def _series_trend(cases: pd.DataFrame, alert: dict, weeks: int) -> pd.DataFrame | None:
    """Re-run the alert's detector on its series; None when the series cannot be rebuilt."""
    from pipeline.detection.base import DetectionInputError
    from pipeline.detection.registry import detect_panel_frame

    if cases.empty:
        return None
    week = alert["week"]
    # What the detector saw that week (later pattern memberships excluded), as `detect` does.
    from pipeline.alerts.series import as_of

    seen = as_of(cases, week)
    panel = _panel(seen, cases, week)
    match = np.flatnonzero(
        (panel.meta["kind"] == alert["alert_type"]).to_numpy()
        & (panel.meta["subject"] == alert["subject"]).to_numpy()
    )
    if match.size == 0:
        return None
    row = int(match[0])
    n = len(panel.weeks)
    evaluate = list(range(max(0, n - weeks), n))
    denominator = np.where(panel.denominator > 0, panel.denominator, 1.0)
    try:
        result = detect_panel_frame(
            alert["method"],
            [panel.counts[row]],
            evaluate=[evaluate],
            denominators=[denominator],
            alpha=float(_params(alert).get("alpha", 0.005)),
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
    """Cases matching a non-series alert's subject; None for unknown alert types."""
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
            from pipeline.alerts.weekly import _age_group

            values = pd.Series(
                [_age_group(a, u) for a, u in zip(cases["age"], cases["age_unit"], strict=True)],
                index=cases.index,
            )
        elif dimension in cases:
            values = cases[dimension]
        else:
            return None
        return (cases["category"] == category) & (values == level)
    return None


def alert_trend(
    con: duckdb.DuckDBPyConnection,
    alert: dict,
    weeks: int = 26,
    *,
    cases: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Weekly ``week, observed, expected, upper, alarm`` for the ``weeks`` weeks up to the
    alert's week.

    Series alerts (category, pattern, category x city) re-run the alert's detector (its
    ``method``, e.g. the weekly or the sustained-rise detector) with its stored alpha on the
    same series and denominator as ``sentinel detect``. Other alert types (new terms,
    disproportionality, new patterns, types added later) show the observed weekly counts of
    their subject (for unknown types: of the alert's own cases), with no expected value or
    threshold, and the alarm at the alert's week. ``cases`` (from
    :func:`pipeline.alerts.series.load_cases`) may be passed to avoid reloading per alert.
    """
    from pipeline.alerts.series import load_cases

    week = alert["week"]
    span = week_range(add_weeks(week, -(weeks - 1)), week)
    if cases is None:
        cases = load_cases(con)
    if alert["alert_type"] not in NON_SERIES_TYPES:
        trend = _series_trend(cases, alert, weeks)
        if trend is not None:
            return trend
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
    trend = _empty_trend(span, week)
    trend["observed"] = [float(counts.get(w, 0)) for w in span]
    return trend[TREND_COLUMNS]
