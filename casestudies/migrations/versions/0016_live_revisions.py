"""Live and pending revisions: a published case's row is its live revision, and edits wait
as pending changes. Every published case gets a live revision equal to its current one
(its newest revision); drafts and cases in review are unchanged. Revisions the workflow
wrote (only the status line moved) are marked, so that who may publish is read from
columns, never from the text.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# The summaries the workflow gave its revisions (curation TRANSITIONS, overdue returns).
WORKFLOW_SUMMARIES = ("Submit for review", "Publish", "Request changes", "Unpublish", "Back to review")


def upgrade() -> None:
    with op.batch_alter_table("case") as batch:
        batch.add_column(sa.Column("live_revision_number", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("pending_revision_number", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("pending_status", sa.String(length=20), nullable=True))
    with op.batch_alter_table("case_revision") as batch:
        batch.add_column(sa.Column("is_status_change", sa.Boolean(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("submitted_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_case_revision_submitted_by_id_user"), "user", ["submitted_by_id"], ["id"], ondelete="SET NULL"
        )
    case = sa.table(
        "case",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("live_revision_number", sa.Integer),
    )
    revision_table = sa.table(
        "case_revision",
        sa.column("case_id", sa.Integer),
        sa.column("number", sa.Integer),
        sa.column("summary", sa.String),
        sa.column("is_status_change", sa.Boolean),
    )
    newest = (
        sa.select(sa.func.max(revision_table.c.number)).where(revision_table.c.case_id == case.c.id).scalar_subquery()
    )
    op.execute(case.update().where(case.c.status == "published").values(live_revision_number=newest))
    workflow = sa.or_(
        *(
            sa.or_(revision_table.c.summary == label, revision_table.c.summary.like(f"{label}: %"))
            for label in WORKFLOW_SUMMARIES
        )
    )
    op.execute(revision_table.update().where(workflow).values(is_status_change=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("case_revision") as batch:
        batch.drop_constraint(batch.f("fk_case_revision_submitted_by_id_user"), type_="foreignkey")
        batch.drop_column("submitted_by_id")
        batch.drop_column("is_status_change")
    with op.batch_alter_table("case") as batch:
        batch.drop_column("pending_status")
        batch.drop_column("pending_revision_number")
        batch.drop_column("live_revision_number")
