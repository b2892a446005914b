"""Notices and their approval in the application database: draft, submit, approve or return.

A notice is one version of one kind of document (risk notice, consumer safety warning, recall
referral) drafted from a signal: its rendered text (zh and en, HTML and Markdown) is stored with
it (``notice_documents``) and ``content_sha256`` covers all of it. Its status is its latest
event: ``draft`` (no event yet) -> ``submitted`` -> ``approved`` (frozen: the approval records
the content hash, and the text can never change: append-only tables, checked by ``sentinel
audit verify``) or ``returned`` (with the supervisor's comment; the analyst drafts a new
version). Every step is a row with its audit entry, in the caller's transaction.

Rules:

* drafting needs an analyst or supervisor and a signal whose current decision is ``confirm``;
* a consumer safety warning also needs the investigation complete (at least one follow-up, all
  with a result) or an override with its reason, recorded on the notice;
* submitting: analyst or supervisor, a draft;
* approving and returning: a supervisor other than the one who drafted it, a submitted notice;
  approval re-checks that the signal is still confirmed and that the text is unchanged;
  returning needs a comment.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.appdb import records
from pipeline.appdb.audit import Actor
from pipeline.appdb.errors import NotPermitted
from pipeline.appdb.models import (
    NOTICE_KINDS,
    Notice,
    NoticeDocument,
    NoticeEvent,
    utcnow,
)
from pipeline.appdb.roles import Role
from pipeline.errors import BadInput, NotFound
from pipeline.notices.render import NoticeRefused
from pipeline.privacy import scrub_text
from pipeline.triage import store as triage_store
from pipeline.triage.store import TRIAGE_ROLES, require_role

APPROVER_ROLES = frozenset({Role.SUPERVISOR})
STATUSES = ("draft", "submitted", "approved", "returned")
MAX_TEXT = 2000


class NoticeNotFound(NotFound):
    """No notice with that id."""


class NoticeStateError(BadInput):
    """A step that does not fit the notice's status (e.g. approving a draft)."""


@dataclass(frozen=True)
class NoticeView:
    notice_id: str
    signal_id: str
    week: str
    kind: str
    version: int
    status: str
    drafted_by: str
    drafted_at: dt.datetime
    content_sha256: str
    override_reason: str | None
    pack_id: str | None
    pack_sha256: str | None
    last_comment: str | None
    decided_by: str | None  # who approved or returned it
    decided_at: dt.datetime | None


def _id(prefix: str, *parts: object) -> str:
    text = "|".join("" if p is None else str(p) for p in parts)
    return prefix + hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def _events(session: Session, notice_id: str) -> list[NoticeEvent]:
    return list(
        session.scalars(
            select(NoticeEvent)
            .where(NoticeEvent.notice_id == notice_id)
            .order_by(NoticeEvent.at, NoticeEvent.audit_seq)
        )
    )


def _status(events: list[NoticeEvent]) -> str:
    if not events:
        return "draft"
    return {"submit": "submitted", "approve": "approved", "return": "returned"}[events[-1].action]


def _view(session: Session, notice: Notice) -> NoticeView:
    events = _events(session, notice.id)
    decided = next((e for e in reversed(events) if e.action in ("approve", "return")), None)
    comment = next((e.comment for e in reversed(events) if e.comment), None)
    return NoticeView(
        notice.id,
        notice.signal_id,
        notice.week,
        notice.kind,
        notice.version,
        _status(events),
        notice.drafted_by,
        notice.drafted_at,
        notice.content_sha256,
        notice.override_reason,
        notice.pack_id,
        notice.pack_sha256,
        comment,
        decided.actor_username if decided else None,
        decided.at if decided else None,
    )


def _notice(session: Session, notice_id: str) -> Notice:
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NoticeNotFound(
            f"notice {notice_id} not found; `sentinel notice list` shows the notices",
            detail_zh=f"未找到通报 {notice_id}；`sentinel notice list` 列出通报",
        )
    return notice


def _text(value: str | None, what: str, what_zh: str) -> str:
    text = (value or "").strip()
    if not text:
        raise BadInput(f"{what} is required", detail_zh=f"{what_zh}不能为空")
    if len(text) > MAX_TEXT:
        raise BadInput(
            f"{what} is longer than {MAX_TEXT} characters",
            detail_zh=f"{what_zh}超过 {MAX_TEXT} 个字符",
        )
    return scrub_text(text) or ""


def check_draft(
    session: Session, actor: Actor, signal: dict, kind: str, override_reason: str | None
) -> str | None:
    """Refuse a draft that breaks a rule (module docstring); returns the scrubbed override
    reason to record (None: not needed or not given)."""
    require_role(session, actor, TRIAGE_ROLES, "draft notices")
    if kind not in NOTICE_KINDS:
        raise BadInput(
            f"unknown document kind {kind!r} (one of {', '.join(NOTICE_KINDS)})",
            detail_zh=f"未知的文件类型 {kind!r}（可选 {', '.join(NOTICE_KINDS)}）",
        )
    current = triage_store.current_decision(session, signal["signal_id"])
    if current is None or current.decision != "confirm":
        state = "not triaged" if current is None else f"its current decision is {current.decision}"
        raise NoticeRefused(
            f"signal {signal['signal_id']} is not confirmed ({state}); documents are drafted "
            f"only from confirmed signals: sentinel signals decide {signal['signal_id']} "
            "--decision confirm --reason ...",
            detail_zh=f"信号 {signal['signal_id']} 尚未确认（{'未研判' if current is None else '当前为 ' + current.decision}）；"
            "只能根据已确认的信号起草文件",
        )
    reason = (override_reason or "").strip() or None
    if kind == "safety-warning":
        follow = triage_store.followups(session, signal["signal_id"], as_of=dt.date(1970, 1, 1))
        state = triage_store.investigation_state(follow)
        if state["state"] != "complete" and reason is None:
            raise NoticeRefused(
                f"a consumer safety warning needs the follow-up investigation complete "
                f"({state['completed']} of {state['ordered']} follow-ups have a result) or an "
                "override with its reason (--override-reason)",
                detail_zh=f"消费者安全警示须先完成随访调查（{state['ordered']} 例随访中已完成 "
                f"{state['completed']} 例），或填写越过随访的理由（--override-reason）",
            )
    if reason is not None:
        return _text(reason, "override reason", "越过随访的理由")
    return None


def draft(
    session: Session,
    actor: Actor,
    signal: dict,
    kind: str,
    documents: list[tuple[str, str, str]],
    *,
    override_reason: str | None = None,
    pack: dict | None = None,
    at: dt.datetime | None = None,
) -> NoticeView:
    """Store a new version of a document of ``signal`` (its rendered ``documents``: (lang,
    fmt, text)); see the module docstring for the rules."""
    reason = check_draft(session, actor, signal, kind, override_reason)
    version = (
        session.scalar(
            select(func.max(Notice.version)).where(
                Notice.signal_id == signal["signal_id"], Notice.kind == kind
            )
        )
        or 0
    ) + 1
    when = at or utcnow()
    content = records.documents_sha256(documents)
    notice = Notice(
        id=_id("N", signal["signal_id"], kind, version, when),
        signal_id=signal["signal_id"],
        week=signal["week"],
        kind=kind,
        version=version,
        override_reason=reason,
        pack_id=(pack or {}).get("pack_id"),
        pack_sha256=(pack or {}).get("manifest_sha256"),
        content_sha256=content,
        drafted_by_user_id=actor.user_id,
        drafted_by=actor.username,
        channel=actor.channel,
        drafted_at=when,
    )
    records.add(
        session,
        notice,
        actor,
        "notice.draft",
        "notice",
        notice.id,
        {
            "signal_id": signal["signal_id"],
            "kind": kind,
            "version": version,
            "content_sha256": content,
            "override": reason is not None,
            "pack_id": notice.pack_id,
        },
        at=when,
    )
    # The documents have no audit entry of their own: the notice's content_sha256 covers them.
    for lang, fmt, body in documents:
        session.add(
            NoticeDocument(
                notice_id=notice.id,
                lang=lang,
                fmt=fmt,
                body=body,
                sha256=hashlib.sha256(body.encode("utf-8")).hexdigest(),
            )
        )
    session.flush()
    return _view(session, notice)


def _step(
    session: Session,
    actor: Actor,
    notice: Notice,
    action: str,
    comment: str | None,
    at: dt.datetime | None,
) -> NoticeView:
    when = at or utcnow()
    last = _events(session, notice.id)
    if last and when <= last[-1].at:
        when = last[-1].at + dt.timedelta(microseconds=1)
    event = NoticeEvent(
        id=_id("E", notice.id, action, actor.username, when),
        notice_id=notice.id,
        action=action,
        comment=comment,
        content_sha256=notice.content_sha256,
        actor_user_id=actor.user_id,
        actor_username=actor.username,
        channel=actor.channel,
        at=when,
    )
    records.add(
        session,
        event,
        actor,
        f"notice.{action}",
        "notice",
        notice.id,
        {
            "signal_id": notice.signal_id,
            "kind": notice.kind,
            "version": notice.version,
            "content_sha256": notice.content_sha256,
        },
        at=when,
    )
    return _view(session, notice)


def submit(
    session: Session, actor: Actor, notice_id: str, at: dt.datetime | None = None
) -> NoticeView:
    require_role(session, actor, TRIAGE_ROLES, "submit notices")
    notice = _notice(session, notice_id)
    status = _status(_events(session, notice_id))
    if status != "draft":
        raise NoticeStateError(
            f"notice {notice_id} is {status}; only a draft is submitted (a returned notice is "
            "drafted again as a new version)",
            detail_zh=f"通报 {notice_id} 当前为 {status}；只有草稿可以提交（退回的通报须重新起草新版本）",
        )
    return _step(session, actor, notice, "submit", None, at)


def _decide(
    session: Session,
    actor: Actor,
    notice_id: str,
    action: str,
    comment: str | None,
    at: dt.datetime | None,
) -> NoticeView:
    user = require_role(session, actor, APPROVER_ROLES, f"{action} notices")
    notice = _notice(session, notice_id)
    status = _status(_events(session, notice_id))
    if status != "submitted":
        raise NoticeStateError(
            f"notice {notice_id} is {status}; only a submitted notice is approved or returned",
            detail_zh=f"通报 {notice_id} 当前为 {status}；只有已提交的通报可以批准或退回",
        )
    if user is not None and notice.drafted_by_user_id == user.id:
        raise NotPermitted(username=actor.username, role=f"{user.role}, the drafter of {notice_id}")
    return _step(session, actor, notice, action, comment, at)


def approve(
    session: Session,
    actor: Actor,
    notice_id: str,
    comment: str | None = None,
    at: dt.datetime | None = None,
) -> NoticeView:
    """Approve and freeze: the signal must still be confirmed and the text unchanged."""
    notice = _notice(session, notice_id)
    current = triage_store.current_decision(session, notice.signal_id)
    if current is None or current.decision != "confirm":
        raise NoticeRefused(
            f"signal {notice.signal_id} is no longer confirmed; return the notice instead",
            detail_zh=f"信号 {notice.signal_id} 已不再是已确认状态；请退回此通报",
        )
    documents = [(d.lang, d.fmt, d.body) for d in documents_of(session, notice_id)]
    if records.documents_sha256(documents) != notice.content_sha256:
        raise NoticeRefused(
            f"the text of notice {notice_id} no longer matches what was drafted "
            "(run `sentinel audit verify`)",
            detail_zh=f"通报 {notice_id} 的文本与起草时不一致（请运行 `sentinel audit verify`）",
        )
    text = _text(comment, "comment", "意见") if comment and comment.strip() else None
    return _decide(session, actor, notice_id, "approve", text, at)


def return_(
    session: Session, actor: Actor, notice_id: str, comment: str, at: dt.datetime | None = None
) -> NoticeView:
    """Return a submitted notice to its drafter with a comment (required)."""
    text = _text(comment, "comment", "退回意见")
    return _decide(session, actor, notice_id, "return", text, at)


def documents_of(session: Session, notice_id: str) -> list[NoticeDocument]:
    _notice(session, notice_id)
    return list(
        session.scalars(
            select(NoticeDocument)
            .where(NoticeDocument.notice_id == notice_id)
            .order_by(NoticeDocument.lang, NoticeDocument.fmt)
        )
    )


def get(session: Session, notice_id: str) -> NoticeView:
    return _view(session, _notice(session, notice_id))


def history(session: Session, notice_id: str) -> list[dict]:
    notice = _notice(session, notice_id)
    steps = [
        {
            "action": "draft",
            "by": notice.drafted_by,
            "at": notice.drafted_at,
            "comment": notice.override_reason,
        }
    ]
    steps += [
        {"action": e.action, "by": e.actor_username, "at": e.at, "comment": e.comment}
        for e in _events(session, notice_id)
    ]
    return steps


def list_notices(
    session: Session, signal_id: str | None = None, status: str | None = None
) -> list[NoticeView]:
    """Notices, newest first (optionally of one signal, or in one status)."""
    if status is not None and status not in STATUSES:
        raise BadInput(
            f"--status {status!r} is not one of {', '.join(STATUSES)}",
            detail_zh=f"--status {status!r} 不是 {', '.join(STATUSES)} 之一",
        )
    query = select(Notice).order_by(Notice.drafted_at.desc(), Notice.id)
    if signal_id:
        query = query.where(Notice.signal_id == signal_id)
    views = [_view(session, n) for n in session.scalars(query)]
    return [v for v in views if status is None or v.status == status]
