"""Database service: schema status, upgrade (and publish), the read side's state."""

from __future__ import annotations

from pipeline.appdb.audit import Actor
from pipeline.config import Settings
from pipeline.errors import NotFound
from pipeline.storage import publish, schema
from pipeline.storage.session import Progress, publish_now
from pipeline.storage.warehouse import connect


def status(settings: Settings) -> dict:
    """Schema version of the live warehouse (current vs latest) and the published snapshot.

    Reads the live file only for its ``schema_version`` rows: it fails with DuckDB's lock error
    while a writer holds it, so ``status`` reports the published state instead then."""
    out: dict = {"warehouse": str(settings.warehouse_path), "latest": schema.latest_version()}
    snapshot = publish.current(settings)
    if snapshot is not None:
        with publish.open_current(settings) as con:
            out["published"] = {
                "snapshot": str(snapshot),
                "schema": schema.current_version(con),
                "manifest": con.execute(
                    "SELECT seq, published_at, submissions, cases, alerts FROM publication"
                ).fetchall(),
            }
    if not settings.warehouse_path.exists():
        out["current"] = None
        out["pending"] = [f"{m.version:04d}_{m.name}" for m in schema.migrations()]
        return out
    try:
        con = connect(settings.warehouse_path, read_only=True)
    except Exception as exc:  # noqa: BLE001 - a writer holds the file: say so, do not wait
        out["live"] = f"busy ({type(exc).__name__}): a writer holds the live warehouse"
        return out
    try:
        out.update(schema.status(con))
        out["drift"] = schema.shape_differences(con)
    finally:
        con.close()
    return out


def upgrade(
    settings: Settings, progress: Progress | None = None, actor: Actor | None = None
) -> dict:
    """Apply pending migrations (each in one transaction) and publish a snapshot.

    Schema 6 moves the warehouse's triage records to the application database: they are copied
    there first (recorded as imported by ``actor``, default the operating-system account) and
    the warehouse tables are dropped only once every row is accounted for."""
    from pipeline.services import accounts, triage

    if not settings.warehouse_path.exists():
        raise NotFound(f"no warehouse at {settings.warehouse_path}: run `sentinel ingest` first")
    if actor is None:
        db = accounts.open_appdb(settings)
        try:
            actor = accounts.cli_actor(db, None)
        finally:
            db.dispose()
    publish_now(settings, progress, move_out=triage.legacy_move_out(settings, actor))
    return status(settings)
