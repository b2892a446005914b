"""The weekly alert layer on synthetic cases: series with denominators, statuses, new terms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.alerts.series import build_panel
from pipeline.alerts.weekly import AlertSettings, detect_week
from pipeline.isoweek import add_weeks, week_range

WEEKS = week_range("2024-W01", "2026-W20")


def _cases(
    seed: int = 1,
    step_category: str | None = None,
    step_from: str = "2026-W18",
    silent: tuple[str, ...] = (),
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for w in WEEKS:
        for hospital in ("GZ001", "SH001", "BJ001"):
            if hospital == "SH001" and w in silent:
                continue
            # A realistic background: the hazard is a small share of all cases reported.
            for category, mean in (("HA01", 3.0), ("TY04", 2.0), ("KW01", 6.0), ("OT05", 60.0)):
                n = rng.poisson(mean)
                if category == step_category and w >= step_from and hospital != "BJ001":
                    n += 6
                for _ in range(n):
                    rows.append(
                        {
                            "hospital_code": hospital,
                            "case_id": f"{hospital}-{len(rows)}",
                            "visit_week": w,
                            "residence_region": "440104",
                            "severity": "mild",
                            "outcome": "treated_released",
                            "injury_nature": "burn",
                            "body_region": "upper_limb",
                            "age": 30.0,
                            "age_unit": "years",
                            "narrative": "scalded by steam at home",
                            "category": category,
                            "pattern_id": None,
                        }
                    )
    return pd.DataFrame(rows)


def test_panel_counts_and_denominator_add_up() -> None:
    cases = _cases(silent=("2026-W10",))
    panel = build_panel(cases, WEEKS[0], WEEKS[-1])
    categories = panel.meta["kind"] == "category"
    assert np.array_equal(panel.counts[categories.to_numpy()].sum(axis=0), panel.denominator)
    silent = WEEKS.index("2026-W10")
    reported = cases[cases["visit_week"] == "2026-W10"]
    assert "SH001" not in set(reported["hospital_code"])
    assert panel.denominator[silent] == len(reported)


@pytest.mark.slow
def test_a_step_rise_is_alerted_and_ranked_with_its_hospitals() -> None:
    cases = _cases(step_category="HA01")
    alerts = detect_week(cases, "2026-W19", pd.DataFrame())
    hits = alerts[(alerts["alert_type"] == "category") & (alerts["subject"] == "HA01")]
    assert len(hits) == 1
    hit = hits.iloc[0]
    assert hit["observed"] > hit["threshold"] and hit["status"] == "new"
    assert hit["hospitals"] == "BJ001,GZ001,SH001" and hit["rank"] == 1
    assert hit["qvalue"] <= AlertSettings().fdr


@pytest.mark.slow
def test_flat_series_and_a_silent_hospital_raise_no_series_alert() -> None:
    cases = _cases(seed=3, silent=("2026-W19",))
    alerts = detect_week(cases, "2026-W19", pd.DataFrame())
    assert alerts[alerts["alert_type"].isin(["category", "category_region"])].empty


@pytest.mark.slow
def test_status_moves_from_new_to_ongoing_to_resolved() -> None:
    cases = _cases(step_category="HA01")
    first = detect_week(cases, "2026-W19", pd.DataFrame())
    second = detect_week(cases, "2026-W20", first)
    ongoing = second[second["subject"] == "HA01"]
    assert ongoing["status"].tolist() == ["ongoing"]
    quiet = cases[~((cases["category"] == "HA01") & (cases["visit_week"] >= "2026-W18"))]
    third = detect_week(quiet, "2026-W20", first)
    assert "resolved" in third.loc[third["subject"] == "HA01", "status"].tolist()


@pytest.mark.slow
def test_a_new_product_term_is_alerted() -> None:
    cases = _cases(seed=5)
    week = "2026-W20"
    extra = pd.DataFrame(
        [
            {
                **cases.iloc[0].to_dict(),
                "hospital_code": h,
                "case_id": f"new-{i}",
                "visit_week": week,
                "narrative": "self-heating hotpot burst and scalded hand",
            }
            for i, h in enumerate(["GZ001", "SH001", "GZ001", "BJ001"])
        ]
    )
    alerts = detect_week(pd.concat([cases, extra], ignore_index=True), week, pd.DataFrame())
    terms = alerts.loc[alerts["alert_type"] == "new_term", "subject"].tolist()
    assert any("hotpot" in t for t in terms)
    assert add_weeks(week, -1) == "2026-W19"


@pytest.mark.slow
def test_a_new_term_counts_cases_waiting_for_coder_review() -> None:
    # A new product is what the coder sends to review (unknown name): two of the three cases
    # naming it wait for a coder, and the term must still fire, without those two cases
    # entering any series (their category is not known yet).
    cases = _cases(seed=5, step_category="HA01")
    week = "2026-W20"
    extra = pd.DataFrame(
        [
            {
                **cases.iloc[0].to_dict(),
                "hospital_code": h,
                "case_id": f"new-{i}",
                "visit_week": week,
                "narrative": "swallowed buckyball magnets, abdominal pain",
            }
            for i, h in enumerate(["GZ001", "SH001", "GZ001"])
        ]
    )
    coded, pending = extra.iloc[:1], extra.iloc[1:].assign(category=None)
    with_coded = pd.concat([cases, coded], ignore_index=True)

    without = detect_week(with_coded, week, pd.DataFrame())
    assert not without["subject"].str.contains("buckyball").any()

    alerts = detect_week(with_coded, week, pd.DataFrame(), pending=pending)
    hit = alerts[(alerts["alert_type"] == "new_term") & alerts["subject"].str.contains("buckyball")]
    assert len(hit) == 1 and hit.iloc[0]["observed"] == 3
    assert hit.iloc[0]["category"] == coded.iloc[0]["category"]

    def series_alerts(frame: pd.DataFrame) -> list[tuple]:
        rows = frame[frame["alert_type"].isin(["category", "pattern", "category_region"])]
        return sorted(zip(rows["subject"], rows["observed"], rows["expected"], strict=True))

    assert series_alerts(without) and series_alerts(alerts) == series_alerts(without)
