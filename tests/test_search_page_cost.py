"""What the search page keeps while it costs less: facet and tag links that lead where they
did, result rows read in one query with the same visibility, and Save forms that share the
page's one CSRF token and still need it."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask, url_for

from casestudies.cases.revisions import save_case_data
from casestudies.extensions import db
from casestudies.indexing import catch_up
from casestudies.library.services import search_cases
from casestudies.library.views import _case_href, _plain_href, _tag_href
from casestudies.models import Case, ReadingListItem, utcnow

from .conftest import PASSWORD, case_data, ensure_user

FACET_LINK = re.compile(r'<li class="app-facet-list__item"><a href="([^"]+)"( aria-current="true")?')
TAG_LINK = re.compile(r'<a class="app-tag-link" href="([^"]+)">([^<]+)</a>')


def _query(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(unescape(href)).query)


@pytest.mark.parametrize("name", ["flow", "peer support", "A&E", "café/bar", "100% + more?"])
def test_a_tag_link_is_the_address_url_for_builds(app: Flask, name: str) -> None:
    with app.test_request_context("/search?q=x"):
        built = url_for("library.cases", tag=name)
        assert _tag_href(name) == built
        assert _query(built) == {"tag": [name]}


def test_facet_links_add_their_value_to_the_search_and_keep_the_rest(app: Flask, make_case, login) -> None:
    make_case(slug="one", title="Porter lounge", seat="Porter", tags=("flow", "A&E waits"))
    make_case(slug="two", title="Nurse lounge", seat="Staff nurse", tags=("flow",))
    client = login("learner")
    page = client.get("/search?q=lounge&sort=title").get_data(as_text=True)
    links = FACET_LINK.findall(page)
    assert links and not any(current for _, current in links)
    queries = [_query(href) for href, _ in links]
    assert {"q": ["lounge"], "sort": ["title"], "seat": ["Porter"]} in queries
    assert {"q": ["lounge"], "sort": ["title"], "tag": ["A&E waits"]} in queries
    assert all(urlsplit(unescape(href)).path == "/search" for href, _ in links)
    # Following one filters the results, marks that value chosen, and its link removes it.
    href = next(href for href, _ in links if _query(href).get("tag") == ["A&E waits"])
    filtered = client.get(unescape(href)).get_data(as_text=True)
    assert "Porter lounge" in filtered and "Nurse lounge" not in filtered
    chosen = [href for href, current in FACET_LINK.findall(filtered) if current]
    assert [_query(href) for href in chosen] == [{"q": ["lounge"], "sort": ["title"]}]


def test_results_list_their_tags_as_links_in_tag_order(app: Flask, make_case, login) -> None:
    make_case(slug="one", title="Porter lounge", tags=("zebra crossing", "A&E waits", "flow"))
    page = login("learner").get("/search?q=porter").get_data(as_text=True)
    tags = TAG_LINK.findall(page)
    names = ["A&E waits", "flow", "zebra crossing"]
    assert [unescape(text) for _, text in tags] == names
    assert [_query(href) for href, _ in tags] == [{"tag": [name]} for name in names]


def test_result_rows_keep_visibility_and_show_a_drafts_status(app: Flask, make_case, login) -> None:
    make_case(slug="live", title="Lounge live")
    make_case(slug="draft", title="Lounge draft", status="draft")
    binned = make_case(slug="binned", title="Lounge binned")
    # In the bin but, for a moment, still in the index: the database has the last word.
    db.session.get(Case, binned.id).deleted_at = utcnow()
    db.session.commit()
    learner_items = search_cases(ensure_user("learner"), "lounge").items
    assert [item.case.slug for item in learner_items] == ["live"]
    curator = login("curator")
    page = curator.get("/search?q=lounge").get_data(as_text=True)
    assert "Lounge draft" in page and "Lounge binned" not in page
    assert '<strong class="nhsuk-tag nhsuk-tag--grey">Draft</strong>' in page
    (item,) = [item for item in search_cases(ensure_user("curator"), "lounge").items if item.case.slug == "live"]
    assert item.case.is_published and [tag.name for tag in item.case.tags] == ["flow", "patient experience"]


def test_save_forms_share_the_pages_token_which_is_still_needed(csrf_app: Flask) -> None:
    for number in range(3):
        save_case_data(case_data(slug=f"lounge-{number}", title=f"Lounge {number}"), actor=None)
    db.session.commit()
    catch_up(csrf_app)
    learner = ensure_user("learner")
    client = csrf_app.test_client()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    signed_in = client.post("/login", data={"email": learner.email, "password": PASSWORD, "csrf_token": token.group(1)})
    assert signed_in.status_code == 302
    page = client.get("/search?q=lounge").get_data(as_text=True)
    forms = re.findall(r'<form class="app-save-case".*?</form>', page, re.S)
    tokens = {re.search(r'name="csrf_token" value="([^"]+)"', form).group(1) for form in forms}
    assert len(forms) == 3 and len(tokens) == 1
    case_id = int(re.search(r'name="case_id" value="(\d+)"', forms[1]).group(1))
    form = {"case_id": case_id, "list_id": "new", "next": "/search?q=lounge"}
    assert client.post("/my/lists/save", data=form).status_code == 400  # no token: refused
    assert client.post("/my/lists/save", data={**form, "csrf_token": "forged"}).status_code == 400
    assert db.session.query(ReadingListItem).count() == 0
    saved = client.post("/my/lists/save", data={**form, "csrf_token": tokens.pop()})
    assert saved.status_code == 302
    assert [item.case_id for item in db.session.query(ReadingListItem)] == [case_id]


def test_no_case_mentions_counts_only_cases_the_reader_may_see(app: Flask, make_case) -> None:
    # "kiosk" is in two published cases (more than the one case a learner may not see:
    # answered from the postings' counts); "lanyard" only in the draft (postings read).
    make_case(slug="one", title="Kiosk one", body="The kiosk by the lift.\n")
    make_case(slug="two", title="Kiosk two", body="A kiosk again.\n")
    make_case(slug="draft", title="Draft", status="draft", body="A kiosk and a lanyard.\n")
    learner, curator = ensure_user("learner"), ensure_user("curator")
    assert search_cases(learner, "kiosk lanyard").unmatched == ("lanyard",)
    assert search_cases(curator, "kiosk lanyard").unmatched == ()
    assert search_cases(learner, "kiosk").unmatched == ()


# -- links built without the URL map; the search box rendered once per process -----------------
NAMES = [
    "simple-slug",
    "with space",
    "a&b=c",
    "100%",
    "ünïcode-ßlug",
    "q?x#frag",
    "slash/inside",
    "plus+sign",
    "'quote'",
]


@pytest.mark.parametrize("name", NAMES)
def test_the_cached_links_spell_what_url_for_spells(app: Flask, name: str) -> None:
    with app.test_request_context("/search"):
        assert _case_href(name) == url_for("library.case", slug=name)
        assert _case_href(name, None) == url_for("library.case", slug=name, from_search=None)
        assert _case_href("a-case", name) == url_for("library.case", slug="a-case", from_search=name)
        assert _tag_href(name) == url_for("library.cases", tag=name)


def test_the_cached_links_follow_the_script_root(app: Flask) -> None:
    for root in ("", "/every-seat"):
        with app.test_request_context("/search", base_url=f"http://localhost{root}"):
            assert _case_href("a b", "care home") == url_for("library.case", slug="a b", from_search="care home")
            assert _plain_href("learning.save_case") == url_for("learning.save_case")
            assert _plain_href("learning.save_case").startswith(f"{root}/")


def test_the_search_box_shows_the_typed_words_escaped(app: Flask, login) -> None:
    client = login("learner")
    page = client.get("/search", query_string={"q": 'care "<b>" & co'}).get_data(as_text=True)
    assert 'name="q" type="search" spellcheck="true" value="care &#34;&lt;b&gt;&#34; &amp; co" aria' in page
    assert "\x00" not in page
    # Another query in the same process: its own words, not the first one's.
    page = client.get("/search", query_string={"q": "porter"}).get_data(as_text=True)
    assert 'value="porter"' in page and "&lt;b&gt;" not in page
    # No words: an empty value, as the NHS.UK macro renders it.
    empty = client.get("/search", query_string={"seat": "Porter"}).get_data(as_text=True)
    assert 'name="q" type="search" spellcheck="true" value="" aria' in empty


@pytest.mark.parametrize("role", ["learner", "curator"])
def test_the_facets_built_in_python_are_the_templates_html(app: Flask, make_case, role: str) -> None:
    from flask import g, render_template_string

    from casestudies.library.services import LibraryFilters

    make_case(slug="a", title="Porter story", seat="Porter", setting="A & E <ward>", tags=("night shift", "R&D"))
    make_case(slug="b", title="Nurse story", seat="Nurse", dimensions=("Leading with care",), status="draft")
    make_case(slug="c", title="Third story", seat="Porter", tags=("100% / more?",))
    viewer = ensure_user(role)
    for filters, keep in [
        (LibraryFilters(), {"q": "story"}),
        (LibraryFilters(seat="Porter"), {"q": "story", "sort": "title"}),
        (LibraryFilters(tag="r&d", setting="A & E <ward>"), {}),
    ]:
        results = search_cases(viewer, keep.get("q", ""), filters=filters)
        with app.test_request_context("/search", query_string=keep):
            g._login_user = viewer  # Flask-Login's current_user, without a session
            context = {"facets": results.facets, "filters": filters, "keep": keep}
            expected = render_template_string('{% include "library/_facets.html" %}', **context)
            built = render_template_string(
                "{{ facets_html(facets, filters, keep, url_with, current_user.can_see_unpublished()) }}", **context
            )
        assert built.strip() == expected.strip()
        assert "app-facet-list__item" in built
