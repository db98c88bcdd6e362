"""A problem report may be about a page's accessibility rather than a case: case_id may be
empty, and `page` says where the reader met the problem.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_report") as batch:
        batch.alter_column("case_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("page", sa.String(length=500), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM case_report WHERE case_id IS NULL")
    with op.batch_alter_table("case_report") as batch:
        batch.drop_column("page")
        batch.alter_column("case_id", existing_type=sa.Integer(), nullable=False)
