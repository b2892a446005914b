"""Read one landing file as a submission: sender checks, reading, preparation (no database).

A whole-file rejection still keeps every readable row (they go to quarantine: with their own
row errors where they have any, else with the file's reason), so nothing the sender sent is
lost and the receipt lists every error found, not only the file's. Validation of the rows
(Great Expectations) and staging are the next step (:mod:`pipeline.validation.staging`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

import numpy as np
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
    prepare_extract,
)
from pipeline.intake.reader import FileRejected, RawExtract, read_extract_chunks


@dataclass
class StagedFile:
    meta: dict
    frame: pd.DataFrame | None
    row_errors: list[dict] = field(default_factory=list)  # found while reading (cell limit)
    # A file of more than one piece read with ``stream=True``: its pieces, to stage one at a
    # time (``frame`` is then None and ``meta`` is final only once they are consumed).
    pieces: PieceStream | None = None


@dataclass
class Piece:
    """One prepared piece of a large file, finished as its part of the whole file:
    ``_submission_id``, ``_sender`` and ``_duplicate`` (an exact repeat of an earlier row of
    the file, in this piece or an earlier one) set."""

    frame: pd.DataFrame
    row_errors: list[dict]


def row_digests(frame: pd.DataFrame) -> np.ndarray:
    """A 16-byte digest of each row's case fields (text or None), as a fixed-width bytes
    array: the repr of the row's tuple is an unambiguous encoding (a quoted, escaped string
    vs. ``None``). An array, not a set of bytes objects: a million small objects kept for the
    whole file would pin the memory of every piece they were allocated between."""
    columns = [frame[name].tolist() for name in CASE_FIELD_NAMES]
    blake = hashlib.blake2b
    joined = b"".join(
        blake(repr(row).encode("utf-8", "surrogatepass"), digest_size=16).digest()
        for row in zip(*columns, strict=True)
    )
    return np.frombuffer(joined, dtype="S16")


def repeats(digests: np.ndarray, seen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which digests repeat an earlier one (in ``seen``, sorted, or earlier in ``digests``),
    and ``seen`` with this piece's digests added (sorted)."""
    unique, first = np.unique(digests, return_index=True)
    repeated = np.ones(len(digests), dtype=bool)
    repeated[first] = False
    repeated |= np.isin(digests, seen)
    return repeated, np.union1d(seen, unique)


class PieceStream:
    """The prepared pieces of one large file, in file order (each read, prepared and finished
    as it is asked for; the consumer drops it once staged). The outcome equals reading the file
    whole: in-file duplicates by the digests of the rows seen, ``other_hospital_rows`` counted over
    every piece. Once iterated, :attr:`meta` is final and :attr:`kept` tells whether the file
    keeps its rows (False: a reading or preparation rejection, the file has no rows, so the
    pieces already handed out must be discarded)."""

    def __init__(
        self,
        reading: _Reading,
        head: list[RawExtract],
        pieces: Iterator[RawExtract],
        read: dict,
        registry: pd.DataFrame,
        key: bytes,
        limits: IntakeLimits,
    ) -> None:
        self.meta = reading.meta
        self.kept = False
        self.row_errors: list[dict] = []  # of every piece, once iterated
        self._reading, self._head, self._pieces, self._read = reading, head, pieces, read
        self._registry, self._key, self._limits = registry, key, limits
        self._used = False

    def __iter__(self) -> Iterator[Piece]:
        if self._used:
            raise RuntimeError("a file's pieces can be read once")
        self._used = True
        reading, read, meta, f = self._reading, self._read, self.meta, self._reading.f
        read["rows_received"] = 0
        reading_failed = False
        head = self._head

        def counted() -> Iterator[RawExtract]:
            # Never a local name for the piece handed out: a generator keeps its locals while
            # suspended, which would keep each raw piece until the next one is read.
            nonlocal reading_failed
            held: list[RawExtract] = []
            while head:
                held.append(head.pop(0))
                read["rows_received"] += len(held[0].rows)
                yield held.pop()
            while True:
                try:
                    held.append(next(self._pieces))
                except StopIteration:
                    return
                except FileRejected:
                    reading_failed = True
                    raise
                read["rows_received"] += len(held[0].rows)
                yield held.pop()

        received = datetime.fromisoformat(f.received_at)
        others = set(self._registry["hospital_code"]) - {f.hospital_code}
        seen = np.empty(0, dtype="S16")
        naming, codes, duplicates = 0, set(), 0
        first: PreparedExtract | None = None  # the first piece's columns (without its rows)
        raw = counted()
        try:
            for item in raw:
                prepared = prepare_extract(
                    item,
                    sender=f.hospital_code,
                    received_at=received,
                    key=self._key,
                    earliest_date=self._limits.earliest_date,
                )
                del item
                if first is None:
                    first = replace(prepared, frame=pd.DataFrame(), row_errors=[])
                frame = prepared.frame
                naming_others = frame["hospital_code"].isin(others)
                if naming_others.any():
                    naming += int(naming_others.sum())
                    codes |= set(frame.loc[naming_others, "hospital_code"])
                frame["_submission_id"] = f.submission_id
                frame["_sender"] = f.hospital_code
                duplicate, seen = repeats(row_digests(frame), seen)
                frame["_duplicate"] = duplicate
                duplicates += int(duplicate.sum())
                self.row_errors.extend(prepared.row_errors)
                yield Piece(frame, prepared.row_errors)
                del prepared, frame
        except FileRejected as failure:
            found = failure
            if not reading_failed:
                try:
                    for item in raw:  # read the rest: its rejection, if any, comes first
                        del item
                    meta.update(read)
                except FileRejected as later:
                    found = later
            self.row_errors = []
            rejection = reading.rejection or found
            if found.headers and meta["header_language"] is None:
                meta["header_language"] = header_language(found.headers)
            _record_rejection(meta, rejection)
            return
        assert first is not None
        meta.update(read)
        rejection = _file_checks(meta, first, reading.rejection, f.hospital_code, naming, codes)
        _record_rejection(meta, rejection)
        meta["rows_duplicate_in_file"] = duplicates
        self.kept = True

    def whole(self) -> StagedFile:
        """Every piece in one frame (what staging the file whole would hold)."""
        frames = [piece.frame for piece in self]
        if not self.kept:
            return StagedFile(meta=self.meta, frame=None)
        frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        return StagedFile(meta=self.meta, frame=frame, row_errors=self.row_errors)


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
    stream: PieceStream | None = None


def read_submissions(
    files: list[LandingFile],
    registry: pd.DataFrame,
    key: bytes,
    *,
    limits: IntakeLimits | None = None,
    data: list[bytes | None] | None = None,
    stream: bool = False,
) -> list[StagedFile]:
    """:func:`read_submission` of several files: each is read and checked on its own, and the
    small ones are prepared together in one columnar pass (the scrubber's automata, the date
    parsing passes and the lookups cost once per batch, not once per file; preparation is row
    by row, so each file's result is the one it would have alone). A file of more than
    ``limits.chunk_rows`` rows is prepared on its own, piece by piece: with ``stream`` its
    :class:`StagedFile` holds the pieces (:attr:`StagedFile.pieces`, read and prepared as they
    are staged: bounded memory), else they are put together in its frame."""
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
    staged = [_finish(r, registry) for r in readings]
    if not stream:
        staged = [s.pieces.whole() if s.pieces is not None else s for s in staged]
    return staged


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
        # Every piece but the last is full, so a first piece that is not full is the only
        # one (a full one is streamed: one raw piece held at a time, not two).
        # A rejection half way (e.g. a broken quote at the end) keeps nothing of the file.
        pieces = read_extract_chunks(Path(f.relpath), data, limits, limits.chunk_rows)
        first = next(pieces)
        read = {
            "file_format": first.file_format,
            "encoding": first.encoding,
            "header_language": first.language,
            "rows_received": len(first.rows),
        }
        if not limits.chunk_rows or len(first.rows) < limits.chunk_rows:
            meta.update(read)
            reading.canonical = canonicalise(first, sender=f.hospital_code, received_at=received)
        else:
            head = [first]
            del first  # each piece is dropped once prepared
            reading.stream = PieceStream(reading, head, pieces, read, registry, key, limits)
    except FileRejected as exc:
        reading.rejection = reading.rejection or exc
        if exc.headers and meta["header_language"] is None:
            meta["header_language"] = header_language(exc.headers)
    return reading


def _file_checks(
    meta: dict,
    prepared: PreparedExtract,
    rejection: FileRejected | None,
    hospital: str,
    naming: int,
    codes: set[str],
) -> FileRejected | None:
    """The file-level checks of a prepared file (whole, or its first piece's columns with the
    rows of every piece counted): ``meta`` gets the header facts; returns the first rule
    that applies (``rejection``, e.g. the sender's, then missing required columns, then
    ``naming`` rows of other hospitals, ``codes``)."""
    meta.update(
        header_language=prepared.header_language,
        unknown_columns=prepared.unknown_columns,
        missing_columns=prepared.missing_required,
    )
    if rejection is None and prepared.missing_required:
        rejection = FileRejected(
            "missing_required_columns",
            fields=prepared.missing_required,
            accepted=prepared.missing_required,
        )
    if rejection is None and naming:
        rejection = FileRejected(
            "other_hospital_rows", count=naming, codes=sorted(codes), hospital=hospital
        )
    return rejection


def _record_rejection(meta: dict, rejection: FileRejected | None) -> None:
    if rejection is not None:
        meta.update(
            file_rule=rejection.rule,
            file_params=rejection.params,
            file_message=rejection.message,
        )


def _finish(reading: _Reading, registry: pd.DataFrame) -> StagedFile:
    """The checks on a prepared file's rows, its in-file duplicates and its meta."""
    f, meta, rejection, prepared = reading.f, reading.meta, reading.rejection, reading.prepared
    if reading.stream is not None:
        # The pieces finish themselves as they are read (the sender's rejection included).
        return StagedFile(meta=meta, frame=None, pieces=reading.stream)
    if prepared is not None:
        frame = prepared.frame
        others = set(registry["hospital_code"]) - {f.hospital_code}
        naming_others = frame["hospital_code"].isin(others)
        rejection = _file_checks(
            meta,
            prepared,
            rejection,
            f.hospital_code,
            int(naming_others.sum()),
            set(frame.loc[naming_others, "hospital_code"]),
        )
    _record_rejection(meta, rejection)
    if prepared is None:
        return StagedFile(meta=meta, frame=None)
    frame = prepared.frame
    frame["_submission_id"] = f.submission_id
    frame["_sender"] = f.hospital_code
    # An exact repeat of an earlier row in the same file is a duplicate, not an error.
    frame["_duplicate"] = frame.duplicated(subset=CASE_FIELD_NAMES, keep="first")
    meta["rows_duplicate_in_file"] = int(frame["_duplicate"].sum())
    return StagedFile(meta=meta, frame=frame, row_errors=prepared.row_errors)
