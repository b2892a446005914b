"""Triage decisions, follow-ups and their results, notices with their documents and approval
events (issue 15 item 3, issue 18): append-only tables, each row tied to its audit entry.

Revision ID: 0002_triage
Revises: 0001_initial
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_triage"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

APPEND_ONLY = (
    "triage_decisions",
    "followups",
    "followup_results",
    "notices",
    "notice_documents",
    "notice_events",
)


def _audit_columns() -> list[sa.Column]:
    return [
        sa.Column("audit_seq", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "triage_decisions",
        sa.Column("id", sa.String(24), nullable=False),
        sa.Column("signal_id", sa.String(24), nullable=False),
        sa.Column("week", sa.String(10), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("previous", sa.String(16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_username", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("legacy_actor", sa.String(200), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        *_audit_columns(),
        sa.PrimaryKeyConstraint("id", name="pk_triage_decisions"),
        sa.CheckConstraint(
            "decision IN ('confirm', 'dismiss', 'watch')", name="ck_triage_decisions_decision"
        ),
    )
    op.create_index("ix_triage_decisions_signal_id", "triage_decisions", ["signal_id"])
    op.create_index(
        "ix_triage_decisions_signal_at", "triage_decisions", ["signal_id", "recorded_at"]
    )
    op.create_table(
        "followups",
        sa.Column("id", sa.String(24), nullable=False),
        sa.Column("signal_id", sa.String(24), nullable=False),
        sa.Column("week", sa.String(10), nullable=False),
        sa.Column("hospital_code", sa.String(32), nullable=False),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("requested_by_user_id", sa.Integer(), nullable=True),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("legacy_actor", sa.String(200), nullable=True),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        *_audit_columns(),
        sa.PrimaryKeyConstraint("id", name="pk_followups"),
    )
    op.create_index("ix_followups_signal_id", "followups", ["signal_id"])
    op.create_table(
        "followup_results",
        sa.Column("id", sa.String(24), nullable=False),
        sa.Column("followup_id", sa.String(24), nullable=False),
        sa.Column("reached", sa.Boolean(), nullable=False),
        sa.Column("brand_verified", sa.String(200), nullable=True),
        sa.Column("model_verified", sa.String(200), nullable=True),
        sa.Column("batch_verified", sa.String(200), nullable=True),
        sa.Column("product_role", sa.String(32), nullable=False),
        sa.Column("conclusion", sa.Text(), nullable=False),
        sa.Column("recorded_by_user_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("legacy_actor", sa.String(200), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        *_audit_columns(),
        sa.PrimaryKeyConstraint("id", name="pk_followup_results"),
        sa.ForeignKeyConstraint(
            ["followup_id"], ["followups.id"], name="fk_followup_results_followup_id_followups"
        ),
        sa.CheckConstraint(
            "product_role IN ('caused', 'contributed', 'involved_not_causal', 'unrelated', "
            "'undetermined')",
            name="ck_followup_results_product_role",
        ),
    )
    op.create_index("ix_followup_results_followup_id", "followup_results", ["followup_id"])
    op.create_table(
        "notices",
        sa.Column("id", sa.String(24), nullable=False),
        sa.Column("signal_id", sa.String(24), nullable=False),
        sa.Column("week", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("pack_id", sa.String(120), nullable=True),
        sa.Column("pack_sha256", sa.String(64), nullable=True),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("drafted_by_user_id", sa.Integer(), nullable=True),
        sa.Column("drafted_by", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("drafted_at", sa.DateTime(), nullable=False),
        *_audit_columns(),
        sa.PrimaryKeyConstraint("id", name="pk_notices"),
        sa.UniqueConstraint("signal_id", "kind", "version", name="uq_notices_signal_kind_version"),
        sa.CheckConstraint(
            "kind IN ('risk-notice', 'safety-warning', 'recall-referral')", name="ck_notices_kind"
        ),
    )
    op.create_index("ix_notices_signal_id", "notices", ["signal_id"])
    op.create_table(
        "notice_documents",
        sa.Column("notice_id", sa.String(24), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("fmt", sa.String(8), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("notice_id", "lang", "fmt", name="pk_notice_documents"),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["notices.id"], name="fk_notice_documents_notice_id_notices"
        ),
    )
    op.create_table(
        "notice_events",
        sa.Column("id", sa.String(24), nullable=False),
        sa.Column("notice_id", sa.String(24), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_username", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        *_audit_columns(),
        sa.PrimaryKeyConstraint("id", name="pk_notice_events"),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["notices.id"], name="fk_notice_events_notice_id_notices"
        ),
        sa.CheckConstraint(
            "action IN ('submit', 'approve', 'return')", name="ck_notice_events_action"
        ),
    )
    op.create_index("ix_notice_events_notice_id", "notice_events", ["notice_id"])

    # UPDATE and DELETE are refused inside the database too (as for audit_log); whoever drops
    # the triggers is still caught by `sentinel audit verify` (pipeline.appdb.records).
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in APPEND_ONLY:
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )
    elif dialect == "postgresql":
        op.execute(
            """CREATE FUNCTION sentinel_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"""
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION sentinel_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION sentinel_append_only()"
            )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in reversed(APPEND_ONLY):
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}")
        op.drop_table(table)
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS sentinel_append_only()")
