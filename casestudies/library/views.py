"""The library: home, browsing with filters, a case page, search and the synonym list."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlencode

from flask import Blueprint, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from casestudies.cases.revisions import teaching_notes_data
from casestudies.guides.pdf import pdf_download
from casestudies.indexing import synonym_groups
from casestudies.insights.actions import all_terms, promoted_cases
from casestudies.insights.recording import record_click, record_read, record_search_page
from casestudies.insights.usefulness import seat_choices
from casestudies.learning.collections import home_sections
from casestudies.library.facets_html import facets_html
from casestudies.library.services import (
    MAX_QUERY_CHARS,
    LibraryFilters,
    SearchNotReady,
    browse_values,
    get_case_for_viewer,
    list_library,
    related_cases,
    search_cases,
)
from casestudies.markdown import render_markdown
from casestudies.models import Case, Role
from casestudies.params import parse_page
from casestudies.policy import requires

bp = Blueprint("library", __name__)
# What Werkzeug leaves unquoted in a path segment and in a query string (its converters and _urlencode).
URL_PATH_SAFE = "!$&'()*+,/:;=@"
URL_QUERY_SAFE = "!$'()*,/:;?@"


@bp.app_context_processor
def _library_helpers() -> dict[str, Any]:
    return {"tag_href": _tag_href, "case_href": _case_href, "plain_href": _plain_href, "facets_html": facets_html}


def _tag_href(name: str) -> str:
    """The library filtered by a tag, as url_for("library.cases", tag=name) spells it: a
    results page links about forty tags, and building each through the URL map cost more
    than the rest of a result's HTML."""
    return _tag_address(request.script_root, name)


@lru_cache(maxsize=4096)
def _tag_address(script_root: str, name: str) -> str:
    return f"{script_root}/cases?" + urlencode({"tag": name}, safe=URL_QUERY_SAFE)


def _case_href(slug: str, from_search: str | None = None) -> str:
    """A case's page, as url_for("library.case", slug=slug, from_search=from_search)
    spells it (from_search left out when empty): one per result on a page."""
    address = _case_address(request.script_root, slug)
    return f"{address}?" + urlencode({"from_search": from_search}, safe=URL_QUERY_SAFE) if from_search else address


@lru_cache(maxsize=4096)
def _case_address(script_root: str, slug: str) -> str:
    return f"{script_root}/cases/" + quote(slug, safe=URL_PATH_SAFE)


def _plain_href(endpoint: str) -> str:
    """url_for(endpoint) for a route without arguments (a Save form's action on each
    result), built through the URL map once per script root."""
    return _plain_address(request.script_root, endpoint)


@lru_cache(maxsize=256)
def _plain_address(script_root: str, endpoint: str) -> str:
    return url_for(endpoint)


def _page_arg() -> int:
    return parse_page(request.args.get("page"))


def _text_arg(name: str, limit: int = 200) -> str | None:
    value = request.args.get(name, "").strip()
    return value[:limit] or None


@bp.get("/")
@requires(Role.LEARNER)
def home() -> str:
    return render_template(
        "library/home.html",
        browse=browse_values(),
        sections=home_sections(),
        max_query_chars=MAX_QUERY_CHARS,
        md=render_markdown,
    )


def _filters() -> LibraryFilters:
    return LibraryFilters(
        seat=_text_arg("seat"),
        setting=_text_arg("setting"),
        dimension=_text_arg("dimension"),
        tag=_text_arg("tag"),
        status=_text_arg("status", 20),
    )


@bp.get("/cases")
@requires(Role.LEARNER)
def cases() -> str:
    filters = _filters()
    result = list_library(current_user, filters, _page_arg(), current_app.config["CASES_PER_PAGE"])
    return render_template("library/cases.html", result=result, filters=filters)


@bp.get("/cases/<slug>")
@requires(Role.LEARNER)
def case(slug: str) -> str:
    found = get_case_for_viewer(slug, current_user)
    record_read(current_user, found.id)
    if request.args.get("from_search"):  # opened from a page of partial matches
        record_click(current_user, request.args["from_search"][:MAX_QUERY_CHARS], found.id)
    return render_template(
        "library/case.html",
        case=found,
        feedback_seats=seat_choices(),
        body_html=render_markdown(found.body),
        related=related_cases(found, current_user),
        # Teaching notes: facilitators and above only, decided here, not in the template.
        teaching_notes=teaching_notes_data(found.teaching_note) if current_user.can_see_facilitator_notes() else None,
        md=render_markdown,
    )


@bp.app_errorhandler(SearchNotReady)
def _search_not_ready(error: SearchNotReady) -> ResponseReturnValue:
    """Any page that needs this server's index (an export of search results) while the
    indexer is still building it: a 503 the browser or a load balancer may retry."""
    page = render_template("error.html", code=503, title="Search is not ready yet", message=error.message)
    return page, 503, {"Retry-After": str(error.retry_after_s)}


def _case_print_html(slug: str, *, for_pdf: bool) -> tuple[Case, str, bool]:
    """One case for paper: its text and questions; for facilitators and above, a facilitator
    edition with the questions' notes and minutes and the case's teaching notes."""
    found = get_case_for_viewer(slug, current_user)
    is_facilitator = current_user.can_see_facilitator_notes()
    html = render_template(
        "library/case_print.html",
        case=found,
        body_html=render_markdown(found.body),
        for_pdf=for_pdf,
        is_facilitator=is_facilitator,
        teaching_notes=teaching_notes_data(found.teaching_note) if is_facilitator else None,
        md=render_markdown,
        academy=current_app.config["ACADEMY_NAME"],
    )
    return found, html, is_facilitator


@bp.get("/cases/<slug>/print")
@requires(Role.LEARNER)
def case_print(slug: str) -> str:
    return _case_print_html(slug, for_pdf=False)[1]


@bp.get("/cases/<slug>/pdf")
@requires(Role.LEARNER)
def case_pdf(slug: str):
    found, html, is_facilitator = _case_print_html(slug, for_pdf=True)
    return pdf_download(html, f"{found.slug}-facilitator-edition.pdf" if is_facilitator else f"{found.slug}.pdf")


@bp.get("/search")
@requires(Role.LEARNER)
def search() -> ResponseReturnValue:
    query = (request.args.get("q") or "").strip()
    cut = len(query) > MAX_QUERY_CHARS  # the box allows no more; a longer q is cut, and the page says so
    query = query[:MAX_QUERY_CHARS].strip()
    filters = _filters()
    sort = request.args.get("sort", "relevance")
    if not query and filters.is_empty:
        return render_template(
            "library/search.html",
            query="",
            results=None,
            filters=filters,
            sort="relevance",
            cut=cut,
            max_query_chars=MAX_QUERY_CHARS,
        )
    try:
        results = search_cases(
            current_user,
            query,
            filters=filters,
            sort=sort,
            page=_page_arg(),
            per_page=current_app.config["CASES_PER_PAGE"],
            exact=request.args.get("exact") == "1",
        )
    except SearchNotReady as error:
        # The search page as usual, its form included, saying why there are no results.
        page = render_template(
            "library/search.html",
            query=query,
            results=None,
            not_ready=error.message,
            filters=filters,
            sort="relevance",
            cut=cut,
            max_query_chars=MAX_QUERY_CHARS,
        )
        return page, 503, {"Retry-After": str(error.retry_after_s)}
    record_search_page(current_user, results)
    return render_template(
        "library/search.html",
        query=query,
        results=results,
        promoted=promoted_cases(current_user, query) if results.pagination.page == 1 else [],
        filters=filters,
        sort=results.sort,
        cut=cut,
        max_query_chars=MAX_QUERY_CHARS,
    )


@bp.get("/search/synonyms")
@requires(Role.CURATOR)
def synonyms() -> str:
    return render_template("library/synonyms.html", groups=synonym_groups(), terms=all_terms())
