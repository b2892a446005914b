"""Submission API (issue 19): hospital API tokens (stored hashed), API submissions and their
status history.

Revision ID: 0004_api_tokens
Revises: 0002_triage
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_api_tokens"
down_revision = "0003_workspace"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("hospital_code", sa.String(32), nullable=False),
        sa.Column("label", sa.String(200), nullable=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
        sa.CheckConstraint("language IN ('zh', 'en')", name="ck_api_tokens_language"),
    )
    op.create_index("ix_api_tokens_hospital_code", "api_tokens", ["hospital_code"])
    op.create_table(
        "api_submissions",
        sa.Column("id", sa.String(24), nullable=False),
        sa.Column("hospital_code", sa.String(32), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_submissions"),
        sa.UniqueConstraint("hospital_code", "idempotency_key", name="uq_api_submissions_idem"),
    )
    op.create_index("ix_api_submissions_hospital_code", "api_submissions", ["hospital_code"])
    op.create_index(
        "ix_api_submissions_hospital_received", "api_submissions", ["hospital_code", "received_at"]
    )
    op.create_table(
        "api_submission_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("submission_id", sa.String(24), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_submission_events"),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["api_submissions.id"],
            name="fk_api_submission_events_submission_id_api_submissions",
        ),
        sa.CheckConstraint(
            "status IN ('received', 'processing', 'processed', 'failed')",
            name="ck_api_submission_events_status",
        ),
    )
    op.create_index(
        "ix_api_submission_events_submission_id", "api_submission_events", ["submission_id"]
    )


def downgrade() -> None:
    op.drop_table("api_submission_events")
    op.drop_table("api_submissions")
    op.drop_table("api_tokens")
