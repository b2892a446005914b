"""Dry run of one file (``sentinel validate``): every check intake makes, nothing stored."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from pipeline import reference
from pipeline.config import Settings
from pipeline.intake.discover import LandingFile, file_order_key, sha256_file
from pipeline.intake.receipts import build_receipt
from pipeline.intake.submission import read_submission
from pipeline.validation.runner import CaseValidator


def check_file(
    path: Path, hospital: str, settings: Settings, validator: CaseValidator | None = None
) -> dict:
    """Validate one file as if sent by ``hospital``; stores nothing. Returns the receipt.

    Checks against stored cases (duplicates, corrections, voids) need the warehouse and happen
    at ingest; everything about the file and its rows is checked here.
    """
    key = settings.pseudonym_key.encode() if settings.pseudonym_key else b"dry-run-only-key!"
    stat = path.stat()
    received = datetime.fromtimestamp(stat.st_mtime, UTC).replace(tzinfo=None)
    item = LandingFile(
        hospital_code=hospital,
        path=str(path.resolve()),
        relpath=path.name,
        sha256=sha256_file(path),
        size_bytes=stat.st_size,
        received_at=received.isoformat(timespec="seconds"),
        order_key=file_order_key(path.name),
    )
    staged = read_submission(item, reference.load_hospitals(settings.hospital_registry), key)
    meta = staged.meta
    errors: list[dict] = []
    if meta["file_rule"]:
        # As ingest does: every readable row is quarantined with the file's reason.
        status, stored, quarantined, duplicates = "rejected", 0, meta["rows_received"], 0
        if staged.frame is not None:
            errors = [
                {
                    "source_row": int(row),
                    "field": "*",
                    "value": None,
                    "rule": meta["file_rule"],
                    "message_en": meta["file_message"],
                    "message_zh": meta["file_message"],
                }
                for row in staged.frame["_row"]
            ]
    else:
        assert staged.frame is not None
        # A dry run stores nothing, so it writes no Data Docs either.
        validator = validator or CaseValidator(data_docs_dir=None)
        outcome = validator.validate(staged.frame[~staged.frame["_duplicate"]])
        # Blank values come back as NaN (pandas infers a string column): a receipt says null.
        errors = [
            {
                "source_row": int(e["_row"]),
                **{
                    k: None if pd.isna(e[k]) else e[k]
                    for k in ("field", "value", "rule", "message_en", "message_zh")
                },
            }
            for e in outcome.errors.to_dict("records")
        ]
        quarantined = len({e["source_row"] for e in errors})
        duplicates = meta["rows_duplicate_in_file"]
        stored = meta["rows_received"] - quarantined - duplicates
        status = "accepted" if not errors else "rejected" if stored == 0 else "partially_accepted"
    submission = {
        **meta,
        "file_name": str(path),
        "status": status,
        "rows_stored": stored,
        "rows_quarantined": quarantined,
        "rows_duplicate": duplicates,
        "duplicate_of": None,
    }
    return build_receipt(submission, errors, meta["file_detail"])
