"""Signals: the alerts that concern one hazard, grouped, with a stable id and a status.

One hazard typically raises several alerts at once (its category, its hazard pattern, the
category in one city, a new pattern, a new narrative term ...), and a detector that fires one
week may stay quiet the next while the hazard goes on. Analysts triage, reports rank and
documents are built from *signals*, not from single alerts.

**Grouping (within a week).** Two live alerts of the week belong to the same signal when

1. they have the same product category (category, pattern, category x city, new pattern,
   category terms and disproportionality alerts all carry one; a new term carries the most
   common category of its cases), or
2. they have the same hazard pattern, or
3. their cases overlap: the cases they share make up at least ``min_overlap`` (half) of the
   smaller alert's cases (this joins a new term whose cases are still waiting for coder review,
   or were coded into a neighbouring category, to the hazard it names).

The signals of a week are the connected groups of these links.

**Continuity (across weeks).** A group continues the open signal (or one resolved within the
last ``reopen_weeks`` weeks) that shares a category or a member alert with it, the oldest such
signal first; otherwise it starts a new signal. ``signal_id`` = ``S`` + SHA-1 of the anchor (the
group's main category, or its term when it has none) and the week the signal was first raised:
stable from week to week, and the same when the same weeks are detected again.

**Status with hysteresis.** ``new`` the week it is raised; ``ongoing`` while member alerts fire;
``quiet`` for a week without any member alert (it stays open); ``resolved`` after
``quiet_weeks`` (3) consecutive weeks without a member alert; ``reopened`` when its hazard
alerts again within ``reopen_weeks`` (26) weeks of being resolved: the same signal, with its
triage history, not a new one.

**Evidence window.** ``onset_week`` is the earliest visit week of any member alert's cases (a
sustained-rise alert's cases span its 4-week window). The signal's cases are every case from the
onset week to the week that matches a member alert's subject: the subjects of its specific
members (hazard pattern, new pattern, new term, category terms, category x city,
disproportionality pair) when it has any, else its whole category. They are stored with each
signal week (``case_keys``), so the report, the evidence pack and every document count the same
cases.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.alerts.series import age_group, city_of, ordinals
from pipeline.isoweek import week_ordinal

STATUSES = ("new", "ongoing", "reopened", "quiet", "resolved")
ACTIVE_STATUSES = ("new", "ongoing", "reopened")  # member alerts fired this week
OPEN_STATUSES = ("new", "ongoing", "reopened", "quiet")  # still in the analysts' inbox

# Subjects narrower than a whole category: when a signal has one, its evidence is their cases.
SPECIFIC_TYPES = (
    "pattern",
    "new_pattern",
    "new_term",
    "category_term",
    "category_region",
    "disproportionality",
)
SUBJECT_FIELDS = ("alert_type", "subject", "category", "pattern_id", "region", "term")

SIGNAL_COLUMNS = [
    "week",
    "signal_id",
    "status",
    "anchor",
    "category",
    "categories",
    "onset_week",
    "first_week",
    "last_alert_week",
    "quiet_weeks",
    "n_alerts",
    "alert_ids",
    "subjects",
    "detectors",
    "evidence_rule",
    "n_cases",
    "n_hospitals",
    "hospitals",
    "n_severe",
    "n_admitted",
    "n_died",
    "priority",
    "rank",
    "case_keys",
]
MEMBER_COLUMNS = ["week", "signal_id", "alert_id"]


@dataclass(frozen=True)
class SignalSettings:
    quiet_weeks: int = 3  # consecutive weeks without a member alert before it is resolved
    reopen_weeks: int = 26  # a resolved signal alerting again within this many weeks reopens
    min_overlap: float = 0.5  # shared cases / cases of the smaller alert, to link by cases


def signal_id(anchor: str, first_week: str) -> str:
    return "S" + hashlib.sha1(f"{anchor}|{first_week}".encode()).hexdigest()[:11]


def _keys(alert: dict) -> set[str]:
    raw = alert.get("case_keys")
    return set(json.loads(raw)) if isinstance(raw, str) and raw else set()


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value) if str(value) else None


class _Union:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def group_alerts(alerts: list[dict], min_overlap: float = 0.5) -> list[list[int]]:
    """Indices of ``alerts`` grouped by the rule of the module docstring (each group sorted,
    groups in order of their first alert)."""
    n = len(alerts)
    union = _Union(n)
    by_value: dict[tuple[str, str], int] = {}
    for i, alert in enumerate(alerts):
        for field in ("category", "pattern_id"):
            value = _text(alert.get(field))
            if value is None:
                continue
            first = by_value.setdefault((field, value), i)
            union.join(first, i)
    keys = [_keys(a) for a in alerts]
    for i in range(n):
        for j in range(i + 1, n):
            if not keys[i] or not keys[j]:
                continue
            shared = len(keys[i] & keys[j])
            if shared and shared >= min_overlap * min(len(keys[i]), len(keys[j])):
                union.join(i, j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(union.find(i), []).append(i)
    return [groups[r] for r in sorted(groups)]


def _anchor(members: list[dict]) -> str:
    """The group's main category (most alerts, then the highest-priority alert's), or the
    term of a group without any category."""
    categories = [c for c in (_text(m.get("category")) for m in members) if c]
    if categories:
        counts = pd.Series(categories).value_counts()
        best = counts[counts == counts.max()].index
        for member in members:  # members come in priority order
            if _text(member.get("category")) in best:
                return str(member["category"])
    term = next((_text(m.get("term")) for m in members if _text(m.get("term"))), None)
    return f"term:{term or members[0]['subject']}"


def _subject(alert: dict) -> dict:
    return {f: _text(alert.get(f)) for f in SUBJECT_FIELDS}


def linked_mask(
    cases: pd.DataFrame, subjects: list[dict], onset_week: str, week: str
) -> tuple[pd.Series, str]:
    """Cases (rows of :func:`pipeline.alerts.series.load_cases`, plus review-pending ones)
    linked to a signal whose members have ``subjects``: visited from ``onset_week`` to
    ``week``, matching the subject of a specific member when there is one ("specific"), else
    of a category member ("category")."""
    ordinal = ordinals(cases["visit_week"])
    window = (ordinal >= week_ordinal(onset_week)) & (ordinal <= week_ordinal(week))
    specific = [s for s in subjects if s["alert_type"] in SPECIFIC_TYPES]
    chosen, rule = (specific, "specific") if specific else (subjects, "category")
    mask = pd.Series(False, index=cases.index)
    narratives = None
    for subject in chosen:
        kind = subject["alert_type"]
        category = cases["category"] == subject["category"]
        if kind in ("pattern", "new_pattern") and subject["pattern_id"]:
            mask |= cases["pattern_id"] == subject["pattern_id"]
        elif kind == "category_region" and subject["region"]:
            mask |= category & (cases["residence_region"].map(city_of) == subject["region"])
        elif kind in ("new_term", "category_term") and subject["term"]:
            if narratives is None:
                narratives = cases["narrative"].fillna("").str.lower()
            terms = [t.strip().lower() for t in subject["term"].split(", ") if t.strip()]
            hit = pd.Series(False, index=cases.index)
            for term in terms:
                hit |= narratives.str.contains(term, regex=False)
            mask |= hit if kind == "new_term" else (hit & category)
        elif kind == "disproportionality":
            _, _, pair = (subject["subject"] or "").partition(" x ")
            dimension, _, level = pair.partition("=")
            if dimension == "age_group":
                values = pd.Series(
                    [age_group(a, u) for a, u in zip(cases["age"], cases["age_unit"], strict=True)],
                    index=cases.index,
                )
            elif dimension in cases.columns:
                values = cases[dimension]
            else:
                continue
            mask |= category & (values == level)
        elif subject["category"]:
            mask |= category
    return mask & window, rule


def _stats(cases: pd.DataFrame) -> dict:
    keys = sorted(f"{h}/{c}" for h, c in zip(cases["hospital_code"], cases["case_id"], strict=True))
    return {
        "n_cases": len(keys),
        "n_hospitals": int(cases["hospital_code"].nunique()),
        "hospitals": ",".join(sorted(cases["hospital_code"].unique())),
        "n_severe": int((cases["severity"] == "severe").sum()),
        "n_admitted": int(cases["outcome"].isin(["admitted", "transferred"]).sum()),
        "n_died": int((cases["outcome"] == "died").sum()),
        "case_keys": json.dumps(keys),
    }


def _onset(members: list[dict], cases: pd.DataFrame, week: str) -> str:
    """The earliest visit week among the members' cases (the week itself without any)."""
    keys = set().union(*(_keys(m) for m in members)) if members else set()
    if keys and not cases.empty:
        own = cases[(cases["hospital_code"] + "/" + cases["case_id"]).isin(keys)]
        if not own.empty:
            weeks = list(own["visit_week"].dropna().unique()) + [week]
            return min(weeks, key=week_ordinal)
    return week


def _open_signals(previous: pd.DataFrame, week: str, cfg: SignalSettings) -> list[dict]:
    """The latest state of every signal that can continue in ``week``: open ones, and resolved
    ones within the reopen horizon; oldest first."""
    if previous.empty:
        return []
    now = week_ordinal(week)
    latest = previous.assign(_o=ordinals(previous["week"]))
    latest = latest[latest["_o"] < now].sort_values(["signal_id", "_o"])
    latest = latest.drop_duplicates("signal_id", keep="last")
    horizon = now - cfg.reopen_weeks
    keep = latest["status"].isin(OPEN_STATUSES) | (
        (latest["status"] == "resolved") & (latest["_o"] >= horizon)
    )
    rows = latest[keep].assign(_f=ordinals(latest.loc[keep, "first_week"]))
    rows = rows.sort_values(["_f", "signal_id"]).drop(columns=["_o", "_f"])
    return rows.to_dict("records")


def signal_week(
    alerts: pd.DataFrame,
    previous: pd.DataFrame,
    cases: pd.DataFrame,
    week: str,
    cfg: SignalSettings = SignalSettings(),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The signals of ``week`` and their member alerts.

    ``alerts``: the week's ranked alerts (resolved rows are ignored); ``previous``: stored
    ``signal_weeks`` rows of earlier weeks (at least the last ``quiet_weeks + reopen_weeks``
    weeks); ``cases``: the cases a run in ``week`` sees, including review-pending ones (what
    the new-term detector read). Returns (``signal_weeks`` rows, ``signal_alerts`` rows)."""
    live = alerts[alerts["status"] != "resolved"] if not alerts.empty else alerts
    live = live.sort_values(["rank", "alert_id"], na_position="last") if not live.empty else live
    records = live.to_dict("records")
    carried = _open_signals(previous, week, cfg)
    claimed: set[str] = set()
    rows: list[dict] = []
    members: list[dict] = []
    for group in group_alerts(records, cfg.min_overlap):
        group_alerts_ = [records[i] for i in group]
        categories = {c for c in (_text(a.get("category")) for a in group_alerts_) if c}
        ids = {a["alert_id"] for a in group_alerts_}
        match = next(
            (
                s
                for s in carried
                if s["signal_id"] not in claimed
                and (
                    categories & set(json.loads(s["categories"]))
                    or ids & set(json.loads(s["alert_ids"]))
                )
            ),
            None,
        )
        subjects_now = [_subject(a) for a in group_alerts_]
        onset = _onset(group_alerts_, cases, week)
        if match is None:
            anchor = _anchor(group_alerts_)
            state = {
                "signal_id": signal_id(anchor, week),
                "status": "new",
                "anchor": anchor,
                "first_week": week,
                "onset_week": onset,
                "categories": sorted(categories),
                "alert_ids": sorted(ids),
                "subjects": subjects_now,
                "detectors": sorted({str(a["method"]) for a in group_alerts_}),
            }
        else:
            claimed.add(match["signal_id"])
            old_subjects = json.loads(match["subjects"])
            state = {
                "signal_id": match["signal_id"],
                "status": "reopened" if match["status"] == "resolved" else "ongoing",
                "anchor": match["anchor"],
                "first_week": match["first_week"],
                "onset_week": min(match["onset_week"], onset, key=week_ordinal),
                "categories": sorted(categories | set(json.loads(match["categories"]))),
                "alert_ids": sorted(ids | set(json.loads(match["alert_ids"]))),
                "subjects": old_subjects + [s for s in subjects_now if s not in old_subjects],
                "detectors": sorted(
                    {str(a["method"]) for a in group_alerts_} | set(json.loads(match["detectors"]))
                ),
            }
        rows.append(
            {
                **state,
                "last_alert_week": week,
                "quiet_weeks": 0,
                "n_alerts": len(group_alerts_),
                "priority": float(
                    max((a.get("priority") or 0.0) for a in group_alerts_)  # type: ignore[type-var]
                ),
            }
        )
        members += [
            {"week": week, "signal_id": state["signal_id"], "alert_id": a["alert_id"]}
            for a in group_alerts_
        ]
    for s in carried:
        if s["signal_id"] in claimed or s["status"] == "resolved":
            continue
        quiet = int(s["quiet_weeks"]) + 1
        rows.append(
            {
                "signal_id": s["signal_id"],
                "status": "resolved" if quiet >= cfg.quiet_weeks else "quiet",
                "anchor": s["anchor"],
                "first_week": s["first_week"],
                "onset_week": s["onset_week"],
                "categories": json.loads(s["categories"]),
                "alert_ids": json.loads(s["alert_ids"]),
                "subjects": json.loads(s["subjects"]),
                "detectors": json.loads(s["detectors"]),
                "last_alert_week": s["last_alert_week"],
                "quiet_weeks": quiet,
                "n_alerts": 0,
                "priority": np.nan,
            }
        )
    out = []
    for row in rows:
        mask, rule = linked_mask(cases, row["subjects"], row["onset_week"], week)
        category = row["anchor"] if not row["anchor"].startswith("term:") else None
        out.append(
            {
                **row,
                "week": week,
                "category": category,
                "evidence_rule": rule,
                "categories": json.dumps(row["categories"]),
                "alert_ids": json.dumps(row["alert_ids"]),
                "subjects": json.dumps(row["subjects"], ensure_ascii=False, sort_keys=True),
                "detectors": json.dumps(row["detectors"]),
                **_stats(cases[mask]),
            }
        )
    frame = pd.DataFrame(out, columns=[c for c in SIGNAL_COLUMNS if c != "rank"])
    frame["rank"] = pd.array([None] * len(frame), dtype="Int64")
    active = frame["status"].isin(ACTIVE_STATUSES)
    if active.any():
        order = frame[active].sort_values(["priority", "signal_id"], ascending=[False, True])
        frame.loc[order.index, "rank"] = np.arange(1, len(order) + 1)
    frame = frame.sort_values(["rank", "quiet_weeks", "signal_id"], na_position="last").reset_index(
        drop=True
    )
    return frame.reindex(columns=SIGNAL_COLUMNS), pd.DataFrame(members, columns=MEMBER_COLUMNS)


__all__ = [
    "ACTIVE_STATUSES",
    "MEMBER_COLUMNS",
    "OPEN_STATUSES",
    "SIGNAL_COLUMNS",
    "SPECIFIC_TYPES",
    "STATUSES",
    "SignalSettings",
    "group_alerts",
    "linked_mask",
    "signal_id",
    "signal_week",
]
