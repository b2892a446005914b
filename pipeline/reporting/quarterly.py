"""Quarterly statistical summary for the quarterly quality-analysis report.

Cases of one calendar quarter (by visit date; active cases of production hospitals) by
product family, residence city, severity, outcome and relation to the product, the top hazard
patterns, each against the same quarter a year earlier: counts, rates per 100 hospital-weeks
(a hospital-week: a week in which the hospital reported at least one case) with exact 95%
intervals, the rate ratio with its interval, the exact conditional test of a change and its
Benjamini-Hochberg q-value over the summary's tests, and a verdict ("no significant change"
unless q < 0.05). Survey-weighted cases (NEISS) also give weighted national estimates with
design-based 95% intervals, flagged unstable by NEISS's rule (``pipeline.reporting.stats``).
Written as one bilingual HTML file (Chinese first), CSV files (formula-safe, UTF-8 with BOM)
and JSON under ``reports/quarterly/<YYYY-Qn>/``.
"""

from __future__ import annotations

import math
import re
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from markupsafe import Markup

from pipeline.detection.multiple_testing import bh_qvalues
from pipeline.errors import BadInput
from pipeline.escaping import write_safe_csv
from pipeline.reporting.charts import bar_chart_svg
from pipeline.reporting.labels import Labels
from pipeline.reporting.stats import (
    MAX_CV,
    MIN_CASES,
    MIN_ESTIMATE,
    change_verdict,
    compare_rates,
    survey_estimate,
    survey_total,
)
from pipeline.reporting.weekly import _environment, weekly_json

QUARTER_RE = re.compile(r"^(\d{4})-Q([1-4])$")
DIMENSIONS = ("family", "region", "severity", "outcome", "product_relation")
DIMENSION_NAMES = {
    "total": ("合计", "Total"),
    "family": ("产品大类", "Product family"),
    "region": ("地区（常住城市）", "Region (city of residence)"),
    "severity": ("严重程度", "Severity"),
    "outcome": ("结局", "Outcome"),
    "product_relation": ("与产品关系", "Relation to the product"),
    "category": ("产品类别", "Product category"),
}
SPECIAL = {
    "_none": ("未涉及产品", "No product involved"),
    "_pending": ("待编码复核", "Coding under review"),
    "_unknown": ("未知", "Unknown"),
}
TOP_PATTERNS = 15
RATE_PER = 100.0
RATE_UNIT = "cases per 100 hospital-weeks"
FDR = 0.05  # Benjamini-Hochberg over the tests of one summary
FINAL_OR_PENDING = (
    "CASE WHEN k.hospital_code IS NULL OR k.needs_review THEN '_pending' "
    "ELSE coalesce(k.category_code, '_none') END"
)
COMPARISON_COLUMNS = [
    "rate",
    "rate_low",
    "rate_high",
    "rate_prev_year",
    "rate_ratio",
    "ratio_low",
    "ratio_high",
    "pvalue",
    "qvalue",
    "verdict",
]
SUMMARY_COLUMNS = [
    "dimension",
    "code",
    "label_zh",
    "label_en",
    "cases",
    "cases_prev_year",
    "change",
    *COMPARISON_COLUMNS,
]
PATTERN_COLUMNS = [
    "pattern_id",
    "category_code",
    "category_zh",
    "category_en",
    "label_zh",
    "label_en",
    "cases",
    "severe",
    "cases_prev_year",
    "change",
    *COMPARISON_COLUMNS,
]
VERDICTS = {
    "rise": ("显著上升", "significant rise"),
    "fall": ("显著下降", "significant fall"),
    "no_change": ("无显著变化", "no significant change"),
    "not_comparable": ("无法比较", "not comparable"),
}
UNSTABLE_REASONS = {
    "cases": (f"少于{MIN_CASES}例", f"fewer than {MIN_CASES} cases"),
    "estimate": (f"估计值低于{MIN_ESTIMATE:,.0f}", f"estimate under {MIN_ESTIMATE:,.0f}"),
    "cv": (f"变异系数超过{MAX_CV:.0%}", f"coefficient of variation over {MAX_CV:.0%}"),
}


class QuarterError(BadInput):
    """A quarter that is not like 2026-Q3."""


def quarter_range(quarter: str) -> tuple[date, date]:
    match = QUARTER_RE.match(quarter or "")
    if not match:
        raise QuarterError(f"{quarter!r} is not a quarter like 2026-Q3")
    year, q = int(match.group(1)), int(match.group(2))
    start = date(year, 3 * q - 2, 1)
    end = date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1)
    return start, date.fromordinal(end.toordinal() - 1)


def previous_year(quarter: str) -> str:
    year, q = quarter.split("-")
    return f"{int(year) - 1}-{q}"


def quarter_cases(con: duckdb.DuckDBPyConnection, start: date, end: date) -> pd.DataFrame:
    """One row per case: visit day, family ('_none' without a product, '_pending' while under
    coder review), city, severity, outcome, relation, pattern, survey design."""
    return con.execute(
        f"""
        SELECT c.hospital_code, c.case_id, CAST(c.visit_datetime AS DATE) AS visit_date,
               {FINAL_OR_PENDING} AS category,
               CASE WHEN length(c.residence_region) = 6
                    THEN substr(c.residence_region, 1, 4) || '00' ELSE '_unknown' END AS region,
               coalesce(c.severity, '_unknown') AS severity,
               coalesce(c.outcome, '_unknown') AS outcome,
               coalesce(c.product_relation, '_unknown') AS product_relation,
               cp.pattern_id AS pattern_id,
               c.survey_weight, c.survey_stratum, c.survey_psu
        FROM cases c
        LEFT JOIN case_coding k ON k.hospital_code = c.hospital_code AND k.case_id = c.case_id
             AND k.case_version = c.version
        LEFT JOIN case_patterns cp ON cp.hospital_code = c.hospital_code AND cp.case_id = c.case_id
        WHERE c.status = 'active'
          AND c.hospital_code IN (SELECT hospital_code FROM ref_hospitals WHERE is_test = 'False')
          AND CAST(c.visit_datetime AS DATE) BETWEEN ? AND ?
    """,
        [start, end],
    ).df()


def hospital_weeks(cases: pd.DataFrame, start: date, end: date) -> float:
    """The exposure of a period: hospital-weeks in which a hospital reported at least one
    case (visit day in the period); a week cut by the period's boundary counts by its days
    inside the period (so the four quarters of a year add up to the year)."""
    if cases.empty:
        return 0.0
    days = pd.to_datetime(cases["visit_date"])
    weeks = pd.DataFrame(
        {
            "hospital_code": cases["hospital_code"].to_numpy(),
            "monday": (days - pd.to_timedelta(days.dt.day_of_week, unit="D")).to_numpy(),
        }
    ).drop_duplicates()
    first, last = pd.Timestamp(start), pd.Timestamp(end)
    inside = [
        (min(m + pd.Timedelta(days=6), last) - max(m, first)).days + 1 for m in weeks["monday"]
    ]
    return round(sum(inside) / 7.0, 6)


def _family(category: str, labels: Labels) -> str:
    if category.startswith("_"):
        return category
    return labels.family_of.get(category, category[:2])


def _number(value: float | None, digits: int = 4) -> float | None:
    if value is None or math.isnan(value):
        return None
    if math.isinf(value):
        return None
    return round(float(value), digits)


def _comparison_columns(cur: int, prev: int, exposure: float, exposure_before: float) -> dict:
    c = compare_rates(cur, exposure, prev, exposure_before, per=RATE_PER)
    return {
        "rate": _number(c.rate),
        "rate_low": _number(c.rate_low),
        "rate_high": _number(c.rate_high),
        "rate_prev_year": _number(c.rate_before),
        "rate_ratio": _number(c.rate_ratio),
        "ratio_low": _number(c.ratio_low),
        "ratio_high": _number(c.ratio_high),
        "pvalue": _number(c.pvalue, 6),
        "_comparison": c,
    }


def _with_verdicts(rows: list[dict]) -> list[dict]:
    """Benjamini-Hochberg q-values over the table's tests, and each row's verdict."""
    tested = [i for i, r in enumerate(rows) if r["_comparison"].pvalue is not None]
    qvalues = bh_qvalues([rows[i]["_comparison"].pvalue for i in tested]) if tested else []
    q_by_row = dict(zip(tested, (float(q) for q in qvalues), strict=True))
    for i, row in enumerate(rows):
        q = q_by_row.get(i)
        row["qvalue"] = _number(q, 6)
        row["verdict"] = change_verdict(row.pop("_comparison"), q, FDR)
    return rows


def summary_table(
    current: pd.DataFrame,
    before: pd.DataFrame,
    labels: Labels,
    exposure: float,
    exposure_before: float,
) -> pd.DataFrame:
    """dimension, code, label_zh, label_en, cases, cases_prev_year, change, and the rates per
    100 hospital-weeks with exact 95% intervals, the rate ratio with its interval, the exact
    test's p-value, the Benjamini-Hochberg q-value over the table and the verdict."""
    rows = []
    for frame in (current, before):
        frame["family"] = [_family(c, labels) for c in frame["category"]]
    for dimension in ("total", *DIMENSIONS):
        if dimension == "total":
            now, then = pd.Series({"all": len(current)}), pd.Series({"all": len(before)})
        else:
            now, then = current[dimension].value_counts(), before[dimension].value_counts()
        codes = sorted(
            set(now.index) | set(then.index), key=lambda c: (-int(now.get(c, 0)), str(c))
        )
        for code in codes:
            cur, prev = int(now.get(code, 0)), int(then.get(code, 0))
            zh, en = _label(dimension, str(code), labels)
            rows.append(
                {
                    "dimension": dimension,
                    "code": code,
                    "label_zh": zh,
                    "label_en": en,
                    "cases": cur,
                    "cases_prev_year": prev,
                    "change": cur - prev,
                    **_comparison_columns(cur, prev, exposure, exposure_before),
                }
            )
    return pd.DataFrame(_with_verdicts(rows), columns=SUMMARY_COLUMNS)


def _label(dimension: str, code: str, labels: Labels) -> tuple[str, str]:
    if code in SPECIAL:
        return SPECIAL[code]
    if dimension == "total":
        return DIMENSION_NAMES["total"]
    if dimension == "family":
        return (labels.family_name["zh"].get(code, code), labels.family_name["en"].get(code, code))
    if dimension == "category":
        return labels.category["zh"].get(code, code), labels.category["en"].get(code, code)
    if dimension == "region":
        return labels.region_name(code, "zh"), labels.region_name(code, "en")
    return labels.code(dimension, code, "zh"), labels.code(dimension, code, "en")


def pattern_table(
    con: duckdb.DuckDBPyConnection,
    current: pd.DataFrame,
    before: pd.DataFrame,
    labels: Labels,
    exposure: float,
    exposure_before: float,
) -> pd.DataFrame:
    """The quarter's largest hazard patterns with last year's count, severe cases and the same
    rate comparison as the summary."""
    if current["pattern_id"].isna().all():
        return pd.DataFrame(columns=PATTERN_COLUMNS)
    grouped = (
        current.dropna(subset=["pattern_id"])
        .groupby("pattern_id")
        .agg(cases=("case_id", "size"), severe=("severity", lambda s: int((s == "severe").sum())))
    )
    grouped = (
        grouped.reset_index()
        .sort_values(["cases", "pattern_id"], ascending=[False, True])
        .head(TOP_PATTERNS)
    )
    prev = before.dropna(subset=["pattern_id"])["pattern_id"].value_counts()
    meta = (
        con.execute("SELECT pattern_id, category_code FROM hazard_patterns")
        .df()
        .set_index("pattern_id")["category_code"]
    )
    rows = []
    for row in grouped.to_dict("records"):
        pid = row["pattern_id"]
        category = meta.get(pid)
        before_n = int(prev.get(pid, 0))
        rows.append(
            {
                "pattern_id": pid,
                "category_code": category,
                "category_zh": labels.category["zh"].get(category, category),
                "category_en": labels.category["en"].get(category, category),
                "label_zh": labels.pattern_name(pid, "zh"),
                "label_en": labels.pattern_name(pid, "en"),
                "cases": int(row["cases"]),
                "severe": int(row["severe"]),
                "cases_prev_year": before_n,
                "change": int(row["cases"]) - before_n,
                **_comparison_columns(int(row["cases"]), before_n, exposure, exposure_before),
            }
        )
    return pd.DataFrame(_with_verdicts(rows), columns=PATTERN_COLUMNS)


def weighted_estimates(current: pd.DataFrame, labels: Labels) -> dict:
    """Weighted national estimates from the quarter's survey-weighted cases (NEISS): the
    total, by product family and by product category, each with its 95% interval, coefficient
    of variation and NEISS's stability flag. Cases with a weight but no stratum or PSU cannot
    enter a design-based estimate: they are counted in ``without_design``."""
    weighted = current[current["survey_weight"].notna()]
    complete = weighted.dropna(subset=["survey_stratum", "survey_psu"])
    design = pd.DataFrame(
        {
            "weight": complete["survey_weight"].astype(float).to_numpy(),
            "stratum": complete["survey_stratum"].astype(str).to_numpy(),
            # PSU codes are numbered within their stratum
            "psu": (
                complete["survey_stratum"].astype(str) + "/" + complete["survey_psu"].astype(str)
            ).to_numpy(),
            "family": [_family(c, labels) for c in complete["category"]],
            "category": complete["category"].to_numpy(),
        }
    )
    out: dict = {
        "cases": len(weighted),
        "without_design": len(weighted) - len(complete),
        "strata": int(design["stratum"].nunique()),
        "psus": int(design["psu"].nunique()),
        "lonely_strata": [],
        "rows": [],
    }
    if design.empty:
        return out
    _, _, lonely = survey_total(design, np.ones(len(design)))
    out["lonely_strata"] = lonely
    rows = []
    for dimension in ("total", "family", "category"):
        values = pd.Series(["all"] * len(design)) if dimension == "total" else design[dimension]
        counts = values.value_counts()
        for code in sorted(counts.index, key=lambda c: (-int(counts[c]), str(c))):
            estimate = survey_estimate(design, (values == code).to_numpy())
            zh, en = _label(dimension, str(code), labels)
            rows.append(
                {
                    "dimension": dimension,
                    "code": code,
                    "label_zh": zh,
                    "label_en": en,
                    **{
                        k: (_number(v, 6) if isinstance(v, float) else v)
                        for k, v in estimate.as_dict().items()
                    },
                }
            )
    out["rows"] = rows
    return out


def quarterly_data(con: duckdb.DuckDBPyConnection, quarter: str) -> dict:
    """Everything the quarterly summary shows, JSON-ready."""
    start, end = quarter_range(quarter)
    prev_quarter = previous_year(quarter)
    prev_start, prev_end = quarter_range(prev_quarter)
    labels = Labels(con)
    current = quarter_cases(con, start, end)
    before = quarter_cases(con, prev_start, prev_end)
    exposure = hospital_weeks(current, start, end)
    exposure_before = hospital_weeks(before, prev_start, prev_end)
    summary = summary_table(current, before, labels, exposure, exposure_before)
    patterns = pattern_table(con, current, before, labels, exposure, exposure_before)
    records = [_plain_record(r) for r in summary.to_dict("records")]
    return {
        "report": "quarterly-statistical-summary",
        "quarter": quarter,
        "previous": prev_quarter,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "previous_from": prev_start.isoformat(),
        "previous_to": prev_end.isoformat(),
        "rate_unit": RATE_UNIT,
        "fdr": FDR,
        "hospitals": int(current["hospital_code"].nunique()),
        "hospitals_prev_year": int(before["hospital_code"].nunique()),
        "hospital_weeks": round(exposure, 4),
        "hospital_weeks_prev_year": round(exposure_before, 4),
        "total": next(r for r in records if r["dimension"] == "total"),
        "rows": records,
        "patterns": [_plain_record(r) for r in patterns.to_dict("records")],
        "weighted": weighted_estimates(current, labels),
    }


def _plain_record(record: dict) -> dict:
    out = {}
    for key, value in record.items():
        if value is None or (isinstance(value, float) and math.isnan(value)):
            out[key] = None
        elif isinstance(value, np.integer):
            out[key] = int(value)
        elif isinstance(value, np.floating):
            out[key] = float(value)
        else:
            out[key] = value
    return out


def write_quarterly_summary(
    con: duckdb.DuckDBPyConnection, reports_dir: Path, quarter: str
) -> dict[str, Path]:
    """Write the quarter's summary under ``reports_dir/quarterly/<quarter>/``; returns
    {'html', 'summary_csv', 'patterns_csv', 'json'} paths."""
    data = quarterly_data(con, quarter)
    out_dir = reports_dir / "quarterly" / quarter
    out_dir.mkdir(parents=True, exist_ok=True)
    summary_csv = out_dir / f"quarterly-summary-{quarter}.csv"
    patterns_csv = out_dir / f"quarterly-patterns-{quarter}.csv"
    json_path = out_dir / f"quarterly-summary-{quarter}.json"
    write_safe_csv(pd.DataFrame(data["rows"], columns=SUMMARY_COLUMNS), summary_csv)
    write_safe_csv(pd.DataFrame(data["patterns"], columns=PATTERN_COLUMNS), patterns_csv)
    json_path.write_text(weekly_json(data), encoding="utf-8")
    families = [r for r in data["rows"] if r["dimension"] == "family"][:12]
    chart = bar_chart_svg(
        [f"{r['label_zh']} {r['label_en']}" for r in families],
        [r["cases"] for r in families],
        f"{quarter} 产品大类 / product family",
    )
    sections = [
        {
            "dimension": d,
            "title_zh": DIMENSION_NAMES[d][0],
            "title_en": DIMENSION_NAMES[d][1],
            "rows": [r for r in data["rows"] if r["dimension"] == d],
        }
        for d in ("total", *DIMENSIONS)
    ]
    weighted = data["weighted"]
    html = (
        _environment()
        .get_template("quarterly.html.j2")
        .render(
            d=data,
            quarter=quarter,
            prev_quarter=data["previous"],
            start=data["from"],
            end=data["to"],
            sections=sections,
            patterns=data["patterns"],
            chart=Markup(chart),
            cases=data["total"]["cases"],
            hospitals=data["hospitals"],
            verdicts=VERDICTS,
            weighted=weighted,
            weighted_sections=[
                {
                    "dimension": d,
                    "title_zh": DIMENSION_NAMES[d][0],
                    "title_en": DIMENSION_NAMES[d][1],
                    "rows": [r for r in weighted["rows"] if r["dimension"] == d],
                }
                for d in ("total", "family", "category")
            ],
            reasons=UNSTABLE_REASONS,
        )
    )
    html_path = out_dir / f"quarterly-summary-{quarter}.html"
    html_path.write_text(html, encoding="utf-8")
    return {
        "html": html_path,
        "summary_csv": summary_csv,
        "patterns_csv": patterns_csv,
        "json": json_path,
    }
