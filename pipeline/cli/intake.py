"""``sentinel validate`` (dry run) and ``sentinel ingest``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from pipeline.cli._common import parse_date, say, settings


def validate(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Extract to check."),
    hospital: str = typer.Option(..., "--hospital", help="Code of the sending hospital."),
    as_json: bool = typer.Option(False, "--json", help="Print the receipt as JSON."),
) -> None:
    """Dry run: check a file exactly as intake would, store nothing, print the receipt.

    Exit status 0 when every row passes, 1 when some rows fail, 2 when the file is rejected
    whole.
    """
    from pipeline.intake.receipts import render_markdown
    from pipeline.services import intake

    receipt = intake.dry_run(file, hospital, settings())
    typer.echo(
        json.dumps(receipt, ensure_ascii=False, indent=1) if as_json else render_markdown(receipt)
    )
    if receipt["file_rule"]:
        raise typer.Exit(2)
    if receipt["errors"]:
        raise typer.Exit(1)


def ingest(
    landing: Path = typer.Option(
        None,
        "--landing",
        help="Landing directory (one folder per "
        "hospital). Default: $SENTINEL_LANDING or the shipped sample.",
    ),
    hospital: list[str] = typer.Option(None, "--hospital", help="Only these hospitals."),
    date_from: str = typer.Option(None, "--from", help="Only files dated on/after YYYY-MM-DD."),
    date_to: str = typer.Option(None, "--to", help="Only files dated on/before YYYY-MM-DD."),
) -> None:
    """Process every new file in the landing zone: validate, store, quarantine, write receipts."""
    from pipeline.services import intake

    config = settings()
    if landing is not None:
        config = config.with_overrides(landing_dir=landing.resolve())
    result = intake.ingest(
        config,
        hospitals=hospital or None,
        date_from=parse_date(date_from, "--from"),
        date_to=parse_date(date_to, "--to"),
        progress=say,
    )
    typer.echo(
        json.dumps(
            {
                "files": result.files,
                "batches": result.batches,
                "statuses": result.summary.statuses,
                "warehouse": str(config.warehouse_path),
                "receipts": str(config.outbox_dir),
            },
            indent=1,
        )
    )


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
    app.command("ingest")(ingest)
