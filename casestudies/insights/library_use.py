"""The Library use page: reads per case (counted per week, each reader once a day), cases
nobody opened lately, usefulness answers, cases in facilitators' guides and handouts,
searches per day. Only published cases are listed: they are what readers can open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case as when
from sqlalchemy import func, select

from casestudies.extensions import db
from casestudies.insights.periods import Period
from casestudies.insights.recording import week_of
from casestudies.insights.rollups import read_rows
from casestudies.models import Case, CaseFeedback, Guide, GuideCase

NOT_OPENED_DAYS = 90
TOP = 20


def _reads_in(period: Period):
    """Reads per case in the weeks that overlap the period (today is its last day)."""
    return read_rows(week_of(period.start), week_of(period.end - timedelta(days=1)), period.end)


def most_read(period: Period, limit: int = TOP) -> list[tuple[Case, int]]:
    reads = _reads_in(period)
    rows = db.session.execute(
        select(Case, reads.c.reads)
        .join(reads, reads.c.case_id == Case.id)
        .where(Case.is_published)
        .order_by(reads.c.reads.desc(), Case.title)
        .limit(limit)
    ).all()
    return [(found, int(n)) for found, n in rows]


def least_read(period: Period, limit: int = TOP) -> list[tuple[Case, int]]:
    reads = _reads_in(period)
    count = func.coalesce(reads.c.reads, 0)
    rows = db.session.execute(
        select(Case, count)
        .outerjoin(reads, reads.c.case_id == Case.id)
        .where(Case.is_published)
        .order_by(count, Case.title)
        .limit(limit)
    ).all()
    return [(found, int(n)) for found, n in rows]


def not_opened_since(today: date) -> date:
    return today - timedelta(days=NOT_OPENED_DAYS)


@dataclass(frozen=True)
class NotOpened:
    cases: list[Case]
    total: int
    since: date


def not_opened(today: date, limit: int | None = 100) -> NotOpened:
    """Published cases no counted reader opened in the last NOT_OPENED_DAYS days, those
    with the nearest (or no) review date first: candidates for the review-due list."""
    since = not_opened_since(today)
    recent = read_rows(week_of(since), week_of(today), today + timedelta(days=1))
    query = select(Case).where(Case.is_published, Case.id.not_in(select(recent.c.case_id)))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    ordered = query.order_by(Case.review_by.is_(None), Case.review_by, Case.title)
    if limit is not None:
        ordered = ordered.limit(limit)
    return NotOpened(list(db.session.scalars(ordered)), total, since)


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
    yes = func.sum(when((CaseFeedback.is_useful, 1), else_=0))
    answers = func.count(CaseFeedback.id)
    rows = db.session.execute(
        select(Case, yes, answers)
        .join(CaseFeedback, CaseFeedback.case_id == Case.id)
        .where(CaseFeedback.day >= period.start, CaseFeedback.day < period.end)
        .group_by(Case.id)
        .order_by(answers.desc(), Case.title)
        .limit(limit)
    ).all()
    return [Usefulness(found, int(y), int(n) - int(y)) for found, y, n in rows]


def recent_comments(period: Period, limit: int = 30) -> list[CaseFeedback]:
    return list(
        db.session.scalars(
            select(CaseFeedback)
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
