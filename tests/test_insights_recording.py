"""Insights: counting searches and reads without naming anyone (casestudies/insights/recording.py)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import func, select

from casestudies.extensions import db
from casestudies.insights.recording import Outcome, query_key, record_click, record_read, record_search
from casestudies.models import CaseReadWeek, ReadSeen, SearchClick, SearchOutcome

from .conftest import ensure_user

DAY = date(2026, 3, 4)


def _rows() -> list[SearchOutcome]:
    return list(db.session.scalars(select(SearchOutcome).order_by(SearchOutcome.id)))


def test_a_query_is_grouped_by_its_stemmed_words_and_counted_by_distinct_searcher(app) -> None:
    one, two = ensure_user("learner"), ensure_user("facilitator")
    record_search(one, "Bullying at work", Outcome("none"), DAY)
    record_search(one, "bullying  AT work", Outcome("none"), DAY)
    record_search(two, "work bullying", Outcome("none"), DAY)
    [row] = _rows()
    assert (row.query_key, row.display) == (query_key("bullying work"), "bullying at work")
    assert (row.searches, row.searchers) == (3, 2)
    # Another day is another row, and the same person counts again there.
    record_search(one, "bullying at work", Outcome("none"), date(2026, 3, 5))
    assert [(r.day, r.searches, r.searchers) for r in _rows()][1] == (date(2026, 3, 5), 1, 1)


def test_the_stored_digest_names_nobody_and_differs_between_queries(app) -> None:
    user = ensure_user("learner")
    record_search(user, "bullying", Outcome("none"), DAY)
    record_search(user, "rota", Outcome("none"), DAY)
    first, second = _rows()
    # One keyed digest each, not the user's id or email; another query, another digest.
    assert re.fullmatch(r";[0-9a-f]{8}", first.seen or "") and re.fullmatch(r";[0-9a-f]{8}", second.seen or "")
    assert first.seen != second.seen


def test_outcomes_are_kept_apart_with_the_missing_and_replacing_words(app) -> None:
    user = ensure_user("learner")
    record_search(user, "rota bullying", Outcome("partial", missing=("bullying",)), DAY)
    record_search(user, "bulding", Outcome("replaced", replaced_by="building"), DAY)
    record_search(user, "rota", Outcome("full"), DAY)
    assert [(r.outcome, r.missing, r.replaced_by) for r in _rows()] == [
        ("partial", "bullying", ""),
        ("replaced", "", "building"),
        ("full", "", ""),
    ]


def test_curators_and_admins_are_not_counted(app) -> None:
    for role in ("curator", "admin"):
        record_search(ensure_user(role), "bullying", Outcome("none"), DAY)
        record_read(ensure_user(role), 1, DAY)
    assert _rows() == [] and db.session.scalar(select(func.count()).select_from(CaseReadWeek)) == 0


def test_a_day_keeps_at_most_the_configured_number_of_queries(app) -> None:
    app.config["INSIGHTS_MAX_QUERIES_PER_DAY"] = 3
    user = ensure_user("learner")
    for word in ("alpha", "bravo", "charlie", "delta", "echo", "alpha"):
        record_search(user, word, Outcome("none"), DAY)
    rows = _rows()
    assert [(r.display, r.searches) for r in rows] == [
        ("alpha", 2),  # an existing query still counts past the limit
        ("bravo", 1),
        ("charlie", 1),
        ("(other searches, past the day's limit of different queries)", 2),
    ]
    record_search(user, "foxtrot", Outcome("none"), date(2026, 3, 5))  # a new day starts again
    assert _rows()[-1].display == "foxtrot"


def test_a_read_counts_once_per_reader_per_day(app, make_case) -> None:
    case = make_case()
    one, two = ensure_user("learner"), ensure_user("facilitator")
    for _ in range(3):
        record_read(one, case.id, DAY)
    record_read(two, case.id, DAY)
    record_read(one, case.id, date(2026, 3, 5))  # the same week, another day
    [week] = db.session.scalars(select(CaseReadWeek))
    assert (week.case_id, week.week, week.reads) == (case.id, date(2026, 3, 2), 3)
    digests = list(db.session.scalars(select(ReadSeen.digest)))
    assert len(digests) == 3 and all(str(one.id) != d and one.email not in d for d in digests)


def test_a_click_counts_only_for_a_query_with_partial_matches_that_day(app, make_case) -> None:
    case = make_case()
    user = ensure_user("learner")
    record_click(user, "rota bullying", case.id, DAY)
    assert db.session.scalar(select(func.count()).select_from(SearchClick)) == 0
    record_search(user, "rota bullying", Outcome("partial", missing=("bullying",)), DAY)
    record_click(user, "Bullying rota", case.id, DAY)
    record_click(user, "rota bullying", case.id, DAY)
    [click] = db.session.scalars(select(SearchClick))
    assert (click.query_key, click.clicks) == (query_key("rota bullying"), 2)


def test_aggregate_forgets_past_digests_and_merges_old_days_into_months(app, runner) -> None:
    one, two = ensure_user("learner"), ensure_user("facilitator")
    for day, who in ((date(2026, 1, 5), one), (date(2026, 1, 5), two), (date(2026, 1, 20), one)):
        record_search(who, "bullying", Outcome("none"), day)
    record_search(one, "bullying", Outcome("none"), date(2026, 2, 1))
    record_search(one, "bullying", Outcome("none"), date(2026, 5, 1))  # within INSIGHTS_RAW_DAYS
    from casestudies.insights.retention import aggregate

    done = aggregate(on=date(2026, 5, 20))
    db.session.commit()
    rows = [(r.period, r.day, r.searches, r.searchers, r.seen) for r in _rows()]
    assert sorted(rows) == [
        ("d", date(2026, 5, 1), 1, 1, None),  # kept as a day; its digest forgotten
        ("m", date(2026, 1, 1), 3, 2, None),  # 2 people on 5 January: the most on one day
        ("m", date(2026, 2, 1), 1, 1, None),
    ]
    assert (done.daily_rows_merged, done.monthly_rows) == (3, 2)
    # Run again later: what is left of a month adds to its monthly row.
    record_search(two, "bullying", Outcome("none"), date(2026, 2, 2))
    aggregate(on=date(2026, 5, 20))
    assert sorted((r.period, r.day, r.searches) for r in _rows())[1:] == [
        ("m", date(2026, 1, 1), 3),
        ("m", date(2026, 2, 1), 2),
    ]
    result = runner.invoke(args=["insights", "aggregate"])
    assert result.exit_code == 0 and "digests cleared" in result.output


def test_days_merged_into_months_keep_their_totals_and_the_gap_windows_follow_the_threshold(app) -> None:
    from casestudies.insights import gaps
    from casestudies.insights.periods import Period
    from casestudies.insights.retention import aggregate

    on = date(2026, 12, 1)
    old = on - timedelta(days=200)
    one, two = ensure_user("learner"), ensure_user("facilitator")
    record_search(one, "bullying", Outcome("none"), old)
    record_search(two, "bullying", Outcome("none"), old)
    record_search(one, "rota", Outcome("full"), old)
    record_search(one, "nights", Outcome("none"), on - timedelta(days=3))
    aggregate(on=on)
    db.session.commit()
    assert not any(r.period == "d" and r.day == old for r in _rows())  # merged into its month
    year = Period.last(365, on)
    per_day = dict((day, (n, g)) for day, n, g in gaps.searches_per_day(year))
    assert per_day[old] == (3, 2)
    assert [g.display for g in gaps.top_gaps(year)] == ["bullying"]  # "nights": one person
    app.config["GAP_MIN_SEARCHERS"] = 1  # the window is made again under the new threshold
    assert [g.display for g in gaps.top_gaps(year)] == ["bullying", "nights"]
