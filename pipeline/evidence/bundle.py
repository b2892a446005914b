"""Everything known about one signal (or one category over a date range), gathered once from the
published warehouse and the triage state for the evidence pack and the documents.

Only de-identified data: the cases come from ``pipeline.reporting.context`` (no identifier
pseudonyms); the rest is signal, alert, triage, follow-up, coding and submission metadata.
Nothing here depends on the wall clock, so the same request on the same data gives the same
bundle.

A signal's bundle holds **every case linked to the signal from its onset week to the week
asked for** (``signal_weeks.case_keys``, docs/detection.md), states that window and counts over
it; its trend is the stored series of the signal's leading member alert.

Its *provisional* members (cases waiting for coder review that the last pattern refresh placed
in a pattern the signal's rule links to it; for a category pack, those suggested the category)
are held apart (``Bundle.provisional``) and flagged: never in ``cases``, counts, trend or charts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb
import pandas as pd

from pipeline import __version__ as sentinel_version
from pipeline.alerts import signal_store
from pipeline.errors import BadInput, NotFound
from pipeline.isoweek import format_iso_week, iso_week_monday, week_ordinal, week_range
from pipeline.reporting import explain
from pipeline.reporting.context import (
    PROVISIONAL_COLUMNS,
    category_cases,
    category_provisional,
    signal_cases,
    signal_provisional,
    signal_trend,
)
from pipeline.reporting.context import _plain as plain
from pipeline.reporting.labels import Labels
from pipeline.triage.store import TriageState

# 3: provisional_cases.csv and provenance.provisional (issue 20, item 7).
PACK_FORMAT = "sentinel-evidence-pack/3"
FOLLOWUP_EXPORT_COLUMNS = [
    "followup_id",
    "signal_id",
    "hospital_code",
    "case_id",
    "note",
    "requested_by",
    "requested_at",
    "due_date",
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
TRIAGE_EXPORT_COLUMNS = [
    "decision_id",
    "signal_id",
    "week",
    "decision",
    "previous",
    "actor",
    "channel",
    "legacy_actor",
    "reason",
    "recorded_at",
]
MEMBER_EXPORT_COLUMNS = [
    "week",
    "alert_id",
    "alert_type",
    "subject",
    "subject_en",
    "subject_zh",
    "category",
    "pattern_id",
    "region",
    "term",
    "method",
    "observed",
    "expected",
    "threshold",
    "pvalue",
    "qvalue",
    "n_hospitals",
    "n_severe",
    "n_admitted",
    "n_died",
    "rank",
    "why_en",
    "why_zh",
]


@dataclass
class Bundle:
    """The request, the data it selected and where that data came from."""

    kind: str  # "signal" | "category"
    request: dict
    cases: pd.DataFrame
    trend: pd.DataFrame
    followups: pd.DataFrame
    triage: pd.DataFrame
    signal: dict | None = None
    members: pd.DataFrame = field(default_factory=pd.DataFrame)  # alert rows, newest first
    lead: dict | None = None  # the member alert the trend and the detector figures come from
    window: dict = field(default_factory=dict)  # onset week .. week, first and last day
    category: dict = field(default_factory=dict)
    hospitals: pd.DataFrame = field(default_factory=pd.DataFrame)
    labels: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    patterns: list[dict] = field(default_factory=list)  # hazard_patterns rows of its members
    provenance: dict = field(default_factory=dict)
    # Cases waiting for coder review, shown flagged, never counted (docs/coding.md, section 7).
    provisional: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=PROVISIONAL_COLUMNS)
    )

    @property
    def slug(self) -> str:
        if self.signal is not None:
            return f"{self.signal['signal_id']}-{self.signal['week']}"
        r = self.request
        return f"{r['category']}-{r['date_from']}-{r['date_to']}"

    @property
    def pattern(self) -> dict:
        return self.patterns[0] if self.patterns else {}

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


def load_signal_bundle(
    con: duckdb.DuckDBPyConnection,
    signal_id: str,
    week: str | None,
    triage: TriageState,
    trend_weeks: int = 26,
) -> Bundle:
    """The signal (in ``week``, default its latest week), every case linked to it from its
    onset to that week, its member alerts, trend, triage and follow-ups."""
    signal = signal_store.load_signal(con, signal_id, week)
    cases = signal_cases(con, signal)
    members = signal_store.members(con, signal_id)
    if not members.empty:  # the members up to the week asked for
        cutoff = week_ordinal(signal["week"])
        members = members[members["week"].map(week_ordinal) <= cutoff].reset_index(drop=True)
    lead = signal_store.lead_alert(members)
    trend = signal_trend(con, signal, lead, cases, trend_weeks)
    if not members.empty:  # why each member fired, with names beside codes
        labels = Labels(con)
        rows = members.to_dict("records")
        for lang in ("en", "zh"):
            members[f"subject_{lang}"] = [explain.subject_label(a, labels, lang) for a in rows]
            members[f"why_{lang}"] = [explain.alert_sentence(a, lang, labels) for a in rows]
    window = {
        "from_week": signal["onset_week"],
        "to_week": signal["week"],
        "from_date": iso_week_monday(signal["onset_week"]).isoformat(),
        "to_date": (iso_week_monday(signal["week"]) + timedelta(days=6)).isoformat(),
    }
    request = {"signal_id": signal_id, "week": signal["week"]}
    query = (
        "SELECT the signal's cases: signal_weeks.case_keys of (signal_id, week) - every case "
        "from the onset week to the week that matches a member alert's subject - joined to "
        "cases (status = 'active', current version), final category from case_coding, pattern "
        "from case_patterns; identifier columns never selected"
    )
    bundle = Bundle(
        kind="signal",
        request=request,
        cases=cases,
        trend=trend,
        followups=_followups(triage.followups_of(signal_id)),
        triage=triage.decisions_of(signal_id).reindex(columns=TRIAGE_EXPORT_COLUMNS),
        signal=signal,
        members=members,
        lead=lead,
        window=window,
        provisional=signal_provisional(con, signal),
    )
    _complete(con, bundle, signal.get("category"), query, triage.audit_heads.get(signal_id))
    return bundle


def load_category_bundle(
    con: duckdb.DuckDBPyConnection,
    category: str,
    date_from: date,
    date_to: date,
    triage: TriageState,
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
    follow = _followups(triage.followups)
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
        provisional=category_provisional(con, category, date_from, date_to),
    )
    _complete(con, bundle, category, query, None)
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


def _followups(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.reindex(columns=FOLLOWUP_EXPORT_COLUMNS).reset_index(drop=True)


def _complete(
    con: duckdb.DuckDBPyConnection,
    bundle: Bundle,
    category: str | None,
    query: str,
    audit_head: str | None,
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
    pattern_ids = (
        sorted({p for p in bundle.members.get("pattern_id", pd.Series(dtype=object)).dropna()})
        if not bundle.members.empty
        else []
    )
    if pattern_ids:
        rows = con.execute(
            "SELECT pattern_id, label_en, label_zh, top_terms FROM hazard_patterns "
            "WHERE pattern_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY pattern_id",
            [pattern_ids],
        ).df()
        bundle.patterns = rows.to_dict("records")
    codes = sorted(set(bundle.cases["hospital_code"]))
    if codes:
        bundle.hospitals = con.execute(
            "SELECT hospital_code, name_zh, name_en, city_zh, city_en FROM ref_hospitals "
            "WHERE hospital_code IN (SELECT unnest(?::VARCHAR[])) ORDER BY hospital_code",
            [codes],
        ).df()
    bundle.provenance = _provenance(con, bundle, query, audit_head)


def _plain(value: object) -> object:
    value = plain(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[union-attr]
    return value


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _provenance(
    con: duckdb.DuckDBPyConnection, bundle: Bundle, query: str, audit_head: str | None
) -> dict:
    keys = bundle.cases[["hospital_code", "case_id"]].reset_index(drop=True)
    submissions = _submissions(con, keys)
    coding = pd.DataFrame()
    if not keys.empty:
        con.register("_pack_keys", keys)
        try:
            coding = con.execute("""
                SELECT k2.model_name, k2.model_version, k2.source, count(*) AS cases
                FROM case_coding k2
                JOIN _pack_keys k ON k.hospital_code = k2.hospital_code
                                 AND k.case_id = k2.case_id
                GROUP BY ALL ORDER BY 1, 2, 3""").df()
        finally:
            con.unregister("_pack_keys")
    detectors = []
    for member in (
        bundle.members.drop_duplicates("method").to_dict("records")
        if not (bundle.members.empty)
        else []
    ):
        try:
            params = json.loads(member.get("params") or "{}")
        except (TypeError, ValueError):
            params = {"raw": member.get("params")}
        detectors.append(
            {"method": member.get("method"), "version": params.get("version"), "params": params}
        )
    received = [r for r in submissions.get("received_at", pd.Series(dtype=object)) if r is not None]
    signal = (
        {k: _plain(v) for k, v in bundle.signal.items() if k != "case_keys"}
        if bundle.signal is not None
        else None
    )
    provisional = bundle.provisional
    pending_keys = provisional[["hospital_code", "case_id"]].reset_index(drop=True)
    return {
        "format": PACK_FORMAT,
        "sentinel_version": sentinel_version,
        "request": bundle.request,
        "window": bundle.window or None,
        "query": query,
        "n_cases": len(bundle.cases),
        "data_as_of": _plain(max(received)) if received else None,
        "signal": signal,
        "members": _records(bundle.members.reindex(columns=MEMBER_EXPORT_COLUMNS))
        if not bundle.members.empty
        else [],
        "detectors": detectors,
        "coding_models": _records(coding),
        "submissions": _records(submissions),
        "triage": _records(bundle.triage),
        # The audit entry of the signal's latest triage record ("SEQ:SHA256"): `sentinel audit
        # verify --expect-head` proves that the history in this pack was not rewritten since.
        "audit_chain_head": audit_head,
        # Shown apart, never counted: not in n_cases, cases.csv, counts, trend or charts.
        "provisional": {
            "n_cases": len(provisional),
            "file": "provisional_cases.csv",
            "counted": False,
            "query": PROVISIONAL_QUERY,
            "patterns": [
                {"pattern_id": p, "cases": int(n)}
                for p, n in sorted(provisional["pattern_id"].value_counts().items())
            ],
            "submissions": _records(_submissions(con, pending_keys)),
        },
    }


PROVISIONAL_QUERY = (
    "SELECT case_patterns_all rows with provisional = true (cases waiting for coder review, "
    "placed by the last pattern refresh in the most similar pattern of their top suggestion) "
    "whose current version still needs review, of production hospitals, that the signal's rule "
    "(its members' subjects over the evidence window; for a category pack, the suggested "
    "category over the date range) would link to it, less its counted cases; identifier "
    "columns never selected"
)


def _submissions(con: duckdb.DuckDBPyConnection, keys: pd.DataFrame) -> pd.DataFrame:
    """The submissions that carried any version of these cases (a correction's submission
    contributed too), oldest first, with their checksums."""
    if keys.empty:
        return pd.DataFrame()
    con.register("_pack_keys", keys)
    try:
        return con.execute("""
            SELECT s.submission_id, s.hospital_code, s.file_name, s.sha256, s.size_bytes,
                   s.received_at, count(*) AS case_versions
            FROM case_versions v
            JOIN _pack_keys k ON k.hospital_code = v.hospital_code
                             AND k.case_id = v.case_id
            JOIN submissions s ON s.submission_id = v.submission_id
            GROUP BY ALL ORDER BY s.received_at, s.submission_id""").df()
    finally:
        con.unregister("_pack_keys")
