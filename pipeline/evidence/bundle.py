"""Everything known about one alert (or one category over a date range), gathered once from the
warehouse for the evidence pack and the notices.

Only de-identified data: the cases come from ``pipeline.reporting.context`` (no identifier
pseudonyms); the rest is alert, triage, follow-up, coding and submission metadata. Nothing here
depends on the wall clock, so the same request on the same data gives the same bundle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

import duckdb
import pandas as pd

from pipeline import __version__ as sentinel_version
from pipeline.errors import BadInput, NotFound
from pipeline.isoweek import format_iso_week, week_range
from pipeline.reporting.context import _plain as plain
from pipeline.reporting.context import alert_cases, alert_trend, category_cases, load_alert
from pipeline.triage.store import decision_history, followups

PACK_FORMAT = "sentinel-evidence-pack/1"
FOLLOWUP_EXPORT_COLUMNS = [
    "followup_id",
    "alert_id",
    "hospital_code",
    "case_id",
    "requested_at",
    "due_date",
    "result_id",
    "reached",
    "brand_verified",
    "model_verified",
    "batch_verified",
    "product_role",
    "conclusion",
    "recorded_at",
]
TRIAGE_EXPORT_COLUMNS = [
    "event_id",
    "alert_id",
    "week",
    "decision",
    "actor",
    "reason",
    "recorded_at",
]


@dataclass
class Bundle:
    """The request, the data it selected and where that data came from."""

    kind: str  # "alert" | "category"
    request: dict
    cases: pd.DataFrame
    trend: pd.DataFrame
    followups: pd.DataFrame
    triage: pd.DataFrame
    alert: dict | None = None
    category: dict = field(default_factory=dict)
    hospitals: pd.DataFrame = field(default_factory=pd.DataFrame)
    labels: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    pattern: dict = field(default_factory=dict)  # hazard_patterns row of a pattern alert
    provenance: dict = field(default_factory=dict)

    @property
    def slug(self) -> str:
        if self.alert is not None:
            return f"{self.alert['alert_id']}-{self.alert['week']}"
        r = self.request
        return f"{r['category']}-{r['date_from']}-{r['date_to']}"

    def label(self, codeset: str, code: object, lang: str = "en") -> str:
        """Code label from ref_codesets (the code itself when unknown)."""
        if code is None or (isinstance(code, float) and code != code):
            return ""
        en, zh = self.labels.get(codeset, {}).get(str(code), (str(code), str(code)))
        return zh if lang == "zh" else en

    def category_name(self, lang: str = "en") -> str:
        if not self.category:
            return ""
        return self.category.get("name_zh" if lang == "zh" else "name_en") or self.category.get(
            "category_code", ""
        )


def load_alert_bundle(
    con: duckdb.DuckDBPyConnection, alert_id: str, week: str | None = None, trend_weeks: int = 26
) -> Bundle:
    """The alert (``week`` or its latest unresolved week), its cases and its history.

    Raises LookupError when the alert does not exist.
    """
    alert = load_alert(con, alert_id, week)
    cases = alert_cases(con, alert)
    trend = alert_trend(con, alert, weeks=trend_weeks)
    request = {"alert_id": alert["alert_id"], "week": alert["week"]}
    query = (
        "SELECT the alert's cases: alerts.case_keys of (alert_id, week) joined to "
        "cases (status = 'active', current version), final category from "
        "case_coding, pattern from case_patterns; identifier columns never selected"
    )
    bundle = Bundle(
        kind="alert",
        request=request,
        cases=cases,
        trend=trend,
        followups=_followups(con, alert_id=alert["alert_id"]),
        triage=_triage(con, alert["alert_id"]),
        alert=alert,
    )
    _complete(con, bundle, alert.get("category"), query)
    return bundle


def load_category_bundle(
    con: duckdb.DuckDBPyConnection, category: str, date_from: date, date_to: date
) -> Bundle:
    """Cases of production hospitals whose final category is ``category``, visited in
    [``date_from``, ``date_to``]. Raises LookupError for an unknown category."""
    if date_from > date_to:
        raise BadInput(f"--from {date_from} is after --to {date_to}")
    if not con.execute(
        "SELECT count(*) FROM ref_taxonomy WHERE category_code = ?", [category]
    ).fetchone()[0]:
        raise NotFound(
            f"category {category} is not in the product taxonomy "
            "(`sentinel docs` lists the categories)"
        )
    cases = category_cases(con, category, date_from, date_to)
    request = {
        "category": category,
        "date_from": date_from.isoformat(),
        "date_to": date_to.isoformat(),
    }
    query = (
        "SELECT cases with status = 'active' (current version) of production hospitals "
        "(ref_hospitals.is_test = 'False') whose final category (case_coding, not "
        f"pending review) = '{category}' and CAST(visit_datetime AS DATE) BETWEEN "
        f"'{date_from}' AND '{date_to}'; identifier columns never selected"
    )
    trend = _weekly_trend(cases, date_from, date_to)
    keys = set(zip(cases["hospital_code"], cases["case_id"], strict=True))
    follow = _followups(con)
    follow = follow[
        [(h, c) in keys for h, c in zip(follow["hospital_code"], follow["case_id"], strict=True)]
    ].reset_index(drop=True)
    bundle = Bundle(
        kind="category",
        request=request,
        cases=cases,
        trend=trend,
        followups=follow,
        triage=pd.DataFrame(columns=TRIAGE_EXPORT_COLUMNS),
    )
    _complete(con, bundle, category, query)
    return bundle


def _weekly_trend(cases: pd.DataFrame, date_from: date, date_to: date) -> pd.DataFrame:
    weeks = week_range(format_iso_week(date_from), format_iso_week(date_to))
    counts = cases["visit_week"].value_counts()
    return pd.DataFrame(
        {
            "week": weeks,
            "observed": [float(counts.get(w, 0)) for w in weeks],
            "expected": float("nan"),
            "upper": float("nan"),
            "alarm": False,
        }
    )


def _followups(con: duckdb.DuckDBPyConnection, alert_id: str | None = None) -> pd.DataFrame:
    frame = followups(con, alert_id, as_of=date(1970, 1, 1))  # status is not exported
    return frame.reindex(columns=FOLLOWUP_EXPORT_COLUMNS).reset_index(drop=True)


def _triage(con: duckdb.DuckDBPyConnection, alert_id: str) -> pd.DataFrame:
    return decision_history(con, alert_id).reindex(columns=TRIAGE_EXPORT_COLUMNS)


def _complete(
    con: duckdb.DuckDBPyConnection, bundle: Bundle, category: str | None, query: str
) -> None:
    """Reference labels, hospitals and provenance."""
    if category:
        rows = con.execute("SELECT * FROM ref_taxonomy WHERE category_code = ?", [category]).df()
        if not rows.empty:
            bundle.category = {
                k: (None if v in ("nan", "None") else v) for k, v in rows.iloc[0].to_dict().items()
            }
    for codeset, code, en, zh in con.execute(
        "SELECT codeset, code, label_en, label_zh FROM ref_codesets"
    ).fetchall():
        bundle.labels.setdefault(codeset, {})[code] = (en, zh)
    pattern_id = bundle.alert.get("pattern_id") if bundle.alert else None
    if pattern_id:
        rows = con.execute(
            "SELECT pattern_id, label_en, label_zh, top_terms FROM "
            "hazard_patterns WHERE pattern_id = ?",
            [pattern_id],
        ).df()
        if not rows.empty:
            bundle.pattern = rows.iloc[0].to_dict()
    codes = sorted(set(bundle.cases["hospital_code"]))
    if codes:
        bundle.hospitals = con.execute(
            "SELECT hospital_code, name_zh, name_en, city_zh, city_en FROM ref_hospitals "
            "WHERE hospital_code IN (SELECT unnest(?::VARCHAR[])) ORDER BY hospital_code",
            [codes],
        ).df()
    bundle.provenance = _provenance(con, bundle, query)


def _plain(value: object) -> object:
    value = plain(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[union-attr]
    return value


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _provenance(con: duckdb.DuckDBPyConnection, bundle: Bundle, query: str) -> dict:
    keys = bundle.cases[["hospital_code", "case_id"]].reset_index(drop=True)
    submissions = pd.DataFrame()
    coding = pd.DataFrame()
    if not keys.empty:
        con.register("_pack_keys", keys)
        try:
            # Every version of every case counts: a correction's submission contributed too.
            submissions = con.execute("""
                SELECT s.submission_id, s.hospital_code, s.file_name, s.sha256, s.size_bytes,
                       s.received_at, count(*) AS case_versions
                FROM case_versions v
                JOIN _pack_keys k ON k.hospital_code = v.hospital_code
                                 AND k.case_id = v.case_id
                JOIN submissions s ON s.submission_id = v.submission_id
                GROUP BY ALL ORDER BY s.received_at, s.submission_id""").df()
            coding = con.execute("""
                SELECT k2.model_name, k2.model_version, k2.source, count(*) AS cases
                FROM case_coding k2
                JOIN _pack_keys k ON k.hospital_code = k2.hospital_code
                                 AND k.case_id = k2.case_id
                GROUP BY ALL ORDER BY 1, 2, 3""").df()
        finally:
            con.unregister("_pack_keys")
    detector = None
    if bundle.alert is not None:
        try:
            params = json.loads(bundle.alert.get("params") or "{}")
        except (TypeError, ValueError):
            params = {"raw": bundle.alert.get("params")}
        detector = {
            "method": bundle.alert.get("method"),
            "version": params.get("version"),
            "params": params,
        }
    received = [r for r in submissions.get("received_at", pd.Series(dtype=object)) if r is not None]
    return {
        "format": PACK_FORMAT,
        "sentinel_version": sentinel_version,
        "request": bundle.request,
        "query": query,
        "n_cases": len(bundle.cases),
        "data_as_of": _plain(max(received)) if received else None,
        "alert": (
            {k: _plain(v) for k, v in bundle.alert.items()} if bundle.alert is not None else None
        ),
        "detector": detector,
        "coding_models": _records(coding),
        "submissions": _records(submissions),
        "triage": _records(bundle.triage),
    }
