"""Signals service: the analysts' inbox and one signal's page (``sentinel signals``, web).

Signals, their member alerts and cases come from the published snapshot; their decision and
investigation facets from the application database (read fresh on every call, never cached
with the snapshot). Functions:

* ``inbox(settings, week=None, status=None, decision=None, family=None, city=None,
  severity=None, lang="en", sort="rank")`` -> Inbox (the week, its signals in rank order with
  titles, decision and investigation, counts per status and per decision, the weeks with
  signals);
* ``details(settings, signal_id, week=None, lang="en", as_of=None)`` -> dict with the signal,
  its title, evidence window sentence, member alerts (every week, each with why it fired),
  cases (with readable labels), hospitals, regions, city map points and the age / sex /
  severity / outcome mix, weekly history, trend, decision history, follow-ups, investigation
  state, notices and evidence packs; ``provisional_rows``: its provisional members (cases
  waiting for a coder that its rule would link, ``reporting.context.signal_provisional``),
  listed apart and never part of any count, mix, map or chart;
* ``weeks(settings)``: weeks with stored signals.

The web app passes its long-lived ``snapshots`` (snapshot reads remembered per published
snapshot) and its open application database ``db``; the CLI passes neither.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

import duckdb
import pandas as pd

from pipeline import reference
from pipeline.alerts import signal_store
from pipeline.alerts.series import age_group, city_of
from pipeline.alerts.signals import STATUSES
from pipeline.appdb.db import AppDB
from pipeline.config import Settings
from pipeline.errors import BadInput
from pipeline.isoweek import is_iso_week
from pipeline.reporting import explain
from pipeline.reporting.context import (
    pending_provisional,
    signal_provisional,
    signal_trend,
    stored_signal_cases,
)
from pipeline.reporting.labels import AGE_GROUPS, Labels
from pipeline.services import evidence, notices, triage
from pipeline.storage.session import Snapshots, read_cached, reader
from pipeline.triage.store import DECISIONS

T = TypeVar("T")

SEVERITY_LEVELS = ("died", "severe", "admitted", "other")
SORTS = ("rank", "cases", "severe")


@dataclass
class Inbox:
    week: str | None
    signals: pd.DataFrame
    counts: dict[str, int] = field(default_factory=dict)  # per status, before filtering
    decisions: dict[str, int] = field(default_factory=dict)  # per decision ("none"), unfiltered
    weeks: list[str] = field(default_factory=list)  # weeks with signals, newest first
    total: int = 0  # the week's signals before filtering

    @property
    def rows(self) -> list[dict]:
        return self.signals.to_dict("records") if not self.signals.empty else []


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


def _week_data(con: duckdb.DuckDBPyConnection, week: str | None) -> tuple:
    """The weeks with signals (newest first), the week shown, its signals with their member
    alerts and cities: what the inbox reads from the snapshot, whatever the language."""
    known = signal_store.signal_weeks(con)[::-1]
    week = week or (known[0] if known else None)
    if week is None:
        return known, None, []
    frame = signal_store.week_signals(con, week)
    if frame.empty:
        return known, week, []
    cities = _cities(con, frame)
    # One query for every signal's members (one each cost about 20 ms at 10x the sample).
    member_rows = signal_store.member_records(con, list(frame["signal_id"]))
    signals = []
    for row in frame.to_dict("records"):
        row = {k: signal_store._plain(v) for k, v in row.items()}
        members = member_rows[row["signal_id"]]
        signals.append((row, members, cities.get(row["signal_id"], [])))
    return known, week, signals


def _week_rows(
    con: duckdb.DuckDBPyConnection,
    week: str | None,
    lang: str,
    snapshots: Snapshots | None = None,
) -> tuple[list[str], str | None, list[dict]]:
    """The weeks with signals (newest first), the week shown and its signals described, before
    any decision is attached or any filter applied (what the snapshot alone says)."""
    known, week, signals = _part(
        con, snapshots, ("signal-week", week), lambda c: _week_data(c, week)
    )
    if not signals:
        return known, week, []
    labels = _part(con, snapshots, ("labels",), Labels)
    rows = []
    for row, members, cities in signals:
        rows.append(
            {
                **row,
                "title": explain.signal_title(row, members, labels, lang),
                "status_label": explain.STATUS_NAMES[lang].get(row["status"], row["status"]),
                "family": labels.family_of.get(row["category"]) if row["category"] else None,
                "cities": cities,
                "severity_level": _severity_level(row),
            }
        )
    return known, week, rows


def inbox(
    settings: Settings,
    week: str | None = None,
    status: str | None = None,
    decision: str | None = None,
    family: str | None = None,
    city: str | None = None,
    severity: str | None = None,
    lang: str = "en",
    *,
    sort: str = "rank",
    snapshots: Snapshots | None = None,
    db: AppDB | None = None,
) -> Inbox:
    """The signals of a week (default: the latest), ranked active ones first, then quiet and
    resolved ones, with title, decision, investigation, cities and severity level; filters:
    ``status`` (new / ongoing / reopened / quiet / resolved, or 'open' for all but
    resolved), ``decision`` (confirm / dismiss / watch / none), ``family`` (product family
    code), ``city`` (6-digit city code), ``severity`` (died / severe / admitted / other: the
    worst outcome among the signal's cases); ``sort``: rank (default), cases (most cases
    since onset first) or severe (most deaths, then most severe cases first)."""
    if week and not is_iso_week(week):
        raise BadInput(f"{week[:20]!r} is not an ISO week (YYYY-Www)")
    if status and status not in (*STATUSES, "open"):
        raise BadInput(f"--status {status[:20]!r} is not one of {', '.join(STATUSES)}, open")
    if decision and decision not in (*DECISIONS, "none"):
        raise BadInput(f"--decision {decision[:20]!r} is not one of {', '.join(DECISIONS)}, none")
    if severity and severity not in SEVERITY_LEVELS:
        raise BadInput(f"--severity {severity[:20]!r} is not one of {', '.join(SEVERITY_LEVELS)}")
    if sort not in SORTS:
        raise BadInput(f"sort {sort[:20]!r} is not one of {', '.join(SORTS)}")
    known, week, cached = read_cached(
        settings,
        snapshots,
        ("signal-inbox", week, lang),
        lambda con: _week_rows(con, week, lang, snapshots),
    )
    if week is None:
        return Inbox(None, pd.DataFrame(), weeks=known)
    state = triage.state(settings, db=db)
    rows = []
    for row in cached:  # copies: the cached rows are shared by every request of this snapshot
        current = state.decision(row["signal_id"])
        inv = state.investigation(row["signal_id"])
        rows.append(
            {
                **row,
                "decision": current["decision"] if current else None,
                "decided_by": current["actor"] if current else None,
                "decided_at": current["recorded_at"] if current else None,
                "investigation": inv["state"],
                "followups_ordered": inv["ordered"],
                "followups_completed": inv["completed"],
            }
        )
    counts = {s: sum(r["status"] == s for r in rows) for s in STATUSES}
    decided: dict[str, int] = {}
    for r in rows:
        decided[r["decision"] or "none"] = decided.get(r["decision"] or "none", 0) + 1

    def keep(r: dict) -> bool:
        return (
            (
                not status
                or (r["status"] != "resolved" if status == "open" else r["status"] == status)
            )
            and (not decision or (r["decision"] or "none") == decision)
            and (not family or r["family"] == family)
            and (not city or city in r["cities"])
            and (not severity or r["severity_level"] == severity)
        )

    kept = [r for r in rows if keep(r)]
    if sort == "cases":
        kept.sort(key=lambda r: -(r["n_cases"] or 0))
    elif sort == "severe":
        kept.sort(key=lambda r: (-(r["n_died"] or 0), -(r["n_severe"] or 0)))
    return Inbox(week, pd.DataFrame(kept), counts, decided, known, len(rows))


def _mix(values: pd.Series, labeller, order: tuple[str, ...] = ()) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    counts = values.fillna("unknown").value_counts()
    keys = [k for k in order if k in counts.index] + sorted(
        k for k in counts.index if k not in order
    )
    return [(labeller(k), int(counts[k])) for k in keys]


def _profile(settings: Settings, cases: pd.DataFrame, labels: Labels, lang: str) -> dict:
    """Where the signal's cases were seen (hospitals, residence regions, the monitored cities
    with their counts for a map) and their age / sex / severity / outcome mix; the cases with
    readable labels beside their codes."""
    registry = reference.load_hospitals(settings.hospital_registry)
    city_of_hospital = {
        r.hospital_code: reference.city_code(r.region_code) for r in registry.itertuples()
    }
    cities = {c["city_code"]: c for c in reference.load_cities().to_dict("records")}
    name_key = "name_zh" if lang == "zh" else "name_en"
    hospitals, by_city = [], {}
    for code, n in cases["hospital_code"].value_counts().sort_index().items():
        city = city_of_hospital.get(code)
        by_city[city or "?"] = by_city.get(city or "?", 0) + int(n)
        hospitals.append(
            {
                "code": code,
                "name": labels.hospital_name(code, lang),
                "city": cities[city][name_key] if city in cities else "",
                "n": int(n),
            }
        )
    residence = cases["residence_region"].map(reference.city_code)
    regions = [
        {"code": code, "name": labels.region_name(code, lang), "n": int(n)}
        for code, n in residence.value_counts().items()
    ]
    monitored = set(city_of_hospital.values())
    map_points = [
        {
            "code": code,
            "name": city[name_key],
            "latitude": city["latitude"],
            "longitude": city["longitude"],
            "value": by_city.get(code, 0),
            "highlight": by_city.get(code, 0) > 0,
            "text": f"{city[name_key]}: {by_city.get(code, 0)}",
        }
        for code, city in cities.items()
        if code in monitored
    ]
    # One pass over two columns (a row-wise apply builds a Series per case).
    ages = pd.Series(
        [age_group(a, u) for a, u in zip(cases["age"], cases["age_unit"], strict=True)],
        index=cases.index,
        dtype=object,
    )
    mix = {
        "age": _mix(
            ages,
            lambda k: AGE_GROUPS[lang].get(k, k),
            ("infant", "toddler", "child", "adult", "older", "unknown"),
        ),
        "sex": _mix(
            cases["sex"], lambda k: labels.code("sex", k, lang), ("male", "female", "unknown")
        ),
        "severity": _mix(
            cases["severity"],
            lambda k: labels.code("severity", k, lang),
            ("mild", "moderate", "severe"),
        ),
        "outcome": _mix(
            cases["outcome"],
            lambda k: labels.code("outcome", k, lang),
            ("treated_released", "observed", "transferred", "admitted", "died", "other"),
        ),
    }
    return {
        "hospitals_seen": hospitals,
        "regions": regions,
        "map_points": map_points,
        "mix": mix,
        "case_rows": _case_rows(cases, labels, lang),
    }


def _case_rows(cases: pd.DataFrame, labels: Labels, lang: str) -> list[dict]:
    """Cases as plain dicts with readable labels beside their codes (a provisional member's
    category is its suggested one)."""
    rows = []
    for record in cases.to_dict("records"):
        row = {k: signal_store._plain(v) for k, v in record.items()}
        row = {k: (None if _missing(v) else v) for k, v in row.items()}
        row["key"] = f"{row['hospital_code']}/{row['case_id']}"
        code = row.get("category_code") or row.get("suggested_category")
        row["category_name"] = labels.category_name(code, lang)
        row["sex_label"] = labels.code("sex", row.get("sex"), lang)
        row["unit_label"] = labels.code("age_unit", row.get("age_unit"), lang)
        row["severity_label"] = labels.code("severity", row.get("severity"), lang)
        row["outcome_label"] = labels.code("outcome", row.get("outcome"), lang)
        rows.append(row)
    return rows


def _missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _part(
    con: duckdb.DuckDBPyConnection,
    snapshots: Snapshots | None,
    key: tuple,
    compute: Callable[[duckdb.DuckDBPyConnection], T],
) -> T:
    """A part shared by the answers in both languages, remembered once per snapshot (inside a
    remembered answer: on that answer's snapshot), or computed on ``con``."""
    return snapshots.cached(key, compute) if snapshots is not None else compute(con)


def _signal_data(con: duckdb.DuckDBPyConnection, signal_id: str, week: str | None) -> tuple:
    """What a signal's page reads from the snapshot, whatever the language."""
    signal = signal_store.load_signal(con, signal_id, week)
    members = signal_store.members(con, signal_id)
    if not members.empty:
        members = members[members["week"] <= signal["week"]].reset_index(drop=True)
    cases = stored_signal_cases(con, signal)
    lead = signal_store.lead_alert(members)
    trend = signal_trend(con, signal, lead, cases)
    weekly = signal_store.history(con, signal_id)
    return signal, members, cases, lead, trend, weekly


def _snapshot_details(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    signal_id: str,
    week: str | None,
    lang: str,
    snapshots: Snapshots | None = None,
) -> dict:
    """The part of a signal's page the published snapshot alone answers."""
    signal, members, cases, lead, trend, weekly = _part(
        con, snapshots, ("signal-data", signal_id, week), lambda c: _signal_data(c, signal_id, week)
    )
    labels = _part(con, snapshots, ("labels",), Labels)
    member_rows = members.to_dict("records")
    # Review-pending cases its rule would link (issue 20, item 7): shown apart, never counted.
    # Every signal picks its own from the same review-pending cases: read once per snapshot.
    pending = _part(con, snapshots, ("provisional-pending",), pending_provisional)
    provisional = signal_provisional(con, signal, pending)
    return {
        "signal": signal,
        "title": explain.signal_title(signal, member_rows, labels, lang),
        "window": explain.window_sentence(signal, lang),
        "status_label": explain.STATUS_NAMES[lang].get(signal["status"], signal["status"]),
        "category_name": labels.category_name(signal.get("category"), lang),
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
        **_profile(settings, cases, labels, lang),
        "provisional_rows": _case_rows(provisional, labels, lang),
    }


def details(
    settings: Settings,
    signal_id: str,
    week: str | None = None,
    lang: str = "en",
    as_of: date | None = None,
    *,
    snapshots: Snapshots | None = None,
    db: AppDB | None = None,
) -> dict:
    """Everything the signal page and ``sentinel signals show`` need (SignalNotFound for an
    unknown signal or a week it does not exist in)."""
    if week and not is_iso_week(week):
        raise BadInput(f"{week[:20]!r} is not an ISO week (YYYY-Www)")
    data = read_cached(
        settings,
        snapshots,
        ("signal-details", signal_id, week, lang, str(settings.hospital_registry)),
        lambda con: _snapshot_details(con, settings, signal_id, week, lang, snapshots),
    )
    state = triage.state(settings, as_of=as_of, db=db)
    return {
        **data,
        "decisions": state.decisions_of(signal_id),
        "decision": state.decision(signal_id),
        "followups": state.followups_of(signal_id),
        "investigation": state.investigation(signal_id),
        "notices": notices.list_notices(settings, signal_id, db=db),
        "packs": evidence.packs(settings, signal_id),
    }


def subject_labels(settings: Settings, alerts: list[dict], lang: str = "en") -> list[str]:
    """Readable subjects (names beside codes) of alert rows."""
    with reader(settings) as con:
        labels = Labels(con)
    return [explain.subject_label(a, labels, lang) for a in alerts]
