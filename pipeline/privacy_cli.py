"""``sentinel privacy scrub``: remove identifiers from a column of any UTF-8 CSV file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="De-identify free text before sharing it (same scrubbing as intake).",
    no_args_is_help=True,
)


def _default_lang() -> str:
    return "zh" if os.environ.get("LANG", "").lower().startswith("zh") else "en"


@app.command("scrub")
def scrub(
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
    lang: Annotated[
        str | None, typer.Option("--lang", help="Language of messages: zh or en.")
    ] = None,
) -> None:
    """Replace ID numbers, phones, e-mail addresses, WeChat/QQ ids, addresses and person
    names in one column by typed placeholders ([电话] / [PHONE], [姓名] / [NAME], ...); every
    other column is copied unchanged."""
    from pipeline.privacy import ScrubInputError, scrub_csv

    lang = lang or _default_lang()
    try:
        summary = scrub_csv(input_csv, output, column=column, name_column=name_column)
    except ScrubInputError as exc:
        typer.echo(f"error: {exc.message(lang)}", err=True)
        raise typer.Exit(code=2) from None
    except OSError as exc:
        typer.echo(f"error: {exc.filename or output}: {exc.strerror}", err=True)
        raise typer.Exit(code=2) from None
    if lang == "zh":
        typer.echo(f"{summary.rows} 行，{summary.changed} 行有改动 -> {summary.output}")
    else:
        typer.echo(f"{summary.rows} rows, {summary.changed} changed -> {summary.output}")
