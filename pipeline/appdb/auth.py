"""Sign-in: password check with throttling and lockout, and server-side sessions.

A session id is 32 random bytes sent to the browser once; the database stores only its SHA-256,
so a copy of the database does not let anyone sign in. Every session has an idle expiry (pushed
forward as it is used) and an absolute expiry (fixed at sign-in). A new id is issued at every
sign-in; the browser's previous session, if any, is destroyed (no fixation).

Throttling has two keys: the user name (``login_max_failures`` consecutive failures lock the
account for ``login_lockout_minutes``; the lock is recorded on the user row) and the client
address (more than ``login_max_per_address`` failures within ``login_window_minutes`` refuse
further attempts from it). The outcome shown to the person signing in is the same for an unknown
user, a wrong password, a locked or disabled account and a throttled address.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from pipeline.appdb import audit, passwords
from pipeline.appdb.accounts import UserView, normalize_username
from pipeline.appdb.audit import Actor
from pipeline.appdb.errors import InvalidInput
from pipeline.appdb.models import LoginAttempt, User, WebSession
from pipeline.config import WebSettings

TOUCH_EVERY = dt.timedelta(seconds=60)  # write last_seen at most once a minute per session
KEEP_ATTEMPTS = dt.timedelta(days=30)


class Outcome(StrEnum):
    OK = "ok"
    UNKNOWN_USER = "unknown_user"
    BAD_PASSWORD = "bad_password"
    LOCKED = "locked"
    DISABLED = "disabled"
    THROTTLED = "throttled"


@dataclass(frozen=True)
class SignIn:
    outcome: Outcome
    user: UserView | None = None
    session_id: str | None = None  # the raw id for the cookie, only when outcome is OK
    csrf_secret: str | None = None
    just_locked: bool = False


def hash_session_id(raw: str) -> str:
    return hashlib.sha256(raw.encode("ascii", "replace")).hexdigest()


def _address(client_address: str | None) -> str:
    return (client_address or "unknown")[:64]


def address_throttled(
    session: Session, client_address: str | None, rules: WebSettings, now: dt.datetime
) -> bool:
    since = now - dt.timedelta(minutes=rules.login_window_minutes)
    failures = session.scalar(
        select(func.count()).where(
            LoginAttempt.client_address == _address(client_address),
            LoginAttempt.at >= since,
            LoginAttempt.success.is_(False),
        )
    )
    return (failures or 0) >= rules.login_max_per_address


def sign_in(
    session: Session,
    username: str,
    password: str,
    client_address: str | None,
    rules: WebSettings,
    now: dt.datetime,
    channel: str = "web",
    replace_session_id: str | None = None,
) -> SignIn:
    """Check a password and, when it is right, open a new session (in the caller's
    transaction). Every attempt is recorded; a lockout and a successful sign-in are audited."""
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - KEEP_ATTEMPTS))
    try:
        name = normalize_username(username)
    except InvalidInput:
        name = None
    user = session.scalars(select(User).where(User.username == name)).first() if name else None
    address = _address(client_address)

    def record(outcome: Outcome, just_locked: bool = False) -> SignIn:
        session.add(
            LoginAttempt(
                at=now,
                username=(name or username or "")[:64],
                user_id=user.id if user else None,
                client_address=address,
                success=outcome is Outcome.OK,
            )
        )
        return SignIn(outcome, UserView.of(user) if user else None, just_locked=just_locked)

    if address_throttled(session, address, rules, now):
        passwords.verify_password(None, password, session)  # same work, same time
        return record(Outcome.THROTTLED)
    if user is None:
        passwords.verify_password(None, password, session)
        return record(Outcome.UNKNOWN_USER)
    if user.disabled:
        passwords.verify_password(None, password, session)
        return record(Outcome.DISABLED)
    if user.locked_until is not None and user.locked_until > now:
        passwords.verify_password(None, password, session)
        return record(Outcome.LOCKED)
    if not passwords.verify_password(user.password_hash, password, session):
        user.failed_logins += 1
        just_locked = user.failed_logins >= rules.login_max_failures
        if just_locked:
            user.locked_until = now + dt.timedelta(minutes=rules.login_lockout_minutes)
            user.failed_logins = 0
            audit.append(
                session,
                Actor(None, "system", channel),
                "auth.lockout",
                "user",
                user.username,
                {"minutes": rules.login_lockout_minutes, "client_address": address},
                at=now,
            )
        return record(Outcome.BAD_PASSWORD, just_locked)
    if passwords.needs_rehash(user.password_hash, session):
        user.password_hash = passwords.hash_password(password, session)
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    if replace_session_id:  # whatever session this browser had ends here: a new id (no fixation)
        destroy_session(session, replace_session_id)
    raw_id, web_session = _new_session(user, address, rules, now)
    session.add(web_session)
    audit.append(
        session,
        Actor(user.id, user.username, channel),
        "auth.sign_in",
        "user",
        user.username,
        {"client_address": address},
        at=now,
    )
    result = record(Outcome.OK)
    return SignIn(Outcome.OK, result.user, raw_id, web_session.csrf_secret)


def _new_session(
    user: User, address: str, rules: WebSettings, now: dt.datetime
) -> tuple[str, WebSession]:
    raw_id = secrets.token_urlsafe(32)
    absolute = now + dt.timedelta(hours=rules.session_max_hours)
    return raw_id, WebSession(
        id_hash=hash_session_id(raw_id),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        idle_expires_at=min(now + dt.timedelta(minutes=rules.session_idle_minutes), absolute),
        absolute_expires_at=absolute,
        csrf_secret=secrets.token_urlsafe(32),
        client_address=address,
    )


@dataclass(frozen=True)
class ActiveSession:
    id_hash: str
    csrf_secret: str
    created_at: dt.datetime
    user: UserView


def load_session(
    session: Session, raw_id: str | None, rules: WebSettings, now: dt.datetime
) -> ActiveSession | None:
    """The signed-in user behind a cookie value, or None (unknown, expired, user disabled).
    An expired session is deleted; a live one has its idle expiry pushed forward."""
    if not raw_id or len(raw_id) > 128:
        return None
    row = session.get(WebSession, hash_session_id(raw_id))
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if (
        user is None
        or user.disabled
        or now >= row.idle_expires_at
        or now >= row.absolute_expires_at
    ):
        session.delete(row)
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        row.idle_expires_at = min(
            now + dt.timedelta(minutes=rules.session_idle_minutes), row.absolute_expires_at
        )
    return ActiveSession(row.id_hash, row.csrf_secret, row.created_at, UserView.of(user))


def rotate_session(
    session: Session, raw_id: str, rules: WebSettings, now: dt.datetime
) -> tuple[str, str] | None:
    """Give a live session a new id and CSRF secret (after a password change); the absolute
    expiry stays. Returns (new raw id, new csrf secret)."""
    row = session.get(WebSession, hash_session_id(raw_id))
    if row is None:
        return None
    user = session.get(User, row.user_id)
    assert user is not None
    new_raw, fresh = _new_session(user, row.client_address or "", rules, now)
    fresh.created_at = now
    fresh.absolute_expires_at = row.absolute_expires_at
    fresh.idle_expires_at = min(fresh.idle_expires_at, row.absolute_expires_at)
    session.delete(row)
    session.flush()
    session.add(fresh)
    return new_raw, fresh.csrf_secret


def destroy_session(session: Session, raw_id: str | None) -> bool:
    if not raw_id or len(raw_id) > 128:
        return False
    deleted = session.execute(
        delete(WebSession).where(WebSession.id_hash == hash_session_id(raw_id))
    ).rowcount
    return bool(deleted)


def sign_out(session: Session, raw_id: str | None, actor: Actor, now: dt.datetime) -> None:
    if destroy_session(session, raw_id):
        audit.append(session, actor, "auth.sign_out", "user", actor.username, {}, at=now)


def purge_expired_sessions(session: Session, now: dt.datetime) -> int:
    return (
        session.execute(
            delete(WebSession).where(
                (WebSession.idle_expires_at <= now) | (WebSession.absolute_expires_at <= now)
            )
        ).rowcount
        or 0
    )
