"""The submissions ledger: apply staged submissions to the lake and the warehouse, receipts.

Per submission, in the hospital's file order, in one DuckDB transaction: its staged rows are
read a piece at a time (``SENTINEL_CHUNK_ROWS``), each piece decided against the cases as the
transaction shows them and its versions and quarantine inserted; then the lake files are
written (deterministic names, so a re-run rewrites the same bytes), then the ledger row; the
commit; then the receipt is written and the staging directory removed. A crash anywhere leaves
a state that the next run completes to exactly the uninterrupted result.

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
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

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
from pipeline.validation.staging import ERRORS, ROWS, read_meta, staged_submission_dirs

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


def _file_reason(meta: dict, source_rows: pd.Series) -> pd.DataFrame:
    """The file's reason (a file rejected whole) as the error of each of ``source_rows``."""
    params = meta.get("file_params") or {}
    return pd.DataFrame(
        {
            "_row": source_rows,
            "field": "*",
            "value": None,
            "rule": meta["file_rule"],
            "message_en": messages.file_message(meta["file_rule"], "en", params),
            "message_zh": messages.file_message(meta["file_rule"], "zh", params),
        }
    )


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
        ).fetchall()
        if row:
            return messages.receipt_language(row[0][0])
    return "zh"


ERROR_FIELDS = ["_row", "field", "value", "rule", "message_en", "message_zh"]
# Called with each piece's versions to store and quarantine records, before the next piece is
# decided (the load inserts them there, so the next piece reads its cases as they now are).
PieceSink = Callable[[pd.DataFrame, pd.DataFrame], None]


def plan_submission(
    con: duckdb.DuckDBPyConnection | None,
    meta: dict,
    rows: pd.DataFrame | None,
    errors: pd.DataFrame | None,
) -> Outcome:
    """Decide what one staged submission does, from its rows and errors as frames (the
    one-piece case of :func:`plan_pieces`). ``con`` may be read-only (a published snapshot,
    for a dry run) or None (no warehouse yet: nothing stored)."""
    return plan_pieces(con, meta, None if rows is None else [rows], errors, carry=())


def plan_staged(con: duckdb.DuckDBPyConnection | None, directory: Path, chunk_rows: int) -> Outcome:
    """:func:`plan_submission` of a staged directory, its rows read ``chunk_rows`` at a time
    (a dry run of a large file without holding it). The outcome's ``versions`` are left
    empty; counts, status, events and quarantine equal those of the whole plan."""
    meta = read_meta(directory)
    errors = read_staged_errors(directory)
    if errors is None:
        return plan_pieces(con, meta, None, None)
    # Only the cases with several rows can see a version decided in an earlier piece: carry
    # those (a dry run writes nothing, so its connection does not see its own decisions).
    ids = pq.read_table(directory / ROWS, columns=["case_id"])["case_id"]
    counts = pc.value_counts(ids.drop_null())
    repeated = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
    carry = set(repeated.to_pylist())
    del ids, counts, repeated
    return plan_pieces(
        con, meta, staged_pieces(directory, chunk_rows), errors, carry=carry, keep_versions=False
    )


def staged_pieces(directory: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """A staged submission's rows in file order, ``chunk_rows`` at a time."""
    parquet = pq.ParquetFile(directory / ROWS)
    try:
        for batch in parquet.iter_batches(batch_size=max(1, chunk_rows)):
            yield batch.to_pandas()
    finally:
        parquet.close()


def read_staged_errors(directory: Path) -> pd.DataFrame | None:
    """A staged submission's row errors (few: read whole); None for a file without rows."""
    if not (directory / ROWS).exists():
        return None
    return pd.read_parquet(directory / ERRORS)


def plan_pieces(
    con: duckdb.DuckDBPyConnection | None,
    meta: dict,
    pieces: Iterable[pd.DataFrame] | None,
    errors: pd.DataFrame | None,
    *,
    carry: Collection[str] | None = None,
    sink: PieceSink | None = None,
    keep_versions: bool = True,
) -> Outcome:
    """Decide what a staged submission does, its rows (``pieces``, in file order) one piece at
    a time; the outcome is that of deciding them all at once (file order: a case's row sees
    the versions its earlier rows decided, in this piece or an earlier one).

    The rows of a piece are decided against ``cases`` as ``con`` shows it, overlaid by the
    versions decided in earlier pieces for the case ids in ``carry`` (None: all of them; a
    loader passes ``()`` as its ``sink`` writes each piece into ``cases`` before the next one
    is decided). ``sink`` receives each piece's versions and quarantine records; the outcome
    then holds neither (only counts, status and events), else it holds the quarantine and,
    with ``keep_versions``, the versions."""
    sid, hospital = meta["submission_id"], meta["hospital_code"]
    received_at = datetime.fromisoformat(meta["received_at"])
    events: list[tuple[str, str | None]] = [("received", one_line(meta["relpath"]))]
    stored = duplicate = n_rows = 0
    duplicate_of = None

    original = None
    if con is not None:
        # fetchall, not fetchone: an unfinished result would block the next register().
        found = con.execute(
            "SELECT submission_id FROM submissions WHERE hospital_code=? AND sha256=? "
            "AND status <> 'duplicate' ORDER BY received_at, file_name LIMIT 1",
            [hospital, meta["sha256"]],
        ).fetchall()
        original = found[0] if found else None
    rejected = bool(meta["file_rule"])
    own = errors if errors is not None else pd.DataFrame(columns=ERROR_FIELDS)
    if not original and not rejected:
        assert pieces is not None and errors is not None
    error_rows = own["_row"].astype("int64").to_numpy()
    failed = set(error_rows.tolist())
    claimed = np.zeros(len(own), dtype=bool)  # errors whose row was found in a piece
    own_parts: list[tuple[np.ndarray, pd.DataFrame]] = []  # (positions in ``own``, records)
    later_parts: list[pd.DataFrame] = []  # loader errors, or the file's reason, in file order
    version_parts: list[pd.DataFrame] = []
    bad_rows: list[np.ndarray] = []
    state: dict[str, tuple[int, str, str]] = {}  # carried cases: (version, status, hash)
    kept_quarantine = sink is None

    def emit(versions: pd.DataFrame, records: list[pd.DataFrame]) -> None:
        records = [r for r in records if not r.empty]
        for r in records:
            bad_rows.append(r["source_row"].to_numpy(dtype="int64"))
        if sink is not None:
            quarantine = (
                pd.concat(records, ignore_index=True)
                if records
                else pd.DataFrame(columns=QUARANTINE_COLUMNS)
            )
            sink(versions, quarantine)
        elif keep_versions and not versions.empty:
            version_parts.append(versions)

    if original:
        status, duplicate_of = "duplicate", original[0]
        duplicate = meta["rows_received"]
        events.append(("duplicate", f"identical content to submission {duplicate_of}"))
    elif pieces is not None:
        for piece in pieces:
            n_rows += len(piece)
            piece_rows = piece["_row"].astype("int64")
            mine = ~claimed & np.isin(error_rows, piece_rows.to_numpy())
            claimed |= mine
            records = [_quarantine_records(meta, piece, own[mine])] if mine.any() else []
            if kept_quarantine and records:
                own_parts.append((np.flatnonzero(mine), records[0]))
            versions = pd.DataFrame()
            if rejected:
                bare = piece_rows[~piece_rows.isin(failed)]
                later = _quarantine_records(meta, piece, _file_reason(meta, bare))
            else:
                duplicate += int(piece["_duplicate"].sum())
                candidates = piece[~piece["_duplicate"] & ~piece_rows.isin(failed)]
                versions, loader_errors, dup_rows = _decide_versions(
                    con, sid, candidates, received_at, state
                )
                duplicate += dup_rows
                stored += len(versions)
                later = _quarantine_records(meta, piece, loader_errors)
                if not versions.empty and (carry is None or len(carry)):
                    _carry(state, versions, carry)
            if kept_quarantine and not later.empty:
                later_parts.append(later)
            emit(versions, [*records, later])
            # Nothing of this piece is kept while the next one is read.
            del piece, piece_rows, versions, records, later
            candidates = loader_errors = None
    if pieces is not None and not claimed.all():
        # Errors of rows not among the rows (e.g. a row dropped while reading): "{}".
        mine = ~claimed
        records = _quarantine_records(meta, pd.DataFrame(columns=[*CASE_FIELDS, "_row"]), own[mine])
        if kept_quarantine:
            own_parts.append((np.flatnonzero(mine), records))
        emit(pd.DataFrame(), [records])

    n_bad = int(np.unique(np.concatenate(bad_rows)).size) if bad_rows else 0
    if original:
        pass
    elif rejected:
        status = "rejected"
        events.append(("rejected", one_line(f"{meta['file_rule']}: {meta['file_message']}")))
    else:
        status = "accepted" if n_bad == 0 else "rejected" if stored == 0 else "partially_accepted"
        events.append(
            (
                "validated",
                f"{n_rows} rows: {stored} stored, {n_bad} quarantined, {duplicate} duplicate",
            )
        )
        events.append((status, None))

    quarantined = n_bad
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
        versions=(
            pd.concat(version_parts, ignore_index=True)
            if len(version_parts) > 1
            else version_parts[0]
            if version_parts
            else pd.DataFrame()
        ),
        quarantine=_ordered_quarantine(own_parts, later_parts),
        events=events,
    )


def _carry(
    state: dict[str, tuple[int, str, str]], versions: pd.DataFrame, carry: Collection[str] | None
) -> None:
    """Record the latest decided version of each case of ``carry`` (None: every case)."""
    chosen = versions if carry is None else versions[versions["case_id"].isin(list(carry))]
    for cid, version, status, digest in zip(
        chosen["case_id"].tolist(),
        chosen["version"].tolist(),
        chosen["status"].tolist(),
        chosen["content_hash"].tolist(),
        strict=True,
    ):
        state[cid] = (int(version), status, digest)


def _ordered_quarantine(
    own_parts: list[tuple[np.ndarray, pd.DataFrame]], later_parts: list[pd.DataFrame]
) -> pd.DataFrame:
    """The quarantine records in the order of the whole plan: the staged errors in their order,
    then the loader's errors (or the file's reason) in file order."""
    frames = [records for _, records in own_parts] + later_parts
    if not frames:
        return pd.DataFrame(columns=QUARANTINE_COLUMNS)
    out = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    if len(own_parts) > 1:
        positions = np.concatenate([p for p, _ in own_parts])
        order = np.concatenate(
            [np.argsort(positions, kind="stable"), np.arange(len(positions), len(out))]
        )
        out = out.iloc[order].reset_index(drop=True)
    return out


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
    """Apply one submission given as frames (the one-piece case of :func:`apply_pieces`)."""
    return apply_pieces(con, settings, meta, None if rows is None else [rows], errors, lake_files)


def apply_staged(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    directory: Path,
    lake_files: list[str] | None = None,
) -> str:
    """Apply a staged submission, its rows read ``chunk_rows`` at a time."""
    meta = read_meta(directory)
    errors = read_staged_errors(directory)
    pieces = None if errors is None else staged_pieces(directory, settings.intake.chunk_rows)
    return apply_pieces(con, settings, meta, pieces, errors, lake_files)


def apply_pieces(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    meta: dict,
    pieces: Iterable[pd.DataFrame] | None,
    errors: pd.DataFrame | None,
    lake_files: list[str] | None = None,
) -> str:
    """Apply one submission in one transaction, its rows a piece at a time; returns its
    status. ``lake_files``: the submission's lake files already there (default: listed).

    Each piece is decided against ``cases`` as this transaction shows it (its earlier pieces'
    versions included), then its quarantine records and versions are inserted and its
    versions written to local part files per month; the lake files are written from those
    parts at the end, then the ledger row and events, then the commit. A crash before the
    commit leaves no row; the lake files it may leave are named by the submission and
    rewritten by the next run (or removed as orphans if the file is withdrawn)."""
    sid = meta["submission_id"]
    processed_at = datetime.now(UTC).replace(tzinfo=None)
    step = settings.intake.chunk_rows
    parts = lake.MonthParts(settings.staging_dir / f".{sid}.lake")

    def insert(versions: pd.DataFrame, quarantine: pd.DataFrame) -> None:
        # Each piece through a relation's own view (``query``), not ``register``: a view
        # registered and then unregistered inside a transaction stays in its undo log until
        # the commit, and with it the frame or Arrow table behind it (every piece of a large
        # file, about 0.6 KB a row, measured with pyarrow.total_allocated_bytes).
        if not quarantine.empty:
            con.from_df(quarantine).query("_q", "INSERT INTO quarantine BY NAME SELECT * FROM _q")
        # As Arrow (DuckDB scans it natively; a frame of Python strings row by row), in
        # slices of ``chunk_rows``. The versions are in file order, so a case's later slice
        # holds its later versions and its INSERT OR REPLACE leaves the latest one.
        for start in range(0, len(versions), step):
            part = con.from_arrow(
                pa.Table.from_pandas(versions.iloc[start : start + step], preserve_index=False)
            )
            part.query("_v", "INSERT INTO case_versions BY NAME SELECT * EXCLUDE (status) FROM _v")
            part.query(
                "_v",
                "INSERT OR REPLACE INTO cases BY NAME SELECT * FROM _v "
                "QUALIFY row_number() OVER (PARTITION BY hospital_code, case_id "
                "ORDER BY version DESC) = 1",
            )
            del part
        parts.add(versions)

    try:
        with transaction(con):
            outcome = plan_pieces(con, meta, pieces, errors, carry=(), sink=insert)
            record = submission_record(meta, outcome, processed_at)
            parts.write(settings.lake_location, sid, lake_files)
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
    finally:
        parts.discard()
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
    con: duckdb.DuckDBPyConnection | None,
    sid: str,
    rows: pd.DataFrame,
    received_at: datetime,
    carried: dict[str, tuple[int, str, str]] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """New, correction and void rows against the current cases: versions to store, loader
    errors (quarantined) and the number of rows identical to what is stored.

    Columnar: the rows of a case that occurs once in the file (nearly all) are decided over
    whole columns; the few cases with several rows (e.g. new then correction) go row by row in
    file order, each row seeing its case as the earlier rows left it. The outcome is the same
    as deciding every row in file order (cases do not affect each other). ``carried``: the
    (version, status, hash) of cases decided in earlier pieces of the file, over ``cases``."""
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
    if carried:
        stored.update((c, carried[c]) for c in case_ids.dropna().unique() if c in carried)
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
    with _memory_limit(con, settings.intake.load_memory_mb):
        _load(settings, con, staged, known, lake_files, summary, progress)
    return summary


@contextmanager
def _memory_limit(con: duckdb.DuckDBPyConnection, megabytes: int) -> Iterator[None]:
    """DuckDB's memory limit ``megabytes`` (0: unchanged) while the load runs, then DuckDB's
    default again (the writer connection sets none of its own)."""
    if megabytes <= 0:
        yield
        return
    con.execute(f"SET memory_limit = '{int(megabytes)}MB'")
    try:
        yield
    finally:
        con.execute("RESET memory_limit")


def _load(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    staged: list,
    known: set[str],
    lake_files: dict[str, list[str]],
    summary: LoadSummary,
    progress: Callable[[dict], None] | None,
) -> None:
    for _, _, directory, meta in sorted(staged, key=lambda s: s[:2]):
        sid = meta["submission_id"]
        if sid not in known:
            status = apply_staged(con, settings, directory, lake_files.get(sid, []))
            summary.statuses[status] = summary.statuses.get(status, 0) + 1
            summary.loaded.append(sid)
            known.add(sid)
        write_receipt(con, settings, sid)
        shutil.rmtree(directory)
        if progress:
            progress(meta)


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
