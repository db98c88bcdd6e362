"""Discussion guides: a facilitator's session plan of cases and questions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "guide",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("audience", sa.String(length=200), nullable=False),
        sa.Column("session_on", sa.Date(), nullable=True),
        sa.Column("start_time", sa.Time(), nullable=True),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column("objectives", sa.Text(), nullable=False),
        sa.Column("introduction", sa.Text(), nullable=False),
        sa.Column("opening_remarks", sa.Text(), nullable=False),
        sa.Column("closing_remarks", sa.Text(), nullable=False),
        sa.Column("ground_rules", sa.Text(), nullable=False),
        sa.Column("how_it_went", sa.Text(), nullable=False),
        sa.Column("how_it_went_at", sa.DateTime(), nullable=True),
        sa.Column("share_token", sa.String(length=64), nullable=True),
        sa.Column("shared_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user.id"],
            name=op.f("fk_guide_author_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guide")),
        sa.UniqueConstraint("share_token", name=op.f("uq_guide_share_token")),
    )
    op.create_index(op.f("ix_guide_author_id"), "guide", ["author_id"], unique=False)
    op.create_table(
        "guide_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guide_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("case_title", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case.id"],
            name=op.f("fk_guide_case_case_id_case"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["guide_id"],
            ["guide.id"],
            name=op.f("fk_guide_case_guide_id_guide"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guide_case")),
    )
    op.create_index(op.f("ix_guide_case_guide_id"), "guide_case", ["guide_id"], unique=False)
    op.create_index(op.f("ix_guide_case_case_id"), "guide_case", ["case_id"], unique=False)
    op.create_table(
        "guide_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guide_case_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("is_own", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["guide_case_id"],
            ["guide_case.id"],
            name=op.f("fk_guide_question_guide_case_id_guide_case"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guide_question")),
    )
    op.create_index(op.f("ix_guide_question_guide_case_id"), "guide_question", ["guide_case_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_guide_question_guide_case_id"), table_name="guide_question")
    op.drop_table("guide_question")
    op.drop_index(op.f("ix_guide_case_case_id"), table_name="guide_case")
    op.drop_index(op.f("ix_guide_case_guide_id"), table_name="guide_case")
    op.drop_table("guide_case")
    op.drop_index(op.f("ix_guide_author_id"), table_name="guide")
    op.drop_table("guide")
