"""The audit log: append-only and hash-chained.

Each entry's ``entry_hash`` is the SHA-256 of a canonical serialisation of its content (sequence
number, time, actor, channel, action, object, details) together with ``prev_hash``, the hash of
the entry before it (64 zeros for the first). Editing, deleting, inserting or reordering entries
therefore breaks the chain at a point ``verify_chain`` names. Removing entries from the *end*
leaves a valid shorter chain: that is caught by comparing with a head recorded elsewhere
(``chain_head`` goes into evidence-pack provenance; ``verify_chain(expected_head=...)``).

``append`` runs inside the caller's transaction, so an action and its audit entry commit or roll
back together. Appenders are serialised (SQLite: the transaction's write lock, taken at BEGIN;
PostgreSQL: a transaction-scoped advisory lock) so the chain never forks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from pipeline.appdb.models import CHANNELS, AuditEntry, utcnow

GENESIS_HASH = "0" * 64
_PG_LOCK_KEY = 0x53454E54  # "SENT": one advisory lock id for the chain


@dataclass(frozen=True)
class Actor:
    """Who acts: a user of the application database, through a channel (web, cli, api).

    ``user_id`` is None only for the operating-system account running the CLI without naming a
    Sentinel user (``username`` is then ``os:<login>``), e.g. to create the first administrator.
    """

    user_id: int | None
    username: str
    channel: str

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown audit channel {self.channel!r}")


def _naive_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _time_text(value: dt.datetime) -> str:
    return _naive_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> str:
    """Sorted keys, no insignificant spaces, UTF-8 text kept as is: one byte string per value."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def _content(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": int(entry.seq),
        "at": _time_text(entry.at),
        "actor_user_id": entry.actor_user_id,
        "actor_username": entry.actor_username,
        "channel": entry.channel,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "details": json.loads(entry.details),
        "prev_hash": entry.prev_hash,
    }


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(canonical_json(_content(entry)).encode("utf-8")).hexdigest()


def _lock_chain(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    # SQLite: every transaction began with BEGIN IMMEDIATE (pipeline.appdb.db), which already
    # holds the database's single write lock.


def _last(session: Session) -> AuditEntry | None:
    return session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).first()


def append(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | int | None = None,
    details: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> AuditEntry:
    """Add one entry at the end of the chain, in the caller's transaction."""
    _lock_chain(session)
    last = _last(session)
    entry = AuditEntry(
        seq=(last.seq + 1) if last else 1,
        at=_naive_utc(at or utcnow()),
        actor_user_id=actor.user_id,
        actor_username=actor.username,
        channel=actor.channel,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        details=canonical_json(details or {}),
        prev_hash=last.entry_hash if last else GENESIS_HASH,
        entry_hash="",
    )
    entry.entry_hash = entry_hash(entry)
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainHead:
    seq: int  # 0: an empty log
    entry_hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.entry_hash}"

    @classmethod
    def parse(cls, value: str) -> ChainHead:
        seq, _, digest = value.strip().partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise ValueError(f"a chain head looks like SEQ:SHA256, got {value!r}")
        return cls(int(seq), digest.lower())


def chain_head(session: Session) -> ChainHead:
    """The last entry's sequence number and hash: record it to detect later truncation."""
    last = _last(session)
    return ChainHead(last.seq, last.entry_hash) if last else ChainHead(0, GENESIS_HASH)


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    kind: str  # altered | broken_link | missing | head_mismatch
    message: str


@dataclass
class ChainReport:
    entries: int = 0
    head: ChainHead = field(default_factory=lambda: ChainHead(0, GENESIS_HASH))
    problems: list[ChainProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> ChainProblem | None:
        return self.problems[0] if self.problems else None


def _entries(session: Session, batch: int = 1000) -> Iterator[AuditEntry]:
    after = 0
    while True:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(batch)
        ).all()
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].seq


def verify_chain(
    session: Session, expected_head: ChainHead | None = None, max_problems: int = 100
) -> ChainReport:
    """Recompute every hash and link; report each entry that does not fit, first one first."""
    report = ChainReport()
    previous_hash, expected_seq = GENESIS_HASH, 1
    for entry in _entries(session):
        report.entries += 1
        if entry.seq != expected_seq:
            report.problems.append(
                ChainProblem(
                    entry.seq,
                    "missing",
                    f"entries {expected_seq}..{entry.seq - 1} are missing before entry "
                    f"{entry.seq} (deleted)",
                )
            )
        try:
            recomputed = entry_hash(entry)
        except (ValueError, TypeError) as exc:  # details no longer valid JSON
            recomputed = f"unreadable: {exc}"
        if recomputed != entry.entry_hash:
            report.problems.append(
                ChainProblem(
                    entry.seq,
                    "altered",
                    f"entry {entry.seq} does not match its hash (edited, or moved from "
                    "another position)",
                )
            )
        if entry.prev_hash != previous_hash:
            report.problems.append(
                ChainProblem(
                    entry.seq,
                    "broken_link",
                    f"entry {entry.seq} does not follow the entry before it (an entry was "
                    "inserted, deleted or reordered, or the one before was edited)",
                )
            )
        previous_hash, expected_seq = entry.entry_hash, entry.seq + 1
        report.head = ChainHead(entry.seq, entry.entry_hash)
        if len(report.problems) >= max_problems:
            break
    if expected_head is not None and report.ok and expected_head.seq > 0:
        if report.head.seq < expected_head.seq:
            report.problems.append(
                ChainProblem(
                    report.head.seq + 1,
                    "missing",
                    f"the log ends at entry {report.head.seq} but entry {expected_head.seq} "
                    "was recorded earlier (entries removed from the end)",
                )
            )
        else:
            at = session.get(AuditEntry, expected_head.seq)
            if at is None or at.entry_hash != expected_head.entry_hash:
                report.problems.append(
                    ChainProblem(
                        expected_head.seq,
                        "head_mismatch",
                        f"entry {expected_head.seq} differs from the head recorded earlier "
                        "(the log was rewritten from there on)",
                    )
                )
    return report
