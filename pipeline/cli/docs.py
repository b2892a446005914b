"""``sentinel docs``: documents generated from the code (so they cannot drift)."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.config import REPO_ROOT

app = typer.Typer(help="Generate documentation from the code.", no_args_is_help=True)

DATA_DICTIONARY = REPO_ROOT / "docs" / "data-dictionary.md"


@app.command("data-dictionary")
def data_dictionary(
    out: Path = typer.Option(DATA_DICTIONARY, help="Where to write the Markdown file."),
    check: bool = typer.Option(False, help="Only check that OUT is up to date (exit 1 if not)."),
) -> None:
    """Write docs/data-dictionary.md from the case-record contract and code sets."""
    from pipeline.data_dictionary import render_data_dictionary

    text = render_data_dictionary()
    if check:
        current = out.read_text(encoding="utf-8") if out.exists() else ""
        if current != text:
            typer.echo(f"{out} is out of date: run `sentinel docs data-dictionary`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{out} is up to date")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {out}")


@app.command("expectations")
def expectations(
    check: bool = typer.Option(False, help="Only check the committed suite is up to date."),
) -> None:
    """Write expectations/case_record.json from the contract and the reference data."""
    from pipeline.validation.suite import SUITE_PATH, render_suite_json

    text = render_suite_json()
    if check:
        if not SUITE_PATH.exists() or SUITE_PATH.read_text(encoding="utf-8") != text:
            typer.echo(f"{SUITE_PATH} is out of date: run `sentinel docs expectations`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{SUITE_PATH} is up to date")
        return
    SUITE_PATH.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {SUITE_PATH}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="docs")
