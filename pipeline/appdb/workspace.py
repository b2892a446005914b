"""The workspace records of the application database: saved case queries, coder resolutions
made on the web, evidence-pack requests, notification preferences and the notifications sent.

Functions take a session (the caller's transaction) and an ``Actor``; every change that matters
to someone else appends its audit entry in the same transaction. They return detached views.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.appdb import audit
from pipeline.appdb.audit import Actor
from pipeline.appdb.errors import InvalidInput, NotPermitted, RecordNotFound
from pipeline.appdb.models import (
    CodingResolution,
    EvidenceRequest,
    NotificationPreference,
    NotificationSent,
    SavedQuery,
    utcnow,
)
from pipeline.privacy import scrub_text

MAX_SAVED_QUERIES = 50
MAX_NOTE = 2000
SYSTEM = Actor(None, "system", "cli")


def _signed_in(actor: Actor) -> int:
    if actor.user_id is None:
        raise NotPermitted(username=actor.username, role="-")
    return actor.user_id


# ---- saved queries -------------------------------------------------------------------------


@dataclass(frozen=True)
class SavedQueryView:
    id: int
    name: str
    query_json: str
    updated_at: dt.datetime


def _view(row: SavedQuery) -> SavedQueryView:
    return SavedQueryView(row.id, row.name, row.query_json, row.updated_at)


def clean_query_name(name: str) -> str:
    text = " ".join(unicodedata.normalize("NFKC", name or "").split())
    if not text or len(text) > 100 or any(unicodedata.category(c).startswith("C") for c in text):
        raise InvalidInput(
            "name",
            "a saved query needs a name of 1 to 100 characters",
            "保存的查询需要 1 至 100 个字符的名称",
        )
    return text


def list_saved_queries(session: Session, actor: Actor) -> list[SavedQueryView]:
    user_id = _signed_in(actor)
    rows = session.scalars(
        select(SavedQuery).where(SavedQuery.user_id == user_id).order_by(SavedQuery.name)
    ).all()
    return [_view(r) for r in rows]


def save_query(
    session: Session, actor: Actor, name: str, query_json: str, now: dt.datetime | None = None
) -> SavedQueryView:
    """Save the query under ``name``, replacing the user's query of that name."""
    user_id = _signed_in(actor)
    label = clean_query_name(name)
    moment = now or utcnow()
    row = session.scalars(
        select(SavedQuery).where(SavedQuery.user_id == user_id, SavedQuery.name == label)
    ).first()
    if row is None:
        count = len(
            session.scalars(select(SavedQuery.id).where(SavedQuery.user_id == user_id)).all()
        )
        if count >= MAX_SAVED_QUERIES:
            raise InvalidInput(
                "name",
                f"at most {MAX_SAVED_QUERIES} saved queries: delete one first",
                f"最多保存 {MAX_SAVED_QUERIES} 个查询：请先删除一个",
            )
        row = SavedQuery(user_id=user_id, name=label, created_at=moment)
        session.add(row)
    row.query_json, row.updated_at = query_json, moment
    session.flush()
    audit.append(session, actor, "query.save", "saved_query", row.id, {"name": label}, at=moment)
    return _view(row)


def get_saved_query(session: Session, actor: Actor, query_id: int) -> SavedQueryView:
    row = session.get(SavedQuery, query_id)
    if row is None or row.user_id != actor.user_id:  # another user's query does not exist
        raise RecordNotFound(what="saved query", what_zh="保存的查询", key=query_id)
    return _view(row)


def delete_saved_query(session: Session, actor: Actor, query_id: int) -> None:
    row = session.get(SavedQuery, query_id)
    if row is None or row.user_id != actor.user_id:
        raise RecordNotFound(what="saved query", what_zh="保存的查询", key=query_id)
    audit.append(session, actor, "query.delete", "saved_query", row.id, {"name": row.name})
    session.delete(row)


# ---- coder resolutions ---------------------------------------------------------------------


@dataclass(frozen=True)
class ResolutionView:
    id: int
    review_id: str | None
    hospital_code: str
    case_id: str
    case_version: int
    category: str
    note: str | None
    username: str
    resolved_at: dt.datetime
    status: str
    applied_at: dt.datetime | None
    outcome: str | None


def _resolution(row: CodingResolution) -> ResolutionView:
    return ResolutionView(
        row.id,
        row.review_id,
        row.hospital_code,
        row.case_id,
        row.case_version,
        row.category,
        row.note,
        row.username,
        row.resolved_at,
        row.status,
        row.applied_at,
        row.outcome,
    )


def record_resolution(
    session: Session,
    actor: Actor,
    *,
    hospital_code: str,
    case_id: str,
    case_version: int,
    category: str,
    review_id: str | None = None,
    note: str | None = None,
    now: dt.datetime | None = None,
) -> ResolutionView:
    """A coder's category for a case version, pending until the next coding run applies it.
    A newer resolution of the same case replaces a pending one (kept, marked stale)."""
    _signed_in(actor)
    moment = now or utcnow()
    text = (note or "").strip()
    if len(text) > MAX_NOTE:
        raise InvalidInput("note", f"at most {MAX_NOTE} characters", f"最多 {MAX_NOTE} 个字符")
    earlier = session.scalars(
        select(CodingResolution).where(
            CodingResolution.hospital_code == hospital_code,
            CodingResolution.case_id == case_id,
            CodingResolution.status == "pending",
        )
    ).all()
    row = CodingResolution(
        review_id=review_id,
        hospital_code=hospital_code,
        case_id=case_id,
        case_version=case_version,
        category=category,
        note=scrub_text(text) if text else None,
        user_id=actor.user_id,
        username=actor.username,
        resolved_at=moment,
        status="pending",
    )
    session.add(row)
    session.flush()
    for old in earlier:
        old.status, old.outcome, old.applied_at = (
            "stale",
            f"replaced by resolution {row.id}",
            moment,
        )
    audit.append(
        session,
        actor,
        "coding.resolve",
        "case",
        f"{hospital_code}:{case_id}",
        {
            "resolution": row.id,
            "category": category,
            "case_version": case_version,
            "review_id": review_id,
            "replaces": [o.id for o in earlier],
        },
        at=moment,
    )
    return _resolution(row)


def resolutions(
    session: Session, status: str | None = None, keys: list[tuple[str, str]] | None = None
) -> list[ResolutionView]:
    stmt = select(CodingResolution).order_by(CodingResolution.id)
    if status:
        stmt = stmt.where(CodingResolution.status == status)
    rows = session.scalars(stmt).all()
    if keys is not None:
        wanted = set(keys)
        rows = [r for r in rows if (r.hospital_code, r.case_id) in wanted]
    return [_resolution(r) for r in rows]


def settle_resolution(
    session: Session, resolution_id: int, status: str, outcome: str, now: dt.datetime | None = None
) -> None:
    """Record what the coding run did with a pending resolution (applied, stale, rejected)."""
    row = session.get(CodingResolution, resolution_id)
    if row is None or row.status != "pending":
        return  # settled already (a re-run changes nothing)
    moment = now or utcnow()
    row.status, row.outcome, row.applied_at = status, outcome[:1000], moment
    audit.append(
        session,
        SYSTEM,
        f"coding.{status}",
        "case",
        f"{row.hospital_code}:{row.case_id}",
        {"resolution": row.id, "category": row.category, "outcome": outcome[:1000]},
        at=moment,
    )


# ---- evidence-pack requests ----------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceRequestView:
    id: int
    signal_id: str
    week: str
    requested_by: str
    requested_at: dt.datetime
    status: str
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    pack_name: str | None
    manifest_sha256: str | None
    size_bytes: int | None
    error: str | None


def _request(row: EvidenceRequest) -> EvidenceRequestView:
    return EvidenceRequestView(
        row.id,
        row.signal_id,
        row.week,
        row.requested_by,
        row.requested_at,
        row.status,
        row.started_at,
        row.finished_at,
        row.pack_name,
        row.manifest_sha256,
        row.size_bytes,
        row.error,
    )


def request_pack(
    session: Session, actor: Actor, signal_id: str, week: str, now: dt.datetime | None = None
) -> tuple[EvidenceRequestView, bool]:
    """Ask for a pack of (signal, week); an open request for the same pack is returned instead
    of a second one. Returns (request, created)."""
    _signed_in(actor)
    open_one = session.scalars(
        select(EvidenceRequest).where(
            EvidenceRequest.signal_id == signal_id,
            EvidenceRequest.week == week,
            EvidenceRequest.status.in_(("pending", "building")),
        )
    ).first()
    if open_one is not None:
        return _request(open_one), False
    moment = now or utcnow()
    row = EvidenceRequest(
        signal_id=signal_id,
        week=week,
        requested_by_id=actor.user_id,
        requested_by=actor.username,
        requested_at=moment,
        status="pending",
    )
    session.add(row)
    session.flush()
    audit.append(
        session, actor, "evidence.request", "signal", f"{signal_id}@{week}", {"request": row.id}
    )
    return _request(row), True


def evidence_requests(session: Session, status: str | None = None) -> list[EvidenceRequestView]:
    stmt = select(EvidenceRequest).order_by(EvidenceRequest.id.desc())
    if status:
        stmt = stmt.where(EvidenceRequest.status == status)
    return [_request(r) for r in session.scalars(stmt).all()]


def claim_request(session: Session, now: dt.datetime | None = None) -> EvidenceRequestView | None:
    """The oldest pending request, marked building (one builder at a time takes it)."""
    row = session.scalars(
        select(EvidenceRequest)
        .where(EvidenceRequest.status == "pending")
        .order_by(EvidenceRequest.id)
        .limit(1)
    ).first()
    if row is None:
        return None
    row.status, row.started_at = "building", now or utcnow()
    return _request(row)


def finish_request(
    session: Session,
    request_id: int,
    *,
    pack_name: str | None = None,
    manifest_sha256: str | None = None,
    size_bytes: int | None = None,
    error: str | None = None,
    now: dt.datetime | None = None,
) -> None:
    row = session.get(EvidenceRequest, request_id)
    if row is None:
        return
    moment = now or utcnow()
    row.finished_at = moment
    if error is None:
        row.status, row.pack_name = "built", pack_name
        row.manifest_sha256, row.size_bytes = manifest_sha256, size_bytes
    else:
        row.status, row.error = "failed", error[:2000]
    audit.append(
        session,
        SYSTEM,
        f"evidence.{row.status}",
        "signal",
        f"{row.signal_id}@{row.week}",
        {"request": row.id, "pack": pack_name, "manifest_sha256": manifest_sha256},
        at=moment,
    )


def requeue_stuck(session: Session, older_than: dt.datetime) -> int:
    """Requests left ``building`` by a process that died: pending again."""
    rows = session.scalars(
        select(EvidenceRequest).where(
            EvidenceRequest.status == "building", EvidenceRequest.started_at < older_than
        )
    ).all()
    for row in rows:
        row.status, row.started_at = "pending", None
    return len(rows)


# ---- notifications -------------------------------------------------------------------------


def preferences(session: Session, user_id: int) -> dict[str, bool]:
    """The kinds this user has chosen explicitly (missing: the role's default)."""
    rows = session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user_id)
    ).all()
    return {r.kind: bool(r.enabled) for r in rows}


def set_preferences(
    session: Session, actor: Actor, choices: dict[str, bool], now: dt.datetime | None = None
) -> None:
    user_id = _signed_in(actor)
    moment = now or utcnow()
    existing = {
        r.kind: r
        for r in session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user_id)
        ).all()
    }
    for kind, enabled in choices.items():
        row = existing.get(kind)
        if row is None:
            session.add(
                NotificationPreference(
                    user_id=user_id, kind=kind, enabled=enabled, updated_at=moment
                )
            )
        else:
            row.enabled, row.updated_at = enabled, moment
    audit.append(
        session, actor, "notifications.preferences", "user", actor.username, choices, at=moment
    )


def already_sent(session: Session, user_id: int, kind: str, object_key: str) -> bool:
    return (
        session.scalars(
            select(NotificationSent.id).where(
                NotificationSent.user_id == user_id,
                NotificationSent.kind == kind,
                NotificationSent.object_key == object_key[:200],
            )
        ).first()
        is not None
    )


def record_sent(
    session: Session,
    user_id: int,
    kind: str,
    object_key: str,
    recipient: str,
    now: dt.datetime | None = None,
) -> None:
    session.add(
        NotificationSent(
            user_id=user_id,
            kind=kind,
            object_key=object_key[:200],
            recipient=recipient,
            sent_at=now or utcnow(),
        )
    )
