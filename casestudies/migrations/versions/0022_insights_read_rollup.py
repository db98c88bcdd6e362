"""Reads per case summed over a window of complete weeks (case_read_rollup), for the Library
use page's 90- and 365-day periods.

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


def downgrade() -> None:
    op.drop_table("case_read_rollup")
