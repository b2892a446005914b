"""Stage a batch of landing files: read, prepare, validate with GX, write staging files.

Staging touches no database, so batches run in parallel; the single writer (``load``) applies
them. Each submission is staged into ``staging/<submission_id>/`` via a temporary directory and
a rename, so a crash leaves either a complete staged submission or nothing.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from pipeline.config import Settings
from pipeline.contract import CASE_FIELD_NAMES
from pipeline.intake.discover import SUPPORTED_SUFFIXES, LandingFile
from pipeline.intake.prepare import local_time, prepare_extract
from pipeline.intake.reader import FileRejected, read_extract
from pipeline.validation.runner import ERROR_COLUMNS, CaseValidator

META = "meta.json"
ROWS = "rows.parquet"
ERRORS = "errors.parquet"


@dataclass
class StagedFile:
    meta: dict
    frame: pd.DataFrame | None


def check_sender(hospital_code: str, registry: pd.DataFrame, received: date) -> None:
    """The landing folder must be a registered hospital, active when the file arrived."""
    rows = registry[registry["hospital_code"] == hospital_code]
    if rows.empty:
        raise FileRejected(
            "unknown_sender", f"'{hospital_code}' is not a registered sentinel hospital"
        )
    row = rows.iloc[0]
    start, end = row["active_from"], row["active_to"]  # active_to: last active day
    if received < start or (end is not None and received > end):
        raise FileRejected(
            "inactive_sender",
            f"hospital {hospital_code} is not active in the network on {received}",
        )


def _read_one(f: LandingFile, registry: pd.DataFrame, key: bytes) -> StagedFile:
    """Read and prepare one file. A whole-file rejection still keeps every readable row (they
    go to quarantine with the file's reason), so nothing the sender sent is lost."""
    received = datetime.fromisoformat(f.received_at)
    meta = {
        **f.to_dict(),
        "submission_id": f.submission_id,
        "file_rule": None,
        "file_message": None,
        "file_detail": None,
        "header_language": "zh",
        "file_format": None,
        "encoding": None,
        "unknown_columns": [],
        "rows_received": 0,
        "rows_duplicate_in_file": 0,
    }
    rejection: FileRejected | None = None
    frame: pd.DataFrame | None = None
    try:
        try:
            check_sender(f.hospital_code, registry, local_time(received).date())
        except FileRejected as exc:
            rejection = exc
        if Path(f.path).suffix.lower() not in SUPPORTED_SUFFIXES:
            raise FileRejected(
                "unsupported_format",
                f"files of type '{Path(f.path).suffix}' are not accepted",
                "send CSV, XLSX or NEISS tab-separated text",
            )
        raw = read_extract(Path(f.path))
        meta.update(file_format=raw.file_format, encoding=raw.encoding, rows_received=len(raw.rows))
        prepared = prepare_extract(raw, sender=f.hospital_code, received_at=received, key=key)
        frame = prepared.frame
        meta.update(
            header_language=prepared.header_language, unknown_columns=prepared.unknown_columns
        )
        if rejection is None and prepared.missing_required:
            rejection = FileRejected(
                "missing_required_columns",
                "required columns are missing: " + ", ".join(prepared.missing_required),
                "accepted headers for each field are listed in docs/data-dictionary.md",
            )
        others = sorted(
            set(frame["hospital_code"].dropna())
            & (set(registry["hospital_code"]) - {f.hospital_code})
        )
        if rejection is None and others:
            rejection = FileRejected(
                "other_hospital_rows",
                f"rows name another hospital ({', '.join(others)}); the file looks misrouted",
                f"only cases of {f.hospital_code} may be sent from this account",
            )
    except FileRejected as exc:
        rejection = rejection or exc
    if rejection is not None:
        meta.update(
            file_rule=rejection.rule, file_message=rejection.message, file_detail=rejection.detail
        )
    if frame is None:
        return StagedFile(meta=meta, frame=None)
    frame["_submission_id"] = f.submission_id
    frame["_sender"] = f.hospital_code
    # An exact repeat of an earlier row in the same file is a duplicate, not an error.
    frame["_duplicate"] = frame.duplicated(subset=CASE_FIELD_NAMES, keep="first")
    meta["rows_duplicate_in_file"] = int(frame["_duplicate"].sum())
    return StagedFile(meta=meta, frame=frame)


def stage_batch(
    files: list[LandingFile], settings: Settings, validator: CaseValidator, registry: pd.DataFrame
) -> list[str]:
    """Stage every file of a batch; returns the staged submission ids."""
    key = settings.require_pseudonym_key()
    staged = [_read_one(f, registry, key) for f in files]
    frames = [
        s.frame[~s.frame["_duplicate"]]
        for s in staged
        if s.frame is not None and s.meta["file_rule"] is None
    ]
    errors = pd.DataFrame(columns=ERROR_COLUMNS)
    if frames:
        errors = validator.validate(pd.concat(frames, ignore_index=True)).errors
    ids: list[str] = []
    for item in staged:
        sid = item.meta["submission_id"]
        target = settings.staging_dir / sid
        tmp = settings.staging_dir / f".{sid}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if item.frame is not None:
            keep = [*CASE_FIELD_NAMES, "_row", "_duplicate"]
            item.frame[keep].to_parquet(tmp / ROWS, index=False)
            errors[errors["_submission_id"] == sid].to_parquet(tmp / ERRORS, index=False)
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
