"""``sentinel db status|upgrade``: the warehouse schema and the published read side."""

from __future__ import annotations

import typer

from pipeline.cli._common import print_json, say, settings

app = typer.Typer(
    help="The warehouse schema (numbered migrations) and its published snapshot.",
    no_args_is_help=True,
)


@app.command("status")
def status() -> None:
    """Current vs latest schema version, pending migrations, the published snapshot."""
    from pipeline.services import db

    print_json(db.status(settings()))


@app.command("upgrade")
def upgrade(
    as_user: str = typer.Option(
        None,
        "--as",
        envvar="SENTINEL_USER",
        help="The Sentinel user recorded as importing the warehouse's old triage records "
        "(schema 6); default: the operating-system account, as os:<login>.",
    ),
) -> None:
    """Apply pending migrations (each in one transaction), then publish a snapshot. Schema 6
    first moves the warehouse's triage records to the application database."""
    from pipeline.services import accounts, db

    current = settings()
    actor = None
    if as_user:
        appdb = accounts.open_appdb(current)
        try:
            actor = accounts.cli_actor(appdb, as_user)
        finally:
            appdb.dispose()
    print_json(db.upgrade(current, progress=say, actor=actor))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="db")
