"""Intake service: discover new landing files, stage them, load them, dry-run one file.

``sentinel ingest`` calls :func:`ingest` (one writer session for the whole run); the
``ingest_daily`` DAG calls :func:`check_request` and :func:`discover` (reads the published
ledger), :func:`stage` once per batch in parallel (no database) and :func:`load` once (the
writer); ``sentinel validate`` calls :func:`dry_run`; ``sentinel arrivals`` calls
:func:`record_arrival`, :func:`import_arrivals` and :func:`list_arrivals`.

For the submission API (issue 19), per upload, in this order:

1. :func:`record_arrival` (hospital, ``<HOSPITAL>/<name>``, SHA-256 and size of the bytes,
   ``source="api"``) *before* the file is renamed into ``<landing>/<HOSPITAL>/`` (written to a
   dot-name first: ingest skips dot-names), so the received time is the upload time and ingest
   never sees the file without it;
2. :func:`dry_run_data` for ``POST /api/v1/validate`` (the same prediction as ``sentinel
   validate``, from the bytes, nothing written);
3. :func:`receipt` for ``GET /api/v1/submissions/{id}`` once loaded: the receipt as JSON in the
   hospital's language (:mod:`pipeline.intake.receipts`), from the published snapshot.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

from pipeline import reference
from pipeline.config import Settings, key_fingerprint
from pipeline.errors import BadInput, NotFound, from_os_error
from pipeline.intake.arrivals import Arrival, Arrivals, normalise_time, read_manifest, utc_now
from pipeline.intake.discover import (
    LandingFile,
    plan_batches,
    scan_landing,
    sha256_file,
    stamp_arrivals,
)
from pipeline.intake.receipts import build_receipt
from pipeline.storage import ledger, publish
from pipeline.storage.ledger import LoadSummary
from pipeline.storage.session import Progress, reader, writer
from pipeline.validation.dry_run import Upload, check_uploads
from pipeline.validation.runner import CaseValidator
from pipeline.validation.staging import stage_batch

__all__ = [
    "IngestResult",
    "check_request",
    "discover",
    "dry_run",
    "dry_run_data",
    "dry_run_files",
    "dry_run_uploads",
    "import_arrivals",
    "ingest",
    "list_arrivals",
    "load",
    "read_plan",
    "receipt",
    "record_arrival",
    "stage",
    "write_plan",
]

DRY_RUN_KEY = b"dry-run-only-key!"
# Batches of ``sentinel ingest``: up to this many files and bytes (a larger file alone).
INGEST_BATCH_FILES = 512
INGEST_BATCH_BYTES = 16 * 1024 * 1024  # no warehouse, no key: pseudonyms are thrown away


@dataclass
class IngestResult:
    batches: int
    files: int
    summary: LoadSummary


def _arrivals(settings: Settings) -> Arrivals:
    try:
        return Arrivals(settings.arrivals_dir)
    except OSError as exc:
        raise from_os_error(exc, settings.home) or exc from exc


def _published_key_check(settings: Settings, key: bytes) -> None:
    """Refuse early (before anything is staged) a key the published warehouse was not built
    with."""
    if publish.current(settings) is None:
        return
    with reader(settings) as con:
        ledger.check_key(con, key_fingerprint(key), record=False)


def check_request(
    settings: Settings,
    hospitals: list[str] | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> list[str]:
    """Refuse a request no retry can fix (no key or another key than the warehouse's, no
    landing directory, dates the wrong way round); returns warnings (a requested hospital
    without a folder)."""
    key = settings.require_pseudonym_key()
    if date_from and date_to and date_from > date_to:
        raise BadInput(f"date_from {date_from} is after date_to {date_to}")
    if not settings.landing_dir.is_dir():
        raise NotFound(f"landing directory {settings.landing_dir} does not exist")
    _published_key_check(settings, key)
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
    files = scan_landing(
        settings.landing_dir, set(hospitals) if hospitals else None, settings.intake
    )
    return [f for f in files if _in_range(f, date_from, date_to)]


def discover(
    settings: Settings,
    hospitals: list[str] | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    max_files: int = 64,
) -> list[list[LandingFile]]:
    """New files (not in the published ledger) grouped into batches, each with its received
    time (a file seen for the first time is recorded as arrived now). A file loaded by a run
    that has not published yet is staged again and skipped by :func:`load`."""
    files = _candidates(settings, hospitals, date_from, date_to)
    if settings.warehouse_path.exists():
        with reader(settings) as con:
            files = ledger.new_files(con, files)
    return plan_batches(stamp_arrivals(files, _arrivals(settings)), max_files=max_files)


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
    """Read, prepare and validate one batch into the staging area (no database).

    Without ``validator`` (a DAG stage task) a new one is made and this batch's Data Docs are
    built at the end; a caller that passes its validator builds them (once, for its run)."""
    own = validator is None
    validator = validator or CaseValidator(data_docs_dir=settings.data_docs_dir)
    registry = reference.load_hospitals(settings.hospital_registry)
    ids = stage_batch(batch, settings, validator, registry)
    if own:
        validator.build_docs(settings.data_docs_keep_runs)
    return ids


def _loaded(progress: Progress | None):  # type: ignore[no-untyped-def]
    if progress is None:
        return None
    from pipeline.escaping import one_line  # noqa: PLC0415

    return lambda meta: progress(
        f"loaded {one_line(meta['hospital_code'])}/{one_line(Path(meta['relpath']).name)}"
    )


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
    *,
    only: Collection[str] | None = None,
    build_docs: bool = True,
) -> IngestResult:
    """Process every new landing file: stage all batches, then load; one writer session, so a
    second ingest waits (bounded) instead of staging the same files at the same time. A key
    other than the warehouse's stops the run before anything is staged (exit code 8).

    ``validator``: reuse a CaseValidator (default: a new one writing Data Docs under home).
    ``only``: just these files (relative paths, ``HOSPITAL/name``) of the new ones: the
    submission API's worker ingests in bounded batches. ``build_docs=False``: the caller
    builds the Data Docs of its validator later (the worker: once it is idle)."""
    key = settings.require_pseudonym_key()
    with writer(settings, progress, create=True) as con:
        ledger.check_key(con, key_fingerprint(key), record=False)
        files = _candidates(settings, hospitals, date_from, date_to)
        if only is not None:
            wanted = set(only)
            files = [f for f in files if f.relpath in wanted]
        files = ledger.new_files(con, files)
        files = stamp_arrivals(files, _arrivals(settings))
        # One process stages everything: batches across hospitals mean fewer GX runs (each
        # costs about a second whatever its rows); the byte bound keeps a batch's memory
        # bounded. The load order, hence the outcome, does not depend on batching.
        batches = plan_batches(
            files, max_files=INGEST_BATCH_FILES, by_hospital=False, max_bytes=INGEST_BATCH_BYTES
        )
        if progress:
            progress(
                f"{len(files)} new files in {len(batches)} batches under {settings.landing_dir}"
            )
        if batches and validator is None:
            validator = CaseValidator(data_docs_dir=settings.data_docs_dir)
        for i, batch in enumerate(batches, 1):
            stage(settings, batch, validator)
            if progress:
                hospitals = len({f.hospital_code for f in batch})
                progress(
                    f"staged batch {i}/{len(batches)}: {len(batch)} files of {hospitals} "
                    f"hospital{'s' if hospitals > 1 else ''}"
                )
        if validator is not None and batches and build_docs:
            # Once per run (not per batch): every earlier run's site is kept, up to the
            # retention setting SENTINEL_DATA_DOCS_KEEP_RUNS.
            validator.build_docs(settings.data_docs_keep_runs)
        summary = ledger.load_staged(settings, con)
    if progress:
        progress(f"loaded {len(summary.loaded)} submissions: {summary.statuses}")
    return IngestResult(batches=len(batches), files=len(files), summary=summary)


# ---- dry run ---------------------------------------------------------------------------------


def _upload(
    name: str,
    data: bytes,
    hospital: str,
    settings: Settings,
    received_at: str | datetime | None,
    size_bytes: int | None = None,
    sha256: str | None = None,
) -> Upload:
    """A file to dry-run, with its received time: ``received_at``, else the recorded arrival of
    these bytes under this name (or under any name) from this hospital, else now."""
    sha = sha256 or hashlib.sha256(data).hexdigest()
    name = Path(name).name
    source = None
    if received_at is None:
        log = _arrivals(settings)
        arrival = log.get(hospital, f"{hospital}/{name}", sha) or log.by_content(hospital, sha)
        received_at = arrival.received_at if arrival else utc_now()
        source = arrival.source if arrival else None
    return Upload(
        name=name,
        data=data,
        hospital=hospital,
        received_at=normalise_time(received_at),
        arrival_source=source,
        size_bytes=size_bytes,
        sha256=sha,
    )


def dry_run_uploads(
    uploads: list[Upload],
    settings: Settings,
    validator: CaseValidator | None = None,
    *,
    lang: str | None = None,
) -> list[dict]:
    """The receipts ingest would give these files, each as if it were the only file sent now
    (one validation run for all; nothing stored). The checks against stored cases use the
    published snapshot (duplicate file, ``key_exists``, corrections, voids), so each prediction
    equals the ingest outcome for the state the snapshot shows. With a published warehouse the
    pseudonym key is required and must be the warehouse's. ``lang``: the receipts' language
    (default: each file's header language, as ingest; the web gives its reader's language)."""
    registry = reference.load_hospitals(settings.hospital_registry)
    if publish.current(settings) is None and not settings.warehouse_path.exists():
        key = settings.pseudonym_key.encode() if settings.pseudonym_key else DRY_RUN_KEY
        checked = check_uploads(uploads, settings, key=key, registry=registry, validator=validator)
        return [_dry_receipt(None, c, lang, settings.intake.chunk_rows) for c in checked]
    key = settings.require_pseudonym_key()
    with reader(settings) as con:
        ledger.check_key(con, key_fingerprint(key), record=False)
        checked = check_uploads(uploads, settings, key=key, registry=registry, validator=validator)
        return [_dry_receipt(con, c, lang, settings.intake.chunk_rows) for c in checked]


def dry_run_data(
    name: str,
    data: bytes,
    hospital: str,
    settings: Settings,
    *,
    received_at: str | datetime | None = None,
    validator: CaseValidator | None = None,
    size_bytes: int | None = None,
    sha256: str | None = None,
    lang: str | None = None,
) -> dict:
    """The receipt ingest would give ``data`` sent by ``hospital`` as ``name``; nothing is
    stored (see :func:`dry_run_uploads`). ``received_at``: default the recorded arrival of
    these bytes from this hospital, else now. (``size_bytes``/``sha256``: of a file too large
    to be read, ``data`` empty.) ``lang``: the receipt's language (default: the file's)."""
    upload = _upload(name, data, hospital, settings, received_at, size_bytes, sha256)
    return dry_run_uploads([upload], settings, validator, lang=lang)[0]


def _dry_receipt(  # type: ignore[no-untyped-def]
    con, checked, lang: str | None = None, chunk_rows: int = 0
) -> dict:
    if checked.directory is not None:  # a large file, staged piece by piece: planned so
        outcome = ledger.plan_staged(con, checked.directory, chunk_rows)
    else:
        outcome = ledger.plan_submission(con, checked.meta, checked.rows, checked.errors)
    header_language = outcome.language
    if lang is not None:
        outcome = replace(outcome, language=lang)
    record = ledger.submission_record(checked.meta, outcome, datetime.now())
    record["unknown_columns"] = checked.meta["unknown_columns"]
    errors = [
        {k: (None if v != v else v) for k, v in e.items()}  # NaN -> None
        for e in outcome.quarantine[
            ["source_row", "field", "value", "rule", "message_en", "message_zh"]
        ].to_dict("records")
    ]
    receipt = build_receipt(record, errors)
    receipt["header_language"] = header_language  # the file's, whatever the receipt's language
    return receipt


def dry_run_files(
    files: list[tuple[Path, str]],
    settings: Settings,
    validator: CaseValidator | None = None,
    *,
    received_at: str | datetime | None = None,
    lang: str | None = None,
) -> list[dict]:
    """:func:`dry_run` of several (file, hospital) pairs in one validation run, each predicted
    as if it were the only file sent now. A file over the size limit is refused unread."""
    uploads = []
    for path, hospital in files:
        if not path.is_file():
            raise NotFound(f"no such file: {path}")
        size = path.stat().st_size
        if size > settings.intake.max_file_bytes:
            uploads.append(
                _upload(path.name, b"", hospital, settings, received_at, size, sha256_file(path))
            )
        else:
            uploads.append(_upload(path.name, path.read_bytes(), hospital, settings, received_at))
    return dry_run_uploads(uploads, settings, validator, lang=lang)


def dry_run(
    path: Path,
    hospital: str,
    settings: Settings,
    validator: CaseValidator | None = None,
    *,
    received_at: str | datetime | None = None,
    lang: str | None = None,
) -> dict:
    """Validate one file as if sent by ``hospital``; stores nothing. Returns the receipt
    (see :func:`dry_run_uploads`). A file over the size limit is refused without being read."""
    return dry_run_files(
        [(path, hospital)], settings, validator, received_at=received_at, lang=lang
    )[0]


# ---- arrivals and receipts -----------------------------------------------------------------


def record_arrival(
    settings: Settings,
    hospital: str,
    name: str,
    sha256: str,
    size_bytes: int | None = None,
    received_at: str | datetime | None = None,
    source: str = "api",
) -> Arrival:
    """Record that ``<hospital>/<name>`` with these bytes arrived (now by default). Returns the
    arrival in force: an earlier record of the same file wins (idempotent)."""
    arrival = Arrival(
        hospital_code=hospital,
        relpath=f"{hospital}/{name}",
        sha256=sha256.lower(),
        received_at=normalise_time(received_at) if received_at else utc_now(),
        source=source,
        size_bytes=size_bytes,
    )
    try:
        return _arrivals(settings).record([arrival])[0]
    except OSError as exc:
        raise from_os_error(exc, settings.home) or exc from exc


def import_arrivals(settings: Settings, manifest: Path) -> tuple[int, int]:
    """Record the arrivals listed in a manifest (CSV: file, sha256, received_at[, bytes]);
    returns (listed, newly recorded)."""
    if not manifest.is_file():
        raise NotFound(f"no such manifest: {manifest}")
    try:
        listed = read_manifest(manifest)
    except ValueError as exc:
        raise BadInput(f"manifest {manifest}: {exc}") from exc
    log = _arrivals(settings)
    before = len(log.all())
    try:
        log.record(listed)
    except OSError as exc:
        raise from_os_error(exc, settings.home) or exc from exc
    return len(listed), len(log.all()) - before


def list_arrivals(settings: Settings, hospital: str | None = None) -> list[Arrival]:
    return [a for a in _arrivals(settings).all() if hospital is None or a.hospital_code == hospital]


def receipt(settings: Settings, submission_id: str) -> dict:
    """The receipt of a loaded submission (JSON form) from the published snapshot."""
    with reader(settings) as con:
        found = con.execute(
            "SELECT count(*) FROM submissions WHERE submission_id = ?", [submission_id]
        ).fetchone()[0]
        if not found:
            raise NotFound(f"no submission {submission_id}")
        return ledger.receipt_from_warehouse(con, submission_id)


UPLOAD_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx")


def dry_run_upload(
    settings: Settings, hospital: str, filename: str, content: bytes, lang: str | None = None
) -> dict:
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
        receipt = dry_run(path, hospital, settings, lang=lang)
    receipt["file_name"] = base[:255]
    receipt["dry_run"] = True
    return receipt
