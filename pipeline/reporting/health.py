"""Network health ("monitoring-site supervision", 哨点医院监测质量) per hospital.

Over a window of whole ISO weeks ending with the report week:

* timeliness: lag from the visit to the first receipt of the case (version 1), median in days,
  share received within 1 and within 7 days;
* completeness: share of cases with each key optional field filled ('unknown' counts as
  missing for place / activity);
* rejection: quarantined rows / received rows of the files received in the window, and files
  rejected outright;
* narrative quality: median length, share too short (< ``SHORT_NARRATIVE`` characters) and
  share templated (the same text, digits ignored, in >= ``TEMPLATE_REPEATS`` cases of the
  hospital in the window);
* product-code agreement: of the cases the hospital coded itself, the share whose code equals
  the classifier's prediction;
* silent hospitals: registered production hospitals, active on the window's last day, with no
  file received and no visit in the last ``SILENT_DAYS`` days; those that reported before
  "went silent", the others never reported (listed apart: a registry may hold hospitals that
  have not joined yet).

The metric functions take plain frames (unit-tested on hand-made rows); ``network_health``
reads them from the warehouse. Nothing uses the wall clock: the reference day is the last day
of the report week.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd

from pipeline.isoweek import add_weeks, iso_week_monday

HEALTH_WEEKS = 4
SILENT_DAYS = 14
SHORT_NARRATIVE = 15
TEMPLATE_REPEATS = 3
KEY_FIELDS = (
    "injury_datetime",
    "residence_region",
    "place",
    "activity",
    "product_name",
    "product_category",
)
# Cells outside these bounds are flagged in the report.
TARGETS = {
    "within_7d": 0.9,
    "completeness": 0.8,
    "rejection_rate": 0.05,
    "share_short": 0.1,
    "share_templated": 0.2,
    "agreement": 0.8,
}
_DIGITS = re.compile(r"[0-9０-９]+")
_SPACE = re.compile(r"\s+")


def _filled(values: pd.Series, field: str) -> pd.Series:
    text = values.astype("string").str.strip()
    filled = values.notna() & (text.fillna("") != "")
    if field in ("place", "activity"):
        filled &= text.fillna("") != "unknown"
    return filled.astype(bool)


def timeliness(cases: pd.DataFrame) -> pd.DataFrame:
    """Per hospital: cases, median_lag_days, within_1d, within_7d (columns hospital_code,
    visit_datetime, received_at)."""
    frame = cases.assign(
        lag=(
            pd.to_datetime(cases["received_at"]) - pd.to_datetime(cases["visit_datetime"])
        ).dt.total_seconds()
        / 86400.0
    )
    out = frame.groupby("hospital_code").agg(
        cases=("lag", "size"),
        median_lag_days=("lag", "median"),
        within_1d=("lag", lambda s: float((s <= 1).mean())),
        within_7d=("lag", lambda s: float((s <= 7).mean())),
    )
    return out


def completeness(cases: pd.DataFrame, fields: tuple[str, ...] = KEY_FIELDS) -> pd.DataFrame:
    """Per hospital: share filled per field and their mean (``completeness``)."""
    present = [f for f in fields if f in cases.columns]
    filled = pd.DataFrame({f: _filled(cases[f], f) for f in present})
    filled["hospital_code"] = cases["hospital_code"].to_numpy()
    out = filled.groupby("hospital_code")[present].mean()
    out["completeness"] = out[present].mean(axis=1)
    return out.rename(columns={f: f"filled_{f}" for f in present})


def rejection(submissions: pd.DataFrame) -> pd.DataFrame:
    """Per hospital: files, files_rejected, rows_received, rows_quarantined, rejection_rate
    (columns hospital_code, status, rows_received, rows_quarantined)."""
    frame = submissions.assign(rejected=submissions["status"] == "rejected")
    out = frame.groupby("hospital_code").agg(
        files=("status", "size"),
        files_rejected=("rejected", "sum"),
        rows_received=("rows_received", "sum"),
        rows_quarantined=("rows_quarantined", "sum"),
    )
    received = out["rows_received"].astype(float)
    out["rejection_rate"] = np.where(
        received > 0, out["rows_quarantined"] / received.where(received > 0, 1.0), np.nan
    )
    return out


def _template_key(text: object) -> str:
    return _SPACE.sub(" ", _DIGITS.sub("#", str(text))).strip().lower()


def narrative_quality(cases: pd.DataFrame) -> pd.DataFrame:
    """Per hospital: median_length, share_short, share_templated (columns hospital_code,
    narrative)."""
    text = cases["narrative"].fillna("").astype(str)
    frame = pd.DataFrame(
        {
            "hospital_code": cases["hospital_code"].to_numpy(),
            "length": text.str.strip().str.len().to_numpy(),
            "key": text.map(_template_key).to_numpy(),
        }
    )
    repeats = frame.groupby(["hospital_code", "key"])["key"].transform("size")
    frame["short"] = frame["length"] < SHORT_NARRATIVE
    frame["templated"] = (repeats >= TEMPLATE_REPEATS) & (frame["key"] != "")
    return frame.groupby("hospital_code").agg(
        median_length=("length", "median"),
        share_short=("short", "mean"),
        share_templated=("templated", "mean"),
    )


def code_agreement(coded: pd.DataFrame) -> pd.DataFrame:
    """Per hospital: hospital_coded (cases with a code from the hospital and a model
    prediction) and agreement (share equal) (columns hospital_code, product_category,
    model_category)."""
    usable = coded.dropna(subset=["product_category", "model_category"])
    usable = usable[usable["product_category"].astype(str).str.strip() != ""]
    frame = usable.assign(agree=usable["product_category"] == usable["model_category"])
    return frame.groupby("hospital_code").agg(
        hospital_coded=("agree", "size"), agreement=("agree", "mean")
    )


def silent_hospitals(
    registry: pd.DataFrame,
    last_received: pd.Series,
    last_visit: pd.Series,
    reference: date,
    days: int = SILENT_DAYS,
) -> pd.DataFrame:
    """Production hospitals active on ``reference`` with neither a file received nor a visit
    in the ``days`` days up to ``reference``. ``last_received`` / ``last_visit``: dates indexed
    by hospital_code (missing = never)."""
    rows = []
    cutoff = reference - timedelta(days=days)
    for hospital in registry.to_dict("records"):
        if str(hospital.get("is_test")) in ("True", "true", "1"):
            continue
        start, end = _day(hospital.get("active_from")), _day(hospital.get("active_to"))
        if (start and start > reference) or (end and end < reference):
            continue
        code = hospital["hospital_code"]
        received, visit = _day(last_received.get(code)), _day(last_visit.get(code))
        if (received is None or received <= cutoff) and (visit is None or visit <= cutoff):
            latest = max([d for d in (received, visit) if d], default=None)
            rows.append(
                {
                    "hospital_code": code,
                    "last_received": received,
                    "last_visit": visit,
                    "days_silent": (reference - latest).days if latest else None,
                    "ever_reported": latest is not None,
                }
            )
    return pd.DataFrame(
        rows,
        columns=["hospital_code", "last_received", "last_visit", "days_silent", "ever_reported"],
    )


def _day(value: object) -> date | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, str):
        return date.fromisoformat(value[:10]) if value.strip() else None
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value.date() if hasattr(value, "date") and callable(value.date) else value  # type: ignore[return-value]


def network_health(
    con: duckdb.DuckDBPyConnection,
    week: str,
    weeks: int = HEALTH_WEEKS,
    silent_days: int = SILENT_DAYS,
) -> dict:
    """The network-health section of the weekly report (plain data, JSON-ready)."""
    first = add_weeks(week, -(weeks - 1))
    start = iso_week_monday(first)
    end = iso_week_monday(week) + timedelta(days=6)
    production = (
        "hospital_code IN (SELECT hospital_code FROM ref_hospitals WHERE is_test = 'False')"
    )
    fields = ", ".join(f"c.{f}" for f in KEY_FIELDS)
    cases = con.execute(
        f"""
        SELECT c.hospital_code, c.visit_datetime, c.narrative, {fields},
               coalesce(v.received_at, c.received_at) AS received_at
        FROM cases c
        LEFT JOIN case_versions v ON v.hospital_code = c.hospital_code
             AND v.case_id = c.case_id AND v.version = 1
        WHERE c.status = 'active' AND c.{production}
          AND CAST(c.visit_datetime AS DATE) BETWEEN ? AND ?
    """,
        [start, end],
    ).df()
    submissions = con.execute(
        f"""
        SELECT hospital_code, status, rows_received, rows_quarantined FROM submissions
        WHERE {production} AND CAST(received_at AS DATE) BETWEEN ? AND ?
    """,
        [start, end],
    ).df()
    coded = con.execute(
        f"""
        SELECT c.hospital_code, c.product_category, k.model_category
        FROM cases c JOIN case_coding k ON k.hospital_code = c.hospital_code
             AND k.case_id = c.case_id AND k.case_version = c.version
        WHERE c.status = 'active' AND c.{production}
          AND CAST(c.visit_datetime AS DATE) BETWEEN ? AND ?""",
        [start, end],
    ).df()
    registry = con.execute("SELECT * FROM ref_hospitals ORDER BY hospital_code").df()
    last_received = (
        con.execute(
            "SELECT hospital_code, max(received_at) FROM submissions "
            "WHERE CAST(received_at AS DATE) <= ? GROUP BY 1",
            [end],
        )
        .df()
        .set_index("hospital_code")
        .iloc[:, 0]
    )
    last_visit = (
        con.execute(
            "SELECT hospital_code, max(visit_datetime) FROM cases WHERE status = 'active' "
            "AND CAST(visit_datetime AS DATE) <= ? GROUP BY 1",
            [end],
        )
        .df()
        .set_index("hospital_code")
        .iloc[:, 0]
    )

    parts = [
        timeliness(cases),
        completeness(cases),
        rejection(submissions),
        narrative_quality(cases),
        code_agreement(coded),
    ]
    table = pd.concat(parts, axis=1).sort_index()
    silent = silent_hospitals(registry, last_received, last_visit, end, silent_days)
    went_silent = silent[silent["ever_reported"]]
    table = table.reindex(sorted(set(table.index) | set(went_silent["hospital_code"])))
    rows = []
    for code, row in table.iterrows():
        record = {"hospital_code": code}
        for column, value in row.items():
            record[column] = (
                None
                if pd.isna(value)
                else (
                    int(value)
                    if column
                    in (
                        "cases",
                        "files",
                        "files_rejected",
                        "rows_received",
                        "rows_quarantined",
                        "hospital_coded",
                    )
                    else round(float(value), 4)
                )
            )
        record["flags"] = _flags(record)
        record["silent"] = code in set(went_silent["hospital_code"])
        rows.append(record)
    return {
        "window": {
            "from_week": first,
            "to_week": week,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "weeks": weeks,
        },
        "silent_days": silent_days,
        "targets": TARGETS,
        "key_fields": list(KEY_FIELDS),
        "hospitals": rows,
        "silent": [
            {
                k: (v.isoformat() if isinstance(v, date) else v)
                for k, v in r.items()
                if k != "ever_reported"
            }
            for r in went_silent.to_dict("records")
        ],
        "never_reported": sorted(silent.loc[~silent["ever_reported"], "hospital_code"]),
    }


def _flags(record: dict) -> list[str]:
    """Metrics outside their target (names of the offending columns)."""
    flags = []
    for column, target in TARGETS.items():
        value = record.get(column)
        if value is None:
            continue
        low_is_bad = column in ("within_7d", "completeness", "agreement")
        if (value < target) if low_is_bad else (value > target):
            flags.append(column)
    return flags
