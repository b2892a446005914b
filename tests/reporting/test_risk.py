"""Safety Gate severity x probability suggestions."""

from __future__ import annotations

import pandas as pd

from pipeline.reporting.risk import MATRIX, case_severity_level, suggested_risk_level


def _cases(
    n: int,
    severity: str = "mild",
    outcome: str = "treated_released",
    relation: str = "uncertain",
    hospitals: int = 1,
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "hospital_code": [f"H{i % hospitals:04d}" for i in range(n)],
            "severity": [severity] * n,
            "outcome": [outcome] * n,
            "product_relation": [relation] * n,
        }
    )


def test_case_severity_levels() -> None:
    assert case_severity_level("mild", "died") == 4
    assert case_severity_level("severe", "treated_released") == 3
    assert case_severity_level("mild", "admitted") == 3
    assert case_severity_level("moderate", "treated_released") == 2
    assert case_severity_level("mild", "treated_released") == 1


def test_matrix_matches_the_safety_gate_table() -> None:
    # Rows of the Safety Gate risk matrix (severity 1..4).
    assert MATRIX["> 50%"] == ("high", "serious", "serious", "serious")
    assert MATRIX["> 1/1,000"] == ("low", "high", "serious", "serious")
    assert MATRIX["> 1/10,000"] == ("low", "medium", "high", "serious")
    assert MATRIX["> 1/100,000"] == ("low", "low", "medium", "high")


def test_weak_minor_signal_is_low() -> None:
    risk = suggested_risk_level(_cases(3), {"observed": 3, "expected": 2.0})
    assert risk["severity"] == 1 and risk["probability"] == "> 1/1,000,000"
    assert risk["level"] == "low" and risk["evidence_points"] == 0
    assert "low risk" in risk["rationale_en"] and "低风险" in risk["rationale_zh"]


def test_a_death_with_strong_evidence_is_serious() -> None:
    cases = _cases(12, relation="quality_related", hospitals=3)
    cases.loc[0, "outcome"] = "died"
    risk = suggested_risk_level(cases, {"observed": 12, "expected": 2.0})
    assert risk["severity"] == 4 and risk["evidence_points"] == 5
    assert risk["probability"] == "> 1/100" and risk["level"] == "serious"
    assert "1 of 12 cases" in risk["rationale_en"]


def test_one_admission_among_many_minor_cases_does_not_set_the_scenario() -> None:
    cases = _cases(10)
    cases.loc[0, ["severity", "outcome"]] = ["severe", "admitted"]
    assert suggested_risk_level(cases, {})["severity"] == 1
    cases.loc[1, ["severity", "outcome"]] = ["moderate", "treated_released"]
    assert suggested_risk_level(cases, {})["severity"] == 2  # 2 of 10 reach level 2
    cases.loc[1, "outcome"] = "admitted"
    assert suggested_risk_level(cases, {})["severity"] == 3


def test_admissions_at_moderate_evidence_are_high() -> None:
    cases = _cases(6, severity="severe", outcome="admitted", relation="quality_related")
    risk = suggested_risk_level(cases, {"observed": 6, "expected": 5.0})
    # 2 points (quality-related) -> > 1/10,000; severity 3 -> high.
    assert (risk["severity"], risk["probability"], risk["level"]) == (3, "> 1/10,000", "high")


def test_empty_cases_do_not_crash() -> None:
    risk = suggested_risk_level(_cases(0), {"alert_type": "new_term"})
    assert risk["level"] in {"low", "medium", "high", "serious"}
