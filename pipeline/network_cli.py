"""``sentinel network``: the state of the sentinel network's landing zone."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(
    help="Inspect the sentinel network (landing zone, registry).", no_args_is_help=True
)


@app.command("summary")
def summary(
    landing: Path = typer.Option(
        None,
        "--landing",
        help="Landing directory (default: $SENTINEL_LANDING or the shipped sample).",
    ),
) -> None:
    """Check the landing layout against the hospital registry and summarise each folder."""
    from rich.console import Console
    from rich.table import Table

    from pipeline import reference
    from pipeline.config import Settings
    from pipeline.intake.discover import scan_landing

    settings = Settings.from_env()
    landing = (landing or settings.landing_dir).resolve()
    registry = reference.load_hospitals(settings.hospital_registry).set_index("hospital_code")
    files = scan_landing(landing)
    table = Table(title=f"Landing zone {landing}")
    for column in ("hospital", "registered", "type", "files", "MB", "first file", "last file"):
        table.add_column(column)
    problems = 0
    for code in sorted({f.hospital_code for f in files}):
        mine = [f for f in files if f.hospital_code == code]
        known = code in registry.index
        problems += not known
        table.add_row(
            code,
            "yes" if known else "NO",
            registry.at[code, "hospital_type"] if known else "-",
            str(len(mine)),
            f"{sum(f.size_bytes for f in mine) / 1e6:.1f}",
            Path(mine[0].relpath).name,
            Path(mine[-1].relpath).name,
        )
    Console(width=160).print(table)
    if problems:
        typer.echo(f"{problems} folder(s) do not match a registered hospital", err=True)
        raise typer.Exit(1)


@app.command("report")
def report() -> None:
    """Summarise what the warehouse holds: submissions, rows, cases and quarantine by hospital."""
    from rich.console import Console
    from rich.table import Table

    from pipeline.config import Settings
    from pipeline.storage.warehouse import connect

    settings = Settings.from_env()
    con = connect(settings.warehouse_path, read_only=True)
    console = Console(width=160)
    try:
        per_hospital = con.execute("""
            SELECT s.hospital_code,
                   count(*) AS files,
                   count(*) FILTER (WHERE status = 'accepted') AS accepted,
                   count(*) FILTER (WHERE status = 'partially_accepted') AS partial,
                   count(*) FILTER (WHERE status = 'rejected') AS rejected,
                   count(*) FILTER (WHERE status = 'duplicate') AS duplicate,
                   sum(rows_received) AS received, sum(rows_stored) AS stored,
                   sum(rows_quarantined) AS quarantined, sum(rows_duplicate) AS dup_rows,
                   (SELECT count(*) FROM cases c WHERE c.hospital_code = s.hospital_code
                    AND c.status = 'active') AS active_cases,
                   (SELECT min(visit_datetime)::DATE FROM cases c
                    WHERE c.hospital_code = s.hospital_code) AS first_visit,
                   (SELECT max(visit_datetime)::DATE FROM cases c
                    WHERE c.hospital_code = s.hospital_code) AS last_visit
            FROM submissions s GROUP BY 1 ORDER BY 1""").fetchall()
        table = Table(title=f"Warehouse {settings.warehouse_path}")
        for column in (
            "hospital",
            "files",
            "accepted",
            "partial",
            "rejected",
            "duplicate",
            "rows in",
            "stored",
            "quarantined",
            "dup rows",
            "active cases",
            "first visit",
            "last visit",
        ):
            table.add_column(column, justify="right")
        for row in per_hospital:
            table.add_row(*["" if v is None else str(v) for v in row])
        console.print(table)
        rules = con.execute(
            "SELECT rule, count(DISTINCT (submission_id, source_row)) AS n "
            "FROM quarantine GROUP BY 1 ORDER BY 2 DESC, 1"
        ).fetchall()
        table = Table(title="Quarantined rows by rule")
        table.add_column("rule")
        table.add_column("rows", justify="right")
        for rule, n in rules:
            table.add_row(rule, str(n))
        console.print(table)
        unbalanced = con.execute(
            "SELECT count(*) FROM submissions "
            "WHERE rows_received <> rows_stored + rows_quarantined + rows_duplicate"
        ).fetchone()[0]
        console.print(
            f"submissions where received != stored + quarantined + duplicate: {unbalanced}"
        )
        console.print(
            f"receipts: {settings.outbox_dir}\nlake: {settings.lake_location}\n"
            f"data docs: {settings.data_docs_dir / 'index.html'}"
        )
    finally:
        con.close()
