"""Hospital API tokens (issue 19): stored hashed, scoped, expiring, revocable, audited; on
SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select

from pipeline.appdb.audit import Actor, verify_chain
from pipeline.appdb.db import AppDB
from pipeline.appdb.models import ApiToken, AuditEntry
from pipeline.config import Settings
from pipeline.errors import BadInput, NotFound
from pipeline.services import api_tokens

T0 = dt.datetime(2026, 12, 1, 9, 0, 0)
ADMIN = Actor(None, "os:test", "cli")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, landing_dir=tmp_path / "landing")


def test_issue_stores_only_the_hash_and_audits(db: AppDB, settings: Settings) -> None:
    issued = api_tokens.issue(db, settings, ADMIN, "gz001", days=30, label="his", now=T0)
    assert issued.token.startswith("snt_") and len(issued.token) >= 40
    assert issued.view.hospital_code == "GZ001"
    assert issued.view.expires_at == T0 + dt.timedelta(days=30)
    with db.transaction() as session:
        row = session.scalars(select(ApiToken)).one()
        stored = {str(getattr(row, c.name)) for c in ApiToken.__table__.columns}
        entries = list(session.scalars(select(AuditEntry)))
        assert verify_chain(session).ok
    assert issued.token not in stored and not any(issued.token[4:] in s for s in stored)
    assert row.token_hash == hashlib.sha256(issued.token.encode()).hexdigest()
    assert [(e.action, e.object_id) for e in entries] == [("api_token.issue", str(row.id))]
    assert issued.token not in entries[0].details


def test_authenticate_expiry_revocation_and_last_use(db: AppDB, settings: Settings) -> None:
    issued = api_tokens.issue(db, settings, ADMIN, "GZ001", days=1, now=T0)
    view = api_tokens.authenticate(db, issued.token, T0 + dt.timedelta(hours=1))
    assert view is not None and view.hospital_code == "GZ001"
    assert view.last_used_at == T0 + dt.timedelta(hours=1)
    assert api_tokens.authenticate(db, issued.token, T0 + dt.timedelta(days=1)) is None  # expired
    assert api_tokens.authenticate(db, issued.token + "x", T0) is None
    assert api_tokens.authenticate(db, "not-a-token", T0) is None
    other = api_tokens.issue(db, settings, ADMIN, "GZ001", now=T0)
    revoked = api_tokens.revoke(db, ADMIN, "GZ001", other.view.prefix, now=T0)
    assert revoked.revoked_at == T0 and revoked.state(T0) == "revoked"
    assert api_tokens.authenticate(db, other.token, T0) is None
    api_tokens.revoke(db, ADMIN, "GZ001", str(other.view.id), now=T0)  # idempotent
    with db.transaction() as session:
        actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
    assert actions == ["api_token.issue", "api_token.issue", "api_token.revoke"]


def test_refusals(db: AppDB, settings: Settings) -> None:
    with pytest.raises(BadInput):
        api_tokens.issue(db, settings, ADMIN, "XX999")
    with pytest.raises(BadInput):
        api_tokens.issue(db, settings, ADMIN, "GZ001", days=0)
    issued = api_tokens.issue(db, settings, ADMIN, "GZ001")
    with pytest.raises(NotFound):  # a token is revoked through its own hospital only
        api_tokens.revoke(db, ADMIN, "SH001", str(issued.view.id))
    assert [v.hospital_code for v in api_tokens.list_tokens(db, "gz001")] == ["GZ001"]
    assert api_tokens.list_tokens(db, "SH001") == []
