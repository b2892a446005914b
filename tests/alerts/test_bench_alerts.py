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


def test_signals_per_hazard_delay_and_untied_signals() -> None:
    from bench.alerts.run import evaluate_signals, signal_markdown

    def signal(week: str, sid: str, status: str, keys: list[str], anchor: str) -> dict:
        return {
            "week": week,
            "signal_id": sid,
            "status": status,
            "anchor": anchor,
            "case_keys": json.dumps(keys),
        }

    alerts = pd.DataFrame(
        [
            _alert("2026-W38", "pattern", "HA01-P005", "HA01", ["GZ001/c1"]),
            _alert("2026-W39", "category", "HA01", "HA01", []),
            _alert("2026-W42", "new_term", "自热火锅", "FD01", [], term="自热火锅"),
            _alert("2026-W42", "category", "TX02", "TX02", ["GZ001/x"]),
        ]
    )
    signals = pd.DataFrame(
        [
            signal("2026-W38", "S1", "new", ["GZ001/c1"], "HA01"),
            signal("2026-W39", "S1", "ongoing", ["GZ001/c1", "SH001/c2"], "HA01"),
            signal("2026-W40", "S1", "quiet", ["GZ001/c1", "SH001/c2"], "HA01"),  # not active
            signal("2026-W41", "S2", "new", ["SH001/c2"], "HA01"),  # a second signal for HZ01
            signal("2026-W42", "S3", "new", [], "FD01"),  # tied by its term member
            signal("2026-W42", "S4", "new", ["GZ001/x"], "TX02"),  # untied
        ]
    )
    members = pd.DataFrame(
        [
            {"week": "2026-W38", "signal_id": "S1", "alert_id": "pattern|HA01-P005"},
            {"week": "2026-W39", "signal_id": "S1", "alert_id": "category|HA01"},
            {"week": "2026-W42", "signal_id": "S3", "alert_id": "new_term|自热火锅"},
            {"week": "2026-W42", "signal_id": "S4", "alert_id": "category|TX02"},
        ]
    )
    weeks = [f"2026-W{w}" for w in range(36, 43)]
    hazards, per_week = evaluate_signals(signals, members, alerts, TRUTH, weeks)
    by = hazards.set_index("hazard")
    assert by.loc["HZ01", "signals"] == 2 and by.loc["HZ01", "signal_ids"] == "S1, S2"
    assert by.loc["HZ01", "delay_weeks"] == 1 and by.loc["HZ05", "delay_weeks"] == 1
    assert by.loc["HZ05", "signals"] == 1
    week = per_week.set_index("week")
    assert week.loc["2026-W40", "signals"] == 0  # quiet signals are not active
    assert week.loc["2026-W42", "signals"] == 2 and week.loc["2026-W42", "untied"] == 1
    text = signal_markdown(hazards, per_week, "test")
    assert "Exactly one signal: 1/2 hazards" in text
