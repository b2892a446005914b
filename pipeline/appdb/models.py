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
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
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


# --- Triage, follow-ups and notices (issue 15 item 3, issue 18): append-only, audited --------
#
# Every row is written once, together with one audit entry in the same transaction: the entry's
# ``details["row"]`` holds the table, the row id and ``row_hash`` (SHA-256 of the row's content,
# ``pipeline.appdb.records``), and the row keeps the entry's ``audit_seq``. Database triggers
# refuse UPDATE and DELETE; ``sentinel audit verify`` recomputes every row's hash against its
# entry, so a change made after dropping the triggers is still found. State (the current
# decision, a notice's status) is the latest row, never an edited one.

DECISION_VALUES = ("confirm", "dismiss", "watch")
PRODUCT_ROLE_VALUES = ("caused", "contributed", "involved_not_causal", "unrelated", "undetermined")
NOTICE_KINDS = ("risk-notice", "safety-warning", "recall-referral")
NOTICE_ACTIONS = ("submit", "approve", "return")


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class TriageDecision(Base):
    """The decision facet of a signal: confirm, dismiss or watch (the latest row is current)."""

    __tablename__ = "triage_decisions"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    signal_id: Mapped[str] = mapped_column(String(24), index=True)
    week: Mapped[str] = mapped_column(String(10))  # the signal week the decision was made on
    decision: Mapped[str] = mapped_column(String(16))
    previous: Mapped[str | None] = mapped_column(String(16))  # the decision it replaced
    reason: Mapped[str] = mapped_column(Text)  # scrubbed of identifiers
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    actor_username: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(8))
    legacy_actor: Mapped[str | None] = mapped_column(String(200))  # imported free text, scrubbed
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)
    audit_seq: Mapped[int] = mapped_column(BigInteger)
    row_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint(f"decision IN ({_in(DECISION_VALUES)})", name="decision"),
        Index("ix_triage_decisions_signal_at", "signal_id", "recorded_at"),
    )


class FollowUp(Base):
    """The investigation facet: one case of a signal selected for a follow-up call or visit."""

    __tablename__ = "followups"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    signal_id: Mapped[str] = mapped_column(String(24), index=True)
    week: Mapped[str] = mapped_column(String(10))
    hospital_code: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)  # what to find out; scrubbed
    due_date: Mapped[dt.date] = mapped_column(Date)
    requested_by_user_id: Mapped[int | None] = mapped_column(Integer)
    requested_by: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(8))
    legacy_actor: Mapped[str | None] = mapped_column(String(200))
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime)
    audit_seq: Mapped[int] = mapped_column(BigInteger)
    row_hash: Mapped[str] = mapped_column(String(64))


class FollowUpResult(Base):
    """What a follow-up found; a later result supersedes an earlier one (both stay)."""

    __tablename__ = "followup_results"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    followup_id: Mapped[str] = mapped_column(ForeignKey("followups.id"), index=True)
    reached: Mapped[bool] = mapped_column(Boolean)
    brand_verified: Mapped[str | None] = mapped_column(String(200))
    model_verified: Mapped[str | None] = mapped_column(String(200))
    batch_verified: Mapped[str | None] = mapped_column(String(200))
    product_role: Mapped[str] = mapped_column(String(32))
    conclusion: Mapped[str] = mapped_column(Text)
    recorded_by_user_id: Mapped[int | None] = mapped_column(Integer)
    recorded_by: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(8))
    legacy_actor: Mapped[str | None] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)
    audit_seq: Mapped[int] = mapped_column(BigInteger)
    row_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint(f"product_role IN ({_in(PRODUCT_ROLE_VALUES)})", name="product_role"),
    )


class Notice(Base):
    """One version of a document drafted from a signal (its rendered text is in
    ``notice_documents``; ``content_sha256`` covers all of it). Status is its latest event."""

    __tablename__ = "notices"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    signal_id: Mapped[str] = mapped_column(String(24), index=True)
    week: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    override_reason: Mapped[str | None] = mapped_column(Text)  # warning without finished follow-up
    pack_id: Mapped[str | None] = mapped_column(String(120))  # the evidence pack it cites
    pack_sha256: Mapped[str | None] = mapped_column(String(64))
    content_sha256: Mapped[str] = mapped_column(String(64))
    drafted_by_user_id: Mapped[int | None] = mapped_column(Integer)
    drafted_by: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(8))
    drafted_at: Mapped[dt.datetime] = mapped_column(DateTime)
    audit_seq: Mapped[int] = mapped_column(BigInteger)
    row_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(NOTICE_KINDS)})", name="kind"),
        UniqueConstraint("signal_id", "kind", "version", name="uq_notices_signal_kind_version"),
    )


class NoticeDocument(Base):
    """The rendered text of a notice version, per language and format (frozen with it)."""

    __tablename__ = "notice_documents"

    notice_id: Mapped[str] = mapped_column(ForeignKey("notices.id"), primary_key=True)
    lang: Mapped[str] = mapped_column(String(8), primary_key=True)
    fmt: Mapped[str] = mapped_column(String(8), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))


class NoticeEvent(Base):
    """A step of a notice's approval: submitted, approved (frozen) or returned with a comment."""

    __tablename__ = "notice_events"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    notice_id: Mapped[str] = mapped_column(ForeignKey("notices.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64))  # what was submitted / approved
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    actor_username: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(8))
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    audit_seq: Mapped[int] = mapped_column(BigInteger)
    row_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (CheckConstraint(f"action IN ({_in(NOTICE_ACTIONS)})", name="action"),)


# ---- the workspace pages (issue 18): saved queries, coder resolutions, evidence requests,
# notification preferences and what was sent ----------------------------------------------


class SavedQuery(Base):
    """A case-search query a user saved under a name (the query as canonical JSON)."""

    __tablename__ = "saved_queries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    query_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_saved_queries_user_id_name"),)


RESOLUTION_STATES = ("pending", "applied", "stale", "rejected")


class CodingResolution(Base):
    """A coder's category for a case, decided on the web. The pipeline is the warehouse's only
    writer: the next coding run applies pending resolutions and records the outcome here
    (``applied``; ``stale`` when the case changed since; ``rejected`` when the category is no
    longer valid for it)."""

    __tablename__ = "coding_resolutions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[str | None] = mapped_column(String(200))
    hospital_code: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[str] = mapped_column(String(100))
    case_version: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(16))  # a taxonomy code or NONE
    note: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(64))
    resolved_at: Mapped[dt.datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    applied_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    outcome: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in RESOLUTION_STATES) + ")", name="status"
        ),
        Index("ix_coding_resolutions_status", "status"),
        Index("ix_coding_resolutions_case", "hospital_code", "case_id"),
    )


EVIDENCE_STATES = ("pending", "building", "built", "failed")


class EvidenceRequest(Base):
    """A recall officer's request for an evidence pack, built from the published snapshot by a
    bounded background job of the web app or by ``sentinel evidence-pack requests``."""

    __tablename__ = "evidence_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    signal_id: Mapped[str] = mapped_column(String(24))  # a signal of pipeline.alerts.signals
    week: Mapped[str] = mapped_column(String(8))
    requested_by_id: Mapped[int | None] = mapped_column(Integer)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    pack_name: Mapped[str | None] = mapped_column(String(255))
    manifest_sha256: Mapped[str | None] = mapped_column(String(64))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in EVIDENCE_STATES) + ")", name="status"
        ),
        Index("ix_evidence_requests_signal", "signal_id", "week"),
        Index("ix_evidence_requests_status", "status"),
    )


class NotificationPreference(Base):
    """Whether a user gets one kind of notification (no row: the role's default)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class NotificationSent(Base):
    """One e-mail per (user, kind, object): sending again changes nothing."""

    __tablename__ = "notifications_sent"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    object_key: Mapped[str] = mapped_column(String(200))
    recipient: Mapped[str] = mapped_column(String(254))
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("user_id", "kind", "object_key", name="uq_notifications_sent_key"),
    )


# --- Submission API (issue 19): per-hospital tokens, submissions and their status history ----

API_EVENT_STATUSES = ("received", "processing", "processed", "failed")


class ApiToken(Base):
    """A hospital system's bearer token. Only the SHA-256 of the token is stored (the token is
    32 random bytes: a fast hash is enough, there is nothing to guess)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # first characters, to tell tokens apart
    hospital_code: Mapped[str] = mapped_column(String(32), index=True)
    label: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8), default="zh")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    __table_args__ = (CheckConstraint("language IN ('zh', 'en')", name="language"),)


class ApiSubmission(Base):
    """A file received through the API. ``id`` is the ledger's submission id of the file
    (hash of hospital, path and content), so the warehouse's receipt is found by it."""

    __tablename__ = "api_submissions"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    hospital_code: Mapped[str] = mapped_column(String(32), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime)
    token_id: Mapped[int | None] = mapped_column(Integer)  # None: sent from the web page
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(Integer)  # the clerk who sent it on the web

    __table_args__ = (
        UniqueConstraint("hospital_code", "idempotency_key", name="uq_api_submissions_idem"),
        Index("ix_api_submissions_hospital_received", "hospital_code", "received_at"),
    )


class ApiSubmissionEvent(Base):
    """One step of a submission's status history (received, processing, processed, failed)."""

    __tablename__ = "api_submission_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("api_submissions.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (CheckConstraint(f"status IN ({_in(API_EVENT_STATUSES)})", name="status"),)
