"""The Search gaps page: the searches that found nothing, only partial matches or were
replaced, for a period, each shown only once GAP_MIN_SEARCHERS different people made it
on one day; the words partial matches lacked; replaced words; what was opened after a
page of partial matches; searches per day. The figures come from the period's rollup
(rollups.py) and today's rows."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import case, func, select

from casestudies.extensions import db
from casestudies.insights.periods import Period
from casestudies.insights.recording import OVERFLOW_KEY
from casestudies.insights.rollups import GAP_OUTCOMES, day_totals, gap_rows
from casestudies.models import Case, SearchClick, SearchOutcome

TOP = 50


def min_searchers() -> int:
    return max(1, int(current_app.config["GAP_MIN_SEARCHERS"]))


def _rows(period: Period):
    return gap_rows(period.start, period.end, period.end - timedelta(days=1), min_searchers())


def _rows_before(period: Period):
    """The period before, all complete days (today is in `period`)."""
    previous = period.previous
    return gap_rows(previous.start, previous.end, period.end - timedelta(days=1), min_searchers())


@dataclass(frozen=True)
class Gap:
    key: str
    display: str
    searches: int
    nothing: int
    partial: int
    replaced: int
    previous: int  # searches in the period before (when it could be shown then)

    @property
    def trend(self) -> str:
        if not self.previous:
            return "new"
        change = self.searches - self.previous
        return "up" if change > 0 else ("down" if change < 0 else "same")


def _gap_columns(src):
    return (
        src.c.query_key,
        func.min(src.c.display),
        func.sum(src.c.searches),
        func.sum(case((src.c.outcome == "none", src.c.searches), else_=0)),
        func.sum(case((src.c.outcome == "partial", src.c.searches), else_=0)),
        func.sum(case((src.c.outcome == "replaced", src.c.searches), else_=0)),
    )


def top_gaps(period: Period, limit: int = TOP) -> list[Gap]:
    src = _rows(period)
    searches = func.sum(src.c.searches)
    rows = db.session.execute(
        select(*_gap_columns(src))
        .group_by(src.c.query_key)
        .having(func.max(src.c.searchers) >= min_searchers())
        .order_by(searches.desc(), src.c.query_key)
        .limit(limit)
    ).all()
    keys = [row[0] for row in rows]
    before_src = _rows_before(period)
    before = dict(
        db.session.execute(
            select(before_src.c.query_key, func.sum(before_src.c.searches))
            .where(before_src.c.query_key.in_(keys))
            .group_by(before_src.c.query_key)
        ).all()
    )
    return [Gap(k, d, int(s), int(n), int(p), int(r), int(before.get(k, 0))) for k, d, s, n, p, r in rows]


def missing_words(period: Period, limit: int = 20) -> list[tuple[str, int]]:
    """The words partial matches lacked, by how many searches lacked them."""
    src = _rows(period)
    rows = db.session.execute(
        select(src.c.missing, func.sum(src.c.searches))
        .where(src.c.outcome == "partial")
        .group_by(src.c.query_key, src.c.missing)
        .having(func.max(src.c.searchers) >= min_searchers())
    ).all()
    counts: Counter[str] = Counter()
    for missing, searches in rows:
        for word in set(missing.split()):
            counts[word] += int(searches)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]


def replaced_words(period: Period, limit: int = 20) -> list[tuple[str, str, int]]:
    """(typed, shown instead, searches): what spelling correction put in place of a search."""
    src = _rows(period)
    searches = func.sum(src.c.searches)
    rows = db.session.execute(
        select(func.min(src.c.display), src.c.replaced_by, searches)
        .where(src.c.outcome == "replaced")
        .group_by(src.c.query_key, src.c.replaced_by)
        .having(func.max(src.c.searchers) >= min_searchers())
        .order_by(searches.desc(), src.c.replaced_by)
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
    src = _rows(period)
    shown = (
        select(src.c.query_key, func.min(src.c.display).label("display"))
        .where(src.c.outcome == "partial")
        .group_by(src.c.query_key)
        .having(func.max(src.c.searchers) >= min_searchers())
        .subquery()
    )
    clicks = func.sum(SearchClick.clicks)
    # Case ids first, the cases after (grouping whole case rows carried their text along).
    rows = db.session.execute(
        select(SearchClick.case_id, shown.c.display, clicks)
        .join(shown, shown.c.query_key == SearchClick.query_key)
        .where(SearchClick.day >= period.start, SearchClick.day < period.end)
        .group_by(shown.c.display, SearchClick.case_id)
        .order_by(clicks.desc(), shown.c.display, SearchClick.case_id)
        .limit(limit)
    ).all()
    cases = {c.id: c for c in db.session.scalars(select(Case).where(Case.id.in_([r[0] for r in rows])))}
    return [Click(display, cases[case_id], int(n)) for case_id, display, n in rows if case_id in cases]


def searches_per_day(period: Period) -> list[tuple[date, int, int]]:
    """(day, searches, of which gaps) for each day of the period (0 on a day without)."""
    totals = day_totals(period.start, period.end, period.end - timedelta(days=1))
    days = [period.start + timedelta(days=n) for n in range(period.days)]
    return [(day, *totals.get(day, (0, 0))) for day in days]


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
        .having(func.max(SearchOutcome.searchers) >= min_searchers())
    ).first()
    if row is None:
        return None
    k, d, s, n, p, r = row
    return Gap(k, d, int(s), int(n), int(p), int(r), 0)
