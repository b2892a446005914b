"""Read one landing file as a submission: sender checks, reading, preparation (no database).

A whole-file rejection still keeps every readable row (they go to quarantine with the file's
reason), so nothing the sender sent is lost. Validation of the rows (Great Expectations) and
staging are the next step (:mod:`pipeline.validation.staging`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from pipeline.contract import CASE_FIELD_NAMES
from pipeline.intake.discover import SUPPORTED_SUFFIXES, LandingFile
from pipeline.intake.prepare import local_time, prepare_extract
from pipeline.intake.reader import FileRejected, read_extract


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


def read_submission(f: LandingFile, registry: pd.DataFrame, key: bytes) -> StagedFile:
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
