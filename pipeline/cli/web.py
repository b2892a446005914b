"""``sentinel web``: serve the web application with uvicorn (wiring only)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    app.command("web")(web)


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
    from pipeline.config import Settings
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
        log_level="info",
    )
