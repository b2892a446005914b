"""``sentinel tokens issue|list|revoke`` (hospital API tokens) and ``sentinel submit`` (the
reference client of the submission API). Wiring only: ``pipeline.services.api_tokens`` and
``pipeline.services.api_client``."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.cli.accounts import AS_OPTION

tokens_app = typer.Typer(
    help="API tokens of hospitals' systems (the submission API): issue, list, revoke.",
    no_args_is_help=True,
)

HOSPITAL_OPTION = typer.Option(..., "--hospital", help="Hospital code (from the registry).")


def register(app: typer.Typer) -> None:
    app.add_typer(tokens_app, name="tokens")
    app.command("submit")(submit)


@tokens_app.command("issue")
def issue(
    hospital: str = HOSPITAL_OPTION,
    days: int = typer.Option(None, "--days", help="Valid this many days (default 365)."),
    label: str = typer.Option(None, "--label", help="What the token is for (shown in lists)."),
    lang: str = typer.Option("zh", "--lang", help="Language of API messages: zh or en."),
    as_user: str | None = AS_OPTION,
) -> None:
    """Issue a token for a hospital's system. The token is printed once, alone on the last
    line; only its hash is kept."""
    from pipeline.config import Settings
    from pipeline.services import accounts, api_tokens

    settings = Settings.from_env()
    db = accounts.open_appdb(settings)
    try:
        actor = accounts.cli_actor(db, as_user)
        issued = api_tokens.issue(
            db, settings, actor, hospital, days=days, label=label, language=lang
        )
    finally:
        db.dispose()
    view = issued.view
    typer.echo(
        f"token {view.id} ({view.prefix}…) for {view.hospital_code}, expires "
        f"{view.expires_at:%Y-%m-%d %H:%M} UTC; shown once, store it now:",
        err=True,
    )
    typer.echo(issued.token)


@tokens_app.command("list")
def list_(
    hospital: str | None = typer.Option(None, "--hospital", help="Only this hospital."),
) -> None:
    """List tokens (never their values): id, prefix, hospital, state, expiry, last use."""
    from pipeline.appdb.models import utcnow
    from pipeline.config import Settings
    from pipeline.escaping import one_line
    from pipeline.services import accounts, api_tokens

    settings = Settings.from_env()
    db = accounts.open_appdb(settings)
    try:
        views = api_tokens.list_tokens(db, hospital)
    finally:
        db.dispose()
    now = utcnow()
    typer.echo("id\tprefix\thospital\tstate\texpires_at\tlast_used_at\tlabel")
    for v in views:
        last = f"{v.last_used_at:%Y-%m-%d %H:%M}" if v.last_used_at else "-"
        typer.echo(
            f"{v.id}\t{v.prefix}\t{v.hospital_code}\t{v.state(now)}\t"
            f"{v.expires_at:%Y-%m-%d %H:%M}\t{last}\t{one_line(v.label or '')}"
        )


@tokens_app.command("revoke")
def revoke(
    token: str = typer.Argument(..., help="The token's id or prefix (from `tokens list`)."),
    hospital: str = HOSPITAL_OPTION,
    as_user: str | None = AS_OPTION,
) -> None:
    """Revoke a token at once (its next request gets 401)."""
    from pipeline.config import Settings
    from pipeline.services import accounts, api_tokens

    settings = Settings.from_env()
    db = accounts.open_appdb(settings)
    try:
        actor = accounts.cli_actor(db, as_user)
        view = api_tokens.revoke(db, actor, hospital, token)
    finally:
        db.dispose()
    typer.echo(f"token {view.id} ({view.prefix}…) of {view.hospital_code} revoked")


def submit(
    file: Path = typer.Argument(..., help="The extract to send."),
    url: str = typer.Option(..., "--url", help="Base URL of Sentinel, e.g. https://host"),
    token_file: Path = typer.Option(..., "--token-file", help="File holding the API token."),
    attempts: int = typer.Option(6, "--attempts", help="Tries before giving up."),
    wait: bool = typer.Option(
        False, "--wait", help="Wait for the receipt and print it (JSON) instead of the status URL."
    ),
    timeout: float = typer.Option(120.0, "--timeout", help="Seconds to wait with --wait."),
) -> None:
    """Send a file to the submission API (what a hospital's IT would script): retries with
    backoff, and an Idempotency-Key derived from the file's SHA-256, so a retry never creates a
    second submission."""
    import json

    from pipeline.services import api_client

    result = api_client.submit(file, url, api_client.read_token(token_file), attempts=attempts)
    if wait:
        receipt = api_client.wait_for_receipt(
            url, api_client.read_token(token_file), result["submission_id"], timeout=timeout
        )
        typer.echo(json.dumps(receipt, ensure_ascii=False, indent=2))
        return
    typer.echo(json.dumps(result, ensure_ascii=False))
