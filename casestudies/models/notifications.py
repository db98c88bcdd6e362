"""Notifications: what each person is told (in the app, and by email when they chose it),
their choice per kind, and the seats and themes a learner's weekly digest follows."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casestudies.extensions import db
from casestudies.models.base import utcnow

if TYPE_CHECKING:
    from casestudies.models.accounts import User
    from casestudies.models.learning import Collection


class Notification(db.Model):
    """One thing one person is told, written in the same transaction as the change it is
    about. Its text is built from titles, names and curators' notes only: never from a
    reflection or a CPD entry."""

    __tablename__ = "notification"
    __table_args__ = (
        # A time-based notice (review due, handout tomorrow, the weekly digest) carries a key:
        # a second run of the daily command finds it and sends nothing. NULLs never clash.
        UniqueConstraint("user_id", "key", name="uq_notification_user_id_key"),
        # The header's unread count: one index-only count.
        Index("ix_notification_user_id_read_at", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(500))  # a path in the app: the thing itself
    key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(db.Model):
    """A person's choice for one kind: "email" (by email and in the app), "app" or "off".
    No row: the kind's default (notifications/kinds.py)."""

    __tablename__ = "notification_preference"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))


class DigestTopic(db.Model):
    """A seat (a case's `seat`) or a theme (a curators' collection) whose new and updated
    cases a learner's weekly digest lists."""

    __tablename__ = "digest_topic"
    __table_args__ = (
        UniqueConstraint("user_id", "seat", name="uq_digest_topic_user_id_seat"),
        UniqueConstraint("user_id", "collection_id", name="uq_digest_topic_user_id_collection_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    seat: Mapped[str | None] = mapped_column(String(80))
    collection_id: Mapped[int | None] = mapped_column(ForeignKey("collection.id", ondelete="CASCADE"), index=True)

    collection: Mapped[Collection | None] = relationship()
