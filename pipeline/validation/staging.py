"""Stage a batch of landing files: read, prepare, validate with GX, write staging files.

Staging touches no database, so batches run in parallel; the single writer
(:mod:`pipeline.storage.ledger`) applies them. Each submission is staged into
``staging/<submission_id>/`` via a temporary directory and a rename, so a crash leaves either a
complete staged submission or nothing.

Every row that was read is validated, the rows of a file rejected whole included: its receipt
lists each row's own errors as well as the file's reason (rows without an error of their own are
quarantined with the file's reason only).

A file of more than ``chunk_rows`` rows is staged piece by piece (:func:`stage_pieces`): each
prepared piece is validated and appended to the staged Parquet, then dropped, so memory does
not grow with the file; the staged result equals staging the file whole.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.config import Settings, key_fingerprint
from pipeline.contract import CASE_FIELD_NAMES
from pipeline.intake.discover import LandingFile
from pipeline.intake.messages import fill
from pipeline.intake.submission import StagedFile, read_submissions
from pipeline.validation.runner import ERROR_COLUMNS, CaseValidator
from pipeline.validation.suite import load_suite_dict

META = "meta.json"
ROWS = "rows.parquet"
ERRORS = "errors.parquet"
STAGED_COLUMNS = [*CASE_FIELD_NAMES, "_row", "_duplicate"]
# One Arrow schema for every staged file, whole or in pieces: a column that is blank in every
# row (of a file or of a piece) is still text, so pieces append to one file and a staged
# submission reads back the same however it was written.
ROWS_SCHEMA = pa.schema(
    [
        *(pa.field(name, pa.string()) for name in CASE_FIELD_NAMES),
        pa.field("_row", pa.int64()),
        pa.field("_duplicate", pa.bool_()),
    ]
)
ERRORS_SCHEMA = pa.schema(
    [pa.field(c, pa.int64() if c == "_row" else pa.string()) for c in ERROR_COLUMNS]
)
KEY_FIELDS = ["hospital_code", "case_id"]  # with the submission: the file-wide unique key


@dataclass
class Checked:
    """One file read, prepared and validated: what staging writes and a dry run reports."""

    meta: dict
    rows: pd.DataFrame | None  # canonical fields, _row, _duplicate
    errors: pd.DataFrame | None  # ERROR_COLUMNS
    # A large file staged piece by piece (a dry run's temporary folder, there only while
    # the caller holds this item): rows and errors are read from it, not held here.
    directory: Path | None = None


def message_params(settings: Settings) -> dict[str, object]:
    """Values of the per-file placeholders of row messages."""
    return {
        "earliest_date": settings.intake.earliest_date.isoformat(),
        "limit": f"{settings.intake.max_cell_chars:,}",
    }


def check_files(
    staged: list[StagedFile], settings: Settings, validator: CaseValidator | None
) -> list[Checked]:
    """Validate the rows of already read files in one GX run (their own errors included).
    ``validator`` may be None only when no file has rows (every file refused whole)."""
    # A file without in-file duplicates is validated as it is: a boolean selection, like a
    # concat, copies every column (half a GB of pointers for a million-row file).
    frames = [
        s.frame[~s.frame["_duplicate"]] if s.frame["_duplicate"].any() else s.frame
        for s in staged
        if s.frame is not None
    ]
    params = message_params(settings)
    errors = pd.DataFrame(columns=ERROR_COLUMNS)
    if frames:
        if validator is None:
            raise ValueError("check_files: files with rows need a validator")
        errors = validator.validate(
            frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True),
            params,
            chunk_rows=settings.intake.chunk_rows,
        ).errors
    out = []
    for item in staged:
        meta = item.meta
        sid = meta["submission_id"]
        if item.frame is None:
            out.append(Checked(meta, None, None))
            continue
        mine = _file_errors(meta, errors[errors["_submission_id"] == sid], item.row_errors, params)
        out.append(Checked(meta, item.frame[STAGED_COLUMNS], mine))
    return out


def _file_errors(
    meta: dict, errors: pd.DataFrame, row_errors: list[dict], params: dict[str, object]
) -> pd.DataFrame:
    """A file's errors as staged: GX's (in expectation order, then row order), without the
    ``required`` errors of a missing column, then the reading's own row errors."""
    if meta["missing_columns"]:
        # The file-level reason already says the column is missing.
        errors = errors[
            ~((errors["rule"] == "required") & errors["field"].isin(meta["missing_columns"]))
        ]
    if row_errors:
        extra = pd.DataFrame.from_records(row_errors)
        extra["_submission_id"] = meta["submission_id"]
        for column in ("message_en", "message_zh"):
            extra[column] = [fill(m, params) for m in extra[column]]
        errors = pd.concat([errors, extra[ERROR_COLUMNS]], ignore_index=True)
    return errors.drop_duplicates(["_row", "field", "rule"]).reset_index(drop=True)


def _table(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pandas(frame, schema=schema, preserve_index=False).replace_schema_metadata(
        None
    )


def _write(path: Path, frames: Iterable[pd.DataFrame], schema: pa.Schema, step: int) -> None:
    """Frames appended to one Parquet file of ``schema`` (row groups of at most ``step``)."""
    with pq.ParquetWriter(path, schema) as out:
        for frame in frames:
            out.write_table(_table(frame, schema), row_group_size=step)
            del frame  # not kept while the next one is made


def _key_hashes(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash of each row's key (hospital, case id; missing = None whatever its form).
    Only used to pick the rows to check again together: a collision adds rows to that check,
    whose verdict is Great Expectations' own."""
    keys = frame[KEY_FIELDS].astype(object)
    keys = keys.where(keys.notna(), None)
    return pd.util.hash_pandas_object(keys, index=False).to_numpy()


def _expectation_order() -> dict[tuple[str, str], int]:
    """(field, rule) -> the expectation's place in the suite: GX's error order."""
    return {
        (e["meta"].get("field", "?"), e["meta"].get("rule", e["type"])): i
        for i, e in enumerate(load_suite_dict()["expectations"])
    }


def stage_pieces(
    item: StagedFile, settings: Settings, validator: CaseValidator, directory: Path
) -> dict:
    """Stage a file read in pieces (``item.pieces``) into ``directory`` (rows and errors;
    the caller writes the returned meta): each piece is validated with GX and appended to
    ``rows.parquet``, then dropped. The result equals :func:`check_files` of the whole file:
    in-file duplicates and other hospitals' rows are counted across pieces by the stream, and
    a key seen in more than one piece has all its rows validated again together against the
    suite's file-wide uniqueness rule (every other expectation is row by row, so each piece's
    verdict on them is the whole file's). Errors are few: kept and sorted at the end."""
    stream = item.pieces
    if stream is None:
        raise ValueError("stage_pieces: not a file read in pieces")
    params = message_params(settings)
    step = settings.intake.chunk_rows
    parts: list[pd.DataFrame] = []
    seen = np.empty(0, dtype=np.uint64)
    repeated = np.empty(0, dtype=np.uint64)

    def staged_rows() -> Iterable[pd.DataFrame]:
        nonlocal seen, repeated
        for piece in stream:
            frame = piece.frame
            check = frame[~frame["_duplicate"]] if frame["_duplicate"].any() else frame
            if len(check):
                parts.append(validator.validate(check, params, chunk_rows=step).errors)
                keys = np.unique(_key_hashes(check))
                repeated = np.union1d(repeated, np.intersect1d(keys, seen, assume_unique=True))
                seen = np.union1d(seen, keys)
            del check, piece
            yield frame[STAGED_COLUMNS]
            del frame

    _write(directory / ROWS, staged_rows(), ROWS_SCHEMA, step)
    del seen
    meta = stream.meta
    if not stream.kept:  # rejected while reading: the file keeps no rows
        (directory / ROWS).unlink()
        return meta
    if len(repeated):
        parts.append(
            _check_repeated_keys(directory / ROWS, repeated, meta, params, validator, step)
        )
    order = _expectation_order()
    errors = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=ERROR_COLUMNS)
    errors["_ord"] = [
        order.get(k, len(order)) for k in zip(errors["field"], errors["rule"], strict=True)
    ]
    errors = errors.sort_values(["_ord", "_row"], kind="stable")[ERROR_COLUMNS]
    errors["value"] = errors["value"].astype(object).where(errors["value"].notna(), None)
    errors = errors.drop_duplicates(["_submission_id", "_row", "field", "rule"])
    errors = _file_errors(meta, errors, stream.row_errors, params)
    _write(directory / ERRORS, [errors], ERRORS_SCHEMA, step)
    return meta


def _check_repeated_keys(
    rows_path: Path,
    repeated: np.ndarray,
    meta: dict,
    params: dict[str, object],
    validator: CaseValidator,
    step: int,
) -> pd.DataFrame:
    """GX's file-wide uniqueness rule on every row (duplicates excluded, as in validation) of
    the keys seen in more than one piece, read back from the staged rows."""
    found = []
    source = pq.ParquetFile(rows_path)
    for batch in source.iter_batches(batch_size=step, columns=[*KEY_FIELDS, "_row", "_duplicate"]):
        part = batch.to_pandas()
        part = part[~part["_duplicate"].to_numpy()]
        hit = np.isin(_key_hashes(part), repeated)
        if hit.any():
            found.append(part[hit])
    rows = pd.concat(found, ignore_index=True)
    keys = rows[KEY_FIELDS].astype(object)
    rows[KEY_FIELDS] = keys.where(keys.notna(), None)
    rows["_submission_id"] = meta["submission_id"]
    rows["_sender"] = meta["hospital_code"]
    return validator.validate_unique_keys(rows, params, chunk_rows=step).errors


def stage_batch(
    files: list[LandingFile], settings: Settings, validator: CaseValidator, registry: pd.DataFrame
) -> list[str]:
    """Stage every file of a batch; returns the staged submission ids."""
    key = settings.require_pseudonym_key()
    staged = read_submissions(files, registry, key, limits=settings.intake, stream=True)
    fingerprint = key_fingerprint(key)
    # Small files are validated together (one GX run); a large one piece by piece.
    checked = iter(check_files([s for s in staged if s.pieces is None], settings, validator))
    ids: list[str] = []
    for item in staged:
        sid = item.meta["submission_id"]
        target = settings.staging_dir / sid
        tmp = settings.staging_dir / f".{sid}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if item.pieces is not None:
            meta = stage_pieces(item, settings, validator, tmp)
        else:
            done = next(checked)
            meta = done.meta
            write_checked(tmp, done, settings.intake.chunk_rows)
        meta["key_fingerprint"] = fingerprint
        write_meta(tmp, meta)
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
        ids.append(sid)
    return ids


def write_meta(directory: Path, meta: dict) -> None:
    (directory / META).write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")


def write_checked(directory: Path, item: Checked, step: int) -> None:
    """The staged rows and errors of a file checked whole (none for a file without rows)."""
    if item.rows is not None and item.errors is not None:
        _write(directory / ROWS, [item.rows], ROWS_SCHEMA, step)
        _write(directory / ERRORS, [item.errors], ERRORS_SCHEMA, step)


def read_meta(directory: Path) -> dict:
    return json.loads((directory / META).read_text(encoding="utf-8"))


def read_staged(
    directory: Path, meta: dict | None = None
) -> tuple[dict, pd.DataFrame | None, pd.DataFrame | None]:
    """A staged submission (``meta``: already in hand, e.g. not written by a dry run)."""
    meta = meta if meta is not None else read_meta(directory)
    if not (directory / ROWS).exists():
        return meta, None, None
    return meta, pd.read_parquet(directory / ROWS), pd.read_parquet(directory / ERRORS)


def staged_submission_dirs(settings: Settings) -> list[Path]:
    """Complete staged submissions (temporary ``.<id>.tmp`` folders of a crash excluded)."""
    if not settings.staging_dir.exists():
        return []
    return sorted(
        p
        for p in settings.staging_dir.iterdir()
        if p.is_dir() and not p.name.startswith(".") and (p / META).exists()
    )
