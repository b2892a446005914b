"""Network service: the landing zone against the registry, what the warehouse holds, and the
supervision figures (monitoring-site supervision) the weekly report, the CLI and the web
coordinator page show."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipeline import reference
from pipeline.alerts.weekly import default_week
from pipeline.config import Settings
from pipeline.errors import BadInput, NotFound
from pipeline.intake.discover import scan_landing
from pipeline.intake.receipts import build_receipt
from pipeline.isoweek import is_iso_week
from pipeline.reporting.health import HEALTH_WEEKS, SILENT_DAYS, network_health
from pipeline.reporting.network import landing_summary, warehouse_summary
from pipeline.storage.session import Snapshots, open_reader, read_cached, reader


def summary(settings: Settings, landing: Path | None = None) -> tuple[Path, list[dict]]:
    """The landing directory and, per hospital folder, what it holds."""
    landing = (landing or settings.landing_dir).resolve()
    registry = reference.load_hospitals(settings.hospital_registry)
    return landing, landing_summary(scan_landing(landing), registry)


def report(settings: Settings) -> dict:
    """Per hospital: submissions, rows, cases and quarantine (from the published snapshot);
    see :func:`pipeline.reporting.network.warehouse_summary`."""
    with reader(settings) as con:
        return warehouse_summary(con)


# ---- the coordinator's and the clerks' pages (published snapshot only) ---------------------

SUBMISSION_COLUMNS = (
    "submission_id",
    "hospital_code",
    "file_name",
    "received_at",
    "processed_at",
    "file_format",
    "header_language",
    "status",
    "rows_received",
    "rows_stored",
    "rows_quarantined",
    "rows_duplicate",
    "file_rule",
    "duplicate_of",
)


def latest_week(con: duckdb.DuckDBPyConnection) -> str | None:
    """The week the network figures are for: the latest ISO week with a visit."""
    rows = con.execute("SELECT max(visit_week) FROM cases WHERE status = 'active'").fetchall()
    return rows[0][0] if rows and rows[0][0] else None


def health(
    settings: Settings,
    week: str | None = None,
    weeks: int = HEALTH_WEEKS,
    silent_days: int = SILENT_DAYS,
    *,
    snapshots: Snapshots | None = None,
) -> dict | None:
    """Monitoring-site supervision over the ``weeks`` weeks ending with ``week`` (default: the
    latest week with visits), exactly as the weekly report shows it
    (:func:`pipeline.reporting.health.network_health`, plus ``week``); None without data. Each
    hospital row also carries its last file received and its days without any."""
    if week is not None and not is_iso_week(week):
        raise BadInput(f"{week!r} is not an ISO week like 2026-W14")
    if weeks < 1 or silent_days < 1:
        raise BadInput("--weeks and --silent-days must be at least 1")
    return read_cached(
        settings,
        snapshots,
        ("network.health", week, weeks, silent_days),
        lambda c: _health(c, week, weeks, silent_days),
    )


def _health(
    con: duckdb.DuckDBPyConnection, week: str | None, weeks: int, silent_days: int
) -> dict | None:
    if latest_week(con) is None:
        return None
    week = week or default_week(con)
    data = {"week": week, **network_health(con, week, weeks, silent_days)}
    last = dict(
        con.execute("SELECT hospital_code, max(received_at) FROM submissions GROUP BY 1").fetchall()
    )
    end = date.fromisoformat(data["window"]["to"])
    for row in data["hospitals"]:
        received = last.get(row["hospital_code"])
        row["last_received"] = received
        row["silent_days"] = (end - received.date()).days if received is not None else None
    return data


def submissions(
    settings: Settings,
    hospital: str | None = None,
    *,
    limit: int = 200,
    snapshots: Snapshots | None = None,
) -> list[dict]:
    """The ledger, newest first (one hospital's or everyone's)."""
    where, params = ("WHERE hospital_code = ?", [hospital]) if hospital else ("", [])
    with open_reader(settings, snapshots) as con:
        frame = con.execute(
            f"SELECT {', '.join(SUBMISSION_COLUMNS)} FROM submissions {where} "
            f"ORDER BY received_at DESC, submission_id DESC LIMIT {int(limit)}",
            params,
        ).df()
    return [_plain_row(r) for r in frame.to_dict("records")]


def submission_history(
    settings: Settings, hospital: str, weeks: int = 26, *, snapshots: Snapshots | None = None
) -> list[dict]:
    """Per ISO week of receipt: files, rows received, rows quarantined, files rejected."""
    with open_reader(settings, snapshots) as con:
        rows = con.execute(
            """
            SELECT strftime(received_at, '%G-W%V') AS week, count(*) AS files,
                   sum(rows_received) AS received, sum(rows_quarantined) AS quarantined,
                   count(*) FILTER (WHERE status = 'rejected') AS rejected
            FROM submissions WHERE hospital_code = ? GROUP BY 1 ORDER BY 1""",
            [hospital],
        ).fetchall()
    out = [
        {
            "week": w,
            "files": int(f),
            "received": int(r or 0),
            "quarantined": int(q or 0),
            "rejected": int(x),
        }
        for w, f, r, q, x in rows
    ]
    return out[-weeks:]


def submission(
    settings: Settings, submission_id: str, *, snapshots: Snapshots | None = None
) -> dict:
    """One submission: its ledger row, status history and receipt (the JSON written to the
    hospital's outbox; rebuilt from the ledger and quarantine when the file is missing).
    NotFound when it does not exist."""
    with open_reader(settings, snapshots) as con:
        frame = con.execute(
            "SELECT * FROM submissions WHERE submission_id = ?", [submission_id]
        ).df()
        if frame.empty:
            raise NotFound(f"no submission {submission_id}", detail_zh=f"没有报送 {submission_id}")
        row = _plain_row(frame.iloc[0].to_dict())
        events = [
            _plain_row(e)
            for e in con.execute(
                "SELECT seq, status, event_at, detail FROM submission_events "
                "WHERE submission_id = ? ORDER BY seq",
                [submission_id],
            )
            .df()
            .to_dict("records")
        ]
        errors = con.execute(
            "SELECT source_row, field, value, rule, message_en, message_zh FROM quarantine "
            "WHERE submission_id = ? ORDER BY source_row, field, rule",
            [submission_id],
        ).df()
    receipt = _stored_receipt(settings, row["hospital_code"], submission_id)
    if receipt is None:
        # file_detail travels in the row (the intake branch's signature)
        receipt = build_receipt(row, [_plain_row(e) for e in errors.to_dict("records")])
    return {"submission": row, "events": events, "receipt": receipt}


def _stored_receipt(settings: Settings, hospital: str, submission_id: str) -> dict | None:
    folder = (settings.outbox_dir / hospital).resolve()
    path = (folder / f"{submission_id}.json").resolve()
    if path.parent != folder or not path.is_file():  # an id can never leave the outbox
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _plain_row(row: dict) -> dict:
    out = {}
    for key, value in row.items():
        if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
            out[key] = None
        elif isinstance(value, pd.Timestamp):
            out[key] = value.to_pydatetime()
        elif isinstance(value, np.generic):
            out[key] = value.item()
        else:
            out[key] = value
    return out
