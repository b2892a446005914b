"""The analysts' inbox and signal page, read from the published snapshot.

The inbox still lists the week's alerts (the detectors' rank order, status new / ongoing /
resolved), each shown with the decision of the signal it belongs to that week
(``signal_alerts`` of the snapshot; decisions from the application database, never cached with
the snapshot). Listing the signals themselves is ``pipeline.services.signals.inbox``: moving
this page onto it is the next step.

:func:`inbox`: a week's alerts, filtered by status, decision, category family, city and
severity, with counts per status and decision. :func:`signal`: one alert with why it fired, its
stored trend (observed, expected, upper bound), the same alert in other weeks, its
de-identified cases, hospitals and cities (with map coordinates), the age / sex / severity mix
and its triage history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from pipeline import reference
from pipeline.alerts import signal_store
from pipeline.alerts.series import age_group
from pipeline.appdb.db import AppDB
from pipeline.config import Settings
from pipeline.errors import BadInput, NotFound
from pipeline.isoweek import is_iso_week
from pipeline.reporting.context import _plain, alert_cases, alert_trend, load_alert
from pipeline.reporting.labels import AGE_GROUPS, UI, Labels
from pipeline.services import triage
from pipeline.storage.session import Snapshots, read_cached

STATUSES = ("new", "ongoing", "resolved")
DECISIONS = ("none", "confirm", "dismiss", "watch")
SEVERITY_FILTERS = ("severe", "died")
SORTS = ("rank", "cases", "severe")
SERIES_TYPES = ("category", "pattern", "category_region")


@dataclass
class InboxFilter:
    status: str = ""
    decision: str = ""
    family: str = ""
    city: str = ""
    severity: str = ""
    sort: str = "rank"

    def check(self, families: set[str], cities: set[str]) -> InboxFilter:
        allowed = {
            "status": ("", *STATUSES),
            "decision": ("", *DECISIONS),
            "severity": ("", *SEVERITY_FILTERS),
            "sort": SORTS,
        }
        for name, values in allowed.items():
            if getattr(self, name) not in values:
                raise BadInput(f"unknown {name} {getattr(self, name)[:20]!r}")
        if self.family and self.family not in families:
            raise BadInput(f"unknown category family {self.family[:20]!r}")
        if self.city and self.city not in cities:
            raise BadInput(f"unknown city {self.city[:20]!r}")
        return self


@dataclass
class Inbox:
    week: str | None
    weeks: list[str]
    rows: list[dict]
    counts: dict[str, int] = field(default_factory=dict)  # per status
    decisions: dict[str, int] = field(default_factory=dict)  # per current decision
    total: int = 0  # the week's alerts before filtering


def weeks_with_alerts(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        w for (w,) in con.execute("SELECT DISTINCT week FROM alerts ORDER BY week DESC").fetchall()
    ]


def _hospital_list(value: object) -> list[str]:
    """The ``alerts.hospitals`` cell: a JSON list or a comma-separated text."""
    if not isinstance(value, str) or not value.strip():
        return []
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = [v for v in value.replace(";", ",").split(",")]
    if isinstance(parsed, dict):
        parsed = list(parsed)
    return [str(v).strip() for v in parsed if str(v).strip()]


def _city_of_hospitals(settings: Settings) -> dict[str, str | None]:
    registry = reference.load_hospitals(settings.hospital_registry)
    return {
        r.hospital_code: reference.city_code(r.region_code)
        for r in registry.itertuples(index=False)
    }


def _describe(alert: dict, labels: Labels, lang: str) -> dict:
    ui = UI[lang]
    observed = float(alert.get("observed") or 0)
    series = alert.get("expected") not in (None, 0.0) or alert["alert_type"] in SERIES_TYPES
    fmt = lambda v: "–" if v is None else f"{float(v):.2f}".rstrip("0").rstrip(".")  # noqa: E731
    why = ui["fired_series" if series else "fired_other"].format(
        observed=observed,
        expected=fmt(alert.get("expected")),
        threshold=fmt(alert.get("threshold")),
        method=alert.get("method") or "",
    )
    return {
        "subject_label": labels.subject(alert, lang),
        "type_label": ui.get(f"type_{alert['alert_type']}", alert["alert_type"]),
        "why": why,
    }


def inbox(
    settings: Settings,
    week: str | None = None,
    filters: InboxFilter | None = None,
    *,
    lang: str = "en",
    snapshots: Snapshots | None = None,
    db: AppDB | None = None,
) -> Inbox:
    """A week's alerts (default: the latest week with alerts) for the analyst's inbox."""
    filters = filters or InboxFilter()
    if week and not is_iso_week(week):
        raise BadInput(f"{week[:20]!r} is not an ISO week (YYYY-Www)")
    city_of = _city_of_hospitals(settings)
    families = set(reference.load_taxonomy()["family_code"])
    filters.check(families, {c for c in city_of.values() if c})
    weeks, week, rows = read_cached(
        settings,
        snapshots,
        ("inbox", week, lang, str(settings.hospital_registry)),
        lambda con: _week_rows(con, settings, week, lang),
    )
    if week is None:
        return Inbox(None, [], [])
    decided = _decisions(settings, db)
    rows = [_with_decision(row, decided.get(row["signal_id"] or "")) for row in rows]
    result = Inbox(week, weeks, [], total=len(rows))
    for row in rows:
        result.counts[row["status"]] = result.counts.get(row["status"], 0) + 1
        key = row["decision"] or "none"
        result.decisions[key] = result.decisions.get(key, 0) + 1

    def keep(row: dict) -> bool:
        return (
            (not filters.status or row["status"] == filters.status)
            and (not filters.decision or (row["decision"] or "none") == filters.decision)
            and (not filters.family or row["family"] == filters.family)
            and (not filters.city or filters.city in row["cities"])
            and (filters.severity != "severe" or (row.get("n_severe") or 0) > 0)
            and (filters.severity != "died" or (row.get("n_died") or 0) > 0)
        )

    kept = [r for r in rows if keep(r)]
    if filters.sort == "cases":
        kept.sort(key=lambda r: -(r.get("observed") or 0))
    elif filters.sort == "severe":
        kept.sort(key=lambda r: (-(r.get("n_died") or 0), -(r.get("n_severe") or 0)))
    result.rows = kept
    return result


def _week_rows(
    con: duckdb.DuckDBPyConnection, settings: Settings, week: str | None, lang: str
) -> tuple[list[str], str | None, list[dict]]:
    """The weeks with alerts, the week shown and its alerts described (before any filter)."""
    city_of = _city_of_hospitals(settings)
    taxonomy = reference.load_taxonomy()
    family_of = dict(zip(taxonomy["category_code"], taxonomy["family_code"], strict=True))
    weeks = weeks_with_alerts(con)
    week = week or (weeks[0] if weeks else None)
    if week is None:
        return weeks, None, []
    frame = con.execute(
        "SELECT * FROM alerts WHERE week = ? ORDER BY rank NULLS LAST, alert_id", [week]
    ).df()
    owner = signal_store.signal_of_alerts(con, week)
    labels = Labels(con)
    rows: list[dict] = []
    for record in frame.to_dict("records"):
        alert = {k: _plain(v) for k, v in record.items()}
        hospitals = _hospital_list(alert.get("hospitals"))
        cities = sorted({c for h in hospitals if (c := city_of.get(h))})
        region_city = reference.city_code(alert.get("region")) or alert.get("region")
        if region_city and region_city not in cities:
            cities.append(str(region_city))
        rows.append(
            {
                **alert,
                **_describe(alert, labels, lang),
                "family": family_of.get(alert.get("category") or ""),
                "hospital_list": hospitals,
                "cities": cities,
                "signal_id": owner.get(alert["alert_id"]),
            }
        )
    return weeks, week, rows


def _decisions(settings: Settings, db: AppDB | None) -> dict[str, dict]:
    """signal_id -> its current decision (application database, read fresh every time)."""
    current = triage.state(settings, db=db).decisions
    return {r["signal_id"]: r for r in current.to_dict("records")}


def _with_decision(row: dict, decision: dict | None) -> dict:
    """A copy of a (cached) row with its signal's current decision."""
    return {
        **row,
        "decision": decision["decision"] if decision else None,
        "decided_by": decision["actor"] if decision else None,
    }


def _counts(values: pd.Series, labeller, order: tuple[str, ...] = ()) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    counts = values.fillna("unknown").value_counts()
    keys = [k for k in order if k in counts.index] + sorted(
        k for k in counts.index if k not in order
    )
    return [(labeller(k), int(counts[k])) for k in keys]


def signal(
    settings: Settings,
    alert_id: str,
    week: str,
    *,
    lang: str = "en",
    snapshots: Snapshots | None = None,
    db: AppDB | None = None,
) -> dict:
    """Everything the signal page shows (NotFound for an unknown alert or week)."""
    if not is_iso_week(week):
        raise NotFound(f"alert {alert_id[:80]} not found in week {week[:20]}")
    data = read_cached(
        settings,
        snapshots,
        ("signal", alert_id, week, lang, str(settings.hospital_registry)),
        lambda con: _signal(con, settings, alert_id, week, lang),
    )
    # Decisions and follow-ups are those of the alert's signal, from the application database.
    state = triage.state(settings, db=db)
    signal_id = data["signal_id"]
    history = state.decisions_of(signal_id) if signal_id else pd.DataFrame()
    follow = state.followups_of(signal_id) if signal_id else pd.DataFrame()
    return {
        **data,
        "triage": [{k: _plain(v) for k, v in r.items()} for r in history.to_dict("records")],
        "followups": [{k: _plain(v) for k, v in r.items()} for r in follow.to_dict("records")],
    }


def _signal(
    con: duckdb.DuckDBPyConnection, settings: Settings, alert_id: str, week: str, lang: str
) -> dict:
    alert = load_alert(con, alert_id, week)
    cases = alert_cases(con, alert)
    trend = alert_trend(con, alert)
    labels = Labels(con)
    history = con.execute(
        "SELECT week, status, rank, observed, expected, method FROM alerts "
        "WHERE alert_id = ? ORDER BY week DESC",
        [alert_id],
    ).df()
    same_subject = con.execute(
        "SELECT alert_id, alert_type, method, status, rank, observed FROM alerts "
        "WHERE week = ? AND alert_id <> ? AND category IS NOT DISTINCT FROM ? "
        "AND category IS NOT NULL ORDER BY rank NULLS LAST, alert_id",
        [week, alert_id, alert.get("category")],
    ).df()
    city_of = _city_of_hospitals(settings)
    cities = {c["city_code"]: c for c in reference.load_cities().to_dict("records")}
    name_key = "name_zh" if lang == "zh" else "name_en"
    hospitals = []
    by_city: dict[str, int] = {}
    for code, n in cases["hospital_code"].value_counts().sort_index().items():
        city = city_of.get(code)
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
        if code in set(city_of.values())
    ]
    ages = (
        cases.apply(lambda r: age_group(r["age"], r["age_unit"]), axis=1)
        if len(cases)
        else pd.Series(dtype=object)
    )
    mix = {
        "age": _counts(
            ages,
            lambda k: AGE_GROUPS[lang].get(k, k),
            ("infant", "toddler", "child", "adult", "older", "unknown"),
        ),
        "sex": _counts(
            cases["sex"], lambda k: labels.code("sex", k, lang), ("male", "female", "unknown")
        ),
        "severity": _counts(
            cases["severity"],
            lambda k: labels.code("severity", k, lang),
            ("mild", "moderate", "severe"),
        ),
        "outcome": _counts(
            cases["outcome"],
            lambda k: labels.code("outcome", k, lang),
            ("treated_released", "observed", "transferred", "admitted", "died", "other"),
        ),
    }
    case_rows = []
    for record in cases.to_dict("records"):
        row = {k: _plain(v) for k, v in record.items()}
        row["category_name"] = labels.category_name(row.get("category_code"), lang)
        row["sex_label"] = labels.code("sex", row.get("sex"), lang)
        row["unit_label"] = labels.code("age_unit", row.get("age_unit"), lang)
        row["severity_label"] = labels.code("severity", row.get("severity"), lang)
        row["outcome_label"] = labels.code("outcome", row.get("outcome"), lang)
        case_rows.append(row)
    return {
        "alert": alert,
        **_describe(alert, labels, lang),
        "category_name": labels.category_name(alert.get("category"), lang),
        "trend": [{k: _plain(v) for k, v in r.items()} for r in trend.to_dict("records")],
        "history": [{k: _plain(v) for k, v in r.items()} for r in history.to_dict("records")],
        "related": [{k: _plain(v) for k, v in r.items()} for r in same_subject.to_dict("records")],
        "cases": case_rows,
        "hospitals": hospitals,
        "regions": regions,
        "map_points": map_points,
        "mix": mix,
        "signal_id": signal_store.signal_for_alert(con, alert_id, week),
    }


def alert_exists(con: duckdb.DuckDBPyConnection, alert_id: str, week: str) -> bool:
    return bool(
        con.execute(
            "SELECT 1 FROM alerts WHERE alert_id = ? AND week = ?", [alert_id, week]
        ).fetchall()
    )


__all__ = ["Inbox", "InboxFilter", "inbox", "signal", "NotFound"]
