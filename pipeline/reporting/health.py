"""Network health ("monitoring-site supervision", 哨点医院监测质量) per hospital.

Over a window of whole ISO weeks ending with the report week:

* timeliness: lag from the visit to the first receipt of the case (version 1: the receipt time
  the ledger recorded for the file that first carried it, converted from UTC to hospital local
  time like the visit), median in days, share received within 1 and within 7 days;
* completeness: share of cases with each key optional field filled ('unknown' counts as
  missing for place / activity);
* rejection: quarantined rows / received rows of the files received in the window (local days;
  byte-identical resends counted apart), files rejected outright, quarantined rows by rule;
* narrative quality: median length, share too short (< ``SHORT_NARRATIVE`` characters) and
  share templated (the same text, digits ignored, in >= ``TEMPLATE_REPEATS`` cases of the
  hospital in the window);
* product-code agreement: of the cases the hospital coded itself, the share whose code equals
  the classifier's prediction;
* silent hospitals: registered production hospitals, active on the window's last day, with no
  file received and no visit in the last ``SILENT_DAYS`` days; those that reported before
  "went silent", the others never reported (listed apart: a registry may hold hospitals that
  have not joined yet).

Only production hospitals count: test hospitals of the registry are left out of every figure
(and named apart). The metric functions take plain frames (unit-tested on hand-made rows);
``network_health`` reads them from the warehouse. Nothing uses the wall clock: the reference day is the last day
of the report week.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd

from pipeline.intake.prepare import HOSPITAL_TZ
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
    visit_datetime, received_at; both in hospital local time)."""
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
    """Per hospital: files, files_rejected (refused outright), files_duplicate (byte-identical
    resends), rows_received and rows_quarantined over the files that are not duplicate
    resends, and rejection_rate = rows_quarantined / rows_received (columns hospital_code,
    status, rows_received, rows_quarantined)."""
    duplicate = submissions["status"] == "duplicate"
    frame = submissions.assign(
        rejected=submissions["status"] == "rejected",
        duplicate=duplicate,
        rows_received=submissions["rows_received"].where(~duplicate, 0),
        rows_quarantined=submissions["rows_quarantined"].where(~duplicate, 0),
    )
    out = frame.groupby("hospital_code").agg(
        files=("status", "size"),
        files_rejected=("rejected", "sum"),
        files_duplicate=("duplicate", "sum"),
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
        text = value.strip()
        return date.fromisoformat(text[:10]) if text and text not in ("None", "NaT") else None
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value.date() if hasattr(value, "date") and callable(value.date) else value  # type: ignore[return-value]


PRODUCTION = "SELECT hospital_code FROM ref_hospitals WHERE is_test = 'False'"
COUNT_COLUMNS = (
    "cases",
    "files",
    "files_rejected",
    "files_duplicate",
    "rows_received",
    "rows_quarantined",
    "hospital_coded",
)
# Received times are stored in UTC (naive); visits are hospital local time (UTC+8).
LOCAL_OFFSET = pd.Timedelta(HOSPITAL_TZ.utcoffset(None))
_LOCAL_HOURS = int(LOCAL_OFFSET.total_seconds() // 3600)


def received_local_sql(column: str) -> str:
    """SQL for a stored (UTC) receipt time as hospital local time."""
    return f"({column} + INTERVAL {_LOCAL_HOURS} HOUR)"


def test_hospitals(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Registry codes of test hospitals: left out of every figure of every output."""
    return [
        code
        for (code,) in con.execute(
            "SELECT hospital_code FROM ref_hospitals WHERE is_test <> 'False' ORDER BY 1"
        ).fetchall()
    ]


def week_totals(con: duckdb.DuckDBPyConnection, week: str) -> dict:
    """Active cases of production hospitals visited in ``week`` and how many hospitals they
    came from (the weekly report's header)."""
    cases, hospitals = con.execute(
        f"""SELECT count(*), count(DISTINCT hospital_code) FROM cases
        WHERE status = 'active' AND visit_week = ? AND hospital_code IN ({PRODUCTION})""",
        [week],
    ).fetchone()
    return {"cases": int(cases), "hospitals": int(hospitals)}


def data_as_of(con: duckdb.DuckDBPyConnection) -> object:
    """The latest receipt of a production hospital's file (stored UTC), None before any."""
    return con.execute(
        f"SELECT max(received_at) FROM submissions WHERE hospital_code IN ({PRODUCTION})"
    ).fetchone()[0]


def _window_frames(
    con: duckdb.DuckDBPyConnection, start: date, end: date
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Cases (visited in the window), submissions (received in the window, local days), the
    hospital's own codes against the classifier, and quarantined rows by rule."""
    fields = ", ".join(f"c.{f}" for f in KEY_FIELDS)
    cases = con.execute(
        f"""
        SELECT c.hospital_code, c.visit_datetime, c.narrative, {fields},
               {received_local_sql("coalesce(v.received_at, c.received_at)")} AS received_at
        FROM cases c
        LEFT JOIN case_versions v ON v.hospital_code = c.hospital_code
             AND v.case_id = c.case_id AND v.version = 1
        WHERE c.status = 'active' AND c.hospital_code IN ({PRODUCTION})
          AND CAST(c.visit_datetime AS DATE) BETWEEN ? AND ?
    """,
        [start, end],
    ).df()
    received_day = f"CAST({received_local_sql('received_at')} AS DATE)"
    submissions = con.execute(
        f"""
        SELECT submission_id, hospital_code, status, rows_received, rows_quarantined
        FROM submissions
        WHERE hospital_code IN ({PRODUCTION}) AND {received_day} BETWEEN ? AND ?
    """,
        [start, end],
    ).df()
    coded = con.execute(
        f"""
        SELECT c.hospital_code, c.product_category, k.model_category
        FROM cases c JOIN case_coding k ON k.hospital_code = c.hospital_code
             AND k.case_id = c.case_id AND k.case_version = c.version
        WHERE c.status = 'active' AND c.hospital_code IN ({PRODUCTION})
          AND CAST(c.visit_datetime AS DATE) BETWEEN ? AND ?""",
        [start, end],
    ).df()
    rules = con.execute(
        f"""
        SELECT q.hospital_code, q.rule, count(DISTINCT (q.submission_id, q.source_row)) AS rows
        FROM quarantine q JOIN submissions s USING (submission_id)
        WHERE s.hospital_code IN ({PRODUCTION}) AND s.status <> 'duplicate'
          AND CAST({received_local_sql("s.received_at")} AS DATE) BETWEEN ? AND ?
        GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2""",
        [start, end],
    ).df()
    return cases, submissions, coded, rules


def _last_seen(con: duckdb.DuckDBPyConnection, end: date) -> tuple[pd.Series, pd.Series]:
    """Per hospital, the local day of its latest file received and of its latest visit, up to
    ``end``."""
    received_day = f"CAST({received_local_sql('received_at')} AS DATE)"
    last_received = con.execute(
        f"SELECT hospital_code, max({received_day}) FROM submissions "
        f"WHERE {received_day} <= ? GROUP BY 1",
        [end],
    ).fetchall()
    last_visit = con.execute(
        "SELECT hospital_code, max(CAST(visit_datetime AS DATE)) FROM cases "
        "WHERE status = 'active' AND CAST(visit_datetime AS DATE) <= ? GROUP BY 1",
        [end],
    ).fetchall()
    return (
        pd.Series(dict(last_received), dtype=object),
        pd.Series(dict(last_visit), dtype=object),
    )


def _json_value(column: str, value: object) -> object:
    """Counts as int, shares and medians rounded; whole numbers as int (34, not 34.0)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if column in COUNT_COLUMNS:
        return int(value)  # type: ignore[call-overload]
    number = round(float(value), 4)  # type: ignore[arg-type]
    return int(number) if number.is_integer() and column == "median_length" else number


def network_health(
    con: duckdb.DuckDBPyConnection,
    week: str,
    weeks: int = HEALTH_WEEKS,
    silent_days: int = SILENT_DAYS,
) -> dict:
    """The network-health section of the weekly report (plain data, JSON-ready).

    Production hospitals only (test hospitals are named in ``test_hospitals`` and counted
    nowhere). One row per production hospital with cases visited or files received in the
    window, or that went silent; ``network`` holds the same figures over all of them."""
    first = add_weeks(week, -(weeks - 1))
    start = iso_week_monday(first)
    end = iso_week_monday(week) + timedelta(days=6)
    cases, submissions, coded, rules = _window_frames(con, start, end)
    registry = con.execute("SELECT * FROM ref_hospitals ORDER BY hospital_code").df()
    last_received, last_visit = _last_seen(con, end)

    parts = [
        timeliness(cases),
        completeness(cases),
        rejection(submissions),
        narrative_quality(cases),
        code_agreement(coded),
    ]
    table = pd.concat(parts, axis=1).sort_index()
    silent = silent_hospitals(registry, last_received, last_visit, end, silent_days)
    went_silent = silent.loc[silent["ever_reported"].astype(bool)]
    silent_codes = set(went_silent["hospital_code"])
    table = table.reindex(sorted(set(table.index) | silent_codes))
    # Nothing received or visited is a count of 0, not a blank.
    for column in COUNT_COLUMNS:
        table[column] = table[column].fillna(0) if column in table else 0
    by_rule = {
        code: [{"rule": r, "rows": int(n)} for r, n in zip(g["rule"], g["rows"], strict=True)]
        for code, g in rules.groupby("hospital_code")
    }
    names = _names(registry)
    rows = []
    for code, row in table.iterrows():
        record: dict = {"hospital_code": code, **names.get(code, {})}
        for column, value in row.items():
            record[column] = _json_value(str(column), value)
        record["flags"] = _flags(record)
        record["silent"] = code in silent_codes
        record["quarantine_rules"] = by_rule.get(code, [])
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
        "network": _network_totals(cases, submissions, coded, silent_codes),
        "silent": [
            {
                **{
                    k: (v.isoformat() if isinstance(v, date) else v)
                    for k, v in r.items()
                    if k not in ("ever_reported", "days_silent")
                },
                # a count of days (the frame holds it as a float next to missing values)
                "days_silent": None if pd.isna(r["days_silent"]) else int(r["days_silent"]),
                **names.get(r["hospital_code"], {}),
            }
            for r in went_silent.to_dict("records")
        ],
        "never_reported": sorted(
            silent.loc[~silent["ever_reported"].astype(bool), "hospital_code"]
        ),
        "test_hospitals": test_hospitals(con),
    }


def _names(registry: pd.DataFrame) -> dict[str, dict]:
    """Hospital and city names by code (zh and en), from the registry copy."""
    columns = ("name_zh", "name_en", "city_zh", "city_en")
    return {
        r["hospital_code"]: {c: (None if pd.isna(r.get(c)) else r.get(c)) for c in columns}
        for r in registry.to_dict("records")
    }


def _network_totals(
    cases: pd.DataFrame, submissions: pd.DataFrame, coded: pd.DataFrame, silent: set[str]
) -> dict:
    """The same metrics over every production hospital of the window (one pooled row)."""
    pooled = {
        "cases": cases.assign(hospital_code="*"),
        "submissions": submissions.assign(hospital_code="*"),
        "coded": coded.assign(hospital_code="*"),
    }
    parts = [
        timeliness(pooled["cases"]),
        completeness(pooled["cases"]),
        rejection(pooled["submissions"]),
        narrative_quality(pooled["cases"]),
        code_agreement(pooled["coded"]),
    ]
    table = pd.concat(parts, axis=1).reindex(["*"])
    record: dict = {
        column: _json_value(str(column), value) for column, value in table.iloc[0].items()
    }
    for column in COUNT_COLUMNS:
        record[column] = record.get(column) or 0
    record["hospitals_reporting"] = int(cases["hospital_code"].nunique())
    record["hospitals_silent"] = len(silent)
    record["flags"] = _flags(record)
    return record


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
