"""Every number of the weekly report's JSON, recomputed from the warehouse with independent SQL
(written from the definitions in docs/reporting.md, not with the report's code).

``expected_numbers(con, data)`` returns {path: value} for every number the report should hold,
where a path is a tuple of keys and list indexes into the JSON. ``check(con, data)`` walks every
number actually in the JSON and returns the problems: a number without an expected value (an
unchecked figure: add its definition here), a number that differs, or an expected number the
report does not hold. Derived figures that need the narrative tokeniser of new-term detection
(top terms) use that tokeniser, which defines what a term is.

Signals (docs/detection.md, migration 0005): the active signals of the week in rank order with
their stored counts (``signal_weeks``), their member alerts of the week and leading alert
(``signal_alerts`` x ``alerts``), the breakdowns, examples, trend, top terms and risk level over
the signal's cases (``signal_weeks.case_keys``), and the quiet and resolved signals with their
three newest member alerts. Follow-up counts come from the application database (``app_url``).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import date, timedelta

import duckdb

PRODUCTION = "SELECT hospital_code FROM ref_hospitals WHERE is_test = 'False'"
TARGETS = {  # docs/reporting.md, "Monitoring-site supervision"
    "within_7d": 0.9,
    "completeness": 0.8,
    "rejection_rate": 0.05,
    "share_short": 0.1,
    "share_templated": 0.2,
    "agreement": 0.8,
}
LOW_IS_BAD = ("within_7d", "completeness", "agreement")
KEY_FIELDS = (
    "injury_datetime",
    "residence_region",
    "place",
    "activity",
    "product_name",
    "product_category",
)
SILENT_DAYS = 14
WEEKS = 4
LOCAL = "INTERVAL 8 HOUR"  # receipts are stored in UTC; hospitals are on UTC+8
TREND_WEEKS = 26
# counts are 0 (not blank) when nothing was visited, received or coded by the hospital
COUNTS = (
    "cases",
    "files",
    "files_rejected",
    "files_duplicate",
    "rows_received",
    "rows_quarantined",
    "hospital_coded",
)


def _monday(week: str) -> date:
    year, number = week.split("-W")
    return date.fromisocalendar(int(year), int(number), 1)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _health_sql(group: str) -> str:
    """Per ``group`` (hospital_code, or a constant for the network) over the window's cases."""
    filled = []
    for field in KEY_FIELDS:
        if field == "injury_datetime":
            filled.append(f"avg(CASE WHEN {field} IS NOT NULL THEN 1.0 ELSE 0.0 END)")
        elif field in ("place", "activity"):
            filled.append(
                f"avg(CASE WHEN trim(coalesce({field}, '')) NOT IN ('', 'unknown') "
                "THEN 1.0 ELSE 0.0 END)"
            )
        else:
            filled.append(f"avg(CASE WHEN trim(coalesce({field}, '')) <> '' THEN 1.0 ELSE 0.0 END)")
    filled_columns = ", ".join(
        f"{expr} AS filled_{field}" for expr, field in zip(filled, KEY_FIELDS, strict=True)
    )
    return f"""
    WITH w AS (
        SELECT c.*, epoch(v.received_at + {LOCAL}) - epoch(c.visit_datetime) AS lag_s,
               lower(trim(regexp_replace(regexp_replace(coalesce(c.narrative, ''),
                   '[0-9０-９]+', '#', 'g'), '\\s+', ' ', 'g'))) AS tkey,
               length(trim(coalesce(c.narrative, ''))) AS len
        FROM cases c JOIN case_versions v ON v.hospital_code = c.hospital_code
             AND v.case_id = c.case_id AND v.version = 1
        WHERE c.status = 'active' AND c.hospital_code IN ({PRODUCTION})
          AND CAST(c.visit_datetime AS DATE) BETWEEN $1 AND $2),
    t AS (SELECT *, count(*) OVER (PARTITION BY {group}, tkey) AS repeats FROM w)
    SELECT {group} AS grp, count(*) AS cases,
           median(lag_s) / 86400.0 AS median_lag_days,
           avg(CASE WHEN lag_s <= 86400 THEN 1.0 ELSE 0.0 END) AS within_1d,
           avg(CASE WHEN lag_s <= 7 * 86400 THEN 1.0 ELSE 0.0 END) AS within_7d,
           {filled_columns},
           median(len) AS median_length,
           avg(CASE WHEN len < 15 THEN 1.0 ELSE 0.0 END) AS share_short,
           avg(CASE WHEN repeats >= 3 AND tkey <> '' THEN 1.0 ELSE 0.0 END) AS share_templated
    FROM t GROUP BY 1"""


def _files_sql(group: str) -> str:
    return f"""
    SELECT {group} AS grp, count(*) AS files,
           count(*) FILTER (WHERE status = 'rejected') AS files_rejected,
           count(*) FILTER (WHERE status = 'duplicate') AS files_duplicate,
           coalesce(sum(rows_received) FILTER (WHERE status <> 'duplicate'), 0) AS rows_received,
           coalesce(sum(rows_quarantined) FILTER (WHERE status <> 'duplicate'), 0)
               AS rows_quarantined
    FROM submissions
    WHERE hospital_code IN ({PRODUCTION})
      AND CAST(received_at + {LOCAL} AS DATE) BETWEEN $1 AND $2
    GROUP BY 1"""


def _agreement_sql(group: str) -> str:
    group = "c.hospital_code" if group == "hospital_code" else group
    return f"""
    SELECT {group} AS grp, count(*) AS hospital_coded,
           avg(CASE WHEN c.product_category = k.model_category THEN 1.0 ELSE 0.0 END)
               AS agreement
    FROM cases c JOIN case_coding k ON k.hospital_code = c.hospital_code
         AND k.case_id = c.case_id AND k.case_version = c.version
    WHERE c.status = 'active' AND c.hospital_code IN ({PRODUCTION})
      AND CAST(c.visit_datetime AS DATE) BETWEEN $1 AND $2
      AND trim(coalesce(c.product_category, '')) <> '' AND k.model_category IS NOT NULL
    GROUP BY 1"""


def _metrics(con: duckdb.DuckDBPyConnection, group: str, start: date, end: date) -> dict:
    out: dict = {}
    for sql in (_health_sql(group), _files_sql(group), _agreement_sql(group)):
        for row in _rows(con, sql, [start, end]):
            out.setdefault(row.pop("grp"), {}).update(row)
    for values in out.values():
        shares = [values.get(f"filled_{f}") for f in KEY_FIELDS]
        if all(s is not None for s in shares):
            values["completeness"] = sum(shares) / len(shares)
        received = values.get("rows_received")
        if received:
            values["rejection_rate"] = values["rows_quarantined"] / received
    return out


def _silent(con: duckdb.DuckDBPyConnection, end: date) -> list[dict]:
    rows = _rows(
        con,
        f"""
        SELECT h.hospital_code,
               (SELECT max(CAST(s.received_at + {LOCAL} AS DATE)) FROM submissions s
                WHERE s.hospital_code = h.hospital_code
                  AND CAST(s.received_at + {LOCAL} AS DATE) <= $1) AS last_received,
               (SELECT max(CAST(c.visit_datetime AS DATE)) FROM cases c
                WHERE c.hospital_code = h.hospital_code AND c.status = 'active'
                  AND CAST(c.visit_datetime AS DATE) <= $1) AS last_visit
        FROM ref_hospitals h
        WHERE h.is_test = 'False'
          AND (h.active_from IS NULL OR h.active_from IN ('', 'None')
               OR CAST(h.active_from AS DATE) <= $1)
          AND (h.active_to IS NULL OR h.active_to IN ('', 'None')
               OR CAST(h.active_to AS DATE) >= $1)
        ORDER BY 1""",
        [end],
    )
    cutoff = end - timedelta(days=SILENT_DAYS)
    out = []
    for r in rows:
        seen = [d for d in (r["last_received"], r["last_visit"]) if d is not None]
        if all(d <= cutoff for d in seen):
            out.append({**r, "days_silent": (end - max(seen)).days if seen else None})
    return out


def _flags(values: dict) -> list[str]:
    flags = []
    for column, target in TARGETS.items():
        value = values.get(column)
        if value is None:
            continue
        if (value < target) if column in LOW_IS_BAD else (value > target):
            flags.append(column)
    return flags


def _health_expected(con: duckdb.DuckDBPyConnection, data: dict, problems: list[str]) -> dict:
    health = data["network_health"]
    week = data["week"]
    end = _monday(week) + timedelta(days=6)
    start = _monday(week) - timedelta(weeks=WEEKS - 1)
    base = ("network_health",)
    expected: dict = {
        (*base, "window", "weeks"): WEEKS,
        (*base, "silent_days"): SILENT_DAYS,
        **{(*base, "targets", k): v for k, v in TARGETS.items()},
    }
    if health["window"]["from"] != start.isoformat() or health["window"]["to"] != end.isoformat():
        problems.append(f"window {health['window']} is not {start} .. {end}")
    per_hospital = _metrics(con, "hospital_code", start, end)
    silent = [s for s in _silent(con, end) if s["last_received"] is not None or s["last_visit"]]
    codes = sorted(set(per_hospital) | {s["hospital_code"] for s in silent})
    listed = [r["hospital_code"] for r in health["hospitals"]]
    if listed != codes:
        problems.append(f"hospitals listed {listed}, expected {codes}")
    for i, row in enumerate(health["hospitals"]):
        values = dict(per_hospital.get(row["hospital_code"], {}))
        for column in COUNTS:
            values.setdefault(column, 0)
        for key, value in values.items():
            expected[(*base, "hospitals", i, key)] = value
        if sorted(row["flags"]) != sorted(_flags(values)):
            problems.append(f"{row['hospital_code']} flags {row['flags']} != {_flags(values)}")
        rules = _rows(
            con,
            f"""SELECT q.rule, count(DISTINCT (q.submission_id, q.source_row)) AS rows
            FROM quarantine q JOIN submissions s USING (submission_id)
            WHERE s.hospital_code = $3 AND s.status <> 'duplicate'
              AND CAST(s.received_at + {LOCAL} AS DATE) BETWEEN $1 AND $2
            GROUP BY 1""",
            [start, end, row["hospital_code"]],
        )
        by_rule = {r["rule"]: r["rows"] for r in rules}
        if {r["rule"] for r in row["quarantine_rules"]} != set(by_rule):
            problems.append(f"{row['hospital_code']} rules {row['quarantine_rules']} != {by_rule}")
        for j, rule in enumerate(row["quarantine_rules"]):
            expected[(*base, "hospitals", i, "quarantine_rules", j, "rows")] = by_rule.get(
                rule["rule"]
            )
    network = _metrics(con, "'*'", start, end).get("*", {})
    for column in COUNTS:
        network.setdefault(column, 0)
    network["hospitals_reporting"] = con.execute(
        f"""SELECT count(DISTINCT hospital_code) FROM cases WHERE status = 'active'
        AND hospital_code IN ({PRODUCTION}) AND CAST(visit_datetime AS DATE) BETWEEN $1 AND $2""",
        [start, end],
    ).fetchone()[0]
    went_silent = silent
    network["hospitals_silent"] = len(went_silent)
    for key, value in network.items():
        expected[(*base, "network", key)] = value
    if [s["hospital_code"] for s in health["silent"]] != [s["hospital_code"] for s in went_silent]:
        problems.append(f"silent {health['silent']} != {went_silent}")
    else:
        for i, s in enumerate(went_silent):
            expected[(*base, "silent", i, "days_silent")] = s["days_silent"]
    never = sorted(
        s["hospital_code"]
        for s in _silent(con, end)
        if s["last_received"] is None and s["last_visit"] is None
    )
    if health["never_reported"] != never:
        problems.append(f"never_reported {health['never_reported']} != {never}")
    return expected


def _years(age: object, unit: object) -> float | None:
    if age is None or (isinstance(age, float) and math.isnan(age)):
        return None
    return age if unit == "years" else age / 12 if unit == "months" else age / 365.25  # type: ignore[operator]


def _age_band(age: object, unit: object) -> str:
    years = _years(age, unit)
    if years is None:
        return "unknown"
    for limit, band in ((1, "infant"), (5, "toddler"), (15, "child"), (65, "adult")):
        if years < limit:
            return band
    return "older"


def _severity_level(severity: object, outcome: object) -> int:
    if outcome == "died":
        return 4
    if severity == "severe" or outcome in ("admitted", "transferred"):
        return 3
    if severity == "moderate" or outcome == "observed":
        return 2
    return 1


ACTIVE = ("new", "ongoing", "reopened")  # docs/detection.md: member alerts fired this week
SERIES_TYPES = ("pattern", "category_region", "category")  # most specific first
# methods with an alarm threshold on the week's count (docs/detection.md)
THRESHOLD_METHODS = (
    "auto",
    "auto-offset",
    "farrington-noufaily",
    "farrington-noufaily-offset",
    "auto-rise",
    "auto-rise-offset",
    "glrnb",
    "short-window",
)
SIGNAL_NUMBERS = (
    "rank",
    "quiet_weeks",
    "n_alerts",
    "n_cases",
    "n_hospitals",
    "n_severe",
    "n_admitted",
    "n_died",
    "priority",
)
BACKGROUND_WEEKS = 52
BACKGROUND_CAP = 3000


def _week_minus(week: str, weeks: int) -> str:
    return (_monday(week) - timedelta(weeks=weeks)).strftime("%G-W%V")


def _count(value: object) -> int:
    """A count as the report states it: an integer, 0 when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 0
    return int(round(float(value)))  # type: ignore[arg-type]


def _member_expected(alert: dict, base: tuple) -> dict:
    """The numbers of one member alert from its ``alerts`` row."""
    out: dict = {
        (*base, "observed"): _count(alert["observed"]),
        (*base, "n_hospitals"): _count(alert["n_hospitals"]),
        (*base, "n_cases"): len(json.loads(alert["case_keys"] or "[]")),
    }
    for key in ("expected", "threshold", "pvalue", "qvalue", "rank"):
        out[(*base, key)] = alert[key]
    threshold = alert["threshold"]
    if alert["method"] in THRESHOLD_METHODS and threshold is not None and not _is_nan(threshold):
        out[(*base, "alarm_from")] = math.floor(threshold) + 1  # smallest count above it
    return out


def _members_expected(
    reported: list[dict], stored: list[dict], base: tuple, what: str, problems: list[str]
) -> dict:
    """Member alerts: the report lists exactly ``stored`` in that order, each with its numbers
    (an alert is a row of one week: the same alert id recurs in the weeks it fires)."""
    listed = [(m["alert_id"], m["week"]) for m in reported]
    wanted = [(a["alert_id"], a["week"]) for a in stored]
    if listed != wanted:
        problems.append(f"{what}: members {listed} are not {wanted}")
    by_id = {(a["alert_id"], a["week"]): a for a in stored}
    expected: dict = {}
    for j, member in enumerate(reported):
        alert = by_id.get((member["alert_id"], member["week"]))
        if alert is not None:
            expected.update(_member_expected(alert, (*base, j)))
    return expected


def _lead(members: list[dict]) -> dict | None:
    """docs/reporting.md: a series alert of the latest week the signal fired (pattern, then
    category x city, then category), else that week's best-ranked alert."""
    if not members:
        return None
    latest = max(a["week"] for a in members)
    week_members = [a for a in members if a["week"] == latest]
    big = float("inf")
    series = [a for a in week_members if a["alert_type"] in SERIES_TYPES]
    if series:
        return min(
            series,
            key=lambda a: (
                SERIES_TYPES.index(a["alert_type"]),
                big if a["rank"] is None else a["rank"],
                a["alert_id"],
            ),
        )
    return min(week_members, key=lambda a: (big if a["rank"] is None else a["rank"], a["alert_id"]))


def _signal_cases(con: duckdb.DuckDBPyConnection, case_keys: str | None) -> list[dict]:
    keys = [k.split("/", 1) for k in json.loads(case_keys or "[]")]
    return _rows(
        con,
        """SELECT c.hospital_code, c.case_id, c.visit_week, c.residence_region, c.severity,
                  c.outcome, c.product_relation, c.age, c.age_unit, c.narrative
           FROM cases c JOIN (SELECT unnest($1::VARCHAR[]) AS h,
                                     unnest($2::VARCHAR[]) AS id) k
                ON c.hospital_code = k.h AND c.case_id = k.id
           WHERE c.status = 'active'""",
        [[k[0] for k in keys], [k[1] for k in keys]],
    )


def _followups_counts(app_url: str | None, signal_id: str, day: str) -> dict | None:
    """ordered / completed / overdue follow-ups of a signal in the application database
    (None: no database given, the counts stay unchecked)."""
    if app_url is None:
        return None
    import sqlalchemy as sa

    engine = sa.create_engine(app_url)
    try:
        if not sa.inspect(engine).has_table("followups"):
            return {"ordered": 0, "completed": 0, "overdue": 0}
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    """SELECT f.due_date,
                              EXISTS (SELECT 1 FROM followup_results r
                                      WHERE r.followup_id = f.id) AS done
                       FROM followups f WHERE f.signal_id = :s"""
                ),
                {"s": signal_id},
            ).fetchall()
    finally:
        engine.dispose()
    return {
        "ordered": len(rows),
        "completed": sum(bool(done) for _, done in rows),
        "overdue": sum(not done and str(due)[:10] < day for due, done in rows),
    }


def _signal_expected(
    con: duckdb.DuckDBPyConnection,
    data: dict,
    problems: list[str],
    tokenize,  # type: ignore[no-untyped-def]
    app_url: str | None,
) -> dict:
    expected: dict = {}
    week = data["week"]
    stored = _rows(con, "SELECT * FROM signal_weeks WHERE week = $1", [week])
    big = float("inf")
    active = sorted(
        (s for s in stored if s["status"] in ACTIVE),
        key=lambda s: (big if s["rank"] is None else s["rank"], s["signal_id"]),
    )
    if [s["signal_id"] for s in data["signals"]] != [s["signal_id"] for s in active]:
        problems.append("signals are not the stored active signals of the week in rank order")
    rows = {s["signal_id"]: s for s in stored}
    for i, item in enumerate(data["signals"]):
        row = rows.get(item["signal_id"])
        if row is None:
            continue
        base = ("signals", i)
        what = item["signal_id"]
        for key in SIGNAL_NUMBERS:
            expected[(*base, key)] = row[key]
        expected.update(_provisional_expected(con, item, row, week, base, problems))
        # member alerts up to the signal's week (those of later weeks are not known yet)
        members = _rows(
            con,
            """SELECT a.* FROM signal_alerts m
            JOIN alerts a ON a.week = m.week AND a.alert_id = m.alert_id
            WHERE m.signal_id = $1 AND m.week <= $2
            ORDER BY a.rank NULLS LAST, a.alert_id""",
            [row["signal_id"], week],
        )
        this_week = [a for a in members if a["week"] == week]
        expected.update(
            _members_expected(item["members"], this_week, (*base, "members"), what, problems)
        )
        lead = _lead(members)
        if (item["lead"] or {}).get("alert_id") != (lead or {}).get("alert_id"):
            problems.append(f"{what}: lead {item['lead']} is not {lead and lead['alert_id']}")
        elif lead is not None:
            expected.update(_member_expected(lead, (*base, "lead")))
            for key, value in _flatten(json.loads(lead["params"] or "{}"), (*base, "settings")):
                if isinstance(value, int | float) and not isinstance(value, bool):
                    expected[key] = value
        cases = _signal_cases(con, row["case_keys"])
        breakdowns = {
            "hospitals": Counter(c["hospital_code"] for c in cases),
            "regions": Counter(
                c["residence_region"][:4] + "00"
                for c in cases
                if isinstance(c["residence_region"], str) and len(c["residence_region"]) == 6
            ),
            "severity": Counter(c["severity"] for c in cases if c["severity"]),
            "outcome": Counter(c["outcome"] for c in cases if c["outcome"]),
            "age_groups": Counter(_age_band(c["age"], c["age_unit"]) for c in cases),
            "product_relation": Counter(
                c["product_relation"] for c in cases if c["product_relation"]
            ),
        }
        for name, counts in breakdowns.items():
            if {r["code"] for r in item[name]} != set(counts):
                problems.append(f"{what} {name} {item[name]} != {dict(counts)}")
            for j, r in enumerate(item[name]):
                expected[(*base, name, j, "n")] = counts.get(r["code"])
        by_key = {(c["hospital_code"], c["case_id"]): c for c in cases}
        for j, example in enumerate(item["examples"]):
            case = by_key.get((example["hospital_code"], example["case_id"]))
            if case is None:
                problems.append(f"{what}: example {example['case_id']} is not one of its cases")
            expected[(*base, "examples", j, "age")] = None if case is None else case["age"]
        # Trend: the 26 weeks up to the week; the lead's stored series (a week without a
        # stored row counts 0 cases and has no baseline), else the signal's own cases.
        span = [_week_minus(week, w) for w in range(TREND_WEEKS - 1, -1, -1)]
        if [p["week"] for p in item["trend"]] != span:
            problems.append(f"{what}: trend weeks {[p['week'] for p in item['trend']]} != {span}")
        own = Counter(c["visit_week"] for c in cases)
        series = {}
        if lead is not None:
            series = {
                r["series_week"]: r
                for r in _rows(
                    con,
                    "SELECT * FROM alert_series WHERE week = $1 AND alert_id = $2",
                    [lead["week"], lead["alert_id"]],
                )
            }
        for j, point in enumerate(item["trend"]):
            tbase = (*base, "trend", j)
            expected[(*tbase, "signal_cases")] = own.get(point["week"], 0)
            if lead is None:
                expected[(*tbase, "observed")] = own.get(point["week"], 0)
                continue
            stored_point = series.get(point["week"], {})
            observed = stored_point.get("observed")
            expected[(*tbase, "observed")] = 0 if observed is None else observed
            for key in ("expected", "upper"):
                expected[(*tbase, key)] = stored_point.get(key)
        # Top terms: documents holding the term among the signal's cases, and the lift against
        # the same final category's cases of the 52 weeks before the onset week (checked when
        # they are under the 3,000 cap; above it the report takes a subset).
        docs = [tokenize(c["narrative"]) for c in cases]
        background = _rows(
            con,
            f"""SELECT c.narrative FROM cases c
            JOIN case_coding k ON k.hospital_code = c.hospital_code AND k.case_id = c.case_id
                 AND k.case_version = c.version AND NOT k.needs_review
            WHERE c.status = 'active' AND c.hospital_code IN ({PRODUCTION})
              AND k.category_code = $1 AND c.visit_week IN (SELECT unnest($2::VARCHAR[]))""",
            [
                row["category"],
                [_week_minus(row["onset_week"], w) for w in range(1, 1 + BACKGROUND_WEEKS)],
            ],
        )
        bg_docs = [tokenize(r["narrative"]) for r in background]
        for j, term in enumerate(item["top_terms"]):
            n = sum(term["term"] in d for d in docs)
            expected[(*base, "top_terms", j, "n")] = n
            if len(background) <= BACKGROUND_CAP:
                bg = sum(term["term"] in d for d in bg_docs)
                share, bg_share = n / len(docs), (bg + 0.5) / (max(len(bg_docs), 1) + 1)
                expected[(*base, "top_terms", j, "lift")] = round(share / bg_share, 2)
            else:
                expected[(*base, "top_terms", j, "lift")] = term["lift"]  # capped: not checked
        # Suggested risk level: severity (4 with a death, else the highest level a fifth of
        # the cases reach) and evidence points, from the cases and the leading alert.
        levels = [_severity_level(c["severity"], c["outcome"]) for c in cases]
        if not levels:
            severity = 1
        elif 4 in levels:
            severity = 4
        else:
            needed = max(1, math.ceil(0.2 * len(levels)))
            severity = max(lvl for lvl in (1, 2, 3) if sum(v >= lvl for v in levels) >= needed)
        quality = (
            sum(c["product_relation"] == "quality_related" for c in cases) / len(cases)
            if cases
            else 0.0
        )
        points = 2 if quality >= 0.5 else 1 if quality >= 0.2 else 0
        points += len({c["hospital_code"] for c in cases}) >= 3
        lead_row = lead or {}
        observed, exp = lead_row.get("observed"), lead_row.get("expected")
        points += lead_row.get("alert_type") == "new_term" or (
            observed is not None
            and exp is not None
            and not _is_nan(observed)
            and not _is_nan(exp)
            and observed >= 2 * max(exp, 0.5)
        )
        points += len(cases) >= 10
        expected[(*base, "risk", "severity")] = severity
        expected[(*base, "risk", "evidence_points")] = int(points)
        counts = _followups_counts(app_url, row["signal_id"], data["status_as_of"])
        for key, value in (counts or {}).items():
            expected[(*base, "investigation", key)] = value
    # Quiet and resolved signals of the week: their stored counts and their three newest
    # member alerts up to the week, newest first.
    for name, status in (("quiet", "quiet"), ("resolved", "resolved")):
        listed = sorted(
            (s for s in stored if s["status"] == status),
            key=lambda s: (
                big if s["rank"] is None else s["rank"],
                s["quiet_weeks"],
                s["signal_id"],
            ),
        )
        if [s["signal_id"] for s in data[name]] != [s["signal_id"] for s in listed]:
            problems.append(f"{name} signals are not the stored {status} signals of the week")
        for i, item in enumerate(data[name]):
            row = rows.get(item["signal_id"])
            if row is None:
                continue
            base = (name, i)
            for key in ("quiet_weeks", "n_cases", "n_died"):
                expected[(*base, key)] = row[key]
            if "provisional" in item:
                linked = _linked_waiting(row, _waiting_members(con, row, week))
                if linked is not None:
                    expected[(*base, "provisional", "n_cases")] = len(linked)
            newest = _rows(
                con,
                """SELECT a.* FROM signal_alerts m
                JOIN alerts a ON a.week = m.week AND a.alert_id = m.alert_id
                WHERE m.signal_id = $1 AND m.week <= $2
                ORDER BY a.week DESC, a.rank NULLS LAST, a.alert_id LIMIT 3""",
                [row["signal_id"], week],
            )
            expected.update(
                _members_expected(
                    item["members"], newest, (*base, "members"), item["signal_id"], problems
                )
            )
    return expected


def _waiting_members(con: duckdb.DuckDBPyConnection, row: dict, week: str) -> list[dict]:
    """Provisional pattern members (own SQL): production hospitals' active cases whose current
    version waits for a coder, placed provisionally in a pattern, visited from the signal's
    onset week to ``week``, and not among the signal's counted cases."""
    counted = set(json.loads(row["case_keys"] or "[]"))
    pending = _rows(
        con,
        """SELECT p.hospital_code, p.case_id, p.pattern_id, p.category_code, p.similarity,
                  c.age, c.visit_week, c.residence_region
        FROM case_patterns_all p
        JOIN cases c ON c.hospital_code = p.hospital_code AND c.case_id = p.case_id
        JOIN ref_hospitals h ON h.hospital_code = c.hospital_code AND h.is_test = 'False'
        JOIN case_coding k ON k.hospital_code = c.hospital_code AND k.case_id = c.case_id
             AND k.case_version = c.version
        WHERE p.provisional AND c.status = 'active' AND k.needs_review
              AND c.visit_week >= $1 AND c.visit_week <= $2""",
        [row["onset_week"], week],
    )
    return [p for p in pending if f"{p['hospital_code']}/{p['case_id']}" not in counted]


def _linked_waiting(row: dict, waiting: list[dict]) -> list[dict] | None:
    """The waiting cases the signal's rule links (docs/detection.md, evidence window): by its
    specific subjects (patterns; category x city) when it has any, else by its categories.
    None for rules this check does not recompute (terms, disproportionality) unless no waiting
    case is of a subject's category (then nothing can be linked, except by a new term)."""
    subjects = json.loads(row["subjects"] or "[]")
    specific = [s for s in subjects if s.get("alert_type") != "category"]
    categories = {s.get("category") for s in subjects if s.get("category")}
    if not specific:
        return [p for p in waiting if p["category_code"] in categories]
    if all(s.get("alert_type") in ("pattern", "new_pattern", "category_region") for s in specific):

        def linked(p: dict) -> bool:
            city = (p["residence_region"] or "")[:4] + "00"
            return any(
                p["pattern_id"] == s.get("pattern_id")
                if s["alert_type"] != "category_region"
                else p["category_code"] == s.get("category") and city == s.get("region")
                for s in specific
            )

        return [p for p in waiting if linked(p)]
    if any(s.get("alert_type") == "new_term" for s in specific):
        return [] if not waiting else None
    return [] if not any(p["category_code"] in categories for p in waiting) else None


def _provisional_expected(
    con: duckdb.DuckDBPyConnection,
    item: dict,
    row: dict,
    week: str,
    base: tuple,
    problems: list[str],
) -> dict:
    """A signal's provisional members (never counted), from the warehouse: which patterns, how
    many in each and in all (where the rule is recomputed here), each listed case's age and
    similarity."""
    expected: dict = {}
    prov = item.get("provisional")
    if not isinstance(prov, dict):
        return expected
    waiting = _waiting_members(con, row, week)
    linked = _linked_waiting(row, waiting)
    listed = [p["code"] for p in prov.get("patterns", [])]
    if linked is not None:
        by_pattern = Counter(p["pattern_id"] for p in linked)
        if sorted(listed) != sorted(by_pattern):
            problems.append(f"{item['signal_id']} provisional patterns {listed} != {by_pattern}")
        expected[(*base, "provisional", "n_cases")] = len(linked)
        for j, code in enumerate(listed):
            expected[(*base, "provisional", "patterns", j, "n")] = by_pattern[code]
    found = {(p["hospital_code"], p["case_id"]): p for p in waiting}
    for j, case in enumerate(prov.get("cases", [])):
        source = found.get((case["hospital_code"], case["case_id"]))
        if source is None:
            problems.append(f"{item['signal_id']} provisional case {case['case_id']} not waiting")
            continue
        age = source["age"]
        expected[(*base, "provisional", "cases", j, "age")] = None if age is None else float(age)
        expected[(*base, "provisional", "cases", j, "similarity")] = round(
            float(source["similarity"]), 3
        )
    return expected


def _flatten(value: object, path: tuple) -> list[tuple[tuple, object]]:
    if isinstance(value, dict):
        return [item for k, v in value.items() for item in _flatten(v, (*path, k))]
    if isinstance(value, list):
        return [item for i, v in enumerate(value) for item in _flatten(v, (*path, i))]
    return [(path, value)]


def expected_numbers(
    con: duckdb.DuckDBPyConnection, data: dict, app_url: str | None = None
) -> tuple[dict, list[str]]:
    from pipeline.detection.new_terms import tokenize  # what a "term" is

    problems: list[str] = []
    week = data["week"]
    cases, hospitals = con.execute(
        f"""SELECT count(*), count(DISTINCT hospital_code) FROM cases
        WHERE status = 'active' AND hospital_code IN ({PRODUCTION})
          AND visit_datetime >= $1 AND visit_datetime < $2""",
        [_monday(week), _monday(week) + timedelta(days=7)],
    ).fetchone()
    expected = {("cases_in_week",): cases, ("hospitals_in_week",): hospitals}
    expected.update(_health_expected(con, data, problems))
    expected.update(_signal_expected(con, data, problems, tokenize, app_url))
    return expected, problems


def numbers(value: object, path: tuple = ()) -> list[tuple[tuple, float]]:
    """Every number in a JSON value with its path (booleans are not numbers)."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [(path, value)]
    if isinstance(value, dict):
        return [item for k, v in value.items() for item in numbers(v, (*path, k))]
    if isinstance(value, list):
        return [item for i, v in enumerate(value) for item in numbers(v, (*path, i))]
    return []


def _same(actual: float, wanted: object) -> bool:
    if wanted is None:
        return False
    if isinstance(actual, int) and not isinstance(actual, bool) and isinstance(wanted, int):
        return actual == wanted
    wanted = float(wanted)  # type: ignore[arg-type]
    # the report rounds shares and medians to 4 decimals, lifts to 2
    return math.isclose(actual, wanted, rel_tol=1e-6, abs_tol=6e-5)


def check(
    con: duckdb.DuckDBPyConnection, data: dict, app_url: str | None = None
) -> tuple[list[str], int]:
    """Problems (empty when every number matches) and how many numbers were checked.
    ``app_url``: the application database, for the signals' follow-up counts (without it those
    counts are reported as unchecked)."""
    expected, problems = expected_numbers(con, data, app_url)
    found = numbers(data)
    for path, value in found:
        if path not in expected:
            problems.append(f"unchecked number at {path}: {value}")
        elif not _same(value, expected[path]):
            problems.append(f"{path}: report {value!r}, warehouse {expected[path]!r}")
    present = {path for path, _ in found}
    for path, value in expected.items():
        if path not in present and value is not None and not _is_nan(value):
            problems.append(f"{path}: the warehouse gives {value!r}, the report has none")
    return problems, len(found)


def _is_nan(value: object) -> bool:
    return isinstance(value, float) and math.isnan(value)


__all__ = ["check", "expected_numbers", "numbers"]
