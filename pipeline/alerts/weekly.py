"""One week's alerts: series detectors, disproportionality changes and new narrative terms.

Defaults (documented in docs/detection.md):

* series (category, pattern, category x city): method ``auto-offset`` (Farrington flexible with
  the Noufaily settings when the history allows, shorter Farrington or the short-history
  fallback otherwise; denominator = all cases reported that week) at alpha 0.005 one-sided;
  an alarm becomes an alert only if its p-value survives Benjamini-Hochberg at FDR 0.05 across
  every series evaluated that week;
* disproportionality: category x injury nature / severity / body region / age group over the
  last 8 weeks; an alert when PRR >= 2, chi2 >= 4, n >= 3 and IC025 > 0 now, and the pair's
  share within the category rose significantly against the 52 weeks before (one-sided Fisher
  exact test, BH at FDR 0.05): stable associations such as knives x cuts are not news;
* new terms: absent from the previous 104 weeks, now in >= 3 cases at >= 2 hospitals.

Alerts are ranked by priority = score x (1 + share of severe/admitted/died cases + deaths)
x (1 + 0.5 x (hospitals - 1)): severe outcomes and spread across hospitals come first.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np
import pandas as pd
from scipy.stats import fisher_exact

from pipeline.alerts.series import SeriesPanel, build_panel, city_of, first_week, load_cases
from pipeline.detection.disproportionality import disproportionality
from pipeline.detection.isoweek import add_weeks, week_ordinal
from pipeline.detection.multiple_testing import bh_qvalues
from pipeline.detection.new_terms import new_terms
from pipeline.detection.registry import detect_panel_frame

DETECTOR_VERSION = "alerts-1"
ALERT_COLUMNS = [
    "week", "alert_id", "alert_type", "subject", "category", "pattern_id", "region", "term",
    "method", "observed", "expected", "threshold", "score", "pvalue", "qvalue", "status",
    "n_hospitals", "hospitals", "n_severe", "n_admitted", "n_died", "priority", "rank",
    "case_keys", "params",
]
ALERTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
  week VARCHAR NOT NULL, alert_id VARCHAR NOT NULL, alert_type VARCHAR NOT NULL,
  subject VARCHAR NOT NULL, category VARCHAR, pattern_id VARCHAR, region VARCHAR, term VARCHAR,
  method VARCHAR NOT NULL, observed DOUBLE, expected DOUBLE, threshold DOUBLE, score DOUBLE,
  pvalue DOUBLE, qvalue DOUBLE, status VARCHAR NOT NULL, n_hospitals INTEGER,
  hospitals VARCHAR, n_severe INTEGER, n_admitted INTEGER, n_died INTEGER, priority DOUBLE,
  rank INTEGER, case_keys VARCHAR, params VARCHAR,
  PRIMARY KEY (week, alert_id)
);
"""


@dataclass(frozen=True)
class AlertSettings:
    method: str = "auto-offset"
    alpha: float = 0.005
    fdr: float = 0.05
    dispro_window: int = 8
    dispro_history: int = 52
    new_term_history: int = 104
    new_term_min_cases: int = 3
    new_term_min_hospitals: int = 2


def alert_id(alert_type: str, subject: str) -> str:
    return "A" + hashlib.sha1(f"{alert_type}|{subject}".encode()).hexdigest()[:11]


def _age_group(age: float, unit: str) -> str:
    years = age if unit == "years" else age / 12 if unit == "months" else age / 365.25
    if pd.isna(years):
        return "unknown"
    return ("infant" if years < 1 else "toddler" if years < 5 else "child" if years < 15
            else "adult" if years < 65 else "older")


def _case_stats(cases: pd.DataFrame) -> dict:
    return {
        "n_hospitals": int(cases["hospital_code"].nunique()),
        "hospitals": ",".join(sorted(cases["hospital_code"].unique())),
        "n_severe": int((cases["severity"] == "severe").sum()),
        "n_admitted": int(cases["outcome"].isin(["admitted", "transferred"]).sum()),
        "n_died": int((cases["outcome"] == "died").sum()),
        "case_keys": json.dumps(sorted(f"{h}/{c}" for h, c in zip(
            cases["hospital_code"], cases["case_id"], strict=True))),
    }


def series_alerts(panel: SeriesPanel, week_cases: pd.DataFrame, cfg: AlertSettings
                  ) -> pd.DataFrame:
    """Evaluate the last week of every series; keep alarms that survive BH."""
    if panel.counts.shape[0] == 0:
        return pd.DataFrame()
    last = len(panel.weeks) - 1
    # A series with no case in its history cannot have a baseline; new products are the
    # new-term detector's job.
    live = np.flatnonzero(panel.counts[:, :last].sum(axis=1) > 0)
    result = detect_panel_frame(
        cfg.method, [panel.counts[i] for i in live], evaluate=[[last]] * len(live),
        denominators=[panel.denominator] * len(live), alpha=cfg.alpha)
    if result.empty:
        return pd.DataFrame()
    result["row"] = live[result["series"].to_numpy()]
    pvalues = result["pvalue"].to_numpy(dtype=float)
    result["qvalue"] = bh_qvalues(np.where(np.isnan(pvalues), 1.0, pvalues))
    hits = result[result["alarm"].astype(bool) & (result["qvalue"] <= cfg.fdr)]
    rows = []
    for hit in hits.to_dict("records"):
        meta = panel.meta.iloc[int(hit["row"])]
        mask = week_cases["category"] == meta["category"]
        if meta["kind"] == "pattern":
            mask &= week_cases["pattern_id"] == meta["pattern_id"]
        elif meta["kind"] == "category_region":
            mask &= week_cases["residence_region"].map(city_of) == meta["region"]
        rows.append({
            "alert_type": meta["kind"], "subject": meta["subject"],
            "category": meta["category"], "pattern_id": meta["pattern_id"],
            "region": meta["region"], "term": None, "method": cfg.method,
            "observed": hit["observed"], "expected": hit["expected"],
            "threshold": hit["upper"], "score": hit["score"], "pvalue": hit["pvalue"],
            "qvalue": hit["qvalue"], **_case_stats(week_cases[mask]),
        })
    return pd.DataFrame(rows)


def _pair_tables(cases: pd.DataFrame) -> pd.DataFrame:
    """2x2 margins for category x (injury nature, severity, body region, age group)."""
    frames = []
    for dimension in ("injury_nature", "severity", "body_region", "age_group"):
        pairs = cases.groupby(["category", dimension]).size().rename("n11").reset_index()
        pairs["n1."] = pairs["category"].map(cases.groupby("category").size())
        pairs["n.1"] = pairs[dimension].map(cases.groupby(dimension).size())
        pairs["n.."] = len(cases)
        pairs["dimension"] = dimension
        frames.append(pairs.rename(columns={dimension: "level"}))
    return pd.concat(frames, ignore_index=True)


def dispro_alerts(cases: pd.DataFrame, week: str, cfg: AlertSettings) -> pd.DataFrame:
    cases = cases.dropna(subset=["category"]).copy()
    cases["age_group"] = [_age_group(a, u) for a, u in zip(cases["age"], cases["age_unit"],
                                                             strict=True)]
    ordinal = cases["visit_week"].map(week_ordinal)
    now = week_ordinal(week)
    window = cases[(ordinal > now - cfg.dispro_window) & (ordinal <= now)]
    history = cases[(ordinal > now - cfg.dispro_window - cfg.dispro_history)
                    & (ordinal <= now - cfg.dispro_window)]
    if window.empty or history.empty:
        return pd.DataFrame()

    def signals(frame: pd.DataFrame) -> pd.DataFrame:
        table = disproportionality(_pair_tables(frame))
        table["signal"] = table["signal_prr"] & (table["ic025"] > 0)
        return table

    current, before = signals(window), signals(history)
    candidates = current[current["signal"]].copy()
    if candidates.empty:
        return pd.DataFrame()
    # A pharmacovigilance signal is not news when the pair was always associated (knives and
    # cuts): keep pairs whose share within the category rose significantly against the
    # category's own history (one-sided Fisher exact test, BH across the candidates).
    past = before.set_index(["category", "dimension", "level"])["n11"]
    past_totals = history.groupby("category").size()
    pvalues = []
    for hit in candidates.to_dict("records"):
        h11 = int(past.get((hit["category"], hit["dimension"], hit["level"]), 0))
        h1 = int(past_totals.get(hit["category"], 0))
        table = [[int(hit["n11"]), int(hit["n1."] - hit["n11"])], [h11, h1 - h11]]
        pvalues.append(fisher_exact(table, alternative="greater").pvalue)
    candidates["pvalue"] = pvalues
    candidates["qvalue"] = bh_qvalues(np.asarray(pvalues))
    fresh = candidates[candidates["qvalue"] <= cfg.fdr]
    rows = []
    for hit in fresh.to_dict("records"):
        dim, level = hit["dimension"], hit["level"]
        involved = window[(window["category"] == hit["category"]) & (window[dim] == level)]
        rows.append({
            "alert_type": "disproportionality", "subject": f"{hit['category']} x {dim}={level}",
            "category": hit["category"], "pattern_id": None, "region": None, "term": None,
            "method": "prr-ic", "observed": hit["n11"], "expected": hit["e11"],
            "threshold": 2.0, "score": hit["prr"] / 2.0, "pvalue": hit["pvalue"],
            "qvalue": hit["qvalue"],
            **_case_stats(involved),
        })
    return pd.DataFrame(rows)


def term_alerts(cases: pd.DataFrame, week: str, cfg: AlertSettings) -> pd.DataFrame:
    frame = cases.rename(columns={"visit_week": "week"})[
        ["case_id", "hospital_code", "week", "narrative"]]
    terms = new_terms(frame, week, history_weeks=cfg.new_term_history,
                      min_cases=cfg.new_term_min_cases,
                      min_hospitals=cfg.new_term_min_hospitals)
    rows = []
    keyed = cases.set_index(cases["hospital_code"] + "/" + cases["case_id"])
    for hit in terms.to_dict("records"):
        keys = [f"{h}/{c}" for h, c in hit["case_keys"]]
        involved = keyed.loc[keyed.index.intersection(keys)]
        categories = involved["category"].dropna()
        rows.append({
            "alert_type": "new_term", "subject": hit["term"],
            "category": categories.mode().iloc[0] if not categories.empty else None,
            "pattern_id": None, "region": None, "term": hit["term"], "method": "new-term",
            "observed": hit["n_cases"], "expected": 0.0,
            "threshold": float(cfg.new_term_min_cases),
            "score": hit["n_cases"] / cfg.new_term_min_cases, "pvalue": np.nan,
            "qvalue": np.nan, **_case_stats(involved),
        })
    return pd.DataFrame(rows)


def rank_alerts(alerts: pd.DataFrame) -> pd.DataFrame:
    if alerts.empty:
        return alerts
    n = alerts["observed"].clip(lower=1)
    severe_share = (alerts[["n_severe", "n_admitted"]].max(axis=1) / n).clip(upper=1)
    alerts["priority"] = (alerts["score"].clip(lower=0).fillna(0) * (1 + severe_share
                          + alerts["n_died"]) * (1 + 0.5 * (alerts["n_hospitals"] - 1)))
    alerts = alerts.sort_values(["priority", "alert_id"], ascending=[False, True])
    alerts["rank"] = np.arange(1, len(alerts) + 1)
    return alerts.reset_index(drop=True)


def detect_week(cases: pd.DataFrame, week: str, previous: pd.DataFrame,
                cfg: AlertSettings = AlertSettings()) -> pd.DataFrame:
    """All alerts of ``week`` (ranked), with status new/ongoing, plus 'resolved' rows for
    last week's alerts that no longer fire."""
    panel = build_panel(cases, first_week(cases), week)
    week_cases = cases[cases["visit_week"] == week]
    parts = [series_alerts(panel, week_cases, cfg), dispro_alerts(cases, week, cfg),
             term_alerts(cases, week, cfg)]
    alerts = pd.concat([p for p in parts if not p.empty], ignore_index=True) \
        if any(not p.empty for p in parts) else pd.DataFrame(columns=ALERT_COLUMNS)
    alerts["week"] = week
    alerts["alert_id"] = [alert_id(t, s) for t, s in zip(alerts["alert_type"],
                                                         alerts["subject"], strict=True)]
    active_before = set(previous.loc[previous["status"] != "resolved", "alert_id"]) \
        if not previous.empty else set()
    alerts["status"] = ["ongoing" if a in active_before else "new" for a in alerts["alert_id"]]
    alerts["params"] = json.dumps({"version": DETECTOR_VERSION, **cfg.__dict__})
    alerts = rank_alerts(alerts)
    if not previous.empty:
        gone = previous[(previous["status"] != "resolved")
                        & ~previous["alert_id"].isin(alerts["alert_id"])].copy()
        if not gone.empty:
            gone["week"], gone["status"], gone["rank"] = week, "resolved", None
            alerts = pd.concat([alerts, gone], ignore_index=True)
    return alerts.reindex(columns=ALERT_COLUMNS)


def default_week(con: duckdb.DuckDBPyConnection, today: date | None = None) -> str:
    """The last complete ISO week before ``today``, but no later than the latest week with
    cases (so a backlog loaded late is still evaluated on its own last week)."""
    from pipeline.detection.isoweek import format_iso_week

    last_complete = add_weeks(format_iso_week(today or date.today()), -1)
    weeks = [w for (w,) in con.execute("SELECT DISTINCT visit_week FROM cases").fetchall()]
    if not weeks:
        raise ValueError("the warehouse holds no cases: run `sentinel ingest` first")
    latest = max(weeks, key=week_ordinal)
    return min(last_complete, latest, key=week_ordinal)


def run_weeks(con: duckdb.DuckDBPyConnection, weeks: list[str],
              cfg: AlertSettings = AlertSettings(), progress=None) -> dict[str, int]:
    """Detect and store the alerts of each week in order (re-running a week replaces it)."""
    con.execute(ALERTS_SCHEMA)
    cases = load_cases(con)
    if cases.empty:
        raise ValueError("the warehouse holds no cases: run `sentinel ingest` first")
    counts = {}
    for week in weeks:
        previous = con.execute("SELECT * FROM alerts WHERE week = ?",
                               [add_weeks(week, -1)]).df()
        alerts = detect_week(cases, week, previous, cfg)
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("DELETE FROM alerts WHERE week = ?", [week])
            if not alerts.empty:
                con.register("_alerts", alerts)
                con.execute("INSERT INTO alerts BY NAME SELECT * FROM _alerts")
                con.unregister("_alerts")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        counts[week] = int((alerts["status"] != "resolved").sum())
        if progress:
            progress(f"{week}: {counts[week]} alerts")
    return counts
