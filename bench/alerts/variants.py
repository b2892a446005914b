"""Series signals alone under four settings (weekly detector with/without the rise detector,
BH pooled / per kind): per-hazard delay and untied alerts, from the warehouse's cases.

    python -m bench.alerts.variants --home DIR [--truth ground_truth.json]

Reads cases read-only and writes nothing; used for the BH-scope and rise-detector figures in
docs/detection.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.alerts.run import evaluate  # noqa: E402
from pipeline.alerts.series import as_of, build_panel, first_week, load_cases  # noqa: E402
from pipeline.alerts.weekly import AlertSettings, series_alerts  # noqa: E402
from pipeline.isoweek import week_range  # noqa: E402

VARIANTS = {
    "weekly only, pooled BH": replace(AlertSettings(), rise_method="none", fdr_scope="all"),
    "weekly only, BH per kind": replace(AlertSettings(), rise_method="none", fdr_scope="kind"),
    "weekly+rise, pooled BH": replace(AlertSettings(), fdr_scope="all"),
    "weekly+rise, BH per kind": replace(AlertSettings(), fdr_scope="kind"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", required=True, type=Path)
    parser.add_argument("--truth", type=Path, default=ROOT / "data/sample/ground_truth.json")
    parser.add_argument("--from", dest="week_from", default="2026-W30")
    parser.add_argument("--to", dest="week_to", default="2026-W47")
    args = parser.parse_args(argv)
    import duckdb

    truth = json.loads(args.truth.read_text(encoding="utf-8"))
    con = duckdb.connect(str(args.home / "warehouse.duckdb"), read_only=True)
    try:
        cases = load_cases(con)
    finally:
        con.close()
    weeks = week_range(args.week_from, args.week_to)
    found: dict[str, list[pd.DataFrame]] = {name: [] for name in VARIANTS}
    for week in weeks:
        seen = as_of(cases, week)
        panel = build_panel(seen, first_week(cases), week)
        for name, cfg in VARIANTS.items():
            alerts = series_alerts(panel, seen, cfg)
            if not alerts.empty:
                found[name].append(
                    alerts.assign(
                        week=week,
                        status="new",
                        rank=1,
                        alert_id=alerts["alert_type"] + ":" + alerts["subject"],
                    )
                )
    print("| series signals | delay per hazard (weeks) | untied total | untied max/week |")
    print("|---|---|---|---|")
    for name, parts in found.items():
        alerts = (
            pd.concat(parts, ignore_index=True)
            if parts
            else pd.DataFrame(
                columns=[
                    "week",
                    "status",
                    "rank",
                    "alert_id",
                    "alert_type",
                    "subject",
                    "category",
                    "term",
                    "method",
                    "case_keys",
                ]
            )
        )
        hazards, per_week = evaluate(alerts, truth, weeks)
        delays = ", ".join(
            f"{h['hazard'][:4]} {'never' if pd.isna(h['delay_weeks']) else int(h['delay_weeks'])}"
            for h in hazards.to_dict("records")
        )
        print(
            f"| {name} | {delays} | {int(per_week['untied'].sum())} | "
            f"{int(per_week['untied'].max())} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
