"""The curators' dashboard (what waits for review, drafts, review dates, gaps) and the
coverage of seats by leadership dimensions."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from casestudies.cases.vocab import LEADERSHIP_DIMENSIONS, Status
from casestudies.extensions import db
from casestudies.insights.recording import OVERFLOW_KEY
from casestudies.insights.rollups import GAP_OUTCOMES
from casestudies.models import Case, Dimension, SearchOutcome, case_dimension, utcnow

EMPTY_SEARCH_DAYS = 30  # the dashboard's gaps: searches of the last 30 days that found nothing or not every word
EMPTY_SEARCHES_SHOWN = 50


@dataclass(frozen=True)
class Dashboard:
    in_review: list[Case]
    drafts_by_author: list[tuple[str, list[Case]]]
    past_review_date: list[Case]  # overdue: the review date has passed
    without_questions: list[Case]
    without_dimensions: list[Case]
    empty_searches: list[tuple[str, int]]
    due_for_review: list[Case] = field(default_factory=list)  # review date within REVIEW_DUE_DAYS
    today: date = field(default_factory=date.today)

    def days_until_review(self, case: Case) -> int | None:
        return (case.review_by - self.today).days if case.review_by else None


REVIEW_DUE_DAYS = 30


def dashboard(today: date | None = None) -> Dashboard:
    today = today or date.today()
    live = select(Case).where(~Case.is_deleted).options(selectinload(Case.author))
    in_review = db.session.scalars(live.where(Case.status == Status.REVIEW).order_by(Case.updated_at)).all()
    drafts = db.session.scalars(live.where(Case.status == Status.DRAFT).order_by(Case.title)).all()
    by_author: dict[str, list[Case]] = {}
    for case in drafts:
        by_author.setdefault(case.author.name if case.author else "Imported (no author)", []).append(case)
    past = db.session.scalars(live.where(Case.review_by < today).order_by(Case.review_by, Case.title)).all()
    due = db.session.scalars(
        live.where(Case.review_by >= today, Case.review_by <= today + timedelta(days=REVIEW_DUE_DAYS)).order_by(
            Case.review_by, Case.title
        )
    ).all()
    published = live.where(Case.status == Status.PUBLISHED)
    no_questions = db.session.scalars(published.where(~Case.questions.any()).order_by(Case.title)).all()
    no_dimensions = db.session.scalars(
        published.where(~Case.id.in_(select(case_dimension.c.case_id))).order_by(Case.title)
    ).all()
    return Dashboard(
        list(in_review),
        sorted(by_author.items()),
        list(past),
        list(no_questions),
        list(no_dimensions),
        empty_searches(utcnow().date() - timedelta(days=EMPTY_SEARCH_DAYS)),
        list(due),
        today,
    )


def empty_searches(since: date, limit: int = EMPTY_SEARCHES_SHOWN) -> list[tuple[str, int]]:
    """Learners' searches since `since` that found nothing, only cases with some of the
    words, or were shown a spelling correction's results ("receptionst (shown:
    receptionist)"), with how often: read from the insights' daily outcome rows, which
    every search writes anyway (curators' and admins' searches are not counted there).
    As on the Search gaps page, a query is listed only once GAP_MIN_SEARCHERS different
    people searched it on one day: a single reader's words are never shown."""
    searches = func.sum(SearchOutcome.searches)
    shown = func.min(SearchOutcome.display)
    rows = db.session.execute(
        select(shown, SearchOutcome.outcome, SearchOutcome.replaced_by, searches)
        .where(
            SearchOutcome.period == "d",
            SearchOutcome.day >= since,
            SearchOutcome.outcome.in_(GAP_OUTCOMES),
            SearchOutcome.query_key != OVERFLOW_KEY,
        )
        .group_by(SearchOutcome.query_key, SearchOutcome.outcome, SearchOutcome.replaced_by)
        .having(func.max(SearchOutcome.searchers) >= current_app.config["GAP_MIN_SEARCHERS"])
        .order_by(searches.desc(), shown)
        .limit(limit)
    ).all()
    return [
        (f"{text} (shown: {replaced_by})" if outcome == "replaced" else text, count)
        for text, outcome, replaced_by, count in rows
    ]


@dataclass(frozen=True)
class Coverage:
    seats: list[str]
    dimensions: tuple[str, ...]
    counts: Counter[tuple[str, str]]

    def total_for_seat(self, seat: str) -> int:
        return sum(self.counts[(seat, d)] for d in self.dimensions)


def coverage() -> Coverage:
    """Published cases per seat and leadership dimension."""
    rows = db.session.execute(
        select(Case.seat, Dimension.name, func.count())
        .select_from(Case)
        .join(case_dimension)
        .join(Dimension)
        .where(Case.is_published)
        .group_by(Case.seat, Dimension.name)
    ).all()
    seats = sorted(set(db.session.scalars(select(Case.seat).where(Case.is_published))), key=str.casefold)
    return Coverage(seats, LEADERSHIP_DIMENSIONS, Counter({(s, d): n for s, d, n in rows}))
