"""Tables derived once per published snapshot, for its readers (the web app's case search).

Owner: the publisher (:func:`pipeline.storage.publish.publish`). It builds them inside the copy
of the warehouse, after the manifest is written and before the copy is checkpointed, fsynced and
renamed into place; so a snapshot and its derived tables are published together, atomically,
and never change afterwards. They exist only in snapshots, never in the live warehouse (no
migration, no writer but the publisher); readers only read them and fall back to the base
tables when a snapshot has none (one published by an older Sentinel).

``pub_case_search``: one row per active case of a production hospital (test hospitals are left
out, as in every statistic), newest visit first, with what a case search filters on already
computed: the final category (``FINAL_CATEGORY``: the coding of the case's current version,
unless it waits for a coder), the age in years (the unit respected), the visit date, and
``search_text``: the lower-cased narrative and product name (de-identified at intake), joined
by a line break that no search term can hold. The row order keeps a search's newest-first page
and its date filters cheap.

``pub_signal_cases``: for every stored signal week (``signal_weeks``), its cases (``case_keys``)
as ``reporting.context.signal_cases`` reads them (current active versions, final category,
pattern), keyed by ``signal_week`` and ``signal_id``: a signal page reads its few rows instead
of joining its keys with every case.
"""

from __future__ import annotations

import duckdb

SEARCH_TABLE = "pub_case_search"
SIGNAL_CASES_TABLE = "pub_signal_cases"
DERIVED_TABLES = (SEARCH_TABLE, SIGNAL_CASES_TABLE)
# The final category of a case (``k``: its ``case_coding`` row of the current version).
FINAL_CATEGORY = "CASE WHEN k.needs_review THEN NULL ELSE k.category_code END"
AGE_YEARS = (
    "CASE c.age_unit WHEN 'months' THEN c.age / 12.0 WHEN 'days' THEN c.age / 365.25 ELSE c.age END"
)

# A signal's case columns (``reporting.context.CASE_COLUMNS``, de-identified), as read there.
SIGNAL_CASE_COLUMNS = f"""c.hospital_code, c.case_id, CAST(c.visit_datetime AS DATE) AS visit_date,
    c.visit_week, c.sex, c.age, c.age_unit, c.residence_region, c.cause, c.severity, c.outcome,
    c.injury_nature, c.body_region, c.product_name, c.brand, c.model, c.batch, c.barcode,
    c.product_category, {FINAL_CATEGORY} AS category_code, cp.pattern_id AS pattern_id,
    c.product_relation, c.narrative"""


def build(con: duckdb.DuckDBPyConnection) -> int:
    """Create the derived tables in ``con`` (the publisher's copy); returns the search table's
    row count."""
    con.execute("SET enable_progress_bar = false")  # the writer's output stays its own
    con.execute(f"DROP TABLE IF EXISTS {SEARCH_TABLE}")
    con.execute(
        f"""
        CREATE TABLE {SEARCH_TABLE} AS
        SELECT c.hospital_code, c.case_id, c.visit_datetime,
               CAST(c.visit_datetime AS DATE) AS visit_date, c.visit_week, c.sex, c.age,
               c.age_unit, c.residence_region, c.cause, c.place, c.injury_nature, c.body_region,
               c.severity, c.outcome, c.product_name, c.brand, c.model, c.product_relation,
               c.narrative, ({FINAL_CATEGORY}) AS category_code, ({AGE_YEARS}) AS age_years,
               lower(coalesce(c.narrative, '')) || chr(10) || lower(coalesce(c.product_name, ''))
                   AS search_text
        FROM cases c
        LEFT JOIN case_coding k ON k.hospital_code = c.hospital_code AND k.case_id = c.case_id
             AND k.case_version = c.version
        WHERE c.status = 'active'
          AND c.hospital_code IN (SELECT hospital_code FROM ref_hospitals WHERE is_test = 'False')
        ORDER BY c.visit_datetime DESC, c.hospital_code, c.case_id"""
    )
    con.execute(f"DROP TABLE IF EXISTS {SIGNAL_CASES_TABLE}")
    con.execute(
        f"""
        CREATE TABLE {SIGNAL_CASES_TABLE} AS
        WITH keyed AS (
            SELECT s.week AS signal_week, s.signal_id, u.key,
                   position('/' IN u.key) AS slash
            FROM signal_weeks s, unnest(from_json(s.case_keys, '["VARCHAR"]')) AS u(key)
        )
        SELECT sk.signal_week, sk.signal_id, {SIGNAL_CASE_COLUMNS}
        FROM cases c
        JOIN keyed sk ON sk.slash > 0 AND c.hospital_code = sk.key[:sk.slash - 1]
             AND c.case_id = sk.key[sk.slash + 1:]
        LEFT JOIN case_coding k ON k.hospital_code = c.hospital_code
             AND k.case_id = c.case_id AND k.case_version = c.version
        LEFT JOIN case_patterns cp ON cp.hospital_code = c.hospital_code
             AND cp.case_id = c.case_id
        WHERE c.status = 'active'
        ORDER BY sk.signal_week, sk.signal_id, visit_date, c.hospital_code, c.case_id"""
    )
    return int(con.execute(f"SELECT count(*) FROM {SEARCH_TABLE}").fetchone()[0])


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND schema_name = 'main' "
            "AND database_name = current_database()",
            [table],
        ).fetchone()[0]
    )


def has_search_table(con: duckdb.DuckDBPyConnection) -> bool:
    return _has(con, SEARCH_TABLE)


def has_signal_cases(con: duckdb.DuckDBPyConnection) -> bool:
    return _has(con, SIGNAL_CASES_TABLE)
