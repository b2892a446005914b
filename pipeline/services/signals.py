"""Signals service: the analysts' inbox and one signal's page (``sentinel signals``, web).

Signals, their member alerts and cases come from the published snapshot; their decision and
investigation facets from the application database. Functions:

* ``inbox(settings, week=None, status=None, decision=None, family=None, city=None,
  severity=None, lang="en")`` -> Inbox (the week, its signals in rank order with titles,
  decision and investigation, and counts per status);
* ``details(settings, signal_id, week=None, lang="en", as_of=None)`` -> dict with the signal,
  its title, evidence window sentence, member alerts (every week, each with why it fired),
  cases, weekly history, trend, decision history, follow-ups, investigation state, notices and
  evidence packs;
* ``weeks(settings)``: weeks with stored signals.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

import duckdb
import pandas as pd

from pipeline.alerts import signal_store
from pipeline.alerts.series import city_of
from pipeline.alerts.signals import STATUSES
from pipeline.config import Settings
from pipeline.errors import BadInput
from pipeline.reporting import explain
from pipeline.reporting.context import signal_cases, signal_trend
from pipeline.reporting.labels import Labels
from pipeline.services import evidence, notices, triage
from pipeline.storage.session import reader
from pipeline.triage.store import DECISIONS

SEVERITY_LEVELS = ("died", "severe", "admitted", "other")


@dataclass
class Inbox:
    week: str | None
    signals: pd.DataFrame
    counts: dict[str, int] = field(default_factory=dict)  # per status, before filtering


def weeks(settings: Settings) -> list[str]:
    with reader(settings) as con:
        return signal_store.signal_weeks(con)


def _severity_level(row: dict) -> str:
    if row["n_died"]:
        return "died"
    if row["n_severe"]:
        return "severe"
    if row["n_admitted"]:
        return "admitted"
    return "other"


def _cities(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> dict[str, list[str]]:
    """Residence cities (GB/T 2260 city codes) of each signal's cases."""
    pairs = [
        (sid, *key.split("/", 1))
        for sid, keys in zip(frame["signal_id"], frame["case_keys"], strict=True)
        for key in json.loads(keys)
    ]
    if not pairs:
        return {}
    keys = pd.DataFrame(pairs, columns=["signal_id", "hospital_code", "case_id"])
    con.register("_signal_keys", keys)
    try:
        rows = con.execute(
            """SELECT k.signal_id, c.residence_region FROM _signal_keys k
               JOIN cases c ON c.hospital_code = k.hospital_code AND c.case_id = k.case_id"""
        ).fetchall()
    finally:
        con.unregister("_signal_keys")
    out: dict[str, set[str]] = {}
    for sid, region in rows:
        city = city_of(region)
        if city:
            out.setdefault(sid, set()).add(city)
    return {k: sorted(v) for k, v in out.items()}


def inbox(
    settings: Settings,
    week: str | None = None,
    status: str | None = None,
    decision: str | None = None,
    family: str | None = None,
    city: str | None = None,
    severity: str | None = None,
    lang: str = "en",
) -> Inbox:
    """The signals of a week (default: the latest), ranked active ones first, then quiet and
    resolved ones, with title, decision, investigation, cities and severity level; filters:
    ``status`` (new / ongoing / reopened / quiet / resolved, or 'open' for all but
    resolved), ``decision`` (confirm / dismiss / watch / none), ``family`` (product family
    code), ``city`` (6-digit city code), ``severity`` (died / severe / admitted / other)."""
    if status and status not in (*STATUSES, "open"):
        raise BadInput(f"--status {status!r} is not one of {', '.join(STATUSES)}, open")
    if decision and decision not in (*DECISIONS, "none"):
        raise BadInput(f"--decision {decision!r} is not one of {', '.join(DECISIONS)}, none")
    if severity and severity not in SEVERITY_LEVELS:
        raise BadInput(f"--severity {severity!r} is not one of {', '.join(SEVERITY_LEVELS)}")
    state = triage.state(settings)
    with reader(settings) as con:
        week = week or signal_store.latest_week(con)
        if week is None:
            return Inbox(None, pd.DataFrame())
        frame = signal_store.week_signals(con, week)
        labels = Labels(con)
        cities = _cities(con, frame)
        member_rows = {
            sid: signal_store.members(con, sid).to_dict("records") for sid in frame["signal_id"]
        }
    counts = {s: int((frame["status"] == s).sum()) for s in STATUSES}
    rows = []
    for row in frame.to_dict("records"):
        row = {k: signal_store._plain(v) for k, v in row.items()}
        current = state.decision(row["signal_id"])
        inv = state.investigation(row["signal_id"])
        rows.append(
            {
                **row,
                "title": explain.signal_title(row, member_rows[row["signal_id"]], labels, lang),
                "family": labels.family_of.get(row["category"]) if row["category"] else None,
                "cities": cities.get(row["signal_id"], []),
                "severity_level": _severity_level(row),
                "decision": current["decision"] if current else None,
                "decided_by": current["actor"] if current else None,
                "decided_at": current["recorded_at"] if current else None,
                "investigation": inv["state"],
                "followups_ordered": inv["ordered"],
                "followups_completed": inv["completed"],
            }
        )
    out = pd.DataFrame(rows)
    if not out.empty:
        if status == "open":
            out = out[out["status"] != "resolved"]
        elif status:
            out = out[out["status"] == status]
        if decision == "none":
            out = out[out["decision"].isna()]
        elif decision:
            out = out[out["decision"] == decision]
        if family:
            out = out[out["family"] == family]
        if city:
            out = out[out["cities"].map(lambda c: city in c)]
        if severity:
            out = out[out["severity_level"] == severity]
    return Inbox(week, out.reset_index(drop=True), counts)


def details(
    settings: Settings,
    signal_id: str,
    week: str | None = None,
    lang: str = "en",
    as_of: date | None = None,
) -> dict:
    """Everything the signal page and ``sentinel signals show`` need."""
    state = triage.state(settings, as_of=as_of)
    with reader(settings) as con:
        signal = signal_store.load_signal(con, signal_id, week)
        labels = Labels(con)
        members = signal_store.members(con, signal_id)
        if not members.empty:
            members = members[members["week"] <= signal["week"]].reset_index(drop=True)
        cases = signal_cases(con, signal)
        lead = signal_store.lead_alert(members)
        trend = signal_trend(con, signal, lead, cases)
        weekly = signal_store.history(con, signal_id)
    member_rows = members.to_dict("records")
    return {
        "signal": signal,
        "title": explain.signal_title(signal, member_rows, labels, lang),
        "window": explain.window_sentence(signal, lang),
        "status_label": explain.STATUS_NAMES[lang].get(signal["status"], signal["status"]),
        "members": [
            {
                **m,
                "subject_label": explain.subject_label(m, labels, lang),
                "why": explain.alert_sentence(m, lang, labels),
                "brief": explain.alert_brief(m),
            }
            for m in member_rows
        ],
        "lead": lead,
        "cases": cases,
        "history": weekly,
        "trend": trend,
        "decisions": state.decisions_of(signal_id),
        "decision": state.decision(signal_id),
        "followups": state.followups_of(signal_id),
        "investigation": state.investigation(signal_id),
        "notices": notices.list_notices(settings, signal_id),
        "packs": evidence.packs(settings, signal_id),
    }


def subject_labels(settings: Settings, alerts: list[dict], lang: str = "en") -> list[str]:
    """Readable subjects (names beside codes) of alert rows."""
    with reader(settings) as con:
        labels = Labels(con)
    return [explain.subject_label(a, labels, lang) for a in alerts]
