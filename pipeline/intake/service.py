"""Intake end to end: discover new files, stage batches, load them, write receipts.

The CLI (``sentinel ingest``, ``sentinel validate``) and the ``ingest_daily`` DAG call these
functions; the DAG runs ``stage_batch_files`` as parallel mapped tasks and ``load`` once.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from pipeline import reference
from pipeline.config import Settings
from pipeline.intake.discover import LandingFile, file_order_key, plan_batches, scan_landing
from pipeline.intake.load import LoadSummary, load_staged
from pipeline.intake.receipts import build_receipt
from pipeline.intake.stage import _read_one, stage_batch
from pipeline.storage.warehouse import connect, has_table
from pipeline.validation.runner import CaseValidator

Progress = Callable[[str], None]


@dataclass
class IngestResult:
    batches: int
    files: int
    summary: LoadSummary


def _in_range(f: LandingFile, date_from: date | None, date_to: date | None) -> bool:
    stamp = f.order_key.split("|", 1)[0]
    if not stamp.isdigit() or len(stamp) != 8:
        return date_from is None and date_to is None
    day = date(int(stamp[:4]), int(stamp[4:6]), max(int(stamp[6:]), 1))
    return (date_from is None or day >= date_from) and (date_to is None or day <= date_to)


def discover(
    settings: Settings,
    hospitals: list[str] | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    max_files: int = 64,
) -> list[list[LandingFile]]:
    """New files (not yet in the ledger) grouped into batches."""
    files = scan_landing(settings.landing_dir, set(hospitals) if hospitals else None)
    files = [f for f in files if _in_range(f, date_from, date_to)]
    seen: set[tuple[str, str, str]] = set()
    if settings.warehouse_path.exists():
        con = connect(settings.warehouse_path, read_only=True)
        try:
            # No ledger yet when a run was killed between creating the file and its schema.
            if has_table(con, "submissions"):
                seen = set(
                    con.execute(
                        "SELECT hospital_code, file_name, sha256 FROM submissions"
                    ).fetchall()
                )
        finally:
            con.close()
    new = [f for f in files if (f.hospital_code, f.relpath, f.sha256) not in seen]
    return plan_batches(new, max_files=max_files)


def write_plan(settings: Settings, batches: list[list[LandingFile]]) -> list[str]:
    """Persist each batch as a JSON file under staging/plans; returns their paths."""
    plan_dir = settings.staging_dir / "plans"
    shutil.rmtree(plan_dir, ignore_errors=True)
    plan_dir.mkdir(parents=True)
    paths = []
    for i, batch in enumerate(batches):
        path = plan_dir / f"batch-{i:05d}.json"
        path.write_text(
            json.dumps([f.to_dict() for f in batch], ensure_ascii=False), encoding="utf-8"
        )
        paths.append(str(path))
    return paths


def read_plan(path: str) -> list[LandingFile]:
    return [LandingFile(**d) for d in json.loads(Path(path).read_text(encoding="utf-8"))]


def stage_batch_files(
    settings: Settings, batch: list[LandingFile], validator: CaseValidator | None = None
) -> list[str]:
    validator = validator or CaseValidator(data_docs_dir=settings.data_docs_dir)
    registry = reference.load_hospitals(settings.hospital_registry)
    return stage_batch(batch, settings, validator, registry)


def load(settings: Settings, progress: Progress | None = None) -> LoadSummary:
    con = connect(settings.warehouse_path)
    try:
        return load_staged(
            settings,
            con,
            progress=(lambda m: progress(f"loaded {m['hospital_code']}/{Path(m['relpath']).name}"))
            if progress
            else None,
        )
    finally:
        con.close()


def ingest(
    settings: Settings,
    hospitals: list[str] | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    progress: Progress | None = None,
    validator: CaseValidator | None = None,
) -> IngestResult:
    """Process every new landing file: stage all batches, then load (single writer).

    ``validator``: reuse a CaseValidator (default: a new one writing Data Docs under home)."""
    settings.require_pseudonym_key()
    batches = discover(settings, hospitals, date_from, date_to)
    files = sum(len(b) for b in batches)
    if progress:
        progress(f"{files} new files in {len(batches)} batches under {settings.landing_dir}")
    if batches and validator is None:
        validator = CaseValidator(data_docs_dir=settings.data_docs_dir)
    for i, batch in enumerate(batches, 1):
        stage_batch_files(settings, batch, validator)
        if progress:
            progress(
                f"staged batch {i}/{len(batches)}: {batch[0].hospital_code}, {len(batch)} files"
            )
    summary = load(settings)
    if progress:
        progress(f"loaded {len(summary.loaded)} submissions: {summary.statuses}")
    return IngestResult(batches=len(batches), files=files, summary=summary)


def dry_run(
    path: Path, hospital: str, settings: Settings, validator: CaseValidator | None = None
) -> dict:
    """Validate one file as if sent by ``hospital``; stores nothing. Returns the receipt.

    Checks against stored cases (duplicates, corrections, voids) need the warehouse and happen
    at ingest; everything about the file and its rows is checked here.
    """
    key = settings.pseudonym_key.encode() if settings.pseudonym_key else b"dry-run-only-key!"
    stat = path.stat()
    received = datetime.fromtimestamp(stat.st_mtime, UTC).replace(tzinfo=None)
    from pipeline.intake.discover import sha256_file

    item = LandingFile(
        hospital_code=hospital,
        path=str(path.resolve()),
        relpath=path.name,
        sha256=sha256_file(path),
        size_bytes=stat.st_size,
        received_at=received.isoformat(timespec="seconds"),
        order_key=file_order_key(path.name),
    )
    staged = _read_one(item, reference.load_hospitals(settings.hospital_registry), key)
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
