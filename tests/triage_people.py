"""Sentinel users for tests that record triage (a module with a unique name: test folders have
no __init__.py)."""

from __future__ import annotations

import functools

from pipeline.appdb import accounts as appdb_accounts
from pipeline.appdb import passwords
from pipeline.appdb.audit import Actor
from pipeline.appdb.db import AppDB
from pipeline.appdb.models import User, utcnow

PASSWORD = "Sentinel-test-pass-2026!"
SYSTEM = Actor(None, "os:test", "cli")
PEOPLE = {
    "li.analyst": "analyst",
    "wang.supervisor": "supervisor",
    "zhao.supervisor": "supervisor",
    "chen.coder": "coder",
}


@functools.cache
def _password_hash() -> str:
    return passwords.hash_password(PASSWORD)


def add_people(db: AppDB, channel: str = "cli") -> dict[str, Actor]:
    """The users of PEOPLE in ``db``, each as an Actor of ``channel`` (inserted directly, with
    one password hash computed once: the tests here are about triage, not accounts)."""
    out = {}
    now = utcnow()
    with db.transaction() as session:
        for name, role in PEOPLE.items():
            user = appdb_accounts.find_user(session, name)
            if user is None:
                user = User(
                    username=name,
                    display_name=name,
                    role=role,
                    hospital_code=None,
                    password_hash=_password_hash(),
                    preferred_language="en",
                    email=None,
                    disabled=False,
                    failed_logins=0,
                    must_change_password=False,
                    password_changed_at=now,
                    created_at=now,
                    updated_at=now,
                )
                session.add(user)
                session.flush()
            out[name] = Actor(user.id, user.username, channel)
    return out


def add_people_to_home(settings) -> dict[str, Actor]:  # type: ignore[no-untyped-def]
    """The same in the application database of a SENTINEL_HOME."""
    from pipeline.services import accounts

    db = accounts.open_appdb(settings)
    try:
        return add_people(db)
    finally:
        db.dispose()
