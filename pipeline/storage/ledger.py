"""The submissions ledger: apply staged submissions to the lake and the warehouse, receipts.

Per submission, in the hospital's file order: lake files are written first (deterministic names,
so a re-run rewrites the same bytes), then the whole ledger/versions/cases/quarantine change is
one DuckDB transaction, then the receipt is written and the staging directory removed. A crash
anywhere leaves a state that the next run completes to exactly the uninterrupted result.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from pipeline.config import Settings
from pipeline.contract import SURVEY_FIELDS
from pipeline.intake.discover import LandingFile
from pipeline.intake.receipts import build_receipt, render_markdown
from pipeline.isoweek import format_iso_week
from pipeline.storage import lake
from pipeline.storage.warehouse import (
    CASE_FIELDS,
    CASE_VALUE_FIELDS,
    refresh_reference_tables,
    transaction,
)
from pipeline.validation.staging import read_meta, read_staged, staged_submission_dirs

# The survey design (NEISS weights) enters the hash only when a row has one, so the hashes of
# every case stored before those fields existed stay what they were.
CONTENT_FIELDS = [f for f in CASE_VALUE_FIELDS if f != "report_type" and f not in SURVEY_FIELDS]

LOADER_RULES = {
    "key_exists": (
        "case_id is already stored with different contents; send it with "
        "report_type=correction to change it",
        "该病例编号已存在且内容不同；如需修改请以 report_type=correction 报送",
    ),
    "correction_unknown_case": ("correction for a case that was never stored", "更正的病例不存在"),
    "void_unknown_case": ("void for a case that was never stored", "作废的病例不存在"),
    "case_voided": ("correction for a case that was voided", "更正的病例已作废"),
}


@dataclass
class LoadSummary:
    loaded: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)


def _text(value: object) -> str | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def content_hash(row: dict) -> str:
    """Hash of a row's values (report_type excluded): equal hashes mean an identical resend."""
    values = [_text(row[f]) for f in CONTENT_FIELDS]
    survey = [_text(row.get(f)) for f in SURVEY_FIELDS]
    if any(v is not None for v in survey):
        values += survey
    return hashlib.sha256(json.dumps(values, ensure_ascii=False).encode()).hexdigest()


def _quarantine_records(meta: dict, rows: pd.DataFrame, errors: pd.DataFrame) -> pd.DataFrame:
    by_row = rows.set_index("_row")
    records = []
    for err in errors.to_dict("records"):
        row = by_row.loc[err["_row"]] if err["_row"] in by_row.index else None
        if isinstance(row, pd.DataFrame):
            row = row.iloc[0]
        records.append(
            {
                "submission_id": meta["submission_id"],
                "hospital_code": meta["hospital_code"],
                "source_row": int(err["_row"]),
                "case_id": None if row is None else row["case_id"],
                **{k: err[k] for k in ("field", "value", "rule", "message_en", "message_zh")},
                "row_json": "{}" if row is None else _row_json(row),
            }
        )
    return pd.DataFrame.from_records(
        records,
        columns=[
            "submission_id",
            "hospital_code",
            "source_row",
            "case_id",
            "field",
            "value",
            "rule",
            "message_en",
            "message_zh",
            "row_json",
        ],
    )


def _row_json(row: pd.Series) -> str:
    return json.dumps(
        {f: (None if pd.isna(row[f]) else str(row[f])) for f in CASE_FIELDS},
        ensure_ascii=False,
        sort_keys=True,
    )


def _file_errors(meta: dict, rows: pd.DataFrame) -> pd.DataFrame:
    """Every readable row of a wholly rejected file, with the file's reason."""
    return pd.DataFrame(
        {
            "_row": rows["_row"],
            "field": "*",
            "value": None,
            "rule": meta["file_rule"],
            "message_en": meta["file_message"],
            "message_zh": meta["file_message"],
        }
    )


def _typed_versions(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for name in ("visit_datetime", "injury_datetime"):
        out[name] = pd.to_datetime(out[name], format="%Y-%m-%d %H:%M:%S", errors="coerce")
    out["age"] = pd.to_numeric(out["age"], errors="coerce")
    out["survey_weight"] = pd.to_numeric(out.get("survey_weight"), errors="coerce")
    out["visit_week"] = out["visit_datetime"].map(format_iso_week)
    return out


def apply_submission(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    meta: dict,
    rows: pd.DataFrame | None,
    errors: pd.DataFrame | None,
) -> str:
    """Apply one staged submission in one transaction; returns its status."""
    sid, hospital = meta["submission_id"], meta["hospital_code"]
    received_at = datetime.fromisoformat(meta["received_at"])
    processed_at = datetime.now(UTC).replace(tzinfo=None)
    events: list[tuple[str, str]] = [("received", meta["relpath"])]
    quarantine = pd.DataFrame()
    versions = pd.DataFrame()
    stored = duplicate = 0
    duplicate_of = None

    original = con.execute(
        "SELECT submission_id FROM submissions WHERE hospital_code=? AND sha256=? "
        "AND status <> 'duplicate' ORDER BY received_at, file_name LIMIT 1",
        [hospital, meta["sha256"]],
    ).fetchone()
    if original:
        status, duplicate_of = "duplicate", original[0]
        duplicate = meta["rows_received"]
        events.append(("duplicate", f"identical content to submission {duplicate_of}"))
    elif meta["file_rule"]:
        status = "rejected"
        if rows is not None:
            quarantine = _quarantine_records(meta, rows, _file_errors(meta, rows))
        events.append(("rejected", f"{meta['file_rule']}: {meta['file_message']}"))
    else:
        assert rows is not None and errors is not None
        duplicate = int(rows["_duplicate"].sum())
        failed = set(errors["_row"].astype(int))
        candidates = rows[~rows["_duplicate"] & ~rows["_row"].isin(failed)]
        versions, loader_errors, dup_rows = _decide_versions(con, sid, candidates, received_at)
        duplicate += dup_rows
        all_errors = pd.concat([errors, loader_errors], ignore_index=True)
        quarantine = _quarantine_records(meta, rows, all_errors)
        stored = len(versions)
        n_bad = quarantine["source_row"].nunique() if not quarantine.empty else 0
        status = "accepted" if n_bad == 0 else "rejected" if stored == 0 else "partially_accepted"
        events.append(
            (
                "validated",
                f"{len(rows)} rows: {stored} stored, {n_bad} quarantined, {duplicate} duplicate",
            )
        )
        events.append((status, None))

    quarantined = quarantine["source_row"].nunique() if not quarantine.empty else 0
    if status == "rejected" and meta["rows_received"]:
        # Rows read but not kept (e.g. ambiguous columns) still count: received = stored +
        # quarantined + duplicate holds for every submission.
        quarantined = max(quarantined, meta["rows_received"] - duplicate - stored)
    lake.write_submission_versions(settings.lake_location, sid, versions)
    with transaction(con):
        con.execute(
            "INSERT INTO submissions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                sid,
                hospital,
                meta["relpath"],
                meta["sha256"],
                meta["size_bytes"],
                received_at,
                processed_at,
                meta["file_format"],
                meta["encoding"],
                meta["header_language"],
                status,
                meta["rows_received"],
                stored,
                quarantined,
                duplicate,
                meta["file_rule"],
                meta["file_message"],
                meta["file_detail"],
                duplicate_of,
                json.dumps(meta["unknown_columns"], ensure_ascii=False),
            ],
        )
        for seq, (event, detail) in enumerate(events):
            con.execute(
                "INSERT INTO submission_events VALUES (?,?,?,?,?)",
                [sid, seq, event, processed_at, detail],
            )
        if not quarantine.empty:
            con.register("_q", quarantine)
            con.execute("INSERT INTO quarantine BY NAME SELECT * FROM _q")
            con.unregister("_q")
        if not versions.empty:
            con.register("_v", versions)
            con.execute("INSERT INTO case_versions BY NAME SELECT * EXCLUDE (status) FROM _v")
            con.execute(
                "INSERT OR REPLACE INTO cases BY NAME SELECT * FROM _v "
                "QUALIFY row_number() OVER (PARTITION BY hospital_code, case_id "
                "ORDER BY version DESC) = 1"
            )
            con.unregister("_v")
    return status


def _decide_versions(
    con: duckdb.DuckDBPyConnection, sid: str, rows: pd.DataFrame, received_at: datetime
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """New, correction and void rows against the current cases: versions to store, loader
    errors (quarantined) and the number of rows identical to what is stored."""
    if rows.empty:
        return pd.DataFrame(), pd.DataFrame(), 0
    hospital = rows["hospital_code"].iloc[0]
    con.register("_ids", pd.DataFrame({"case_id": rows["case_id"].unique()}))
    current = {
        cid: (ver, st, h)
        for cid, ver, st, h in con.execute(
            "SELECT c.case_id, c.version, c.status, c.content_hash FROM cases c "
            "JOIN _ids USING (case_id) WHERE c.hospital_code = ?",
            [hospital],
        ).fetchall()
    }
    con.unregister("_ids")
    keep, errs = [], []
    duplicates = 0
    for row in rows.sort_values("_row").to_dict("records"):
        digest = content_hash(row)
        state = current.get(row["case_id"])
        kind = row["report_type"]
        rule = None
        if kind == "new":
            if state is None:
                version, status = 1, "active"
            elif state[2] == digest and state[1] == "active":
                duplicates += 1
                continue
            else:
                rule = "key_exists"
        elif kind == "correction":
            if state is None:
                rule = "correction_unknown_case"
            elif state[1] == "void":
                rule = "case_voided"
            elif state[2] == digest:
                duplicates += 1
                continue
            else:
                version, status = state[0] + 1, "active"
        else:  # void
            if state is None:
                rule = "void_unknown_case"
            elif state[1] == "void":
                duplicates += 1
                continue
            else:
                version, status = state[0] + 1, "void"
        if rule:
            en, zh = LOADER_RULES[rule]
            errs.append(
                {
                    "_row": int(row["_row"]),
                    "field": "report_type",
                    "value": kind,
                    "rule": rule,
                    "message_en": en,
                    "message_zh": zh,
                }
            )
            continue
        current[row["case_id"]] = (version, status, digest)
        keep.append(
            {
                **{f: row[f] for f in CASE_FIELDS},
                "version": version,
                "status": status,
                "content_hash": digest,
                "submission_id": sid,
                "source_row": int(row["_row"]),
                "received_at": received_at,
            }
        )
    versions = _typed_versions(pd.DataFrame.from_records(keep)) if keep else pd.DataFrame()
    return versions, pd.DataFrame.from_records(errs), duplicates


def load_staged(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    progress: Callable[[dict], None] | None = None,
) -> LoadSummary:
    """Apply every staged submission, oldest first per hospital."""
    with transaction(con):
        refresh_reference_tables(con, settings.hospital_registry)
    summary = LoadSummary()
    staged = []
    for directory in staged_submission_dirs(settings):
        meta = read_meta(directory)
        staged.append((meta["hospital_code"], meta["order_key"], directory, meta))
    known = {sid for (sid,) in con.execute("SELECT submission_id FROM submissions").fetchall()}
    lake.remove_orphans(
        settings.lake_location, keep=known | {m["submission_id"] for *_, m in staged}
    )
    for _, _, directory, meta in sorted(staged, key=lambda s: s[:2]):
        sid = meta["submission_id"]
        if sid not in known:
            _, rows, errors = read_staged(directory)
            status = apply_submission(con, settings, meta, rows, errors)
            summary.statuses[status] = summary.statuses.get(status, 0) + 1
            summary.loaded.append(sid)
            known.add(sid)
        write_receipt(con, settings, sid)
        shutil.rmtree(directory)
        if progress:
            progress(meta)
    return summary


def known_files(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str, str]]:
    """(hospital, relative path, SHA-256) of every file in the ledger: discovery skips them."""
    return set(con.execute("SELECT hospital_code, file_name, sha256 FROM submissions").fetchall())


def new_files(con: duckdb.DuckDBPyConnection, files: list[LandingFile]) -> list[LandingFile]:
    seen = known_files(con)
    return [f for f in files if (f.hospital_code, f.relpath, f.sha256) not in seen]


# ---- receipts ------------------------------------------------------------------------------


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def receipt_from_warehouse(con: duckdb.DuckDBPyConnection, submission_id: str) -> dict:
    cursor = con.execute("SELECT * FROM submissions WHERE submission_id = ?", [submission_id])
    names = [d[0] for d in cursor.description]
    submission = dict(zip(names, cursor.fetchone(), strict=True))
    submission["unknown_columns"] = json.loads(submission["unknown_columns"] or "[]")
    cursor = con.execute(
        "SELECT source_row, field, value, rule, message_en, message_zh FROM quarantine "
        "WHERE submission_id = ?",
        [submission_id],
    )
    names = [d[0] for d in cursor.description]
    errors = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    return build_receipt(submission, errors, submission.get("file_detail"))


def write_receipt(con: duckdb.DuckDBPyConnection, settings: Settings, submission_id: str) -> Path:
    receipt = receipt_from_warehouse(con, submission_id)
    folder = settings.outbox_dir / receipt["hospital_code"]
    _atomic_write(
        folder / f"{submission_id}.json",
        json.dumps(receipt, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
    )
    _atomic_write(folder / f"{submission_id}.md", render_markdown(receipt))
    return folder / f"{submission_id}.md"
