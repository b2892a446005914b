"""``sentinel network``: the state of the sentinel network's landing zone."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipeline.cli._common import say, settings
from pipeline.escaping import terminal_text

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
    from pipeline.services import network

    folder, rows = network.summary(settings(), landing)
    out = Table(title=f"Landing zone {folder}")
    for column in ("hospital", "registered", "type", "files", "MB", "first file", "last file"):
        out.add_column(column)
    for row in rows:
        # Folder and file names are data: plain Text, never rich markup, control characters
        # dropped ("[red]" in a name stays "[red]").
        out.add_row(
            Text(terminal_text(row["hospital"])),
            "yes" if row["registered"] else "NO",
            row["type"] or "-",
            str(row["files"]),
            f"{row['bytes'] / 1e6:.1f}",
            Text(terminal_text(row["first_file"])),
            Text(terminal_text(row["last_file"])),
        )
    Console(width=160).print(out)
    problems = sum(not row["registered"] for row in rows)
    if problems:
        say(f"{problems} folder(s) do not match a registered hospital")
        raise typer.Exit(1)


@app.command("report")
def report() -> None:
    """Summarise what the warehouse holds: submissions, rows, cases and quarantine by hospital."""
    from pipeline.reporting.network import HOSPITAL_COLUMNS
    from pipeline.services import network

    config = settings()
    data = network.report(config)
    console = Console(width=160)
    out = Table(title=f"Warehouse {config.warehouse_path} (published snapshot)")
    for column in HOSPITAL_COLUMNS:
        out.add_column(column, justify="right")
    for row in data["hospitals"]:
        out.add_row(*[Text("" if v is None else terminal_text(v)) for v in row])
    console.print(out)
    rules = Table(title="Quarantined rows by rule")
    rules.add_column("rule")
    rules.add_column("rows", justify="right")
    for rule, n in data["rules"]:
        rules.add_row(Text(terminal_text(rule)), str(n))
    console.print(rules)
    console.print(
        f"submissions where received != stored + quarantined + duplicate: {data['unbalanced']}"
    )
    console.print(
        f"receipts: {config.outbox_dir}\nlake: {config.lake_location}\n"
        f"data docs: {config.data_docs_dir / 'index.html'}"
    )


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="network")
