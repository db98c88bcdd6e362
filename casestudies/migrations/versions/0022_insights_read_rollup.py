"""Reads per case summed over a window of complete weeks (case_read_rollup), for the Library
use page's 90- and 365-day periods; an index the insights pages' lists of published cases
read alone (ix_case_listing); usefulness answers by day, covering (ix_case_feedback_day_case).

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_read_rollup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("reads", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_read_rollup")),
        sa.UniqueConstraint("start", "end", "case_id", name="uq_case_read_rollup"),
    )
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.create_index("ix_case_listing", ["status", "deleted_at", "review_by", "title", "seat"], unique=False)
    with op.batch_alter_table("case_feedback", schema=None) as batch_op:
        batch_op.create_index("ix_case_feedback_day_case", ["day", "case_id", "is_useful"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_case_feedback_day_case")
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index("ix_case_listing")
    op.drop_table("case_read_rollup")
