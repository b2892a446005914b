"""The DuckDB warehouse: submissions ledger, case versions, current cases, quarantine, reference.

Only one process may write (DuckDB allows a single writer); every load of a submission is one
transaction, so a crash leaves either the whole submission or none of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pipeline import reference
from pipeline.contract import FIELDS, KEY_FIELDS

# Typed storage columns; every other contract field is stored as text.
TYPED = {"visit_datetime": "TIMESTAMP", "injury_datetime": "TIMESTAMP", "age": "DOUBLE"}
CASE_FIELDS = [f.name for f in FIELDS]
CASE_VALUE_FIELDS = [name for name in CASE_FIELDS if name not in KEY_FIELDS]
CASE_VALUES_SQL = ",\n  ".join(f"{n} {TYPED.get(n, 'VARCHAR')}" for n in CASE_VALUE_FIELDS)

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS submissions (
  submission_id VARCHAR PRIMARY KEY,
  hospital_code VARCHAR NOT NULL,
  file_name VARCHAR NOT NULL,
  sha256 VARCHAR NOT NULL,
  size_bytes BIGINT NOT NULL,
  received_at TIMESTAMP NOT NULL,
  processed_at TIMESTAMP NOT NULL,
  file_format VARCHAR,
  encoding VARCHAR,
  header_language VARCHAR,
  status VARCHAR NOT NULL,
  rows_received INTEGER NOT NULL,
  rows_stored INTEGER NOT NULL,
  rows_quarantined INTEGER NOT NULL,
  rows_duplicate INTEGER NOT NULL,
  file_rule VARCHAR,
  file_message VARCHAR,
  file_detail VARCHAR,
  duplicate_of VARCHAR,
  unknown_columns VARCHAR
);
CREATE TABLE IF NOT EXISTS submission_events (
  submission_id VARCHAR NOT NULL,
  seq INTEGER NOT NULL,
  status VARCHAR NOT NULL,
  event_at TIMESTAMP NOT NULL,
  detail VARCHAR
);
CREATE TABLE IF NOT EXISTS case_versions (
  hospital_code VARCHAR NOT NULL,
  case_id VARCHAR NOT NULL,
  version INTEGER NOT NULL,
  content_hash VARCHAR NOT NULL,
  submission_id VARCHAR NOT NULL,
  source_row INTEGER NOT NULL,
  received_at TIMESTAMP NOT NULL,
  visit_week VARCHAR NOT NULL,
  {CASE_VALUES_SQL},
  PRIMARY KEY (hospital_code, case_id, version)
);
CREATE TABLE IF NOT EXISTS cases (
  hospital_code VARCHAR NOT NULL,
  case_id VARCHAR NOT NULL,
  version INTEGER NOT NULL,
  status VARCHAR NOT NULL,
  content_hash VARCHAR NOT NULL,
  submission_id VARCHAR NOT NULL,
  source_row INTEGER NOT NULL,
  received_at TIMESTAMP NOT NULL,
  visit_week VARCHAR NOT NULL,
  {CASE_VALUES_SQL},
  PRIMARY KEY (hospital_code, case_id)
);
CREATE TABLE IF NOT EXISTS quarantine (
  submission_id VARCHAR NOT NULL,
  hospital_code VARCHAR NOT NULL,
  source_row INTEGER NOT NULL,
  case_id VARCHAR,
  field VARCHAR NOT NULL,
  value VARCHAR,
  rule VARCHAR NOT NULL,
  message_en VARCHAR NOT NULL,
  message_zh VARCHAR NOT NULL,
  row_json VARCHAR NOT NULL
);
"""


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    if read_only and not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}: run `sentinel ingest` first")
    path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path), read_only=read_only)


def ensure_schema(con: duckdb.DuckDBPyConnection, registry: Path | None = None) -> None:
    """Create missing tables; reference tables mirror the repo's files (or ``registry``)."""
    con.execute(SCHEMA)
    refresh_reference_tables(con, registry)


def refresh_reference_tables(con: duckdb.DuckDBPyConnection, registry: Path | None = None) -> None:
    """Reference tables mirror the versioned files in the repo (replaced on every load)."""
    tables = {
        "ref_taxonomy": reference.load_taxonomy(),
        "ref_codesets": reference.load_codesets(),
        "ref_hospitals": reference.load_hospitals(registry),
    }
    for name, frame in tables.items():
        con.register("_ref", frame.astype(str))
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _ref")
        con.unregister("_ref")


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether a table or view exists (a killed run may leave a warehouse without schema)."""
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'main' AND table_name = ?",
            [name],
        ).fetchone()[0]
    )


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def table_checksums(
    con: duckdb.DuckDBPyConnection, exclude: dict[str, tuple[str, ...]] | None = None
) -> dict[str, str]:
    """An order-independent checksum of every table's content (for idempotency tests)."""
    exclude = exclude or {}
    out: dict[str, str] = {}
    for (name,) in con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema='main' AND table_type='BASE TABLE' ORDER BY 1"
    ).fetchall():
        cols = [
            c
            for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name=? "
                "ORDER BY ordinal_position",
                [name],
            ).fetchall()
            if c not in exclude.get(name, ())
        ]
        expr = ", ".join(f'"{c}"' for c in cols)
        count, digest = con.execute(
            f"SELECT count(*), coalesce(bit_xor(hash(({expr}))), 0) FROM {name}"
        ).fetchone()
        out[name] = f"{count}:{digest}"
    return out
