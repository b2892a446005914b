"""``sentinel sample``: generate the deterministic sample sentinel network."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import typer

app = typer.Typer(
    help="Deterministic sample sentinel network: synthetic hospital extracts (CSV/XLSX, Chinese "
    "and English, GB18030/UTF-8) with injected emerging hazards, realistic faults and a ground "
    "truth. Same arguments, byte-identical files.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _sample() -> None:
    """Deterministic sample sentinel network (synthetic extracts, hazards, faults, ground truth)."""


SHIPPED = (
    "the shipped sample (data/sample) is: --seed 20261122 --hospitals 8 --weeks 104 "
    "--end-date 2026-11-22 --daily-weeks 8 --scale 0.45"
)


@app.command("generate", epilog=SHIPPED)
def generate(
    out: Path = typer.Option(
        ...,
        "--out",
        help="Output directory; receives landing/<hospital>/, "
        "ground_truth.json, ground_truth_cases.csv, README.md and arrivals.csv (each file's "
        "intended arrival: `sentinel arrivals import OUT/arrivals.csv` before ingest); those "
        "are replaced, nothing else is touched.",
    ),
    seed: int = typer.Option(20261122, help="Random seed; different seeds give different data."),
    hospitals: int = typer.Option(8, help="Use the first H production hospitals of the registry."),
    weeks: int = typer.Option(104, help="ISO weeks of data ending on --end-date."),
    end_date: datetime = typer.Option(
        "2026-11-22",
        "--end-date",
        formats=["%Y-%m-%d"],
        help="Last day of the data; must be a Sunday.",
    ),
    daily_weeks: int = typer.Option(
        None,
        help="The last N weeks arrive as daily files; earlier weeks as monthly backfill files "
        "(default: 8, or --weeks when that is shorter).",
    ),
    scale: float = typer.Option(
        0.45,
        help="Multiplier on the registry daily volumes "
        "(0.45 gives about 66,000 cases for 8 hospitals x 104 weeks).",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only print the final summary."),
) -> None:
    """Write a sample network: hospital extracts, hazards, faults and their ground truth."""
    from sentinel_tools.sample.generator import generate_network  # noqa: PLC0415

    started = time.monotonic()
    if daily_weeks is None:
        daily_weeks = min(8, weeks)

    def progress(message: str) -> None:
        if not quiet:
            typer.echo(f"  {message}")

    if not quiet:
        typer.echo(f"generating {hospitals} hospitals x {weeks} weeks (seed {seed}) into {out}")
    try:
        summary = generate_network(
            out,
            seed=seed,
            hospitals=hospitals,
            weeks=weeks,
            end_date=end_date.date(),
            daily_weeks=daily_weeks,
            scale=scale,
            progress=progress,
        )
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    elapsed = time.monotonic() - started
    typer.echo(
        f"done in {elapsed:.1f}s: {summary['files']:,} files, {summary['cases']:,} cases, "
        f"{summary['rows']:,} rows, {summary['bytes'] / 1e6:.1f} MB landing "
        f"({summary['total_bytes'] / 1e6:.1f} MB with ground truth); "
        f"{summary['hazards']} hazards ({summary['hazard_cases']} cases), "
        f"{summary['faults']} faults -> {out / 'ground_truth.json'}"
    )
