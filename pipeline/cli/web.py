"""``sentinel web``: serve the web application with uvicorn (wiring only)."""

from __future__ import annotations

import typer

from pipeline.config import Settings

KEEP_ALIVE_SECONDS = 75


def register(app: typer.Typer) -> None:
    app.command("web")(web)
    app.command("notify")(notify)


def notify(
    dry_run: bool = typer.Option(
        False, "--dry-run", help="List what would be sent; send nothing, record nothing."
    ),
) -> None:
    """E-mail each user what they chose to hear about (new top signals, follow-ups due,
    receipts, approvals waiting): once per item, in the user's language (SMTP settings:
    docs/web.md). Run it daily; a second run sends nothing new."""
    from pipeline.appdb.models import utcnow
    from pipeline.services import accounts, notifications

    settings = Settings.from_env()
    db = accounts.open_appdb(settings)
    try:
        messages, outcome = notifications.notify(settings, db, utcnow(), dry_run=dry_run)
    finally:
        db.dispose()
    for m in messages if dry_run else outcome.sent:
        typer.echo(f"{m.kind}\t{m.username}\t{m.recipient}\t{m.subject}")
    if not dry_run:
        typer.echo(
            f"sent {len(outcome.sent)}, already sent before {outcome.skipped}, "
            f"failed {len(outcome.failed)}",
            err=True,
        )
        for m, why in outcome.failed:
            typer.echo(f"failed {m.kind} to {m.username}: {why}", err=True)
        if outcome.failed:
            raise typer.Exit(1)


def web(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
) -> None:
    """Start the web application (upgrades the application database first).

    Behind a TLS reverse proxy, keep the default host and set SENTINEL_FORWARDED_ALLOW_IPS to
    the proxy's address (docs/web.md)."""
    import uvicorn

    from pipeline.appdb import schema
    from pipeline.appdb.db import redacted
    from pipeline.web import create_app

    settings = Settings.from_env()
    schema.upgrade(settings.app_database_url)
    application = create_app(settings)
    typer.echo(
        f"Sentinel web on http://{host}:{port} (application database "
        f"{redacted(settings.app_database_url)})",
        err=True,
    )
    uvicorn.run(
        application,
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=settings.web.forwarded_allow_ips,
        server_header=False,
        date_header=True,
        # uvicorn's default (5 s) closes an idle connection while a client that paused a few
        # seconds may be sending its next request on it: that request fails (browsers retry
        # silently, other clients do not). Keep idle connections as long as nginx does.
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        log_level="info",
    )
