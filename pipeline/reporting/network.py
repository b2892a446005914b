"""What the warehouse holds, per hospital: the ``sentinel network report`` figures.

Production hospitals are listed and totalled; test hospitals of the registry are listed apart
and counted in no total (the same rule as every report). Names and cities come from the
registry copy in the warehouse (``ref_hospitals``)."""

from __future__ import annotations

import duckdb
import pandas as pd

from pipeline.intake.discover import LandingFile
from pipeline.reporting.health import received_local_sql

COUNT_COLUMNS = (
    "files",
    "accepted",
    "partial",
    "rejected",
    "duplicate",
    "rows_received",
    "rows_stored",
    "rows_quarantined",
    "rows_duplicate",
    "active_cases",
)
# (key, header) of the CLI table, in order.
HOSPITAL_COLUMNS = [
    ("hospital", "hospital"),
    ("files", "files"),
    ("accepted", "accepted"),
    ("partial", "partial"),
    ("rejected", "rejected"),
    ("duplicate", "duplicate"),
    ("rows_received", "rows in"),
    ("rows_stored", "stored"),
    ("rows_quarantined", "quarantined"),
    ("rows_duplicate", "dup rows"),
    ("active_cases", "active cases"),
    ("first_visit", "first visit"),
    ("last_visit", "last visit"),
]


def _records(frame: pd.DataFrame) -> list[dict]:
    out = []
    for row in frame.to_dict("records"):
        record = {}
        for key, value in row.items():
            if key in COUNT_COLUMNS:
                record[key] = 0 if pd.isna(value) else int(value)
            elif value is None or (not isinstance(value, str) and pd.isna(value)):
                record[key] = None
            else:
                record[key] = value.isoformat() if hasattr(value, "isoformat") else value
        out.append(record)
    return out


def warehouse_summary(con: duckdb.DuckDBPyConnection) -> dict:
    """Per hospital (production ones in ``hospitals``, test ones in ``test_hospitals``):
    files by status, rows received / stored / quarantined / duplicate, active cases, first and
    last visit, name and city; ``totals`` over the production hospitals; quarantined rows by
    rule and field (production hospitals); ``unbalanced``: submissions (any hospital) whose
    rows do not add up (received != stored + quarantined + duplicate; 0 unless something is
    wrong); ``last_received``: the latest receipt of a production hospital's file (local
    time)."""
    per_hospital = con.execute(f"""
        WITH files AS (
            SELECT hospital_code,
                   count(*) AS files,
                   count(*) FILTER (WHERE status = 'accepted') AS accepted,
                   count(*) FILTER (WHERE status = 'partially_accepted') AS partial,
                   count(*) FILTER (WHERE status = 'rejected') AS rejected,
                   count(*) FILTER (WHERE status = 'duplicate') AS duplicate,
                   sum(rows_received) AS rows_received, sum(rows_stored) AS rows_stored,
                   sum(rows_quarantined) AS rows_quarantined,
                   sum(rows_duplicate) AS rows_duplicate,
                   max({received_local_sql("received_at")}) AS last_received
            FROM submissions GROUP BY 1),
        visits AS (
            SELECT hospital_code,
                   count(*) FILTER (WHERE status = 'active') AS active_cases,
                   CAST(min(CAST(visit_datetime AS DATE)) AS VARCHAR) AS first_visit,
                   CAST(max(CAST(visit_datetime AS DATE)) AS VARCHAR) AS last_visit
            FROM cases GROUP BY 1)
        SELECT f.hospital_code, h.name_zh, h.name_en, h.city_zh, h.city_en,
               coalesce(h.is_test, 'False') <> 'False' AS is_test,
               f.files, f.accepted, f.partial, f.rejected, f.duplicate, f.rows_received,
               f.rows_stored, f.rows_quarantined, f.rows_duplicate,
               coalesce(v.active_cases, 0) AS active_cases, v.first_visit, v.last_visit,
               f.last_received
        FROM files f LEFT JOIN visits v USING (hospital_code)
        LEFT JOIN ref_hospitals h USING (hospital_code)
        ORDER BY f.hospital_code""").df()
    rules = con.execute("""
        SELECT q.rule, string_agg(DISTINCT q.field, ', ' ORDER BY q.field) AS fields,
               count(DISTINCT (q.submission_id, q.source_row)) AS rows
        FROM quarantine q
        WHERE q.hospital_code IN (SELECT hospital_code FROM ref_hospitals WHERE is_test = 'False')
        GROUP BY 1 ORDER BY 3 DESC, 1""").fetchall()
    unbalanced = con.execute(
        "SELECT count(*) FROM submissions "
        "WHERE rows_received <> rows_stored + rows_quarantined + rows_duplicate"
    ).fetchone()[0]
    test = per_hospital["is_test"].astype(bool)
    production = per_hospital[~test].drop(columns="is_test")
    totals = {c: int(production[c].sum()) for c in COUNT_COLUMNS}
    totals["hospitals"] = len(production)
    last = production["last_received"].max() if not production.empty else None
    return {
        "hospitals": _records(production.drop(columns="last_received")),
        "test_hospitals": _records(per_hospital[test].drop(columns=["is_test", "last_received"])),
        "totals": totals,
        "rules": [{"rule": r, "fields": f, "rows": int(n)} for r, f, n in rules],
        "unbalanced": int(unbalanced),
        "last_received": None if last is None or pd.isna(last) else last.isoformat(),
    }


def hospital_submissions(
    con: duckdb.DuckDBPyConnection, hospital_code: str, limit: int = 200
) -> list[dict]:
    """The hospital's files, newest first: id, file name, receipt time (UTC as stored and
    hospital local), status, rows received / stored / quarantined / duplicate, the file-level
    rule of a rejected file, and the original of a duplicate."""
    frame = con.execute(
        f"""
        SELECT submission_id, file_name, received_at AS received_at_utc,
               {received_local_sql("received_at")} AS received_at_local, status,
           rows_received, rows_stored, rows_quarantined, rows_duplicate, file_rule,
               duplicate_of
        FROM submissions WHERE hospital_code = ?
        ORDER BY received_at DESC, file_name DESC LIMIT ?""",
        [hospital_code, limit],
    ).df()
    return _records(frame)


def landing_summary(files: list[LandingFile], registry: pd.DataFrame) -> list[dict]:
    """Per landing folder: registered or not, type, files, size, first and last file."""
    registry = registry.set_index("hospital_code")
    rows = []
    for code in sorted({f.hospital_code for f in files}):
        mine = [f for f in files if f.hospital_code == code]
        known = code in registry.index
        rows.append(
            {
                "hospital": code,
                "registered": known,
                "type": registry.at[code, "hospital_type"] if known else None,
                "is_test": bool(registry.at[code, "is_test"]) if known else False,
                "files": len(mine),
                "bytes": sum(f.size_bytes for f in mine),
                "first_file": mine[0].relpath.rsplit("/", 1)[-1],
                "last_file": mine[-1].relpath.rsplit("/", 1)[-1],
            }
        )
    return rows


__all__ = ["HOSPITAL_COLUMNS", "hospital_submissions", "landing_summary", "warehouse_summary"]
