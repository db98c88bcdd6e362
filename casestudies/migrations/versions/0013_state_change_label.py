"""A state change made by no account says who made it ("automatically (review date passed)").

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_state_change") as batch:
        batch.add_column(sa.Column("actor_label", sa.String(length=80), nullable=True))
    # Moves made before this column by no account were the overdue check's.
    op.execute(
        "UPDATE case_state_change SET actor_label = 'automatically (review date passed)' "
        "WHERE actor_id IS NULL AND comment LIKE '%back to review automatically'"
    )


def downgrade() -> None:
    with op.batch_alter_table("case_state_change") as batch:
        batch.drop_column("actor_label")
