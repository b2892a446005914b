"""Find new files in the landing zone and group them into intake batches.

Landing layout: ``<landing>/<HOSPITAL_CODE>/<file>``. A file is new when the ledger has no
submission with the same hospital, relative path and SHA-256. Files of one hospital are applied
in the order of the date in their name (``YYYYMMDD`` or ``YYYYMM``), then by name, so the
outcome never depends on file-system timestamps or listing order.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

SUPPORTED_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xls"}
_NAME_DATE = re.compile(r"(?<![0-9])(20[0-9]{2})([01][0-9])([0-3][0-9])?(?![0-9])")


@dataclass(frozen=True)
class LandingFile:
    hospital_code: str
    path: str  # absolute path
    relpath: str  # relative to the landing directory, POSIX style
    sha256: str
    size_bytes: int
    received_at: str  # ISO timestamp (UTC, naive) of the file's arrival (its mtime)
    order_key: str

    @property
    def submission_id(self) -> str:
        digest = hashlib.sha256(f"{self.hospital_code}\0{self.relpath}\0{self.sha256}".encode())
        return "S" + digest.hexdigest()[:15]

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


def scan_landing(landing: Path, hospitals: set[str] | None = None) -> list[LandingFile]:
    """Every candidate file under ``landing`` (optionally only some hospitals), in apply order."""
    if not landing.is_dir():
        raise FileNotFoundError(f"landing directory {landing} does not exist")
    found: list[LandingFile] = []
    for folder in sorted(p for p in landing.iterdir() if p.is_dir()):
        if hospitals and folder.name not in hospitals:
            continue
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or path.name.startswith("."):
                continue
            stat = path.stat()
            received = datetime.fromtimestamp(stat.st_mtime, UTC).replace(tzinfo=None)
            found.append(
                LandingFile(
                    hospital_code=folder.name,
                    path=str(path.resolve()),
                    relpath=path.relative_to(landing).as_posix(),
                    sha256=sha256_file(path),
                    size_bytes=stat.st_size,
                    received_at=received.isoformat(timespec="seconds"),
                    order_key=file_order_key(path.name),
                )
            )
    return sorted(found, key=lambda f: (f.hospital_code, f.order_key))


def plan_batches(files: list[LandingFile], max_files: int = 64) -> list[list[LandingFile]]:
    """Group new files into batches of one hospital each (one file per batch in daily use)."""
    batches: list[list[LandingFile]] = []
    for f in files:
        if (
            batches
            and batches[-1][0].hospital_code == f.hospital_code
            and len(batches[-1]) < max_files
        ):
            batches[-1].append(f)
        else:
            batches.append([f])
    return batches


def batch_label(batch: list[LandingFile]) -> str:
    """A readable name for a batch (used as the Airflow map index label)."""
    first, last = Path(batch[0].relpath).name, Path(batch[-1].relpath).name
    if len(batch) == 1:
        return f"{batch[0].hospital_code}: {first}"
    return f"{batch[0].hospital_code}: {len(batch)} files {first} .. {last}"
