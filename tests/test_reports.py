"""Reports of problems with cases: the rules in the service, the permissions at the routes."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from casestudies.extensions import db
from casestudies.models import AuditEvent, Case, CaseReport, CaseStateChange
from casestudies.reports import services as reports
from casestudies.reports.services import ReportError, ReportInput, ResolutionInput

from .conftest import ensure_user


@pytest.fixture
def learner(app: Flask):
    return ensure_user("learner")


@pytest.fixture
def curator(app: Flask):
    return ensure_user("curator")


def report_on(case, reporter, reason="factual-error", text="The date of the merger is wrong"):
    report, errors = reports.report_problem(case, reporter, ReportInput(reason, text))
    assert errors == {}
    db.session.commit()
    return report


# -- the service --------------------------------------------------------------------------------------------
def test_a_reader_reports_a_problem_and_it_is_recorded(make_case, learner) -> None:
    case = make_case()
    report = report_on(case, learner)
    assert report.is_open and report.reporter == learner and report.case == case
    assert reports.open_reports() == [report]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "report-create"))
    assert event.actor_id == learner.id and event.case_id == case.id


@pytest.mark.parametrize(
    ("reason", "text", "field"),
    [
        ("", "Something", "reason"),
        ("made-up", "Something", "reason"),
        ("other", "  ", "text"),
        ("other", "x" * 2001, "text"),
    ],
)
def test_a_report_needs_a_known_reason_and_some_text(make_case, learner, reason, text, field) -> None:
    report, errors = reports.report_problem(make_case(), learner, ReportInput(reason, text))
    assert report is None and set(errors) == {field}


def test_a_reader_cannot_report_a_case_they_cannot_see(make_case, learner) -> None:
    case = make_case(status="draft")
    with pytest.raises(LookupError):
        reports.report_problem(case, learner, ReportInput("other", "Hidden"))


@pytest.mark.parametrize("outcome", ["fixed", "no-action"])
def test_a_curator_resolves_with_an_outcome_and_a_note_the_reader_sees(make_case, learner, curator, outcome) -> None:
    case = make_case()
    report = report_on(case, learner)
    assert reports.resolve_report(report, curator, ResolutionInput(outcome, "Corrected the year, thank you")) == {}
    db.session.commit()
    assert not report.is_open and report.outcome == outcome and report.resolver == curator
    assert reports.open_reports() == []
    assert [(r.outcome, r.resolution_note) for r in reports.reports_by(learner)] == [
        (outcome, "Corrected the year, thank you")
    ]
    assert case.status == "published"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "report-resolve"))
    assert event.actor_id == curator.id and "Corrected the year" in event.detail


def test_resolving_as_unpublished_takes_the_case_out_of_the_library(make_case, learner, curator) -> None:
    case = make_case()
    report = report_on(case, learner, "identifies-someone", "The patient could be recognised")
    reports.resolve_report(report, curator, ResolutionInput("unpublished", "Taken down while we anonymise it"))
    db.session.commit()
    assert db.session.get(Case, case.id).status == "draft"
    change = db.session.scalar(select(CaseStateChange))
    assert change.comment == f"Unpublished after report {report.id}: Taken down while we anonymise it"


def test_a_resolution_needs_an_outcome_and_a_note_and_happens_once(make_case, learner, curator) -> None:
    report = report_on(make_case(), learner)
    assert set(reports.resolve_report(report, curator, ResolutionInput("", ""))) == {"outcome", "note"}
    assert set(reports.resolve_report(report, curator, ResolutionInput("deleted", "x"))) == {"outcome"}
    assert report.is_open
    reports.resolve_report(report, curator, ResolutionInput("fixed", "Done"))
    with pytest.raises(ReportError, match="already been resolved"):
        reports.resolve_report(report, curator, ResolutionInput("fixed", "Again"))


def test_only_curators_resolve(make_case, learner) -> None:
    report = report_on(make_case(), learner)
    with pytest.raises(ReportError):
        reports.resolve_report(report, ensure_user("facilitator"), ResolutionInput("fixed", "Done"))


def test_a_reader_sees_only_their_own_reports(make_case, learner) -> None:
    case = make_case()
    report_on(case, learner)
    other = ensure_user("facilitator")
    report_on(case, other, "broken-link", "The link to the report is dead")
    assert [r.reason for r in reports.reports_by(learner)] == ["factual-error"]
    assert [r.reason for r in reports.reports_by(other)] == ["broken-link"]


# -- the routes -----------------------------------------------------------------------------------------------
def test_report_form_then_my_reports(login, make_case, learner) -> None:
    case = make_case()
    client = login("learner")
    page = client.get(f"/cases/{case.slug}/report").get_data(as_text=True)
    assert "Report a problem with this case" in page and "checked" not in page
    response = client.post(f"/cases/{case.slug}/report", data={"reason": "out-of-date", "text": ""})
    assert response.status_code == 400 and "Say what the problem is" in response.get_data(as_text=True)
    response = client.post(f"/cases/{case.slug}/report", data={"reason": "out-of-date", "text": "Old guidance"})
    assert response.status_code == 302 and response.headers["Location"] == "/my-reports"
    page = client.get("/my-reports").get_data(as_text=True)
    assert "Old guidance" in page and "Not resolved yet" in page


def test_a_hidden_case_cannot_be_reported_at_the_route(login, make_case) -> None:
    make_case(slug="hidden", status="review")
    assert login("learner").get("/cases/hidden/report").status_code == 404
    assert login("learner").post("/cases/hidden/report", data={"reason": "other", "text": "x"}).status_code == 404


def test_the_queue_and_resolution_pages(login, make_case, learner) -> None:
    report = report_on(make_case(), learner)
    client = login("curator")
    assert "The date of the merger is wrong" in client.get("/curate/reports").get_data(as_text=True)
    assert client.post(f"/curate/reports/{report.id}", data={"outcome": "fixed"}).status_code == 400
    response = client.post(f"/curate/reports/{report.id}", data={"outcome": "fixed", "note": "Year corrected"})
    assert response.status_code == 302
    assert "No open reports" in client.get("/curate/reports").get_data(as_text=True)
    page = login("learner").get("/my-reports").get_data(as_text=True)
    assert "Fixed" in page and "Year corrected" in page
    assert client.post(f"/curate/reports/{report.id}", data={"outcome": "fixed", "note": "x"}).status_code == 400
    assert client.get("/curate/reports/999").status_code == 404


@pytest.mark.parametrize("role", ["learner", "facilitator"])
def test_readers_cannot_use_the_queue(login, make_case, learner, role) -> None:
    report = report_on(make_case(), learner)
    client = login(role)
    assert client.get("/curate/reports").status_code == 403
    assert client.post(f"/curate/reports/{report.id}", data={"outcome": "fixed", "note": "x"}).status_code == 403
    assert db.session.get(CaseReport, report.id).is_open


def test_a_case_deleted_for_good_takes_its_reports_with_it(make_case, learner) -> None:
    from datetime import timedelta

    from casestudies import curation
    from casestudies.models import utcnow

    case = make_case()
    report_on(case, learner)
    case.deleted_at = utcnow() - timedelta(days=curation.BIN_DAYS + 1)
    db.session.commit()
    assert curation.purge_expired() == 1
    db.session.commit()
    assert db.session.scalars(select(CaseReport)).all() == []
    assert reports.reports_by(learner) == []


def test_the_manage_page_counts_the_case_s_open_reports(login, make_case, learner) -> None:
    case = make_case()
    client = login("curator")
    assert "open report" not in client.get(f"/curate/cases/{case.slug}").get_data(as_text=True)
    report_on(case, learner)
    report_on(case, learner, "broken-link", "Dead link")
    assert "2 open reports of a problem with this case" in client.get(f"/curate/cases/{case.slug}").get_data(
        as_text=True
    )


def test_the_case_page_links_to_the_report_form(login, make_case) -> None:
    make_case(slug="a-case")
    page = login("learner").get("/cases/a-case").get_data(as_text=True)
    assert 'href="/cases/a-case/report"' in page and "Report a problem with this case" in page


@pytest.mark.parametrize("role", ["learner", "facilitator", "curator", "admin"])
def test_my_reports_is_under_my_learning_for_every_signed_in_reader(login, role: str) -> None:
    client = login(role)
    home = client.get("/").get_data(as_text=True)
    nav = home[home.index('class="nhsuk-header__navigation') :]
    assert 'href="/my/lists"' in nav and "My learning" in nav
    lists = client.get("/my/lists").get_data(as_text=True)
    assert 'href="/my-reports">My reports</a>' in lists
    mine = client.get("/my-reports").get_data(as_text=True)
    assert '<strong aria-current="page">My reports</strong>' in mine
    header = mine[mine.index('class="nhsuk-header__navigation') : mine.index("</header>")]
    at = header.index('href="/my/lists"')
    assert 'aria-current="page"' in header[at - 300 : at + 300]


def test_the_sign_in_page_has_no_my_reports_link(client) -> None:
    assert "/my-reports" not in client.get("/login").get_data(as_text=True)


def test_the_resolution_page_links_to_the_case_once_escaped(login, make_case, learner) -> None:
    # The Case row showed its own markup as text ("&lt;a href=…"): escaped twice.
    case = make_case(title="Tom & Jerry’s <b>ward</b>")
    report = report_on(case, learner)
    html = login("curator").get(f"/curate/reports/{report.id}").get_data(as_text=True)
    assert f'<a href="/curate/cases/{case.slug}">Tom &amp; Jerry’s &lt;b&gt;ward&lt;/b&gt;</a> (' in html
    assert "&lt;a href" not in html


def test_the_dashboard_counts_open_reports_beside_review_due(login, make_case, learner) -> None:
    client = login("curator")
    assert "Reported problems (0 open)" in client.get("/curate/").get_data(as_text=True)
    report_on(make_case(slug="one"), learner)
    report_on(make_case(slug="two"), learner)
    html = client.get("/curate/").get_data(as_text=True)
    assert "Reported problems (2 open)" in html
    assert '<a href="/curate/reports">2 open reports from readers to look at</a>' in html
