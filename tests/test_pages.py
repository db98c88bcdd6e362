"""What learners and facilitators see on the pages, and hostile text rendered inert."""

from __future__ import annotations

import pytest

from casestudies.transfer.casefile import QuestionData

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>{{ 7*7 }}'


def test_case_page_shows_everything_in_order(login, make_case) -> None:
    make_case(
        questions=(
            QuestionData("First question?"),
            QuestionData("Second question?", notes="Only for facilitators", minutes=7),
        ),
    )
    html = login("learner").get("/cases/porter-discharge-lounge").get_data(as_text=True)
    assert '<a href="/cases?seat=Porter">Porter</a>' in html
    assert '<a href="/cases?setting=Acute+hospital">Acute hospital</a>' in html
    assert "Leading with care" in html and "patient experience" in html
    assert "<h2>The situation</h2>" in html  # the body's Markdown, rendered
    assert html.index("First question?") < html.index("Second question?")
    assert "Only for facilitators" not in html and "Suggested time" not in html


def test_facilitators_see_notes_and_minutes(login, make_case) -> None:
    make_case(questions=(QuestionData("Q?", notes="Steer to early wins", minutes=7),))
    html = login("facilitator").get("/cases/porter-discharge-lounge").get_data(as_text=True)
    assert "Steer to early wins" in html and "7 minutes" in html


def test_hostile_text_is_inert_everywhere_it_shows(login, make_case) -> None:
    make_case(
        title="Title " + HOSTILE,
        seat="Seat " + HOSTILE[:60],
        setting="Setting <b>bold</b>",
        summary="Summary " + HOSTILE,
        tags=("tag <i>x</i>",),
        questions=(QuestionData("Question " + HOSTILE, notes="Notes " + HOSTILE, minutes=5),),
        body="Body [link](javascript:alert(1)) " + HOSTILE + "\n\n<iframe src=x></iframe>\n",
    )
    client = login("facilitator")
    for url in ("/cases/porter-discharge-lounge", "/cases", "/search?q=title", "/search?q=alert", "/"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in html, url
        assert "<img src=x" not in html and "<iframe" not in html, url
        assert "javascript:alert" not in html.replace("[link](javascript:alert(1))", ""), url
        assert "<b>bold</b>" not in html and "<i>x</i>" not in html, url
    page = client.get("/cases/porter-discharge-lounge").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page or "&lt;script&gt;" in page
    assert "{{ 7*7 }}" in page  # Jinja-looking text is shown, not evaluated


def test_library_filters_live_in_the_url_and_combine(login, make_case) -> None:
    make_case(slug="a", title="Alpha", seat="Porter", tags=("flow",))
    make_case(slug="b", title="Beta", seat="Porter", tags=("safety",))
    make_case(slug="c", title="Gamma", seat="Receptionist", tags=("flow",))
    client = login("learner")
    html = client.get("/cases?seat=porter&tag=FLOW").get_data(as_text=True)
    assert "Alpha" in html and "Beta" not in html and "Gamma" not in html
    assert "1 case matching" in html


def test_library_paginates(app, login, make_case) -> None:
    for i in range(12):
        make_case(slug=f"case-{i:02}", title=f"Case {i:02}")
    client = login("learner")
    first = client.get("/cases").get_data(as_text=True)
    second = client.get("/cases?page=2").get_data(as_text=True)
    assert "Case 00" in first and "Case 11" not in first
    assert "Case 11" in second and "Case 00" not in second
    assert client.get("/cases?page=999").status_code == 200
    assert client.get("/cases?page=abc").status_code == 200


@pytest.mark.parametrize(
    ("page", "pages"), [(1, 2), (1, 7), (4, 7), (5, 9), (9, 9), (500, 1000), (1, 1000), (998, 1000)]
)
def test_pagination_shows_first_last_and_two_either_side(app, page: int, pages: int) -> None:
    """The numbers and gaps the pagination shows (only these are worked out, however
    many pages there are)."""
    import re

    from flask import render_template

    from casestudies.paging import RankedPage

    expected = []
    for number in range(1, pages + 1):
        if number in (1, pages) or abs(number - page) <= 2:
            expected.append(str(number))
        elif abs(number - page) == 3:
            expected.append("gap")
    with app.test_request_context("/cases"):
        pagination = RankedPage([], total=pages * 10, page=page, per_page=10)
        html = render_template("library/_pagination.html", pagination=pagination, args={})
    shown = re.findall(r'<li class="nhsuk-pagination__item[^"]*(?:ellipsis)[^"]*"|>\s*(\d+)\s*</a>', html)
    assert [number or "gap" for number in shown] == expected
