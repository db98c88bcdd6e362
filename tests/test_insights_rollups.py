"""The Library use page's reads come from a rollup of complete weeks and this week's rows:
its tables and charts must say what a year of weekly rows says, before and after
`flask insights aggregate`, and this week's reads count at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from casestudies.extensions import db
from casestudies.insights import library_use
from casestudies.insights.periods import PERIOD_DAYS, Period
from casestudies.insights.recording import record_read, today, week_of
from casestudies.insights.retention import aggregate
from casestudies.models import CaseReadRollup, CaseReadWeek

from .conftest import ensure_user
from .test_insights_pages import _svg_figures, _table_figures


def _year_of_reads(cases) -> None:
    """Reads in many weeks of the last year and a half, different per case."""
    this_week = week_of(today())
    rows = [
        {"case_id": case.id, "week": this_week - timedelta(weeks=back), "reads": 1 + (n * 7 + back) % 5}
        for n, case in enumerate(cases)
        for back in range(0, 80, n + 1)
    ]
    db.session.execute(insert(CaseReadWeek), rows)
    db.session.commit()


def _expected(period: Period) -> dict[int, int]:
    """Reads per case straight from the weekly rows: the weeks that overlap the period."""
    return dict(
        db.session.execute(
            select(CaseReadWeek.case_id, func.sum(CaseReadWeek.reads))
            .where(CaseReadWeek.week >= week_of(period.start), CaseReadWeek.week < period.end)
            .group_by(CaseReadWeek.case_id)
        ).all()
    )


@pytest.mark.parametrize("aggregated", [False, True], ids=["made-by-the-page", "made-by-aggregate"])
def test_reads_from_the_rollup_match_the_weekly_rows_for_every_period(app, make_case, aggregated) -> None:
    cases = [make_case(title=f"Case {n}", slug=f"case-{n}") for n in range(6)]
    _year_of_reads(cases)
    if aggregated:
        aggregate(on=today())
        db.session.commit()
        assert db.session.scalar(select(func.count()).where(CaseReadRollup.case_id == 0)) >= len(PERIOD_DAYS)
    for days in PERIOD_DAYS:
        period = Period.last(days, today())
        expected = _expected(period)
        most = {case.id: n for case, n in library_use.most_read(period)}
        assert most == expected, days
        least = {case.id: n for case, n in library_use.least_read(period)}
        assert least == {case.id: expected.get(case.id, 0) for case in cases}, days
    # A read this week counts at once, although the complete weeks come from the rollup.
    reader = ensure_user("learner")
    record_read(reader, cases[5].id)
    db.session.commit()
    year = Period.last(365, today())
    assert dict((c.id, n) for c, n in library_use.most_read(year))[cases[5].id] == _expected(year)[cases[5].id]


def test_cases_not_opened_come_from_the_rollup_and_this_weeks_reads(app, make_case) -> None:
    opened_long_ago, opened_lately, never = (
        make_case(title="Old", slug="old"),
        make_case(title="Lately", slug="lately"),
        make_case(title="Never", slug="never"),
    )
    this_week = week_of(today())
    db.session.execute(
        insert(CaseReadWeek),
        [
            {"case_id": opened_long_ago.id, "week": this_week - timedelta(weeks=30), "reads": 3},
            {"case_id": opened_lately.id, "week": this_week - timedelta(weeks=2), "reads": 1},
        ],
    )
    db.session.commit()
    stale = library_use.not_opened(today())
    assert {c.title for c in stale.cases} == {"Old", "Never"} and stale.total == 2
    record_read(ensure_user("learner"), never.id)  # this week: not in any complete week's rollup
    db.session.commit()
    assert [c.title for c in library_use.not_opened(today()).cases] == ["Old"]


def test_the_use_pages_charts_and_tables_match_the_rows_for_a_year(app, login, make_case) -> None:
    cases = [make_case(title=f"Case {n}", slug=f"case-{n}") for n in range(5)]
    _year_of_reads(cases)
    curator = login("curator")
    for days in (90, 365):
        page = curator.get(f"/insights/use?days={days}").get_data(as_text=True)
        expected = _expected(Period.last(days, today()))
        by_title = {case.title: expected[case.id] for case in cases}
        table = _table_figures(page, "most-read")
        assert _svg_figures(page, "chart-most-read") == table
        assert dict(table) == by_title and [n for _, n in table] == sorted(by_title.values(), reverse=True)


def test_day_totals_are_made_by_the_page_when_missing_and_by_aggregate_for_every_day(app) -> None:
    from casestudies.insights import gaps
    from casestudies.insights.recording import Outcome, record_search

    reader = ensure_user("learner")
    day = today()
    for back, text in ((1, "rota"), (3, "rota"), (3, "nights")):
        record_search(reader, text, Outcome("none"), day - timedelta(days=back))
    db.session.commit()
    week = Period.last(7, day)
    per_day = {d: (n, g) for d, n, g in gaps.searches_per_day(week)}
    assert per_day[day - timedelta(days=1)] == (1, 1) and per_day[day - timedelta(days=3)] == (2, 2)
    # A day written after the totals (only a backdated write can): the page keeps to its
    # two lookups, the daily aggregate looks at every day.
    record_search(reader, "rota", Outcome("full"), day - timedelta(days=5))
    db.session.commit()
    assert {d: n for d, n, _ in gaps.searches_per_day(week)}[day - timedelta(days=5)] == 0
    aggregate(on=day)
    assert {d: n for d, n, _ in gaps.searches_per_day(week)}[day - timedelta(days=5)] == 1
