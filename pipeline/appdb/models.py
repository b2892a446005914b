"""SQLAlchemy 2 models of the application database (one owner: this package; schema changes
only through a migration in ``migrations/versions``).

Times are stored as naive UTC (``timestamp without time zone``) on every backend, so the audit
hash of an entry is the same whether it is read back from SQLite or PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pipeline.appdb.roles import Role

# Deterministic constraint names: Alembic can drop and alter them on every backend.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ROLE_VALUES = ", ".join(f"'{r.value}'" for r in Role)
CHANNELS = ("web", "cli", "api")


def utcnow() -> dt.datetime:
    """Now, naive UTC (the form every time column holds)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)  # NFKC, case-folded
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    hospital_code: Mapped[str | None] = mapped_column(String(32))  # clerks only
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id, PHC string
    preferred_language: Mapped[str] = mapped_column(String(8), default="zh")
    email: Mapped[str | None] = mapped_column(String(254))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)  # consecutive
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    password_changed_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint(f"role IN ({ROLE_VALUES})", name="role"),
        # A clerk is bound to exactly one hospital; nobody else is bound to any.
        CheckConstraint(
            "(role = 'hospital_clerk' AND hospital_code IS NOT NULL) OR "
            "(role <> 'hospital_clerk' AND hospital_code IS NULL)",
            name="clerk_hospital",
        ),
        CheckConstraint("preferred_language IN ('zh', 'en')", name="language"),
    )


class WebSession(Base):
    """A signed-in browser. Only the SHA-256 of the cookie value is stored."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime)
    idle_expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    absolute_expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    csrf_secret: Mapped[str] = mapped_column(String(64))
    client_address: Mapped[str | None] = mapped_column(String(64))


class LoginAttempt(Base):
    """Every sign-in attempt, for throttling by user name and by client address."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    username: Mapped[str] = mapped_column(String(64))  # as normalised, whether it exists or not
    user_id: Mapped[int | None] = mapped_column(Integer)
    client_address: Mapped[str] = mapped_column(String(64))
    success: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_client_at", "client_address", "at"),
    )


class AuditEntry(Base):
    """Append-only, hash-chained record of what every identity did (``pipeline.appdb.audit``).

    No foreign key to ``users``: the record outlives any change to the account it names.
    """

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    actor_username: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(8))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text)  # canonical JSON (sorted keys, no spaces)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (
        CheckConstraint("channel IN ('web', 'cli', 'api')", name="channel"),
        Index("ix_audit_log_object", "object_type", "object_id"),
        Index("ix_audit_log_actor", "actor_user_id"),
    )
