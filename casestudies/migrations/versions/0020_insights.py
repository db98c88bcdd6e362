"""Curators' insights: search outcomes per day, clicks after partial matches, reads per
case per week (and the day's digests that count each reader once), usefulness answers,
synonyms and concepts added from the app, promoted cases and wanted cases.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "read_seen",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("digest", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_read_seen")),
        sa.UniqueConstraint("day", "digest", name="uq_read_seen"),
    )
    with op.batch_alter_table("read_seen", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_read_seen_day"), ["day"], unique=False)

    op.create_table(
        "search_outcome",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=1), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("query_key", sa.String(length=200), nullable=False),
        sa.Column("display", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("missing", sa.String(length=300), nullable=False),
        sa.Column("replaced_by", sa.String(length=200), nullable=False),
        sa.Column("searches", sa.Integer(), nullable=False),
        sa.Column("searchers", sa.Integer(), nullable=False),
        sa.Column("seen", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_outcome")),
        sa.UniqueConstraint("period", "day", "query_key", "outcome", name="uq_search_outcome"),
    )
    with op.batch_alter_table("search_outcome", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_search_outcome_day"), ["day"], unique=False)

    op.create_table(
        "search_term",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("query_key", sa.String(length=200), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("removed_by_id", sa.Integer(), nullable=True),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name=op.f("fk_search_term_created_by_id_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["removed_by_id"], ["user.id"], name=op.f("fk_search_term_removed_by_id_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_term")),
    )
    with op.batch_alter_table("search_term", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_search_term_removed_at"), ["removed_at"], unique=False)

    op.create_table(
        "wanted_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("query_key", sa.String(length=200), nullable=False),
        sa.Column("display", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name=op.f("fk_wanted_case_created_by_id_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wanted_case")),
    )
    op.create_table(
        "case_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("is_useful", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("seat", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_case_feedback_case_id_case"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_feedback")),
    )
    with op.batch_alter_table("case_feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_feedback_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_feedback_day"), ["day"], unique=False)

    op.create_table(
        "case_read_week",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("reads", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_case_read_week_case_id_case"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_read_week")),
        sa.UniqueConstraint("case_id", "week", name="uq_case_read_week"),
    )
    with op.batch_alter_table("case_read_week", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_read_week_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_read_week_week"), ["week"], unique=False)

    op.create_table(
        "search_click",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("query_key", sa.String(length=200), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_search_click_case_id_case"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_click")),
        sa.UniqueConstraint("day", "query_key", "case_id", name="uq_search_click"),
    )
    with op.batch_alter_table("search_click", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_search_click_day"), ["day"], unique=False)

    op.create_table(
        "search_promotion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("query_key", sa.String(length=200), nullable=False),
        sa.Column("display", sa.String(length=200), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_search_promotion_case_id_case"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name=op.f("fk_search_promotion_created_by_id_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_promotion")),
    )
    with op.batch_alter_table("search_promotion", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_search_promotion_query_key"), ["query_key"], unique=False)

    op.create_table(
        "search_day_total",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("searches", sa.Integer(), nullable=False),
        sa.Column("gaps", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_search_day_total")),
    )
    op.create_table(
        "search_gap_rollup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("query_key", sa.String(length=200), nullable=False),
        sa.Column("display", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("missing", sa.String(length=300), nullable=False),
        sa.Column("replaced_by", sa.String(length=200), nullable=False),
        sa.Column("searches", sa.Integer(), nullable=False),
        sa.Column("searchers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_gap_rollup")),
        sa.UniqueConstraint("start", "end", "query_key", "outcome", name="uq_search_gap_rollup"),
    )
    with op.batch_alter_table("search_outcome", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_search_outcome_query_key"), ["query_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("search_outcome", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_outcome_query_key"))
    op.drop_table("search_gap_rollup")
    op.drop_table("search_day_total")
    with op.batch_alter_table("search_promotion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_promotion_query_key"))

    op.drop_table("search_promotion")
    with op.batch_alter_table("search_click", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_click_day"))

    op.drop_table("search_click")
    with op.batch_alter_table("case_read_week", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_read_week_week"))
        batch_op.drop_index(batch_op.f("ix_case_read_week_case_id"))

    op.drop_table("case_read_week")
    with op.batch_alter_table("case_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_feedback_day"))
        batch_op.drop_index(batch_op.f("ix_case_feedback_case_id"))

    op.drop_table("case_feedback")
    op.drop_table("wanted_case")
    with op.batch_alter_table("search_term", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_term_removed_at"))

    op.drop_table("search_term")
    with op.batch_alter_table("search_outcome", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_outcome_day"))

    op.drop_table("search_outcome")
    with op.batch_alter_table("read_seen", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_read_seen_day"))

    op.drop_table("read_seen")
