"""``sentinel validate`` (dry run), ``sentinel ingest`` and ``sentinel arrivals``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from pipeline.cli._common import parse_date, say, settings, table

arrivals_app = typer.Typer(
    help="When landing files arrived (their received time; never the file's modification time).",
    no_args_is_help=True,
)


def validate(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Extract to check."),
    hospital: str = typer.Option(..., "--hospital", help="Code of the sending hospital."),
    as_json: bool = typer.Option(False, "--json", help="Print the receipt as JSON."),
    received_at: str = typer.Option(
        None,
        "--received-at",
        help="Treat the file as received at this time (ISO, UTC unless it has an offset). "
        "Default: its recorded arrival, else now.",
    ),
) -> None:
    """Dry run: check a file exactly as intake would, store nothing, print the receipt.

    The checks against stored cases (a resent file, case IDs already stored, corrections,
    voids) use the published warehouse, so the receipt is the one ingest would write now.
    Exit status 0 when every row passes, 1 when some rows fail, 2 when the file is rejected
    whole.
    """
    from pipeline.intake.receipts import render_markdown
    from pipeline.services import intake

    receipt = intake.dry_run(file, hospital, settings(), received_at=received_at)
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


@arrivals_app.command("import")
def arrivals_import(
    manifest: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="CSV with columns file, sha256, received_at."
    ),
) -> None:
    """Record the arrival times listed in a manifest (e.g. data/sample/arrivals.csv written by
    the sample generator); a file already recorded keeps its first arrival."""
    from pipeline.services import intake

    listed, added = intake.import_arrivals(settings(), manifest)
    say(f"{listed} arrivals listed in {manifest.name}, {added} newly recorded")


@arrivals_app.command("record")
def arrivals_record(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The file that arrived."),
    hospital: str = typer.Option(..., "--hospital", help="Code of the sending hospital."),
    at: str = typer.Option(
        None, "--at", help="Arrival time (ISO, UTC unless it has an offset). Default: now."
    ),
) -> None:
    """Record that FILE arrived from HOSPITAL (before copying it into <landing>/<HOSPITAL>/)."""
    from pipeline.intake.discover import sha256_file
    from pipeline.services import intake

    arrival = intake.record_arrival(
        settings(),
        hospital,
        file.name,
        sha256_file(file),
        file.stat().st_size,
        received_at=at,
        source="cli",
    )
    say(f"{arrival.relpath}: received {arrival.received_at} UTC ({arrival.source})")


@arrivals_app.command("list")
def arrivals_list(
    hospital: str = typer.Option(None, "--hospital", help="Only this hospital."),
) -> None:
    """The recorded arrivals, oldest first."""
    from pipeline.services import intake

    rows = [
        [a.received_at, a.source, a.hospital_code, a.relpath, a.sha256[:12]]
        for a in intake.list_arrivals(settings(), hospital)
    ]
    table("Arrivals (UTC)", ["received", "source", "hospital", "file", "sha256"], rows)


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
    app.command("ingest")(ingest)
    app.add_typer(arrivals_app, name="arrivals")
