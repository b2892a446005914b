"""The weekly hazard report: one self-contained HTML file per language plus JSON.

The HTML embeds everything (inline CSS incl. print rules, inline SVG charts) and loads nothing:
it works offline, from an e-mail attachment or a USB stick. Every value from the warehouse goes
through Jinja2 autoescaping, so a narrative holding HTML or script shows as text.

Contents: the week's signals in rank order (each signal groups the alerts of one hazard,
docs/detection.md); per signal its evidence window and counts over it, why it was raised (one
sentence per member alert), a trend chart with the alarm threshold of its leading alert,
hospitals and regions, severity / outcome / age mix, top terms, example narratives, a suggested
Safety Gate risk level, the evidence-pack command, and its triage: the decision and the
follow-up investigation, read from the application database; its *provisional* members (cases
waiting for coder review in a pattern the signal's rule links to it: shown apart and flagged,
under the key ``provisional``, never in its counts, breakdowns or chart); quiet and resolved
signals; the network-health section (monitoring-site supervision). The same warehouse and triage content
gives the same bytes (no wall clock: "data as of" is the latest file received).
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

from pipeline.alerts import signal_store
from pipeline.alerts.series import age_group, load_cases
from pipeline.alerts.signals import ACTIVE_STATUSES
from pipeline.alerts.weekly import default_week
from pipeline.detection.new_terms import tokenize
from pipeline.errors import BadInput
from pipeline.isoweek import is_iso_week, iso_week_monday, week_ordinal
from pipeline.privacy import scrub_text
from pipeline.reporting import explain
from pipeline.reporting.charts import trend_chart_svg
from pipeline.reporting.context import signal_cases, signal_provisional, signal_trend
from pipeline.reporting.health import data_as_of, network_health, week_totals
from pipeline.reporting.labels import AGE_GROUPS, LANGS, UI, Labels
from pipeline.reporting.risk import case_severity_level, suggested_risk_level
from pipeline.reporting.signal_labels import SIGNAL_UI
from pipeline.triage.store import TriageState

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
    """Default week: the latest week with stored signals up to the detector's default week
    (the last complete week with cases); without signals, that default week."""
    fallback = default_week(con)
    weeks = signal_store.signal_weeks(con)
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


def _provisional(cases: pd.DataFrame) -> dict:
    """A signal's provisional members (docs/coding.md, section 7): how many, in which patterns,
    and up to MAX_EXAMPLES of them, most recent first. Never part of the signal's counts."""
    frame = cases.sort_values(
        ["visit_date", "hospital_code", "case_id"], ascending=[False, True, True]
    ).head(MAX_EXAMPLES)
    rows = []
    for case in frame.to_dict("records"):
        case = {k: _plain(v) for k, v in case.items()}
        rows.append(
            {
                **{
                    k: case[k]
                    for k in (
                        "hospital_code",
                        "case_id",
                        "visit_date",
                        "sex",
                        "age_unit",
                        "severity",
                        "outcome",
                        "product_name",
                        "suggested_category",
                        "pattern_id",
                        "review_reason",
                    )
                },
                "age": _num(case["age"]),
                "similarity": round(float(case["similarity"]), 3),
                "narrative": case["narrative"] if isinstance(case["narrative"], str) else "",
            }
        )
    return {
        "n_cases": len(cases),
        "patterns": _counts(cases["pattern_id"]),
        "cases": rows,
    }


def _status_day(as_of: object, sunday: date, triage: TriageState) -> date:
    """The day follow-up statuses (open / overdue) are judged on: the latest of the week's
    end, the data's as-of day and the last triage or follow-up record - never the clock."""
    days = [sunday]
    if isinstance(as_of, date):
        days.append(as_of.date() if hasattr(as_of, "date") and callable(as_of.date) else as_of)
    latest = triage.latest_record()
    if latest is not None:
        days.append(latest.date() if hasattr(latest, "date") else latest)
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


FOLLOWUP_FIELDS = (
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
MEMBER_FIELDS = (
    "alert_id",
    "week",
    "alert_type",
    "subject",
    "category",
    "pattern_id",
    "region",
    "term",
    "method",
    "status",
    "rank",
)


def _member(alert: dict) -> dict:
    """One member alert as data: its identity, its numbers (counts as integers) and the
    number of its cases."""
    return {
        **{k: _plain(alert.get(k)) for k in MEMBER_FIELDS},
        "observed": explain.count(alert.get("observed")),
        "expected": explain.number(alert.get("expected")),
        "threshold": explain.number(alert.get("threshold")),
        "pvalue": explain.number(alert.get("pvalue")),
        "qvalue": explain.number(alert.get("qvalue")),
        "n_hospitals": explain.count(alert.get("n_hospitals")),
        "n_cases": len(json.loads(alert.get("case_keys") or "[]")),
        "alarm_from": explain.alarm_from(alert)
        if alert.get("method") in explain.SERIES_METHODS + explain.RISE_METHODS
        else None,
    }


def _signal_item(
    con: duckdb.DuckDBPyConnection,
    signal: dict,
    triage: TriageState,
    status_day: date,
    cases_all: pd.DataFrame,
) -> dict:
    week = signal["week"]
    members = signal_store.members(con, signal["signal_id"])
    if not members.empty:
        members = members[members["week"].map(week_ordinal) <= week_ordinal(week)]
        members = members.reset_index(drop=True)
    this_week = members[members["week"] == week] if not members.empty else members
    lead = signal_store.lead_alert(members)
    cases = signal_cases(con, signal)
    provisional = signal_provisional(con, signal)
    trend = signal_trend(con, signal, lead, cases, TREND_WEEKS)
    background = pd.DataFrame(columns=["narrative"])
    category = signal.get("category")
    if category and not cases_all.empty:
        ordinal = cases_all["visit_week"].map(week_ordinal)
        onset = week_ordinal(signal["onset_week"])
        window = (ordinal < onset) & (ordinal >= onset - TERM_BACKGROUND_WEEKS)
        background = cases_all[window & (cases_all["category"] == category)].tail(3000)
    decision = triage.decision(signal["signal_id"])
    follow = triage.followups_of(signal["signal_id"])
    params = {}
    if lead is not None:
        try:
            params = json.loads(lead.get("params") or "{}")
        except ValueError:
            params = {}
    return {
        **{
            k: _plain(signal.get(k))
            for k in (
                "signal_id",
                "week",
                "rank",
                "status",
                "anchor",
                "category",
                "onset_week",
                "first_week",
                "last_alert_week",
                "quiet_weeks",
                "n_alerts",
                "n_cases",
                "n_hospitals",
                "n_severe",
                "n_admitted",
                "n_died",
                "priority",
                "evidence_rule",
            )
        },
        "detectors": list(signal.get("detectors") or []),
        "members": [_member(m) for m in this_week.to_dict("records")],
        "earlier_members": sorted(
            {a for a in members["alert_id"]} - {a for a in this_week["alert_id"]}
        )
        if not members.empty
        else [],
        "lead": _member(lead) if lead else None,
        "lead_series": bool(lead)
        and lead.get("alert_type") in ("category", "pattern", "category_region"),
        "settings": params,
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
        "provisional": _provisional(provisional),
        "risk": suggested_risk_level(cases, lead or {}),
        "evidence_command": f"sentinel evidence-pack --signal {signal['signal_id']} --week {week}",
        "trend": [{k: _plain(v) for k, v in r.items()} for r in trend.to_dict("records")],
        "triage": {k: _plain(v) for k, v in decision.items()} if decision else None,
        "investigation": triage.investigation(signal["signal_id"]),
        "followups": [
            {k: _plain(v) for k, v in row.items() if k in FOLLOWUP_FIELDS}
            for row in follow.to_dict("records")
        ],
    }


def weekly_data(
    con: duckdb.DuckDBPyConnection, week: str, triage: TriageState | None = None
) -> dict:
    """Everything the weekly report shows, language-neutral (codes, numbers), JSON-ready.
    ``triage``: the decisions and follow-ups (application database; none: nothing triaged)."""
    triage = triage or TriageState()
    monday = iso_week_monday(week)
    sunday = monday + timedelta(days=6)
    as_of = data_as_of(con)  # production hospitals only, like every figure below
    totals = week_totals(con, week)
    signals = signal_store.week_signals(con, week)
    status_day = _status_day(as_of, sunday, triage)
    if not signals.empty:
        triage = _with_status(triage, status_day)
    cases_all = load_cases(con) if not signals.empty else pd.DataFrame()
    items, quiet, resolved = [], [], []
    for row in signals.to_dict("records"):
        signal = signal_store._record(row)
        if signal["status"] in ACTIVE_STATUSES:
            items.append(_signal_item(con, signal, triage, status_day, cases_all))
            continue
        decision = triage.decision(signal["signal_id"])
        summary = {
            **{
                k: _plain(signal.get(k))
                for k in (
                    "signal_id",
                    "status",
                    "category",
                    "onset_week",
                    "last_alert_week",
                    "quiet_weeks",
                    "n_cases",
                    "n_died",
                )
            },
            "members": [_member(m) for m in _members_until(con, signal["signal_id"], week)],
            "decision": decision["decision"] if decision else None,
        }
        if signal["status"] == "quiet":  # still open: its provisional members, counted apart
            summary["provisional"] = {"n_cases": len(signal_provisional(con, signal))}
        (quiet if signal["status"] == "quiet" else resolved).append(summary)
    return {
        "report": "weekly-hazard-report",
        "week": week,
        "from": monday.isoformat(),
        "to": sunday.isoformat(),
        "data_as_of": _plain(as_of),
        "status_as_of": status_day.isoformat(),
        "cases_in_week": totals["cases"],
        "hospitals_in_week": totals["hospitals"],
        "signals": items,
        "quiet": quiet,
        "resolved": resolved,
        "network_health": network_health(con, week),
    }


def _members_until(con: duckdb.DuckDBPyConnection, signal_id: str, week: str) -> list[dict]:
    """A signal's three newest member alerts up to ``week`` (a report regenerated for a past
    week never shows later alerts)."""
    members = signal_store.members(con, signal_id)
    if members.empty:
        return []
    members = members[members["week"].map(week_ordinal) <= week_ordinal(week)]
    return members.head(3).to_dict("records")


def _with_status(triage: TriageState, day: date) -> TriageState:
    """The follow-up statuses (open / overdue) judged on ``day``."""
    follow = triage.followups.copy()
    if not follow.empty:
        follow["status"] = [
            "completed" if isinstance(r, str) else "overdue" if day > d else "open"
            for r, d in zip(follow["result_id"], follow["due_date"], strict=True)
        ]
    return TriageState(triage.decisions, triage.history, follow, triage.audit_heads, day)


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
    """Names, sentences and charts for one language, added to a copy of the data."""
    ui, su = UI[lang], SIGNAL_UI[lang]
    out = dict(data)
    out["signals"] = []
    for signal in data["signals"]:
        item = dict(signal)
        members = signal["members"]
        item["title"] = explain.signal_title(signal, members, labels, lang)
        item["status_label"] = su.get(f"status_{signal['status']}", signal["status"])
        item["risk_label"] = ui.get(f"level_{signal['risk']['level']}", signal["risk"]["level"])
        item["risk_rationale"] = signal["risk"][f"rationale_{lang}"]
        item["window_text"] = explain.window_sentence(signal, lang)
        item["member_rows"] = [
            {
                "alert_id": m["alert_id"],
                "type_label": ui.get(f"type_{m['alert_type']}", m["alert_type"]),
                "subject_label": explain.subject_label(m, labels, lang),
                "why": explain.alert_sentence(
                    {**m, "params": json.dumps(signal["settings"])}, lang, labels
                ),
            }
            for m in members
        ]
        item["types_label"] = " · ".join(
            dict.fromkeys(ui.get(f"type_{m['alert_type']}", m["alert_type"]) for m in members)
        )
        item["settings_text"] = explain.settings_sentence(signal["settings"], lang)
        lead = signal.get("lead")
        trend = pd.DataFrame(
            signal["trend"], columns=["week", "observed", "expected", "upper", "alarm"]
        )
        if lead:
            subject = explain.subject_label(lead, labels, lang)
            method = explain.METHOD_NAMES[lang].get(lead["method"], lead["method"])
            item["trend_caption"] = (
                su["trend_caption"].format(subject=subject, method=method)
                if signal.get("lead_series")
                else su["trend_caption_plain"].format(subject=subject)
            )
        else:
            subject = item["title"]
            item["trend_caption"] = su["trend_caption_plain"].format(subject=subject)
        title = subject if len(subject) <= 64 else subject[:63] + "…"
        item["chart"] = trend_chart_svg(trend, title, lang)
        decision = signal.get("triage")
        item["decision_label"] = explain.DECISION_NAMES[lang][
            decision["decision"] if decision else None
        ]
        item["decision_text"] = (
            su["decision_by"].format(
                decision=item["decision_label"],
                actor=decision["actor"],
                day=str(decision["recorded_at"])[:10],
            )
            if decision
            else su["not_triaged"]
        )
        inv = signal["investigation"]
        item["investigation_label"] = explain.INVESTIGATION_NAMES[lang][inv["state"]]
        item["investigation_text"] = (
            su["followups_state"].format(
                state=item["investigation_label"],
                completed=inv["completed"],
                ordered=inv["ordered"],
            )
            if inv["ordered"]
            else su["no_followups"]
        )
        item["hospital_rows"] = [
            {"label": f"{h['code']} {labels.hospital_name(h['code'], lang)}", "n": h["n"]}
            for h in signal["hospitals"]
        ]
        item["region_rows"] = [
            {"label": labels.region_name(r["code"], lang), "n": r["n"]} for r in signal["regions"]
        ]
        item["severity_rows"] = [
            {"label": labels.code("severity", r["code"], lang), "n": r["n"]}
            for r in signal["severity"]
        ]
        item["outcome_rows"] = [
            {"label": labels.code("outcome", r["code"], lang), "n": r["n"]}
            for r in signal["outcome"]
        ]
        item["age_rows"] = [
            {"label": AGE_GROUPS[lang].get(r["code"], r["code"]), "n": r["n"]}
            for r in signal["age_groups"]
        ]
        item["examples"] = [
            dict(
                e,
                age_label=explain.age_text(e["age"], e["age_unit"], lang),
                sex_label=labels.code("sex", e["sex"], lang),
                severity_label=labels.code("severity", e["severity"], lang),
                outcome_label=labels.code("outcome", e["outcome"], lang),
            )
            for e in signal["examples"]
        ]
        prov = signal["provisional"]
        item["provisional_rows"] = [
            dict(
                e,
                age_label=explain.age_text(e["age"], e["age_unit"], lang),
                sex_label=labels.code("sex", e["sex"], lang),
                severity_label=labels.code("severity", e["severity"], lang),
                outcome_label=labels.code("outcome", e["outcome"], lang),
                suggestion_label=labels.category_name(e["suggested_category"], lang),
                pattern_label=labels.pattern_name(e["pattern_id"], lang),
                reason_label=ui.get(f"reason_{e['review_reason']}", e["review_reason"]),
            )
            for e in prov["cases"]
        ]
        item["provisional_text"] = ui["provisional_count"].format(
            n=prov["n_cases"], shown=len(prov["cases"])
        )
        item["followup_rows"] = [
            dict(
                f,
                role_label=explain.role_text(f.get("product_role"), lang),
            )
            for f in signal["followups"]
        ]
        out["signals"].append(item)
    for key in ("quiet", "resolved"):
        out[key] = [
            dict(
                r,
                title=explain.signal_title(r, r["members"], labels, lang),
                status_label=su.get(f"status_{r['status']}", r["status"]),
                decision_label=explain.DECISION_NAMES[lang][r.get("decision")],
            )
            for r in data[key]
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
    for signal in view["signals"]:
        # matplotlib escapes every text it writes into the SVG; nothing else is marked safe.
        signal["chart"] = Markup(signal["chart"])
    template = _environment().get_template("weekly.html.j2")
    return template.render(d=view, t=UI[lang], s=SIGNAL_UI[lang], lang=lang)


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
    triage: TriageState | None = None,
) -> dict[str, Path]:
    """Write ``<reports_dir>/<week>/weekly-report-<week>-<lang>.html`` per language and
    ``weekly-report-<week>.json``; returns {'zh': path, 'en': path, 'json': path}."""
    check_request(week, langs)
    week = week or report_week(con)
    data = weekly_data(con, week, triage)
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
