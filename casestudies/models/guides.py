"""Discussion guides: the timed plan (cases, chosen questions, segments) and handout visits."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casestudies.extensions import db
from casestudies.models.base import utcnow

if TYPE_CHECKING:
    from casestudies.models.accounts import User
    from casestudies.models.cases import Case


class Guide(db.Model):
    """A facilitator's plan for a teaching session: cases and chosen questions, timed.
    Belongs to its author; readable by others only through its share link."""

    __tablename__ = "guide"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    audience: Mapped[str] = mapped_column(String(200), default="")
    session_on: Mapped[date | None] = mapped_column(Date)
    start_time: Mapped[time | None] = mapped_column(Time)
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    # Markdown (objectives: one per line), rendered with casestudies.markdown.
    objectives: Mapped[str] = mapped_column(Text, default="")
    introduction: Mapped[str] = mapped_column(Text, default="")
    opening_remarks: Mapped[str] = mapped_column(Text, default="")
    closing_remarks: Mapped[str] = mapped_column(Text, default="")
    ground_rules: Mapped[str] = mapped_column(Text, default="")
    how_it_went: Mapped[str] = mapped_column(Text, default="")  # the author's own, never shared
    how_it_went_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Set while shared: the unguessable part of the read-only link; None when not shared.
    share_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    shared_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    author: Mapped[User] = relationship()
    items: Mapped[list[GuideCase]] = relationship(
        back_populates="guide", order_by="GuideCase.position", cascade="all, delete-orphan"
    )
    # Segments share the position sequence of `items`: the session runs in that order.
    segments: Mapped[list[GuideSegment]] = relationship(
        back_populates="guide", order_by="GuideSegment.position", cascade="all, delete-orphan"
    )
    # The participant edition as a handout for learners: its link, whether it is on, and
    # the optional dates it is open from and to (inclusive).
    handout_token: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    is_handout_on: Mapped[bool] = mapped_column(Boolean, default=False)
    handout_opens_on: Mapped[date | None] = mapped_column(Date)
    handout_closes_on: Mapped[date | None] = mapped_column(Date)

    @property
    def is_shared(self) -> bool:
        return self.share_token is not None


class GuideCase(db.Model):
    """A case in a guide. The case's text is never copied: the guide shows what is published
    now. The title is kept so a case later purged from the library can still be named."""

    __tablename__ = "guide_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    guide_id: Mapped[int] = mapped_column(ForeignKey("guide.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id", ondelete="SET NULL"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    case_title: Mapped[str] = mapped_column(String(200))

    guide: Mapped[Guide] = relationship(back_populates="items")
    case: Mapped[Case | None] = relationship()
    questions: Mapped[list[GuideQuestion]] = relationship(
        back_populates="item", order_by="GuideQuestion.position", cascade="all, delete-orphan"
    )


class GuideQuestion(db.Model):
    """A question chosen for a case in a guide: one of the case's own (is_own False; its text
    is the link to the case's current question) or one the facilitator wrote."""

    __tablename__ = "guide_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    guide_case_id: Mapped[int] = mapped_column(ForeignKey("guide_case.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)  # the facilitator's own notes (own questions)
    minutes: Mapped[int] = mapped_column(Integer)
    is_own: Mapped[bool] = mapped_column(default=False)

    item: Mapped[GuideCase] = relationship(back_populates="questions")


class GuideSegment(db.Model):
    """A part of a session that is not a case's questions: welcome, reading time, small-group
    work, a break, plenary, close, or an activity from a case's suggested plan. Its position
    is in the same sequence as the guide's cases."""

    __tablename__ = "guide_segment"

    id: Mapped[int] = mapped_column(primary_key=True)
    guide_id: Mapped[int] = mapped_column(ForeignKey("guide.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(200), default="")
    minutes: Mapped[int] = mapped_column(Integer)
    # The case a reading time is for (None for other kinds, or once the case left the guide).
    guide_case_id: Mapped[int | None] = mapped_column(ForeignKey("guide_case.id", ondelete="SET NULL"), index=True)

    guide: Mapped[Guide] = relationship(back_populates="segments")
    item: Mapped[GuideCase | None] = relationship()


class HandoutVisit(db.Model):
    """A signed-in user opened a guide's handout: listed under "My sessions"."""

    __tablename__ = "handout_visit"
    __table_args__ = (UniqueConstraint("guide_id", "user_id", name="uq_handout_visit_guide_id_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guide_id: Mapped[int] = mapped_column(ForeignKey("guide.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    first_opened_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_opened_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)

    guide: Mapped[Guide] = relationship()
    user: Mapped[User] = relationship()
