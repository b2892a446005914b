"""One week's alerts: series detectors, disproportionality changes and new narrative terms.

Defaults (documented in docs/detection.md):

* series (category, pattern, category x city): method ``auto-offset`` (Farrington flexible with
  the Noufaily settings when the history allows, shorter Farrington or the short-history
  fallback otherwise; denominator = all cases reported that week) and the sustained-rise
  detector ``auto-rise-offset`` (totals of the last 1-4 weeks), combined per series (Sidak),
  at alpha 0.005 one-sided; an alarm becomes an alert only if its p-value survives
  Benjamini-Hochberg at FDR 0.05 across every series evaluated that week;
* new patterns: a hazard pattern first seen in the last 8 weeks with >= 3 cases at >= 2
  hospitals in the last 4 weeks and >= 20 % of its category's cases;
* disproportionality: category x injury nature / severity / body region / age group over the
  last 8 weeks; an alert when PRR >= 2, chi2 >= 4, n >= 3 and IC025 > 0 now, and the pair's
  share within the category rose significantly against the 52 weeks before (one-sided Fisher
  exact test, BH at FDR 0.05): stable associations such as knives x cuts are not news;
* new terms: absent from the previous 104 weeks, now in >= 3 cases at >= 2 hospitals
  (Chinese n-grams must be named in the product field); category terms: the same within one
  category (Chinese bigrams).

Every signal sees the cases as of the evaluated week (no later visits or pattern assignments).

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

from pipeline.alerts.series import (
    age_group,
    as_of,
    build_panel,
    city_of,
    first_week,
    load_cases,
    load_review_pending,
    ordinals,
)
from pipeline.alerts.signals import SignalSettings, signal_week
from pipeline.alerts.trends import alert_series
from pipeline.detection.disproportionality import disproportionality
from pipeline.detection.multiple_testing import bh_qvalues
from pipeline.detection.new_terms import category_new_terms, new_terms
from pipeline.detection.registry import detect_series
from pipeline.detection.series import WeeklySeries
from pipeline.errors import NotFound
from pipeline.isoweek import add_weeks, format_iso_week, week_ordinal
from pipeline.storage.warehouse import transaction

DETECTOR_VERSION = "alerts-1"
ALERT_COLUMNS = [
    "week",
    "alert_id",
    "alert_type",
    "subject",
    "category",
    "pattern_id",
    "region",
    "term",
    "method",
    "observed",
    "expected",
    "threshold",
    "score",
    "pvalue",
    "qvalue",
    "status",
    "n_hospitals",
    "hospitals",
    "n_severe",
    "n_admitted",
    "n_died",
    "priority",
    "rank",
    "case_keys",
    "params",
]


class NoCases(NotFound, ValueError):
    """Nothing to detect on (no cases, or none coded yet)."""


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
    rise_method: str = "auto-rise-offset"  # "none": weekly detector only
    rise_window: int = 4
    fdr_scope: str = "all"  # "kind": BH within category / pattern / category_region
    new_pattern_recent: int = 8
    new_pattern_window: int = 4
    new_pattern_min_cases: int = 3
    new_pattern_min_hospitals: int = 2
    new_pattern_min_share: float = 0.2


def alert_id(alert_type: str, subject: str) -> str:
    return "A" + hashlib.sha1(f"{alert_type}|{subject}".encode()).hexdigest()[:11]


def _case_stats(cases: pd.DataFrame) -> dict:
    return {
        "n_hospitals": int(cases["hospital_code"].nunique()),
        "hospitals": ",".join(sorted(cases["hospital_code"].unique())),
        "n_severe": int((cases["severity"] == "severe").sum()),
        "n_admitted": int(cases["outcome"].isin(["admitted", "transferred"]).sum()),
        "n_died": int((cases["outcome"] == "died").sum()),
        "case_keys": json.dumps(
            sorted(
                f"{h}/{c}" for h, c in zip(cases["hospital_code"], cases["case_id"], strict=True)
            )
        ),
    }


def _combine(
    main: pd.DataFrame, rise: pd.DataFrame, main_name: str, rise_name: str
) -> pd.DataFrame:
    """One row per series: the weekly detector and the sustained-rise detector as one test.

    The series p-value is the Sidak combination ``1 - (1 - min(p1, p2))^2`` of the two
    p-values (so BH sees one hypothesis per series, not two); the series alarms when either
    detector does, and the row reports the alarming detector with the smaller p-value."""
    main = main.assign(method=main_name)
    if rise.empty:
        return main
    rise = rise.assign(method=rise_name)
    both = pd.concat([main, rise], ignore_index=True)
    both["pvalue"] = both["pvalue"].astype(float)
    p_min = both.groupby("series")["pvalue"].transform("min")
    tested = both.groupby("series")["pvalue"].transform("count")
    # Alarming rows first, then the smaller p-value: the reported row explains the alert.
    both = both.sort_values(
        ["series", "alarm", "pvalue"], ascending=[True, False, True], na_position="last"
    )
    both["pvalue"] = 1.0 - (1.0 - p_min) ** tested.clip(lower=1)
    both["alarm"] = both.groupby("series")["alarm"].transform("any")
    return both.drop_duplicates("series", keep="first")


def series_alerts(panel: WeeklySeries, cases: pd.DataFrame, cfg: AlertSettings) -> pd.DataFrame:
    """Evaluate the last week of every series with the weekly detector (``cfg.method``) and
    the sustained-rise detector (``cfg.rise_method``); keep alarms that survive BH across
    all series (``fdr_scope="all"``) or within each series kind (``"kind"``)."""
    if panel.counts.shape[0] == 0:
        return pd.DataFrame()
    last = len(panel.weeks) - 1
    # A series with no case in its history cannot have a baseline; new products are the
    # new-term detector's job.
    live = np.flatnonzero(panel.counts[:, :last].sum(axis=1) > 0)
    kwargs = {"rows": live, "evaluate": [[last]] * len(live), "alpha": cfg.alpha}
    result = detect_series(panel, cfg.method, **kwargs)
    if cfg.rise_method and cfg.rise_method != "none":
        rise = detect_series(panel, cfg.rise_method, **kwargs)
        result = _combine(result, rise, cfg.method, cfg.rise_method)
    else:
        result = result.assign(method=cfg.method)
    if result.empty:
        return pd.DataFrame()
    result["row"] = live[result["series"].to_numpy()]
    result["kind"] = panel.meta["kind"].to_numpy()[result["row"].to_numpy()]
    pvalues = result["pvalue"].to_numpy(dtype=float)
    pvalues = np.where(np.isnan(pvalues), 1.0, pvalues)
    if cfg.fdr_scope == "kind":
        result["qvalue"] = np.nan
        for _kind, idx in result.groupby("kind").indices.items():
            result.iloc[idx, result.columns.get_loc("qvalue")] = bh_qvalues(pvalues[idx])
    else:
        result["qvalue"] = bh_qvalues(pvalues)
    hits = result[result["alarm"].astype(bool) & (result["qvalue"] <= cfg.fdr)]
    now = week_ordinal(panel.weeks[-1])
    ordinal = ordinals(cases["visit_week"])
    rows = []
    for hit in hits.to_dict("records"):
        meta = panel.meta.iloc[int(hit["row"])]
        # A rise alert's cases are those of its window; a weekly alert's those of the week.
        span = cfg.rise_window if hit["method"] == cfg.rise_method else 1
        mask = (cases["category"] == meta["category"]) & (ordinal > now - span)
        if meta["kind"] == "pattern":
            mask &= cases["pattern_id"] == meta["pattern_id"]
        elif meta["kind"] == "category_region":
            mask &= cases["residence_region"].map(city_of) == meta["region"]
        rows.append(
            {
                "alert_type": meta["kind"],
                "subject": meta["subject"],
                "category": meta["category"],
                "pattern_id": meta["pattern_id"],
                "region": meta["region"],
                "term": None,
                "method": hit["method"],
                "observed": hit["observed"],
                "expected": hit["expected"],
                "threshold": hit["upper"],
                "score": hit["score"],
                "pvalue": hit["pvalue"],
                "qvalue": hit["qvalue"],
                **_case_stats(cases[mask]),
            }
        )
    return pd.DataFrame(rows)


def new_pattern_alerts(cases: pd.DataFrame, week: str, cfg: AlertSettings) -> pd.DataFrame:
    """Emerging clusters: a hazard pattern that first appeared (first case assigned) within
    the last ``new_pattern_recent`` weeks and has ``>= new_pattern_min_cases`` cases from
    ``>= new_pattern_min_hospitals`` hospitals in the last ``new_pattern_window`` weeks.

    A pattern is promoted by the clusterer once a few similar cases accumulate, so a new
    pattern is by itself a weak signal; requiring several hospitals recently keeps one
    hospital's coding habit or a single family's accident out, and requiring the pattern to
    hold ``>= new_pattern_min_share`` (20 %) of its category's cases in the window keeps out
    the sub-patterns the clusterer keeps splitting off large categories (e-bike falls: a new
    sub-pattern with 2-6 % of the category's cases). A hazard adding ``k`` cases a week to a
    category of ``b`` has a share of about ``k / (k + b)``. ``cases`` must hold only what a run
    in ``week`` could see (:func:`pipeline.alerts.series.as_of`)."""
    if "pattern_week" not in cases.columns:
        return pd.DataFrame()
    patterned = cases.dropna(subset=["pattern_id", "pattern_week"])
    if patterned.empty:
        return pd.DataFrame()
    now = week_ordinal(week)
    first_seen = ordinals(patterned["pattern_week"]).groupby(patterned["pattern_id"]).min()
    recent = first_seen[first_seen > now - cfg.new_pattern_recent]
    if recent.empty:
        return pd.DataFrame()
    ordinal = ordinals(patterned["visit_week"])
    in_window = ordinal > now - cfg.new_pattern_window
    window = patterned[patterned["pattern_id"].isin(recent.index) & in_window]
    all_ordinal = ordinals(cases["visit_week"])
    category_totals = cases[all_ordinal > now - cfg.new_pattern_window].groupby("category").size()
    rows = []
    for pattern_id, group in window.groupby("pattern_id"):
        n_cases, n_hosp = len(group), group["hospital_code"].nunique()
        if n_cases < cfg.new_pattern_min_cases or n_hosp < cfg.new_pattern_min_hospitals:
            continue
        share = n_cases / category_totals.get(group["category"].iloc[0], n_cases)
        if share < cfg.new_pattern_min_share:
            continue
        rows.append(
            {
                "alert_type": "new_pattern",
                "subject": pattern_id,
                "category": group["category"].iloc[0],
                "pattern_id": pattern_id,
                "region": None,
                "term": None,
                "method": "new-pattern",
                "observed": float(n_cases),
                "expected": 0.0,
                "threshold": float(cfg.new_pattern_min_cases),
                "score": n_cases / cfg.new_pattern_min_cases,
                "pvalue": np.nan,
                "qvalue": np.nan,
                **_case_stats(group),
            }
        )
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
    cases["age_group"] = [
        age_group(a, u) for a, u in zip(cases["age"], cases["age_unit"], strict=True)
    ]
    ordinal = ordinals(cases["visit_week"])
    now = week_ordinal(week)
    window = cases[(ordinal > now - cfg.dispro_window) & (ordinal <= now)]
    history = cases[
        (ordinal > now - cfg.dispro_window - cfg.dispro_history)
        & (ordinal <= now - cfg.dispro_window)
    ]
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
        rows.append(
            {
                "alert_type": "disproportionality",
                "subject": f"{hit['category']} x {dim}={level}",
                "category": hit["category"],
                "pattern_id": None,
                "region": None,
                "term": None,
                "method": "prr-ic",
                "observed": hit["n11"],
                "expected": hit["e11"],
                "threshold": 2.0,
                "score": hit["prr"] / 2.0,
                "pvalue": hit["pvalue"],
                "qvalue": hit["qvalue"],
                **_case_stats(involved),
            }
        )
    return pd.DataFrame(rows)


def term_alerts(
    cases: pd.DataFrame, week: str, cfg: AlertSettings, vocabulary_cache: dict | None = None
) -> pd.DataFrame:
    columns = ["case_id", "hospital_code", "week", "narrative"]
    if "product_name" in cases.columns:
        columns.append("product_name")
    frame = cases.rename(columns={"visit_week": "week"})[columns]
    terms = new_terms(
        frame,
        week,
        history_weeks=cfg.new_term_history,
        min_cases=cfg.new_term_min_cases,
        min_hospitals=cfg.new_term_min_hospitals,
        vocabulary_cache=vocabulary_cache,
    )
    rows = []
    keyed = cases.set_index(cases["hospital_code"] + "/" + cases["case_id"])
    for hit in terms.to_dict("records"):
        keys = [f"{h}/{c}" for h, c in hit["case_keys"]]
        involved = keyed.loc[keyed.index.intersection(keys)]
        categories = involved["category"].dropna()
        rows.append(
            {
                "alert_type": "new_term",
                "subject": hit["term"],
                "category": categories.mode().iloc[0] if not categories.empty else None,
                "pattern_id": None,
                "region": None,
                "term": hit["term"],
                "method": "new-term",
                "observed": hit["n_cases"],
                "expected": 0.0,
                "threshold": float(cfg.new_term_min_cases),
                "score": hit["n_cases"] / cfg.new_term_min_cases,
                "pvalue": np.nan,
                "qvalue": np.nan,
                **_case_stats(involved),
            }
        )
    return pd.DataFrame(rows)


def category_term_alerts(
    cases: pd.DataFrame, week: str, cfg: AlertSettings, vocabulary_cache: dict | None = None
) -> pd.DataFrame:
    """One alert per category with terms new *to that category* this week (absent from its
    narratives for ``new_term_history`` weeks, now in >= 3 of its cases at >= 2 hospitals);
    ``term`` lists up to 5 of them, most frequent first."""
    frame = cases.rename(columns={"visit_week": "week"})[
        ["case_id", "hospital_code", "week", "narrative", "category"]
    ]
    terms = category_new_terms(
        frame,
        week,
        history_weeks=cfg.new_term_history,
        min_cases=cfg.new_term_min_cases,
        min_hospitals=cfg.new_term_min_hospitals,
        vocabulary_cache=vocabulary_cache,
    )
    if terms.empty:
        return pd.DataFrame()
    keyed = cases.set_index(cases["hospital_code"] + "/" + cases["case_id"])
    rows = []
    for category, group in terms.groupby("category", sort=True):
        keys = sorted({f"{h}/{c}" for ks in group["case_keys"] for h, c in ks})
        involved = keyed.loc[keyed.index.intersection(keys)]
        rows.append(
            {
                "alert_type": "category_term",
                "subject": category,
                "category": category,
                "pattern_id": None,
                "region": None,
                "term": ", ".join(group["term"].head(5)),
                "method": "category-new-term",
                "observed": float(len(keys)),
                "expected": 0.0,
                "threshold": float(cfg.new_term_min_cases),
                "score": len(keys) / cfg.new_term_min_cases,
                "pvalue": np.nan,
                "qvalue": np.nan,
                **_case_stats(involved),
            }
        )
    return pd.DataFrame(rows)


def rank_alerts(alerts: pd.DataFrame) -> pd.DataFrame:
    if alerts.empty:
        return alerts
    n = alerts["observed"].clip(lower=1)
    severe_share = (alerts[["n_severe", "n_admitted"]].max(axis=1) / n).clip(upper=1)
    alerts["priority"] = (
        alerts["score"].clip(lower=0).fillna(0)
        * (1 + severe_share + alerts["n_died"])
        * (1 + 0.5 * (alerts["n_hospitals"] - 1))
    )
    alerts = alerts.sort_values(["priority", "alert_id"], ascending=[False, True])
    alerts["rank"] = np.arange(1, len(alerts) + 1)
    return alerts.reset_index(drop=True)


def detect_week(
    cases: pd.DataFrame,
    week: str,
    previous: pd.DataFrame,
    cfg: AlertSettings = AlertSettings(),
    cache: dict | None = None,
    pending: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """All alerts of ``week`` (ranked), with status new/ongoing, plus 'resolved' rows for
    last week's alerts that no longer fire.

    Every signal sees ``cases`` as of ``week`` (no later visits, no later pattern
    assignments), so a backfill gives what the weekly runs would have given. ``cache``: an
    optional dict reused across the weeks of one backfill over the same ``cases`` (and
    ``pending``). ``pending``: cases without a final coding
    (:func:`~pipeline.alerts.series.load_review_pending`); only the new-term signal reads
    them."""
    return _detect_week(cases, week, previous, cfg, cache, pending)[0]


def _detect_week(
    cases: pd.DataFrame,
    week: str,
    previous: pd.DataFrame,
    cfg: AlertSettings,
    cache: dict | None,
    pending: pd.DataFrame | None,
) -> tuple[pd.DataFrame, WeeklySeries, pd.DataFrame]:
    """:func:`detect_week`, the series panel it evaluated and the cases it saw (with the
    review-pending ones)."""
    seen = as_of(cases, week)
    with_pending = (
        seen
        if pending is None or pending.empty
        else pd.concat([seen, as_of(pending, week)], ignore_index=True)
    )
    panel = build_panel(seen, first_week(cases), week)
    parts = [
        series_alerts(panel, seen, cfg),
        new_pattern_alerts(seen, week, cfg),
        dispro_alerts(seen, week, cfg),
        term_alerts(
            with_pending, week, cfg, None if cache is None else cache.setdefault("vocabulary", {})
        ),
        category_term_alerts(
            seen, week, cfg, None if cache is None else cache.setdefault("vocabulary", {})
        ),
    ]
    alerts = (
        pd.concat([p for p in parts if not p.empty], ignore_index=True)
        if any(not p.empty for p in parts)
        else pd.DataFrame(columns=ALERT_COLUMNS)
    )
    alerts["week"] = week
    alerts["alert_id"] = [
        alert_id(t, s) for t, s in zip(alerts["alert_type"], alerts["subject"], strict=True)
    ]
    active_before = (
        set(previous.loc[previous["status"] != "resolved", "alert_id"])
        if not previous.empty
        else set()
    )
    alerts["status"] = ["ongoing" if a in active_before else "new" for a in alerts["alert_id"]]
    alerts["params"] = json.dumps({"version": DETECTOR_VERSION, **cfg.__dict__})
    alerts = rank_alerts(alerts)
    if not previous.empty:
        gone = previous[
            (previous["status"] != "resolved") & ~previous["alert_id"].isin(alerts["alert_id"])
        ].copy()
        if not gone.empty:
            gone["week"], gone["status"], gone["rank"] = week, "resolved", None
            alerts = pd.concat([alerts, gone], ignore_index=True)
    return alerts.reindex(columns=ALERT_COLUMNS), panel, with_pending


def default_week(con: duckdb.DuckDBPyConnection, today: date | None = None) -> str:
    """The last complete ISO week before ``today``, but no later than the latest week with
    cases (so a backlog loaded late is still evaluated on its own last week)."""
    last_complete = add_weeks(format_iso_week(today or date.today()), -1)
    weeks = [w for (w,) in con.execute("SELECT DISTINCT visit_week FROM cases").fetchall()]
    if not weeks:
        raise NoCases("the warehouse holds no cases: run `sentinel ingest` first")
    latest = max(weeks, key=week_ordinal)
    return min(last_complete, latest, key=week_ordinal)


def run_weeks(
    con: duckdb.DuckDBPyConnection,
    weeks: list[str],
    cfg: AlertSettings = AlertSettings(),
    progress=None,
    signal_cfg: SignalSettings = SignalSettings(),
) -> dict[str, int]:
    """Detect and store the alerts of each week in order, and the week's signals (re-running a
    week replaces it). Returns the number of live alerts per week."""
    cases = load_cases(con)
    if cases.empty:
        raise NoCases(
            "the warehouse holds no coded cases: run `sentinel ingest` and `sentinel coding run` first"
        )
    pending = load_review_pending(con)
    counts = {}
    cache: dict = {}
    for week in weeks:
        previous = con.execute("SELECT * FROM alerts WHERE week = ?", [add_weeks(week, -1)]).df()
        alerts, panel, seen = _detect_week(cases, week, previous, cfg, cache, pending)
        series = alert_series(alerts, panel, cases, cfg.alpha)
        signals, members = signal_week(
            alerts, _previous_signals(con, week, signal_cfg), seen, week, signal_cfg
        )
        with transaction(con):
            con.execute("DELETE FROM alerts WHERE week = ?", [week])
            con.execute("DELETE FROM alert_series WHERE week = ?", [week])
            if not alerts.empty:
                con.register("_alerts", alerts)
                con.execute("INSERT INTO alerts BY NAME SELECT * FROM _alerts")
                con.unregister("_alerts")
            if not series.empty:
                con.register("_series", series)
                con.execute("INSERT INTO alert_series BY NAME SELECT * FROM _series")
                con.unregister("_series")
            _store_signals(con, week, signals, members)
        counts[week] = int((alerts["status"] != "resolved").sum())
        if progress:
            active = int(signals["rank"].notna().sum()) if not signals.empty else 0
            progress(f"{week}: {counts[week]} alerts in {active} signals")
    return counts


def _previous_signals(
    con: duckdb.DuckDBPyConnection, week: str, cfg: SignalSettings
) -> pd.DataFrame:
    """Stored signal weeks that can carry into ``week`` (the reopen horizon and the quiet
    weeks before it)."""
    start = add_weeks(week, -(cfg.reopen_weeks + cfg.quiet_weeks + 1))
    frame = con.execute("SELECT * FROM signal_weeks WHERE week < ?", [week]).df()
    return (
        frame[frame["week"].map(week_ordinal) >= week_ordinal(start)] if not frame.empty else frame
    )


def _store_signals(
    con: duckdb.DuckDBPyConnection, week: str, signals: pd.DataFrame, members: pd.DataFrame
) -> None:
    con.execute("DELETE FROM signal_weeks WHERE week = ?", [week])
    con.execute("DELETE FROM signal_alerts WHERE week = ?", [week])
    for name, frame in (("signal_weeks", signals), ("signal_alerts", members)):
        if frame.empty:
            continue
        con.register("_rows", frame)
        con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM _rows")
        con.unregister("_rows")


def build_signals(
    con: duckdb.DuckDBPyConnection,
    weeks: list[str] | None = None,
    signal_cfg: SignalSettings = SignalSettings(),
    progress=None,
) -> dict[str, int]:
    """The signals of stored alert weeks (default: every week with alerts), in order, from the
    stored alerts (no detector is re-run): for a warehouse whose alerts were detected before
    signals existed. Returns the number of active signals per week."""
    if weeks is None:
        weeks = sorted(
            (w for (w,) in con.execute("SELECT DISTINCT week FROM alerts").fetchall()),
            key=week_ordinal,
        )
    cases = load_cases(con)
    pending = load_review_pending(con)
    everything = cases if pending.empty else pd.concat([cases, pending], ignore_index=True)
    counts = {}
    for week in weeks:
        alerts = con.execute("SELECT * FROM alerts WHERE week = ?", [week]).df()
        signals, members = signal_week(
            alerts,
            _previous_signals(con, week, signal_cfg),
            as_of(everything, week),
            week,
            signal_cfg,
        )
        with transaction(con):
            _store_signals(con, week, signals, members)
        counts[week] = int(signals["rank"].notna().sum()) if not signals.empty else 0
        if progress:
            progress(f"{week}: {counts[week]} signals")
    return counts
