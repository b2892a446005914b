"""``sentinel detect``: write a week's alerts (or a range of weeks, for backfills)."""

from __future__ import annotations

import typer


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
    from pipeline.alerts.weekly import AlertSettings, default_week, run_weeks
    from pipeline.config import Settings
    from pipeline.detection.registry import METHODS
    from pipeline.isoweek import is_iso_week, week_range
    from pipeline.storage.warehouse import connect

    for name, value in (("--method", method), ("--rise-method", rise_method)):
        if value not in METHODS and not (name == "--rise-method" and value == "none"):
            raise typer.BadParameter(f"{name}: unknown method {value!r}")
    if fdr_scope not in ("kind", "all"):
        raise typer.BadParameter("--fdr-scope must be 'kind' or 'all'")
    if week and (week_from or week_to):
        raise typer.BadParameter("give --week or --from/--to, not both")
    settings = Settings.from_env()
    if not (week or week_from or week_to):
        con = connect(settings.warehouse_path, read_only=True)
        try:
            week = default_week(con)
        finally:
            con.close()
    start, end = (week, week) if week else (week_from, week_to)
    if not start or not end:
        raise typer.BadParameter("give --week WEEK or both --from and --to")
    for value in (start, end):
        if not is_iso_week(value):
            raise typer.BadParameter(f"{value!r} is not an ISO week like 2026-W14")
    weeks = week_range(start, end)
    if not weeks:
        raise typer.BadParameter(f"--from {start} is after --to {end}")
    con = connect(settings.warehouse_path)
    try:
        counts = run_weeks(
            con,
            weeks,
            AlertSettings(
                method=method, alpha=alpha, fdr=fdr, rise_method=rise_method, fdr_scope=fdr_scope
            ),
            progress=lambda m: typer.echo(m, err=True),
        )
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    finally:
        con.close()
    typer.echo(
        f"{sum(counts.values())} alerts over {len(weeks)} week(s) in "
        f"{settings.warehouse_path} (table alerts)"
    )


def register(app: typer.Typer) -> None:
    app.command("detect")(detect)
