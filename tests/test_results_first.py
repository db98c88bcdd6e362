"""The search and library pages put results first: snippets read as sentences, nothing
about unpublished cases leaks through filters, zero-result searches are counted per day,
over-long searches and URLs get a clear answer, and a page past the end shows the last one."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from casestudies.library.services import search_cases
from casestudies.markdown import markdown_to_text

from .conftest import ensure_user


# -- snippets read as sentences -------------------------------------------------------------------
def test_block_boundaries_end_with_a_sentence_break() -> None:
    text = markdown_to_text(
        "## The situation\n\nA young nurse\nstarted.\n\n- first point\n- second point!\n\n> Quoted\n\n"
        '```\ncode here\n```\n\nShe said: "Stop."\n'
    )
    assert text == (
        'The situation. A young nurse started. first point. second point! Quoted. code here. She said: "Stop."'
    )


def test_a_snippet_never_runs_a_heading_into_the_text(app: Flask, make_case) -> None:  # type: ignore[no-untyped-def]
    make_case(body="## The situation\n\nA young porter noticed the lounge.\n\n## What happened\n\nHe asked.\n")
    (item,) = search_cases(ensure_user("learner"), "porter lounge").items
    plain = re.sub(r"<[^>]+>", "", item.snippet)
    assert "situation A young" not in plain and "The situation. A young" in plain
    assert "lounge What happened" not in plain


# -- nothing about unpublished cases --------------------------------------------------------------
@pytest.fixture
def draft_only(make_case):  # type: ignore[no-untyped-def]
    """A published case, and a draft whose seat, setting and tag no published case has
    (spelt in capitals that only the draft holds)."""
    make_case(slug="published", title="Published story", tags=("flow",))
    make_case(
        slug="draft",
        title="Draft story",
        status="draft",
        seat="Hidden Qzseat",
        setting="Secret Qzward",
        tags=("Secret Qztag",),
    )


@pytest.mark.parametrize(
    ("path", "stored"),
    [
        ("/search?tag=secret+qztag", "Secret Qztag"),
        ("/search?seat=hidden+qzseat", "Hidden Qzseat"),
        ("/search?setting=secret+qzward", "Secret Qzward"),
        ("/search?q=story&tag=secret+qztag", "Secret Qztag"),
        ("/search?q=story&seat=hidden+qzseat", "Hidden Qzseat"),
        ("/search?q=story&setting=secret+qzward", "Secret Qzward"),
        ("/search?q=qzseat", "Hidden Qzseat"),
        ("/search?q=qzsaet", "qzseat"),  # no "did you mean" from a draft's words
        ("/cases?tag=secret+qztag", "Secret Qztag"),
        ("/cases?seat=hidden+qzseat", "Hidden Qzseat"),
        ("/cases?setting=secret+qzward", "Secret Qzward"),
    ],
)
def test_a_filter_on_a_draft_only_value_tells_a_learner_nothing(login, draft_only, path: str, stored: str) -> None:  # type: ignore[no-untyped-def]
    html = login("learner").get(path).get_data(as_text=True)
    assert stored not in html
    assert "Draft story" not in html
    assert "(0)" not in html  # no facet entry with a count of 0
    assert "app-facet--selected" not in html  # no facet entry chosen: none is visible
    curator_html = login("curator").get(path).get_data(as_text=True)
    if "qzsaet" not in path:
        assert "Draft story" in curator_html  # the draft is there, for those who may see it


def test_a_facet_value_is_spelt_as_a_case_the_reader_may_see_spells_it(app: Flask, make_case) -> None:  # type: ignore[no-untyped-def]
    make_case(slug="draft", title="Draft story", status="draft", seat="PORTER")  # indexed first
    make_case(slug="published", title="Published story", seat="Porter")
    learner_seats = [f.value for f in search_cases(ensure_user("learner"), "story").facets["seat"]]
    assert learner_seats == ["Porter"]
    curator_seats = search_cases(ensure_user("curator"), "story").facets["seat"]
    assert [(f.value.casefold(), f.count) for f in curator_seats] == [("porter", 2)]
