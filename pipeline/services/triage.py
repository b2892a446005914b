"""Triage service: the week's alerts and their decisions, follow-ups and their results.

Listing reads the published snapshot; recording a decision or a result is a (short) writing
run that publishes a new snapshot, so the next list shows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd

from pipeline.config import Settings
from pipeline.errors import BadInput
from pipeline.reporting.context import alert_cases
from pipeline.storage.session import reader, writer
from pipeline.triage import store

STATUSES = ("new", "ongoing", "resolved")


def alerts(
    settings: Settings,
    week: str | None = None,
    status: str | None = None,
    decision: str | None = None,
) -> pd.DataFrame:
    """A week's alerts in rank order with each alert's current decision."""
    if status and status not in STATUSES:
        raise BadInput(f"--status {status!r} is not one of {', '.join(STATUSES)}")
    with reader(settings) as con:
        return store.list_alerts(con, week, status, decision)


def alert_details(settings: Settings, alert_id: str, week: str | None = None) -> dict:
    """An alert with its cases, triage history and follow-ups."""
    with reader(settings) as con:
        alert = store.find_alert(con, alert_id, week)
        return {
            "alert": alert,
            "cases": alert_cases(con, alert),
            "history": store.decision_history(con, alert_id),
            "followups": store.followups(con, alert_id),
        }


def decide(
    settings: Settings,
    alert_id: str,
    decision: str,
    actor: str,
    reason: str,
    week: str | None = None,
    cases: Sequence[str] = (),
    force_case: bool = False,
) -> dict:
    """Record a decision on an alert (append-only, audited)."""
    with writer(settings) as con:
        return store.record_decision(
            con,
            alert_id,
            decision,
            actor,
            reason,
            week=week,
            cases=cases,
            force_case=force_case,
        )


def followups(
    settings: Settings,
    alert_id: str | None = None,
    only_open: bool = False,
    overdue: bool = False,
    as_of: date | None = None,
) -> pd.DataFrame:
    """Follow-ups with their latest result and status (open, overdue, completed)."""
    with reader(settings) as con:
        frame = store.followups(con, alert_id, as_of=as_of)
    if overdue:
        return frame[frame["status"] == "overdue"]
    if only_open:
        return frame[frame["status"] != "completed"]
    return frame


def record_result(settings: Settings, followup_id: str, **result: object) -> str:
    """Record the result of a follow-up (a later record supersedes, history is kept)."""
    with writer(settings) as con:
        return store.record_followup_result(con, followup_id, **result)  # type: ignore[arg-type]
