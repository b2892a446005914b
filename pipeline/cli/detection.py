"""``sentinel detect`` (the week's alerts), ``sentinel detect-series`` and
``sentinel detection methods|detect-series`` (one detector over any weekly counts file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli._common import say, settings

app = typer.Typer(
    name="detection",
    help="Weekly aberration detection on count series (Farrington, EARS, GLR, ...).",
    no_args_is_help=True,
    add_completion=False,
)


def _method_help() -> str:
    return (
        "Detector: auto (Noufaily-Farrington with >= 5 years of history, fewer years -> "
        "smaller b, < 2 years -> short-history), farrington-noufaily, farrington-original, "
        "ears-c1, ears-c2, ears-c3, glrnb, short-history; '-offset' variants "
        "(farrington-noufaily-offset, farrington-original-offset, auto-offset) model "
        "count/denominator and need a denominator column. See docs/detection.md."
    )


@app.command("detect-series")
def detect_series(
    input_csv: Annotated[
        Path,
        typer.Argument(
            metavar="INPUT",
            help="CSV with columns series,week,count[,denominator]; week as ISO YYYY-Www. "
            "Several series per file; weeks without a row count 0 (with a denominator column "
            "every week between a series' first and last week needs a row).",
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="Where to write series,week,observed,expected,upper,score,alarm (alarm 0/1).",
        ),
    ],
    method: Annotated[str, typer.Option("--method", "-m", help=_method_help())] = "auto",
    alpha: Annotated[
        float | None,
        typer.Option(help="One-sided false-alarm probability per series-week (default 0.005)."),
    ] = None,
    from_week: Annotated[
        str | None,
        typer.Option(
            "--from", help="First week to evaluate (YYYY-Www); earlier weeks are history."
        ),
    ] = None,
    to_week: Annotated[
        str | None,
        typer.Option("--to", help="Last week to evaluate (YYYY-Www); later weeks are ignored."),
    ] = None,
) -> None:
    """Flag weeks whose count exceeds what the series' own history predicts.

    Every week that has enough history for the method is evaluated (restrict with
    --from/--to); weeks without enough history are skipped, not guessed.
    """
    from pipeline.services import detection

    summary = detection.detect_series(input_csv, method, output, alpha, from_week, to_week)
    typer.echo(
        f"{summary.series} series, {summary.evaluated_weeks} weeks evaluated, "
        f"{summary.alarms} alarms -> {summary.output}"
    )


@app.command("methods")
def list_methods() -> None:
    """List the available detectors with their defaults."""
    from pipeline.services import detection

    for name, summary in detection.methods().items():
        typer.echo(f"{name:28s} {summary}")


def detect(
    week: str = typer.Option(
        None,
        "--week",
        help="ISO week to evaluate, e.g. 2026-W14 (default: the last complete week with cases).",
    ),
    week_from: str = typer.Option(None, "--from", help="First ISO week of a backfill."),
    week_to: str = typer.Option(None, "--to", help="Last ISO week of a backfill."),
    method: str = typer.Option(
        "auto-offset", help="Series detector (see `sentinel detect-series --help` for the names)."
    ),
    alpha: float = typer.Option(0.005, help="One-sided significance level per series."),
    fdr: float = typer.Option(0.05, help="Benjamini-Hochberg false discovery rate."),
    rise_method: str = typer.Option(
        "auto-rise-offset",
        help="Sustained-rise detector run "
        "alongside --method on every series (window totals of "
        "1-4 weeks); 'none' turns it off.",
    ),
    fdr_scope: str = typer.Option(
        "all",
        help="'all': BH across all series; 'kind': "
        "within category / pattern / category x city series.",
    ),
) -> None:
    """Detect emerging hazards for one week (or --from/--to) and store them in `alerts`.

    Re-running a week replaces its alerts; weeks are processed in order so that each alert's
    status (new / ongoing / resolved) follows from the week before.
    """
    from pipeline.services import detection

    config = settings()
    cfg = detection.settings_for(method, alpha, fdr, rise_method, fdr_scope)
    weeks = detection.weeks_to_run(config, week, week_from, week_to)
    counts = detection.detect(config, weeks, cfg, progress=say)
    typer.echo(
        f"{sum(counts.values())} alerts over {len(weeks)} week(s) in "
        f"{config.warehouse_path} (table alerts)"
    )


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="detection")
    root.command("detect-series")(detect_series)  # the everyday name, also under `detection`
    root.command("detect")(detect)
