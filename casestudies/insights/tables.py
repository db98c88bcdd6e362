"""The tables of the insights pages, once: the page shows them (beside their charts) and
the CSV download writes them, so the two can't disagree."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from casestudies.insights import gaps
from casestudies.insights import library_use as use
from casestudies.insights.periods import Period


@dataclass(frozen=True)
class Table:
    name: str
    caption: str
    header: tuple[str, ...]
    rows: list[tuple[object, ...]]
    slugs: list[str] = field(default_factory=list)  # the case of each row, when rows are cases


def gaps_tables(period: Period) -> dict[str, Table]:
    top = gaps.top_gaps(period, limit=25)
    per_day = gaps.searches_per_day(period)
    return {
        "gaps": Table(
            "gaps",
            f"Top search gaps, last {period.days} days",
            ("Search", "Searches", "Found nothing", "Partial only", "Replaced", "Previous period", "Trend"),
            [(g.display, g.searches, g.nothing, g.partial, g.replaced, g.previous, g.trend) for g in top],
        ),
        "missing": Table(
            "missing",
            "Words most often missing from partial matches",
            ("Word", "Searches"),
            list(gaps.missing_words(period)),
        ),
        "replaced": Table(
            "replaced",
            "Searches replaced or corrected",
            ("Typed", "Shown instead", "Searches"),
            list(gaps.replaced_words(period)),
        ),
        "clicks": Table(
            "clicks",
            "Cases opened after a page of partial matches",
            ("Search", "Case opened", "Times"),
            [(c.query, c.case.title, c.clicks) for c in gaps.clicks_after_partial(period)],
        ),
        "per-day": Table(
            "per-day",
            f"Searches per day, last {period.days} days",
            ("Day", "Searches", "Gaps (nothing, partial or replaced)"),
            [(day.isoformat(), total, gap) for day, total, gap in per_day],
        ),
    }


def use_tables(period: Period, today: date) -> dict[str, Table]:
    stale = use.not_opened(today)
    most, least, useful = use.most_read(period), use.least_read(period), use.usefulness(period)
    comments, guides = use.recent_comments(period), use.in_guides()
    return {
        "most-read": Table(
            "most-read",
            f"Most read cases, last {period.days} days",
            ("Case", "Reads"),
            [(c.title, n) for c, n in most],
            [c.slug for c, _ in most],
        ),
        "least-read": Table(
            "least-read",
            f"Least read published cases, last {period.days} days",
            ("Case", "Reads"),
            [(c.title, n) for c, n in least],
            [c.slug for c, _ in least],
        ),
        "not-opened": Table(
            "not-opened",
            f"Published cases not opened since {stale.since.isoformat()} ({stale.total}"
            f"{', the first 100 shown' if stale.total > len(stale.cases) else ''})",
            ("Case", "Seat", "Review by"),
            [(c.title, c.seat, c.review_by.isoformat() if c.review_by else "not set") for c in stale.cases],
            [c.slug for c in stale.cases],
        ),
        "useful": Table(
            "useful",
            f"Was this case useful? Last {period.days} days",
            ("Case", "Yes", "No", "Useful (%)"),
            [(u.case.title, u.yes, u.no, u.percent_useful) for u in useful],
            [u.case.slug for u in useful],
        ),
        "comments": Table(
            "comments",
            "Recent comments",
            ("Case", "Day", "Useful", "Role", "Seat", "Comment"),
            [
                (
                    f.case.title,
                    f.day.isoformat(),
                    "Yes" if f.is_useful else "No",
                    f.role,
                    f.seat or "not given",
                    f.comment,
                )
                for f in comments
            ],
            [f.case.slug for f in comments],
        ),
        "guides": Table(
            "guides",
            "Cases in facilitators' guides and handouts",
            ("Case", "Guides", "Handouts on"),
            [(c.title, g, h) for c, g, h in guides],
            [c.slug for c, _, _ in guides],
        ),
        "per-day": Table(
            "per-day",
            f"Searches per day, last {period.days} days",
            ("Day", "Searches", "Gaps (nothing, partial or replaced)"),
            [(day.isoformat(), total, gap) for day, total, gap in gaps.searches_per_day(period)],
        ),
    }
