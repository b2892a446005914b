"""Check files as intake would (read, prepare, validate), storing nothing.

The checks against stored cases (duplicate file, ``key_exists``, corrections, voids) need the
ledger: :func:`pipeline.services.intake.dry_run` adds them from the published snapshot, so
``sentinel validate`` predicts exactly what ingest will do.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pandas as pd

from pipeline.config import Settings
from pipeline.intake.discover import LandingFile, file_order_key
from pipeline.intake.submission import read_submissions
from pipeline.validation.runner import CaseValidator
from pipeline.validation.staging import Checked, check_files, stage_pieces, write_meta


@dataclass(frozen=True)
class Upload:
    """A file to check as ``<hospital>/<name>``, received at ``received_at`` (UTC, ISO).
    ``size_bytes``/``sha256`` describe a file over the size limit passed without its bytes
    (``data`` empty): it is refused before reading."""

    name: str
    data: bytes
    hospital: str
    received_at: str
    arrival_source: str | None = None
    size_bytes: int | None = None
    sha256: str | None = None


def check_uploads(
    uploads: list[Upload],
    settings: Settings,
    *,
    key: bytes,
    registry: pd.DataFrame,
    validator: CaseValidator | None = None,
) -> Iterator[Checked]:
    """Read every upload and validate them in one Great Expectations run: the staged form
    ingest would write for each, nothing stored, in the uploads' order. A large file (more
    than ``chunk_rows`` rows) is staged piece by piece, as ingest does, into a temporary
    folder under the staging area, given as :attr:`Checked.directory` (planned from there piece
    by piece) and removed once the caller asks for the next item (or stops, also on error)."""
    items = []
    for upload in uploads:
        name = PurePosixPath(upload.name).name or "upload"
        items.append(
            LandingFile(
                hospital_code=upload.hospital,
                path=name,
                relpath=f"{upload.hospital}/{name}",
                sha256=upload.sha256 or hashlib.sha256(upload.data).hexdigest(),
                size_bytes=len(upload.data) if upload.size_bytes is None else upload.size_bytes,
                received_at=upload.received_at,
                order_key=file_order_key(name),
                arrival_source=upload.arrival_source,
            )
        )
    staged = read_submissions(
        items, registry, key, limits=settings.intake, data=[u.data for u in uploads], stream=True
    )
    # A dry run stores nothing, so it writes no Data Docs either. Files refused whole have no
    # rows to validate: no validator for them (building one imports Great Expectations, seconds).
    if validator is None and any(s.frame is not None or s.pieces for s in staged):
        validator = CaseValidator(data_docs_dir=None)
    checked = iter(check_files([s for s in staged if s.pieces is None], settings, validator))
    for item in staged:
        if item.pieces is None:
            yield next(checked)
            continue
        assert validator is not None
        root = settings.staging_dir / "dry-run"
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=root) as folder:
            meta = stage_pieces(item, settings, validator, Path(folder))
            write_meta(Path(folder), meta)
            item.pieces = None  # its pieces are consumed: nothing of them kept
            yield Checked(meta, None, None, directory=Path(folder))
