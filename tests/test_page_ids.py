"""No page repeats an id (the sign-out form's CSRF token once did, beside the page's own
form's): the Nu Html Checker's test runs with the slow tests, this one with the fast ones."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser

from .test_html_validity import every_page  # noqa: F401 - the fixture: every page type, CSRF on


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: Counter[str] = Counter()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value is not None:
                self.ids[value] += 1


def repeated_ids(html: str) -> list[str]:
    parser = _Ids()
    parser.feed(html)
    return sorted(name for name, count in parser.ids.items() if count > 1)


def test_no_page_repeats_an_id(every_page: dict[str, str]) -> None:  # noqa: F811
    repeated = {name: ids for name, html in every_page.items() if (ids := repeated_ids(html))}
    assert repeated == {}


def test_the_check_sees_a_repeated_id() -> None:
    assert repeated_ids('<form><input id="csrf_token"></form><form><input id="csrf_token"></form>') == ["csrf_token"]
