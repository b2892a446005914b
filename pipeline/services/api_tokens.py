"""Hospital API tokens: what ``sentinel tokens issue|list|revoke`` and the submission API call.

A token is ``snt_`` + 32 random bytes (URL-safe base64). It is shown once, when issued; the
application database keeps its SHA-256 only (a fast hash is enough for a high-entropy secret),
its first characters (``prefix``, to tell tokens apart in listings and the audit log), its
hospital, language, expiry, last use and revocation. Issuing and revoking are audited in the
hash-chained audit log, in the same transaction as the change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from pipeline.appdb import audit
from pipeline.appdb.audit import Actor
from pipeline.appdb.db import AppDB
from pipeline.appdb.models import ApiToken, utcnow
from pipeline.config import Settings
from pipeline.errors import BadInput, NotFound
from pipeline.services.accounts import registry_codes

TOKEN_PREFIX = "snt_"
PREFIX_CHARS = 12  # "snt_" and 8 characters of the secret: enough to tell tokens apart
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)  # last-use time written at most once a minute


@dataclass(frozen=True)
class TokenView:
    id: int
    prefix: str
    hospital_code: str
    label: str | None
    language: str
    created_at: dt.datetime
    created_by: str
    expires_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None

    def state(self, now: dt.datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "active"


@dataclass(frozen=True)
class IssuedToken:
    token: str  # the secret, shown once
    view: TokenView


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _view(row: ApiToken) -> TokenView:
    return TokenView(
        id=row.id,
        prefix=row.prefix,
        hospital_code=row.hospital_code,
        label=row.label,
        language=row.language,
        created_at=row.created_at,
        created_by=row.created_by,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def _hospital(settings: Settings, code: str) -> str:
    hospital = (code or "").strip().upper()
    if hospital not in registry_codes(settings):
        raise BadInput(
            f"hospital {hospital or '(empty)'} is not in the hospital registry",
            detail_zh=f"医院 {hospital or '（空）'} 不在医院名录中",
        )
    return hospital


def issue(
    db: AppDB,
    settings: Settings,
    actor: Actor,
    hospital: str,
    *,
    days: int | None = None,
    label: str | None = None,
    language: str = "zh",
    now: dt.datetime | None = None,
) -> IssuedToken:
    """A new token for ``hospital`` valid ``days`` (default ``SENTINEL_API_TOKEN_DAYS``)."""
    code = _hospital(settings, hospital)
    if language not in ("zh", "en"):
        raise BadInput(f"language must be zh or en, got {language!r}")
    lifetime = settings.api.token_days if days is None else days
    if lifetime < 1:
        raise BadInput(f"a token must be valid for at least one day, got {lifetime}")
    now = now or utcnow()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        token_hash=hash_token(token),
        prefix=token[:PREFIX_CHARS],
        hospital_code=code,
        label=(label or None) and label[:200],
        language=language,
        created_at=now,
        created_by=actor.username,
        expires_at=now + dt.timedelta(days=lifetime),
        last_used_at=None,
        revoked_at=None,
    )
    with db.transaction() as session:
        session.add(row)
        session.flush()
        audit.append(
            session,
            actor,
            "api_token.issue",
            "api_token",
            row.id,
            {
                "hospital": code,
                "prefix": row.prefix,
                "expires_at": row.expires_at.isoformat(),
                "label": row.label,
            },
            at=now,
        )
        return IssuedToken(token, _view(row))


def list_tokens(db: AppDB, hospital: str | None = None) -> list[TokenView]:
    with db.transaction() as session:
        query = select(ApiToken).order_by(ApiToken.hospital_code, ApiToken.id)
        if hospital:
            query = query.where(ApiToken.hospital_code == hospital.strip().upper())
        return [_view(r) for r in session.scalars(query)]


def revoke(
    db: AppDB,
    actor: Actor,
    hospital: str,
    token_ref: str,
    now: dt.datetime | None = None,
) -> TokenView:
    """Revoke a token of ``hospital`` named by its id or prefix (idempotent: revoking a revoked
    token changes nothing and is not audited again)."""
    code = (hospital or "").strip().upper()
    now = now or utcnow()
    with db.transaction() as session:
        query = select(ApiToken).where(ApiToken.hospital_code == code)
        ref = token_ref.strip()
        if ref.isdigit():
            query = query.where(ApiToken.id == int(ref))
        else:
            query = query.where(ApiToken.prefix == ref[:PREFIX_CHARS])
        rows = list(session.scalars(query))
        if len(rows) != 1:
            raise NotFound(
                f"no token {ref} of hospital {code}", detail_zh=f"医院 {code} 没有令牌 {ref}"
            )
        row = rows[0]
        if row.revoked_at is None:
            row.revoked_at = now
            audit.append(
                session,
                actor,
                "api_token.revoke",
                "api_token",
                row.id,
                {"hospital": code, "prefix": row.prefix},
                at=now,
            )
        return _view(row)


def authenticate(db: AppDB, token: str, now: dt.datetime) -> TokenView | None:
    """The active token with this value, or None (unknown, revoked or expired: the caller
    answers 401 alike). Records the last use (at most once a minute per token)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    digest = hash_token(token)
    with db.transaction() as session:
        row = session.scalars(select(ApiToken).where(ApiToken.token_hash == digest)).first()
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            return None
        if row.revoked_at is not None or row.expires_at <= now:
            return None
        if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
            row.last_used_at = now
        return _view(row)
