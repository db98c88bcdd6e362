"""A session token per account, renewed at each password change (ends other sessions).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (no batch rebuild); existing accounts keep a null token, which
    # their current sessions match, until their next password change.
    op.add_column("user", sa.Column("session_token", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.drop_column("session_token")
