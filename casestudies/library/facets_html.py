"""The search page's filters as HTML, built in Python: the same HTML as
templates/library/_facets.html (tests/test_search_page_cost.py compares the two), which the
library page still uses. A results page lists up to a hundred facet values; through Jinja
each cost a loop turn, several escapes and a filter call, about a tenth of the page."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from jinja2.utils import url_quote
from markupsafe import Markup, escape

from search import FacetCount

LABELS = {
    "seat": "Seat",
    "setting": "Care setting",
    "dimension": "Leadership dimension",
    "tag": "Tag",
    "status": "Status",
}
ORDER = ("status", "seat", "setting", "dimension", "tag")
HEAD = (
    '<details class="nhsuk-details app-facets">\n'
    '  <summary class="nhsuk-details__summary">\n'
    '    <span class="nhsuk-details__summary-text">Filter results</span>\n'
    "  </summary>\n"
    '  <div class="nhsuk-details__text">\n'
    '    <nav aria-label="Filter results" class="app-facets__groups">'
)
TAIL = "\n    </nav>\n  </div>\n</details>\n"


def facets_html(
    facets: Mapping[str, Sequence[FacetCount]],
    filters,  # LibraryFilters
    keep: Mapping[str, str],
    url_with: Callable[[dict[str, str]], str],
    show_status: bool,
) -> Markup:
    """`facets` (name -> counts of values the reader may see), `filters` (the chosen ones),
    `keep` (the other arguments a link carries: q, sort), `url_with` (the page's address with
    those arguments), `show_status` (curators and admins filter by status)."""
    shown = [name for name in ORDER if facets.get(name) and (name != "status" or show_status)]
    if not shown:
        return Markup()
    parts = [HEAD]
    for name in shown:
        others = escape(url_with(dict(keep, **filters.without(name))))
        joiner = "&amp;" if "?" in others else "?"
        prefix = f"{others}{joiner}{url_quote(name, for_qs=True)}="
        parts.append(
            '\n        <div class="app-facets__group">\n'
            f'          <h2 class="nhsuk-heading-xs nhsuk-u-margin-bottom-1">{LABELS[name]}</h2>\n'
            '          <ul class="nhsuk-list app-facet-list">'
        )
        for item in facets[name]:
            value = escape(item.value)
            count = f'<span class="app-facet-list__count">({item.count})</span>'
            if item.is_selected:
                link = (
                    f'<a href="{others}" aria-current="true" class="app-facet--selected">'
                    f'<span class="nhsuk-u-visually-hidden">Remove filter: </span>{value} {count}</a>'
                )
            else:
                link = f'<a href="{prefix}{escape(url_quote(item.value, for_qs=True))}">{value} {count}</a>'
            parts.append(f'\n            <li class="app-facet-list__item">{link}</li>')
        parts.append("\n          </ul>\n        </div>")
    parts.append(TAIL)
    return Markup("".join(parts))  # noqa: S704  # nosec B704 - every value and address escaped above
