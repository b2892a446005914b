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
def upgrade() -> None:
    """Apply pending migrations (each in one transaction), then publish a snapshot."""
    from pipeline.services import db

    print_json(db.upgrade(settings(), progress=say))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="db")
