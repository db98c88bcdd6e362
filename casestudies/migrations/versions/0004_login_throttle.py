"""Failed sign-in attempts, for throttling.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempt")),
    )
    op.create_index(op.f("ix_login_attempt_email"), "login_attempt", ["email"], unique=False)
    op.create_index(op.f("ix_login_attempt_address"), "login_attempt", ["address"], unique=False)
    op.create_index(op.f("ix_login_attempt_created_at"), "login_attempt", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("login_attempt")
