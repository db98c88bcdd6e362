"""Zero-result searches counted per normalised query and day (no longer a row per search).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

MAX_LOGGED_QUERY = 200


def _day(value: object) -> date:
    # SQLite gives date() as text, PostgreSQL as a date.
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def upgrade() -> None:
    connection = op.get_bind()
    old = sa.table("search_log", sa.column("query", sa.String), sa.column("created_at", sa.DateTime))
    # The old rows, one per search, grouped in the database first (there may be many), then
    # by the normalised query (casefolded, spaces collapsed), which SQL's lower() is not.
    counts: Counter[tuple[str, date]] = Counter()
    grouped = sa.select(old.c.query, sa.func.date(old.c.created_at), sa.func.count()).group_by(
        old.c.query, sa.func.date(old.c.created_at)
    )
    for query, day, count in connection.execute(grouped):
        text = " ".join(query.casefold().split())[:MAX_LOGGED_QUERY]
        if text:
            counts[(text, _day(day))] += count
    op.drop_table("search_log")
    new = op.create_table(
        "search_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("query", sa.String(length=200), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_log")),
        sa.UniqueConstraint("query", "day", name="uq_search_log_query_day"),
    )
    op.create_index(op.f("ix_search_log_day"), "search_log", ["day"], unique=False)
    if counts:
        op.bulk_insert(new, [{"query": q, "day": d, "count": n} for (q, d), n in sorted(counts.items())])


def downgrade() -> None:
    connection = op.get_bind()
    daily = sa.table("search_log", sa.column("query", sa.String), sa.column("day", sa.Date), sa.column("count"))
    rows = connection.execute(sa.select(daily.c.query, daily.c.day, daily.c.count)).all()
    op.drop_table("search_log")
    old = op.create_table(
        "search_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("query", sa.String(length=200), nullable=False),
        sa.Column("result_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_log")),
    )
    op.create_index(op.f("ix_search_log_query"), "search_log", ["query"], unique=False)
    op.create_index(op.f("ix_search_log_created_at"), "search_log", ["created_at"], unique=False)
    # One row per search again, at the start of its day.
    op.bulk_insert(
        old,
        [
            {"query": q, "result_count": 0, "created_at": datetime.combine(_day(d), datetime.min.time())}
            for q, d, n in rows
            for _ in range(n)
        ],
    )
