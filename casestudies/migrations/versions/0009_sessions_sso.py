"""Server-side sessions (user_session), a session token for every account, the
change-password-at-first-sign-in flag, and single sign-on identities on user.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("user_agent", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_user_session_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_session_token_hash")),
    )
    op.create_index(op.f("ix_user_session_user_id"), "user_session", ["user_id"], unique=False)
    op.create_index(op.f("ix_user_session_ended_at"), "user_session", ["ended_at"], unique=False)
    # Plain ADD COLUMNs: no rebuild of the user table.
    op.add_column("user", sa.Column("must_change_password", sa.Boolean(), server_default="0", nullable=False))
    op.add_column("user", sa.Column("oidc_issuer", sa.String(length=255), nullable=True))
    op.add_column("user", sa.Column("oidc_subject", sa.String(length=255), nullable=True))
    op.create_index("ix_user_oidc_identity", "user", ["oidc_issuer", "oidc_subject"], unique=True)
    # Accounts from before 0005 have no session token: each gets its own.
    user = sa.table("user", sa.column("id", sa.Integer()), sa.column("session_token", sa.String(32)))
    connection = op.get_bind()
    missing = connection.execute(
        sa.select(user.c.id).where(sa.or_(user.c.session_token.is_(None), user.c.session_token == ""))
    ).scalars()
    for user_id in list(missing):
        connection.execute(sa.update(user).where(user.c.id == user_id).values(session_token=secrets.token_hex(16)))


def downgrade() -> None:
    op.drop_index("ix_user_oidc_identity", table_name="user")
    with op.batch_alter_table("user") as batch:
        batch.drop_column("oidc_subject")
        batch.drop_column("oidc_issuer")
        batch.drop_column("must_change_password")
    op.drop_index(op.f("ix_user_session_ended_at"), table_name="user_session")
    op.drop_index(op.f("ix_user_session_user_id"), table_name="user_session")
    op.drop_table("user_session")
