"""How early are injected hazards raised, as how many signals, and how many alerts and signals
are not tied to any hazard?

    python -m bench.alerts --home DIR [--truth DIR/ground_truth.json] [--out FILE.md]
                           [--from 2026-W30] [--to 2026-W47] [--label NAME]

**Signals** (what analysts triage): per hazard, how many distinct signals were tied to it from
its onset on (the goal: exactly one) and the delay from the onset to the first week an active
signal was tied to it; per week, the active signals (new / ongoing / reopened) and how many are
tied to no hazard. A signal-week is tied to a hazard when one of its member alerts that week is
(the alert rule below) or when its evidence (``signal_weeks.case_keys``) shares a case with the
hazard.

**Alerts** (what the detectors raise), as before:

Reads the ``alerts`` table of DIR's published snapshot (the session helper's ``reader``) and the
generator's ground
truth. An alert is *tied* to a hazard when

* its case keys overlap the hazard's cases (``hazards[].cases``), or
* from the hazard's onset week on, its subject matches the hazard: a category, pattern,
  category x region or disproportionality alert of the hazard's category, or a new term that
  is one of the hazard's terms (or contains / is contained in one).

Category matches before the onset are not credited (an alert before the hazard exists cannot
be about it). Per hazard the table gives the first tied alert at or after the onset and its
delay in weeks; per week the number of active (new/ongoing) alerts and how many are tied to no
hazard. Target of issue 5: every hazard within 2 weeks, at most 3 untied alerts a week.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # allow `python bench/alerts/run.py`
    sys.path.insert(0, str(ROOT))

from pipeline.isoweek import week_ordinal, week_range  # noqa: E402

MAX_DELAY = 2
MAX_UNTIED = 3


def _hazard_terms(hazard: dict) -> set[str]:
    pattern = hazard.get("pattern") or {}
    terms = set(hazard.get("new_terms") or [])
    if pattern.get("new_term"):
        terms |= set(pattern.get("terms_zh") or []) | set(pattern.get("terms_en") or [])
    return {t.lower() for t in terms if t}


def _ties(alert: dict, hazard: dict, keys: set[str]) -> bool:
    cases = set(json.loads(alert["case_keys"] or "[]"))
    if cases & keys:
        return True
    if week_ordinal(alert["week"]) < week_ordinal(hazard["onset_week"]):
        return False
    if alert["alert_type"] == "new_term":
        term = str(alert["term"] or alert["subject"]).lower()
        return any(term in t or t in term for t in _hazard_terms(hazard))
    return alert["category"] == hazard["category_code"]


def evaluate(
    alerts: pd.DataFrame, truth: dict, weeks: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per-hazard first alert and delay, per-week alert counts)."""
    active = alerts[(alerts["status"] != "resolved") & alerts["week"].isin(weeks)]
    records = active.to_dict("records")
    hazard_rows, tied_any = [], [False] * len(records)
    for hazard in truth["hazards"]:
        keys = {f"{h}/{c}" for h, c in hazard["cases"]}
        onset = week_ordinal(hazard["onset_week"])
        hits = []
        for i, alert in enumerate(records):
            if _ties(alert, hazard, keys):
                tied_any[i] = True
                if week_ordinal(alert["week"]) >= onset:
                    hits.append(alert)
        hits.sort(key=lambda a: (week_ordinal(a["week"]), a["rank"] or 0))
        first = hits[0] if hits else None
        delay = week_ordinal(first["week"]) - onset if first else None
        hazard_rows.append(
            {
                "hazard": hazard["id"],
                "category": hazard["category_code"],
                "shape": hazard.get("shape"),
                "onset": hazard["onset_week"],
                "first_alert": first["week"] if first else None,
                "delay_weeks": delay,
                "alert": (
                    f"{first['alert_type']} {first['subject']} ({first['method']})"
                    if first
                    else None
                ),
                "on_time": delay is not None and delay <= MAX_DELAY,
            }
        )
    active = active.assign(tied=tied_any)
    per_week = (
        active.groupby("week")
        .agg(alerts=("alert_id", "size"), untied=("tied", lambda t: int((~t).sum())))
        .reindex(weeks, fill_value=0)
        .reset_index()
    )
    untied = active[~active["tied"]]
    per_week["untied_subjects"] = [
        ", ".join(f"{a}:{s}" for a, s in zip(g["alert_type"], g["subject"], strict=True))
        for g in (untied[untied["week"] == w] for w in weeks)
    ]
    return pd.DataFrame(hazard_rows), per_week


def evaluate_signals(
    signals: pd.DataFrame,
    members: pd.DataFrame,
    alerts: pd.DataFrame,
    truth: dict,
    weeks: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per hazard: signals tied from its onset, first tied week, delay; per week: active
    signals and untied ones)."""
    active = signals[signals["status"].isin(("new", "ongoing", "reopened"))]
    active = active[active["week"].isin(weeks)]
    by_alert = alerts.set_index(["week", "alert_id"]).to_dict("index")
    member_rows: dict[tuple[str, str], list[dict]] = {}
    for m in members.to_dict("records"):
        row = by_alert.get((m["week"], m["alert_id"]))
        if row is not None:
            member_rows.setdefault((m["week"], m["signal_id"]), []).append(
                {**row, "week": m["week"], "alert_id": m["alert_id"]}
            )
    records = active.to_dict("records")
    tied_any = [False] * len(records)
    rows = []
    for hazard in truth["hazards"]:
        keys = {f"{h}/{c}" for h, c in hazard["cases"]}
        onset = week_ordinal(hazard["onset_week"])
        tied_ids: list[str] = []
        first = None
        for i, signal in enumerate(records):
            own = member_rows.get((signal["week"], signal["signal_id"]), [])
            shared = set(json.loads(signal["case_keys"] or "[]")) & keys
            if not (shared or any(_ties(a, hazard, keys) for a in own)):
                continue
            tied_any[i] = True
            if week_ordinal(signal["week"]) < onset:
                continue
            if signal["signal_id"] not in tied_ids:
                tied_ids.append(signal["signal_id"])
            if first is None or week_ordinal(signal["week"]) < week_ordinal(first["week"]):
                first = signal
        delay = week_ordinal(first["week"]) - onset if first else None
        rows.append(
            {
                "hazard": hazard["id"],
                "category": hazard["category_code"],
                "onset": hazard["onset_week"],
                "signals": len(tied_ids),
                "signal_ids": ", ".join(tied_ids),
                "first_signal": first["week"] if first else None,
                "delay_weeks": delay,
                "on_time": delay is not None and delay <= MAX_DELAY,
            }
        )
    active = active.assign(tied=tied_any)
    per_week = (
        active.groupby("week")
        .agg(signals=("signal_id", "size"), untied=("tied", lambda t: int((~t).sum())))
        .reindex(weeks, fill_value=0)
        .reset_index()
    )
    untied = active[~active["tied"]]
    per_week["untied_signals"] = [
        ", ".join(f"{s}:{a}" for s, a in zip(g["signal_id"], g["anchor"], strict=True))
        for g in (untied[untied["week"] == w] for w in weeks)
    ]
    return pd.DataFrame(rows), per_week


def signal_markdown(hazards: pd.DataFrame, per_week: pd.DataFrame, label: str) -> str:
    lines = [
        f"## Signals vs ground truth: {label}",
        "",
        "| hazard | category | onset | signals | first signal | delay (weeks) | signal ids |",
        "|---|---|---|---|---|---|---|",
    ]
    for h in hazards.to_dict("records"):
        delay = "never" if pd.isna(h["delay_weeks"]) else str(int(h["delay_weeks"]))
        first = h["first_signal"] if isinstance(h["first_signal"], str) else "-"
        lines.append(
            f"| {h['hazard']} | {h['category']} | {h['onset']} | {h['signals']} | {first} | "
            f"{delay} | {h['signal_ids']} |"
        )
    exactly_one = int((hazards["signals"] == 1).sum())
    untied = per_week["untied"]
    lines += [
        "",
        f"Exactly one signal: {exactly_one}/{len(hazards)} hazards. On time (<= {MAX_DELAY} "
        f"weeks): {int(hazards['on_time'].sum())}/{len(hazards)}. Active signals per week: "
        f"mean {per_week['signals'].mean():.2f}, max {int(per_week['signals'].max())}. Untied "
        f"signals per week: mean {untied.mean():.2f}, max {int(untied.max())}; total "
        f"{int(untied.sum())}.",
        "",
        "| week | active signals | not tied to a hazard | untied signals |",
        "|---|---|---|---|",
    ]
    for r in per_week.to_dict("records"):
        lines.append(
            f"| {r['week']} | {r['signals']} | {r['untied']} | {r['untied_signals'] or ''} |"
        )
    return "\n".join(lines) + "\n"


def markdown(hazards: pd.DataFrame, per_week: pd.DataFrame, label: str) -> str:
    lines = [
        f"## Alerts vs ground truth: {label}",
        "",
        "| hazard | category | shape | onset | first alert | delay (weeks) | alert |",
        "|---|---|---|---|---|---|---|",
    ]
    for h in hazards.to_dict("records"):
        delay = "never" if pd.isna(h["delay_weeks"]) else str(int(h["delay_weeks"]))
        first = h["first_alert"] if isinstance(h["first_alert"], str) else "-"
        alert = h["alert"] if isinstance(h["alert"], str) else "-"
        lines.append(
            f"| {h['hazard']} | {h['category']} | {h['shape']} | {h['onset']} | "
            f"{first} | {delay} | {alert} |"
        )
    on_time = int(hazards["on_time"].sum())
    untied = per_week["untied"]
    lines += [
        "",
        f"On time (<= {MAX_DELAY} weeks): {on_time}/{len(hazards)} hazards. "
        f"Untied alerts per week: mean {untied.mean():.2f}, max {int(untied.max())}, "
        f"weeks over {MAX_UNTIED}: {int((untied > MAX_UNTIED).sum())}/{len(per_week)}; "
        f"total {int(untied.sum())}.",
        "",
        "| week | active alerts | not tied to a hazard | untied subjects |",
        "|---|---|---|---|",
    ]
    for r in per_week.to_dict("records"):
        lines.append(
            f"| {r['week']} | {r['alerts']} | {r['untied']} | {r['untied_subjects'] or ''} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--home",
        required=True,
        type=Path,
        help="SENTINEL_HOME holding warehouse.duckdb with an alerts table",
    )
    parser.add_argument(
        "--truth",
        type=Path,
        default=None,
        help="ground_truth.json (default: data/sample/ground_truth.json)",
    )
    parser.add_argument("--from", dest="week_from", default="2026-W30")
    parser.add_argument("--to", dest="week_to", default="2026-W47")
    parser.add_argument("--label", default=None, help="heading of the markdown table")
    parser.add_argument("--out", type=Path, default=None, help="also write the markdown here")
    args = parser.parse_args(argv)

    from pipeline.config import Settings
    from pipeline.errors import SentinelError
    from pipeline.storage.session import reader

    truth_path = args.truth or ROOT / "data" / "sample" / "ground_truth.json"
    if not truth_path.exists():
        print(f"error: {truth_path} does not exist", file=sys.stderr)
        return 2
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    settings = Settings.from_env().with_overrides(home=args.home.resolve())
    try:
        with reader(settings) as con:  # the published snapshot, like every reader
            alerts = con.execute("SELECT * FROM alerts").df()
            signals = con.execute("SELECT * FROM signal_weeks").df()
            members = con.execute("SELECT * FROM signal_alerts").df()
    except SentinelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    weeks = week_range(args.week_from, args.week_to)
    label = args.label or str(args.home)
    signal_hazards, signal_weeks = evaluate_signals(signals, members, alerts, truth, weeks)
    hazards, per_week = evaluate(alerts, truth, weeks)
    text = (
        signal_markdown(signal_hazards, signal_weeks, label)
        + "\n"
        + markdown(hazards, per_week, label)
    )
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    return 0
