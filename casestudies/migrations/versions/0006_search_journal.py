"""The search journal replaces the outbox; search_node lists each server's indexer.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_journal",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("is_removed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_journal")),
        # Ids are never reused on SQLite, even once every row has been pruned.
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_search_journal_case_id"), "search_journal", ["case_id"], unique=False)
    op.create_index(op.f("ix_search_journal_created_at"), "search_journal", ["created_at"], unique=False)
    op.create_table(
        "search_node",
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("index_dir", sa.String(length=1000), nullable=False),
        sa.Column("cursor", sa.BigInteger(), nullable=False),
        sa.Column("floor", sa.BigInteger(), nullable=False),
        sa.Column("lag_entries", sa.Integer(), nullable=False),
        sa.Column("lag_seconds", sa.Float(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(), nullable=True),
        sa.Column("last_rebuild_at", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("rebuild_requested_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_search_node")),
    )
    # Changes still queued in the outbox become the first journal entries, in their order.
    op.execute(
        "INSERT INTO search_journal (case_id, is_removed, created_at) "
        "SELECT case_id, false, queued_at FROM search_outbox ORDER BY id"
    )
    op.drop_index(op.f("ix_search_outbox_case_id"), table_name="search_outbox")
    op.drop_table("search_outbox")


def downgrade() -> None:
    op.create_table(
        "search_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("queued_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_outbox")),
    )
    op.create_index(op.f("ix_search_outbox_case_id"), "search_outbox", ["case_id"], unique=False)
    op.drop_table("search_node")
    op.drop_index(op.f("ix_search_journal_created_at"), table_name="search_journal")
    op.drop_index(op.f("ix_search_journal_case_id"), table_name="search_journal")
    op.drop_table("search_journal")
