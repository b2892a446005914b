"""The weekly hazard report: one self-contained HTML file per language plus JSON.

The HTML embeds everything (inline CSS incl. print rules, inline SVG charts) and loads nothing:
it works offline, from an e-mail attachment or a USB stick. Every value from the warehouse goes
through Jinja2 autoescaping, so a narrative holding HTML or script shows as text.

Contents: a summary table in detector rank order; per alert why it fired, a trend chart with
the alarm threshold, hospitals and regions, severity / outcome / age mix, top terms, example
narratives, a suggested Safety Gate risk level, the evidence-pack command and the current
triage decision with follow-up results; the network-health section (monitoring-site
supervision). The same warehouse content gives the same bytes (no wall clock: "data as of" is
the latest file received).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from pipeline.alerts.series import age_group, load_cases
from pipeline.alerts.weekly import default_week
from pipeline.detection.new_terms import tokenize
from pipeline.errors import BadInput
from pipeline.isoweek import is_iso_week, iso_week_monday, week_ordinal
from pipeline.privacy import scrub_text
from pipeline.reporting.charts import trend_chart_svg
from pipeline.reporting.context import alert_cases, alert_trend, load_alert
from pipeline.reporting.health import data_as_of, network_health, week_totals
from pipeline.reporting.labels import AGE_GROUPS, LANGS, UI, Labels
from pipeline.reporting.risk import case_severity_level, suggested_risk_level
from pipeline.triage import store

TREND_WEEKS = 26
MAX_EXAMPLES = 8
MIN_EXAMPLES = 5
TOP_TERMS = 10
TERM_BACKGROUND_WEEKS = 52
CODE_ORDER = {
    "severity": ("mild", "moderate", "severe"),
    "outcome": ("treated_released", "observed", "transferred", "admitted", "died", "other"),
    "age_group": ("infant", "toddler", "child", "adult", "older", "unknown"),
}


class ReportError(BadInput):
    """The report cannot be written for this input (the message says why)."""


def report_week(con: duckdb.DuckDBPyConnection) -> str:
    """Default week: the latest week with stored alerts up to the detector's default week
    (the last complete week with cases); without alerts, that default week."""
    fallback = default_week(con)
    weeks = sorted(
        (w for (w,) in con.execute("SELECT DISTINCT week FROM alerts").fetchall()), key=week_ordinal
    )
    if not weeks:
        return fallback
    earlier = [w for w in weeks if week_ordinal(w) <= week_ordinal(fallback)]
    return earlier[-1] if earlier else weeks[-1]


def _num(value: object) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _counts(values: pd.Series, order: tuple[str, ...] = ()) -> list[dict]:
    counts = Counter(v for v in values if isinstance(v, str) and v)
    known = [k for k in order if k in counts]
    rest = sorted((k for k in counts if k not in order), key=lambda k: (-counts[k], k))
    return (
        [{"code": k, "n": int(counts[k])} for k in (known if order else []) + rest]
        if order
        else [{"code": k, "n": int(counts[k])} for k in rest]
    )


def _age_groups(cases: pd.DataFrame) -> pd.Series:
    return pd.Series(
        [age_group(a, u) for a, u in zip(cases["age"], cases["age_unit"], strict=True)],
        dtype=object,
    )


def top_terms(cases: pd.DataFrame, background: pd.DataFrame, k: int = TOP_TERMS) -> list[dict]:
    """Terms over-represented in the alert's narratives against ``background`` (the same
    category's cases of the year before): document share x log lift, >= 2 cases; a Chinese
    n-gram inside a longer kept term with the same count is dropped."""
    docs = [tokenize(t) for t in cases["narrative"]]
    if not docs:
        return []
    counts = Counter(t for d in docs for t in d)
    bg_docs = [tokenize(t) for t in background["narrative"]] if not background.empty else []
    bg = Counter(t for d in bg_docs for t in d)
    n, m = len(docs), max(len(bg_docs), 1)
    scored = []
    for term, c in counts.items():
        if c < 2:
            continue
        share, bg_share = c / n, (bg.get(term, 0) + 0.5) / (m + 1)
        lift = share / bg_share
        if lift <= 1.0:
            continue
        scored.append((share * math.log(lift), term, c, lift))
    scored.sort(key=lambda s: (-s[0], -s[2], s[1]))
    kept: list[tuple] = []
    for entry in scored:
        _, term, c, _ = entry
        if any(term in other and c == oc for _, other, oc, _ in kept):
            continue
        kept = [o for o in kept if not (o[1] in term and o[2] == c)]
        kept.append(entry)
        if len(kept) >= k:
            break
    return [{"term": t, "n": int(c), "lift": round(float(lift), 2)} for _, t, c, lift in kept]


def _examples(cases: pd.DataFrame) -> list[dict]:
    """Up to MAX_EXAMPLES cases, the most severe first, then the most recent."""
    if cases.empty:
        return []
    frame = cases.assign(
        _level=[
            case_severity_level(s, o)
            for s, o in zip(cases["severity"], cases["outcome"], strict=True)
        ]
    )
    frame = frame.sort_values(
        ["_level", "visit_date", "hospital_code", "case_id"], ascending=[False, False, True, True]
    ).head(MAX_EXAMPLES)
    rows = []
    for case in frame.to_dict("records"):
        case = {k: _plain(v) for k, v in case.items()}
        rows.append(
            {
                "hospital_code": case["hospital_code"],
                "case_id": case["case_id"],
                "visit_date": case["visit_date"],
                "sex": case["sex"],
                "age": _num(case["age"]),
                "age_unit": case["age_unit"],
                "severity": case["severity"],
                "outcome": case["outcome"],
                "product_name": case["product_name"],
                # Scrubbed at intake; scrubbed again in case an older version slipped through.
                "narrative": scrub_text(case["narrative"])
                if isinstance(case["narrative"], str)
                else "",
            }
        )
    return rows


def _triage(con: duckdb.DuckDBPyConnection, as_of: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Current decisions and follow-ups."""
    decisions = store.current_decisions(con)
    followups = store.followups(con, as_of=as_of)
    return decisions, followups


def _status_day(con: duckdb.DuckDBPyConnection, as_of: object, sunday: date) -> date:
    """The day follow-up statuses (open / overdue) are judged on: the latest of the week's
    end, the data's as-of day and the last triage or follow-up record - never the clock."""
    days = [sunday]
    if isinstance(as_of, date):
        days.append(as_of.date() if hasattr(as_of, "date") and callable(as_of.date) else as_of)
    for table in ("alert_triage", "followups", "followup_results"):
        column = "requested_at" if table == "followups" else "recorded_at"
        latest = con.execute(f"SELECT max({column}) FROM {table}").fetchone()[0]
        if latest is not None:
            days.append(latest.date())
    return max(days)


def _plain(value: object) -> object:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    item = getattr(value, "item", None)
    return _plain(item()) if callable(item) and not isinstance(value, str) else value


def weekly_data(con: duckdb.DuckDBPyConnection, week: str) -> dict:
    """Everything the weekly report shows, language-neutral (codes, numbers), JSON-ready."""
    monday = iso_week_monday(week)
    sunday = monday + timedelta(days=6)
    as_of = data_as_of(con)  # production hospitals only, like every figure below
    totals = week_totals(con, week)
    alerts = con.execute(
        "SELECT alert_id, status FROM alerts WHERE week = ? ORDER BY rank NULLS LAST, alert_id",
        [week],
    ).fetchall()
    status_day = _status_day(con, as_of, sunday)
    decisions, followups = _triage(con, status_day) if alerts else (pd.DataFrame(), pd.DataFrame())
    cases_all = load_cases(con) if alerts else pd.DataFrame()
    ordinal = cases_all["visit_week"].map(week_ordinal) if alerts else None
    items, resolved = [], []
    for alert_id, status in alerts:
        alert = load_alert(con, alert_id, week)
        if status == "resolved":
            resolved.append(
                {
                    k: _plain(alert.get(k))
                    for k in (
                        "alert_id",
                        "alert_type",
                        "subject",
                        "category",
                        "pattern_id",
                        "region",
                        "term",
                        "method",
                    )
                }
            )
            continue
        cases = alert_cases(con, alert)
        trend = alert_trend(con, alert, TREND_WEEKS, cases=cases_all)
        category = alert.get("category")
        background = pd.DataFrame(columns=["narrative"])
        if category and ordinal is not None:
            now = week_ordinal(week)
            window = (ordinal <= now - 4) & (ordinal > now - 4 - TERM_BACKGROUND_WEEKS)
            background = cases_all[window & (cases_all["category"] == category)].tail(3000)
        decision = None
        if not decisions.empty:
            match = decisions[decisions["alert_id"] == alert_id]
            if not match.empty:
                decision = {k: _plain(v) for k, v in match.iloc[0].items()}
        follow = []
        if not followups.empty:
            for row in followups[followups["alert_id"] == alert_id].to_dict("records"):
                follow.append(
                    {
                        k: _plain(v)
                        for k, v in row.items()
                        if k
                        in (
                            "followup_id",
                            "hospital_code",
                            "case_id",
                            "due_date",
                            "status",
                            "reached",
                            "brand_verified",
                            "model_verified",
                            "batch_verified",
                            "product_role",
                            "conclusion",
                            "recorded_by",
                            "recorded_at",
                        )
                    }
                )
        try:
            params = json.loads(alert.get("params") or "{}")
        except ValueError:
            params = {}
        items.append(
            {
                **{
                    k: _plain(alert.get(k))
                    for k in (
                        "rank",
                        "alert_id",
                        "week",
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
                        "n_severe",
                        "n_admitted",
                        "n_died",
                        "priority",
                    )
                },
                "params": params,
                "n_cases": len(cases),
                "hospitals": _counts(cases["hospital_code"]),
                "regions": _counts(
                    cases["residence_region"].map(
                        lambda r: f"{r[:4]}00" if isinstance(r, str) and len(r) == 6 else None
                    )
                ),
                "severity": _counts(cases["severity"], CODE_ORDER["severity"]),
                "outcome": _counts(cases["outcome"], CODE_ORDER["outcome"]),
                "age_groups": _counts(_age_groups(cases), CODE_ORDER["age_group"]),
                "product_relation": _counts(cases["product_relation"]),
                "top_terms": top_terms(cases, background),
                "examples": _examples(cases),
                "risk": suggested_risk_level(cases, alert),
                "evidence_command": f"sentinel evidence-pack --alert {alert_id} --week {week}",
                "trend": [{k: _plain(v) for k, v in r.items()} for r in trend.to_dict("records")],
                "triage": decision,
                "followups": follow,
            }
        )
    return {
        "report": "weekly-hazard-report",
        "week": week,
        "from": monday.isoformat(),
        "to": sunday.isoformat(),
        "data_as_of": _plain(as_of),
        "status_as_of": status_day.isoformat(),
        "cases_in_week": totals["cases"],
        "hospitals_in_week": totals["hospitals"],
        "alerts": items,
        "resolved": resolved,
        "network_health": network_health(con, week),
    }


# ---- rendering ------------------------------------------------------------------------------


def _environment():  # type: ignore[no-untyped-def]
    env = Environment(
        loader=PackageLoader("pipeline.reporting", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = _fmt_number
    env.filters["pct"] = lambda v: "—" if v is None else f"{100 * float(v):.0f}%"
    env.filters["p"] = _fmt_p
    return env


def _fmt_number(value: object, digits: int = 1) -> str:
    number = _num(value)
    if number is None:
        return "—"
    return f"{number:.0f}" if float(number).is_integer() else f"{number:.{digits}f}"


def _fmt_p(value: object) -> str:
    number = _num(value)
    if number is None:
        return "—"
    return "<0.0001" if number < 1e-4 else f"{number:.4f}"


def _display(data: dict, labels: Labels, lang: str) -> dict:
    """Names and charts for one language, added to a copy of the data."""
    ui = UI[lang]
    out = dict(data)
    out["alerts"] = []
    for alert in data["alerts"]:
        item = dict(alert)
        item["subject_label"] = labels.subject(alert, lang)
        item["type_label"] = ui.get(f"type_{alert['alert_type']}", alert["alert_type"])
        item["status_label"] = ui.get(f"status_{alert['status']}", alert["status"])
        item["risk_label"] = ui.get(f"level_{alert['risk']['level']}", alert["risk"]["level"])
        item["risk_rationale"] = alert["risk"][f"rationale_{lang}"]
        item["pattern_label"] = (
            labels.pattern_name(alert.get("pattern_id"), lang) if alert.get("pattern_id") else None
        )
        trend = pd.DataFrame(
            alert["trend"], columns=["week", "observed", "expected", "upper", "alarm"]
        )
        title = item["subject_label"]
        title = title if len(title) <= 64 else title[:63] + "…"  # the heading has it in full
        item["chart"] = trend_chart_svg(trend, title, lang)
        item["hospital_rows"] = [
            {"label": f"{h['code']} {labels.hospital_name(h['code'], lang)}", "n": h["n"]}
            for h in alert["hospitals"]
        ]
        item["region_rows"] = [
            {"label": labels.region_name(r["code"], lang), "n": r["n"]} for r in alert["regions"]
        ]
        item["severity_rows"] = [
            {"label": labels.code("severity", r["code"], lang), "n": r["n"]}
            for r in alert["severity"]
        ]
        item["outcome_rows"] = [
            {"label": labels.code("outcome", r["code"], lang), "n": r["n"]}
            for r in alert["outcome"]
        ]
        item["age_rows"] = [
            {"label": AGE_GROUPS[lang].get(r["code"], r["code"]), "n": r["n"]}
            for r in alert["age_groups"]
        ]
        expected = _fmt_number(alert.get("expected"), 2)
        threshold = _fmt_number(alert.get("threshold"), 2)
        template = (
            "fired_series"
            if alert.get("expected") not in (None, 0.0)
            or alert["alert_type"] in ("category", "pattern", "category_region")
            else "fired_other"
        )
        item["why"] = ui[template].format(
            observed=float(alert.get("observed") or 0),
            expected=expected,
            threshold=threshold,
            method=alert.get("method") or "",
        )
        item["examples"] = [
            dict(
                e,
                sex_label=labels.code("sex", e["sex"], lang),
                unit_label=labels.code("age_unit", e["age_unit"], lang),
                severity_label=labels.code("severity", e["severity"], lang),
                outcome_label=labels.code("outcome", e["outcome"], lang),
            )
            for e in alert["examples"]
        ]
        item["params_json"] = json.dumps(alert["params"], sort_keys=True, ensure_ascii=False)
        out["alerts"].append(item)
    out["resolved"] = [
        dict(
            r,
            subject_label=labels.subject(r, lang),
            type_label=ui.get(f"type_{r['alert_type']}", r["alert_type"]),
        )
        for r in data["resolved"]
    ]
    health = dict(data["network_health"])
    health["hospitals"] = [
        dict(h, label=f"{h['hospital_code']} {labels.hospital_name(h['hospital_code'], lang)}")
        for h in health["hospitals"]
    ]
    health["silent"] = [
        dict(h, label=f"{h['hospital_code']} {labels.hospital_name(h['hospital_code'], lang)}")
        for h in health["silent"]
    ]
    health["note"] = ui["health_note"].format(**health["window"])
    health["network_label"] = ui["network_row"].format(n=health["network"]["hospitals_reporting"])
    health["never_reported_labels"] = [
        f"{code} {labels.hospital_name(code, lang)}" for code in health["never_reported"]
    ]
    health["test_labels"] = [
        f"{code} {labels.hospital_name(code, lang)}" for code in health["test_hospitals"]
    ]
    out["network_health"] = health
    return out


def render_weekly_html(data: dict, labels: Labels, lang: str) -> str:
    if lang not in LANGS:
        raise ReportError(f"language {lang!r} is not one of {', '.join(LANGS)}")
    view = _display(data, labels, lang)
    for alert in view["alerts"]:
        # matplotlib escapes every text it writes into the SVG; nothing else is marked safe.
        alert["chart"] = Markup(alert["chart"])
    template = _environment().get_template("weekly.html.j2")
    return template.render(d=view, t=UI[lang], lang=lang)


def weekly_json(data: dict) -> str:
    """Stable JSON; <, > and & escaped so the file stays inert if pasted into a page."""
    text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") + "\n"


def check_request(week: str | None, langs: tuple[str, ...]) -> None:
    if week is not None and not is_iso_week(week):
        raise ReportError(f"{week!r} is not an ISO week like 2026-W14")
    for lang in langs:
        if lang not in LANGS:
            raise ReportError(f"language {lang!r} is not one of {', '.join(LANGS)}")


def write_weekly_report(
    con: duckdb.DuckDBPyConnection,
    reports_dir: Path,
    week: str | None = None,
    langs: tuple[str, ...] = ("zh", "en"),
) -> dict[str, Path]:
    """Write ``<reports_dir>/<week>/weekly-report-<week>-<lang>.html`` per language and
    ``weekly-report-<week>.json``; returns {'zh': path, 'en': path, 'json': path}."""
    check_request(week, langs)
    week = week or report_week(con)
    data = weekly_data(con, week)
    labels = Labels(con)
    out_dir = reports_dir / week
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for lang in langs:
        path = out_dir / f"weekly-report-{week}-{lang}.html"
        path.write_text(render_weekly_html(data, labels, lang), encoding="utf-8")
        paths[lang] = path
    json_path = out_dir / f"weekly-report-{week}.json"
    json_path.write_text(weekly_json(data), encoding="utf-8")
    paths["json"] = json_path
    return paths
