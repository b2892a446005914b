"""Find new files in the landing zone and group them into intake batches.

Landing layout: ``<landing>/<HOSPITAL_CODE>/<file>``, listed without following any link
(:mod:`pipeline.intake.landing`: links and anything that is not an ordinary file are refused
with a rule and get a receipt). A file is new when the ledger has no submission with the same
hospital, relative path and SHA-256. Files of one hospital are applied in the order of the date
in their name (``YYYYMMDD`` or ``YYYYMM``), then by name, so the outcome never depends on
file-system timestamps or listing order. Its received time is its arrival
(:mod:`pipeline.intake.arrivals`), never its modification time.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path, PurePosixPath

from pipeline.config import IntakeLimits
from pipeline.escaping import one_line
from pipeline.intake import landing as landing_zone
from pipeline.intake.arrivals import Arrival, Arrivals, utc_now
from pipeline.intake.bounds import FileRejected

SUPPORTED_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xls"}
_NAME_DATE = re.compile(r"(?<![0-9])(20[0-9]{2})([01][0-9])([0-3][0-9])?(?![0-9])")


@dataclass(frozen=True)
class LandingFile:
    hospital_code: str
    path: str  # landing directory / relpath (never resolved through a link)
    relpath: str  # relative to the landing directory, POSIX style
    sha256: str
    size_bytes: int
    received_at: str  # ISO timestamp (UTC, naive) of the file's arrival (see arrivals.py)
    order_key: str
    refusal: str | None = None  # a rule of landing.REFUSALS: listed, never read
    arrival_source: str | None = None  # api | manifest | scan | cli
    identity: str | None = None  # what the listing saw (device, inode, size, mtime)
    landing: str | None = None  # the landing directory

    @property
    def submission_id(self) -> str:
        digest = hashlib.sha256(f"{self.hospital_code}\0{self.relpath}\0{self.sha256}".encode())
        return "S" + digest.hexdigest()[:15]

    @property
    def landing_dir(self) -> Path:
        if self.landing:
            return Path(self.landing)
        depth = len(PurePosixPath(self.relpath).parts)
        return Path(self.path).parents[depth - 1]

    def to_dict(self) -> dict:
        return asdict(self)


def file_order_key(name: str) -> str:
    match = _NAME_DATE.search(name)
    stamp = "".join((match.group(1), match.group(2), match.group(3) or "00")) if match else "9"
    return f"{stamp}|{name}"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def scan_landing(
    landing: Path, hospitals: set[str] | None = None, limits: IntakeLimits | None = None
) -> list[LandingFile]:
    """Every candidate file (and refusal) under ``landing``, in apply order. ``received_at``
    is left empty: :func:`stamp_arrivals` fills it from the arrivals log. A file over the size
    limit is never read, not even to hash it: its ``sha256`` is a digest of what was listed."""
    root = Path(landing).resolve()
    limits = limits or IntakeLimits()
    found: list[LandingFile] = []
    for entry in landing_zone.scan(root, hospitals):
        name = PurePosixPath(entry.relpath).name
        sha = None
        refusal = entry.refusal
        if refusal is None and entry.size_bytes > limits.max_file_bytes:
            refusal = "file_too_large"
        if refusal is None:
            try:
                sha = landing_zone.sha256_of(root, entry.relpath, entry.identity)
            except FileRejected as exc:
                if exc.rule == "file_changed":
                    continue  # changed since listing (still being written): next run
                refusal = exc.rule
        if sha is None:
            sha = landing_zone.refusal_digest(entry)
        found.append(
            LandingFile(
                hospital_code=entry.hospital_code,
                path=str(root / entry.relpath),
                relpath=entry.relpath,
                sha256=sha,
                size_bytes=entry.size_bytes,
                received_at="",
                order_key=file_order_key(name),
                refusal=refusal,
                identity=entry.identity,
                landing=str(root),
            )
        )
    return sorted(found, key=lambda f: (f.hospital_code, f.order_key))


def stamp_arrivals(files: list[LandingFile], arrivals: Arrivals) -> list[LandingFile]:
    """Each file with its received time from the arrivals log; a file seen for the first time
    is recorded now (source "scan"), so its received time never changes afterwards."""
    now = utc_now()
    first_seen = [
        Arrival(f.hospital_code, f.relpath, f.sha256, now, "scan", f.size_bytes)
        for f in files
        if arrivals.get(f.hospital_code, f.relpath, f.sha256) is None
    ]
    arrivals.record(first_seen)
    out = []
    for f in files:
        arrival = arrivals.get(f.hospital_code, f.relpath, f.sha256)
        assert arrival is not None  # recorded just above
        out.append(replace(f, received_at=arrival.received_at, arrival_source=arrival.source))
    return out


def plan_batches(
    files: list[LandingFile],
    max_files: int = 64,
    by_hospital: bool = True,
    max_bytes: int | None = None,
) -> list[list[LandingFile]]:
    """Group new files into batches: of one hospital each (the DAG's parallel stage tasks,
    one file per batch in daily use), or, ``by_hospital=False``, up to ``max_files`` of any
    hospitals (one validation run for many small files when staging runs in one process).
    ``max_bytes``: a batch also closes before its files would exceed this many bytes (a
    larger file is a batch of its own), so a batch's memory stays bounded. The outcome is the
    same: loading applies each hospital's files in their order either way."""
    batches: list[list[LandingFile]] = []
    size = 0
    for f in files:
        if (
            batches
            and (not by_hospital or batches[-1][0].hospital_code == f.hospital_code)
            and len(batches[-1]) < max_files
            and (max_bytes is None or size + f.size_bytes <= max_bytes)
        ):
            batches[-1].append(f)
            size += f.size_bytes
        else:
            batches.append([f])
            size = f.size_bytes
    return batches


def batch_label(batch: list[LandingFile]) -> str:
    """A readable name for a batch (the Airflow map index label): names are data, so control
    characters (a newline in a file name) are dropped."""
    first, last = Path(batch[0].relpath).name, Path(batch[-1].relpath).name
    code = one_line(batch[0].hospital_code)
    if len(batch) == 1:
        return f"{code}: {one_line(first)}"
    return f"{code}: {len(batch)} files {one_line(first)} .. {one_line(last)}"
