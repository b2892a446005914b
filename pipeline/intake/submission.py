"""Read one landing file as a submission: sender checks, reading, preparation (no database).

A whole-file rejection still keeps every readable row (they go to quarantine: with their own
row errors where they have any, else with the file's reason), so nothing the sender sent is
lost and the receipt lists every error found, not only the file's. Validation of the rows
(Great Expectations) and staging are the next step (:mod:`pipeline.validation.staging`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from pipeline.config import IntakeLimits
from pipeline.contract import CASE_FIELD_NAMES, header_language
from pipeline.intake import landing
from pipeline.intake.bounds import Bounds
from pipeline.intake.discover import SUPPORTED_SUFFIXES, LandingFile
from pipeline.intake.prepare import (
    CanonicalExtract,
    PreparedExtract,
    canonicalise,
    local_time,
    prepare_canonical,
    prepare_pieces,
)
from pipeline.intake.reader import FileRejected, RawExtract, read_extract_chunks


@dataclass
class StagedFile:
    meta: dict
    frame: pd.DataFrame | None
    row_errors: list[dict] = field(default_factory=list)  # found while reading (cell limit)


def check_sender(hospital_code: str, registry: pd.DataFrame, received: date) -> None:
    """The landing folder must be a registered hospital, active when the file arrived."""
    rows = registry[registry["hospital_code"] == hospital_code]
    if rows.empty:
        raise FileRejected("unknown_sender", hospital=hospital_code)
    row = rows.iloc[0]
    start, end = row["active_from"], row["active_to"]  # active_to: last active day
    if received < start or (end is not None and received > end):
        raise FileRejected("inactive_sender", hospital=hospital_code, date=received.isoformat())


def _file_bytes(f: LandingFile, limits: IntakeLimits) -> bytes:
    """The file's bytes, read inside the landing zone; they must be the ones discovered."""
    data = landing.read_bytes(f.landing_dir, f.relpath, f.identity, limits)
    if hashlib.sha256(data).hexdigest() != f.sha256:
        raise FileRejected("file_changed")
    return data


def read_submission(
    f: LandingFile,
    registry: pd.DataFrame,
    key: bytes,
    *,
    limits: IntakeLimits | None = None,
    data: bytes | None = None,
) -> StagedFile:
    """Read and prepare one file (``data``: its bytes when already in hand, e.g. a dry run of
    an upload). A whole-file rejection still keeps every readable row."""
    return read_submissions([f], registry, key, limits=limits, data=[data])[0]


@dataclass
class _Reading:
    """One file between reading and preparation."""

    f: LandingFile
    meta: dict
    rejection: FileRejected | None = None
    canonical: CanonicalExtract | None = None
    prepared: PreparedExtract | None = None


def read_submissions(
    files: list[LandingFile],
    registry: pd.DataFrame,
    key: bytes,
    *,
    limits: IntakeLimits | None = None,
    data: list[bytes | None] | None = None,
) -> list[StagedFile]:
    """:func:`read_submission` of several files: each is read and checked on its own, and the
    small ones are prepared together in one columnar pass (the scrubber's automata, the date
    parsing passes and the lookups cost once per batch, not once per file; preparation is row
    by row, so each file's result is the one it would have alone). A file of more than
    ``limits.chunk_rows`` rows is prepared on its own, in chunks (bounded memory)."""
    limits = limits or IntakeLimits()
    data = data if data is not None else [None] * len(files)
    readings = [_read_one(f, registry, key, limits, d) for f, d in zip(files, data, strict=True)]
    together = [r for r in readings if r.canonical is not None]
    for r, prepared in zip(
        together,
        prepare_canonical(
            [r.canonical for r in together], key=key, earliest_date=limits.earliest_date
        ),
        strict=True,
    ):
        r.prepared = prepared
    return [_finish(r, registry) for r in readings]


def _read_one(
    f: LandingFile, registry: pd.DataFrame, key: bytes, limits: IntakeLimits, data: bytes | None
) -> _Reading:
    """Sender checks, reading and header mapping of one file (a large file is prepared here,
    in chunks; the others later, together)."""
    received = datetime.fromisoformat(f.received_at)
    meta = {
        **f.to_dict(),
        "submission_id": f.submission_id,
        "file_rule": None,
        "file_params": {},
        "file_message": None,  # English, for logs; receipts render the rule in their language
        "header_language": None,  # unknown until a header row is read
        "file_format": None,
        "encoding": None,
        "unknown_columns": [],
        "missing_columns": [],
        "rows_received": 0,
        "rows_duplicate_in_file": 0,
    }
    reading = _Reading(f, meta)
    try:
        try:
            check_sender(f.hospital_code, registry, local_time(received).date())
        except FileRejected as exc:
            reading.rejection = exc
        Bounds(limits).file_size(f.size_bytes)  # before reading a byte
        if f.refusal:
            raise FileRejected(f.refusal)
        suffix = Path(f.relpath).suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            raise FileRejected("unsupported_format", suffix=suffix or Path(f.relpath).name)
        if data is None:
            data = _file_bytes(f, limits)
        # Read in pieces of ``chunk_rows`` rows: a large file is prepared piece by piece as it
        # is read (its raw rows never whole); a file of one piece is prepared with the batch.
        # A rejection half way (e.g. a broken quote at the end) keeps nothing of the file.
        pieces = read_extract_chunks(Path(f.relpath), data, limits, limits.chunk_rows)
        first = next(pieces)
        read = {
            "file_format": first.file_format,
            "encoding": first.encoding,
            "header_language": first.language,
            "rows_received": len(first.rows),
        }
        second = next(pieces, None)
        if second is None:
            meta.update(read)
            reading.canonical = canonicalise(first, sender=f.hospital_code, received_at=received)
        else:
            head = [first, second]
            del first, second  # each piece is dropped once prepared
            reading.prepared = _prepare_streamed(head, pieces, read, meta, f, key, limits)
    except FileRejected as exc:
        reading.rejection = reading.rejection or exc
        if exc.headers and meta["header_language"] is None:
            meta["header_language"] = header_language(exc.headers)
    return reading


def _prepare_streamed(
    head: list[RawExtract],
    pieces: Iterator[RawExtract],
    read: dict,
    meta: dict,
    f: LandingFile,
    key: bytes,
    limits: IntakeLimits,
) -> PreparedExtract:
    """Prepare a file's pieces as they are read (``head``: the pieces already read; each is
    dropped once prepared); ``read`` (what reading found: format, encoding, language, rows)
    goes into ``meta`` once the file is read. The outcome is the one of reading the file
    whole first: a reading rejection wins over a preparation one (e.g. columns that cannot be
    mapped), whose meta still has what reading found, every row counted."""
    read["rows_received"] = 0
    reading_failed = False

    def counted() -> Iterator[RawExtract]:
        nonlocal reading_failed
        while head:
            item = head.pop(0)
            read["rows_received"] += len(item.rows)
            yield item
        while True:
            try:
                item = next(pieces)
            except StopIteration:
                return
            except FileRejected:
                reading_failed = True
                raise
            read["rows_received"] += len(item.rows)
            yield item

    received = datetime.fromisoformat(f.received_at)
    try:
        prepared = prepare_pieces(
            counted(),
            sender=f.hospital_code,
            received_at=received,
            key=key,
            earliest_date=limits.earliest_date,
        )
    except FileRejected:
        if not reading_failed:
            for item in counted():  # read the rest: its rejection, if any, comes first
                del item
            meta.update(read)
        raise
    meta.update(read)
    return prepared


def _finish(reading: _Reading, registry: pd.DataFrame) -> StagedFile:
    """The checks on a prepared file's rows, its in-file duplicates and its meta."""
    f, meta, rejection, prepared = reading.f, reading.meta, reading.rejection, reading.prepared
    if prepared is not None:
        meta.update(
            header_language=prepared.header_language,
            unknown_columns=prepared.unknown_columns,
            missing_columns=prepared.missing_required,
        )
        frame = prepared.frame
        if rejection is None and prepared.missing_required:
            rejection = FileRejected(
                "missing_required_columns",
                fields=prepared.missing_required,
                accepted=prepared.missing_required,
            )
        others = set(registry["hospital_code"]) - {f.hospital_code}
        naming_others = frame["hospital_code"].isin(others)
        if rejection is None and naming_others.any():
            rejection = FileRejected(
                "other_hospital_rows",
                count=int(naming_others.sum()),
                codes=sorted(set(frame.loc[naming_others, "hospital_code"])),
                hospital=f.hospital_code,
            )
    if rejection is not None:
        meta.update(
            file_rule=rejection.rule,
            file_params=rejection.params,
            file_message=rejection.message,
        )
    if prepared is None:
        return StagedFile(meta=meta, frame=None)
    frame = prepared.frame
    frame["_submission_id"] = f.submission_id
    frame["_sender"] = f.hospital_code
    # An exact repeat of an earlier row in the same file is a duplicate, not an error.
    frame["_duplicate"] = frame.duplicated(subset=CASE_FIELD_NAMES, keep="first")
    meta["rows_duplicate_in_file"] = int(frame["_duplicate"].sum())
    return StagedFile(meta=meta, frame=frame, row_errors=prepared.row_errors)
