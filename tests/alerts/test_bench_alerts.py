"""The alert evaluation (bench.alerts): tie rules, delays and untied counts."""

import json
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # bench/ is not a package dep
from bench.alerts.run import evaluate, markdown  # noqa: E402

TRUTH = {
    "hazards": [
        {
            "id": "HZ01",
            "category_code": "HA01",
            "onset_week": "2026-W37",
            "shape": "step",
            "cases": [["GZ001", "c1"], ["SH001", "c2"]],
            "pattern": {"new_term": False},
        },
        {
            "id": "HZ05",
            "category_code": "FD01",
            "onset_week": "2026-W41",
            "shape": "step",
            "cases": [["BJ001", "c9"]],
            "new_terms": ["自热火锅"],
            "pattern": {"new_term": True, "terms_zh": ["自热火锅"]},
        },
    ]
}


def _alert(
    week: str,
    alert_type: str,
    subject: str,
    category: str | None,
    keys: list[str],
    term: str | None = None,
) -> dict:
    return {
        "week": week,
        "alert_id": f"{alert_type}|{subject}",
        "alert_type": alert_type,
        "subject": subject,
        "category": category,
        "term": term,
        "method": "m",
        "status": "new",
        "rank": 1,
        "case_keys": json.dumps(keys),
    }


def test_delays_ties_and_untied_counts() -> None:
    alerts = pd.DataFrame(
        [
            _alert("2026-W36", "category", "HA01", "HA01", []),  # before onset, no shared case
            _alert("2026-W38", "pattern", "HA01-P005", "HA01", ["GZ001/c1"]),  # tied by case
            _alert("2026-W38", "category", "TX02", "TX02", ["GZ001/x"]),  # untied
            _alert("2026-W42", "new_term", "自热火锅", "FD01", [], term="自热火锅"),  # tied by term
            _alert("2026-W42", "new_term", "区被马", None, ["CD001/y"], term="区被马"),  # untied
        ]
    )
    weeks = [f"2026-W{w}" for w in range(36, 43)]
    hazards, per_week = evaluate(alerts, TRUTH, weeks)
    first = hazards.set_index("hazard")
    assert first.loc["HZ01", "first_alert"] == "2026-W38"
    assert first.loc["HZ01", "delay_weeks"] == 1 and bool(first.loc["HZ01", "on_time"])
    assert first.loc["HZ05", "delay_weeks"] == 1
    untied = per_week.set_index("week")["untied"]
    assert untied["2026-W36"] == 1  # a category alert before the onset is not credited
    assert untied["2026-W38"] == 1 and untied["2026-W42"] == 1 and untied["2026-W40"] == 0
    text = markdown(hazards, per_week, "test")
    assert "| HZ01 | HA01 | step | 2026-W37 | 2026-W38 | 1 |" in text
    assert "On time (<= 2 weeks): 2/2 hazards" in text
