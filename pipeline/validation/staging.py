"""Stage a batch of landing files: read, prepare, validate with GX, write staging files.

Staging touches no database, so batches run in parallel; the single writer
(:mod:`pipeline.storage.ledger`) applies them. Each submission is staged into
``staging/<submission_id>/`` via a temporary directory and a rename, so a crash leaves either a
complete staged submission or nothing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from pipeline.config import Settings
from pipeline.contract import CASE_FIELD_NAMES
from pipeline.intake.discover import LandingFile
from pipeline.intake.submission import read_submission
from pipeline.validation.runner import ERROR_COLUMNS, CaseValidator

META = "meta.json"
ROWS = "rows.parquet"
ERRORS = "errors.parquet"


def stage_batch(
    files: list[LandingFile], settings: Settings, validator: CaseValidator, registry: pd.DataFrame
) -> list[str]:
    """Stage every file of a batch; returns the staged submission ids."""
    key = settings.require_pseudonym_key()
    staged = [read_submission(f, registry, key) for f in files]
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


def staged_submission_dirs(settings: Settings) -> list[Path]:
    """Complete staged submissions (temporary ``.<id>.tmp`` folders of a crash excluded)."""
    if not settings.staging_dir.exists():
        return []
    return sorted(
        p
        for p in settings.staging_dir.iterdir()
        if p.is_dir() and not p.name.startswith(".") and (p / META).exists()
    )
