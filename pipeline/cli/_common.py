"""Helpers shared by the CLI modules: settings, output, terminal tables (wiring only)."""

from __future__ import annotations

import json
import sys
from datetime import date

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipeline.config import Settings
from pipeline.errors import BadInput
from pipeline.escaping import terminal_text


def settings() -> Settings:
    return Settings.from_env()


def say(message: str) -> None:
    """Progress and notes go to stderr; results to stdout."""
    typer.echo(message, err=True)


def print_json(payload: object) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False, indent=1, default=str))


def table(
    title: str, columns: list[str], rows: list[list[object]], width: int | None = None
) -> None:
    """A terminal table; every cell is plain text (rich markup in a narrative stays text)."""
    out = Table(title=title, show_lines=False, title_justify="left")
    for column in columns:
        out.add_column(column, overflow="fold")
    for row in rows:
        out.add_row(*[Text(terminal_text(v)) for v in row])
    # Piped output (less, a file) gets room for the columns instead of 80-column wrapping.
    Console(soft_wrap=False, width=width or (None if sys.stdout.isatty() else 200)).print(out)


def num(value: object, digits: int = 1) -> str:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    if number != number:
        return ""
    return f"{number:.{digits}f}" if digits else f"{number:.0f}"


def pvalue(value: object) -> str:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    return "" if number != number else f"{number:.2g}"


def when(value: object) -> str:
    text = terminal_text(value)
    return text[:16] if text else ""


def parse_date(value: str | None, option: str) -> date | None:
    """A ``YYYY-MM-DD`` option (None when not given); BadInput naming the option otherwise."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise BadInput(f"{option} {value!r} is not a date YYYY-MM-DD") from exc


AS_USER_HELP = (
    "The Sentinel user you act as (an enabled analyst or supervisor; recorded with channel "
    "cli); default: $SENTINEL_USER."
)


def acting(as_user: str | None):  # type: ignore[no-untyped-def]
    """The Actor of a command that records something (``--as`` / ``SENTINEL_USER``)."""
    from pipeline.services import triage

    return triage.acting_user(settings(), as_user)


def lang_of(ctx: typer.Context) -> str:
    """The user's language for command output (``sentinel --lang``, else the locale)."""
    lang = ctx.meta.get("sentinel.lang")
    return lang if lang in ("zh", "en") else "en"
