"""The search journal that each server's indexer follows, its servers, and the old log of empty searches."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from casestudies.extensions import db
from casestudies.models.base import utcnow


class SearchLog(db.Model):
    """No longer written (the curators' dashboard reads the insights' search_outcome rows);
    the table stays, with the rows it had, until a migration drops it. It counted learners'
    searches that found nothing per normalised query (casefolded, spaces collapsed) and day."""

    __tablename__ = "search_log"
    __table_args__ = (UniqueConstraint("query", "day", name="uq_search_log_query_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    query: Mapped[str] = mapped_column(String(200))
    day: Mapped[date] = mapped_column(Date, index=True)
    count: Mapped[int] = mapped_column(Integer, default=1)


class SearchJournal(db.Model):
    """One change to a case's search document, in the order of its id. Written in the same
    transaction as the change (a rollback leaves no row); each server's indexer follows the
    journal into its own index (see casestudies/indexing/)."""

    __tablename__ = "search_journal"
    # AUTOINCREMENT on SQLite: ids are never reused, even after every row was pruned.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    case_id: Mapped[int] = mapped_column(Integer, index=True)  # no FK: the case may be deleted
    is_removed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class SearchNode(db.Model):
    """A server's indexer and how far it has followed the journal (search-status)."""

    __tablename__ = "search_node"

    name: Mapped[str] = mapped_column(String(300), primary_key=True)
    index_dir: Mapped[str] = mapped_column(String(1000), default="")
    # Every entry up to `cursor` was read; every entry up to `floor` is applied (or given
    # up: an id still missing after the gap time-out). Pruning stays at or below floors.
    cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    floor: Mapped[int] = mapped_column(BigInteger, default=0)
    lag_entries: Mapped[int] = mapped_column(Integer, default=0)
    lag_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_rebuild_at: Mapped[datetime | None] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Set by pruning past this node's floor, or by `reindex` for a node run elsewhere.
    rebuild_requested_at: Mapped[datetime | None] = mapped_column(DateTime)
