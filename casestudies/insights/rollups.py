"""What the insights pages read instead of a year of rows: for a window of complete days,
the rows of the search groups that may be shown, summed (search_gap_rollup); each
complete day's search totals (search_day_total); for a window of complete weeks, the
reads per case (case_read_rollup). Made once a day by `flask insights aggregate`, or by
the first page that needs a window; today's rows (this week's reads) are read as they are."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, case, delete, func, literal, or_, select, union_all

from casestudies.database import dialect_insert
from casestudies.extensions import db
from casestudies.insights.recording import OVERFLOW_KEY
from casestudies.models import CaseReadRollup, CaseReadWeek, SearchDayTotal, SearchGapRollup, SearchOutcome

GAP_OUTCOMES = ("none", "partial", "replaced")


def in_days(start: date, end: date):
    """Rows of the days [start, end): daily rows, and monthly rows of months from start's on."""
    return or_(
        and_(SearchOutcome.period == "d", SearchOutcome.day >= start, SearchOutcome.day < end),
        and_(SearchOutcome.period == "m", SearchOutcome.day >= start.replace(day=1), SearchOutcome.day < end),
    )


def ensure_day_totals(today: date, every_day: bool = False) -> None:
    """Totals for every complete day with daily rows and no total yet (one statement).
    A page asks only when the latest complete day with rows has no total (two index
    lookups): the app writes only today's rows, so a day once complete never changes, and
    looking for days without a total means reading every daily row (a quarter of a year of
    them, which cost seconds a page). `aggregate` looks at `every_day`."""
    if not every_day:
        latest = db.session.scalar(
            select(func.max(SearchOutcome.day)).where(SearchOutcome.period == "d", SearchOutcome.day < today)
        )
        if latest is None or db.session.get(SearchDayTotal, latest) is not None:
            return
    known = select(SearchDayTotal.day)
    source = (
        select(
            SearchOutcome.day,
            func.sum(SearchOutcome.searches),
            func.sum(case((SearchOutcome.outcome != "full", SearchOutcome.searches), else_=0)),
        )
        .where(SearchOutcome.period == "d", SearchOutcome.day < today, SearchOutcome.day.not_in(known))
        .group_by(SearchOutcome.day)
    )
    db.session.execute(
        dialect_insert(SearchDayTotal)
        .from_select(["day", "searches", "gaps"], source)
        .on_conflict_do_nothing(index_elements=["day"])
    )


def ensure_window(start: date, end: date, min_searchers: int) -> None:
    """The window's rollup, made unless it is there (its marker row says so)."""
    window = (SearchGapRollup.start == start) & (SearchGapRollup.end == end)
    made_with = db.session.scalar(
        select(SearchGapRollup.searchers).where(window, SearchGapRollup.query_key == OVERFLOW_KEY)
    )
    if made_with == min_searchers:
        return
    if made_with is not None:  # made under another GAP_MIN_SEARCHERS: made again
        db.session.execute(delete(SearchGapRollup).where(window))
    gaps = in_days(start, end) & SearchOutcome.outcome.in_(GAP_OUTCOMES) & (SearchOutcome.query_key != OVERFLOW_KEY)
    shown = (
        select(SearchOutcome.query_key)
        .where(gaps)
        .group_by(SearchOutcome.query_key)
        .having(func.max(SearchOutcome.searchers) >= min_searchers)
    )
    source = (
        select(
            literal(start),
            literal(end),
            SearchOutcome.query_key,
            func.min(SearchOutcome.display),
            SearchOutcome.outcome,
            func.max(SearchOutcome.missing),
            func.max(SearchOutcome.replaced_by),
            func.sum(SearchOutcome.searches),
            func.max(SearchOutcome.searchers),
        )
        .where(gaps, SearchOutcome.query_key.in_(shown))
        .group_by(SearchOutcome.query_key, SearchOutcome.outcome)
    )
    columns = ["start", "end", "query_key", "display", "outcome", "missing", "replaced_by", "searches", "searchers"]
    conflict = ["start", "end", "query_key", "outcome"]
    db.session.execute(
        dialect_insert(SearchGapRollup).from_select(columns, source).on_conflict_do_nothing(index_elements=conflict)
    )
    db.session.execute(
        dialect_insert(SearchGapRollup)
        .values(
            start=start, end=end, query_key=OVERFLOW_KEY, display="", outcome="", searches=0, searchers=min_searchers
        )
        .on_conflict_do_nothing(index_elements=conflict)
    )


def forget_old_windows(today: date, this_week: date) -> None:
    db.session.execute(delete(SearchGapRollup).where(SearchGapRollup.end < today))
    db.session.execute(delete(CaseReadRollup).where(CaseReadRollup.end < this_week))


def ensure_read_window(start: date, end: date) -> None:
    """Reads per case in the complete weeks [start, end), made unless there (its marker row)."""
    window = (CaseReadRollup.start == start) & (CaseReadRollup.end == end)
    if db.session.scalar(select(CaseReadRollup.id).where(window, CaseReadRollup.case_id == 0)) is not None:
        return
    source = (
        select(literal(start), literal(end), CaseReadWeek.case_id, func.sum(CaseReadWeek.reads))
        .where(CaseReadWeek.week >= start, CaseReadWeek.week < end)
        .group_by(CaseReadWeek.case_id)
    )
    conflict = ["start", "end", "case_id"]
    insert = dialect_insert(CaseReadRollup)
    db.session.execute(
        insert.from_select(["start", "end", "case_id", "reads"], source).on_conflict_do_nothing(index_elements=conflict)
    )
    db.session.execute(
        dialect_insert(CaseReadRollup)
        .values(start=start, end=end, case_id=0, reads=0)
        .on_conflict_do_nothing(index_elements=conflict)
    )


def _read_parts(first_week: date, this_week: date, end: date):
    complete_end = max(first_week, min(this_week, end))
    ensure_read_window(first_week, complete_end)
    rolled = select(CaseReadRollup.case_id, CaseReadRollup.reads).where(
        CaseReadRollup.start == first_week, CaseReadRollup.end == complete_end, CaseReadRollup.case_id != 0
    )
    live = select(CaseReadWeek.case_id, CaseReadWeek.reads).where(
        CaseReadWeek.week >= complete_end, CaseReadWeek.week < end
    )
    return union_all(rolled, live).subquery()


def read_rows(first_week: date, this_week: date, end: date):
    """Reads per case in the weeks from first_week up to end (exclusive), as one subquery
    (case_id, reads): the complete weeks' rollup, and this week's rows as they are."""
    both = _read_parts(first_week, this_week, end)
    return select(both.c.case_id, func.sum(both.c.reads).label("reads")).group_by(both.c.case_id).subquery()


def read_case_ids(first_week: date, this_week: date, end: date):
    """The cases read in those weeks (an id may come twice), ungrouped: enough for NOT IN."""
    return select(_read_parts(first_week, this_week, end).c.case_id)


def gap_rows(start: date, end: date, today: date, min_searchers: int):
    """The gap rows of [start, end) as one subquery (query_key, display, outcome, missing,
    replaced_by, searches, searchers): the window's rollup for its complete days, and
    today's rows as they are when the window reaches today."""
    complete_end = min(end, today)
    ensure_window(start, complete_end, min_searchers)
    parts = [
        select(
            SearchGapRollup.query_key,
            SearchGapRollup.display,
            SearchGapRollup.outcome,
            SearchGapRollup.missing,
            SearchGapRollup.replaced_by,
            SearchGapRollup.searches,
            SearchGapRollup.searchers,
        ).where(
            SearchGapRollup.start == start,
            SearchGapRollup.end == complete_end,
            SearchGapRollup.query_key != OVERFLOW_KEY,
        )
    ]
    if end > today:
        parts.append(
            select(
                SearchOutcome.query_key,
                SearchOutcome.display,
                SearchOutcome.outcome,
                SearchOutcome.missing,
                SearchOutcome.replaced_by,
                SearchOutcome.searches,
                SearchOutcome.searchers,
            ).where(
                SearchOutcome.period == "d",
                SearchOutcome.day == today,
                SearchOutcome.outcome.in_(GAP_OUTCOMES),
                SearchOutcome.query_key != OVERFLOW_KEY,
            )
        )
    return union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()


def day_totals(start: date, end: date, today: date) -> dict[date, tuple[int, int]]:
    """(searches, gaps) by day for [start, end): complete days from their totals, today live."""
    ensure_day_totals(today)
    totals = {
        day: (int(s), int(g))
        for day, s, g in db.session.execute(
            select(SearchDayTotal.day, SearchDayTotal.searches, SearchDayTotal.gaps).where(
                SearchDayTotal.day >= start, SearchDayTotal.day < min(end, today)
            )
        )
    }
    if end > today:
        row = db.session.execute(
            select(
                func.sum(SearchOutcome.searches),
                func.sum(case((SearchOutcome.outcome != "full", SearchOutcome.searches), else_=0)),
            ).where(SearchOutcome.period == "d", SearchOutcome.day == today)
        ).one()
        if row[0]:
            totals[today] = (int(row[0]), int(row[1]))
    return totals
