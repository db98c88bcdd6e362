"""What `flask insights aggregate` does each day (from cron): the day's digests go once
the day is over, and daily search rows older than INSIGHTS_RAW_DAYS become monthly rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import delete, func, literal, select, update

from casestudies.database import dialect_insert
from casestudies.extensions import db
from casestudies.insights.library_use import not_opened_since
from casestudies.insights.periods import PERIOD_DAYS, Period
from casestudies.insights.recording import today, week_of
from casestudies.insights.rollups import ensure_day_totals, ensure_read_window, ensure_window, forget_old_windows
from casestudies.models import ReadSeen, SearchClick, SearchOutcome


@dataclass(frozen=True)
class Aggregated:
    digests_cleared: int
    daily_rows_merged: int
    monthly_rows: int
    clicks_deleted: int


def _month(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def aggregate(on: date | None = None) -> Aggregated:
    on = on or today()
    cleared = db.session.execute(
        update(SearchOutcome)
        .where(SearchOutcome.period == "d", SearchOutcome.day < on, SearchOutcome.seen.is_not(None))
        .values(seen=None)
    ).rowcount
    cleared += db.session.execute(delete(ReadSeen).where(ReadSeen.day < on)).rowcount
    cutoff = on - timedelta(days=int(current_app.config["INSIGHTS_RAW_DAYS"]))
    clicks = db.session.execute(delete(SearchClick).where(SearchClick.day < cutoff)).rowcount
    ensure_day_totals(on, every_day=True)  # before days become months: the searches-per-day chart keeps them
    oldest = db.session.scalar(
        select(func.min(SearchOutcome.day)).where(SearchOutcome.period == "d", SearchOutcome.day < cutoff)
    )
    merged = monthly = 0
    month = _month(oldest) if oldest else None
    greatest = func.max if db.session.get_bind().dialect.name == "sqlite" else func.greatest
    while month is not None and month < cutoff:
        end = min(_next_month(month), cutoff)
        daily = (SearchOutcome.period == "d") & (SearchOutcome.day >= month) & (SearchOutcome.day < end)
        # People can't be added across days (one person on two days is not two people):
        # a month keeps the most on one day, which the threshold needs.
        source = (
            select(
                literal("m"),
                literal(month),
                SearchOutcome.query_key,
                SearchOutcome.outcome,
                func.min(SearchOutcome.display),
                func.max(SearchOutcome.missing),
                func.max(SearchOutcome.replaced_by),
                func.sum(SearchOutcome.searches),
                func.max(SearchOutcome.searchers),
            )
            .where(daily)
            .group_by(SearchOutcome.query_key, SearchOutcome.outcome)
        )
        statement = dialect_insert(SearchOutcome).from_select(
            ["period", "day", "query_key", "outcome", "display", "missing", "replaced_by", "searches", "searchers"],
            source,
        )
        # Counted from RETURNING: psycopg's rowcount for an INSERT ... SELECT is not the rows.
        monthly += len(
            db.session.execute(
                statement.on_conflict_do_update(
                    index_elements=["period", "day", "query_key", "outcome"],
                    set_={
                        "searches": SearchOutcome.searches + statement.excluded.searches,
                        "searchers": greatest(SearchOutcome.searchers, statement.excluded.searchers),
                    },
                ).returning(SearchOutcome.id)
            ).all()
        )
        merged += db.session.execute(delete(SearchOutcome).where(daily)).rowcount
        month = _next_month(month)
    # The insights pages' windows for today (their first view would make them otherwise).
    this_week = week_of(on)
    forget_old_windows(on, this_week)
    k = max(1, int(current_app.config["GAP_MIN_SEARCHERS"]))
    for days in PERIOD_DAYS:
        period = Period.last(days, on)
        for window in (period, period.previous):
            ensure_window(window.start, min(window.end, on), k)
        ensure_read_window(week_of(period.start), this_week)
    ensure_read_window(week_of(not_opened_since(on)), this_week)
    return Aggregated(cleared, merged, monthly, clicks)
