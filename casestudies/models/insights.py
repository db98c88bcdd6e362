"""Curators' insights: what searches found, what is read and found useful, and the tools
curators use to close the gaps (synonyms and concepts, promoted cases, wanted cases).

Nothing here names a reader: searches and reads are counts per day (or week); the keyed
digests that count distinct people live only for the day they are made on (see
casestudies/insights/recording.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casestudies.extensions import db
from casestudies.models.base import utcnow

if TYPE_CHECKING:
    from casestudies.models.accounts import User
    from casestudies.models.cases import Case


class SearchOutcome(db.Model):
    """How often one normalised query had one outcome (full, partial, replaced, none) on a
    day ('d' rows), or in a month once the day is older than INSIGHTS_RAW_DAYS ('m' rows,
    `day` the month's first day). `searchers` is the number of different people on the day
    (for 'm' rows: the most on one day of the month); `seen` holds a digest per person,
    keyed for that day and query, only until the day is over."""

    __tablename__ = "search_outcome"
    __table_args__ = (UniqueConstraint("period", "day", "query_key", "outcome", name="uq_search_outcome"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(1), default="d")
    day: Mapped[date] = mapped_column(Date, index=True)
    query_key: Mapped[str] = mapped_column(String(200), index=True)  # stemmed words, sorted: the group
    display: Mapped[str] = mapped_column(String(200))  # the first wording of the day, casefolded
    outcome: Mapped[str] = mapped_column(String(10))
    missing: Mapped[str] = mapped_column(String(300), default="")  # words partial matches lacked
    replaced_by: Mapped[str] = mapped_column(String(200), default="")
    searches: Mapped[int] = mapped_column(Integer, default=1)
    searchers: Mapped[int] = mapped_column(Integer, default=1)
    seen: Mapped[str | None] = mapped_column(Text)


class SearchClick(db.Model):
    """Cases opened from a page of partial matches, per query and day."""

    __tablename__ = "search_click"
    __table_args__ = (UniqueConstraint("day", "query_key", "case_id", name="uq_search_click"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    query_key: Mapped[str] = mapped_column(String(200))
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    clicks: Mapped[int] = mapped_column(Integer, default=1)


class CaseReadWeek(db.Model):
    """Reads of a case in the week starting `week` (a Monday), each reader once a day."""

    __tablename__ = "case_read_week"
    __table_args__ = (UniqueConstraint("case_id", "week", name="uq_case_read_week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    week: Mapped[date] = mapped_column(Date, index=True)
    reads: Mapped[int] = mapped_column(Integer, default=1)


class ReadSeen(db.Model):
    """Today's keyed digests of (reader, case): a second read on the day is not counted.
    Deleted once the day is over; the digest can't be turned back into a reader."""

    __tablename__ = "read_seen"
    __table_args__ = (UniqueConstraint("day", "digest", name="uq_read_seen"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    digest: Mapped[str] = mapped_column(String(32))


class CaseFeedback(db.Model):
    """ "Was this case useful?": the answer, an optional comment, the reader's role and the
    seat they chose to give; never who."""

    __tablename__ = "case_feedback"
    # Usefulness by case for a period, read from the index alone.
    __table_args__ = (Index("ix_case_feedback_day_case", "day", "case_id", "is_useful"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    is_useful: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str] = mapped_column(Text, default="")
    role: Mapped[str] = mapped_column(String(20))
    seat: Mapped[str] = mapped_column(String(120), default="")

    case: Mapped[Case] = relationship()


class SearchTerm(db.Model):
    """A synonym group or thesaurus concept a curator added from the app, in the format of
    search/synonyms.txt ("a = b") or search/thesaurus.txt (a block). Never edited: a change
    is a new row and the old one removed, so the rows are the versions, with who and when."""

    __tablename__ = "search_term"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # "synonym" or "concept"
    text: Mapped[str] = mapped_column(Text)
    query_key: Mapped[str] = mapped_column(String(200), default="")  # the gap it answers
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    removed_by: Mapped[User | None] = relationship(foreign_keys=[removed_by_id])


class SearchPromotion(db.Model):
    """A case shown first, "Recommended by the library team", for a normalised query."""

    __tablename__ = "search_promotion"

    id: Mapped[int] = mapped_column(primary_key=True)
    query_key: Mapped[str] = mapped_column(String(200), index=True)
    display: Mapped[str] = mapped_column(String(200))
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime)

    case: Mapped[Case] = relationship()
    created_by: Mapped[User | None] = relationship()


class WantedCase(db.Model):
    """A gap curators mean to fill with a new case."""

    __tablename__ = "wanted_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    query_key: Mapped[str] = mapped_column(String(200))
    display: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime)

    created_by: Mapped[User | None] = relationship()


class SearchDayTotal(db.Model):
    """A complete day's searches, and of them the gaps (nothing, partial, replaced): the
    searches-per-day chart, kept when the day's rows are merged into months."""

    __tablename__ = "search_day_total"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    searches: Mapped[int] = mapped_column(Integer, default=0)
    gaps: Mapped[int] = mapped_column(Integer, default=0)


class SearchGapRollup(db.Model):
    """The gap rows of a window of complete days [start, end), summed per query group and
    outcome, for the groups that may be shown (GAP_MIN_SEARCHERS people on one day): the
    Search gaps page reads these and today's rows, not a year of rows. Made by `flask
    insights aggregate` (daily), or by the first page that needs them that day. A window's
    marker row has an empty query_key and outcome."""

    __tablename__ = "search_gap_rollup"
    __table_args__ = (UniqueConstraint("start", "end", "query_key", "outcome", name="uq_search_gap_rollup"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    query_key: Mapped[str] = mapped_column(String(200))
    display: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(10))
    missing: Mapped[str] = mapped_column(String(300), default="")
    replaced_by: Mapped[str] = mapped_column(String(200), default="")
    searches: Mapped[int] = mapped_column(Integer, default=0)
    searchers: Mapped[int] = mapped_column(Integer, default=0)


class CaseReadRollup(db.Model):
    """Reads per case in a window of complete weeks [start, end) (Mondays; `end` is the
    current week's), summed from case_read_week: the Library use page reads these and the
    current week's rows, not a year of weekly rows. A complete week's reads no longer
    change, so a window holds for its week. Made by `flask insights aggregate` (daily), or
    by the first page that needs it; its marker row has case_id 0."""

    __tablename__ = "case_read_rollup"
    __table_args__ = (UniqueConstraint("start", "end", "case_id", name="uq_case_read_rollup"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    case_id: Mapped[int] = mapped_column(Integer)  # not a foreign key: the marker's is 0
    reads: Mapped[int] = mapped_column(Integer, default=0)
