"""The Parquet lake: every stored case version, partitioned by visit month.

Layout: ``<lake>/case_versions/visit_month=YYYY-MM/<submission_id>.parquet``. One file per
submission and month, named by the submission id: a re-run after a crash rewrites identical
files, and nothing is ever appended in place.

``<lake>`` is a local directory (the default, ``$SENTINEL_HOME/lake``) or an object-store URI
(``SENTINEL_LAKE_URI=s3://bucket/lake``), reached through ``pyarrow.fs``. On a local disk a file
is written under a temporary name and renamed; on S3 it is written straight to its final key (a
PUT is atomic and there is no rename). Endpoint and credentials of S3 come from the standard
``AWS_*`` variables or the URI's query (``?endpoint_override=host:port&scheme=http``), never
from Sentinel's settings.
"""

from __future__ import annotations

import shutil
from pathlib import Path, PurePosixPath

import pandas as pd
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

TABLE = "case_versions"
PARTITION = "visit_month="


def open_lake(location: str | Path) -> tuple[pafs.FileSystem, str]:
    """The file system and base path of a lake location (a path or a URI such as s3://b/p)."""
    text = str(location)
    if "://" not in text:
        return pafs.LocalFileSystem(), Path(text).resolve().as_posix()
    fs, base = pafs.FileSystem.from_uri(text)
    return fs, base.rstrip("/")


def _is_local(fs: pafs.FileSystem) -> bool:
    return isinstance(fs, pafs.LocalFileSystem)


def _lake_files(fs: pafs.FileSystem, base: str) -> list[str]:
    """Every object under ``<base>/case_versions/visit_month=*/`` (temporary files included)."""
    selector = pafs.FileSelector(f"{base}/{TABLE}", recursive=True, allow_not_found=True)
    return sorted(
        info.path
        for info in fs.get_file_info(selector)
        if info.type == pafs.FileType.File
        and PurePosixPath(info.path).parent.name.startswith(PARTITION)
    )


def _files_of(fs: pafs.FileSystem, base: str, submission_id: str) -> list[str]:
    name = f"{submission_id}.parquet"
    return [p for p in _lake_files(fs, base) if PurePosixPath(p).name == name]


def files_by_submission(lake: str | Path) -> dict[str, list[str]]:
    """Submission id -> its lake files (one listing of the lake, for a whole load)."""
    fs, base = open_lake(lake)
    out: dict[str, list[str]] = {}
    for path in _lake_files(fs, base):
        name = PurePosixPath(path).name
        if not name.startswith("."):
            out.setdefault(name.removesuffix(".parquet"), []).append(path)
    return out


def write_submission_versions(
    lake: str | Path,
    submission_id: str,
    versions: pd.DataFrame,
    existing: list[str] | None = None,
) -> None:
    """Write a submission's versions, replacing its earlier files (a crashed run's).
    ``existing``: its files as listed once by the caller (:func:`files_by_submission`), so a
    load of many submissions does not list the whole lake for each; default: list now."""
    fs, base = open_lake(lake)
    _delete_stale(fs, base, submission_id, existing)
    if versions.empty:
        return
    months = versions["visit_datetime"].dt.strftime("%Y-%m")
    for month, part in versions.groupby(months, sort=True):
        _write_month(fs, base, submission_id, str(month), part)


def _delete_stale(
    fs: pafs.FileSystem, base: str, submission_id: str, existing: list[str] | None
) -> None:
    stale = _files_of(fs, base, submission_id) if existing is None else existing
    for path in stale:
        fs.delete_file(path)


def _write_month(
    fs: pafs.FileSystem, base: str, submission_id: str, month: str, part: pd.DataFrame
) -> None:
    """One month's file of a submission: its versions sorted by hospital, case and version."""
    directory = f"{base}/{TABLE}/{PARTITION}{month}"
    table = pa.Table.from_pandas(
        part.sort_values(["hospital_code", "case_id", "version"]), preserve_index=False
    )
    final = f"{directory}/{submission_id}.parquet"
    if _is_local(fs):
        fs.create_dir(directory, recursive=True)
        tmp = f"{directory}/.{submission_id}.parquet.tmp"
        pq.write_table(table, tmp, compression="zstd", filesystem=fs)
        fs.move(tmp, final)  # os.replace: atomic on one file system
    else:
        pq.write_table(table, final, compression="zstd", filesystem=fs)


class MonthParts:
    """A large submission's versions gathered piece by piece, then written as its lake files.

    Each piece's versions go to local part files, one per visit month (``scratch``, a
    temporary folder); :meth:`write` then writes each month's file from its parts, so only
    one month's versions are in memory at a time. The files equal those of
    :func:`write_submission_versions` over all the versions at once, column types included:
    a column typed differently by two pieces (e.g. ``age`` int64 in one, float64 in one
    with a missing age; dates of a piece without any at a coarser unit) gets the type pandas
    gives the whole submission (that of concatenating the pieces)."""

    def __init__(self, scratch: Path) -> None:
        shutil.rmtree(scratch, ignore_errors=True)  # a crashed run's parts
        self.scratch = scratch
        self.parts: dict[str, list[Path]] = {}
        self.dtypes: list[pd.Series] = []  # each piece's column types

    def add(self, versions: pd.DataFrame) -> None:
        if versions.empty:
            return
        self.dtypes.append(versions.dtypes)
        months = versions["visit_datetime"].dt.strftime("%Y-%m")
        for month, part in versions.groupby(months, sort=True):
            paths = self.parts.setdefault(str(month), [])
            path = self.scratch / str(month) / f"{len(paths):06d}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.Table.from_pandas(part, preserve_index=False), path)
            paths.append(path)

    def write(self, lake: str | Path, submission_id: str, existing: list[str] | None) -> None:
        """Replace the submission's lake files (a crashed run's) by one file per month."""
        fs, base = open_lake(lake)
        _delete_stale(fs, base, submission_id, existing)
        dtypes = _common_dtypes(self.dtypes)
        for month in sorted(self.parts):
            frame = pd.concat(
                [pq.read_table(p).to_pandas() for p in self.parts[month]], ignore_index=True
            )
            changed = {c: t for c, t in dtypes.items() if frame[c].dtype != t}
            if changed:
                frame = frame.astype(changed)
            _write_month(fs, base, submission_id, month, frame)
            del frame
        self.discard()

    def discard(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)


def _common_dtypes(pieces: list[pd.Series]) -> dict[str, object]:
    """Each column's type in the concatenation of pieces of these column types (pandas'
    rule, e.g. int64 and float64 give float64; datetimes the finest unit)."""
    if not pieces:
        return {}
    return {
        column: pd.concat([pd.Series([], dtype=p[column]) for p in pieces]).dtype
        for column in pieces[0].index
    }


def remove_orphans(lake: str | Path, keep: set[str]) -> list[str]:
    """Delete lake files (and temporary files) of submissions that are neither committed nor
    staged: leftovers of a crash whose landing file has since been withdrawn."""
    fs, base = open_lake(lake)
    removed = []
    for path in _lake_files(fs, base):
        name = PurePosixPath(path).name
        if name.startswith(".") or name.removesuffix(".parquet") not in keep:
            fs.delete_file(path)
            removed.append(path)
    return removed


def read_versions(lake: str | Path) -> pd.DataFrame:
    fs, base = open_lake(lake)
    files = [p for p in _lake_files(fs, base) if not PurePosixPath(p).name.startswith(".")]
    if not files:
        return pd.DataFrame()
    return pd.concat(
        [pq.read_table(f, filesystem=fs).to_pandas() for f in files], ignore_index=True
    )
