"""The tables of the insights pages, once: the page shows them (beside their charts) and
the CSV download writes them, so the two can't disagree. A download builds only the
table it is for."""

from __future__ import annotations

from collections.abc import Callable
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


@dataclass(frozen=True)
class View:
    """What a table is built from: the period, today, and whether it is the download
    (which lists every case not opened, where the page shows the first 100)."""

    period: Period
    today: date
    download: bool = False


Builder = Callable[[str, View], Table]


def _top_gaps(name: str, view: View) -> Table:
    top = gaps.top_gaps(view.period, limit=25)
    return Table(
        name,
        f"Top search gaps, last {view.period.days} days",
        ("Search", "Searches", "Found nothing", "Partial only", "Replaced", "Previous period", "Trend"),
        [(g.display, g.searches, g.nothing, g.partial, g.replaced, g.previous, g.trend) for g in top],
    )


def _missing(name: str, view: View) -> Table:
    rows = gaps.missing_words(view.period)
    return Table(name, "Words most often missing from partial matches", ("Word", "Searches"), list(rows))


def _replaced(name: str, view: View) -> Table:
    rows = gaps.replaced_words(view.period)
    return Table(name, "Searches replaced or corrected", ("Typed", "Shown instead", "Searches"), list(rows))


def _clicks(name: str, view: View) -> Table:
    clicks = gaps.clicks_after_partial(view.period)
    return Table(
        name,
        "Cases opened after a page of partial matches",
        ("Search", "Case opened", "Times"),
        [(c.query, c.case.title, c.clicks) for c in clicks],
    )


def _per_day(name: str, view: View) -> Table:
    return Table(
        name,
        f"Searches per day, last {view.period.days} days",
        ("Day", "Searches", "Gaps (nothing, partial or replaced)"),
        [(day.isoformat(), total, gap) for day, total, gap in gaps.searches_per_day(view.period)],
    )


def _reads(most: bool) -> Builder:
    def build(name: str, view: View) -> Table:
        found = use.most_read(view.period) if most else use.least_read(view.period)
        caption = "Most read cases" if most else "Least read published cases"
        return Table(
            name,
            f"{caption}, last {view.period.days} days",
            ("Case", "Reads"),
            [(c.title, n) for c, n in found],
            [c.slug for c, _ in found],
        )

    return build


def _not_opened(name: str, view: View) -> Table:
    stale = use.not_opened(view.today, limit=None if view.download else 100)
    shown = ", the first 100 shown" if stale.total > len(stale.cases) else ""
    return Table(
        name,
        f"Published cases not opened since {stale.since.isoformat()} ({stale.total}{shown})",
        ("Case", "Seat", "Review by"),
        [(c.title, c.seat, c.review_by.isoformat() if c.review_by else "not set") for c in stale.cases],
        [c.slug for c in stale.cases],
    )


def _useful(name: str, view: View) -> Table:
    useful = use.usefulness(view.period)
    return Table(
        name,
        f"Was this case useful? Last {view.period.days} days",
        ("Case", "Yes", "No", "Useful (%)"),
        [(u.case.title, u.yes, u.no, u.percent_useful) for u in useful],
        [u.case.slug for u in useful],
    )


def _comments(name: str, view: View) -> Table:
    comments = use.recent_comments(view.period)
    return Table(
        name,
        "Recent comments",
        ("Case", "Day", "Useful", "Role", "Seat", "Comment"),
        [
            (f.case.title, f.day.isoformat(), "Yes" if f.is_useful else "No", f.role, f.seat or "not given", f.comment)
            for f in comments
        ],
        [f.case.slug for f in comments],
    )


def _guides(name: str, view: View) -> Table:
    guides = use.in_guides()
    return Table(
        name,
        "Cases in facilitators' guides and handouts",
        ("Case", "Guides", "Handouts on"),
        [(c.title, g, h) for c, g, h in guides],
        [c.slug for c, _, _ in guides],
    )


PAGES: dict[str, dict[str, Builder]] = {
    "gaps": {"gaps": _top_gaps, "missing": _missing, "replaced": _replaced, "clicks": _clicks, "per-day": _per_day},
    "use": {
        "most-read": _reads(most=True),
        "least-read": _reads(most=False),
        "not-opened": _not_opened,
        "useful": _useful,
        "comments": _comments,
        "guides": _guides,
        "per-day": _per_day,
    },
}


def page_tables(page: str, period: Period, today: date) -> dict[str, Table]:
    """Every table of an insights page ("gaps" or "use"), in the page's order."""
    view = View(period, today)
    return {name: build(name, view) for name, build in PAGES[page].items()}


def download_table(page: str, name: str, period: Period, today: date) -> Table | None:
    """One table of a page, whole, for its CSV; None for a name the page has no table of."""
    build = PAGES[page].get(name)
    return build(name, View(period, today, download=True)) if build else None
