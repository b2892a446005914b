"""Audited rows: every row of an append-only table is tied to its audit entry by a hash.

``add(session, row, actor, action, object_type, object_id, details)`` appends the audit entry
(:func:`pipeline.appdb.audit.append`, in the caller's transaction) with ``details["row"] =
{"table", "id", "hash"}`` and stores the entry's sequence number and the hash on the row. The
hash is the SHA-256 of the row's content (every column but ``audit_seq`` and ``row_hash``,
canonical JSON). The database refuses updates and deletions on these tables (triggers of migration
0002); :func:`verify_rows` finds what someone changes anyway (after dropping the triggers): a
row whose content no longer matches its entry, a row without an entry (inserted behind the
application's back) and an entry whose row is gone (deleted).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from pipeline.appdb import audit
from pipeline.appdb.audit import Actor, ChainProblem, canonical_json
from pipeline.appdb.models import (
    AuditEntry,
    Base,
    FollowUp,
    FollowUpResult,
    Notice,
    NoticeDocument,
    NoticeEvent,
    TriageDecision,
)

AUDITED: dict[str, type[Base]] = {
    "triage_decisions": TriageDecision,
    "followups": FollowUp,
    "followup_results": FollowUpResult,
    "notices": Notice,
    "notice_events": NoticeEvent,
}
# Tables whose rows are covered by another row's hash (a notice's content_sha256), not by an
# entry of their own; they are append-only too.
COVERED = {"notice_documents": NoticeDocument}
APPEND_ONLY = tuple(AUDITED) + tuple(COVERED)
_SKIP = ("audit_seq", "row_hash")


def _value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def content(row: Base) -> dict[str, Any]:
    mapper = inspect(type(row))
    return {c.key: _value(getattr(row, c.key)) for c in mapper.column_attrs if c.key not in _SKIP}


def row_hash(row: Base) -> str:
    return hashlib.sha256(canonical_json(content(row)).encode("utf-8")).hexdigest()


def documents_sha256(documents: list[tuple[str, str, str]]) -> str:
    """The hash a notice records over its documents: (lang, fmt, body) in any order."""
    listing = sorted(
        (lang, fmt, hashlib.sha256(body.encode("utf-8")).hexdigest())
        for lang, fmt, body in documents
    )
    return hashlib.sha256(canonical_json(listing).encode("utf-8")).hexdigest()


def add(
    session: Session,
    row: Base,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str,
    details: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> Base:
    """Insert ``row`` with its audit entry, in the caller's transaction."""
    table = row.__tablename__
    if table not in AUDITED:
        raise ValueError(f"{table} is not an audited table")
    digest = row_hash(row)
    entry = audit.append(
        session,
        actor,
        action,
        object_type,
        object_id,
        {**(details or {}), "row": {"table": table, "id": row.id, "hash": digest}},  # type: ignore[attr-defined]
        at=at,
    )
    row.audit_seq = entry.seq  # type: ignore[attr-defined]
    row.row_hash = digest  # type: ignore[attr-defined]
    session.add(row)
    session.flush()
    return row


def verify_rows(session: Session, max_problems: int = 100) -> list[ChainProblem]:
    """Every audited row against its entry, and every entry that names a row against it."""

    problems: list[ChainProblem] = []
    claimed: dict[tuple[str, str], int] = {}
    for entry in session.scalars(
        select(AuditEntry).where(AuditEntry.details.like('%"row":{%')).order_by(AuditEntry.seq)
    ):
        try:
            row_ref = json.loads(entry.details).get("row")
        except ValueError:
            continue  # the chain check reports an unreadable entry
        if isinstance(row_ref, dict) and row_ref.get("table") in AUDITED:
            claimed[(row_ref["table"], str(row_ref.get("id")))] = entry.seq
    entries = {
        seq: json.loads(e.details)["row"]
        for seq, e in ((s, session.get(AuditEntry, s)) for s in set(claimed.values()))
        if e is not None
    }
    seen: set[tuple[str, str]] = set()
    for table, model in AUDITED.items():
        for row in session.scalars(select(model)):
            key = (table, str(row.id))  # type: ignore[attr-defined]
            seen.add(key)
            seq = claimed.get(key)
            if seq is None or row.audit_seq != seq:  # type: ignore[attr-defined]
                problems.append(
                    ChainProblem(
                        int(row.audit_seq or 0),  # type: ignore[attr-defined]
                        "unaudited_row",
                        f"{table} row {row.id} has no audit entry of its own (inserted or "  # type: ignore[attr-defined]
                        "re-pointed outside Sentinel)",
                    )
                )
            elif row_hash(row) != entries[seq]["hash"] or row.row_hash != entries[seq]["hash"]:  # type: ignore[attr-defined]
                problems.append(
                    ChainProblem(
                        seq,
                        "row_altered",
                        f"{table} row {row.id} differs from what audit entry {seq} recorded "  # type: ignore[attr-defined]
                        "(edited outside Sentinel)",
                    )
                )
            if len(problems) >= max_problems:
                return problems
    for (table, row_id), seq in sorted(claimed.items(), key=lambda kv: kv[1]):
        if (table, row_id) not in seen:
            problems.append(
                ChainProblem(
                    seq,
                    "row_missing",
                    f"{table} row {row_id} recorded by audit entry {seq} is missing (deleted "
                    "outside Sentinel)",
                )
            )
    problems.extend(_verify_documents(session))
    return problems[:max_problems]


def _verify_documents(session: Session) -> list[ChainProblem]:
    """Each notice's documents still hash to the content_sha256 its audited row recorded."""
    problems = []
    by_notice: dict[str, list[tuple[str, str, str]]] = {}
    for doc in session.scalars(select(NoticeDocument)):
        by_notice.setdefault(doc.notice_id, []).append((doc.lang, doc.fmt, doc.body))
    for notice in session.scalars(select(Notice)):
        docs = by_notice.get(notice.id, [])
        if documents_sha256(docs) != notice.content_sha256:
            problems.append(
                ChainProblem(
                    notice.audit_seq,
                    "document_altered",
                    f"the documents of notice {notice.id} differ from the text it was drafted "
                    "with (edited or deleted outside Sentinel)",
                )
            )
    return problems
