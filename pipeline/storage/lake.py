"""The Parquet lake: every stored case version, partitioned by visit month.

Layout: ``<lake>/case_versions/visit_month=YYYY-MM/<submission_id>.parquet``. One file per
submission and month, named by the submission id, written to a temporary name and renamed: a
re-run after a crash rewrites identical files, and nothing is ever appended in place.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

TABLE = "case_versions"


def _files_of(lake_dir: Path, submission_id: str) -> list[Path]:
    return sorted((lake_dir / TABLE).glob(f"visit_month=*/{submission_id}.parquet"))


def write_submission_versions(lake_dir: Path, submission_id: str, versions: pd.DataFrame) -> None:
    for stale in _files_of(lake_dir, submission_id):
        stale.unlink()
    if versions.empty:
        return
    months = versions["visit_datetime"].dt.strftime("%Y-%m")
    for month, part in versions.groupby(months, sort=True):
        directory = lake_dir / TABLE / f"visit_month={month}"
        directory.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pandas(
            part.sort_values(["hospital_code", "case_id", "version"]), preserve_index=False
        )
        tmp = directory / f".{submission_id}.parquet.tmp"
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, directory / f"{submission_id}.parquet")


def remove_orphans(lake_dir: Path, keep: set[str]) -> list[Path]:
    """Delete lake files (and temporary files) of submissions that are neither committed nor
    staged: leftovers of a crash whose landing file has since been withdrawn."""
    removed = []
    for path in (lake_dir / TABLE).glob("visit_month=*/*"):
        name = path.name
        if name.startswith(".") or name.removesuffix(".parquet") not in keep:
            path.unlink()
            removed.append(path)
    return removed


def read_versions(lake_dir: Path) -> pd.DataFrame:
    files = sorted((lake_dir / TABLE).glob("visit_month=*/*.parquet"))
    if not files:
        return pd.DataFrame()
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
