"""``sentinel appdb|users|audit``: passwords only on standard input, one-line errors with their
own exit codes, demo users idempotent, audit verify failing on a tampered chain. On SQLite and
(via SENTINEL_APP_DB) PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from pipeline.appdb import schema
from pipeline.appdb.db import AppDB
from pipeline.cli import app

GOOD = "orchid-Lantern-4417"


@pytest.fixture
def run(app_db_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    runner = CliRunner()
    env = {
        "SENTINEL_HOME": str(tmp_path / "home"),
        "SENTINEL_APP_DB": app_db_url,
        "SENTINEL_USER": "",
        "LANG": "en_US.UTF-8",
        # Cheap password hashes (the production default costs 0.14 s each).
        "SENTINEL_PASSWORD_TIME_COST": "1",
        "SENTINEL_PASSWORD_MEMORY_KIB": "64",
        "SENTINEL_PASSWORD_PARALLELISM": "1",
    }

    def invoke(*args: str, stdin: str | None = None, **extra: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args), input=stdin, env={**env, **extra})

    return invoke


def test_appdb_status_and_upgrade(run) -> None:  # type: ignore[no-untyped-def]
    pending = run("appdb", "status")
    assert pending.exit_code == 9 and "(empty)" in pending.output
    upgraded = run("appdb", "upgrade")
    head = schema.head_revision()  # the newest migration shipped
    assert upgraded.exit_code == 0 and f"revision {head} (newest)" in upgraded.output
    assert "postgres:postgres" not in upgraded.output  # the password is never printed
    assert run("appdb", "status").exit_code == 0


def test_users_add_reads_the_password_from_stdin_only(run) -> None:  # type: ignore[no-untyped-def]
    argument = run("users", "add", "root", "--role", "admin", "--password", GOOD)
    assert argument.exit_code == 2  # there is no such option
    empty = run("users", "add", "root", "--role", "admin", stdin="")
    assert empty.exit_code == 2 and "no password" in empty.output
    weak = run("users", "add", "root", "--role", "admin", stdin="short\n")
    assert weak.exit_code == 2 and "at least 12 characters" in weak.output
    assert "Traceback" not in weak.output
    added = run("users", "add", "Root", "--role", "admin", stdin=GOOD + "\n")
    assert added.exit_code == 0 and "added root (admin)" in added.output
    again = run("users", "add", "root", "--role", "admin", stdin=GOOD + "\n")
    assert again.exit_code == 11 and "already exists" in again.output
    zh = run("users", "add", "root", "--role", "admin", stdin=GOOD + "\n", LANG="zh_CN.UTF-8")
    assert zh.exit_code == 11 and "已存在" in zh.output
    clerk = run(
        "users", "add", "c1", "--role", "hospital_clerk", "--hospital", "XX1", stdin=GOOD + "\n"
    )
    assert clerk.exit_code == 2 and "XX1 is not a hospital of the registry" in clerk.output
    ok = run(
        "users",
        "add",
        "c1",
        "--role",
        "hospital_clerk",
        "--hospital",
        "GZ001",
        "--lang",
        "en",
        "--email",
        "c1@example.org",
        stdin=GOOD + "\n",
    )
    assert ok.exit_code == 0 and "at GZ001" in ok.output


def test_list_disable_enable_set_role_reset(run) -> None:  # type: ignore[no-untyped-def]
    run("users", "add", "root", "--role", "admin", stdin=GOOD + "\n")
    run("users", "add", "ann", "--role", "analyst", "--display-name", "Ann <b>", stdin=GOOD + "\n")
    listed = run("users", "list", "--json")
    rows = [json.loads(line) for line in listed.output.splitlines()]
    assert [(r["username"], r["role"], r["status"]) for r in rows] == [
        ("ann", "analyst", "active"),
        ("root", "admin", "active"),
    ]
    assert run("users", "disable", "ann").exit_code == 0
    assert "disabled" in run("users", "list").output
    assert run("users", "enable", "ann").exit_code == 0
    moved = run("users", "set-role", "ann", "hospital_clerk", "--hospital", "SH001")
    assert moved.exit_code == 0 and "hospital_clerk at SH001" in moved.output
    missing = run("users", "disable", "nobody")
    assert missing.exit_code == 4 and "no user named nobody" in missing.output
    generated = run("users", "reset-password", "ann", "--generate")
    assert generated.exit_code == 0 and "shown once" in generated.output
    assert len(generated.output.strip().splitlines()[-1]) == 23
    typed = run("users", "reset-password", "ann", stdin="Another-meadow-5521\n")
    assert typed.exit_code == 0 and "Another-meadow" not in typed.output
    last_admin = run("users", "disable", "root")
    assert last_admin.exit_code == 2 and "last active administrator" in last_admin.output


def test_acting_as_a_user(run) -> None:  # type: ignore[no-untyped-def]
    run("users", "add", "root", "--role", "admin", stdin=GOOD + "\n")
    run("users", "add", "ann", "--role", "analyst", stdin=GOOD + "\n")
    refused = run("users", "disable", "root", "--as", "ann")
    assert refused.exit_code == 10 and "may not" in refused.output
    unknown = run("users", "disable", "ann", "--as", "ghost")
    assert unknown.exit_code == 4
    assert run("users", "disable", "ann", SENTINEL_USER="root").exit_code == 0


def test_demo_users_once_then_left_alone(run) -> None:  # type: ignore[no-untyped-def]
    first = run("users", "demo")
    assert first.exit_code == 0
    lines = [line for line in first.output.splitlines() if line.startswith("demo-")]
    assert len(lines) == 7 and all("password" in line for line in lines)
    assert "demo-clerk" in first.output and "@GZ001" in first.output
    passwords = {line.split()[-1] for line in lines}
    second = run("users", "demo")
    assert second.exit_code == 0 and second.output.count("exists, left unchanged") == 7
    assert not any(p in second.output for p in passwords)


def test_audit_verify_and_head(run, app_db_url: str) -> None:  # type: ignore[no-untyped-def]
    run("users", "add", "root", "--role", "admin", stdin=GOOD + "\n")
    run("users", "add", "ann", "--role", "analyst", stdin=GOOD + "\n")
    run("users", "disable", "ann")
    head = run("audit", "head").output.strip()
    assert head.startswith("3:") and len(head) == 66
    ok = run("audit", "verify", "--expect-head", head)
    assert ok.exit_code == 0 and "3 entries" in ok.output
    assert run("audit", "verify", "--expect-head", "nonsense").exit_code == 2
    db = AppDB(app_db_url)
    try:
        with db.transaction() as session:
            if db.dialect == "sqlite":
                session.execute(text("DROP TRIGGER audit_log_no_update"))
            else:
                session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
            session.execute(text("UPDATE audit_log SET actor_username = 'x' WHERE seq = 2"))
    finally:
        db.dispose()
    broken = run("audit", "verify")
    assert broken.exit_code == 12
    assert "entry 2: altered" in broken.output and "tampered" in broken.output


def test_backup_of_the_sqlite_database(run, app_db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("users", "add", "root", "--role", "admin", stdin=GOOD + "\n")
    target = tmp_path / "backups" / "app-copy.db"
    result = run("appdb", "backup", str(target))
    if not app_db_url.startswith("sqlite"):
        assert result.exit_code == 2 and "pg_dump" in result.output
        return
    assert result.exit_code == 0 and "head 1:" in result.output
    copy = AppDB(f"sqlite:///{target}")
    try:
        with copy.transaction() as session:
            from pipeline.appdb import audit

            assert audit.verify_chain(session).entries == 1
    finally:
        copy.dispose()
    again = run("appdb", "backup", str(target))
    assert again.exit_code == 2 and "exists" in again.output
