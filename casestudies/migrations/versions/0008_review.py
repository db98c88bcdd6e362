"""Readers' reports of problems with cases (case_report).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolver_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_case_report_case_id_case"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["reporter_id"], ["user.id"], name=op.f("fk_case_report_reporter_id_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["resolver_id"], ["user.id"], name=op.f("fk_case_report_resolver_id_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_report")),
    )
    op.create_index(op.f("ix_case_report_case_id"), "case_report", ["case_id"], unique=False)
    op.create_index(op.f("ix_case_report_reporter_id"), "case_report", ["reporter_id"], unique=False)
    op.create_index(op.f("ix_case_report_created_at"), "case_report", ["created_at"], unique=False)
    op.create_index(op.f("ix_case_report_outcome"), "case_report", ["outcome"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_case_report_outcome"), table_name="case_report")
    op.drop_index(op.f("ix_case_report_created_at"), table_name="case_report")
    op.drop_index(op.f("ix_case_report_reporter_id"), table_name="case_report")
    op.drop_index(op.f("ix_case_report_case_id"), table_name="case_report")
    op.drop_table("case_report")
