"""``sentinel report weekly|quarterly``: write the weekly hazard report or the quarterly
statistical summary and print the paths written."""

from __future__ import annotations

import typer

from pipeline.cli._common import say, settings
from pipeline.errors import BadInput

app = typer.Typer(
    help="Reports: the weekly hazard report and the quarterly statistical summary.",
    no_args_is_help=True,
)


@app.command("weekly")
def weekly(
    week: str = typer.Option(
        None,
        "--week",
        help="ISO week, e.g. 2026-W47 (default: the "
        "latest week with alerts, up to the last complete week).",
    ),
    lang: str = typer.Option("all", "--lang", help="zh, en or all (both)."),
) -> None:
    """Write the weekly hazard report (HTML per language, and JSON).

    Each HTML file is self-contained (charts embedded, works offline, prints well); files go
    to $SENTINEL_HOME/reports/<week>/ and their paths are printed.
    """
    from pipeline.services import reporting

    langs = {"all": ("zh", "en"), "zh": ("zh",), "en": ("en",)}.get(lang)
    if langs is None:
        raise BadInput(f"--lang must be zh, en or all, not {lang!r}")
    say(f"writing the weekly report{' for ' + week if week else ''} ...")
    paths = reporting.weekly(settings(), week=week, langs=langs)
    for key in (*langs, "json"):
        typer.echo(str(paths[key]))


@app.command("quarterly")
def quarterly(
    quarter: str = typer.Option(..., "--quarter", help="Calendar quarter, e.g. 2026-Q3."),
) -> None:
    """Write the quarterly statistical summary (bilingual HTML and CSV).

    Cases by product family, region, severity, outcome and relation to the product, the top
    hazard patterns, and the change against the same quarter a year earlier; files go to
    $SENTINEL_HOME/reports/quarterly/<quarter>/ and their paths are printed.
    """
    from pipeline.services import reporting

    paths = reporting.quarterly(settings(), quarter)
    for path in paths.values():
        typer.echo(str(path))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="report")
