"""The warehouse schema: numbered SQL migrations, a ``schema_version`` table, upgrade and status.

Every warehouse table and view is created by a file of ``pipeline/storage/migrations/``
(``NNNN_name.sql``, applied in order, each in one transaction together with its
``schema_version`` row). Nothing else in the library creates or alters a warehouse table.

To change the schema, add the next file (never edit one that has been released: the runner
keeps each file's SHA-256 and refuses a warehouse whose applied migrations differ from the
files). ``sentinel db upgrade`` applies what is pending; every writing command does it first.

A migration that drops tables whose rows another store takes over says so in a header line
``-- moves-out: table, table``. The runner applies it only when those tables are empty, or
after the ``move_out`` hook (given by the service that owns the move, e.g. ``sentinel db
upgrade`` moving triage records to the application database) has copied them; any other writer
stops with a SchemaError that says to run ``sentinel db upgrade``.

A warehouse created before versioning (main at 0caf446) has tables but no ``schema_version``:
migration 1 is written to adopt it (``IF NOT EXISTS`` throughout), and after every upgrade the
runner compares every table's columns with a fresh in-memory warehouse built from the same
files, so a table of another shape stops the upgrade instead of being silently misread.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import duckdb

from pipeline.errors import SchemaError
from pipeline.storage.warehouse import refresh_reference_tables, transaction

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_NAME = re.compile(r"^([0-9]{4})_([a-z0-9_]+)\.sql$")
_MOVES_OUT = re.compile(r"^-- moves-out: *(.+)$", re.MULTILINE)

VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
  version INTEGER PRIMARY KEY,
  name VARCHAR NOT NULL,
  checksum VARCHAR NOT NULL,
  applied_at TIMESTAMP NOT NULL
)"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()

    @property
    def moves_out(self) -> tuple[str, ...]:
        """Tables whose rows must be moved elsewhere before this migration drops them."""
        match = _MOVES_OUT.search(self.sql)
        return tuple(t.strip() for t in match[1].split(",")) if match else ()


MoveOut = Callable[[duckdb.DuckDBPyConnection, Migration], None]


@cache
def migrations() -> tuple[Migration, ...]:
    """The migration files in order; versions must run 1, 2, 3 ... without gaps."""
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise SchemaError(f"migration file {path.name} is not named NNNN_name.sql")
        found.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    for expected, migration in enumerate(found, 1):
        if migration.version != expected:
            raise SchemaError(f"migration {expected:04d} is missing (found {migration.version})")
    return tuple(found)


def latest_version() -> int:
    return migrations()[-1].version


def _has_version_table(con: duckdb.DuckDBPyConnection) -> bool:
    # The one place that asks whether a table exists: the runner bootstraps itself.
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'main' AND table_name = 'schema_version'"
        ).fetchall()[0][0]
    )


def applied(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str, str, datetime]]:
    """(version, name, checksum, applied_at) of every applied migration, oldest first."""
    if not _has_version_table(con):
        return []
    return con.execute(
        "SELECT version, name, checksum, applied_at FROM schema_version ORDER BY version"
    ).fetchall()


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    """The warehouse's schema version (0: not versioned yet, e.g. created before versioning)."""
    rows = applied(con)
    return rows[-1][0] if rows else 0


def _check_applied(rows: list[tuple]) -> None:
    files = {m.version: m for m in migrations()}
    for version, name, checksum, _at in rows:
        if version > latest_version():
            raise SchemaError(
                f"the warehouse is at schema {version}, newer than this Sentinel "
                f"(schema {latest_version()}): upgrade Sentinel, do not write with this version"
            )
        if files[version].checksum != checksum:
            raise SchemaError(
                f"migration {version:04d}_{name}.sql differs from the one applied to this "
                "warehouse: released migrations must never be edited (add a new one)"
            )


def pending(con: duckdb.DuckDBPyConnection) -> list[Migration]:
    rows = applied(con)
    _check_applied(rows)
    done = {r[0] for r in rows}
    return [m for m in migrations() if m.version not in done]


def _rows_to_move(con: duckdb.DuckDBPyConnection, migration: Migration) -> dict[str, int]:
    present = {
        t
        for (t,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
    }
    counts = {
        t: int(con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0])
        for t in migration.moves_out
        if t in present
    }
    return {t: n for t, n in counts.items() if n}


def upgrade(
    con: duckdb.DuckDBPyConnection,
    progress: Callable[[str], None] | None = None,
    move_out: MoveOut | None = None,
) -> list[Migration]:
    """Apply every pending migration, each in one transaction; returns those applied.
    ``move_out``: called before a migration that drops tables still holding rows (see the
    module docstring); without it such a migration stops the upgrade."""
    todo = pending(con)
    if not todo:
        return []
    if current_version(con) == 0:
        # A warehouse from before versioning: its tables must have the baseline's columns
        # (missing tables are fine, migration 1 creates them) before anything is applied.
        drift = _differences(_shape(con), expected_shape(1), missing_ok=True)
        if drift:
            raise SchemaError("tables differ from schema 1: " + "; ".join(drift))
    con.execute(VERSION_TABLE)
    for migration in todo:
        if progress:
            progress(f"schema: applying migration {migration.version:04d}_{migration.name}")
        held = _rows_to_move(con, migration) if migration.moves_out else {}
        if held:
            if move_out is None:
                listing = ", ".join(f"{t} ({n} rows)" for t, n in sorted(held.items()))
                raise SchemaError(
                    f"migration {migration.version:04d}_{migration.name} moves {listing} out of "
                    "the warehouse: run `sentinel db upgrade`, which copies them to the "
                    "application database first",
                    detail_zh=f"迁移 {migration.version:04d}_{migration.name} 须先将 {listing} "
                    "移出数据仓库：请运行 `sentinel db upgrade`，它会先将这些记录复制到应用数据库",
                )
            move_out(con, migration)
        try:
            with transaction(con):
                con.execute(migration.sql)
                con.execute(
                    "INSERT INTO schema_version VALUES (?, ?, ?, ?)",
                    [
                        migration.version,
                        migration.name,
                        migration.checksum,
                        datetime.now(UTC).replace(tzinfo=None),
                    ],
                )
        except duckdb.Error as exc:
            raise SchemaError(
                f"migration {migration.version:04d}_{migration.name} failed and was rolled "
                f"back: {exc}"
            ) from exc
    drift = shape_differences(con)
    if drift:
        raise SchemaError("tables differ from the migrations: " + "; ".join(drift))
    return todo


def _shape(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
    ).fetchall()
    shape: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in rows:
        shape.setdefault(table, []).append((column, dtype))
    return shape


@cache
def expected_shape(version: int) -> dict[str, list[tuple[str, str]]]:
    """Tables and views (with their columns) of a fresh warehouse at ``version``."""
    con = duckdb.connect(":memory:")
    try:
        for migration in migrations()[:version]:
            con.execute(migration.sql)
        return _shape(con)
    finally:
        con.close()


def shape_differences(con: duckdb.DuckDBPyConnection) -> list[str]:
    """How the warehouse's tables differ from what its migrations create (empty: none)."""
    return _differences(_shape(con), expected_shape(current_version(con)))


def _differences(
    have: dict[str, list[tuple[str, str]]],
    want: dict[str, list[tuple[str, str]]],
    missing_ok: bool = False,
) -> list[str]:
    have = {t: c for t, c in have.items() if t != "schema_version"}
    problems = []
    for table in sorted(set(want) | set(have)):
        if table not in have:
            if not missing_ok:
                problems.append(f"{table} is missing")
        elif table not in want:
            problems.append(f"{table} is not created by any migration")
        elif have[table] != want[table]:
            extra = [c for c in have[table] if c not in want[table]]
            missing = [c for c in want[table] if c not in have[table]]
            problems.append(f"{table} has columns {extra or '[]'} instead of {missing or '[]'}")
    return problems


def status(con: duckdb.DuckDBPyConnection) -> dict:
    """Current and latest schema version, applied and pending migrations."""
    rows = applied(con)
    return {
        "current": rows[-1][0] if rows else 0,
        "latest": latest_version(),
        "applied": [
            {"version": v, "name": n, "applied_at": a.isoformat(timespec="seconds")}
            for v, n, _c, a in rows
        ],
        "pending": [
            f"{m.version:04d}_{m.name}"
            for m in migrations()
            if m.version not in {r[0] for r in rows}
        ],
    }


def initialise(con: duckdb.DuckDBPyConnection, registry: Path | None = None) -> None:
    """A usable warehouse on ``con``: every migration, and reference tables filled (what a
    writer session and the first load do; for tests and benchmarks that build a warehouse by
    hand)."""
    upgrade(con)
    with transaction(con):
        refresh_reference_tables(con, registry)
