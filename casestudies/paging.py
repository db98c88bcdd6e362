"""Pages of results: Flask-SQLAlchemy's Pagination for database queries and for the search
index's ranked pages alike, so views and templates never do page arithmetic."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from casestudies.extensions import db


def paginate(query: Select[Any], page: int, per_page: int) -> Pagination:
    """The page asked for; a page past the end gives the last page (a link kept from a
    longer list still shows results)."""
    pagination = db.paginate(query, page=page, per_page=per_page, error_out=False, max_per_page=None)
    if pagination.page > pagination.pages > 0:
        pagination = db.paginate(query, page=pagination.pages, per_page=per_page, error_out=False, max_per_page=None)
    return pagination


class RankedPage(Pagination):
    """A page of items already ranked and cut by the search index, with its total."""

    def __init__(self, items: list[Any], *, total: int, page: int, per_page: int) -> None:
        self._given_items, self._given_total = items, total
        super().__init__(page=page, per_page=per_page, max_per_page=None, error_out=False)

    def _query_items(self) -> list[Any]:
        return self._given_items

    def _query_count(self) -> int:
        return self._given_total


def page_of(items: Sequence[Any], page: int, per_page: int) -> RankedPage:
    """A page of a sequence already in memory (a reading list's items, a collection's cards);
    a page past the end gives the last page, as `paginate` does."""
    last = max(1, -(-len(items) // per_page))
    page = min(max(page, 1), last)
    start = (page - 1) * per_page
    return RankedPage(list(items[start : start + per_page]), total=len(items), page=page, per_page=per_page)


def page_holding(index: int, per_page: int) -> int:
    """The page number on which the item at `index` (from 0) is shown."""
    return max(index, 0) // per_page + 1


def page_numbers(pagination: Pagination) -> list[int | None]:
    """The page numbers a pager shows (None for a gap): the first, the last and those
    around the current page."""
    return list(pagination.iter_pages(left_edge=1, left_current=2, right_current=2, right_edge=1))
