"""The Library use page: reads per case (counted per week, each reader once a day), cases
nobody opened lately, usefulness answers, cases in facilitators' guides and handouts,
searches per day. Only published cases are listed: they are what readers can open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case as when
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from casestudies.extensions import db
from casestudies.insights.periods import Period
from casestudies.insights.recording import week_of
from casestudies.insights.rollups import read_case_ids, read_rows
from casestudies.models import Case, CaseFeedback, Guide, GuideCase

NOT_OPENED_DAYS = 90
TOP = 20


def _reads_in(period: Period):
    """Reads per case in the weeks that overlap the period (today is its last day)."""
    return read_rows(week_of(period.start), week_of(period.end - timedelta(days=1)), period.end)


def _with_cases(rows) -> list[tuple]:
    """Rows whose first column is a case id, with the case in its place. The pages pick
    and order case ids first, then load only those cases: a query that carried whole
    case rows (their text) through its grouping and sorting cost more than the rest."""
    rows = list(rows)
    cases = {c.id: c for c in db.session.scalars(select(Case).where(Case.id.in_([r[0] for r in rows])))}
    return [(cases[r[0]], *r[1:]) for r in rows if r[0] in cases]


def most_read(period: Period, limit: int = TOP) -> list[tuple[Case, int]]:
    reads = _reads_in(period)
    rows = db.session.execute(
        select(Case.id, reads.c.reads)
        .join(reads, reads.c.case_id == Case.id)
        .where(Case.is_published)
        .order_by(reads.c.reads.desc(), Case.title)
        .limit(limit)
    )
    return [(found, int(n)) for found, n in _with_cases(rows)]


def least_read(period: Period, limit: int = TOP) -> list[tuple[Case, int]]:
    reads = _reads_in(period)
    count = func.coalesce(reads.c.reads, 0)
    rows = db.session.execute(
        select(Case.id, count)
        .outerjoin(reads, reads.c.case_id == Case.id)
        .where(Case.is_published)
        .order_by(count, Case.title)
        .limit(limit)
    )
    return [(found, int(n)) for found, n in _with_cases(rows)]


def not_opened_since(today: date) -> date:
    return today - timedelta(days=NOT_OPENED_DAYS)


@dataclass(frozen=True)
class Listed:
    """What the not-opened list shows of a case (from ix_case_listing, not the case row)."""

    id: int
    slug: str
    title: str
    seat: str
    review_by: date | None


@dataclass(frozen=True)
class NotOpened:
    cases: list[Listed]
    total: int
    since: date


def not_opened(today: date, limit: int | None = 100) -> NotOpened:
    """Published cases no counted reader opened in the last NOT_OPENED_DAYS days, those
    with the nearest (or no) review date first: candidates for the review-due list."""
    since = not_opened_since(today)
    recent = read_case_ids(week_of(since), week_of(today), today + timedelta(days=1))
    # One pass (the count is the rows'), the list's columns from ix_case_listing.
    rows = db.session.execute(
        select(Case.id, Case.title, Case.seat, Case.review_by)
        .where(Case.is_published, Case.id.not_in(recent))
        .order_by(Case.review_by.is_(None), Case.review_by, Case.title)
    ).all()
    shown = rows if limit is None else rows[:limit]
    slugs = dict(db.session.execute(select(Case.id, Case.slug).where(Case.id.in_([r.id for r in shown]))).all())
    return NotOpened([Listed(r.id, slugs[r.id], r.title, r.seat, r.review_by) for r in shown], len(rows), since)


@dataclass(frozen=True)
class Usefulness:
    case: Case
    yes: int
    no: int

    @property
    def answers(self) -> int:
        return self.yes + self.no

    @property
    def percent_useful(self) -> int:
        return round(100 * self.yes / self.answers) if self.answers else 0


def usefulness(period: Period, limit: int = 50) -> list[Usefulness]:
    # Counted per case first, then joined: grouping the case rows themselves would carry
    # every case's whole text through the grouping.
    counts = (
        select(
            CaseFeedback.case_id,
            func.sum(when((CaseFeedback.is_useful, 1), else_=0)).label("yes"),
            func.count().label("answers"),
        )
        .where(CaseFeedback.day >= period.start, CaseFeedback.day < period.end)
        .group_by(CaseFeedback.case_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Case.id, counts.c.yes, counts.c.answers)
        .join(counts, counts.c.case_id == Case.id)
        .order_by(counts.c.answers.desc(), Case.title)
        .limit(limit)
    )
    return [Usefulness(found, int(y), int(n) - int(y)) for found, y, n in _with_cases(rows)]


def recent_comments(period: Period, limit: int = 30) -> list[CaseFeedback]:
    return list(
        db.session.scalars(
            select(CaseFeedback)
            .options(selectinload(CaseFeedback.case))  # one query for the cases, not one a comment
            .where(CaseFeedback.comment != "", CaseFeedback.day >= period.start, CaseFeedback.day < period.end)
            .order_by(CaseFeedback.id.desc())
            .limit(limit)
        )
    )


def in_guides(limit: int = TOP) -> list[tuple[Case, int, int]]:
    """(case, guides it is in, of which with the handout on), most used first."""
    guides = func.count(func.distinct(GuideCase.guide_id))
    handouts = func.count(func.distinct(when((Guide.is_handout_on, Guide.id))))
    rows = db.session.execute(
        select(Case, guides, handouts)
        .join(GuideCase, GuideCase.case_id == Case.id)
        .join(Guide, Guide.id == GuideCase.guide_id)
        .group_by(Case.id)
        .order_by(guides.desc(), Case.title)
        .limit(limit)
    ).all()
    return [(found, int(g), int(h)) for found, g, h in rows]
