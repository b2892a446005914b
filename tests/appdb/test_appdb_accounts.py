"""Accounts: rules for names, roles, hospitals and passwords; who may manage users; every
change audited in the same transaction (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from appdb_helpers import REGISTRY, SYSTEM
from sqlalchemy import func, select

from pipeline.appdb import accounts, audit, auth, passwords
from pipeline.appdb.audit import Actor
from pipeline.appdb.db import AppDB
from pipeline.appdb.errors import (
    InvalidInput,
    NotPermitted,
    UnknownHospital,
    UserExists,
    UserNotFound,
    WeakPassword,
)
from pipeline.appdb.models import AuditEntry, User, WebSession, utcnow
from pipeline.appdb.roles import Role
from pipeline.config import WebSettings

GOOD = "orchid-Lantern-4417"


def _create(db: AppDB, username: str, role: Role, actor: Actor = SYSTEM, **kw: object) -> User:
    with db.transaction() as session:
        return accounts.create_user(
            session,
            actor,
            username=username,
            role=role,
            password=kw.pop("password", GOOD),
            registry=REGISTRY,
            **kw,  # type: ignore[arg-type]
        )


def _actions(db: AppDB) -> list[tuple[str, str, str | None]]:
    with db.transaction() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        return [(r.action, r.actor_username, r.object_id) for r in rows]


def test_create_user_hashes_the_password_and_audits(db: AppDB) -> None:
    user = _create(db, "Alice", Role.ADMIN, display_name="Alice Wang", email="a@example.org")
    assert user.username == "alice"  # case-folded
    assert user.password_hash.startswith("$argon2id$")
    assert GOOD not in user.password_hash
    assert passwords.verify_password(user.password_hash, GOOD)
    assert not passwords.verify_password(user.password_hash, GOOD + "x")
    assert _actions(db) == [("user.create", "os:test", "alice")]
    with db.transaction() as session:
        entry = session.scalars(select(AuditEntry)).one()
        assert "a@example.org" not in entry.details and GOOD not in entry.details


def test_user_names_are_unique_whatever_the_case_or_width(db: AppDB) -> None:
    _create(db, "alice", Role.ANALYST)
    for same in ("ALICE", "Alice", "ａｌｉｃｅ"):
        with pytest.raises(UserExists):
            _create(db, same, Role.ANALYST)


@pytest.mark.parametrize(
    "name", ["<script>alert(1)</script>", "a b", "x", '=HYPERLINK("http://x")', "a/b", "é" * 65]
)
def test_hostile_or_malformed_user_names_are_refused(db: AppDB, name: str) -> None:
    with pytest.raises(InvalidInput) as info:
        _create(db, name, Role.ANALYST)
    assert info.value.field == "username"
    assert "用户名" in info.value.message("zh")


def test_chinese_user_names_are_allowed(db: AppDB) -> None:
    assert _create(db, "王医生", Role.CODER).username == "王医生"


def test_clerk_needs_exactly_one_registered_hospital(db: AppDB) -> None:
    with pytest.raises(InvalidInput) as missing:
        _create(db, "clerk1", Role.HOSPITAL_CLERK)
    assert missing.value.field == "hospital_code"
    with pytest.raises(UnknownHospital):
        _create(db, "clerk1", Role.HOSPITAL_CLERK, hospital_code="XX999")
    with pytest.raises(InvalidInput):
        _create(db, "analyst1", Role.ANALYST, hospital_code="GZ001")
    clerk = _create(db, "clerk1", Role.HOSPITAL_CLERK, hospital_code="gz001")
    assert clerk.hospital_code == "GZ001"


@pytest.mark.parametrize(
    "password",
    [
        "short-1A",
        "aaaaaaaaaaaaaaaa",
        "password1234",
        "Password1234",
        "alice-secret-99",
        "x\x00" * 8,
    ],
)
def test_weak_passwords_are_refused_with_the_reason(db: AppDB, password: str) -> None:
    with pytest.raises(WeakPassword) as info:
        _create(db, "alice", Role.ANALYST, password=password)
    assert info.value.reasons_en and info.value.reasons_zh
    assert "密码" in info.value.message("zh")


def test_generated_passwords_pass_the_rules_and_differ() -> None:
    made = {passwords.generate_password() for _ in range(50)}
    assert len(made) == 50
    for password in made:
        passwords.check_strength(password, "someone")


def test_only_administrators_manage_users(db: AppDB) -> None:
    admin = _create(db, "root", Role.ADMIN)
    analyst = _create(db, "ann", Role.ANALYST)
    as_analyst = Actor(analyst.id, analyst.username, "web")
    with pytest.raises(NotPermitted):
        _create(db, "eve", Role.ADMIN, actor=as_analyst)
    with pytest.raises(NotPermitted), db.transaction() as session:
        accounts.set_role(session, as_analyst, "ann", Role.ADMIN, REGISTRY)
    as_admin = Actor(admin.id, admin.username, "web")
    _create(db, "bob", Role.CODER, actor=as_admin)
    assert _actions(db)[-1] == ("user.create", "root", "bob")


def test_set_role_moves_a_clerk_and_is_audited(db: AppDB) -> None:
    _create(db, "root", Role.ADMIN)
    _create(db, "carl", Role.HOSPITAL_CLERK, hospital_code="GZ001")
    with db.transaction() as session:
        user = accounts.set_role(session, SYSTEM, "carl", "hospital_clerk", REGISTRY, "SH001")
        assert user.hospital_code == "SH001"
        user = accounts.set_role(session, SYSTEM, "carl", "analyst", REGISTRY)
        assert (user.role, user.hospital_code) == ("analyst", None)
    assert [a for a, _, _ in _actions(db)][-2:] == ["user.set_role", "user.set_role"]


def test_the_last_administrator_cannot_be_removed(db: AppDB) -> None:
    _create(db, "root", Role.ADMIN)
    with pytest.raises(InvalidInput), db.transaction() as session:
        accounts.set_disabled(session, SYSTEM, "root", True)
    with pytest.raises(InvalidInput), db.transaction() as session:
        accounts.set_role(session, SYSTEM, "root", Role.ANALYST, REGISTRY)
    _create(db, "root2", Role.ADMIN)
    with db.transaction() as session:
        assert accounts.set_disabled(session, SYSTEM, "root", True).disabled


def test_disable_ends_sessions_and_enable_lifts_a_lockout(db: AppDB) -> None:
    _create(db, "root", Role.ADMIN)
    _create(db, "ann", Role.ANALYST)
    rules, now = WebSettings(), utcnow()
    with db.transaction() as session:
        signed = auth.sign_in(session, "ann", GOOD, "10.0.0.1", rules, now)
        assert signed.session_id
    with db.transaction() as session:
        accounts.set_disabled(session, SYSTEM, "ann", True)
        assert session.scalar(select(func.count()).select_from(WebSession)) == 0
        assert auth.load_session(session, signed.session_id, rules, now) is None
    with db.transaction() as session:
        user = accounts.get_user(session, "ann")
        user.locked_until, user.failed_logins = now.replace(year=now.year + 1), 3
    with db.transaction() as session:
        user = accounts.set_disabled(session, SYSTEM, "ann", False)
        assert (user.disabled, user.locked_until, user.failed_logins) == (False, None, 0)
    assert [a for a, _, _ in _actions(db)][-2:] == ["user.disable", "user.enable"]


def test_reset_password_generates_once_and_forces_a_change(db: AppDB) -> None:
    _create(db, "root", Role.ADMIN)
    _create(db, "ann", Role.ANALYST)
    with db.transaction() as session:
        user, generated = accounts.reset_password(session, SYSTEM, "ann")
        assert generated and user.must_change_password
        assert passwords.verify_password(user.password_hash, generated)
        assert not passwords.verify_password(user.password_hash, GOOD)
    with db.transaction() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        assert entry is not None and entry.action == "user.reset_password"
        assert generated not in entry.details


def test_change_own_password_checks_the_current_one(db: AppDB) -> None:
    ann = _create(db, "ann", Role.ANALYST)
    me = Actor(ann.id, ann.username, "web")
    with pytest.raises(InvalidInput) as wrong, db.transaction() as session:
        accounts.change_own_password(session, me, "not-it-at-all-9", "Fresh-meadow-2231")
    assert wrong.value.field == "current_password"
    with pytest.raises(WeakPassword), db.transaction() as session:
        accounts.change_own_password(session, me, GOOD, "ann-password-1")
    with db.transaction() as session:
        user = accounts.change_own_password(session, me, GOOD, "Fresh-meadow-2231")
        assert passwords.verify_password(user.password_hash, "Fresh-meadow-2231")
    assert _actions(db)[-1] == ("user.change_password", "ann", "ann")


def test_unknown_user_lookups(db: AppDB) -> None:
    with pytest.raises(UserNotFound), db.transaction() as session:
        accounts.get_user(session, "nobody")
    with pytest.raises(UserNotFound), db.transaction() as session:
        accounts.get_user(session, "<not a name>")


def test_profile_update_is_audited_without_the_address(db: AppDB) -> None:
    ann = _create(db, "ann", Role.ANALYST)
    me = Actor(ann.id, ann.username, "web")
    with db.transaction() as session:
        user = accounts.update_profile(session, me, language="en", email="ann@example.org")
        assert (user.preferred_language, user.email) == ("en", "ann@example.org")
    with pytest.raises(InvalidInput), db.transaction() as session:
        accounts.update_profile(session, me, email="not an address <script>")
    with pytest.raises(InvalidInput), db.transaction() as session:
        accounts.update_profile(session, me, language="fr")
    with db.transaction() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        assert entry is not None and entry.action == "user.update_profile"
        assert "ann@example.org" not in entry.details
        assert audit.verify_chain(session).ok
