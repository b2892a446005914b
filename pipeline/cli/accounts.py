"""``sentinel appdb upgrade|status``, ``sentinel users ...`` and ``sentinel audit verify|head``.

Wiring only: parse options, call ``pipeline.services.accounts``, print. Passwords are read from
standard input (hidden prompt on a terminal), never from an argument. ``--as USER`` (or
``$SENTINEL_USER``) names the Sentinel user a command acts as; without it the audit log records
the operating-system account (``os:<login>``), which is how the first administrator is created.
``register(app)`` mounts the three groups. Errors are :class:`~pipeline.errors.SentinelError`
subclasses (``pipeline.appdb.errors``): the root command prints them as one line with their exit
code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from pipeline.appdb.db import AppDB
    from pipeline.config import Settings

appdb_app = typer.Typer(
    help="The application database (users, sessions, audit log).", no_args_is_help=True
)
users_app = typer.Typer(
    help="Users and roles of the web application: add, list, disable, enable, "
    "reset-password, set-role, demo.",
    no_args_is_help=True,
)
audit_app = typer.Typer(
    help="The hash-chained audit log: verify it, print its head.", no_args_is_help=True
)

AS_OPTION = typer.Option(
    None,
    "--as",
    envvar="SENTINEL_USER",
    help="Act as this Sentinel user (an enabled administrator for user management); "
    "default: the operating-system account, recorded as os:<login>.",
)


def register(app: typer.Typer) -> None:
    app.add_typer(appdb_app, name="appdb")
    app.add_typer(users_app, name="users")
    app.add_typer(audit_app, name="audit")


def _settings() -> Settings:
    from pipeline.config import Settings

    return Settings.from_env()


def _db(settings: Settings) -> AppDB:
    from pipeline.services import accounts

    return accounts.open_appdb(settings)


def _read_password(confirm: bool = True) -> str:
    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass("password: ")
        if confirm and getpass.getpass("password again: ") != first:
            typer.echo("error: the two passwords differ", err=True)
            raise typer.Exit(2)
        password = first
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        typer.echo("error: no password on standard input", err=True)
        raise typer.Exit(2)
    return password


def _safe(value: object) -> str:
    text = "" if value is None else str(value)
    return "".join(ch if ch.isprintable() else "\ufffd" for ch in text)


# --- appdb ---------------------------------------------------------------------------------


@appdb_app.command("upgrade")
def appdb_upgrade() -> None:
    """Create or upgrade the application database to the newest schema (idempotent)."""
    from pipeline.appdb import schema
    from pipeline.appdb.db import redacted

    settings = _settings()
    state = schema.upgrade(settings.app_database_url)
    typer.echo(f"{redacted(settings.app_database_url)}: revision {state.current} (newest)")


@appdb_app.command("status")
def appdb_status() -> None:
    """Show the schema revision; exit 9 when an upgrade is pending."""
    from pipeline.appdb import schema
    from pipeline.appdb.db import redacted
    from pipeline.appdb.errors import SchemaNotCurrent

    settings = _settings()
    state = schema.status(settings.app_database_url)
    typer.echo(
        f"{redacted(settings.app_database_url)}: revision {state.current or '(empty)'}, "
        f"newest {state.head}"
    )
    if not state.up_to_date:
        raise typer.Exit(SchemaNotCurrent.exit_code)


@appdb_app.command("backup")
def appdb_backup(
    target: Path = typer.Argument(..., help="New file to write the copy to."),
) -> None:
    """Copy the SQLite application database while the app runs (PostgreSQL: use pg_dump)."""
    from pipeline.appdb.backup import backup_sqlite
    from pipeline.services import accounts

    settings = _settings()
    db = _db(settings)
    head = accounts.audit_head(db)
    written = backup_sqlite(settings.app_database_url, target)
    typer.echo(f"backup written to {written} (audit chain head {head})")


# --- users ---------------------------------------------------------------------------------


@users_app.command("add")
def users_add(
    username: str = typer.Argument(..., help="Sign-in name (letters, digits, . _ - @)."),
    role: str = typer.Option(
        ...,
        "--role",
        help="admin, analyst, supervisor, coder, recall_officer, coordinator or hospital_clerk.",
    ),
    hospital: str = typer.Option(None, "--hospital", help="Hospital code (clerks only)."),
    email: str = typer.Option(None, "--email", help="E-mail address for notifications."),
    lang: str = typer.Option("zh", "--lang", help="Preferred language: zh or en."),
    display_name: str = typer.Option(None, "--display-name", help="Name shown in the app."),
    as_user: str = AS_OPTION,
) -> None:
    """Add a user; the password is read from standard input (never an argument)."""
    from pipeline.services import accounts

    settings = _settings()
    db = _db(settings)
    actor = accounts.cli_actor(db, as_user)
    password = _read_password()
    user = accounts.add_user(
        db,
        settings,
        actor,
        username=username,
        role=role,
        password=password,
        display_name=display_name,
        hospital_code=hospital,
        email=email,
        language=lang,
    )
    where = f" at {user.hospital_code}" if user.hospital_code else ""
    typer.echo(f"added {_safe(user.username)} ({user.role.value}{where})")


@users_app.command("list")
def users_list(as_json: bool = typer.Option(False, "--json", help="JSON lines.")) -> None:
    """List every user with role, hospital, language and status."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from pipeline.appdb.models import utcnow
    from pipeline.services import accounts

    db = _db(_settings())
    users = accounts.list_users(db)
    now = utcnow()
    rows = [
        {
            "username": u.username,
            "display_name": u.display_name,
            "role": u.role.value,
            "hospital_code": u.hospital_code,
            "language": u.preferred_language,
            "email": u.email,
            "status": u.status(now),
            "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None,
        }
        for u in users
    ]
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    table = Table(title=f"{len(rows)} users", title_justify="left")
    for column in (
        "username",
        "display_name",
        "role",
        "hospital_code",
        "language",
        "status",
        "last_login_at",
    ):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            *[
                Text(_safe(row[c]))
                for c in (
                    "username",
                    "display_name",
                    "role",
                    "hospital_code",
                    "language",
                    "status",
                    "last_login_at",
                )
            ]
        )
    Console(soft_wrap=False, width=None if sys.stdout.isatty() else 200).print(table)


@users_app.command("disable")
def users_disable(username: str, as_user: str = AS_OPTION) -> None:
    """Disable an account and end its sessions."""
    from pipeline.services import accounts

    db = _db(_settings())
    actor = accounts.cli_actor(db, as_user)
    user = accounts.set_disabled(db, actor, username, True)
    typer.echo(f"disabled {_safe(user.username)}")


@users_app.command("enable")
def users_enable(username: str, as_user: str = AS_OPTION) -> None:
    """Enable an account again (also lifts a lockout)."""
    from pipeline.services import accounts

    db = _db(_settings())
    actor = accounts.cli_actor(db, as_user)
    user = accounts.set_disabled(db, actor, username, False)
    typer.echo(f"enabled {_safe(user.username)}")


@users_app.command("reset-password")
def users_reset_password(
    username: str,
    generate: bool = typer.Option(
        False,
        "--generate",
        help="Generate a password, print it once; the user must change it "
        "at the next sign-in. Default: read the new password from standard input.",
    ),
    as_user: str = AS_OPTION,
) -> None:
    """Set a new password; ends the user's sessions and lifts a lockout."""
    from pipeline.services import accounts

    db = _db(_settings())
    actor = accounts.cli_actor(db, as_user)
    password = None if generate else _read_password()
    user, generated = accounts.reset_password(db, actor, username, password)
    typer.echo(f"password of {_safe(user.username)} reset")
    if generated:
        typer.echo("new password (shown once; to be changed at the next sign-in):")
        typer.echo(generated)


@users_app.command("set-role")
def users_set_role(
    username: str,
    role: str,
    hospital: str = typer.Option(None, "--hospital", help="Hospital code (clerks only)."),
    as_user: str = AS_OPTION,
) -> None:
    """Change a user's role (and hospital, for a clerk)."""
    from pipeline.services import accounts

    settings = _settings()
    db = _db(settings)
    actor = accounts.cli_actor(db, as_user)
    user = accounts.set_role(db, settings, actor, username, role, hospital)
    where = f" at {user.hospital_code}" if user.hospital_code else ""
    typer.echo(f"{_safe(user.username)} is now {user.role.value}{where}")


@users_app.command("demo")
def users_demo(as_user: str = AS_OPTION) -> None:
    """Create one demo user per role with generated passwords, printed once (idempotent:
    existing demo users are left alone)."""
    from pipeline.services import accounts

    settings = _settings()
    db = _db(settings)
    actor = accounts.cli_actor(db, as_user)
    made = accounts.create_demo_users(db, settings, actor)
    for demo in made:
        where = f" @{demo.hospital_code}" if demo.hospital_code else ""
        if demo.password is None:
            typer.echo(f"{demo.username:<18} {demo.role.value}{where}: exists, left unchanged")
        else:
            typer.echo(f"{demo.username:<18} {demo.role.value}{where}: password {demo.password}")
    if any(d.password for d in made):
        typer.echo("These passwords are shown only now; store them or reset them later.")


# --- audit ---------------------------------------------------------------------------------


@audit_app.command("verify")
def audit_verify(
    expect_head: str = typer.Option(
        None,
        "--expect-head",
        help="A head recorded earlier (SEQ:SHA256, from `sentinel audit "
        "head` or an evidence pack): also detects entries removed from the end.",
    ),
) -> None:
    """Check the hash chain; exit 0 when intact, 12 when any entry was edited, deleted,
    inserted or reordered (the first broken entry is named)."""
    from pipeline.appdb.audit import ChainHead
    from pipeline.appdb.errors import AuditChainBroken
    from pipeline.services import accounts

    expected = None
    if expect_head:
        try:
            expected = ChainHead.parse(expect_head)
        except ValueError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
    db = _db(_settings())
    report = accounts.verify_audit(db, expected)
    if report.ok:
        typer.echo(f"audit log intact: {report.entries} entries, head {report.head}")
        return
    for problem in report.problems[:20]:
        typer.echo(f"entry {problem.seq}: {problem.kind}: {problem.message}", err=True)
    first = report.first_problem
    assert first is not None
    raise AuditChainBroken(detail=first.message)


@audit_app.command("head")
def audit_head() -> None:
    """Print the chain head (SEQ:SHA256) to record it elsewhere."""
    from pipeline.services import accounts

    db = _db(_settings())
    typer.echo(str(accounts.audit_head(db)))
