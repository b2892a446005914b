"""``sentinel network``: the state of the sentinel network's landing zone."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Inspect the sentinel network (landing zone, registry).",
                  no_args_is_help=True)


@app.command("summary")
def summary(
    landing: Path = typer.Option(None, "--landing", help="Landing directory (default: "
                                 "$SENTINEL_LANDING or the shipped sample)."),
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
        table.add_row(code, "yes" if known else "NO", registry.at[code, "hospital_type"]
                      if known else "-", str(len(mine)),
                      f"{sum(f.size_bytes for f in mine) / 1e6:.1f}",
                      Path(mine[0].relpath).name, Path(mine[-1].relpath).name)
    Console().print(table)
    if problems:
        typer.echo(f"{problems} folder(s) do not match a registered hospital", err=True)
        raise typer.Exit(1)
