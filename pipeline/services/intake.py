"""Intake service: discover new landing files, stage them, load them, dry-run one file.

``sentinel ingest`` calls :func:`ingest` (one writer session for the whole run); the
``ingest_daily`` DAG calls :func:`check_request` and :func:`discover` (reads the published
ledger), :func:`stage` once per batch in parallel (no database) and :func:`load` once (the
writer); ``sentinel validate`` calls :func:`dry_run`.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pipeline import reference
from pipeline.config import Settings
from pipeline.errors import BadInput, NotFound
from pipeline.intake.discover import LandingFile, plan_batches, scan_landing
from pipeline.storage import ledger
from pipeline.storage.ledger import LoadSummary
from pipeline.storage.session import Progress, reader, writer
from pipeline.validation.dry_run import check_file
from pipeline.validation.runner import CaseValidator
from pipeline.validation.staging import stage_batch

__all__ = [
    "IngestResult",
    "check_request",
    "discover",
    "dry_run",
    "ingest",
    "load",
    "read_plan",
    "stage",
    "write_plan",
]


@dataclass
class IngestResult:
    batches: int
    files: int
    summary: LoadSummary


def check_request(
    settings: Settings,
    hospitals: list[str] | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> list[str]:
    """Refuse a request no retry can fix (no key, no landing directory, dates the wrong way
    round); returns warnings (a requested hospital without a folder)."""
    settings.require_pseudonym_key()
    if date_from and date_to and date_from > date_to:
        raise BadInput(f"date_from {date_from} is after date_to {date_to}")
    if not settings.landing_dir.is_dir():
        raise NotFound(f"landing directory {settings.landing_dir} does not exist")
    return [
        f"hospital {code} has no folder under {settings.landing_dir}"
        for code in hospitals or []
        if not (settings.landing_dir / code).is_dir()
    ]


def _in_range(f: LandingFile, date_from: date | None, date_to: date | None) -> bool:
    stamp = f.order_key.split("|", 1)[0]
    if not stamp.isdigit() or len(stamp) != 8:
        return date_from is None and date_to is None
    day = date(int(stamp[:4]), int(stamp[4:6]), max(int(stamp[6:]), 1))
    return (date_from is None or day >= date_from) and (date_to is None or day <= date_to)


def _candidates(
    settings: Settings,
    hospitals: list[str] | None,
    date_from: date | None,
    date_to: date | None,
) -> list[LandingFile]:
    files = scan_landing(settings.landing_dir, set(hospitals) if hospitals else None)
    return [f for f in files if _in_range(f, date_from, date_to)]


def discover(
    settings: Settings,
    hospitals: list[str] | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    max_files: int = 64,
) -> list[list[LandingFile]]:
    """New files (not in the published ledger) grouped into batches. A file loaded by a run
    that has not published yet is staged again and skipped by :func:`load`."""
    files = _candidates(settings, hospitals, date_from, date_to)
    if settings.warehouse_path.exists():
        with reader(settings) as con:
            files = ledger.new_files(con, files)
    return plan_batches(files, max_files=max_files)


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


def stage(
    settings: Settings, batch: list[LandingFile], validator: CaseValidator | None = None
) -> list[str]:
    """Read, prepare and validate one batch into the staging area (no database)."""
    validator = validator or CaseValidator(data_docs_dir=settings.data_docs_dir)
    registry = reference.load_hospitals(settings.hospital_registry)
    return stage_batch(batch, settings, validator, registry)


def _loaded(progress: Progress | None):  # type: ignore[no-untyped-def]
    if progress is None:
        return None
    return lambda meta: progress(f"loaded {meta['hospital_code']}/{Path(meta['relpath']).name}")


def load(settings: Settings, progress: Progress | None = None) -> LoadSummary:
    """Apply every staged submission and write the receipts (the single writer)."""
    with writer(settings, progress, create=True) as con:
        return ledger.load_staged(settings, con, progress=_loaded(progress))


def ingest(
    settings: Settings,
    hospitals: list[str] | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    progress: Progress | None = None,
    validator: CaseValidator | None = None,
) -> IngestResult:
    """Process every new landing file: stage all batches, then load; one writer session, so a
    second ingest waits (bounded) instead of staging the same files at the same time.

    ``validator``: reuse a CaseValidator (default: a new one writing Data Docs under home)."""
    settings.require_pseudonym_key()
    with writer(settings, progress, create=True) as con:
        files = ledger.new_files(con, _candidates(settings, hospitals, date_from, date_to))
        batches = plan_batches(files)
        if progress:
            progress(
                f"{len(files)} new files in {len(batches)} batches under {settings.landing_dir}"
            )
        if batches and validator is None:
            validator = CaseValidator(data_docs_dir=settings.data_docs_dir)
        for i, batch in enumerate(batches, 1):
            stage(settings, batch, validator)
            if progress:
                progress(
                    f"staged batch {i}/{len(batches)}: {batch[0].hospital_code}, {len(batch)} files"
                )
        summary = ledger.load_staged(settings, con)
    if progress:
        progress(f"loaded {len(summary.loaded)} submissions: {summary.statuses}")
    return IngestResult(batches=len(batches), files=len(files), summary=summary)


def dry_run(
    path: Path, hospital: str, settings: Settings, validator: CaseValidator | None = None
) -> dict:
    """Validate one file as if sent by ``hospital``; stores nothing. Returns the receipt."""
    if not path.is_file():
        raise NotFound(f"no such file: {path}")
    return check_file(path, hospital, settings, validator)


UPLOAD_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx")


def dry_run_upload(settings: Settings, hospital: str, filename: str, content: bytes) -> dict:
    """The dry run of a file a clerk uploaded on the web (the same check as ``sentinel
    validate``): written to a private temporary folder under the home's staging area, checked,
    removed. The receipt names the file as uploaded (its base name), never the temporary path."""
    import tempfile

    base = Path(filename.replace("\\", "/")).name.strip()
    suffix = Path(base).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise BadInput(
            f"{base[:80] or '(no name)'}: send a CSV, TSV or XLSX file",
            detail_zh=f"{base[:80] or '（无文件名）'}：请上传 CSV、TSV 或 XLSX 文件",
        )
    if not content:
        raise BadInput(f"{base[:80]}: the file is empty", detail_zh=f"{base[:80]}：文件为空")
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in Path(base).stem)[:80]
    root = settings.staging_dir / "web-uploads"
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as folder:
        path = Path(folder) / f"{safe or 'upload'}{suffix}"
        path.write_bytes(content)
        receipt = dry_run(path, hospital, settings)
    receipt["file_name"] = base[:255]
    receipt["dry_run"] = True
    return receipt
