"""Refused sign-ins are counted on one audit row per account or address and window.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_event") as batch:
        batch.add_column(sa.Column("count", sa.Integer(), server_default="1", nullable=False))
        batch.add_column(sa.Column("repeat_key", sa.String(length=400), nullable=True))
        batch.create_index(batch.f("ix_audit_event_repeat_key"), ["repeat_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_index(batch.f("ix_audit_event_repeat_key"))
        batch.drop_column("repeat_key")
        batch.drop_column("count")
