"""The Search gaps page: the searches that found nothing, only partial matches or were
replaced, for a period, each shown only once GAP_MIN_SEARCHERS different people made it
on one day; the words partial matches lacked; replaced words; what was opened after a
page of partial matches; searches per day."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import and_, case, func, or_, select

from casestudies.extensions import db
from casestudies.insights.periods import Period
from casestudies.insights.recording import OVERFLOW_KEY
from casestudies.models import Case, SearchClick, SearchOutcome

GAP_OUTCOMES = ("none", "partial", "replaced")
TOP = 50


def min_searchers() -> int:
    return max(1, int(current_app.config["GAP_MIN_SEARCHERS"]))


def _in(period: Period):
    """Rows of the period: its days, and the monthly rows of its months."""
    return or_(
        and_(SearchOutcome.period == "d", SearchOutcome.day >= period.start, SearchOutcome.day < period.end),
        and_(SearchOutcome.period == "m", SearchOutcome.day >= period.month_start, SearchOutcome.day < period.end),
    )


def _shown():
    """A group is shown once some day had GAP_MIN_SEARCHERS different people in it."""
    return func.max(SearchOutcome.searchers) >= min_searchers()


@dataclass(frozen=True)
class Gap:
    key: str
    display: str
    searches: int
    nothing: int
    partial: int
    replaced: int
    previous: int  # searches in the period before

    @property
    def trend(self) -> str:
        if not self.previous:
            return "new"
        change = self.searches - self.previous
        return "up" if change > 0 else ("down" if change < 0 else "same")

    @property
    def change(self) -> int:
        return self.searches - self.previous


def top_gaps(period: Period, limit: int = TOP) -> list[Gap]:
    searches = func.sum(SearchOutcome.searches)
    rows = db.session.execute(
        select(
            SearchOutcome.query_key,
            func.min(SearchOutcome.display),
            searches,
            func.sum(case((SearchOutcome.outcome == "none", SearchOutcome.searches), else_=0)),
            func.sum(case((SearchOutcome.outcome == "partial", SearchOutcome.searches), else_=0)),
            func.sum(case((SearchOutcome.outcome == "replaced", SearchOutcome.searches), else_=0)),
        )
        .where(_in(period), SearchOutcome.outcome.in_(GAP_OUTCOMES), SearchOutcome.query_key != OVERFLOW_KEY)
        .group_by(SearchOutcome.query_key)
        .having(_shown())
        .order_by(searches.desc(), SearchOutcome.query_key)
        .limit(limit)
    ).all()
    keys = [row[0] for row in rows]
    before = dict(
        db.session.execute(
            select(SearchOutcome.query_key, func.sum(SearchOutcome.searches))
            .where(_in(period.previous), SearchOutcome.outcome.in_(GAP_OUTCOMES), SearchOutcome.query_key.in_(keys))
            .group_by(SearchOutcome.query_key)
        ).all()
    )
    return [Gap(k, d, int(s), int(n), int(p), int(r), int(before.get(k, 0))) for k, d, s, n, p, r in rows]


def missing_words(period: Period, limit: int = 20) -> list[tuple[str, int]]:
    """The words partial matches lacked, by how many searches lacked them."""
    rows = db.session.execute(
        select(SearchOutcome.missing, func.sum(SearchOutcome.searches))
        .where(_in(period), SearchOutcome.outcome == "partial", SearchOutcome.query_key != OVERFLOW_KEY)
        .group_by(SearchOutcome.query_key, SearchOutcome.missing)
        .having(_shown())
    ).all()
    counts: Counter[str] = Counter()
    for missing, searches in rows:
        for word in set(missing.split()):
            counts[word] += int(searches)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]


def replaced_words(period: Period, limit: int = 20) -> list[tuple[str, str, int]]:
    """(typed, shown instead, searches): what spelling correction put in place of a search."""
    searches = func.sum(SearchOutcome.searches)
    rows = db.session.execute(
        select(func.min(SearchOutcome.display), SearchOutcome.replaced_by, searches)
        .where(_in(period), SearchOutcome.outcome == "replaced", SearchOutcome.query_key != OVERFLOW_KEY)
        .group_by(SearchOutcome.query_key, SearchOutcome.replaced_by)
        .having(_shown())
        .order_by(searches.desc(), SearchOutcome.replaced_by)
        .limit(limit)
    ).all()
    return [(typed, shown, int(n)) for typed, shown, n in rows]


@dataclass(frozen=True)
class Click:
    query: str
    case: Case
    clicks: int


def clicks_after_partial(period: Period, limit: int = 30) -> list[Click]:
    """Cases opened from pages of partial matches, for queries shown as gaps."""
    shown = (
        select(SearchOutcome.query_key, func.min(SearchOutcome.display).label("display"))
        .where(_in(period), SearchOutcome.outcome == "partial")
        .group_by(SearchOutcome.query_key)
        .having(_shown())
        .subquery()
    )
    clicks = func.sum(SearchClick.clicks)
    rows = db.session.execute(
        select(shown.c.display, Case, clicks)
        .select_from(SearchClick)
        .join(shown, shown.c.query_key == SearchClick.query_key)
        .join(Case, Case.id == SearchClick.case_id)
        .where(SearchClick.day >= period.start, SearchClick.day < period.end)
        .group_by(shown.c.display, Case.id)
        .order_by(clicks.desc(), shown.c.display)
        .limit(limit)
    ).all()
    return [Click(display, found, int(n)) for display, found, n in rows]


def searches_per_day(period: Period) -> list[tuple[date, int, int]]:
    """(day, searches, of which gaps) for each day of the period (0 on a day without)."""
    rows = dict(
        (day, (int(total), int(gaps)))
        for day, total, gaps in db.session.execute(
            select(
                SearchOutcome.day,
                func.sum(SearchOutcome.searches),
                func.sum(case((SearchOutcome.outcome != "full", SearchOutcome.searches), else_=0)),
            )
            .where(SearchOutcome.period == "d", SearchOutcome.day >= period.start, SearchOutcome.day < period.end)
            .group_by(SearchOutcome.day)
        ).all()
    )
    days = [period.start + timedelta(days=n) for n in range(period.days)]
    return [(day, *rows.get(day, (0, 0))) for day in days]


def find_gap(key: str) -> Gap | None:
    """The gap for a normalised query over all the rows kept, when it may be shown."""
    if key == OVERFLOW_KEY:
        return None
    row = db.session.execute(
        select(
            SearchOutcome.query_key,
            func.min(SearchOutcome.display),
            func.sum(SearchOutcome.searches),
            func.sum(case((SearchOutcome.outcome == "none", SearchOutcome.searches), else_=0)),
            func.sum(case((SearchOutcome.outcome == "partial", SearchOutcome.searches), else_=0)),
            func.sum(case((SearchOutcome.outcome == "replaced", SearchOutcome.searches), else_=0)),
        )
        .where(SearchOutcome.query_key == key, SearchOutcome.outcome.in_(GAP_OUTCOMES))
        .group_by(SearchOutcome.query_key)
        .having(_shown())
    ).first()
    if row is None:
        return None
    k, d, s, n, p, r = row
    return Gap(k, d, int(s), int(n), int(p), int(r), 0)
