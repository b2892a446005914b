"""What the reports, notices and evidence packs say about one signal or alert: its
de-identified cases and its weekly trend (as detection stored it in ``alert_series``).

A signal's cases are every case linked to it from its onset week to the week shown
(``signal_weeks.case_keys``); its trend is the stored series of its leading member alert.

Its *provisional* members (issue 20, item 7) are cases still waiting for a coder that the last
pattern refresh placed in a pattern of their top suggestion (view ``case_patterns_all``,
``provisional``): those the signal's own rule would link to it if the suggestion were final
(:func:`pipeline.alerts.signals.linked_mask` over the suggested category and provisional
pattern). They are shown apart, flagged, and never counted: no ``n_cases``, breakdown, trend or
chart reads them.

Cases come out de-identified: no patient-identifier pseudonyms (``IDENTIFIER_FIELDS``), no
visit time of day, no submission bookkeeping; narratives were scrubbed at intake.
"""

from __future__ import annotations

import json
from datetime import date

import duckdb
import numpy as np
import pandas as pd

from pipeline.alerts import signal_store
from pipeline.alerts.series import load_cases, ordinals
from pipeline.alerts.signals import linked_mask
from pipeline.alerts.trends import TREND_COLUMNS, TREND_WEEKS, case_keys, subject_trend
from pipeline.contract import IDENTIFIER_FIELDS
from pipeline.errors import NotFound
from pipeline.isoweek import add_weeks, week_ordinal, week_range
from pipeline.privacy import scrub_text
from pipeline.storage import read_tables

CASE_COLUMNS = [
    "hospital_code",
    "case_id",
    "visit_date",
    "visit_week",
    "sex",
    "age",
    "age_unit",
    "residence_region",
    "cause",
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
# A provisional member: no final category; the model's suggestion, the pattern it was placed in
# (with its similarity) and why it waits for a coder instead.
PROVISIONAL_COLUMNS = [
    *(c for c in CASE_COLUMNS if c not in ("category_code", "pattern_id", "narrative")),
    "suggested_category",
    "pattern_id",
    "similarity",
    "review_reason",
    "narrative",
]
assert not set(PROVISIONAL_COLUMNS) & set(IDENTIFIER_FIELDS)
# The final category: the coding of the case's current version, unless it waits for a coder.
FINAL_CATEGORY = read_tables.FINAL_CATEGORY
__all__ = [
    "CASE_COLUMNS",
    "PROVISIONAL_COLUMNS",
    "alert_cases",
    "alert_trend",
    "case_keys",
    "category_cases",
    "category_provisional",
    "load_alert",
    "pending_provisional",
    "provisional_cases",
    "signal_cases",
    "signal_provisional",
    "signal_trend",
    "stored_signal_cases",
]


def load_alert(con: duckdb.DuckDBPyConnection, alert_id: str, week: str | None = None) -> dict:
    """The ``alerts`` row of ``alert_id`` in ``week`` (default: the latest week in which it is
    not resolved)."""
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
        raise NotFound(f"alert {alert_id} not found {where}")
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


def _select_cases(
    con: duckdb.DuckDBPyConnection, where: str, params: list, extra_join: str = ""
) -> pd.DataFrame:
    frame = con.execute(
        f"""
        SELECT {read_tables.SIGNAL_CASE_COLUMNS}
        FROM cases c {extra_join}
        LEFT JOIN case_coding k ON k.hospital_code = c.hospital_code
             AND k.case_id = c.case_id AND k.case_version = c.version
        LEFT JOIN case_patterns cp ON cp.hospital_code = c.hospital_code
             AND cp.case_id = c.case_id
        WHERE c.status = 'active' AND {where}
        ORDER BY visit_date, c.hospital_code, c.case_id
    """,
        params,
    ).df()
    return _case_frame(frame)


def _case_frame(frame: pd.DataFrame) -> pd.DataFrame:
    frame["visit_date"] = [
        d.date() if isinstance(d, pd.Timestamp) else d for d in frame["visit_date"]
    ]
    return frame.reindex(columns=CASE_COLUMNS).reset_index(drop=True)


def alert_cases(con: duckdb.DuckDBPyConnection, alert: dict) -> pd.DataFrame:
    """The alert's cases (current active versions), de-identified, sorted by
    (visit_date, hospital_code, case_id)."""
    return _cases_of(con, case_keys(alert))


def signal_cases(con: duckdb.DuckDBPyConnection, signal: dict) -> pd.DataFrame:
    """Every case linked to the signal from its onset week to its week (current active
    versions), de-identified, sorted by (visit_date, hospital_code, case_id)."""
    return _cases_of(con, signal_store.case_keys(signal))


def stored_signal_cases(con: duckdb.DuckDBPyConnection, signal: dict) -> pd.DataFrame:
    """:func:`signal_cases` of a signal as stored (``signal`` the ``signal_weeks`` row of its
    week, e.g. from ``signal_store.load_signal``): read from the snapshot's table of every
    stored signal's cases, built at publication (``read_tables.SIGNAL_CASES_TABLE``), when the
    snapshot has one."""
    if not read_tables.has_signal_cases(con):
        return signal_cases(con, signal)
    frame = con.execute(
        f"""
        SELECT * EXCLUDE (signal_week, signal_id) FROM {read_tables.SIGNAL_CASES_TABLE}
        WHERE signal_week = ? AND signal_id = ?
        ORDER BY visit_date, hospital_code, case_id""",
        [signal["week"], signal["signal_id"]],
    ).df()
    return _case_frame(frame)


def _cases_of(con: duckdb.DuckDBPyConnection, pairs: list) -> pd.DataFrame:
    keys = pd.DataFrame(pairs, columns=["hospital_code", "case_id"])
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
    production = (
        "c.hospital_code IN (SELECT hospital_code FROM ref_hospitals WHERE is_test = 'False')"
    )
    return _select_cases(
        con,
        f"{FINAL_CATEGORY} = ? AND CAST(c.visit_datetime AS DATE) BETWEEN ? AND ? AND {production}",
        [category, date_from, date_to],
    )


def provisional_cases(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """:func:`pending_provisional` with every narrative scrubbed again."""
    return _scrubbed(pending_provisional(con))


def _scrubbed(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with the narratives scrubbed again like the report's examples (scrubbed at intake
    already; idempotent). Done on the rows shown only: it costs about 0.3 ms a narrative."""
    frame = frame.copy()
    frame["narrative"] = [scrub_text(t) if isinstance(t, str) else t for t in frame["narrative"]]
    return frame


def pending_provisional(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every provisional pattern member of a production hospital whose current version still
    waits for a coder (a case resolved since the last refresh is left out: it is no longer
    provisional), de-identified, with ``category`` = its suggested category for
    :func:`linked_mask`; sorted by (visit_date, hospital_code, case_id)."""
    frame = con.execute(
        """
        SELECT c.hospital_code, c.case_id, CAST(c.visit_datetime AS DATE) AS visit_date,
               c.visit_week, c.sex, c.age, c.age_unit, c.residence_region, c.cause, c.severity,
               c.outcome, c.injury_nature, c.body_region, c.product_name, c.brand, c.model,
               c.batch, c.barcode, c.product_category, p.category_code AS suggested_category,
               p.pattern_id, p.similarity, p.review_reason, c.product_relation, c.narrative
        FROM case_patterns_all p
        JOIN cases c ON c.hospital_code = p.hospital_code AND c.case_id = p.case_id
        JOIN ref_hospitals h ON h.hospital_code = c.hospital_code AND h.is_test = 'False'
        JOIN case_coding k ON k.hospital_code = c.hospital_code AND k.case_id = c.case_id
             AND k.case_version = c.version
        WHERE p.provisional AND c.status = 'active' AND k.needs_review
        ORDER BY visit_date, c.hospital_code, c.case_id
    """
    ).df()
    frame["visit_date"] = [
        d.date() if isinstance(d, pd.Timestamp) else d for d in frame["visit_date"]
    ]
    # Narratives as stored (scrubbed at intake): callers scrub the rows they keep (_scrubbed).
    frame = frame.reindex(columns=PROVISIONAL_COLUMNS).reset_index(drop=True)
    frame["category"] = frame["suggested_category"]
    return frame


def _provisional_of(
    pending: pd.DataFrame, subjects: list[dict], first: str, last: str, exclude: set
) -> pd.DataFrame:
    if pending.empty or not subjects:
        return _scrubbed(pending.reindex(columns=PROVISIONAL_COLUMNS))
    # linked_mask keeps the evidence window only: match the subjects within it (a signal's
    # window holds a few weeks of the pending cases), then drop its counted cases.
    ordinal = ordinals(pending["visit_week"])
    within = pending[(ordinal >= week_ordinal(first)) & (ordinal <= week_ordinal(last))]
    if not within.empty:
        mask, _ = linked_mask(within, subjects, first, last)
        within = within[mask]
    keys = zip(within["hospital_code"], within["case_id"], strict=True)
    within = within[[k not in exclude for k in keys]] if len(within) else within
    return _scrubbed(within.reindex(columns=PROVISIONAL_COLUMNS).reset_index(drop=True))


def signal_provisional(
    con: duckdb.DuckDBPyConnection, signal: dict, pending: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The signal's provisional members: review-pending cases placed in a pattern that the
    signal's rule links to it over its evidence window (``linked_mask``: its pattern members'
    patterns when it has any, the subjects of its other specific members, else its category),
    less any case already among its counted cases (a new term's review-pending cases).
    ``pending``: :func:`pending_provisional` of ``con`` when the caller already has it (read
    only, never changed)."""
    subjects = signal.get("subjects") or []
    if isinstance(subjects, str):
        subjects = json.loads(subjects)
    return _provisional_of(
        pending_provisional(con) if pending is None else pending,
        list(subjects),
        signal["onset_week"],
        signal["week"],
        set(signal_store.case_keys(signal)),
    )


def category_provisional(
    con: duckdb.DuckDBPyConnection, category: str, date_from: date, date_to: date
) -> pd.DataFrame:
    """Provisional members suggested ``category`` (placed in one of its patterns), visited
    between ``date_from`` and ``date_to`` (inclusive)."""
    pending = pending_provisional(con)
    keep = (
        (pending["suggested_category"] == category)
        & pending["visit_date"].map(lambda d: d is not None and date_from <= d <= date_to)
        if not pending.empty
        else pd.Series(dtype=bool)
    )
    return _scrubbed(pending[keep].reindex(columns=PROVISIONAL_COLUMNS).reset_index(drop=True))


def alert_trend(
    con: duckdb.DuckDBPyConnection,
    alert: dict,
    weeks: int = TREND_WEEKS,
    *,
    cases: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Weekly ``week, observed, expected, upper, alarm`` for the ``weeks`` weeks up to the
    alert's week, as detection stored them (``alert_series``): for series alerts the alert's
    own method at every week, for the others the weekly counts of their subject.

    No detector is re-run here. An alert without stored rows (detected before schema 2), or a
    dict whose type differs from the stored alert, gets the weekly counts of its subject from
    ``cases`` (:func:`pipeline.alerts.series.load_cases`; loaded when not given)."""
    stored = con.execute(
        """
        SELECT s.series_week AS week, s.observed, s.expected, s.upper, s.alarm
        FROM alert_series s
        JOIN alerts a ON a.week = s.week AND a.alert_id = s.alert_id
        WHERE s.week = ? AND s.alert_id = ? AND a.alert_type = ?
        ORDER BY s.series_week""",
        [alert["week"], alert["alert_id"], alert["alert_type"]],
    ).df()
    if not stored.empty:
        trend = stored.tail(weeks).reset_index(drop=True)
        trend["observed"] = trend["observed"].astype(float)
        trend["expected"] = trend["expected"].astype(float)
        trend["upper"] = trend["upper"].astype(float)
        trend["alarm"] = trend["alarm"].astype(bool)
        return trend[TREND_COLUMNS]
    return subject_trend(load_cases(con) if cases is None else cases, alert, weeks)


def signal_trend(
    con: duckdb.DuckDBPyConnection,
    signal: dict,
    lead: dict | None,
    cases: pd.DataFrame,
    weeks: int = TREND_WEEKS,
) -> pd.DataFrame:
    """The ``weeks`` weeks up to the signal's week: the stored series of its leading member
    alert (``lead``, with expected value and threshold where it has them) and, in
    ``signal_cases``, how many of the signal's own cases fell in each week."""
    span = week_range(add_weeks(signal["week"], -(weeks - 1)), signal["week"])
    own = cases["visit_week"].value_counts() if not cases.empty else pd.Series(dtype=int)
    if lead is not None:
        trend = alert_trend(con, lead, weeks)
        trend = (
            trend.set_index("week").reindex(span).reset_index().rename(columns={"index": "week"})
        )
        trend["observed"] = trend["observed"].fillna(0.0)
        trend["alarm"] = trend["alarm"].fillna(False).astype(bool)
    else:
        trend = pd.DataFrame(
            {
                "week": span,
                "observed": [float(own.get(w, 0)) for w in span],
                "expected": np.nan,
                "upper": np.nan,
                "alarm": [w == signal["week"] for w in span],
            }
        )
    trend = trend[TREND_COLUMNS].copy()
    trend["signal_cases"] = [int(own.get(w, 0)) for w in span]
    return trend
