"""Sign-in and sessions: lockout, address throttling, idle and absolute expiry, ids stored
hashed (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from appdb_helpers import REGISTRY, SYSTEM
from sqlalchemy import select

from pipeline.appdb import accounts, auth
from pipeline.appdb.auth import Outcome
from pipeline.appdb.db import AppDB
from pipeline.appdb.models import AuditEntry, LoginAttempt, WebSession
from pipeline.appdb.roles import Role
from pipeline.config import WebSettings

GOOD = "orchid-Lantern-4417"
T0 = dt.datetime(2026, 12, 1, 9, 0, 0)
RULES = WebSettings(
    session_idle_minutes=30,
    session_max_hours=8,
    login_max_failures=3,
    login_lockout_minutes=15,
    login_window_minutes=15,
    login_max_per_address=6,
)


@pytest.fixture
def ann(db: AppDB) -> AppDB:
    with db.transaction() as session:
        accounts.create_user(
            session, SYSTEM, username="ann", role=Role.ANALYST, password=GOOD, registry=REGISTRY
        )
    return db


def _sign_in(db: AppDB, name: str, password: str, at: dt.datetime, address: str = "10.0.0.1"):
    with db.transaction() as session:
        return auth.sign_in(session, name, password, address, RULES, at)


def test_a_right_password_opens_a_session_stored_hashed(ann: AppDB) -> None:
    result = _sign_in(ann, "ANN", GOOD, T0)
    assert result.outcome is Outcome.OK and result.session_id and result.user
    assert result.user.username == "ann"
    with ann.transaction() as session:
        row = session.scalars(select(WebSession)).one()
        assert row.id_hash == auth.hash_session_id(result.session_id)
        assert result.session_id not in row.id_hash
        assert row.idle_expires_at == T0 + dt.timedelta(minutes=30)
        assert row.absolute_expires_at == T0 + dt.timedelta(hours=8)
        assert session.scalars(select(AuditEntry.action)).all()[-1] == "auth.sign_in"


def test_unknown_user_and_wrong_password_fail_alike(ann: AppDB) -> None:
    unknown = _sign_in(ann, "nobody", GOOD, T0)
    wrong = _sign_in(ann, "ann", "wrong-password-123", T0)
    assert unknown.outcome is Outcome.UNKNOWN_USER and wrong.outcome is Outcome.BAD_PASSWORD
    assert unknown.session_id is None and wrong.session_id is None
    with ann.transaction() as session:
        attempts = session.scalars(select(LoginAttempt).order_by(LoginAttempt.id)).all()
        assert [(a.username, a.success) for a in attempts] == [("nobody", False), ("ann", False)]


def test_lockout_after_consecutive_failures_then_release(ann: AppDB) -> None:
    for i in range(RULES.login_max_failures):
        result = _sign_in(ann, "ann", f"wrong-password-{i}", T0 + dt.timedelta(seconds=i))
    assert result.outcome is Outcome.BAD_PASSWORD and result.just_locked
    locked = _sign_in(ann, "ann", GOOD, T0 + dt.timedelta(minutes=1))
    assert locked.outcome is Outcome.LOCKED and locked.session_id is None
    with ann.transaction() as session:
        assert "auth.lockout" in session.scalars(select(AuditEntry.action)).all()
    later = _sign_in(ann, "ann", GOOD, T0 + dt.timedelta(minutes=16))
    assert later.outcome is Outcome.OK


def test_a_success_resets_the_failure_count(ann: AppDB) -> None:
    for i in range(RULES.login_max_failures - 1):
        _sign_in(ann, "ann", "wrong-password-x", T0 + dt.timedelta(seconds=i))
    assert _sign_in(ann, "ann", GOOD, T0 + dt.timedelta(seconds=10)).outcome is Outcome.OK
    for i in range(RULES.login_max_failures - 1):
        result = _sign_in(ann, "ann", "wrong-password-y", T0 + dt.timedelta(seconds=20 + i))
    assert not result.just_locked
    assert _sign_in(ann, "ann", GOOD, T0 + dt.timedelta(seconds=30)).outcome is Outcome.OK


def test_an_address_with_many_failures_is_throttled(ann: AppDB) -> None:
    for i in range(RULES.login_max_per_address):  # spread over names: no account locks
        _sign_in(ann, f"guess{i}", "whatever-password", T0 + dt.timedelta(seconds=i), "10.9.9.9")
    blocked = _sign_in(ann, "ann", GOOD, T0 + dt.timedelta(minutes=1), "10.9.9.9")
    assert blocked.outcome is Outcome.THROTTLED
    assert (
        _sign_in(ann, "ann", GOOD, T0 + dt.timedelta(minutes=1), "10.0.0.2").outcome is Outcome.OK
    )
    after_window = _sign_in(ann, "ann", GOOD, T0 + dt.timedelta(minutes=16), "10.9.9.9")
    assert after_window.outcome is Outcome.OK


def test_disabled_user_cannot_sign_in(ann: AppDB) -> None:
    with ann.transaction() as session:
        accounts.create_user(
            session, SYSTEM, username="root", role=Role.ADMIN, password=GOOD, registry=REGISTRY
        )
        accounts.set_disabled(session, SYSTEM, "ann", True)
    assert _sign_in(ann, "ann", GOOD, T0).outcome is Outcome.DISABLED


def test_idle_expiry_is_pushed_forward_by_use(ann: AppDB) -> None:
    raw = _sign_in(ann, "ann", GOOD, T0).session_id
    moment = T0
    for _ in range(5):  # used every 25 minutes: stays alive past the 30-minute idle limit
        moment += dt.timedelta(minutes=25)
        with ann.transaction() as session:
            assert auth.load_session(session, raw, RULES, moment) is not None
    with ann.transaction() as session:
        assert auth.load_session(session, raw, RULES, moment + dt.timedelta(minutes=31)) is None
    with ann.transaction() as session:  # and it was deleted
        assert session.scalars(select(WebSession)).first() is None


def test_absolute_expiry_ends_even_a_busy_session(ann: AppDB) -> None:
    raw = _sign_in(ann, "ann", GOOD, T0).session_id
    moment = T0
    alive = True
    while moment < T0 + dt.timedelta(hours=9) and alive:
        moment += dt.timedelta(minutes=20)
        with ann.transaction() as session:
            alive = auth.load_session(session, raw, RULES, moment) is not None
    assert not alive and T0 + dt.timedelta(hours=8) <= moment <= T0 + dt.timedelta(
        hours=8, minutes=20
    )


def test_a_new_sign_in_replaces_the_browsers_old_session(ann: AppDB) -> None:
    first = _sign_in(ann, "ann", GOOD, T0).session_id
    with ann.transaction() as session:
        second = auth.sign_in(session, "ann", GOOD, "10.0.0.1", RULES, T0, replace_session_id=first)
    assert second.session_id and second.session_id != first
    with ann.transaction() as session:
        assert auth.load_session(session, first, RULES, T0) is None
        assert auth.load_session(session, second.session_id, RULES, T0) is not None


def test_rotate_and_sign_out(ann: AppDB) -> None:
    raw = _sign_in(ann, "ann", GOOD, T0).session_id
    assert raw
    with ann.transaction() as session:
        rotated = auth.rotate_session(session, raw, RULES, T0 + dt.timedelta(minutes=1))
    assert rotated is not None and rotated[0] != raw
    with ann.transaction() as session:
        assert auth.load_session(session, raw, RULES, T0) is None
        active = auth.load_session(session, rotated[0], RULES, T0 + dt.timedelta(minutes=2))
        assert active is not None and active.csrf_secret == rotated[1]
        auth.sign_out(session, rotated[0], SYSTEM, T0)
    with ann.transaction() as session:
        assert auth.load_session(session, rotated[0], RULES, T0) is None
