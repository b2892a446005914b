"""Moving the triage records of a warehouse from before schema 6 into the application database.

Until schema 5 the warehouse held ``alert_triage``, ``followups``, ``followup_results`` and
``audit_log``, keyed by alert and with a free-text actor. :func:`import_legacy` copies every row
(nothing is dropped; ``sentinel db upgrade`` drops the tables only afterwards):

* a decision confirm / dismiss / watch becomes a ``triage_decisions`` row of the signal the alert
  belonged to that week (its id kept); the old ``follow_up`` decision was not a decision but an
  order, so it becomes the ``note`` of the follow-ups it ordered and an audit entry of its own,
  and leaves the decision facet as it was (the fix of issue 15: a follow-up never replaces a
  confirmation);
* follow-ups and results keep their ids, dates and contents;
* every old ``audit_log`` row becomes an entry ``legacy.audit`` of the hash chain.

Old free-text actors are kept as ``legacy_actor`` (scrubbed of identifiers like any typed text);
the rows are recorded as imported by the operator who ran the upgrade. Every audit entry written
here names the legacy row it carries (``details["legacy"] = {"table", "id"}``), so a test can
account for every old row. Re-running after an interruption skips rows already imported.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.appdb import audit, records
from pipeline.appdb.audit import Actor
from pipeline.appdb.models import (
    AuditEntry,
    FollowUp,
    FollowUpResult,
    TriageDecision,
)
from pipeline.privacy import scrub_text

LEGACY_TABLES = ("alert_triage", "followups", "followup_results", "audit_log")
IMPORTED_NOTE = "(imported from the warehouse: no note recorded)"

SignalOf = Callable[[str, str | None], tuple[str, str] | None]  # (alert, week) -> (signal, week)


def _time(value: object) -> dt.datetime:
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return (
            value.replace(tzinfo=None)
            if value.tzinfo is None
            else value.astimezone(dt.UTC).replace(tzinfo=None)
        )
    return dt.datetime(1970, 1, 1)


def _date(value: object) -> dt.date:
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date(1970, 1, 1)


def _label(value: object) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = scrub_text(str(value).strip())
    return text[:200] if text else None


def _plain(value: object) -> object:
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return value.isoformat()
    item = getattr(value, "item", None)
    return item() if callable(item) and not isinstance(value, str) else value


def _scrubbed(value: object) -> object:
    """Every string inside a JSON value scrubbed of identifiers."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, list):
        return [_scrubbed(v) for v in value]
    if isinstance(value, dict):
        return {k: _scrubbed(v) for k, v in value.items()}
    return value


def _imported_legacy_ids(session: Session) -> set[tuple[str, str]]:
    done = set()
    for details in session.scalars(
        select(AuditEntry.details).where(AuditEntry.details.like('%"legacy":{%'))
    ):
        ref = json.loads(details).get("legacy") or {}
        if "table" in ref and "id" in ref:
            done.add((ref["table"], str(ref["id"])))
    return done


def import_legacy(
    session: Session, actor: Actor, legacy: dict[str, pd.DataFrame], signal_of: SignalOf
) -> dict[str, int]:
    """Copy the legacy tables' rows (frames keyed by table name) into the application database
    in the caller's transaction; returns how many rows of each table were imported now."""
    done = _imported_legacy_ids(session)
    counts = dict.fromkeys(LEGACY_TABLES, 0)
    decisions = legacy.get("alert_triage", pd.DataFrame()).copy()
    if not decisions.empty:
        decisions["recorded_at"] = decisions["recorded_at"].map(_time)
        decisions = decisions.sort_values(["recorded_at", "event_id"])
    follow = legacy.get("followups", pd.DataFrame())
    results = legacy.get("followup_results", pd.DataFrame())
    # The note of a follow-up: the reason of the follow_up decision that ordered it.
    orders = decisions[decisions["decision"] == "follow_up"] if not decisions.empty else decisions
    order_of: dict[tuple[str, dt.datetime], dict] = {
        (r["alert_id"], r["recorded_at"]): r for r in orders.to_dict("records")
    }

    current: dict[str, str | None] = {}
    for row in decisions.to_dict("records"):
        mapped = signal_of(row["alert_id"], row["week"])
        signal_id, week = mapped if mapped else (row["alert_id"], row["week"])
        legacy_ref = {"table": "alert_triage", "id": row["event_id"]}
        if ("alert_triage", row["event_id"]) in done:
            if row["decision"] != "follow_up":
                current[signal_id] = row["decision"]
            continue
        common = {
            "legacy": legacy_ref,
            "alert_id": row["alert_id"],
            "week": row["week"],
            "legacy_actor": _label(row["actor"]),
            "recorded_at": row["recorded_at"].isoformat(),
            "mapped_to_signal": mapped is not None,
        }
        if row["decision"] == "follow_up":
            audit.append(
                session,
                actor,
                "legacy.followup_order",
                "signal",
                signal_id,
                {**common, "reason": scrub_text(str(row["reason"] or ""))},
            )
        else:
            decision = TriageDecision(
                id=row["event_id"],
                signal_id=signal_id,
                week=week,
                decision=row["decision"],
                previous=current.get(signal_id),
                reason=scrub_text(str(row["reason"] or "")) or "",
                actor_user_id=actor.user_id,
                actor_username=actor.username,
                channel=actor.channel,
                legacy_actor=_label(row["actor"]),
                recorded_at=row["recorded_at"],
            )
            records.add(
                session,
                decision,
                actor,
                "legacy.triage_decision",
                "signal",
                signal_id,
                {**common, "decision": row["decision"]},
            )
            current[signal_id] = row["decision"]
        counts["alert_triage"] += 1

    for row in follow.to_dict("records"):
        if ("followups", row["followup_id"]) in done:
            continue
        requested = _time(row["requested_at"])
        order = order_of.get((row["alert_id"], requested))
        mapped = signal_of(row["alert_id"], order["week"] if order else None)
        signal_id, week = mapped if mapped else (row["alert_id"], order["week"] if order else "")
        item = FollowUp(
            id=row["followup_id"],
            signal_id=signal_id,
            week=week,
            hospital_code=str(row["hospital_code"]),
            case_id=str(row["case_id"]),
            note=scrub_text(str(order["reason"])) if order else IMPORTED_NOTE,
            due_date=_date(row["due_date"]),
            requested_by_user_id=actor.user_id,
            requested_by=actor.username,
            channel=actor.channel,
            legacy_actor=_label(row["requested_by"]),
            requested_at=requested,
        )
        records.add(
            session,
            item,
            actor,
            "legacy.followup",
            "followup",
            item.id,
            {
                "legacy": {"table": "followups", "id": row["followup_id"]},
                "alert_id": row["alert_id"],
                "case": f"{row['hospital_code']}/{row['case_id']}",
                "mapped_to_signal": mapped is not None,
            },
        )
        counts["followups"] += 1

    for row in results.to_dict("records"):
        if ("followup_results", row["result_id"]) in done:
            continue
        result = FollowUpResult(
            id=row["result_id"],
            followup_id=row["followup_id"],
            reached=bool(row["reached"]) if row["reached"] is not None else False,
            brand_verified=_label(row["brand_verified"]),
            model_verified=_label(row["model_verified"]),
            batch_verified=_label(row["batch_verified"]),
            product_role=row["product_role"] or "undetermined",
            conclusion=scrub_text(str(row["conclusion"] or "")) or "",
            recorded_by_user_id=actor.user_id,
            recorded_by=actor.username,
            channel=actor.channel,
            legacy_actor=_label(row["recorded_by"]),
            recorded_at=_time(row["recorded_at"]),
        )
        records.add(
            session,
            result,
            actor,
            "legacy.followup_result",
            "followup",
            row["followup_id"],
            {"legacy": {"table": "followup_results", "id": row["result_id"]}},
        )
        counts["followup_results"] += 1

    log = legacy.get("audit_log", pd.DataFrame())
    if not log.empty:
        log = log.assign(_t=log["recorded_at"].map(_time)).sort_values(["_t", "event_id"])
    for row in log.to_dict("records"):
        if ("audit_log", row["event_id"]) in done:
            continue
        try:
            details = json.loads(row["details"]) if row["details"] else {}
        except (TypeError, ValueError):
            details = {"text": row["details"]}
        audit.append(
            session,
            actor,
            "legacy.audit",
            str(row["object_type"] or "unknown")[:64],
            _plain(row["object_id"]),  # type: ignore[arg-type]
            {
                "legacy": {"table": "audit_log", "id": row["event_id"]},
                "recorded_at": _plain(row["recorded_at"]),
                "legacy_actor": _label(row["actor"]),
                "action": row["action"],
                "details": _scrubbed(details),
            },
        )
        counts["audit_log"] += 1
    audit.append(session, actor, "legacy.import", "warehouse", None, {"imported": counts})
    return counts


def read_legacy(con) -> dict[str, pd.DataFrame]:  # type: ignore[no-untyped-def]
    """The legacy tables of a warehouse connection (an absent table: an empty frame)."""
    present = {
        t
        for (t,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
    }
    return {
        t: (con.execute(f"SELECT * FROM {t}").df() if t in present else pd.DataFrame())
        for t in LEGACY_TABLES
    }


def legacy_ids(legacy: dict[str, pd.DataFrame]) -> set[tuple[str, str]]:
    """(table, id) of every legacy row: what the import must account for."""
    id_column = {
        "alert_triage": "event_id",
        "followups": "followup_id",
        "followup_results": "result_id",
        "audit_log": "event_id",
    }
    return {
        (t, str(i)) for t, frame in legacy.items() if not frame.empty for i in frame[id_column[t]]
    }


def imported_ids(session: Session) -> set[tuple[str, str]]:
    return _imported_legacy_ids(session)
