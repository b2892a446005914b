"""User accounts: create, change and look up users; every change is audited in the same
transaction as the change itself.

All functions take an open ``Session`` (the caller owns the transaction) and the ``Actor`` who
acts. Permission to act is checked here, not only in the web layer, so the CLI and the web app
cannot disagree: user management needs an administrator, except for the operating-system account
of the CLI (``Actor.user_id is None``), which is how the first administrator is created.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from pipeline.appdb import audit, passwords
from pipeline.appdb.audit import Actor
from pipeline.appdb.errors import (
    InvalidInput,
    NotPermitted,
    UnknownHospital,
    UserExists,
    UserNotFound,
)
from pipeline.appdb.models import User, WebSession, utcnow
from pipeline.appdb.roles import Role

LANGUAGES = ("zh", "en")
_USERNAME_RE = re.compile(r"^[\w.@-]{2,64}$")  # \w: letters and digits of any script, and _
_EMAIL_RE = re.compile(r"^[^@\s<>\"'`]{1,64}@[^@\s<>\"'`]{1,185}\.[^@\s<>\"'`.]{2,63}$")


@dataclass(frozen=True)
class UserView:
    """A detached, read-only copy of a user (no password hash) for pages and commands."""

    id: int
    username: str
    display_name: str
    role: Role
    hospital_code: str | None
    preferred_language: str
    email: str | None
    disabled: bool
    locked_until: dt.datetime | None
    must_change_password: bool
    failed_logins: int
    last_login_at: dt.datetime | None
    created_at: dt.datetime

    @classmethod
    def of(cls, user: User) -> UserView:
        return cls(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            role=Role(user.role),
            hospital_code=user.hospital_code,
            preferred_language=user.preferred_language,
            email=user.email,
            disabled=user.disabled,
            locked_until=user.locked_until,
            must_change_password=user.must_change_password,
            failed_logins=user.failed_logins,
            last_login_at=user.last_login_at,
            created_at=user.created_at,
        )

    def is_locked(self, now: dt.datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now

    def status(self, now: dt.datetime) -> str:
        return "disabled" if self.disabled else "locked" if self.is_locked(now) else "active"


def normalize_username(raw: str) -> str:
    """NFKC and case-folded, so ``Alice``, ``alice`` and full-width ``ａｌｉｃｅ`` are one user."""
    name = unicodedata.normalize("NFKC", raw or "").strip().casefold()
    if not _USERNAME_RE.match(name):
        raise InvalidInput(
            "username",
            "the user name {value} is not allowed: use 2-64 letters, digits, '.', '_', '-' or "
            "'@' (no spaces)",
            "用户名 {value} 不可用：请使用 2-64 个字母、数字或 . _ - @（不含空格）",
            value=raw,
        )
    return name


def clean_display_name(raw: str | None, fallback: str) -> str:
    name = unicodedata.normalize("NFKC", raw or "").strip()
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise InvalidInput(
            "display_name",
            "the display name must not contain control characters",
            "显示名不能包含控制字符",
        )
    if len(name) > 200:
        raise InvalidInput(
            "display_name",
            "the display name is longer than 200 characters",
            "显示名超过 200 个字符",
        )
    return name or fallback


def clean_email(raw: str | None) -> str | None:
    email = (raw or "").strip()
    if not email:
        return None
    if not _EMAIL_RE.match(email):
        raise InvalidInput(
            "email", "{value} is not an e-mail address", "{value} 不是有效的电子邮件地址", value=raw
        )
    return email


def clean_language(raw: str | None) -> str:
    lang = (raw or "zh").strip().lower()
    if lang not in LANGUAGES:
        raise InvalidInput(
            "language",
            "language must be zh or en, got {value}",
            "语言须为 zh 或 en，而不是 {value}",
            value=raw,
        )
    return lang


def _hospital_for(role: Role, hospital: str | None, registry: Collection[str]) -> str | None:
    code = (hospital or "").strip().upper() or None
    if role is Role.HOSPITAL_CLERK:
        if code is None:
            raise InvalidInput(
                "hospital_code",
                "a hospital clerk must be bound to a hospital (--hospital CODE)",
                "医院数据员必须绑定一家医院（--hospital 代码）",
            )
        if code not in registry:
            raise UnknownHospital("hospital_code", code=code)
        return code
    if code is not None:
        raise InvalidInput(
            "hospital_code",
            "only hospital clerks are bound to a hospital (role {role})",
            "只有医院数据员绑定医院（角色 {role}）",
            role=role.value,
        )
    return None


def _require_admin(session: Session, actor: Actor) -> None:
    if actor.user_id is None:  # the server's operating-system account, through the CLI
        return
    user = session.get(User, actor.user_id)
    if user is None or user.disabled or user.role != Role.ADMIN:
        raise NotPermitted(username=actor.username, role=user.role if user else "-")


def get_user(session: Session, username: str) -> User:
    try:
        name = normalize_username(username)
    except InvalidInput:
        raise UserNotFound(username=username) from None
    user = session.scalars(select(User).where(User.username == name)).first()
    if user is None:
        raise UserNotFound(username=username)
    return user


def find_user(session: Session, username: str) -> User | None:
    try:
        return get_user(session, username)
    except UserNotFound:
        return None


def list_users(session: Session) -> list[UserView]:
    return [UserView.of(u) for u in session.scalars(select(User).order_by(User.username))]


def count_admins(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).where(User.role == Role.ADMIN, User.disabled.is_(False))
        )
        or 0
    )


def create_user(
    session: Session,
    actor: Actor,
    *,
    username: str,
    role: Role | str,
    password: str,
    registry: Collection[str],
    display_name: str | None = None,
    hospital_code: str | None = None,
    email: str | None = None,
    language: str | None = None,
    must_change_password: bool = False,
    now: dt.datetime | None = None,
) -> User:
    _require_admin(session, actor)
    name = normalize_username(username)
    role = role if isinstance(role, Role) else Role.parse(role)
    shown = clean_display_name(display_name, name)
    hospital = _hospital_for(role, hospital_code, registry)
    mail = clean_email(email)
    lang = clean_language(language)
    passwords.check_strength(password, name, shown)
    if find_user(session, name) is not None:
        raise UserExists("username", username=name)
    moment = now or utcnow()
    user = User(
        username=name,
        display_name=shown,
        role=role.value,
        hospital_code=hospital,
        password_hash=passwords.hash_password(password, session),
        preferred_language=lang,
        email=mail,
        disabled=False,
        failed_logins=0,
        must_change_password=must_change_password,
        password_changed_at=moment,
        created_at=moment,
        updated_at=moment,
    )
    session.add(user)
    session.flush()
    audit.append(
        session,
        actor,
        "user.create",
        "user",
        user.username,
        {"role": role.value, "hospital_code": hospital, "language": lang, "email_set": bool(mail)},
        at=moment,
    )
    return user


def _end_sessions(session: Session, user: User, keep_hash: str | None = None) -> int:
    query = delete(WebSession).where(WebSession.user_id == user.id)
    if keep_hash is not None:
        query = query.where(WebSession.id_hash != keep_hash)
    return session.execute(query).rowcount or 0


def _guard_last_admin(session: Session, user: User, username: str) -> None:
    if user.role == Role.ADMIN and not user.disabled and count_admins(session) <= 1:
        raise InvalidInput(
            "username",
            "{value} is the last active administrator; add another one first",
            "{value} 是最后一位在用的系统管理员；请先添加另一位",
            value=username,
        )


def set_role(
    session: Session,
    actor: Actor,
    username: str,
    role: Role | str,
    registry: Collection[str],
    hospital_code: str | None = None,
    now: dt.datetime | None = None,
) -> User:
    _require_admin(session, actor)
    user = get_user(session, username)
    role = role if isinstance(role, Role) else Role.parse(role)
    hospital = _hospital_for(role, hospital_code, registry)
    if role is not Role.ADMIN:
        _guard_last_admin(session, user, user.username)
    before = {"role": user.role, "hospital_code": user.hospital_code}
    user.role, user.hospital_code = role.value, hospital
    user.updated_at = now or utcnow()
    audit.append(
        session,
        actor,
        "user.set_role",
        "user",
        user.username,
        {"before": before, "after": {"role": role.value, "hospital_code": hospital}},
        at=user.updated_at,
    )
    return user


def set_disabled(
    session: Session, actor: Actor, username: str, disabled: bool, now: dt.datetime | None = None
) -> User:
    """Disable (and sign out everywhere) or enable an account; enabling also lifts a lockout."""
    _require_admin(session, actor)
    user = get_user(session, username)
    if disabled:
        _guard_last_admin(session, user, user.username)
    user.disabled = disabled
    ended = _end_sessions(session, user) if disabled else 0
    if not disabled:
        user.failed_logins, user.locked_until = 0, None
    user.updated_at = now or utcnow()
    audit.append(
        session,
        actor,
        "user.disable" if disabled else "user.enable",
        "user",
        user.username,
        {"sessions_ended": ended} if disabled else {},
        at=user.updated_at,
    )
    return user


def reset_password(
    session: Session,
    actor: Actor,
    username: str,
    new_password: str | None = None,
    now: dt.datetime | None = None,
) -> tuple[User, str | None]:
    """Set a new password (generated when ``new_password`` is None, then returned once; the user
    must change it at the next sign-in). Ends the user's sessions and lifts a lockout."""
    _require_admin(session, actor)
    user = get_user(session, username)
    generated = new_password is None
    password = passwords.generate_password() if generated else new_password
    assert password is not None
    passwords.check_strength(password, user.username, user.display_name)
    moment = now or utcnow()
    user.password_hash = passwords.hash_password(password, session)
    user.password_changed_at = user.updated_at = moment
    user.must_change_password = generated
    user.failed_logins, user.locked_until = 0, None
    ended = _end_sessions(session, user)
    audit.append(
        session,
        actor,
        "user.reset_password",
        "user",
        user.username,
        {"generated": generated, "sessions_ended": ended},
        at=moment,
    )
    return user, password if generated else None


def change_own_password(
    session: Session,
    actor: Actor,
    current_password: str,
    new_password: str,
    keep_session_hash: str | None = None,
    now: dt.datetime | None = None,
) -> User:
    """The signed-in user changes their password; their other sessions end."""
    user = session.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None or user.disabled:
        raise NotPermitted(username=actor.username, role="-")
    if not passwords.verify_password(user.password_hash, current_password, session):
        raise InvalidInput(
            "current_password", "the current password is not correct", "当前密码不正确"
        )
    if new_password == current_password:
        raise InvalidInput(
            "password",
            "the new password must differ from the current one",
            "新密码不能与当前密码相同",
        )
    passwords.check_strength(new_password, user.username, user.display_name)
    moment = now or utcnow()
    user.password_hash = passwords.hash_password(new_password, session)
    user.password_changed_at = user.updated_at = moment
    user.must_change_password = False
    ended = _end_sessions(session, user, keep_hash=keep_session_hash)
    audit.append(
        session,
        actor,
        "user.change_password",
        "user",
        user.username,
        {"other_sessions_ended": ended},
        at=moment,
    )
    return user


def update_profile(
    session: Session,
    actor: Actor,
    *,
    language: str | None = None,
    email: str | None = None,
    display_name: str | None = None,
    now: dt.datetime | None = None,
) -> User:
    """The signed-in user's own settings; ``None`` leaves a field as it is, "" clears e-mail."""
    user = session.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None or user.disabled:
        raise NotPermitted(username=actor.username, role="-")
    changed: dict[str, object] = {}
    if language is not None and clean_language(language) != user.preferred_language:
        user.preferred_language = changed["language"] = clean_language(language)
    if email is not None and clean_email(email) != user.email:
        user.email = clean_email(email)
        changed["email_set"] = user.email is not None
    if display_name is not None:
        shown = clean_display_name(display_name, user.display_name)
        if shown != user.display_name:
            user.display_name = shown
            changed["display_name"] = True
    if changed:
        user.updated_at = now or utcnow()
        audit.append(
            session,
            actor,
            "user.update_profile",
            "user",
            user.username,
            changed,
            at=user.updated_at,
        )
    return user
