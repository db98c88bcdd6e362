"""Insights pages: search gaps, library use, the actions from a gap, usefulness answers,
promotions on the search page, synonyms on a second server, CSV and the charts' tables."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from casestudies.extensions import db
from casestudies.insights.recording import Outcome, record_read, record_search, today
from casestudies.models import AuditEvent, CaseFeedback, SearchOutcome, SearchTerm

from .conftest import PASSWORD, ensure_user, make_test_app


def _searched_by(n: int, text: str, outcome: Outcome, day=None) -> None:
    for i in range(n):
        record_search(ensure_user("learner", email=f"reader{i}@example.org"), text, outcome, day or today())
    db.session.commit()


def test_a_search_page_records_its_outcome_for_learners_only(login, make_case) -> None:
    make_case()
    login("learner").get("/search?q=porter+kestrelbay")
    login("learner").get("/search?q=porter")
    login("curator").get("/search?q=zzyzx")
    rows = {(r.display, r.outcome, r.missing) for r in db.session.scalars(select(SearchOutcome))}
    assert rows == {("porter kestrelbay", "partial", "kestrelbay"), ("porter", "full", "")}


def test_a_gap_shows_only_once_enough_people_searched_it_on_one_day(app, login) -> None:
    _searched_by(1, "bullying", Outcome("none"))
    _searched_by(1, "bullying", Outcome("none"), today() - timedelta(days=1))  # another day, one person
    _searched_by(2, "rota gaps", Outcome("partial", missing=("gaps",)))
    page = login("curator").get("/insights/gaps").get_data(as_text=True)
    assert "rota gaps" in page and "bullying" not in page
    app.config["GAP_MIN_SEARCHERS"] = 1
    assert "bullying" in login("curator").get("/insights/gaps").get_data(as_text=True)


def _svg_figures(page: str, chart_id: str) -> list[tuple[str, int]]:
    svg = page[page.index(f'id="{chart_id}"') :]
    svg = svg[: svg.index("</svg>")]
    return [(label, int(value)) for label, value in re.findall(r'data-label="([^"]*)" data-value="(\d+)"', svg)]


def _table_figures(page: str, table_id: str, value_column: int = 1) -> list[tuple[str, int]]:
    table = page[page.index(f'id="table-{table_id}"') :]
    table = table[: table.index("</table>")]
    rows = []
    for row in re.findall(r"<tr class=\"nhsuk-table__row\">(.*?)</tr>", table, re.S)[1:]:
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        rows.append((cells[0], int(cells[value_column])))
    return rows


def test_the_charts_draw_the_figures_of_their_tables(app, login, make_case) -> None:
    _searched_by(3, "bullying", Outcome("none"))
    _searched_by(2, "rota gaps", Outcome("partial", missing=("gaps",)))
    page = login("curator").get("/insights/gaps").get_data(as_text=True)
    assert _svg_figures(page, "chart-gaps") == _table_figures(page, "gaps") == [("bullying", 3), ("rota gaps", 2)]
    assert _svg_figures(page, "chart-missing") == _table_figures(page, "missing") == [("gaps", 2)]
    per_day = _table_figures(page, "per-day")
    assert _svg_figures(page, "chart-per-day") == per_day and per_day[-1] == (today().isoformat(), 5)
    case = make_case()
    record_read(ensure_user("learner"), case.id)
    db.session.commit()
    use = login("curator").get("/insights/use").get_data(as_text=True)
    assert _svg_figures(use, "chart-most-read") == _table_figures(use, "most-read") == [(case.title, 1)]


def test_csv_downloads_are_the_tables_and_formula_safe(app, login) -> None:
    _searched_by(2, "=HYPERLINK(1)", Outcome("none"))
    response = login("curator").get("/insights/gaps.csv?table=gaps&days=7")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:2] == ["Search", "Searches"] and rows[1][:2] == ["'=hyperlink(1)", "2"]
    assert login("curator").get("/insights/gaps.csv?table=nope").status_code == 404
    assert login("curator").get("/insights/use.csv?table=not-opened").status_code == 200


def test_a_promoted_case_comes_first_and_only_for_readers_who_may_see_it(app, login, make_case) -> None:
    make_case(slug="other-case", title="A ward clerk and the rota", body="Rota rota rota bullying.")
    promoted = make_case()
    curator = login("curator")
    assert curator.post("/insights/gap/promote?q=bullying", data={"slug": promoted.slug}).status_code == 302
    page = login("learner").get("/search?q=Bullying").get_data(as_text=True)
    assert "Recommended by the library team" in page
    assert page.index(promoted.title) < page.index("A ward clerk and the rota")
    # Back to draft: no reader who can't see drafts is shown it.
    promoted.status = "draft"
    db.session.commit()
    page = login("learner").get("/search?q=bullying").get_data(as_text=True)
    assert "Recommended by the library team" not in page and promoted.title not in page
    # An unpublished case can't be promoted.
    refused = curator.post("/insights/gap/promote?q=rota", data={"slug": promoted.slug})
    assert refused.status_code == 400 and "Only a published case" in refused.get_data(as_text=True)


def test_each_action_is_audited_and_undone(app, login, make_case) -> None:
    case = make_case()
    curator = login("curator")
    curator.post("/insights/gap/synonym?q=bullying", data={"expressions": "bullying\nincivility"})
    curator.post("/insights/gap/promote?q=bullying", data={"slug": case.slug})
    curator.post("/insights/gap/wanted?q=bullying", data={"note": "A nurse bullied on nights"})
    page = curator.get("/insights/gap?q=bullying").get_data(as_text=True)
    assert "bullying = incivility" in page and case.title in page and "A nurse bullied on nights" in page
    for kind in ("term", "promotion", "wanted"):
        assert (
            curator.post(f"/insights/undo/{kind}/1", data={"next": "https://evil.example/"}).headers["Location"]
            == "/insights/gaps"
        )
    assert curator.post("/insights/undo/term/1").status_code == 404  # already undone
    actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions[-6:] == [
        "search-term-add",
        "promotion-add",
        "wanted-add",
        "search-term-remove",
        "promotion-remove",
        "wanted-remove",
    ]
    assert "Recommended by the library team" not in login("learner").get("/search?q=bullying").get_data(as_text=True)
    term = db.session.get(SearchTerm, 1)
    assert term.removed_at is not None and term.removed_by.email == "curator@example.org"


def test_bad_synonyms_and_concepts_get_a_message_and_a_400(login) -> None:
    curator = login("curator")
    one = curator.post("/insights/gap/synonym?q=bullying", data={"expressions": "bullying"})
    assert one.status_code == 400 and "at least two" in one.get_data(as_text=True)
    odd = curator.post("/insights/gap/concept?q=bullying", data={"preferred": "bullying", "synonyms": "<b>"})
    assert odd.status_code == 400 and "letters, digits" in odd.get_data(as_text=True)
    assert curator.post("/insights/gap/synonym", data={"expressions": "a\nb"}).status_code == 404  # no gap


def test_a_synonym_takes_effect_on_a_second_server_without_a_restart(
    app, login, make_case, tmp_path, migrated_db_template
) -> None:
    make_case(body="Staff shared marmalade on the ward.")
    (tmp_path / "b").mkdir()
    # A second server: its own app and index, the same database.
    other = make_test_app(
        tmp_path / "b",
        migrated_db_template,
        DATABASE_URL=app.config["DATABASE_URL"],
        SEARCH_INDEX_DIR=str(tmp_path / "index-b"),
    )
    other.config["WTF_CSRF_ENABLED"] = False
    try:
        _check_second_server(other, login)
    finally:
        other.extensions["search_index"].close()
        with other.app_context():
            db.engine.dispose()


def _check_second_server(other, login) -> None:

    def found_on_other() -> bool:
        client = other.test_client()
        client.post("/login", data={"email": "learner@example.org", "password": PASSWORD})
        return "A porter who changed" in client.get("/search?q=tangerine").get_data(as_text=True)

    ensure_user("learner")
    assert not found_on_other()
    login("curator").post("/insights/gap/synonym?q=tangerine", data={"expressions": "tangerine\nmarmalade"})
    assert found_on_other()
    login("curator").post("/insights/undo/term/1")
    assert not found_on_other()


def test_a_reader_answers_was_this_case_useful_without_being_named(app, login, make_case) -> None:
    case = make_case()
    learner = login("learner")
    page = learner.get(f"/cases/{case.slug}").get_data(as_text=True)
    assert "Was this case useful?" in page
    response = learner.post(
        f"/insights/feedback/{case.slug}", data={"useful": "yes", "comment": "Good", "seat": "Porter"}
    )
    assert response.status_code == 302
    [answer] = db.session.scalars(select(CaseFeedback))
    assert (answer.is_useful, answer.comment, answer.role, answer.seat) == (True, "Good", "learner", "Porter")
    again = learner.post(f"/insights/feedback/{case.slug}", data={"useful": "no"})
    assert again.status_code == 409
    bad = login("facilitator").post(f"/insights/feedback/{case.slug}", data={"useful": "maybe", "seat": "Pope"})
    assert bad.status_code == 400 and "Choose Yes or No" in bad.get_data(as_text=True)


def test_the_case_page_counts_a_read_once_a_day_and_a_click_after_partial_matches(app, login, make_case) -> None:
    from casestudies.models import CaseReadWeek, SearchClick

    case = make_case()
    learner = login("learner")
    results = learner.get("/search?q=porter+kestrelbay").get_data(as_text=True)
    assert "from_search=porter+kestrelbay" in results
    learner.get(f"/cases/{case.slug}?from_search=porter+kestrelbay")
    learner.get(f"/cases/{case.slug}")
    assert db.session.scalar(select(CaseReadWeek.reads)) == 1
    assert db.session.scalar(select(SearchClick.clicks)) == 1


@pytest.mark.parametrize("path", ["/insights/gaps", "/insights/use", "/insights/gap?q=bullying", "/privacy"])
def test_every_insights_page_answers_with_no_rows_at_all(login, path) -> None:
    assert login("curator").get(path).status_code == 200


def test_the_synonyms_page_lists_what_curators_added_in_the_app_with_who_when_and_undo(login) -> None:
    curator = login("curator")
    curator.post("/insights/gap/synonym?q=bullying", data={"expressions": "bullying\nincivility"})
    curator.post(
        "/insights/gap/concept?q=rota", data={"preferred": "rota", "synonyms": "roster", "narrower": "night shift"}
    )
    page = curator.get("/search/synonyms").get_data(as_text=True)
    assert "Added by curators in the app" in page
    assert "bullying = incivility" in page and "concept: rota" in page
    assert page.count("(added by Test curator, ") == 2
    assert 'action="/insights/undo/term/1"' in page and 'value="/search/synonyms#added-terms"' in page
    back = curator.post("/insights/undo/term/1", data={"next": "/search/synonyms#added-terms"})
    assert back.headers["Location"] == "/search/synonyms#added-terms"
    page = curator.get("/search/synonyms").get_data(as_text=True)
    assert "removed by" in page and 'action="/insights/undo/term/1"' not in page
    assert 'action="/insights/undo/term/2"' in page
