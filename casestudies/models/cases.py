"""The case: its text, questions, tags, dimensions, teaching note, revisions and state history."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from casestudies.cases.vocab import Status
from casestudies.extensions import db
from casestudies.models.base import utcnow

if TYPE_CHECKING:
    from casestudies.models.accounts import User


case_tag = Table(
    "case_tag",
    db.metadata,
    Column("case_id", ForeignKey("case.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True),
)


case_dimension = Table(
    "case_dimension",
    db.metadata,
    Column("case_id", ForeignKey("case.id", ondelete="CASCADE"), primary_key=True),
    Column("dimension_id", ForeignKey("dimension.id", ondelete="CASCADE"), primary_key=True),
)


class Dimension(db.Model):
    """One of the nine dimensions of the NHS Healthcare Leadership Model (seeded by a migration)."""

    __tablename__ = "dimension"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    position: Mapped[int] = mapped_column(Integer)


class Tag(db.Model):
    __tablename__ = "tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    # Tags match case-insensitively: the key is the case-folded name.
    key: Mapped[str] = mapped_column(String(50), unique=True)

    # Read-only: Case.tags writes the links. Kept in step as a backref, every case given a
    # tag made the tag's whole list of cases part of the next flush's history, and an
    # import of 4,000 cases spent a tenth of its database time comparing those lists.
    cases: Mapped[list[Case]] = relationship(secondary=case_tag, viewonly=True)


class Case(db.Model):
    __tablename__ = "case"
    __table_args__ = (
        # The insights pages' lists of published cases (least read, not opened) read this
        # index alone: on SQLite a case's status and bin date sit after its body, so
        # filtering the table itself walks every body's overflow pages.
        Index("ix_case_listing", "status", "deleted_at", "review_by", "title", "seat"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(600))
    seat: Mapped[str] = mapped_column(String(80), index=True)
    setting: Mapped[str | None] = mapped_column(String(80), index=True)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), index=True, default=Status.DRAFT.value)
    consent: Mapped[str] = mapped_column(String(20), default="not-needed")
    review_by: Mapped[date | None] = mapped_column(Date)
    updated_on: Mapped[date | None] = mapped_column(Date)  # the case file's `updated` date
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # Optimistic locking: a save names the version it started from.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # In the bin since then (restorable for BIN_DAYS); None for a live case.
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    # A published case's row is its live revision: what learners read. An edit waits as a
    # pending change (a newer revision, a draft or in review) until a second curator
    # publishes it (curation/pending.py). Revision numbers, not ids: no foreign-key cycle.
    live_revision_number: Mapped[int | None] = mapped_column(Integer)
    pending_revision_number: Mapped[int | None] = mapped_column(Integer)
    pending_status: Mapped[str | None] = mapped_column(String(20))

    author: Mapped[User | None] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary=case_tag, order_by="Tag.key")
    dimensions: Mapped[list[Dimension]] = relationship(secondary=case_dimension, order_by="Dimension.position")
    questions: Mapped[list[Question]] = relationship(
        back_populates="case", order_by="Question.position", cascade="all, delete-orphan"
    )
    revisions: Mapped[list[CaseRevision]] = relationship(
        back_populates="case", order_by="CaseRevision.number", cascade="all, delete-orphan"
    )

    @hybrid_property
    def is_deleted(self) -> bool:
        """In the bin. In a query: `Case.is_deleted`, or `~Case.is_deleted` for live cases."""
        return self.deleted_at is not None

    @is_deleted.inplace.expression
    @classmethod
    def _is_deleted_expression(cls) -> ColumnElement[bool]:
        return cls.deleted_at.is_not(None)

    @hybrid_property
    def is_published(self) -> bool:
        """Published and not in the bin: what learners may see. Usable in queries too."""
        return self.status == Status.PUBLISHED and self.deleted_at is None

    @is_published.inplace.expression
    @classmethod
    def _is_published_expression(cls) -> ColumnElement[bool]:
        return and_(cls.status == Status.PUBLISHED.value, cls.deleted_at.is_(None))


class Question(db.Model):
    __tablename__ = "question"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)  # facilitator-only guidance
    minutes: Mapped[int | None] = mapped_column(Integer)

    case: Mapped[Case] = relationship(back_populates="questions")


class CaseRevision(db.Model):
    """A saved state of a case, kept as its case-file text so any revision can be read,
    compared, exported or restored with the one format parser."""

    __tablename__ = "case_revision"
    __table_args__ = (UniqueConstraint("case_id", "number", name="uq_case_revision_case_id_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # Written by the workflow (only the status line moved): its author wrote no content.
    is_status_change: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Who sent this revision, as a pending change to a live case, for review.
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    case: Mapped[Case] = relationship(back_populates="revisions")
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])


class CaseStateChange(db.Model):
    """One move of a case between draft, review and published: who, when, and why."""

    __tablename__ = "case_state_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # Who made a move that no account made: "automatically (review date passed)".
    actor_label: Mapped[str | None] = mapped_column(String(80))

    actor: Mapped[User | None] = relationship()

    @property
    def made_by(self) -> str:
        if self.actor is not None:
            return self.actor.name
        return self.actor_label or "the command line"


class TeachingNote(db.Model):
    """A case's teaching note, for facilitators and above only: never shown to learners and
    never put in the search index. Part of the case file (`teaching_notes:`)."""

    __tablename__ = "teaching_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), unique=True)
    synopsis: Mapped[str] = mapped_column(Text, default="")
    objectives: Mapped[str] = mapped_column(Text, default="")  # one per line
    suits: Mapped[str] = mapped_column(Text, default="")  # who the case suits
    opening_question: Mapped[str] = mapped_column(Text, default="")
    suggested_plan: Mapped[str] = mapped_column(Text, default="")  # "<minutes> <activity>" lines
    board_plan: Mapped[str] = mapped_column(Text, default="")
    key_points: Mapped[str] = mapped_column(Text, default="")  # one per line

    case: Mapped[Case] = relationship(
        backref=backref("teaching_note", uselist=False, cascade="all, delete-orphan", passive_deletes=True)
    )
