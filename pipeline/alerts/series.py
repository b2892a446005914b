"""Weekly case series from the warehouse, each with a denominator.

Series: cases per product category, per hazard pattern and per category x residence city
(first four digits of the GB/T 2260 code). The denominator of a week is every injury case
reported that week by the hospitals that reported at all, so a hospital going silent or joining
moves the denominator with the counts and is not mistaken for a hazard.

Only active cases from production hospitals count; a case whose product coding is waiting for
coder review is left out of the statistics until it is resolved (its narrative still counts for
new-term detection: :func:`load_review_pending`).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from pipeline.detection.series import WeeklySeries
from pipeline.isoweek import week_ordinal, week_range

CASE_COLUMNS = (
    "hospital_code",
    "case_id",
    "visit_week",
    "residence_region",
    "severity",
    "outcome",
    "injury_nature",
    "body_region",
    "age",
    "age_unit",
    "narrative",
    "category",
    "pattern_id",
    "pattern_week",
    "product_name",
)


def load_cases(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Active cases of production hospitals with their final category and hazard pattern.

    The source is the ``coded_cases`` view: final codings of each case's current version only
    (cases waiting for coder review are left out, as are cases not coded yet) and a NULL
    category when no product was involved.
    """
    # pattern_week: the week the clusterer put the case in its pattern; a backfill of week W
    # must not see pattern memberships decided later (see ``as_of``).
    return con.execute("""
        SELECT c.hospital_code, c.case_id, c.visit_week, c.residence_region, c.severity,
               c.outcome, c.injury_nature, c.body_region, c.age, c.age_unit, c.narrative,
               c.category_code AS category, cp.pattern_id AS pattern_id,
               cp.assigned_week AS pattern_week, c.product_name
        FROM coded_cases c
        JOIN ref_hospitals h ON h.hospital_code = c.hospital_code AND h.is_test = 'False'
        LEFT JOIN case_patterns cp ON cp.hospital_code = c.hospital_code
             AND cp.case_id = c.case_id
        WHERE c.status = 'active'
        ORDER BY c.hospital_code, c.case_id  -- one order: samples of it (report terms) repeat
    """).df()


def load_review_pending(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Active cases of production hospitals that :func:`load_cases` leaves out because their
    current version has no final coding (waiting for coder review, or not coded yet); same
    columns, with a NULL category and pattern.

    New-term detection reads narratives, not categories, and a new product is exactly what
    the coder sends to review (``unknown_product_name``): leaving these cases out would hide a
    new term until a coder had resolved its cases.
    """
    return con.execute("""
        SELECT c.hospital_code, c.case_id, c.visit_week, c.residence_region, c.severity,
               c.outcome, c.injury_nature, c.body_region, c.age, c.age_unit, c.narrative,
               NULL::VARCHAR AS category, NULL::VARCHAR AS pattern_id,
               NULL::VARCHAR AS pattern_week, c.product_name
        FROM cases c
        JOIN ref_hospitals h ON h.hospital_code = c.hospital_code AND h.is_test = 'False'
        WHERE c.status = 'active'
          AND NOT EXISTS (SELECT 1 FROM case_coding k
                          WHERE k.hospital_code = c.hospital_code AND k.case_id = c.case_id
                            AND k.case_version = c.version AND NOT k.needs_review)
    """).df()


def ordinals(weeks: pd.Series) -> pd.Series:
    """Week ordinals of a column of ISO weeks (None/NaN -> -1), parsing each distinct week
    once (a backfill maps the same 66,000 weeks many times)."""
    table = {w: week_ordinal(w) for w in weeks.dropna().unique()}
    return weeks.map(table).fillna(-1).astype("int64")


def as_of(cases: pd.DataFrame, week: str) -> pd.DataFrame:
    """``cases`` as a run in ``week`` would have seen them: visits up to ``week`` and pattern
    memberships assigned up to ``week`` (a case that joined a candidate cluster promoted to a
    pattern later is unpatterned until then). Cases without ``pattern_week`` keep their
    pattern."""
    now = week_ordinal(week)
    out = cases[ordinals(cases["visit_week"]) <= now]
    if "pattern_week" in out.columns:
        later = ordinals(out["pattern_week"]) > now
        if later.any():
            out = out.copy()
            out.loc[later, "pattern_id"] = None
    return out


def city_of(region: object) -> str | None:
    return f"{region[:4]}00" if isinstance(region, str) and len(region) == 6 else None


def build_panel(cases: pd.DataFrame, start_week: str, end_week: str) -> WeeklySeries:
    """Category, pattern and category x city series from ``start_week`` to ``end_week``, with
    one shared denominator (every case reported that week)."""
    weeks = week_range(start_week, end_week)
    position = {w: i for i, w in enumerate(weeks)}
    frame = cases[cases["visit_week"].isin(position)].copy()
    frame["w"] = frame["visit_week"].map(position)
    frame["city"] = frame["residence_region"].map(city_of)
    denominator = np.bincount(frame["w"], minlength=len(weeks)).astype(float)

    parts = []
    specs = (
        ("category", ["category"], lambda k: k[0]),
        ("pattern", ["category", "pattern_id"], lambda k: k[1]),
        ("category_region", ["category", "city"], lambda k: f"{k[0]}@{k[1]}"),
    )
    for kind, keys, subject in specs:
        usable = frame.dropna(subset=keys)
        if usable.empty:
            continue
        grouped = usable.groupby([*keys, "w"], sort=True).size()
        table = grouped.unstack("w", fill_value=0).reindex(columns=range(len(weeks)), fill_value=0)
        for key, row in zip(table.index, table.to_numpy(), strict=True):
            key = key if isinstance(key, tuple) else (key,)
            parts.append(
                (
                    {
                        "series_id": f"{kind}:{subject(key)}",
                        "kind": kind,
                        "subject": subject(key),
                        "category": key[0],
                        "pattern_id": key[1] if kind == "pattern" else None,
                        "region": key[1] if kind == "category_region" else None,
                    },
                    row.astype(float),
                )
            )
    meta = pd.DataFrame(
        [p[0] for p in parts],
        columns=["series_id", "kind", "subject", "category", "pattern_id", "region"],
    )
    counts = np.vstack([p[1] for p in parts]) if parts else np.zeros((0, len(weeks)), dtype=float)
    return WeeklySeries(weeks=weeks, meta=meta, counts=counts, denominator=denominator)


def first_week(cases: pd.DataFrame) -> str:
    return min(cases["visit_week"], key=week_ordinal)


def age_group(age: float, unit: str) -> str:
    """The age band a case falls in (used by disproportionality and the reports)."""
    years = age if unit == "years" else age / 12 if unit == "months" else age / 365.25
    if pd.isna(years):
        return "unknown"
    return (
        "infant"
        if years < 1
        else "toddler"
        if years < 5
        else "child"
        if years < 15
        else "adult"
        if years < 65
        else "older"
    )
