"""``sentinel detection ...``: weekly aberration detection from the command line.

The lead mounts this Typer app on the main CLI (``app.add_typer(detection_app,
name="detection")``); it also runs standalone: ``python -m pipeline.detection.cli --help``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
    from pipeline.detection.base import DetectionInputError
    from pipeline.detection.series_io import SeriesInputError, run_detect_series

    try:
        summary = run_detect_series(input_csv, method, output, alpha, from_week, to_week)
    except (SeriesInputError, DetectionInputError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    typer.echo(
        f"{summary.series} series, {summary.evaluated_weeks} weeks evaluated, "
        f"{summary.alarms} alarms -> {summary.output}"
    )


@app.command("methods")
def list_methods() -> None:
    """List the available detectors with their defaults."""
    from pipeline.detection.registry import METHOD_SUMMARIES

    for name, summary in METHOD_SUMMARIES.items():
        typer.echo(f"{name:28s} {summary}")


if __name__ == "__main__":  # pragma: no cover
    app()
