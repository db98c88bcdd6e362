"""Case services: the only code that changes cases, plus the queries the pages need.

Visibility is decided here (published only, unless the viewer may see unpublished
cases), so every list, page and search result applies the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, func, select
from sqlalchemy.orm import defer, selectinload

from casestudies.cases.vocab import LEADERSHIP_DIMENSIONS, STATUSES, Status
from casestudies.errors import NotFound
from casestudies.extensions import db
from casestudies.indexing import get_search_index
from casestudies.insights.vocabulary import sync_vocabulary
from casestudies.models import Case, Dimension, Tag, User, case_dimension, case_tag
from casestudies.paging import RankedPage, paginate
from search import SORTS, FacetCount, SearchRequest, SearchUnavailable

MAX_QUERY_CHARS = 200  # the search box's maxlength; a longer q is cut to this, with a message


class CaseNotFound(NotFound):
    pass


class SearchNotReady(RuntimeError):
    """This server's search index is not built yet (a new server builds it from the
    database at start-up) or cannot be read; the indexer rebuilds it meanwhile."""

    retry_after_s = 5
    message = "The search index is being built; results will appear in a moment."


# -- reading -------------------------------------------------------------------------------
def visible_statuses(viewer: User) -> tuple[str, ...]:
    return STATUSES if viewer.can_see_unpublished() else (Status.PUBLISHED.value,)


def get_case_for_viewer(slug: str, viewer: User) -> Case:
    """The case at slug if the viewer may see it; CaseNotFound otherwise (a 404, so that
    the existence of a draft is not revealed)."""
    case = db.session.scalar(
        select(Case)
        .where(Case.slug == slug)
        .options(selectinload(Case.tags), selectinload(Case.dimensions), selectinload(Case.questions))
    )
    if case is None or not viewer.can_view_case(case):
        raise CaseNotFound(slug)
    return case


@dataclass(frozen=True)
class LibraryFilters:
    seat: str | None = None
    setting: str | None = None
    dimension: str | None = None
    tag: str | None = None
    status: str | None = None  # only curators and admins see more than one status

    def as_args(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v}

    def without(self, name: str) -> dict[str, str]:
        args = self.as_args()
        args.pop(name, None)
        return args

    @property
    def is_empty(self) -> bool:
        return not self.as_args()


@dataclass(frozen=True)
class LibraryPage:
    pagination: Pagination  # of Case rows
    facets: dict[str, list[FacetCount]] = field(default_factory=dict)

    @property
    def cases(self) -> list[Case]:
        return self.pagination.items

    @property
    def total(self) -> int:
        return self.pagination.total or 0


def _filtered(statuses: tuple[str, ...], filters: LibraryFilters, skip: str | None = None) -> Select:
    query = select(Case.id).where(Case.status.in_(statuses), ~Case.is_deleted)
    if filters.seat and skip != "seat":
        query = query.where(func.lower(Case.seat) == filters.seat.casefold())
    if filters.setting and skip != "setting":
        query = query.where(func.lower(Case.setting) == filters.setting.casefold())
    if filters.dimension and skip != "dimension":
        query = query.where(
            Case.id.in_(
                select(case_dimension.c.case_id)
                .join(Dimension, Dimension.id == case_dimension.c.dimension_id)
                .where(Dimension.name == filters.dimension)
            )
        )
    if filters.status and skip != "status":
        query = query.where(Case.status == filters.status.casefold())
    if filters.tag and skip != "tag":
        query = query.where(
            Case.id.in_(
                select(case_tag.c.case_id)
                .join(Tag, Tag.id == case_tag.c.tag_id)
                .where(Tag.key == filters.tag.casefold())
            )
        )
    return query


def _facet_counts(statuses: tuple[str, ...], filters: LibraryFilters) -> dict[str, list[FacetCount]]:
    """Counts per facet value among the cases matching every *other* selected filter,
    so choosing a seat still shows the other seats one could switch to."""
    facets: dict[str, list[FacetCount]] = {}

    def rows(name: str, column, join_query=None) -> list[FacetCount]:
        ids = _filtered(statuses, filters, skip=name).subquery()
        query = join_query if join_query is not None else select(column, func.count()).select_from(Case)
        query = query.where(Case.id.in_(select(ids.c.id))).group_by(column).order_by(func.count().desc(), column)
        selected = getattr(filters, name)
        return [
            FacetCount(value, count, selected is not None and value.casefold() == selected.casefold())
            for value, count in db.session.execute(query)
            if value
        ]

    facets["seat"] = rows("seat", Case.seat)
    facets["setting"] = rows("setting", Case.setting)
    dimension_rows = rows(
        "dimension",
        Dimension.name,
        select(Dimension.name, func.count()).select_from(Case).join(case_dimension).join(Dimension),
    )
    order = {name: i for i, name in enumerate(LEADERSHIP_DIMENSIONS)}
    facets["dimension"] = sorted(dimension_rows, key=lambda f: order.get(f.value, 99))
    facets["tag"] = rows("tag", Tag.name, select(Tag.name, func.count()).select_from(Case).join(case_tag).join(Tag))
    facets["status"] = rows("status", Case.status)
    return facets


def list_library(viewer: User, filters: LibraryFilters, page: int = 1, per_page: int = 10) -> LibraryPage:
    statuses = visible_statuses(viewer)
    ids = _filtered(statuses, filters).subquery()
    query = (
        select(Case)
        .where(Case.id.in_(select(ids.c.id)))
        .options(selectinload(Case.tags), selectinload(Case.dimensions))
        .order_by(func.lower(Case.title), Case.id)  # A to Z whatever the capitals
    )
    return LibraryPage(paginate(query, page, per_page), _facet_counts(statuses, filters))


def browse_values() -> dict[str, list[tuple[str, int]]]:
    """Seats, settings and dimensions of published cases with counts, for the home page."""
    published = Case.is_published
    seats = db.session.execute(
        select(Case.seat, func.count()).where(published).group_by(Case.seat).order_by(Case.seat)
    ).all()
    settings = db.session.execute(
        select(Case.setting, func.count())
        .where(published, Case.setting.is_not(None))
        .group_by(Case.setting)
        .order_by(Case.setting)
    ).all()
    counts = dict(
        db.session.execute(
            select(Dimension.name, func.count())
            .select_from(Case)
            .join(case_dimension)
            .join(Dimension)
            .where(published)
            .group_by(Dimension.name)
        ).all()
    )
    return {
        "seat": [(s, n) for s, n in seats],
        "setting": [(s, n) for s, n in settings],
        "dimension": [(d, counts.get(d, 0)) for d in LEADERSHIP_DIMENSIONS],
    }


@dataclass(frozen=True)
class TagName:
    name: str


@dataclass(frozen=True)
class CaseListing:
    """What a list of results shows of a case (no body, questions or revisions): read in
    one query, without the ORM's per-object bookkeeping, which cost more than the query."""

    id: int
    slug: str
    title: str
    summary: str
    seat: str
    setting: str | None
    status: str
    tags: tuple[TagName, ...]

    @property
    def is_published(self) -> bool:
        return self.status == Status.PUBLISHED.value  # the query keeps live cases only


@dataclass(frozen=True)
class SearchResultItem:
    case: CaseListing
    snippet: str
    missing: tuple[str, ...] = ()  # words of the query this case lacks (it matches only some)


@dataclass(frozen=True)
class SearchResults:
    query: str
    pagination: RankedPage  # of SearchResultItems
    facets: dict[str, list[FacetCount]]
    corrected_query: str | None
    suggestion: str | None
    sort: str
    all_words_total: int = 0  # of total, the cases with every word of the query
    unmatched: tuple[str, ...] = ()  # words typed that no case the viewer may see mentions
    related: tuple[str, ...] = ()  # related terms searched for in their place (the thesaurus)

    @property
    def has_partial_matches(self) -> bool:
        return self.total > self.all_words_total

    @property
    def items(self) -> list[SearchResultItem]:
        return self.pagination.items

    @property
    def total(self) -> int:
        return self.pagination.total or 0


def search_cases(
    viewer: User,
    text: str,
    *,
    filters: LibraryFilters | None = None,
    sort: str = "relevance",
    page: int = 1,
    per_page: int = 10,
    exact: bool = False,
) -> SearchResults:
    """The index ranks and counts; the database supplies the rows and has the last word on
    visibility (a row the viewer may not see is dropped even if the index still lists it)."""
    statuses = visible_statuses(viewer)
    sort = sort if sort in SORTS else "relevance"
    request = SearchRequest(
        text=text,
        statuses=statuses,
        filters=(filters or LibraryFilters()).as_args(),
        sort=sort,
        page=page,
        per_page=per_page,
        exact=exact,
    )
    index = get_search_index()
    sync_vocabulary(index)  # curators' synonyms and concepts, as the database has them now
    try:
        result = index.search(request)
        if result.page > result.pages:
            # A page past the end (a link kept from a longer list) shows the last page.
            result = index.search(replace(request, page=result.pages))
    except SearchUnavailable as exc:
        raise SearchNotReady(str(exc)) from exc
    rows = _visible_listings([hit.id for hit in result.hits], statuses)
    items = [SearchResultItem(rows[hit.id], hit.snippet, hit.missing) for hit in result.hits if hit.id in rows]
    pagination = RankedPage(items, total=result.total, page=result.page, per_page=per_page)
    return SearchResults(
        text,
        pagination,
        result.facets,
        result.corrected_query,
        result.suggestion,
        sort,
        result.all_words_total,
        result.unmatched,
        result.related,
    )


def _visible_rows(ids: list[int], statuses: tuple[str, ...]) -> dict[int, Case]:
    query = (
        select(Case)
        .where(Case.id.in_(ids), Case.status.in_(statuses), ~Case.is_deleted)
        # A list shows no body: it is most of a case's size (up to megabytes).
        .options(selectinload(Case.tags), defer(Case.body))
    )
    return {case.id: case for case in db.session.scalars(query)}


_LISTING_COLUMNS = (Case.id, Case.slug, Case.title, Case.summary, Case.seat, Case.setting, Case.status)


def _visible_listings(ids: list[int], statuses: tuple[str, ...]) -> dict[int, CaseListing]:
    """The visible cases among ids, with their tags, in one query (a row per tag)."""
    if not ids:
        return {}
    query = (
        select(*_LISTING_COLUMNS, Tag.name)
        .outerjoin(case_tag, case_tag.c.case_id == Case.id)
        .outerjoin(Tag, Tag.id == case_tag.c.tag_id)
        .where(Case.id.in_(ids), Case.status.in_(statuses), ~Case.is_deleted)
        .order_by(Case.id, Tag.key)
    )
    columns: dict[int, tuple] = {}
    tags: dict[int, list[TagName]] = {}
    for *row, tag in db.session.execute(query).tuples():
        columns.setdefault(row[0], tuple(row))
        found = tags.setdefault(row[0], [])
        if tag is not None:
            found.append(TagName(tag))
    return {case_id: CaseListing(*row, tags=tuple(tags[case_id])) for case_id, row in columns.items()}


def related_cases(case: Case, viewer: User, limit: int = 5) -> list[Case]:
    """Up to `limit` visible cases most like this one, most alike first."""
    statuses = visible_statuses(viewer)
    try:
        hits = get_search_index().more_like(case.id, statuses, limit)
    except SearchUnavailable:
        return []  # the case page stays usable while this server's index is being built
    rows = _visible_rows([hit.id for hit in hits], statuses)
    return [rows[hit.id] for hit in hits if hit.id in rows]
