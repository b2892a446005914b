"""When each file arrived: the arrivals log, the one source of a submission's received time.

A file's *received time* is when Sentinel first saw it, never its modification time (a copy or
a fresh checkout changes that). It is recorded once, in an append-only log outside the landing
zone, ``$SENTINEL_HOME/arrivals/arrivals.jsonl``, one JSON object per line:

``{"hospital_code": "GZ001", "relpath": "GZ001/GZ001_20261001.csv", "sha256": "...",
"size_bytes": 5120, "received_at": "2026-10-02T01:30:00", "source": "api"}``

(``received_at`` in UTC, naive, to the second). Who writes it:

* the submission API, at upload, *before* it renames the uploaded file into the hospital's
  folder (so ingest can never see the file without its arrival): :func:`record` with
  ``source="api"``;
* ``sentinel arrivals import MANIFEST`` for files whose arrival is known from elsewhere (the
  sample generator's ``arrivals.csv``; a migration from another system): ``source="manifest"``;
* ingest's discovery, for a file found in the landing zone with no arrival yet (copied in by
  hand or by SFTP): the moment it was first seen, ``source="scan"``.

The first record of a (hospital, path, SHA-256) wins; later ones are ignored, so recording is
idempotent and a crashed run that recorded a first sighting keeps it. Writers hold an exclusive
``flock`` on the log while they check and append; readers take no lock and ignore a torn last
line. The ledger copies the time and source into ``submissions.received_at`` and
``submissions.arrival_source``.
"""

from __future__ import annotations

import csv
import fcntl
import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

LOG_NAME = "arrivals.jsonl"
SOURCES = ("api", "manifest", "scan", "cli")


@dataclass(frozen=True)
class Arrival:
    hospital_code: str
    relpath: str  # relative to the landing directory, POSIX style: "<HOSPITAL>/<name>"
    sha256: str
    received_at: str  # ISO, UTC, naive, seconds
    source: str
    size_bytes: int | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.hospital_code, self.relpath, self.sha256)


def utc_now() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def normalise_time(value: str | datetime) -> str:
    """An arrival time as stored: UTC, naive, ISO to the second (an aware time is converted;
    a naive one is taken as UTC; a trailing Z is accepted)."""
    stamp = value if isinstance(value, datetime) else datetime.fromisoformat(value.strip())
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(UTC).replace(tzinfo=None)
    return stamp.replace(microsecond=0).isoformat(timespec="seconds")


def _parse(line: str) -> Arrival | None:
    try:
        data = json.loads(line)
        return Arrival(
            hospital_code=str(data["hospital_code"]),
            relpath=str(data["relpath"]),
            sha256=str(data["sha256"]),
            received_at=normalise_time(str(data["received_at"])),
            source=str(data.get("source", "scan")),
            size_bytes=data.get("size_bytes"),
        )
    except (ValueError, KeyError, TypeError):
        return None  # a torn last line (a writer killed mid-append) or a hand edit


def _read(path: Path) -> dict[tuple[str, str, str], Arrival]:
    found: dict[tuple[str, str, str], Arrival] = {}
    if not path.exists():
        return found
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if not line.endswith("\n"):
                break  # an append in progress or torn: not recorded yet
            arrival = _parse(line)
            if arrival is not None:
                found.setdefault(arrival.key, arrival)
    return found


class Arrivals:
    """The arrivals recorded under ``directory`` (read once; :meth:`record` appends)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / LOG_NAME
        self._by_key = _read(self.path)

    def get(self, hospital: str, relpath: str, sha256: str) -> Arrival | None:
        return self._by_key.get((hospital, relpath, sha256))

    def by_content(self, hospital: str, sha256: str) -> Arrival | None:
        """The earliest arrival of these bytes from this hospital, whatever the file name (what
        a dry run of a file about to be sent uses)."""
        hits = [
            a for a in self._by_key.values() if a.hospital_code == hospital and a.sha256 == sha256
        ]
        return min(hits, key=lambda a: (a.received_at, a.relpath)) if hits else None

    def all(self) -> list[Arrival]:
        return sorted(self._by_key.values(), key=lambda a: (a.received_at, a.key))

    def record(self, arrivals: Iterable[Arrival]) -> list[Arrival]:
        """Append the arrivals not recorded yet (under the writers' lock); returns, for each
        one given, the arrival in force (an earlier record of the same file wins)."""
        wanted = list(arrivals)
        if not wanted:
            return []
        for a in wanted:
            if a.source not in SOURCES:
                raise ValueError(f"unknown arrival source {a.source!r}")
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o640)
        with os.fdopen(fd, "r+", encoding="utf-8") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                self._by_key = _read(self.path)  # what other writers added meanwhile
                lines = []
                for a in wanted:
                    if a.key not in self._by_key:
                        self._by_key[a.key] = a
                        lines.append(json.dumps(asdict(a), ensure_ascii=False, sort_keys=True))
                if lines:
                    handle.seek(0, os.SEEK_END)
                    if handle.tell() and not _ends_with_newline(self.path):
                        handle.write("\n")  # close a torn line so ours stay whole
                    handle.write("\n".join(lines) + "\n")
                    handle.flush()
                    os.fsync(handle.fileno())
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return [self._by_key[a.key] for a in wanted]


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


def read_manifest(path: Path) -> list[Arrival]:
    """A manifest of intended arrivals: CSV with columns ``file`` (relative to the landing
    directory, ``<HOSPITAL>/<name>``), ``sha256``, ``received_at`` (ISO; UTC when naive)."""
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    out = []
    for number, row in enumerate(rows, 2):
        try:
            relpath = row["file"].strip()
            out.append(
                Arrival(
                    hospital_code=relpath.split("/", 1)[0],
                    relpath=relpath,
                    sha256=row["sha256"].strip().lower(),
                    received_at=normalise_time(row["received_at"]),
                    source="manifest",
                    size_bytes=int(row["bytes"]) if row.get("bytes") else None,
                )
            )
        except (KeyError, ValueError, AttributeError) as exc:
            raise ValueError(f"{path.name} line {number}: {exc}") from exc
    return out
