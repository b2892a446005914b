"""What the warehouse holds, per hospital: the ``sentinel network report`` figures."""

from __future__ import annotations

import duckdb
import pandas as pd

from pipeline.intake.discover import LandingFile

HOSPITAL_COLUMNS = [
    "hospital",
    "files",
    "accepted",
    "partial",
    "rejected",
    "duplicate",
    "rows in",
    "stored",
    "quarantined",
    "dup rows",
    "active cases",
    "first visit",
    "last visit",
]


def warehouse_summary(con: duckdb.DuckDBPyConnection) -> dict:
    """Submissions, rows, cases and quarantine by hospital; quarantined rows by rule; the
    number of submissions whose rows do not add up (received != stored + quarantined +
    duplicate: always 0 unless something is wrong)."""
    per_hospital = con.execute("""
        SELECT s.hospital_code,
               count(*) AS files,
               count(*) FILTER (WHERE status = 'accepted') AS accepted,
               count(*) FILTER (WHERE status = 'partially_accepted') AS partial,
               count(*) FILTER (WHERE status = 'rejected') AS rejected,
               count(*) FILTER (WHERE status = 'duplicate') AS duplicate,
               sum(rows_received) AS received, sum(rows_stored) AS stored,
               sum(rows_quarantined) AS quarantined, sum(rows_duplicate) AS dup_rows,
               (SELECT count(*) FROM cases c WHERE c.hospital_code = s.hospital_code
                AND c.status = 'active') AS active_cases,
               (SELECT min(visit_datetime)::DATE FROM cases c
                WHERE c.hospital_code = s.hospital_code) AS first_visit,
               (SELECT max(visit_datetime)::DATE FROM cases c
                WHERE c.hospital_code = s.hospital_code) AS last_visit
        FROM submissions s GROUP BY 1 ORDER BY 1""").fetchall()
    rules = con.execute(
        "SELECT rule, count(DISTINCT (submission_id, source_row)) AS n "
        "FROM quarantine GROUP BY 1 ORDER BY 2 DESC, 1"
    ).fetchall()
    unbalanced = con.execute(
        "SELECT count(*) FROM submissions "
        "WHERE rows_received <> rows_stored + rows_quarantined + rows_duplicate"
    ).fetchone()[0]
    return {"hospitals": per_hospital, "rules": rules, "unbalanced": int(unbalanced)}


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
                "files": len(mine),
                "bytes": sum(f.size_bytes for f in mine),
                "first_file": mine[0].relpath.rsplit("/", 1)[-1],
                "last_file": mine[-1].relpath.rsplit("/", 1)[-1],
            }
        )
    return rows


__all__ = ["HOSPITAL_COLUMNS", "landing_summary", "warehouse_summary"]
