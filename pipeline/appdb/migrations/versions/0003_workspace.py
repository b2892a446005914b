"""The workspace pages: saved case queries, coder resolutions made on the web, evidence-pack
requests, notification preferences and the notifications sent.

Revision ID: 0003_workspace
Revises: 0002_triage
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_workspace"
down_revision = "0002_triage"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_queries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("query_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_saved_queries"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_saved_queries_user_id_users", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("user_id", "name", name="uq_saved_queries_user_id_name"),
    )
    op.create_table(
        "coding_resolutions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.String(200), nullable=True),
        sa.Column("hospital_code", sa.String(32), nullable=False),
        sa.Column("case_id", sa.String(100), nullable=False),
        sa.Column("case_version", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("applied_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_coding_resolutions"),
        sa.CheckConstraint(
            "status IN ('pending', 'applied', 'stale', 'rejected')",
            name="ck_coding_resolutions_status",
        ),
    )
    op.create_index("ix_coding_resolutions_status", "coding_resolutions", ["status"])
    op.create_index(
        "ix_coding_resolutions_case", "coding_resolutions", ["hospital_code", "case_id"]
    )
    op.create_table(
        "evidence_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("signal_id", sa.String(24), nullable=False),
        sa.Column("week", sa.String(8), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("pack_name", sa.String(255), nullable=True),
        sa.Column("manifest_sha256", sa.String(64), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_evidence_requests"),
        sa.CheckConstraint(
            "status IN ('pending', 'building', 'built', 'failed')",
            name="ck_evidence_requests_status",
        ),
    )
    op.create_index("ix_evidence_requests_signal", "evidence_requests", ["signal_id", "week"])
    op.create_index("ix_evidence_requests_status", "evidence_requests", ["status"])
    op.create_table(
        "notification_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "kind", name="pk_notification_preferences"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_notification_preferences_user_id_users",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "notifications_sent",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("object_key", sa.String(200), nullable=False),
        sa.Column("recipient", sa.String(254), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notifications_sent"),
        sa.UniqueConstraint("user_id", "kind", "object_key", name="uq_notifications_sent_key"),
    )


def downgrade() -> None:
    op.drop_table("notifications_sent")
    op.drop_table("notification_preferences")
    op.drop_index("ix_evidence_requests_status", table_name="evidence_requests")
    op.drop_index("ix_evidence_requests_signal", table_name="evidence_requests")
    op.drop_table("evidence_requests")
    op.drop_index("ix_coding_resolutions_case", table_name="coding_resolutions")
    op.drop_index("ix_coding_resolutions_status", table_name="coding_resolutions")
    op.drop_table("coding_resolutions")
    op.drop_table("saved_queries")
