"""Readers' reports of a problem with a case."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    DateTime,
    ForeignKey,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casestudies.extensions import db
from casestudies.models.base import utcnow

if TYPE_CHECKING:
    from casestudies.models.accounts import User
    from casestudies.models.cases import Case


class CaseReport(db.Model):
    """A reader's report of a problem with a case, and how a curator resolved it."""

    __tablename__ = "case_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for an accessibility problem with a page (`page` says which), not with a case.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    page: Mapped[str | None] = mapped_column(String(500))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    reason: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    # Set when a curator resolves it; None while the report is open.
    outcome: Mapped[str | None] = mapped_column(String(30), index=True)
    resolution_note: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolver_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    case: Mapped[Case | None] = relationship()
    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id])
    resolver: Mapped[User | None] = relationship(foreign_keys=[resolver_id])

    @property
    def is_open(self) -> bool:
        return self.outcome is None
