"""Low-level warehouse helpers: open a DuckDB file, transactions, reference tables, checksums.

The tables themselves are created by the numbered migrations (``pipeline/storage/migrations``,
applied by :mod:`pipeline.storage.schema`); services open connections only through
:mod:`pipeline.storage.session` (``writer`` / ``reader``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pipeline import reference
from pipeline.contract import FIELDS, KEY_FIELDS
from pipeline.errors import NotFound, SchemaError

CASE_FIELDS = [f.name for f in FIELDS]
CASE_VALUE_FIELDS = [name for name in CASE_FIELDS if name not in KEY_FIELDS]


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file (the session helper's building block; services use
    :mod:`pipeline.storage.session`)."""
    if read_only and not path.exists():
        raise NotFound(f"no warehouse at {path}: run `sentinel ingest` first")
    path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path), read_only=read_only)


REFERENCE_TABLES = ("ref_taxonomy", "ref_codesets", "ref_hospitals")


def refresh_reference_tables(con: duckdb.DuckDBPyConnection, registry: Path | None = None) -> None:
    """Reference tables mirror the versioned files in the repo, or ``registry`` for the
    hospitals (replaced on every load; text throughout, as the CSV files are)."""
    tables = {
        "ref_taxonomy": reference.load_taxonomy(),
        "ref_codesets": reference.load_codesets(),
        "ref_hospitals": reference.load_hospitals(registry),
    }
    for name, frame in tables.items():
        columns = [
            c
            for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                "ORDER BY ordinal_position",
                [name],
            ).fetchall()
        ]
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise SchemaError(f"{name}: the reference file has no column(s) {missing}")
        con.register("_ref", frame[columns].astype(str))
        con.execute(f"DELETE FROM {name}")
        con.execute(f"INSERT INTO {name} SELECT * FROM _ref")
        con.unregister("_ref")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    # fetchall(): DuckDB 2.0 refuses register() while a result is left open on the connection
    con.execute("BEGIN TRANSACTION").fetchall()
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK").fetchall()
        raise
    con.execute("COMMIT").fetchall()


# When each migration was applied and what a snapshot's manifest says: not warehouse content.
BOOKKEEPING = ("schema_version", "publication")


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
        if name in BOOKKEEPING:
            continue
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
