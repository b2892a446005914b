"""Stage a batch of landing files: read, prepare, validate with GX, write staging files.

Staging touches no database, so batches run in parallel; the single writer
(:mod:`pipeline.storage.ledger`) applies them. Each submission is staged into
``staging/<submission_id>/`` via a temporary directory and a rename, so a crash leaves either a
complete staged submission or nothing.

Every row that was read is validated, the rows of a file rejected whole included: its receipt
lists each row's own errors as well as the file's reason (rows without an error of their own are
quarantined with the file's reason only).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.config import Settings, key_fingerprint
from pipeline.contract import CASE_FIELD_NAMES
from pipeline.intake.discover import LandingFile
from pipeline.intake.messages import fill
from pipeline.intake.submission import StagedFile, read_submissions
from pipeline.validation.runner import ERROR_COLUMNS, CaseValidator

META = "meta.json"
ROWS = "rows.parquet"
ERRORS = "errors.parquet"


@dataclass
class Checked:
    """One file read, prepared and validated: what staging writes and a dry run reports."""

    meta: dict
    rows: pd.DataFrame | None  # canonical fields, _row, _duplicate
    errors: pd.DataFrame | None  # ERROR_COLUMNS


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
        mine = errors[errors["_submission_id"] == sid]
        if meta["missing_columns"]:
            # The file-level reason already says the column is missing.
            mine = mine[
                ~((mine["rule"] == "required") & mine["field"].isin(meta["missing_columns"]))
            ]
        if item.row_errors:
            extra = pd.DataFrame.from_records(item.row_errors)
            extra["_submission_id"] = sid
            for column in ("message_en", "message_zh"):
                extra[column] = [fill(m, params) for m in extra[column]]
            mine = pd.concat([mine, extra[ERROR_COLUMNS]], ignore_index=True)
        mine = mine.drop_duplicates(["_row", "field", "rule"]).reset_index(drop=True)
        rows = item.frame[[*CASE_FIELD_NAMES, "_row", "_duplicate"]]
        out.append(Checked(meta, rows, mine))
    return out


def stage_batch(
    files: list[LandingFile], settings: Settings, validator: CaseValidator, registry: pd.DataFrame
) -> list[str]:
    """Stage every file of a batch; returns the staged submission ids."""
    key = settings.require_pseudonym_key()
    staged = read_submissions(files, registry, key, limits=settings.intake)
    fingerprint = key_fingerprint(key)
    ids: list[str] = []
    for item in check_files(staged, settings, validator):
        sid = item.meta["submission_id"]
        item.meta["key_fingerprint"] = fingerprint
        target = settings.staging_dir / sid
        tmp = settings.staging_dir / f".{sid}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if item.rows is not None and item.errors is not None:
            item.rows.to_parquet(tmp / ROWS, index=False)
            item.errors.to_parquet(tmp / ERRORS, index=False)
        (tmp / META).write_text(
            json.dumps(item.meta, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
        ids.append(sid)
    return ids


def read_meta(directory: Path) -> dict:
    return json.loads((directory / META).read_text(encoding="utf-8"))


def read_staged(directory: Path) -> tuple[dict, pd.DataFrame | None, pd.DataFrame | None]:
    meta = read_meta(directory)
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
