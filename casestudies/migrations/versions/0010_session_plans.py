"""Session plans: guide segments, teaching notes, handouts and handout visits.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs (no batch rebuild of `guide`); the token's uniqueness is a unique index.
    op.add_column("guide", sa.Column("handout_token", sa.String(length=64), nullable=True))
    op.add_column("guide", sa.Column("is_handout_on", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("guide", sa.Column("handout_opens_on", sa.Date(), nullable=True))
    op.add_column("guide", sa.Column("handout_closes_on", sa.Date(), nullable=True))
    op.create_index(op.f("ix_guide_handout_token"), "guide", ["handout_token"], unique=True)
    op.create_table(
        "guide_segment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guide_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("guide_case_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["guide_id"], ["guide.id"], name=op.f("fk_guide_segment_guide_id_guide"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["guide_case_id"],
            ["guide_case.id"],
            name=op.f("fk_guide_segment_guide_case_id_guide_case"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guide_segment")),
    )
    op.create_index(op.f("ix_guide_segment_guide_id"), "guide_segment", ["guide_id"], unique=False)
    op.create_index(op.f("ix_guide_segment_guide_case_id"), "guide_segment", ["guide_case_id"], unique=False)
    op.create_table(
        "teaching_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("synopsis", sa.Text(), nullable=False),
        sa.Column("objectives", sa.Text(), nullable=False),
        sa.Column("suits", sa.Text(), nullable=False),
        sa.Column("opening_question", sa.Text(), nullable=False),
        sa.Column("suggested_plan", sa.Text(), nullable=False),
        sa.Column("board_plan", sa.Text(), nullable=False),
        sa.Column("key_points", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_teaching_note_case_id_case"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teaching_note")),
        sa.UniqueConstraint("case_id", name=op.f("uq_teaching_note_case_id")),
    )
    op.create_table(
        "handout_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guide_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("first_opened_at", sa.DateTime(), nullable=False),
        sa.Column("last_opened_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["guide_id"], ["guide.id"], name=op.f("fk_handout_visit_guide_id_guide"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_handout_visit_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handout_visit")),
        sa.UniqueConstraint("guide_id", "user_id", name="uq_handout_visit_guide_id_user_id"),
    )
    op.create_index(op.f("ix_handout_visit_guide_id"), "handout_visit", ["guide_id"], unique=False)
    op.create_index(op.f("ix_handout_visit_user_id"), "handout_visit", ["user_id"], unique=False)
    op.create_index(op.f("ix_handout_visit_last_opened_at"), "handout_visit", ["last_opened_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_handout_visit_last_opened_at"), table_name="handout_visit")
    op.drop_index(op.f("ix_handout_visit_user_id"), table_name="handout_visit")
    op.drop_index(op.f("ix_handout_visit_guide_id"), table_name="handout_visit")
    op.drop_table("handout_visit")
    op.drop_table("teaching_note")
    op.drop_index(op.f("ix_guide_segment_guide_case_id"), table_name="guide_segment")
    op.drop_index(op.f("ix_guide_segment_guide_id"), table_name="guide_segment")
    op.drop_table("guide_segment")
    op.drop_index(op.f("ix_guide_handout_token"), table_name="guide")
    with op.batch_alter_table("guide") as batch:
        batch.drop_column("handout_closes_on")
        batch.drop_column("handout_opens_on")
        batch.drop_column("is_handout_on")
        batch.drop_column("handout_token")
