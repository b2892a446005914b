"""Signals (pipeline.alerts.signals): one hazard's alerts grouped, a stable id, a status with
hysteresis, and the whole evidence window (issue 15 item 1 and the findings on alert storms,
flapping and 4-week evidence)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from pipeline.alerts.signals import (
    SignalSettings,
    group_alerts,
    signal_id,
    signal_week,
)
from pipeline.isoweek import add_weeks, week_range


def _case(i: int, week: str, category: str, **extra) -> dict:
    return {
        "hospital_code": extra.pop("hospital", "GZ001" if i % 2 else "BJ001"),
        "case_id": f"C{i}",
        "visit_week": week,
        "residence_region": extra.pop("region", "440104"),
        "severity": extra.pop("severity", "mild"),
        "outcome": extra.pop("outcome", "treated_released"),
        "injury_nature": "burn",
        "body_region": "upper_limb",
        "age": 30.0,
        "age_unit": "years",
        "narrative": extra.pop("narrative", "scalded at home"),
        "category": category,
        "pattern_id": extra.pop("pattern", None),
        "pattern_week": None,
        "product_name": None,
    }


def _alert(
    week: str,
    alert_type: str,
    subject: str,
    keys: list[str],
    *,
    category: str | None = None,
    pattern: str | None = None,
    region: str | None = None,
    term: str | None = None,
    method: str = "auto-offset",
    rank: int = 1,
    status: str = "new",
) -> dict:
    return {
        "week": week,
        "alert_id": f"A-{alert_type}-{subject}",
        "alert_type": alert_type,
        "subject": subject,
        "category": category,
        "pattern_id": pattern,
        "region": region,
        "term": term,
        "method": method,
        "observed": float(len(keys)),
        "expected": 0.5,
        "threshold": 2.0,
        "score": 2.0,
        "pvalue": 0.001,
        "qvalue": 0.01,
        "status": status,
        "n_hospitals": 2,
        "hospitals": "BJ001,GZ001",
        "n_severe": 0,
        "n_admitted": 0,
        "n_died": 0,
        "priority": 10.0 / rank,
        "rank": rank,
        "case_keys": json.dumps(sorted(keys)),
        "params": json.dumps({"version": "alerts-1", "rise_window": 4}),
    }


def _keys(cases: pd.DataFrame) -> list[str]:
    return sorted(cases["hospital_code"] + "/" + cases["case_id"])


def _run(weeks_alerts: dict[str, list[dict]], cases: pd.DataFrame, cfg=SignalSettings()):  # type: ignore[no-untyped-def]
    """signal_week over consecutive weeks, each seeing the stored rows of the weeks before."""
    stored = pd.DataFrame()
    out = {}
    for week, alerts in weeks_alerts.items():
        seen = cases[cases["visit_week"] <= week]
        rows, members = signal_week(pd.DataFrame(alerts), stored, seen, week, cfg)
        out[week] = (rows, members)
        stored = pd.concat([stored, rows], ignore_index=True)
    return out


def test_one_hazards_alerts_are_one_signal() -> None:
    """Issue 15: one hazard raised a category, a pattern, category x city and a new-pattern
    alert at once (12 open alerts for about 5 hazards in 2026-W44)."""
    week = "2026-W44"
    hazard = pd.DataFrame(
        [
            _case(i, week, "VE04", pattern="VE04-P001", narrative="battery fire while charging")
            for i in range(6)
        ]
    )
    other = pd.DataFrame([_case(100 + i, week, "TX02", region="310106") for i in range(5)])
    cases = pd.concat([hazard, other], ignore_index=True)
    keys = _keys(hazard)
    alerts = [
        _alert(week, "category", "VE04", keys, category="VE04", rank=1),
        _alert(week, "pattern", "VE04-P001", keys[:5], category="VE04", pattern="VE04-P001"),
        _alert(week, "category_region", "VE04@440100", keys, category="VE04", region="440100"),
        _alert(
            week,
            "new_pattern",
            "VE04-P001",
            keys,
            category="VE04",
            pattern="VE04-P001",
            method="new-pattern",
        ),
        # A new term whose cases wait for coder review (no category): joined by its cases.
        _alert(week, "new_term", "charging", keys[:4], term="charging", method="new-term"),
        _alert(week, "category", "TX02", _keys(other), category="TX02", rank=2),
    ]
    rows, members = _run({week: alerts}, cases)[week]
    assert len(rows) == 2 and rows["rank"].tolist() == [1, 2]
    by_signal = members.groupby("signal_id")["alert_id"].apply(set).to_dict()
    ve04 = rows.loc[rows["anchor"] == "VE04", "signal_id"].iloc[0]
    assert by_signal[ve04] == {a["alert_id"] for a in alerts[:5]}
    assert rows.set_index("signal_id").loc[ve04, "n_alerts"] == 5
    assert set(json.loads(rows.set_index("signal_id").loc[ve04, "detectors"])) == {
        "auto-offset",
        "new-pattern",
        "new-term",
    }


def test_grouping_rule_links_by_category_pattern_or_overlapping_cases() -> None:
    a = _alert("2026-W44", "category", "HA01", ["H/1", "H/2"], category="HA01")
    b = _alert("2026-W44", "new_term", "lid", ["H/1", "H/2", "H/3"], term="lid")  # 2 of 2 shared
    c = _alert("2026-W44", "new_term", "steam", ["H/3", "H/4", "H/5"], term="steam")  # 1 of 3
    d = _alert("2026-W44", "category", "TY04", ["T/1"], category="TY04")
    assert group_alerts([a, b, c, d]) == [[0, 1], [2], [3]]
    e = _alert("2026-W44", "pattern", "HA01-P1", ["H/9"], category=None, pattern="HA01-P1")
    f = _alert("2026-W44", "new_pattern", "HA01-P1", ["H/8"], pattern="HA01-P1")
    assert group_alerts([e, f]) == [[0, 1]]


def test_a_signal_does_not_flap_while_its_hazard_goes_on() -> None:
    """Issue 15: the e-bike battery alert went new -> resolved -> new while the hazard
    continued. A signal stays open through quiet weeks, resolves only after 3 quiet weeks, and
    reopens as the same signal."""
    weeks = week_range("2026-W40", "2026-W51")
    cases = pd.DataFrame(
        [_case(10 * i + j, w, "VE04") for i, w in enumerate(weeks) for j in range(3)]
    )

    def fired(w: str) -> list[dict]:
        keys = _keys(cases[cases["visit_week"] == w])
        return [_alert(w, "category", "VE04", keys, category="VE04")]

    pattern = {
        0: True,
        1: False,
        2: True,
        3: False,
        4: False,
        5: False,
        6: True,
        7: False,
        8: True,
        9: False,
        10: False,
        11: False,
    }
    out = _run({w: (fired(w) if pattern[i] else []) for i, w in enumerate(weeks)}, cases)
    states = [
        (rows.iloc[0]["status"], rows.iloc[0]["signal_id"]) if not rows.empty else (None, None)
        for rows, _ in out.values()
    ]
    ids = {s for _, s in states if s}
    assert len(ids) == 1 and ids == {signal_id("VE04", weeks[0])}
    assert [s for s, _ in states] == [
        "new",
        "quiet",
        "ongoing",
        "quiet",
        "quiet",
        "resolved",
        "reopened",
        "quiet",
        "ongoing",
        "quiet",
        "quiet",
        "resolved",
    ]
    # Quiet signals stay unranked but open; a resolved one still counts its cases.
    quiet = out[weeks[1]][0].iloc[0]
    assert pd.isna(quiet["rank"]) and quiet["quiet_weeks"] == 1


def test_a_hazard_after_the_reopen_horizon_is_a_new_signal() -> None:
    weeks = [add_weeks("2026-W01", i) for i in range(8)]
    cases = pd.DataFrame([_case(i, w, "HA01") for i, w in enumerate(weeks)])
    cfg = SignalSettings(quiet_weeks=1, reopen_weeks=2)

    def fired(w: str) -> list[dict]:
        return [
            _alert(w, "category", "HA01", _keys(cases[cases["visit_week"] == w]), category="HA01")
        ]

    plan = [fired(weeks[0]), [], [], [], [], fired(weeks[5]), [], []]
    out = _run(dict(zip(weeks, plan, strict=True)), cases, cfg)
    first = out[weeks[0]][0].iloc[0]["signal_id"]
    assert out[weeks[1]][0].iloc[0]["status"] == "resolved"
    later = out[weeks[5]][0].iloc[0]
    assert later["status"] == "new" and later["signal_id"] != first


def test_a_signal_counts_every_case_since_onset_not_only_its_alerts_windows() -> None:
    """Issue 15: the documents of a pattern alert covered its 4-week window (17 cases, 1
    death) while the pattern had 24 cases since onset and 2 deaths (one in W43, outside the
    window). The signal's evidence is every case of its subject from the onset week."""
    weeks = [add_weeks("2026-W41", i) for i in range(7)]  # W41..W47
    rows = []
    for i, w in enumerate(weeks):
        for j in range(4 if i else 3):
            died = (w == "2026-W43" and j == 0) or (w == "2026-W47" and j == 1)
            rows.append(
                _case(
                    100 * i + j,
                    w,
                    "FD01",
                    pattern="FD01-P001",
                    outcome="died" if died else "treated_released",
                    severity="severe" if died else "mild",
                )
            )
    background = [_case(900 + i, w, "FD01") for i, w in enumerate(weeks)]  # not the pattern
    cases = pd.DataFrame(rows + background)
    pattern = cases[cases["pattern_id"] == "FD01-P001"]

    def window(last: str) -> list[str]:
        first = add_weeks(last, -3)
        inside = pattern[(pattern["visit_week"] >= first) & (pattern["visit_week"] <= last)]
        return _keys(inside)

    plan = {
        w: [
            _alert(
                w,
                "pattern",
                "FD01-P001",
                window(w),
                category="FD01",
                pattern="FD01-P001",
                method="auto-rise-offset",
            )
        ]
        if w in ("2026-W44", "2026-W47")
        else []
        for w in weeks
    }
    out = _run(plan, cases)
    final = out["2026-W47"][0].iloc[0]
    keys = set(json.loads(final["case_keys"]))
    assert final["onset_week"] == "2026-W41" and final["evidence_rule"] == "specific"
    assert keys == set(_keys(pattern))  # 27 pattern cases, no background case
    assert final["n_cases"] == len(pattern) and final["n_died"] == 2
    alert_keys = set(json.loads(plan["2026-W47"][0]["case_keys"]))
    assert alert_keys < keys and len(alert_keys) == 16  # the alert alone: its 4 weeks


def test_a_category_only_signal_uses_its_category_and_ids_are_stable() -> None:
    week = "2026-W20"
    cases = pd.DataFrame([_case(i, week, "HA01") for i in range(4)])
    alerts = [_alert(week, "category", "HA01", _keys(cases), category="HA01")]
    first, members = _run({week: alerts}, cases)[week]
    again, again_members = _run({week: alerts}, cases)[week]
    pd.testing.assert_frame_equal(first, again)
    pd.testing.assert_frame_equal(members, again_members)
    assert first.iloc[0]["evidence_rule"] == "category"
    assert first.iloc[0]["signal_id"] == signal_id("HA01", week)


@pytest.mark.parametrize("status", ["resolved"])
def test_resolved_alert_rows_are_not_members(status: str) -> None:
    week = "2026-W20"
    cases = pd.DataFrame([_case(i, week, "HA01") for i in range(3)])
    alerts = [_alert(week, "category", "HA01", _keys(cases), category="HA01", status=status)]
    rows, members = _run({week: alerts}, cases)[week]
    assert rows.empty and members.empty
