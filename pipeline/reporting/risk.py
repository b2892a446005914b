"""A suggested risk level by the EU Safety Gate (RAPEX) method: severity x probability.

The Safety Gate guidelines (Commission Decision 2010/15/EU, Annex, part III; kept in
Implementing Decision (EU) 2019/417) read the risk level from the severity of the injury in
the scenario (1-4) and the probability of that injury over the product's foreseeable lifetime.
Surveillance shows the injuries, not how many products are in use, so the probability here is
a *proxy* from the strength of the evidence; the analyst confirms or changes both. See
docs/reporting.md.
"""

from __future__ import annotations

import math

import pandas as pd

# Probability bands, most likely first, and the risk level per severity 1..4 (Safety Gate
# risk matrix).
BANDS = (
    "> 50%",
    "> 1/10",
    "> 1/100",
    "> 1/1,000",
    "> 1/10,000",
    "> 1/100,000",
    "> 1/1,000,000",
    "< 1/1,000,000",
)
MATRIX = {
    "> 50%": ("high", "serious", "serious", "serious"),
    "> 1/10": ("medium", "serious", "serious", "serious"),
    "> 1/100": ("medium", "serious", "serious", "serious"),
    "> 1/1,000": ("low", "high", "serious", "serious"),
    "> 1/10,000": ("low", "medium", "high", "serious"),
    "> 1/100,000": ("low", "low", "medium", "high"),
    "> 1/1,000,000": ("low", "low", "low", "medium"),
    "< 1/1,000,000": ("low", "low", "low", "low"),
}
LEVEL_ZH = {"serious": "严重风险", "high": "高风险", "medium": "中风险", "low": "低风险"}
SEVERITY_TEXT = {
    1: ("minor injury, first aid or treated and released", "轻微伤害，急诊处理后离院"),
    2: ("injury needing medical treatment (moderate)", "需要医疗处理的伤害（中度）"),
    3: ("serious injury, usually hospital admission", "严重伤害，通常需住院"),
    4: ("fatal or permanent very serious injury", "死亡或永久性严重伤害"),
}
SCENARIO_SHARE = 0.2
# Proxy evidence points -> probability band (0 points: the weakest band used).
POINT_BANDS = ("> 1/1,000,000", "> 1/100,000", "> 1/10,000", "> 1/1,000", "> 1/100")


def case_severity_level(severity: object, outcome: object) -> int:
    """Safety Gate injury severity (1-4) of one case from its severity and outcome."""
    if outcome == "died":
        return 4
    if severity == "severe" or outcome in ("admitted", "transferred"):
        return 3
    if severity == "moderate" or outcome == "observed":
        return 2
    return 1


def scenario_severity(levels: list[int]) -> int:
    """The injury scenario's severity: any death makes it 4; otherwise the highest level that
    at least a fifth of the cases reach (one admission among twenty minor cases does not make
    the scenario a hospital admission)."""
    if not levels:
        return 1
    if 4 in levels:
        return 4
    needed = max(1, math.ceil(SCENARIO_SHARE * len(levels)))
    return max(level for level in (1, 2, 3) if sum(v >= level for v in levels) >= needed)


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def suggested_risk_level(alert_cases: pd.DataFrame, alert: dict) -> dict:
    """Suggested Safety Gate risk level of an alert.

    Severity: a death makes it 4, otherwise the highest level reached by at least a fifth of
    the alert's cases (see :func:`scenario_severity`).
    Probability (proxy, one point each, up to 4): at least half of the cases quality-related
    (2 points; 1 point from a fifth), cases at >= 3 hospitals, observed >= 2x expected (or a
    new product term), >= 10 cases. 0..4 points -> > 1/1,000,000 .. > 1/100.
    """
    n = len(alert_cases)
    levels = [
        case_severity_level(s, o)
        for s, o in zip(
            alert_cases.get("severity", pd.Series(dtype=object)),
            alert_cases.get("outcome", pd.Series(dtype=object)),
            strict=True,
        )
    ]
    severity = scenario_severity(levels)
    worst = sum(1 for level in levels if level >= severity)

    relation = alert_cases.get("product_relation", pd.Series(dtype=object))
    quality_share = float((relation == "quality_related").mean()) if n else 0.0
    hospitals = int(alert_cases["hospital_code"].nunique()) if n else 0
    observed, expected = _number(alert.get("observed")), _number(alert.get("expected"))
    excess = alert.get("alert_type") == "new_term" or (
        observed is not None and expected is not None and observed >= 2 * max(expected, 0.5)
    )
    reasons_en, reasons_zh, points = [], [], 0
    if quality_share >= 0.5:
        points += 2
    elif quality_share >= 0.2:
        points += 1
    if quality_share >= 0.2:
        reasons_en.append(f"{quality_share:.0%} quality-related")
        reasons_zh.append(f"{quality_share:.0%}与产品质量有关")
    if hospitals >= 3:
        points += 1
        reasons_en.append(f"{hospitals} hospitals")
        reasons_zh.append(f"{hospitals}家医院")
    if excess:
        points += 1
        reasons_en.append(
            "well above expected" if alert.get("alert_type") != "new_term" else "new product term"
        )
        reasons_zh.append(
            "明显高于期望值" if alert.get("alert_type") != "new_term" else "新出现的产品词"
        )
    if n >= 10:
        points += 1
        reasons_en.append(f"{n} cases")
        reasons_zh.append(f"{n}例")
    band = POINT_BANDS[min(points, len(POINT_BANDS) - 1)]
    level = MATRIX[band][severity - 1]
    evidence_en = ", ".join(reasons_en) or "little supporting evidence"
    evidence_zh = "，".join(reasons_zh) or "支持证据有限"
    sev_en, sev_zh = SEVERITY_TEXT[severity]
    return {
        "level": level,
        "severity": severity,
        "probability": band,
        "evidence_points": points,
        "rationale_en": (
            f"Severity {severity} ({sev_en}; {worst} of {n} cases at this level or worse) x probability "
            f"{band} (proxy: {evidence_en}) -> {level} risk."
        ),
        "rationale_zh": (
            f"严重程度{severity}级（{sev_zh}；{n}例中{worst}例达到或超过此级）× 可能性{band}"
            f"（依据：{evidence_zh}）→ {LEVEL_ZH[level]}。"
        ),
    }
