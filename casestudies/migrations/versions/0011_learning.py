"""My learning: reading lists, collections (themes), the reflection notebook and CPD log.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "collection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("introduction", sa.Text(), nullable=False),
        sa.Column("is_featured", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection")),
        sa.UniqueConstraint("slug", name=op.f("uq_collection_slug")),
    )
    op.create_table(
        "cpd_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("is_participatory", sa.Boolean(), nullable=False),
        sa.Column("code_theme", sa.String(length=40), nullable=True),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["user.id"], name=op.f("fk_cpd_entry_owner_id_user"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cpd_entry")),
    )
    with op.batch_alter_table("cpd_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cpd_entry_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "reading_list",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("share_token", sa.String(length=64), nullable=True),
        sa.Column("shared_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["user.id"], name=op.f("fk_reading_list_owner_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reading_list")),
        sa.UniqueConstraint("share_token", name=op.f("uq_reading_list_share_token")),
    )
    with op.batch_alter_table("reading_list", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reading_list_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "collection_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_collection_case_case_id_case"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["collection.id"],
            name=op.f("fk_collection_case_collection_id_collection"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_case")),
        sa.UniqueConstraint("collection_id", "case_id", name="uq_collection_case_collection_id_case_id"),
    )
    with op.batch_alter_table("collection_case", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_collection_case_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_collection_case_collection_id"), ["collection_id"], unique=False)

    op.create_table(
        "reading_list_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("case_title", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_reading_list_item_case_id_case"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["list_id"], ["reading_list.id"], name=op.f("fk_reading_list_item_list_id_reading_list"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reading_list_item")),
        sa.UniqueConstraint("list_id", "case_id", name="uq_reading_list_item_list_id_case_id"),
    )
    with op.batch_alter_table("reading_list_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reading_list_item_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reading_list_item_list_id"), ["list_id"], unique=False)

    op.create_table(
        "reflection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("activity_year", sa.Integer(), nullable=True),
        sa.Column("activity_month", sa.Integer(), nullable=True),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_reflection_case_id_case"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["user.id"], name=op.f("fk_reflection_owner_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reflection")),
    )
    with op.batch_alter_table("reflection", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reflection_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reflection_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "cpd_entry_reflection",
        sa.Column("cpd_entry_id", sa.Integer(), nullable=False),
        sa.Column("reflection_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cpd_entry_id"],
            ["cpd_entry.id"],
            name=op.f("fk_cpd_entry_reflection_cpd_entry_id_cpd_entry"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reflection_id"],
            ["reflection.id"],
            name=op.f("fk_cpd_entry_reflection_reflection_id_reflection"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("cpd_entry_id", "reflection_id", name=op.f("pk_cpd_entry_reflection")),
    )


def downgrade() -> None:

    op.drop_table("cpd_entry_reflection")
    with op.batch_alter_table("reflection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reflection_owner_id"))
        batch_op.drop_index(batch_op.f("ix_reflection_case_id"))

    op.drop_table("reflection")
    with op.batch_alter_table("reading_list_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reading_list_item_list_id"))
        batch_op.drop_index(batch_op.f("ix_reading_list_item_case_id"))

    op.drop_table("reading_list_item")
    with op.batch_alter_table("collection_case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_collection_case_collection_id"))
        batch_op.drop_index(batch_op.f("ix_collection_case_case_id"))

    op.drop_table("collection_case")
    with op.batch_alter_table("reading_list", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reading_list_owner_id"))

    op.drop_table("reading_list")
    with op.batch_alter_table("cpd_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cpd_entry_owner_id"))

    op.drop_table("cpd_entry")
    op.drop_table("collection")
