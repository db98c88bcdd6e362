"""A reflection may name the session (a handout its writer opened) it reflects on.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reflection") as batch:
        batch.add_column(sa.Column("guide_id", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_reflection_guide_id"), ["guide_id"], unique=False)
        batch.create_foreign_key(
            batch.f("fk_reflection_guide_id_guide"), "guide", ["guide_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("reflection") as batch:
        batch.drop_constraint(batch.f("fk_reflection_guide_id_guide"), type_="foreignkey")
        batch.drop_index(batch.f("ix_reflection_guide_id"))
        batch.drop_column("guide_id")
