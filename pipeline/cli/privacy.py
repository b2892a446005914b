"""``sentinel privacy scrub``: remove identifiers from a column of any UTF-8 CSV file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="De-identify free text before sharing it (the scrubbing intake applies).",
    no_args_is_help=True,
)


@app.command("scrub")
def scrub(
    ctx: typer.Context,
    input_csv: Annotated[
        Path, typer.Argument(metavar="INPUT", help="A UTF-8 CSV file with a header row.")
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the scrubbed copy.")
    ],
    column: Annotated[str, typer.Option("--column", help="The column to scrub.")] = "text",
    name_column: Annotated[
        str | None,
        typer.Option(
            "--name-column", help="A column with each row's person name, removed from its text."
        ),
    ] = None,
) -> None:
    """Replace ID numbers, phones, e-mail addresses, WeChat/QQ ids, addresses and person
    names in one column by typed placeholders ([电话] / [PHONE], [姓名] / [NAME] ...); every
    other column is copied unchanged. The output appears only when the whole file is done."""
    from pipeline.services import privacy

    summary = privacy.scrub_file(input_csv, output, column=column, name_column=name_column)
    if ctx.meta.get("sentinel.lang") == "zh":
        typer.echo(f"{summary.rows} 行，其中 {summary.changed} 行有改动 -> {summary.output}")
    else:
        typer.echo(f"{summary.rows} rows, {summary.changed} changed -> {summary.output}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="privacy")
