"""Triage of signals in the application database: two separate facets, audited.

* **Decision** (``triage_decisions``): confirm, dismiss or watch. The current decision is the
  latest row. Every change is an explicit transition from the current decision (recording the
  decision a signal already has is refused; a caller may also state the decision it saw,
  ``expected``, and is refused when someone changed it meanwhile).
* **Investigation** (``followups``, ``followup_results``): cases selected for a follow-up
  call or visit, due 10 working days later (Chinese calendar, ``workdays``), and what each
  found. Ordering a follow-up never touches the decision: a confirmed signal stays confirmed.
  A dismissed signal is not investigated (change the decision first).

Who may act: analysts and supervisors (``TRIAGE_ROLES``), each a user of the application
database (``Actor``); the role is checked here, so the CLI and the web app cannot disagree.
Every row is written with its audit entry in the caller's transaction
(:func:`pipeline.appdb.records.add`). Free text (reasons, notes, conclusions, verified brand /
model / batch) is scrubbed of identifiers before it is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.appdb import records
from pipeline.appdb.audit import Actor
from pipeline.appdb.errors import NotPermitted
from pipeline.appdb.models import (
    DECISION_VALUES,
    PRODUCT_ROLE_VALUES,
    FollowUp,
    FollowUpResult,
    TriageDecision,
    User,
    utcnow,
)
from pipeline.appdb.roles import Role
from pipeline.errors import BadInput, NotFound
from pipeline.privacy import scrub_text
from pipeline.triage.workdays import followup_due_date

DECISIONS: tuple[str, ...] = DECISION_VALUES
PRODUCT_ROLES: tuple[str, ...] = PRODUCT_ROLE_VALUES
TRIAGE_ROLES = frozenset({Role.ANALYST, Role.SUPERVISOR})
CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "CST")  # due dates follow the Chinese calendar
MAX_TEXT = 2000
CASE_KEY_RE = re.compile(r"^[A-Z]{2}[0-9]{3}/[A-Za-z0-9][A-Za-z0-9_\-]{0,39}$")
UNSET = object()  # ``expected`` not given: no check of the decision the caller saw

# Decision transitions: from the current decision (None: never triaged) to the allowed next.
TRANSITIONS: dict[str | None, frozenset[str]] = {
    None: frozenset({"confirm", "dismiss", "watch"}),
    "watch": frozenset({"confirm", "dismiss"}),
    "confirm": frozenset({"dismiss", "watch"}),
    "dismiss": frozenset({"confirm", "watch"}),
}

PAST = {"confirm": "confirmed", "dismiss": "dismissed", "watch": "on the watch list"}
PAST_ZH = {"confirm": "确认", "dismiss": "排除", "watch": "观察"}

DECISION_COLUMNS = [
    "decision_id",
    "signal_id",
    "week",
    "decision",
    "previous",
    "reason",
    "actor",
    "channel",
    "legacy_actor",
    "recorded_at",
]
FOLLOWUP_COLUMNS = [
    "followup_id",
    "signal_id",
    "week",
    "hospital_code",
    "case_id",
    "note",
    "requested_by",
    "requested_at",
    "due_date",
]
RESULT_COLUMNS = [
    "result_id",
    "reached",
    "brand_verified",
    "model_verified",
    "batch_verified",
    "product_role",
    "conclusion",
    "recorded_by",
    "recorded_at",
]
FOLLOWUP_VIEW_COLUMNS = FOLLOWUP_COLUMNS + RESULT_COLUMNS + ["status"]


class TriageError(BadInput):
    """A triage or follow-up request that breaks a rule (the message says which)."""


class TriageNotFound(NotFound, TriageError):
    """The signal, case or follow-up named does not exist."""


# ---- helpers -------------------------------------------------------------------------------


def _id(prefix: str, *parts: object) -> str:
    text = "|".join("" if p is None else str(p) for p in parts)
    return prefix + hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def _text(value: str | None, what: str, required: bool = True) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise TriageError(f"{what} is required", detail_zh=f"{_ZH.get(what, what)}不能为空")
        return None
    if len(text) > MAX_TEXT:
        raise TriageError(
            f"{what} is longer than {MAX_TEXT} characters",
            detail_zh=f"{_ZH.get(what, what)}超过 {MAX_TEXT} 个字符",
        )
    return scrub_text(text)


_ZH = {
    "reason": "理由",
    "note": "随访要点",
    "conclusion": "结论",
    "brand": "品牌",
    "model": "型号",
    "batch": "批次",
}


def _person(actor: Actor) -> str:
    return actor.username


def require_role(
    session: Session, actor: Actor, roles: Collection[Role], action: str
) -> User | None:
    """The acting user, who must exist, be enabled and hold one of ``roles``."""
    user = session.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None or user.disabled or Role(user.role) not in roles:
        raise NotPermitted(
            username=actor.username,
            role=user.role if user is not None else "none (not a Sentinel user: use --as USER)",
        )
    return user


def normalise_decision(decision: str) -> str:
    value = (decision or "").strip().lower().replace("-", "_")
    if value not in DECISIONS:
        raise TriageError(
            f"decision {decision!r} is not one of {', '.join(DECISIONS)} (follow-ups are "
            "ordered with `sentinel followup order`)",
            detail_zh=f"研判结论 {decision!r} 不是 {', '.join(DECISIONS)} 之一"
            "（随访用 `sentinel followup order` 安排）",
        )
    return value


def parse_case_keys(values: Iterable[str]) -> list[str]:
    """``H/C`` case keys (comma- or space-separated), de-duplicated, in order."""
    keys: list[str] = []
    for chunk in values:
        for key in re.split(r"[,\s]+", chunk or ""):
            if not key:
                continue
            if not CASE_KEY_RE.match(key):
                raise TriageError(
                    f"{key!r} is not a case key HOSPITAL/CASE_ID like GZ001/C123",
                    detail_zh=f"{key!r} 不是形如 GZ001/C123 的病例编号",
                )
            if key not in keys:
                keys.append(key)
    return keys


def _after(session: Session, column, where, at: dt.datetime) -> dt.datetime:  # type: ignore[no-untyped-def]
    """``at``, moved 1 microsecond past the latest earlier row if needed, so "latest" is
    always defined by time (the audit sequence breaks any remaining tie)."""
    last = session.scalar(select(func.max(column)).where(where))
    if last is not None and at <= last:
        return last + dt.timedelta(microseconds=1)
    return at


# ---- the decision facet --------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionView:
    decision_id: str
    signal_id: str
    week: str
    decision: str
    previous: str | None
    reason: str
    actor: str
    recorded_at: dt.datetime


def current_decision(session: Session, signal_id: str) -> TriageDecision | None:
    return session.scalars(
        select(TriageDecision)
        .where(TriageDecision.signal_id == signal_id)
        .order_by(TriageDecision.recorded_at.desc(), TriageDecision.audit_seq.desc())
        .limit(1)
    ).first()


def record_decision(
    session: Session,
    actor: Actor,
    signal: dict,
    decision: str,
    reason: str,
    *,
    expected: object = UNSET,
    at: dt.datetime | None = None,
) -> DecisionView:
    """Record a decision on ``signal`` (a stored signal row: ``signal_id``, ``week``).

    Refused when the actor may not triage, the reason is empty, the signal already has this
    decision, or ``expected`` (the decision the caller saw; None = untriaged) is not the
    current one."""
    require_role(session, actor, TRIAGE_ROLES, "triage")
    decision = normalise_decision(decision)
    text = _text(reason, "reason") or ""
    current = current_decision(session, signal["signal_id"])
    now = current.decision if current else None
    if expected is not UNSET and expected != now:
        raise TriageError(
            f"signal {signal['signal_id']} is now {now or 'not triaged'}, not "
            f"{expected or 'not triaged'}: someone decided meanwhile; look again",
            detail_zh=f"信号 {signal['signal_id']} 当前为 {now or '未研判'}，而非 "
            f"{expected or '未研判'}：期间已有他人研判，请重新查看",
        )
    if decision not in TRANSITIONS[now]:
        raise TriageError(
            f"signal {signal['signal_id']} is already {PAST[now]} (the latest decision); "
            "record a different decision to change it",
            detail_zh=f"信号 {signal['signal_id']} 当前结论已是“{PAST_ZH[now]}”；如需更改，请记录不同的结论",
        )
    when = _after(
        session,
        TriageDecision.recorded_at,
        TriageDecision.signal_id == signal["signal_id"],
        at or utcnow(),
    )
    row = TriageDecision(
        id=_id("T", signal["signal_id"], signal["week"], decision, actor.username, when),
        signal_id=signal["signal_id"],
        week=signal["week"],
        decision=decision,
        previous=now,
        reason=text,
        actor_user_id=actor.user_id,
        actor_username=actor.username,
        channel=actor.channel,
        legacy_actor=None,
        recorded_at=when,
    )
    records.add(
        session,
        row,
        actor,
        "triage.decision",
        "signal",
        signal["signal_id"],
        {"decision": decision, "previous": now, "week": signal["week"]},
        at=when,
    )
    return DecisionView(row.id, row.signal_id, row.week, decision, now, text, actor.username, when)


def _decision_frame(rows: Sequence[TriageDecision]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "decision_id": r.id,
                "signal_id": r.signal_id,
                "week": r.week,
                "decision": r.decision,
                "previous": r.previous,
                "reason": r.reason,
                "actor": r.actor_username,
                "channel": r.channel,
                "legacy_actor": r.legacy_actor,
                "recorded_at": r.recorded_at,
            }
            for r in rows
        ],
        columns=DECISION_COLUMNS,
    )


def decision_history(session: Session, signal_id: str | None = None) -> pd.DataFrame:
    """Every decision, oldest first (one signal or all)."""
    query = select(TriageDecision).order_by(TriageDecision.recorded_at, TriageDecision.audit_seq)
    if signal_id:
        query = query.where(TriageDecision.signal_id == signal_id)
    return _decision_frame(session.scalars(query).all())


def current_decisions(session: Session) -> pd.DataFrame:
    """The latest decision of every triaged signal."""
    history = decision_history(session)
    if history.empty:
        return history
    return history.drop_duplicates("signal_id", keep="last").reset_index(drop=True)


# ---- the investigation facet ---------------------------------------------------------------


@dataclass(frozen=True)
class FollowUpView:
    followup_id: str
    signal_id: str
    hospital_code: str
    case_id: str
    due_date: dt.date
    requested_at: dt.datetime


def order_followups(
    session: Session,
    actor: Actor,
    signal: dict,
    cases: Sequence[str],
    note: str,
    *,
    stored: Collection[str] = (),
    force_case: bool = False,
    at: dt.datetime | None = None,
) -> list[FollowUpView]:
    """Select cases of ``signal`` for follow-up (one row each), due 10 working days later.

    Every case must be one of the signal's cases (``signal["case_keys"]``), unless
    ``force_case`` and it is a stored case (``stored``); a case with an open follow-up on the
    same signal is not requested twice; a dismissed signal is not investigated."""
    require_role(session, actor, TRIAGE_ROLES, "order follow-ups")
    text = _text(note, "note") or ""
    keys = parse_case_keys(cases)
    if not keys:
        raise TriageError(
            "a follow-up needs the cases to investigate (--cases H/C,...); "
            "`sentinel signals show ID` lists the signal's cases",
            detail_zh="随访须指定病例（--cases 医院/病例号,...）；`sentinel signals show ID` 列出信号的病例",
        )
    current = current_decision(session, signal["signal_id"])
    if current is not None and current.decision == "dismiss":
        raise TriageError(
            f"signal {signal['signal_id']} is dismissed: record watch or confirm before "
            "ordering follow-ups",
            detail_zh=f"信号 {signal['signal_id']} 已排除：请先改为观察或确认再安排随访",
        )
    own = set(_signal_keys(signal))
    outside = [k for k in keys if k not in own]
    if outside and not force_case:
        raise TriageError(
            f"not cases of signal {signal['signal_id']} ({signal['week']}): "
            f"{', '.join(outside)} (use --force-case to select them anyway)",
            detail_zh=f"不是信号 {signal['signal_id']}（{signal['week']}）的病例："
            f"{', '.join(outside)}（如确需选择，请加 --force-case）",
        )
    missing = [k for k in outside if k not in set(stored)]
    if missing:
        raise TriageNotFound(
            f"no such stored case: {', '.join(missing)}",
            detail_zh=f"没有这些病例：{', '.join(missing)}",
        )
    pending = followups(session, signal["signal_id"], as_of=dt.date(1970, 1, 1))
    pending = pending[pending["result_id"].isna()]
    open_keys = {
        f"{h}/{c}": f
        for h, c, f in zip(
            pending["hospital_code"], pending["case_id"], pending["followup_id"], strict=True
        )
    }
    twice = [f"{k} ({open_keys[k]})" for k in keys if k in open_keys]
    if twice:
        raise TriageError(
            "these cases already have an open follow-up on this signal: " + ", ".join(twice),
            detail_zh="这些病例在此信号下已有未完成的随访：" + "，".join(twice),
        )
    when = _after(
        session, FollowUp.requested_at, FollowUp.signal_id == signal["signal_id"], at or utcnow()
    )
    due = followup_due_date(when.replace(tzinfo=dt.UTC).astimezone(CHINA_TZ).date())
    out = []
    for key in keys:
        hospital, case_id = key.split("/", 1)
        row = FollowUp(
            id=_id("F", signal["signal_id"], hospital, case_id, when),
            signal_id=signal["signal_id"],
            week=signal["week"],
            hospital_code=hospital,
            case_id=case_id,
            note=text,
            due_date=due,
            requested_by_user_id=actor.user_id,
            requested_by=actor.username,
            channel=actor.channel,
            legacy_actor=None,
            requested_at=when,
        )
        records.add(
            session,
            row,
            actor,
            "followup.order",
            "followup",
            row.id,
            {"signal_id": signal["signal_id"], "case": key, "due_date": due.isoformat()},
            at=when,
        )
        out.append(FollowUpView(row.id, row.signal_id, hospital, case_id, due, when))
    return out


def _signal_keys(signal: dict) -> list[str]:
    import json

    raw = signal.get("case_keys")
    return list(json.loads(raw)) if isinstance(raw, str) else list(raw or [])


@dataclass(frozen=True)
class ResultView:
    result_id: str
    followup_id: str
    signal_id: str
    reached: bool
    product_role: str
    recorded_at: dt.datetime


def record_result(
    session: Session,
    actor: Actor,
    followup_id: str,
    *,
    reached: bool,
    conclusion: str,
    product_role: str | None = None,
    brand: str | None = None,
    model: str | None = None,
    batch: str | None = None,
    at: dt.datetime | None = None,
    signal_id: str | None = None,
) -> ResultView:
    """Record what a follow-up found; a later result supersedes an earlier one (both stay).
    A reached follow-up needs the product's role; an unreached one is 'undetermined'.
    ``signal_id``: the signal the caller shows the follow-up under (the web page); a follow-up
    of another signal is then not found."""
    require_role(session, actor, TRIAGE_ROLES, "record follow-up results")
    text = _text(conclusion, "conclusion") or ""
    role = (product_role or "").strip().lower().replace("-", "_") or None
    if role is None:
        if reached:
            raise TriageError(
                "a reached follow-up needs the product's role (--role "
                + "|".join(PRODUCT_ROLES)
                + ")",
                detail_zh="已联系到的随访须填写产品作用（--role " + "|".join(PRODUCT_ROLES) + "）",
            )
        role = "undetermined"
    if role not in PRODUCT_ROLES:
        raise TriageError(
            f"product role {product_role!r} is not one of {', '.join(PRODUCT_ROLES)}",
            detail_zh=f"产品作用 {product_role!r} 不是 {', '.join(PRODUCT_ROLES)} 之一",
        )
    followup = session.get(FollowUp, followup_id)
    if followup is None or (signal_id is not None and followup.signal_id != signal_id):
        raise TriageNotFound(
            f"follow-up {followup_id} not found; `sentinel followup list` shows the follow-up ids",
            detail_zh=f"未找到随访 {followup_id}；`sentinel followup list` 列出随访编号",
        )
    when = _after(
        session,
        FollowUpResult.recorded_at,
        FollowUpResult.followup_id == followup_id,
        at or utcnow(),
    )
    row = FollowUpResult(
        id=_id("R", followup_id, bool(reached), role, text, actor.username, when),
        followup_id=followup_id,
        reached=bool(reached),
        brand_verified=_text(brand, "brand", required=False),
        model_verified=_text(model, "model", required=False),
        batch_verified=_text(batch, "batch", required=False),
        product_role=role,
        conclusion=text,
        recorded_by_user_id=actor.user_id,
        recorded_by=actor.username,
        channel=actor.channel,
        legacy_actor=None,
        recorded_at=when,
    )
    records.add(
        session,
        row,
        actor,
        "followup.result",
        "followup",
        followup_id,
        {
            "signal_id": followup.signal_id,
            "case": f"{followup.hospital_code}/{followup.case_id}",
            "reached": bool(reached),
            "product_role": role,
        },
        at=when,
    )
    return ResultView(row.id, followup_id, followup.signal_id, bool(reached), role, when)


def followups(
    session: Session, signal_id: str | None = None, as_of: dt.date | None = None
) -> pd.DataFrame:
    """One row per follow-up with its latest result and a status: completed (a result was
    recorded), overdue (none and ``as_of`` is past the due date) or open. ``as_of`` defaults
    to today in China; pass it for reproducible output."""
    query = select(FollowUp).order_by(FollowUp.requested_at, FollowUp.id)
    if signal_id:
        query = query.where(FollowUp.signal_id == signal_id)
    rows = session.scalars(query).all()
    latest: dict[str, FollowUpResult] = {}
    if rows:
        ids = [r.id for r in rows]
        for result in session.scalars(
            select(FollowUpResult)
            .where(FollowUpResult.followup_id.in_(ids))
            .order_by(FollowUpResult.recorded_at, FollowUpResult.audit_seq)
        ):
            latest[result.followup_id] = result
    today = as_of or dt.datetime.now(CHINA_TZ).date()
    out = []
    for f in rows:
        r = latest.get(f.id)
        out.append(
            {
                "followup_id": f.id,
                "signal_id": f.signal_id,
                "week": f.week,
                "hospital_code": f.hospital_code,
                "case_id": f.case_id,
                "note": f.note,
                "requested_by": f.requested_by,
                "requested_at": f.requested_at,
                "due_date": f.due_date,
                "result_id": r.id if r else None,
                "reached": r.reached if r else None,
                "brand_verified": r.brand_verified if r else None,
                "model_verified": r.model_verified if r else None,
                "batch_verified": r.batch_verified if r else None,
                "product_role": r.product_role if r else None,
                "conclusion": r.conclusion if r else None,
                "recorded_by": r.recorded_by if r else None,
                "recorded_at": r.recorded_at if r else None,
                "status": "completed" if r else "overdue" if today > f.due_date else "open",
            }
        )
    return pd.DataFrame(out, columns=FOLLOWUP_VIEW_COLUMNS)


def followup_history(session: Session, followup_id: str) -> pd.DataFrame:
    """Every result recorded for a follow-up, oldest first."""
    rows = session.scalars(
        select(FollowUpResult)
        .where(FollowUpResult.followup_id == followup_id)
        .order_by(FollowUpResult.recorded_at, FollowUpResult.audit_seq)
    ).all()
    return pd.DataFrame(
        [
            {
                "result_id": r.id,
                "reached": r.reached,
                "brand_verified": r.brand_verified,
                "model_verified": r.model_verified,
                "batch_verified": r.batch_verified,
                "product_role": r.product_role,
                "conclusion": r.conclusion,
                "recorded_by": r.recorded_by,
                "recorded_at": r.recorded_at,
            }
            for r in rows
        ],
        columns=RESULT_COLUMNS,
    )


# ---- both facets together ------------------------------------------------------------------


def investigation_state(follow: pd.DataFrame) -> dict:
    """The investigation facet of one signal from its follow-ups: ``none`` (nothing ordered),
    ``ordered`` (no result yet), ``in_progress`` (some results), ``complete`` (every
    follow-up has a result)."""
    total = len(follow)
    done = int(follow["result_id"].notna().sum()) if total else 0
    overdue = int((follow["status"] == "overdue").sum()) if total else 0
    state = (
        "none"
        if total == 0
        else "complete"
        if done == total
        else "ordered"
        if done == 0
        else "in_progress"
    )
    return {"state": state, "ordered": total, "completed": done, "overdue": overdue}


@dataclass
class TriageState:
    """What readers (reports, packs, notices, lists) need of the triage records, read once."""

    decisions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=DECISION_COLUMNS))
    history: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=DECISION_COLUMNS))
    followups: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=FOLLOWUP_VIEW_COLUMNS)
    )
    audit_heads: dict[str, str] = field(default_factory=dict)  # signal -> "SEQ:HASH"
    as_of: dt.date | None = None

    def decision(self, signal_id: str) -> dict | None:
        match = self.decisions[self.decisions["signal_id"] == signal_id]
        return match.iloc[-1].to_dict() if not match.empty else None

    def decisions_of(self, signal_id: str) -> pd.DataFrame:
        return self.history[self.history["signal_id"] == signal_id].reset_index(drop=True)

    def followups_of(self, signal_id: str) -> pd.DataFrame:
        return self.followups[self.followups["signal_id"] == signal_id].reset_index(drop=True)

    def investigation(self, signal_id: str) -> dict:
        return investigation_state(self.followups_of(signal_id))

    def latest_record(self) -> dt.datetime | None:
        times = [
            t
            for frame, column in (
                (self.history, "recorded_at"),
                (self.followups, "requested_at"),
                (self.followups, "recorded_at"),
            )
            for t in frame[column].dropna()
        ]
        return max(times) if times else None


def load_state(session: Session, as_of: dt.date | None = None) -> TriageState:
    """Every decision and follow-up, and per signal the audit entry of its latest record
    (``SEQ:HASH``, for evidence-pack provenance)."""
    from pipeline.appdb.models import AuditEntry

    history = decision_history(session)
    follow = followups(session, as_of=as_of)
    heads: dict[str, str] = {}
    seqs: dict[str, int] = {}
    for signal_id, seq in session.execute(
        select(TriageDecision.signal_id, func.max(TriageDecision.audit_seq)).group_by(
            TriageDecision.signal_id
        )
    ):
        seqs[signal_id] = max(seqs.get(signal_id, 0), int(seq))
    for signal_id, seq in session.execute(
        select(FollowUp.signal_id, func.max(FollowUp.audit_seq)).group_by(FollowUp.signal_id)
    ):
        seqs[signal_id] = max(seqs.get(signal_id, 0), int(seq))
    for signal_id, seq in session.execute(
        select(FollowUp.signal_id, func.max(FollowUpResult.audit_seq))
        .join(FollowUpResult, FollowUpResult.followup_id == FollowUp.id)
        .group_by(FollowUp.signal_id)
    ):
        seqs[signal_id] = max(seqs.get(signal_id, 0), int(seq))
    for signal_id, seq in seqs.items():
        entry = session.get(AuditEntry, seq)
        if entry is not None:
            heads[signal_id] = f"{entry.seq}:{entry.entry_hash}"
    current = history.drop_duplicates("signal_id", keep="last").reset_index(drop=True)
    return TriageState(current, history, follow, heads, as_of)
