"""Web uploads through the submission API (issue 19): a clerk's upload, sent with the signed-in
session instead of a token, records the user (``user_id``) and no token (``token_id`` NULL).

Revision ID: 0005_api_web_uploads
Revises: 0004_api_tokens
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_api_web_uploads"
down_revision = "0004_api_tokens"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite cannot ALTER a column's nullability in place
    with op.batch_alter_table("api_submissions") as batch:
        batch.alter_column("token_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("user_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_submissions") as batch:
        batch.drop_column("user_id")
        batch.alter_column("token_id", existing_type=sa.Integer(), nullable=False)
