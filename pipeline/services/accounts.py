"""Accounts and the audit log: what ``sentinel users|audit|appdb`` and the web app call.

Each function runs one application-database transaction (the change and its audit entry commit
together) and returns detached views, never ORM rows.
"""

from __future__ import annotations

import datetime as dt
import getpass
from dataclasses import dataclass

from pipeline import reference
from pipeline.appdb import accounts, audit, auth, records, schema
from pipeline.appdb.accounts import UserView
from pipeline.appdb.audit import Actor, ChainHead, ChainReport
from pipeline.appdb.db import AppDB
from pipeline.appdb.errors import NotPermitted
from pipeline.appdb.passwords import generate_password
from pipeline.appdb.roles import Role
from pipeline.config import Settings, WebSettings

DEMO_PREFIX = "demo-"
DEMO_USERNAMES: dict[Role, str] = {
    Role.ADMIN: "demo-admin",
    Role.ANALYST: "demo-analyst",
    Role.SUPERVISOR: "demo-supervisor",
    Role.CODER: "demo-coder",
    Role.RECALL_OFFICER: "demo-recall",
    Role.COORDINATOR: "demo-coordinator",
    Role.HOSPITAL_CLERK: "demo-clerk",
}


def open_appdb(settings: Settings, upgrade: bool = True) -> AppDB:
    """The application database, brought to the newest schema first (idempotent)."""
    if upgrade:
        schema.upgrade(settings.app_database_url)
    return AppDB.from_settings(settings)


def registry_codes(settings: Settings) -> set[str]:
    return set(reference.load_hospitals(settings.hospital_registry)["hospital_code"])


def cli_actor(db: AppDB, as_user: str | None, channel: str = "cli") -> Actor:
    """The identity a CLI command acts as: the named Sentinel user (who must exist and be
    enabled), or else the operating-system account, recorded as ``os:<login>``."""
    if not as_user:
        return Actor(None, f"os:{getpass.getuser()}", channel)
    with db.transaction() as session:
        user = accounts.get_user(session, as_user)
        if user.disabled:
            raise NotPermitted(username=user.username, role=user.role)
        return Actor(user.id, user.username, channel)


def add_user(
    db: AppDB,
    settings: Settings,
    actor: Actor,
    *,
    username: str,
    role: str,
    password: str,
    display_name: str | None = None,
    hospital_code: str | None = None,
    email: str | None = None,
    language: str | None = None,
    must_change_password: bool = False,
) -> UserView:
    with db.transaction() as session:
        user = accounts.create_user(
            session,
            actor,
            username=username,
            role=role,
            password=password,
            registry=registry_codes(settings),
            display_name=display_name,
            hospital_code=hospital_code,
            email=email,
            language=language,
            must_change_password=must_change_password,
        )
        return UserView.of(user)


def add_user_with_generated_password(
    db: AppDB, settings: Settings, actor: Actor, **fields: str | None
) -> tuple[UserView, str]:
    """Create a user with a generated password (shown once; changed at first sign-in)."""
    password = generate_password()
    user = add_user(
        db,
        settings,
        actor,
        password=password,
        must_change_password=True,
        **fields,  # type: ignore[arg-type]
    )
    return user, password


def list_users(db: AppDB) -> list[UserView]:
    with db.transaction() as session:
        return accounts.list_users(session)


def get_user(db: AppDB, username: str) -> UserView:
    with db.transaction() as session:
        return UserView.of(accounts.get_user(session, username))


def set_disabled(db: AppDB, actor: Actor, username: str, disabled: bool) -> UserView:
    with db.transaction() as session:
        return UserView.of(accounts.set_disabled(session, actor, username, disabled))


def set_role(
    db: AppDB,
    settings: Settings,
    actor: Actor,
    username: str,
    role: str,
    hospital_code: str | None = None,
) -> UserView:
    with db.transaction() as session:
        user = accounts.set_role(
            session, actor, username, role, registry_codes(settings), hospital_code
        )
        return UserView.of(user)


def reset_password(
    db: AppDB, actor: Actor, username: str, new_password: str | None = None
) -> tuple[UserView, str | None]:
    """A given password, or a generated one returned once (then changed at next sign-in)."""
    with db.transaction() as session:
        user, generated = accounts.reset_password(session, actor, username, new_password)
        return UserView.of(user), generated


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: Role
    hospital_code: str | None
    password: str | None  # None: the user already existed and was left alone


def demo_hospital(settings: Settings, on: dt.date | None = None) -> str:
    active = reference.active_hospitals(on=on, path=settings.hospital_registry)
    if active.empty:
        active = reference.load_hospitals(settings.hospital_registry)
    return str(active["hospital_code"].iloc[0])


def create_demo_users(db: AppDB, settings: Settings, actor: Actor) -> list[DemoUser]:
    """One demo user per role with a generated password, printed once by the caller.
    Idempotent: an existing demo user keeps its password (``password`` is None)."""
    hospital = demo_hospital(settings)
    registry = registry_codes(settings)
    made: list[DemoUser] = []
    with db.transaction() as session:
        for role, username in DEMO_USERNAMES.items():
            existing = accounts.find_user(session, username)
            if existing is not None:
                made.append(DemoUser(username, Role(existing.role), existing.hospital_code, None))
                continue
            password = generate_password()
            code = hospital if role is Role.HOSPITAL_CLERK else None
            accounts.create_user(
                session,
                actor,
                username=username,
                role=role,
                password=password,
                registry=registry,
                display_name=f"Demo {role.value.replace('_', ' ')}",
                hospital_code=code,
                language="zh",
            )
            made.append(DemoUser(username, role, code, password))
    return made


def verify_audit(db: AppDB, expected_head: ChainHead | None = None) -> ChainReport:
    """The hash chain, and every audited row (triage, follow-ups, notices) against its entry."""
    with db.transaction() as session:
        report = audit.verify_chain(session, expected_head)
        report.problems.extend(records.verify_rows(session))
        return report


def audit_head(db: AppDB) -> ChainHead:
    with db.transaction() as session:
        return audit.chain_head(session)


# --- signing in and one's own account (the web app; the API will reuse them) ---------------


def sign_in(
    db: AppDB,
    rules: WebSettings,
    username: str,
    password: str,
    client_address: str | None,
    now: dt.datetime,
    replace_session_id: str | None = None,
    channel: str = "web",
) -> auth.SignIn:
    with db.transaction() as session:
        return auth.sign_in(
            session,
            username,
            password,
            client_address,
            rules,
            now,
            channel=channel,
            replace_session_id=replace_session_id,
        )


def current_session(
    db: AppDB, rules: WebSettings, raw_id: str | None, now: dt.datetime
) -> auth.ActiveSession | None:
    if not raw_id:
        return None
    with db.transaction() as session:
        return auth.load_session(session, raw_id, rules, now)


def sign_out(db: AppDB, raw_id: str | None, actor: Actor, now: dt.datetime) -> None:
    with db.transaction() as session:
        auth.sign_out(session, raw_id, actor, now)


def update_profile(
    db: AppDB,
    actor: Actor,
    now: dt.datetime,
    *,
    language: str | None = None,
    email: str | None = None,
) -> UserView:
    with db.transaction() as session:
        user = accounts.update_profile(session, actor, language=language, email=email, now=now)
        return UserView.of(user)


def change_own_password(
    db: AppDB,
    rules: WebSettings,
    actor: Actor,
    raw_session_id: str,
    current_password: str,
    new_password: str,
    now: dt.datetime,
) -> tuple[str, str] | None:
    """Change the signed-in user's password; their other sessions end and this one gets a new
    id. Returns (new session id, new CSRF secret)."""
    with db.transaction() as session:
        accounts.change_own_password(
            session,
            actor,
            current_password,
            new_password,
            keep_session_hash=auth.hash_session_id(raw_session_id),
            now=now,
        )
        return auth.rotate_session(session, raw_session_id, rules, now)
