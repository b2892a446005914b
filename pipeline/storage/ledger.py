"""The submissions ledger: apply staged submissions to the lake and the warehouse, receipts.

Per submission, in the hospital's file order: lake files are written first (deterministic names,
so a re-run rewrites the same bytes), then the whole ledger/versions/cases/quarantine change is
one DuckDB transaction, then the receipt is written and the staging directory removed. A crash
anywhere leaves a state that the next run completes to exactly the uninterrupted result.

What a submission *would* do is decided by :func:`plan_submission` from a connection that may
be read-only: ingest applies the plan, ``sentinel validate`` reports it from the published
snapshot, so a dry run predicts the checks against stored cases (duplicate file, ``key_exists``,
corrections, voids) exactly as ingest will make them.

The ledger also owns the pseudonym key's fingerprint (table ``pseudonym_key``): the first ingest
records it, and any later ingest or dry run with a different key stops (``KeyMismatch``).
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
import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline.config import Settings
from pipeline.contract import SURVEY_FIELDS
from pipeline.errors import KeyMismatch
from pipeline.escaping import one_line
from pipeline.intake import messages
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
    rule: (
        messages.row_message(rule, "report_type", "en"),
        messages.row_message(rule, "report_type", "zh"),
    )
    for rule in ("key_exists", "correction_unknown_case", "void_unknown_case", "case_voided")
}
QUARANTINE_COLUMNS = [
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
]
SUBMISSION_COLUMNS = [
    "submission_id",
    "hospital_code",
    "file_name",
    "sha256",
    "size_bytes",
    "received_at",
    "processed_at",
    "file_format",
    "encoding",
    "header_language",
    "status",
    "rows_received",
    "rows_stored",
    "rows_quarantined",
    "rows_duplicate",
    "file_rule",
    "file_message",
    "file_detail",
    "duplicate_of",
    "unknown_columns",
    "arrival_source",
]


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


def _text_column(values: pd.Series) -> list[str | None]:
    """``_text`` of every value of a column (plain lists: a daily file's columns are short,
    and pandas' per-call overhead would cost more than the values)."""
    return [v if type(v) is str else _text(v) for v in values.to_numpy(dtype=object).tolist()]


def content_hashes(frame: pd.DataFrame) -> list[str]:
    """:func:`content_hash` of every row of ``frame``, column by column (equal to it row for
    row, checked by a test)."""
    n = len(frame)
    columns = [_text_column(frame[f]) for f in CONTENT_FIELDS]
    survey = [_text_column(frame[f]) if f in frame.columns else [None] * n for f in SURVEY_FIELDS]
    with_design = np.zeros(n, dtype=bool)
    for values in survey:
        with_design |= np.fromiter((v is not None for v in values), dtype=bool, count=n)
    dumps, sha = json.dumps, hashlib.sha256
    out = (
        [
            sha(dumps(list(values), ensure_ascii=False).encode()).hexdigest()
            for values in zip(*columns, strict=True)
        ]
        if n
        else []
    )
    for i in np.flatnonzero(with_design):
        values = [c[i] for c in columns] + [c[i] for c in survey]
        out[i] = sha(dumps(values, ensure_ascii=False).encode()).hexdigest()
    return out


def _quarantine_records(meta: dict, rows: pd.DataFrame, errors: pd.DataFrame) -> pd.DataFrame:
    """One quarantine record per error, with its row's case id and values as JSON (the first
    row of that number; "{}" for an error on a row not in ``rows``). Columnar: the rows are
    looked up by a join, and each failing row's JSON is written once."""
    if errors.empty:
        return pd.DataFrame(columns=QUARANTINE_COLUMNS)
    source = errors["_row"].astype("int64").to_numpy()
    first = rows.drop_duplicates("_row", keep="first")
    first = first[first["_row"].isin(set(source.tolist()))].set_index("_row")
    position = first.index.get_indexer(source)  # -1: no such row
    found = position >= 0
    jsons = np.array(_row_jsons(first) + ["{}"], dtype=object)
    case_ids = np.array([*first["case_id"].astype(object).tolist(), None], dtype=object)
    out = pd.DataFrame(
        {
            "submission_id": meta["submission_id"],
            "hospital_code": meta["hospital_code"],
            "source_row": source,
            "case_id": np.where(found, case_ids[position], None),
            **{
                k: errors[k].to_numpy(dtype=object)
                for k in ("field", "value", "rule", "message_en", "message_zh")
            },
            "row_json": jsons[position],
        },
        columns=QUARANTINE_COLUMNS,
    )
    return out


def _row_jsons(frame: pd.DataFrame) -> list[str]:
    """Each row's fields as sorted JSON (missing as null, every value as text)."""
    columns = [
        [None if pd.isna(v) else str(v) for v in frame[f].to_numpy(dtype=object)]
        for f in CASE_FIELDS
    ]
    return (
        [
            json.dumps(
                dict(zip(CASE_FIELDS, values, strict=True)), ensure_ascii=False, sort_keys=True
            )
            for values in zip(*columns, strict=True)
        ]
        if len(frame)
        else []
    )


def _file_errors(meta: dict, rows: pd.DataFrame, errors: pd.DataFrame | None) -> pd.DataFrame:
    """The rows of a file rejected whole: each row's own errors, and the file's reason for
    every row without one (so each row is quarantined and the receipt hides no row error)."""
    own = errors if errors is not None else pd.DataFrame(columns=["_row"])
    bare = rows.loc[~rows["_row"].isin(set(own["_row"])), "_row"]
    params = meta.get("file_params") or {}
    reason = pd.DataFrame(
        {
            "_row": bare,
            "field": "*",
            "value": None,
            "rule": meta["file_rule"],
            "message_en": messages.file_message(meta["file_rule"], "en", params),
            "message_zh": messages.file_message(meta["file_rule"], "zh", params),
        }
    )
    columns = ["_row", "field", "value", "rule", "message_en", "message_zh"]
    parts = [frame[columns] for frame in (own, reason) if not frame.empty]
    return pd.concat(parts, ignore_index=True) if parts else reason[columns]


def _typed_versions(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (a fresh frame of versions, changed in place: no second copy of a large
    file's versions) with typed dates, numbers and the visit week."""
    out = frame
    for name in ("visit_datetime", "injury_datetime"):
        out[name] = pd.to_datetime(out[name], format="%Y-%m-%d %H:%M:%S", errors="coerce")
    out["age"] = pd.to_numeric(out["age"], errors="coerce")
    out["survey_weight"] = pd.to_numeric(out.get("survey_weight"), errors="coerce")
    out["visit_week"] = out["visit_datetime"].map(format_iso_week)
    return out


@dataclass
class Outcome:
    """What a staged submission does to the warehouse (decided, not yet written)."""

    status: str
    stored: int
    quarantined: int
    duplicate: int
    duplicate_of: str | None
    language: str
    versions: pd.DataFrame
    quarantine: pd.DataFrame
    events: list[tuple[str, str | None]]


def receipt_language(con: duckdb.DuckDBPyConnection | None, meta: dict) -> str:
    """The language of the file's headers; for a file whose header row could not be read,
    that of the hospital's latest submission; else Chinese."""
    if meta.get("header_language"):
        return messages.receipt_language(meta["header_language"])
    if con is not None:
        row = con.execute(
            "SELECT header_language FROM submissions WHERE hospital_code = ? AND "
            "header_language IS NOT NULL ORDER BY received_at DESC, file_name DESC LIMIT 1",
            [meta["hospital_code"]],
        ).fetchone()
        if row:
            return messages.receipt_language(row[0])
    return "zh"


def plan_submission(
    con: duckdb.DuckDBPyConnection | None,
    meta: dict,
    rows: pd.DataFrame | None,
    errors: pd.DataFrame | None,
) -> Outcome:
    """Decide what one staged submission does. ``con`` may be read-only (a published snapshot,
    for a dry run) or None (no warehouse yet: nothing stored)."""
    sid, hospital = meta["submission_id"], meta["hospital_code"]
    received_at = datetime.fromisoformat(meta["received_at"])
    events: list[tuple[str, str | None]] = [("received", one_line(meta["relpath"]))]
    quarantine = pd.DataFrame(columns=QUARANTINE_COLUMNS)
    versions = pd.DataFrame()
    stored = duplicate = 0
    duplicate_of = None

    original = None
    if con is not None:
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
            quarantine = _quarantine_records(meta, rows, _file_errors(meta, rows, errors))
        events.append(("rejected", one_line(f"{meta['file_rule']}: {meta['file_message']}")))
    else:
        assert rows is not None and errors is not None
        duplicate = int(rows["_duplicate"].sum())
        failed = set(errors["_row"].astype(int))
        candidates = rows[~rows["_duplicate"] & ~rows["_row"].isin(failed)]
        versions, loader_errors, dup_rows = _decide_versions(con, sid, candidates, received_at)
        duplicate += dup_rows
        all_errors = pd.concat(
            [e for e in (errors, loader_errors) if not e.empty] or [errors], ignore_index=True
        )
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
    return Outcome(
        status=status,
        stored=stored,
        quarantined=int(quarantined),
        duplicate=int(duplicate),
        duplicate_of=duplicate_of,
        language=receipt_language(con, meta),
        versions=versions,
        quarantine=quarantine,
        events=events,
    )


def submission_record(meta: dict, outcome: Outcome, processed_at: datetime) -> dict:
    """The ledger row of a planned submission (file-level texts in the receipt's language)."""
    rule, params = meta["file_rule"], meta.get("file_params") or {}
    lang = outcome.language
    return {
        "submission_id": meta["submission_id"],
        "hospital_code": meta["hospital_code"],
        "file_name": meta["relpath"],
        "sha256": meta["sha256"],
        "size_bytes": meta["size_bytes"],
        "received_at": datetime.fromisoformat(meta["received_at"]),
        "processed_at": processed_at,
        "file_format": meta["file_format"],
        "encoding": meta["encoding"],
        "header_language": lang,
        "status": outcome.status,
        "rows_received": meta["rows_received"],
        "rows_stored": outcome.stored,
        "rows_quarantined": outcome.quarantined,
        "rows_duplicate": outcome.duplicate,
        "file_rule": rule if outcome.status != "duplicate" else None,
        "file_message": (
            messages.file_message(rule, lang, params)
            if rule and outcome.status != "duplicate"
            else None
        ),
        "file_detail": (
            messages.file_advice(rule, lang, params)
            if rule and outcome.status != "duplicate"
            else None
        ),
        "duplicate_of": outcome.duplicate_of,
        "unknown_columns": json.dumps(meta["unknown_columns"], ensure_ascii=False),
        "arrival_source": meta.get("arrival_source"),
    }


def apply_submission(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    meta: dict,
    rows: pd.DataFrame | None,
    errors: pd.DataFrame | None,
    lake_files: list[str] | None = None,
) -> str:
    """Apply one staged submission in one transaction; returns its status. ``lake_files``:
    the submission's lake files already there (default: listed here)."""
    sid = meta["submission_id"]
    processed_at = datetime.now(UTC).replace(tzinfo=None)
    outcome = plan_submission(con, meta, rows, errors)
    record = submission_record(meta, outcome, processed_at)
    lake.write_submission_versions(settings.lake_location, sid, outcome.versions, lake_files)
    with transaction(con):
        con.execute(
            f"INSERT INTO submissions ({', '.join(SUBMISSION_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in SUBMISSION_COLUMNS)})",
            [record[c] for c in SUBMISSION_COLUMNS],
        )
        if outcome.events:  # one statement for all of them (each costs a round trip)
            con.execute(
                "INSERT INTO submission_events VALUES "
                + ", ".join("(?,?,?,?,?)" for _ in outcome.events),
                [
                    value
                    for seq, (event, detail) in enumerate(outcome.events)
                    for value in (sid, seq, event, processed_at, detail)
                ],
            )
        if not outcome.quarantine.empty:
            con.register("_q", outcome.quarantine)
            con.execute("INSERT INTO quarantine BY NAME SELECT * FROM _q")
            con.unregister("_q")
        # As Arrow (DuckDB scans it natively; a frame of Python strings row by row), in slices
        # of ``chunk_rows``: one Arrow copy of a slice at a time, not of the whole file. The
        # versions are in file order, so a case's later slice holds its later versions and
        # its INSERT OR REPLACE leaves the latest one, as one statement over every row would.
        step = settings.intake.chunk_rows
        for start in range(0, len(outcome.versions), step):
            part = outcome.versions.iloc[start : start + step]
            con.register("_v", pa.Table.from_pandas(part, preserve_index=False))
            con.execute("INSERT INTO case_versions BY NAME SELECT * EXCLUDE (status) FROM _v")
            con.execute(
                "INSERT OR REPLACE INTO cases BY NAME SELECT * FROM _v "
                "QUALIFY row_number() OVER (PARTITION BY hospital_code, case_id "
                "ORDER BY version DESC) = 1"
            )
            con.unregister("_v")
            del part
    return outcome.status


def _decide_one(
    kind: object, state: tuple[int, str, str] | None, digest: str
) -> tuple[str, int, str] | str | None:
    """One row against its case's current (version, status, hash): ("store", version, status),
    a loader rule (quarantined), or None (identical to what is stored: a duplicate)."""
    if kind == "new":
        if state is None:
            return ("store", 1, "active")
        if state[2] == digest and state[1] == "active":
            return None
        return "key_exists"
    if kind == "correction":
        if state is None:
            return "correction_unknown_case"
        if state[1] == "void":
            return "case_voided"
        if state[2] == digest:
            return None
        return ("store", state[0] + 1, "active")
    # void
    if state is None:
        return "void_unknown_case"
    if state[1] == "void":
        return None
    return ("store", state[0] + 1, "void")


def _decide_columnar(
    kind: np.ndarray,
    known: np.ndarray,
    version: np.ndarray,
    status: np.ndarray,
    stored_hash: np.ndarray,
    digest: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_decide_one` over columns (rows of distinct cases): rule per row ("" = none),
    store flag, new version and new status."""
    is_new, is_corr = kind == "new", kind == "correction"
    is_void = ~is_new & ~is_corr
    voided = known & (status == "void")
    same = known & (stored_hash == digest)
    rule = np.full(len(kind), "", dtype=object)
    rule[is_new & known & ~(same & (status == "active"))] = "key_exists"
    rule[is_corr & ~known] = "correction_unknown_case"
    rule[is_corr & voided] = "case_voided"
    rule[is_void & ~known] = "void_unknown_case"
    duplicate = (
        (is_new & same & (status == "active")) | (is_corr & ~voided & same) | (is_void & voided)
    )
    store = (rule == "") & ~duplicate
    new_version = np.where(known, version + 1, 1)
    new_status = np.where(is_void, "void", "active").astype(object)
    return rule, store, new_version, new_status


def _decide_versions(
    con: duckdb.DuckDBPyConnection | None, sid: str, rows: pd.DataFrame, received_at: datetime
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """New, correction and void rows against the current cases: versions to store, loader
    errors (quarantined) and the number of rows identical to what is stored.

    Columnar: the rows of a case that occurs once in the file (nearly all) are decided over
    whole columns; the few cases with several rows (e.g. new then correction) go row by row in
    file order, each row seeing its case as the earlier rows left it. The outcome is the same
    as deciding every row in file order (cases do not affect each other)."""
    if rows.empty:
        return pd.DataFrame(), pd.DataFrame(), 0
    hospital = rows["hospital_code"].iloc[0]
    rows = rows.sort_values("_row", kind="stable").reset_index(drop=True)
    case_ids = rows["case_id"].astype(object).where(rows["case_id"].notna(), None)
    stored: dict[str, tuple[int, str, str]] = {}
    if con is not None:
        # A parameter, not a registered frame: the connection may be a read-only snapshot.
        ids = [str(c) for c in case_ids.dropna().unique()]
        stored = {
            cid: (int(ver), st, h)
            for cid, ver, st, h in con.execute(
                "SELECT c.case_id, c.version, c.status, c.content_hash FROM cases c "
                "JOIN (SELECT unnest(?::VARCHAR[]) AS case_id) USING (case_id) "
                "WHERE c.hospital_code = ?",
                [ids, hospital],
            ).fetchall()
        }
    n = len(rows)
    digests = np.asarray(content_hashes(rows), dtype=object)
    kind = rows["report_type"].to_numpy(dtype=object)
    # Each row's case as stored (dictionary look-ups: pandas' join costs more on daily files).
    found = [stored.get(c) for c in case_ids.tolist()]
    known = np.fromiter((f is not None for f in found), dtype=bool, count=n)
    version = np.fromiter((f[0] if f else 0 for f in found), dtype=np.int64, count=n)
    status = np.array([f[1] if f else None for f in found], dtype=object)
    stored_hash = np.array([f[2] if f else None for f in found], dtype=object)

    repeated = case_ids.duplicated(keep=False).to_numpy() & case_ids.notna().to_numpy()
    rule, store, new_version, new_status = _decide_columnar(
        kind, known, version, status, stored_hash, digests
    )
    if repeated.any():
        # Cases with several rows: in file order, each stored row updating its case's state.
        state = dict(stored)
        for i in np.flatnonzero(repeated):
            decided = _decide_one(kind[i], state.get(case_ids.iloc[i]), digests[i])
            rule[i], store[i] = "", False
            if isinstance(decided, tuple):
                _, new_version[i], new_status[i] = decided
                store[i] = True
                state[case_ids.iloc[i]] = (int(new_version[i]), new_status[i], digests[i])
            elif decided is not None:
                rule[i] = decided
    duplicates = int((~store & (rule == "")).sum())

    failed = np.flatnonzero(rule != "")
    errs = (
        pd.DataFrame(
            {
                "_row": rows["_row"].to_numpy(dtype="int64")[failed],
                "field": "report_type",
                "value": kind[failed],
                "rule": rule[failed],
                "message_en": [LOADER_RULES[r][0] for r in rule[failed]],
                "message_zh": [LOADER_RULES[r][1] for r in rule[failed]],
            }
        )
        if len(failed)
        else pd.DataFrame()
    )
    if not store.any():
        return pd.DataFrame(), errs, duplicates
    kept = rows.loc[store, CASE_FIELDS].reset_index(drop=True)
    kept["version"] = new_version[store]
    kept["status"] = new_status[store]
    kept["content_hash"] = digests[store]
    kept["submission_id"] = sid
    kept["source_row"] = rows["_row"].to_numpy(dtype="int64")[store]
    kept["received_at"] = received_at
    return _typed_versions(kept), errs, duplicates


# ---- the pseudonym key's fingerprint ---------------------------------------------------------


def stored_key_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    row = con.execute("SELECT fingerprint FROM pseudonym_key LIMIT 1").fetchone()
    return row[0] if row else None


def check_key(con: duckdb.DuckDBPyConnection, fingerprint: str, *, record: bool) -> None:
    """Refuse a key other than the one the warehouse was built with (``KeyMismatch``, exit 8);
    with ``record``, a warehouse without a fingerprint yet takes this one (the first ingest, or
    a warehouse from before fingerprints: its stored pseudonyms are assumed to use this key)."""
    stored = stored_key_fingerprint(con)
    if stored is None:
        if record:
            with transaction(con):
                con.execute(
                    "INSERT INTO pseudonym_key VALUES (?, ?)",
                    [fingerprint, datetime.now(UTC).replace(tzinfo=None)],
                )
        return
    if stored != fingerprint:
        raise KeyMismatch(
            f"this warehouse was built with the key of fingerprint {stored[:12]}, but "
            f"SENTINEL_PSEUDONYM_KEY has fingerprint {fingerprint[:12]}: set the key the "
            "warehouse was built with (pseudonyms made with another key would not link to the "
            "stored ones; docs/operations.md, section 3); nothing was changed",
            detail_zh=f"此数据仓库使用的密钥指纹为 {stored[:12]}，而 SENTINEL_PSEUDONYM_KEY 的"
            f"指纹为 {fingerprint[:12]}：请设置建库时使用的密钥（用其他密钥生成的假名无法与已存"
            "的假名关联；见 docs/operations.md 第 3 节）；未做任何改动",
        )


def load_staged(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    progress: Callable[[dict], None] | None = None,
) -> LoadSummary:
    """Apply every staged submission, oldest first per hospital. Staged files keyed with
    another pseudonym key than the warehouse's are refused before anything is applied."""
    summary = LoadSummary()
    staged = []
    for directory in staged_submission_dirs(settings):
        meta = read_meta(directory)
        staged.append((meta["hospital_code"], meta["order_key"], directory, meta))
    for fingerprint in sorted({m["key_fingerprint"] for *_, m in staged if "key_fingerprint" in m}):
        check_key(con, fingerprint, record=True)
    with transaction(con):
        refresh_reference_tables(con, settings.hospital_registry)
    known = {sid for (sid,) in con.execute("SELECT submission_id FROM submissions").fetchall()}
    lake.remove_orphans(
        settings.lake_location, keep=known | {m["submission_id"] for *_, m in staged}
    )
    # One listing for the whole load (not one per submission: quadratic in a long backfill);
    # only this writer changes the lake while it runs.
    lake_files = lake.files_by_submission(settings.lake_location)
    for _, _, directory, meta in sorted(staged, key=lambda s: s[:2]):
        sid = meta["submission_id"]
        if sid not in known:
            _, rows, errors = read_staged(directory)
            status = apply_submission(con, settings, meta, rows, errors, lake_files.get(sid, []))
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
    return build_receipt(submission, errors)


def write_receipt(con: duckdb.DuckDBPyConnection, settings: Settings, submission_id: str) -> Path:
    receipt = receipt_from_warehouse(con, submission_id)
    folder = settings.outbox_dir / receipt["hospital_code"]
    _atomic_write(
        folder / f"{submission_id}.json",
        json.dumps(receipt, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
    )
    _atomic_write(folder / f"{submission_id}.md", render_markdown(receipt))
    return folder / f"{submission_id}.md"
