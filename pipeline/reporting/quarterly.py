"""Quarterly statistical summary for the quarterly quality-analysis report.

Cases of one calendar quarter (by visit date; active cases of production hospitals) by
product family, residence city, severity, outcome and relation to the product, the top hazard
patterns, each against the same quarter a year earlier. Written as one bilingual HTML file
(Chinese first) and CSV files (formula-safe, UTF-8 with BOM) under
``reports/quarterly/<YYYY-Qn>/``.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
from markupsafe import Markup

from pipeline.errors import BadInput
from pipeline.escaping import write_safe_csv
from pipeline.reporting.charts import bar_chart_svg
from pipeline.reporting.labels import Labels
from pipeline.reporting.weekly import _environment

QUARTER_RE = re.compile(r"^(\d{4})-Q([1-4])$")
DIMENSIONS = ("family", "region", "severity", "outcome", "product_relation")
DIMENSION_NAMES = {
    "total": ("合计", "Total"),
    "family": ("产品大类", "Product family"),
    "region": ("地区（常住城市）", "Region (city of residence)"),
    "severity": ("严重程度", "Severity"),
    "outcome": ("结局", "Outcome"),
    "product_relation": ("与产品关系", "Relation to the product"),
}
SPECIAL = {
    "_none": ("未涉及产品", "No product involved"),
    "_pending": ("待编码复核", "Coding under review"),
    "_unknown": ("未知", "Unknown"),
}
TOP_PATTERNS = 15


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
    """One row per case: family ('_none' without a product, '_pending' while under coder
    review), city, severity, outcome, relation, pattern."""
    return con.execute(
        """
        SELECT c.hospital_code, c.case_id,
               CASE WHEN k.hospital_code IS NULL OR k.needs_review THEN '_pending'
                    ELSE coalesce(k.category_code, '_none') END AS category,
               CASE WHEN length(c.residence_region) = 6
                    THEN substr(c.residence_region, 1, 4) || '00' ELSE '_unknown' END AS region,
               coalesce(c.severity, '_unknown') AS severity,
               coalesce(c.outcome, '_unknown') AS outcome,
               coalesce(c.product_relation, '_unknown') AS product_relation,
               cp.pattern_id AS pattern_id
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


def _family(category: str, labels: Labels) -> str:
    if category.startswith("_"):
        return category
    return labels.family_of.get(category, category[:2])


def summary_table(current: pd.DataFrame, before: pd.DataFrame, labels: Labels) -> pd.DataFrame:
    """dimension, code, label_zh, label_en, cases, cases_prev_year, change, change_pct."""
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
                    "change_pct": round(100.0 * (cur - prev) / prev, 1) if prev else None,
                }
            )
    return pd.DataFrame(rows)


def _label(dimension: str, code: str, labels: Labels) -> tuple[str, str]:
    if code in SPECIAL:
        return SPECIAL[code]
    if dimension == "total":
        return DIMENSION_NAMES["total"]
    if dimension == "family":
        return (labels.family_name["zh"].get(code, code), labels.family_name["en"].get(code, code))
    if dimension == "region":
        return labels.region_name(code, "zh"), labels.region_name(code, "en")
    return labels.code(dimension, code, "zh"), labels.code(dimension, code, "en")


def pattern_table(
    con: duckdb.DuckDBPyConnection, current: pd.DataFrame, before: pd.DataFrame, labels: Labels
) -> pd.DataFrame:
    """The quarter's largest hazard patterns with last year's count and severe share."""
    columns = [
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
    ]
    if current["pattern_id"].isna().all():
        return pd.DataFrame(columns=columns)
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
            }
        )
    return pd.DataFrame(rows, columns=columns)


def write_quarterly_summary(
    con: duckdb.DuckDBPyConnection, reports_dir: Path, quarter: str
) -> dict[str, Path]:
    """Write the quarter's summary under ``reports_dir/quarterly/<quarter>/``; returns
    {'html', 'summary_csv', 'patterns_csv'} paths."""
    start, end = quarter_range(quarter)
    prev_quarter = previous_year(quarter)
    prev_start, prev_end = quarter_range(prev_quarter)
    labels = Labels(con)
    current = quarter_cases(con, start, end)
    before = quarter_cases(con, prev_start, prev_end)
    summary = summary_table(current, before, labels)
    patterns = pattern_table(con, current, before, labels)
    out_dir = reports_dir / "quarterly" / quarter
    out_dir.mkdir(parents=True, exist_ok=True)
    summary_csv = out_dir / f"quarterly-summary-{quarter}.csv"
    patterns_csv = out_dir / f"quarterly-patterns-{quarter}.csv"
    write_safe_csv(summary, summary_csv)
    write_safe_csv(patterns, patterns_csv)
    families = summary[summary["dimension"] == "family"].head(12)
    chart = bar_chart_svg(
        [f"{zh} {en}" for zh, en in zip(families["label_zh"], families["label_en"], strict=True)],
        families["cases"].tolist(),
        f"{quarter} 产品大类 / product family",
    )
    sections = [
        {
            "dimension": d,
            "title_zh": DIMENSION_NAMES[d][0],
            "title_en": DIMENSION_NAMES[d][1],
            "rows": summary[summary["dimension"] == d].to_dict("records"),
        }
        for d in ("total", *DIMENSIONS)
    ]
    html = (
        _environment()
        .get_template("quarterly.html.j2")
        .render(
            quarter=quarter,
            prev_quarter=prev_quarter,
            start=start.isoformat(),
            end=end.isoformat(),
            sections=sections,
            patterns=patterns.to_dict("records"),
            chart=Markup(chart),
            cases=len(current),
            hospitals=int(current["hospital_code"].nunique()),
        )
    )
    html_path = out_dir / f"quarterly-summary-{quarter}.html"
    html_path.write_text(html, encoding="utf-8")
    return {"html": html_path, "summary_csv": summary_csv, "patterns_csv": patterns_csv}
