"""My learning: reading lists, collections, the sealed reflection notebook and CPD log."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casestudies.extensions import db
from casestudies.models.base import utcnow

if TYPE_CHECKING:
    from casestudies.models.accounts import User
    from casestudies.models.cases import Case
    from casestudies.models.guides import Guide


class ReadingList(db.Model):
    """A learner's named list of saved cases. Its owner's alone, unless a facilitator or
    above shares it as a reading list: then anyone signed in may read it through its link."""

    __tablename__ = "reading_list"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Set while shared: the unguessable part of the link; None when not shared.
    share_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    shared_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    owner: Mapped[User] = relationship()
    items: Mapped[list[ReadingListItem]] = relationship(
        back_populates="reading_list", order_by="ReadingListItem.position", cascade="all, delete-orphan"
    )

    @property
    def is_shared(self) -> bool:
        return self.share_token is not None


class ReadingListItem(db.Model):
    """A case saved in a list. The title is kept so a case later purged can still be named."""

    __tablename__ = "reading_list_item"
    __table_args__ = (UniqueConstraint("list_id", "case_id", name="uq_reading_list_item_list_id_case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("reading_list.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id", ondelete="SET NULL"), index=True)
    case_title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    reading_list: Mapped[ReadingList] = relationship(back_populates="items")
    case: Mapped[Case | None] = relationship()


class Collection(db.Model):
    """A theme made by curators: a title, a short introduction (Markdown) and ordered cases.
    Featured collections are shown on the home page."""

    __tablename__ = "collection"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    introduction: Mapped[str] = mapped_column(Text, default="")
    is_featured: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    items: Mapped[list[CollectionCase]] = relationship(
        back_populates="collection", order_by="CollectionCase.position", cascade="all, delete-orphan"
    )


class CollectionCase(db.Model):
    __tablename__ = "collection_case"
    __table_args__ = (UniqueConstraint("collection_id", "case_id", name="uq_collection_case_collection_id_case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("collection.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)

    collection: Mapped[Collection] = relationship(back_populates="items")
    case: Mapped[Case] = relationship()


cpd_entry_reflection = Table(
    "cpd_entry_reflection",
    db.metadata,
    Column("cpd_entry_id", ForeignKey("cpd_entry.id", ondelete="CASCADE"), primary_key=True),
    Column("reflection_id", ForeignKey("reflection.id", ondelete="CASCADE"), primary_key=True),
)


class Reflection(db.Model):
    """A learner's reflective account: readable by its owner only. Every word the owner
    wrote (and the Code themes chosen) is in `sealed`, a Fernet token of a JSON object
    (casestudies/learning/sealing.py), so a database dump or backup does not expose it."""

    __tablename__ = "reflection"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # "nmc" (the NMC reflective account) or "free"
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id", ondelete="SET NULL"), index=True)
    # The session reflected on: a guide whose handout the writer opened.
    guide_id: Mapped[int | None] = mapped_column(ForeignKey("guide.id", ondelete="SET NULL"), index=True)
    # When the learning happened: month and year only, as the regulators' guidance asks.
    activity_year: Mapped[int | None] = mapped_column(Integer)
    activity_month: Mapped[int | None] = mapped_column(Integer)
    sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    case: Mapped[Case | None] = relationship()
    guide: Mapped[Guide | None] = relationship()


class CpdEntry(db.Model):
    """One line of a learner's CPD log; the topic and notes are sealed like a reflection."""

    __tablename__ = "cpd_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    done_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(40))
    minutes: Mapped[int] = mapped_column(Integer)
    is_participatory: Mapped[bool] = mapped_column(default=False)
    code_theme: Mapped[str | None] = mapped_column(String(40))
    sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    reflections: Mapped[list[Reflection]] = relationship(secondary=cpd_entry_reflection, order_by="Reflection.id")
