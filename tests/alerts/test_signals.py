"""Signals added for issue 5: sustained rises, new patterns, no look-ahead, BH per kind."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from pipeline.alerts.series import as_of, build_panel
from pipeline.alerts.weekly import (
    AlertSettings,
    category_term_alerts,
    new_pattern_alerts,
    series_alerts,
)
from pipeline.isoweek import week_range

WEEKS = week_range("2025-W01", "2026-W20")  # 72 weeks: every series uses the short history


def _case(
    i: int,
    week: str,
    hospital: str,
    category: str,
    pattern: str | None = None,
    pattern_week: str | None = None,
) -> dict:
    return {
        "hospital_code": hospital,
        "case_id": f"{hospital}-{i}",
        "visit_week": week,
        "residence_region": "440104",
        "severity": "mild",
        "outcome": "treated_released",
        "injury_nature": "burn",
        "body_region": "upper_limb",
        "age": 30.0,
        "age_unit": "years",
        "narrative": "scalded at home",
        "category": category,
        "pattern_id": pattern,
        "pattern_week": pattern_week or (week if pattern else None),
        "product_name": None,
    }


def _background(seed: int, step: tuple[str, str, int] | None = None) -> pd.DataFrame:
    """Poisson background in a few categories; ``step`` = (category, first week, extra/week)
    spread over two hospitals."""
    rng = np.random.default_rng(seed)
    rows: list[dict] = []
    for w in WEEKS:
        for category, mean in (("HA01", 5.0), ("TY04", 2.0), ("KW01", 6.0), ("OT05", 150.0)):
            n = rng.poisson(mean)
            if step and category == step[0] and w >= step[1]:
                n += step[2]
            for j in range(n):
                rows.append(_case(len(rows), w, ("GZ001", "SH001", "BJ001")[j % 3], category))
    return pd.DataFrame(rows)


@pytest.mark.slow
def test_a_step_too_small_for_one_week_is_caught_by_the_window_total() -> None:
    # +6 a week over a mean of 5 from W17 (6 % of all cases): no single week is extreme, the
    # 4-week total is. The weekly test alone (rise_method="none") misses it.
    weekly_only = replace(AlertSettings(), rise_method="none")
    caught = {"combined": 0, "weekly": 0}
    for seed in range(8):
        cases = _background(seed, step=("HA01", "2026-W17", 6))
        panel = build_panel(cases, WEEKS[0], "2026-W20")
        for name, cfg in (("combined", AlertSettings()), ("weekly", weekly_only)):
            alerts = series_alerts(panel, cases, cfg)
            if alerts.empty:
                continue
            hit = alerts[(alerts["alert_type"] == "category") & (alerts["subject"] == "HA01")]
            caught[name] += len(hit)
            if name == "combined" and len(hit):
                assert hit.iloc[0]["method"] == "auto-rise-offset"
                # a rise alert carries the cases of its whole window
                keys = json.loads(hit.iloc[0]["case_keys"])
                weeks = set(
                    cases.set_index(cases["hospital_code"] + "/" + cases["case_id"]).loc[
                        keys, "visit_week"
                    ]
                )
                assert weeks == {"2026-W17", "2026-W18", "2026-W19", "2026-W20"}
    assert caught["combined"] >= 7
    assert caught["weekly"] <= 2


@pytest.mark.slow
def test_flat_series_rarely_alert_and_the_rise_detector_adds_few_false_alarms() -> None:
    # 10 networks x 8 flat series: at alpha 0.005 about 0.4-0.8 alarms are expected in all.
    weekly_only = replace(AlertSettings(), rise_method="none")
    found = {"combined": 0, "weekly": 0}
    for seed in range(20, 30):
        cases = _background(seed)
        panel = build_panel(cases, WEEKS[0], "2026-W20")
        for name, cfg in (("combined", AlertSettings()), ("weekly", weekly_only)):
            found[name] += len(series_alerts(panel, cases, cfg))
    assert found["combined"] <= 2
    assert found["combined"] <= found["weekly"] + 1


def test_bh_per_kind_is_not_diluted_by_other_kinds() -> None:
    # One real rise among many flat pattern series: pooled BH counts every pattern series as a
    # hypothesis of the category family; per kind, the category family holds only 4.
    cases = _background(2, step=("HA01", "2026-W19", 9))
    rng = np.random.default_rng(0)
    extra = [
        _case(100000 + i, w, "GZ001", "OT05", pattern=f"OT05-P{k:03d}")
        for k in range(300)
        for w in WEEKS
        if rng.random() < 0.3
        for i in [k * 1000 + WEEKS.index(w)]
    ]
    cases = pd.concat([cases, pd.DataFrame(extra)], ignore_index=True)
    panel = build_panel(cases, WEEKS[0], "2026-W20")
    week_cases = cases
    kind = series_alerts(panel, week_cases, replace(AlertSettings(), fdr_scope="kind"))
    pooled = series_alerts(panel, week_cases, AlertSettings())
    q_kind = kind.loc[kind["subject"] == "HA01", "qvalue"]
    assert len(q_kind) == 1
    q_pooled = pooled.loc[pooled["subject"] == "HA01", "qvalue"]
    assert q_pooled.empty or float(q_pooled.iloc[0]) > float(q_kind.iloc[0])


def test_new_pattern_needs_recent_first_case_several_cases_and_hospitals() -> None:
    rows = [
        _case(i, "2026-W19", h, "CP02", "CP02-P009")
        for i, h in enumerate(["GZ001", "SH001", "GZ001"])
    ]
    rows += [_case(10 + i, "2026-W10", "GZ001", "CP02", "CP02-P001") for i in range(3)]
    rows += [_case(20 + i, "2026-W19", "GZ001", "CP02", "CP02-P001") for i in range(5)]
    rows += [_case(30 + i, "2026-W20", "BJ001", "CP02", "CP02-P010") for i in range(4)]
    cases = pd.DataFrame(rows)
    cfg = AlertSettings()
    alerts = new_pattern_alerts(cases, "2026-W20", cfg)
    # P009: new, 3 cases at 2 hospitals -> alert; P001: first seen 10 weeks ago -> old;
    # P010: 4 cases but one hospital -> no alert.
    assert alerts["subject"].tolist() == ["CP02-P009"]
    hit = alerts.iloc[0]
    assert hit["alert_type"] == "new_pattern" and hit["observed"] == 3
    assert hit["hospitals"] == "GZ001,SH001" and len(json.loads(hit["case_keys"])) == 3
    # the same new pattern as a sliver of a busy category (share < 20 %) is a clustering
    # refinement, not an emerging hazard
    busy = pd.concat(
        [cases, pd.DataFrame([_case(100 + i, "2026-W20", "GZ001", "CP02") for i in range(40)])],
        ignore_index=True,
    )
    assert new_pattern_alerts(busy, "2026-W20", cfg).empty
    # once the pattern is older than new_pattern_recent weeks it is no longer new
    assert new_pattern_alerts(cases, "2026-W27", replace(cfg, new_pattern_window=9)).empty


def test_as_of_hides_later_visits_and_later_pattern_assignments() -> None:
    rows = [
        _case(1, "2026-W10", "GZ001", "HA01", "HA01-P001", pattern_week="2026-W12"),
        _case(2, "2026-W11", "GZ001", "HA01", "HA01-P001", pattern_week="2026-W11"),
        _case(3, "2026-W13", "GZ001", "HA01", "HA01-P001", pattern_week="2026-W13"),
    ]
    cases = pd.DataFrame(rows)
    seen = as_of(cases, "2026-W11")
    assert seen["case_id"].tolist() == ["GZ001-1", "GZ001-2"]
    assert seen["pattern_id"].isna().tolist() == [True, False]  # assigned only in W12
    assert as_of(cases, "2026-W12")["pattern_id"].notna().all()
    # the backfill of W11 does not count case 1 in the pattern series
    panel = build_panel(seen, "2026-W10", "2026-W11")
    pattern_row = panel.meta.index[panel.meta["kind"] == "pattern"][0]
    assert panel.counts[pattern_row].tolist() == [0.0, 1.0]


def test_category_terms_give_one_alert_per_category() -> None:
    rows = [_case(i, "2026-W10", "GZ001", c) for i, c in enumerate(["CP02", "HA01"])]
    rows += [
        {**_case(10 + i, "2026-W20", h, "CP02"), "narrative": "学步车冲下楼梯，头部血肿"}
        for i, h in enumerate(["GZ001", "SH001", "BJ001"])
    ]
    rows += [
        {**_case(20 + i, "2026-W20", h, "HA01"), "narrative": "scalded at home"}
        for i, h in enumerate(["GZ001", "SH001", "BJ001"])
    ]  # nothing new for HA01
    alerts = category_term_alerts(pd.DataFrame(rows), "2026-W20", AlertSettings())
    assert alerts["subject"].tolist() == ["CP02"]
    hit = alerts.iloc[0]
    assert hit["alert_type"] == "category_term" and hit["observed"] == 3
    assert "楼梯" in hit["term"].split(", ") and hit["n_hospitals"] == 3
