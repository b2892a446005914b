"""Check one file as intake would (read, prepare, validate), storing nothing.

The checks against stored cases (duplicate file, ``key_exists``, corrections, voids) need the
ledger: :func:`pipeline.services.intake.dry_run` adds them from the published snapshot, so
``sentinel validate`` predicts exactly what ingest will do.
"""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath

import pandas as pd

from pipeline.config import Settings
from pipeline.intake.discover import LandingFile, file_order_key
from pipeline.intake.submission import read_submission
from pipeline.validation.runner import CaseValidator
from pipeline.validation.staging import Checked, check_files


def check_data(
    name: str,
    data: bytes,
    hospital: str,
    settings: Settings,
    *,
    received_at: str,
    key: bytes,
    registry: pd.DataFrame,
    validator: CaseValidator | None = None,
    arrival_source: str | None = None,
    size_bytes: int | None = None,
    sha256: str | None = None,
) -> Checked:
    """Read and validate ``data`` as the file ``<hospital>/<name>`` received at
    ``received_at`` (UTC, ISO): the staged form ingest would write, nothing stored.
    (``size_bytes`` and ``sha256`` describe a file over the size limit, passed without its
    bytes: it is refused before reading.)"""
    name = PurePosixPath(name).name or "upload"
    item = LandingFile(
        hospital_code=hospital,
        path=name,
        relpath=f"{hospital}/{name}",
        sha256=sha256 or hashlib.sha256(data).hexdigest(),
        size_bytes=len(data) if size_bytes is None else size_bytes,
        received_at=received_at,
        order_key=file_order_key(name),
        arrival_source=arrival_source,
    )
    staged = read_submission(item, registry, key, limits=settings.intake, data=data)
    # A dry run stores nothing, so it writes no Data Docs either.
    validator = validator or CaseValidator(data_docs_dir=None)
    return check_files([staged], settings, validator)[0]
