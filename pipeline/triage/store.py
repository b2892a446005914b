"""Triage decisions and follow-up investigations in the warehouse, append-only and audited.

Tables (all append-only: a new decision or result is a new row, nothing is ever updated or
deleted, so the full history stays readable):

* ``alert_triage``: one row per decision on an alert (confirm, dismiss, watch, follow_up) with
  who, when (UTC) and why; the current decision of an alert is its latest row;
* ``followups``: one row per case selected for follow-up investigation, due 10 working days
  (Chinese calendar, see ``workdays``) after the request;
* ``followup_results``: the outcome of a follow-up (reached or not, verified brand / model /
  batch, the product's role, a conclusion); the latest row of a follow-up is its result;
* ``audit_log``: every write above also appends one row here, in the same transaction.

Ids are deterministic: sha1 of the row's content and timestamp. Free text (actor, reasons,
conclusions, verified product details) goes through ``scrub_text`` before storage, so an
analyst pasting a name, phone number or ID-card number does not put it in the warehouse in
clear.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta, timezone

import duckdb
import pandas as pd

from pipeline.errors import BadInput, NotFound
from pipeline.privacy import scrub_text
from pipeline.storage.warehouse import transaction
from pipeline.triage.workdays import followup_due_date

DECISIONS: tuple[str, ...] = ("confirm", "dismiss", "watch", "follow_up")
PRODUCT_ROLES: tuple[str, ...] = (
    "caused",
    "contributed",
    "involved_not_causal",
    "unrelated",
    "undetermined",
)
CHINA_TZ = timezone(timedelta(hours=8), "CST")  # due dates follow the Chinese calendar day
MAX_TEXT = 2000
CASE_KEY_RE = re.compile(r"^[A-Z]{2}[0-9]{3}/[A-Za-z0-9][A-Za-z0-9_\-]{0,39}$")

TRIAGE_TABLES = ("alert_triage", "followups", "followup_results", "audit_log")

DECISION_COLUMNS = ["alert_id", "week", "decision", "actor", "reason", "recorded_at"]
FOLLOWUP_COLUMNS = [
    "followup_id",
    "alert_id",
    "hospital_code",
    "case_id",
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
    """The alert or follow-up named does not exist."""


# ---- helpers -------------------------------------------------------------------------------


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _sha(prefix: str, *parts: object) -> str:
    text = "|".join("" if p is None else str(p) for p in parts)
    return prefix + hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def normalise_decision(decision: str) -> str:
    value = (decision or "").strip().lower().replace("-", "_")
    if value not in DECISIONS:
        raise TriageError(
            f"decision {decision!r} is not one of "
            f"{', '.join(d.replace('_', '-') for d in DECISIONS)}"
        )
    return value


def _required_text(value: str | None, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise TriageError(f"{what} is required")
    if len(text) > MAX_TEXT:
        raise TriageError(f"{what} is longer than {MAX_TEXT} characters")
    return text


def _clean(value: str | None, what: str) -> str | None:
    """Optional free text: trimmed, length-checked and scrubbed of identifiers."""
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > MAX_TEXT:
        raise TriageError(f"{what} is longer than {MAX_TEXT} characters")
    return scrub_text(text)


def _monotonic(
    con: duckdb.DuckDBPyConnection, table: str, column: str, value: str, at: datetime
) -> datetime:
    """``at``, moved 1 microsecond past the object's latest row if needed, so that "latest"
    is always well defined (two decisions in the same microsecond, or a clock step back)."""
    last = con.execute(
        f"SELECT max(recorded_at) FROM {table} WHERE {column} = ?", [value]
    ).fetchone()[0]
    if last is not None and at <= last:
        return last + timedelta(microseconds=1)
    return at


def _audit(
    con: duckdb.DuckDBPyConnection,
    at: datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    details: dict,
) -> str:
    payload = json.dumps(details, ensure_ascii=False, sort_keys=True, default=str)
    event_id = _sha("L", action, object_type, object_id, at.isoformat(), payload)
    con.execute(
        "INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?)",
        [event_id, at, actor, action, object_type, object_id, payload],
    )
    return event_id


# ---- alerts --------------------------------------------------------------------------------


def find_alert(con: duckdb.DuckDBPyConnection, alert_id: str, week: str | None = None) -> dict:
    """The alerts row of ``alert_id``: in ``week``, or else the latest week in which it is not
    resolved (the latest week at all when it is resolved everywhere)."""
    rows = con.execute(
        "SELECT * FROM alerts WHERE alert_id = ? ORDER BY week DESC", [alert_id]
    ).df()
    if week:
        rows = rows[rows["week"] == week]
    if rows.empty:
        where = f" in week {week}" if week else ""
        raise TriageNotFound(
            f"alert {alert_id} not found{where}; `sentinel alerts list` "
            "shows the alert ids of a week"
        )
    live = rows[rows["status"] != "resolved"]
    row = (live if not live.empty else rows).iloc[0]
    return {k: (None if _isna(v) else v) for k, v in row.to_dict().items()}


def _isna(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def alert_case_keys(alert: dict) -> list[str]:
    raw = alert.get("case_keys")
    return list(json.loads(raw)) if raw else []


def parse_case_keys(values: Iterable[str]) -> list[str]:
    """``H/C`` case keys from CLI text (comma- or space-separated), de-duplicated, in order."""
    keys: list[str] = []
    for chunk in values:
        for key in re.split(r"[,\s]+", chunk or ""):
            if not key:
                continue
            if not CASE_KEY_RE.match(key):
                raise TriageError(f"{key!r} is not a case key HOSPITAL/CASE_ID like GZ001/C123")
            if key not in keys:
                keys.append(key)
    return keys


# ---- decisions -----------------------------------------------------------------------------


def record_decision(
    con: duckdb.DuckDBPyConnection,
    alert_id: str,
    decision: str,
    actor: str,
    reason: str,
    *,
    week: str | None = None,
    cases: Sequence[str] = (),
    force_case: bool = False,
    at: datetime | None = None,
) -> dict:
    """Append a triage decision (and, for follow_up, one follow-up per selected case).

    Rules: the decision is one of ``DECISIONS``; actor and reason are required; the alert
    must exist; follow_up needs at least one case, and every case must be one of the alert's
    cases unless ``force_case`` (then it must at least be a stored case); a case with an open
    follow-up on the same alert is not requested twice. Returns the ids written.
    """
    decision = normalise_decision(decision)
    actor = scrub_text(_required_text(actor, "actor")) or ""  # typed by a user: scrubbed too
    reason = scrub_text(_required_text(reason, "reason")) or ""
    alert = find_alert(con, alert_id, week)
    keys = parse_case_keys(cases)
    if decision != "follow_up" and keys:
        raise TriageError("cases are selected only with the follow-up decision")
    if decision == "follow_up":
        _check_followup_cases(con, alert, keys, force_case)
    at = _monotonic(con, "alert_triage", "alert_id", alert_id, at or _utcnow())
    event_id = _sha("T", alert_id, alert["week"], decision, actor, reason, at.isoformat())
    followup_ids: list[str] = []
    due = followup_due_date(at.replace(tzinfo=UTC).astimezone(CHINA_TZ).date())
    with transaction(con):
        con.execute(
            "INSERT INTO alert_triage VALUES (?, ?, ?, ?, ?, ?, ?)",
            [event_id, alert_id, alert["week"], decision, actor, reason, at],
        )
        _audit(
            con,
            at,
            actor,
            "triage.decision",
            "alert",
            alert_id,
            {
                "event_id": event_id,
                "week": alert["week"],
                "decision": decision,
                "reason": reason,
                "cases": keys,
            },
        )
        for key in keys:
            hospital, case_id = key.split("/", 1)
            followup_id = _sha("F", alert_id, hospital, case_id, event_id)
            con.execute(
                "INSERT INTO followups VALUES (?, ?, ?, ?, ?, ?, ?)",
                [followup_id, alert_id, hospital, case_id, actor, at, due],
            )
            _audit(
                con,
                at,
                actor,
                "followup.request",
                "followup",
                followup_id,
                {
                    "alert_id": alert_id,
                    "case": key,
                    "due_date": due.isoformat(),
                    "triage_event": event_id,
                },
            )
            followup_ids.append(followup_id)
    return {
        "event_id": event_id,
        "alert_id": alert_id,
        "week": alert["week"],
        "decision": decision,
        "recorded_at": at,
        "followup_ids": followup_ids,
        "due_date": due if followup_ids else None,
    }


def _check_followup_cases(
    con: duckdb.DuckDBPyConnection, alert: dict, keys: list[str], force_case: bool
) -> None:
    if not keys:
        raise TriageError(
            "a follow-up needs the cases to investigate (--cases H/C,...); "
            "`sentinel alerts show ID` lists the alert's cases"
        )
    alert_keys = set(alert_case_keys(alert))
    outside = [k for k in keys if k not in alert_keys]
    if outside and not force_case:
        raise TriageError(
            f"not cases of alert {alert['alert_id']} ({alert['week']}): "
            f"{', '.join(outside)} (use --force-case to select them anyway)"
        )
    if outside:
        stored = {
            f"{h}/{c}"
            for h, c in con.execute(
                "SELECT hospital_code, case_id FROM cases WHERE hospital_code || '/' || case_id "
                "IN (SELECT unnest(?::VARCHAR[]))",
                [outside],
            ).fetchall()
        }
        missing = [k for k in outside if k not in stored]
        if missing:
            raise TriageError(f"no such stored case: {', '.join(missing)}")
    current = followups(con, alert["alert_id"])
    pending = current[current["status"] != "completed"]
    already = {
        f"{h}/{c}": f
        for h, c, f in zip(
            pending["hospital_code"], pending["case_id"], pending["followup_id"], strict=True
        )
    }
    twice = [f"{k} ({already[k]})" for k in keys if k in already]
    if twice:
        raise TriageError(
            "these cases already have an open follow-up on this alert: " + ", ".join(twice)
        )


def decision_history(con: duckdb.DuckDBPyConnection, alert_id: str | None = None) -> pd.DataFrame:
    """Every decision (oldest first), for one alert or all."""
    columns = ["event_id", *DECISION_COLUMNS]
    where, args = ("WHERE alert_id = ?", [alert_id]) if alert_id else ("", [])
    return con.execute(
        f"SELECT {', '.join(columns)} FROM alert_triage {where} ORDER BY recorded_at, event_id",
        args,
    ).df()


def current_decisions(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The latest decision per alert_id: alert_id, week, decision, actor, reason, recorded_at."""
    return con.execute(f"""
        SELECT {", ".join(DECISION_COLUMNS)} FROM alert_triage
        QUALIFY row_number() OVER (PARTITION BY alert_id
                                   ORDER BY recorded_at DESC, event_id DESC) = 1
        ORDER BY alert_id""").df()


# ---- follow-ups ----------------------------------------------------------------------------


def record_followup_result(
    con: duckdb.DuckDBPyConnection,
    followup_id: str,
    *,
    reached: bool,
    actor: str,
    conclusion: str,
    product_role: str | None = None,
    brand: str | None = None,
    model: str | None = None,
    batch: str | None = None,
    at: datetime | None = None,
) -> str:
    """Append the result of a follow-up; a later result supersedes an earlier one (both stay).

    A reached follow-up needs the product's role; an unreached one is 'undetermined'.
    """
    actor = scrub_text(_required_text(actor, "actor")) or ""  # typed by a user: scrubbed too
    conclusion = scrub_text(_required_text(conclusion, "conclusion")) or ""
    role = (product_role or "").strip().lower().replace("-", "_") or None
    if role is None:
        if reached:
            raise TriageError(
                "a reached follow-up needs the product's role (--role "
                + "|".join(PRODUCT_ROLES)
                + ")"
            )
        role = "undetermined"
    if role not in PRODUCT_ROLES:
        raise TriageError(f"product role {product_role!r} is not one of {', '.join(PRODUCT_ROLES)}")
    brand, model, batch = (_clean(brand, "brand"), _clean(model, "model"), _clean(batch, "batch"))
    found = con.execute(
        "SELECT alert_id, hospital_code, case_id FROM followups WHERE followup_id = ?",
        [followup_id],
    ).fetchone()
    if found is None:
        raise TriageNotFound(
            f"follow-up {followup_id} not found; `sentinel followup list` shows the follow-up ids"
        )
    at = _monotonic(con, "followup_results", "followup_id", followup_id, at or _utcnow())
    result_id = _sha(
        "R",
        followup_id,
        bool(reached),
        brand,
        model,
        batch,
        role,
        conclusion,
        actor,
        at.isoformat(),
    )
    with transaction(con):
        con.execute(
            "INSERT INTO followup_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                result_id,
                followup_id,
                bool(reached),
                brand,
                model,
                batch,
                role,
                conclusion,
                actor,
                at,
            ],
        )
        _audit(
            con,
            at,
            actor,
            "followup.result",
            "followup",
            followup_id,
            {
                "result_id": result_id,
                "alert_id": found[0],
                "case": f"{found[1]}/{found[2]}",
                "reached": bool(reached),
                "brand_verified": brand,
                "model_verified": model,
                "batch_verified": batch,
                "product_role": role,
                "conclusion": conclusion,
            },
        )
    return result_id


def followups(
    con: duckdb.DuckDBPyConnection, alert_id: str | None = None, as_of: date | None = None
) -> pd.DataFrame:
    """One row per follow-up with its latest result and a status: completed (a result was
    recorded), overdue (none and ``as_of`` is past the due date) or open.

    ``as_of`` defaults to today's date in China; pass it explicitly for reproducible output.
    """
    where, args = ("WHERE f.alert_id = ?", [alert_id]) if alert_id else ("", [])
    frame = con.execute(
        f"""
        WITH latest AS (
          SELECT * FROM followup_results
          QUALIFY row_number() OVER (PARTITION BY followup_id
                                     ORDER BY recorded_at DESC, result_id DESC) = 1)
        SELECT {", ".join("f." + c for c in FOLLOWUP_COLUMNS)},
               {", ".join("r." + c for c in RESULT_COLUMNS)}
        FROM followups f LEFT JOIN latest r USING (followup_id) {where}
        ORDER BY f.requested_at, f.followup_id""",
        args,
    ).df()
    today = as_of or datetime.now(CHINA_TZ).date()
    # DuckDB DATE arrives as a timestamp: hand out plain dates.
    frame["due_date"] = pd.Series(
        [d.date() if isinstance(d, pd.Timestamp) else None for d in frame["due_date"]],
        index=frame.index,
        dtype=object,
    )
    frame["status"] = [
        "completed" if isinstance(r, str) else "overdue" if d is not None and today > d else "open"
        for r, d in zip(frame["result_id"], frame["due_date"], strict=True)
    ]
    return frame.reindex(columns=FOLLOWUP_VIEW_COLUMNS)


def followup_history(con: duckdb.DuckDBPyConnection, followup_id: str) -> pd.DataFrame:
    """Every result recorded for a follow-up, oldest first."""
    return con.execute(
        f"SELECT followup_id, {', '.join(RESULT_COLUMNS)} FROM followup_results "
        "WHERE followup_id = ? ORDER BY recorded_at, result_id",
        [followup_id],
    ).df()


def audit_trail(con: duckdb.DuckDBPyConnection, object_id: str | None = None) -> pd.DataFrame:
    columns = ["event_id", "recorded_at", "actor", "action", "object_type", "object_id", "details"]
    where, args = ("WHERE object_id = ?", [object_id]) if object_id else ("", [])
    return con.execute(
        f"SELECT {', '.join(columns)} FROM audit_log {where} ORDER BY recorded_at, event_id", args
    ).df()


# ---- listing -------------------------------------------------------------------------------


def latest_alert_week(con: duckdb.DuckDBPyConnection) -> str | None:
    return con.execute("SELECT max(week) FROM alerts").fetchone()[0]


def list_alerts(
    con: duckdb.DuckDBPyConnection,
    week: str | None = None,
    status: str | None = None,
    decision: str | None = None,
) -> pd.DataFrame:
    """A week's alerts in the detectors' rank order, with each alert's current decision
    (decision 'none' selects untriaged alerts). Resolved alerts come last, unranked."""
    week = week or latest_alert_week(con)
    if week is None:
        return pd.DataFrame()
    alerts = con.execute(
        "SELECT * FROM alerts WHERE week = ? ORDER BY rank NULLS LAST, alert_id", [week]
    ).df()
    current = current_decisions(con).rename(
        columns={
            "week": "decision_week",
            "actor": "decided_by",
            "reason": "decision_reason",
            "recorded_at": "decided_at",
        }
    )
    merged = alerts.merge(current, on="alert_id", how="left")
    if status:
        merged = merged[merged["status"] == status]
    if decision:
        wanted = decision.strip().lower().replace("-", "_")
        if wanted == "none":
            merged = merged[merged["decision"].isna()]
        else:
            merged = merged[merged["decision"] == normalise_decision(wanted)]
    return merged.reset_index(drop=True)
