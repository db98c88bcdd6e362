"""Overdue review dates: AUTO_RETURN_OVERDUE sends published cases back to review."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import select, text

from casestudies import curation
from casestudies.config import environment_overrides
from casestudies.curation import overdue
from casestudies.curation.overdue import dashboard_after_overdue, return_overdue_to_review
from casestudies.extensions import db
from casestudies.models import AuditEvent, Case, CaseStateChange, utcnow

TODAY = date(2027, 3, 10)


@pytest.fixture
def cases(make_case):
    """One published case per situation, by slug."""
    made = {
        "overdue": make_case(slug="overdue", title="Overdue", review_by=TODAY - timedelta(days=1)),
        "due-today": make_case(slug="due-today", title="Due today", review_by=TODAY),
        "no-date": make_case(slug="no-date", title="No date", review_by=None),
        "overdue-draft": make_case(
            slug="overdue-draft", title="Overdue draft", status="draft", review_by=TODAY - timedelta(days=9)
        ),
        "overdue-binned": make_case(slug="overdue-binned", title="Binned", review_by=TODAY - timedelta(days=9)),
    }
    made["overdue-binned"].deleted_at = utcnow()  # binned while published, before the bin unpublished
    db.session.commit()
    return made


def statuses() -> dict[str, str]:
    return dict(db.session.execute(select(Case.slug, Case.status)).tuples().all())


def test_only_published_live_cases_past_their_review_date_go_back_to_review(cases) -> None:
    moved = return_overdue_to_review(TODAY)
    db.session.commit()
    assert [case.slug for case in moved] == ["overdue"]
    assert statuses() == {
        "overdue": "review",
        "due-today": "published",
        "no-date": "published",
        "overdue-draft": "draft",
        "overdue-binned": "published",
    }


def test_the_move_is_in_the_state_history_the_revisions_and_the_audit_log(cases) -> None:
    case = cases["overdue"]
    return_overdue_to_review(TODAY, run_by="the command line")
    db.session.commit()
    [change] = curation.state_history(case)
    assert (change.from_status, change.to_status, change.actor) == ("published", "review", None)
    assert change.comment == "Its review date (9 March 2027) has passed: back to review automatically"
    assert case.revisions[-1].summary.startswith("Back to review: Its review date")
    assert "status: review" in case.revisions[-1].content
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.id))
    assert event is not None and event.action == "state" and event.actor_label == "system (review date passed)"
    assert event.detail.endswith("(run by the command line)")


def test_a_second_run_moves_nothing(cases) -> None:
    assert len(return_overdue_to_review(TODAY)) == 1
    db.session.commit()
    assert return_overdue_to_review(TODAY) == []
    assert db.session.scalar(select(CaseStateChange.id).where(CaseStateChange.case_id == cases["no-date"].id)) is None


def test_a_case_claimed_elsewhere_after_the_select_is_left_alone(cases, monkeypatch) -> None:
    """Another server sends the case back to review between this one's select and its
    claim: the claim finds it no longer published, and nothing is recorded twice."""
    real_update = overdue.update

    def update_after_another_server(table):
        db.session.execute(text("UPDATE \"case\" SET status = 'review' WHERE slug = 'overdue'"))
        return real_update(table)

    monkeypatch.setattr(overdue, "update", update_after_another_server)
    assert return_overdue_to_review(TODAY) == []
    assert curation.state_history(cases["overdue"]) == []
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.case_id == cases["overdue"].id)) is None


def test_the_dashboard_returns_overdue_cases_only_when_the_setting_is_on(app: Flask, cases) -> None:
    board, returned = dashboard_after_overdue(TODAY)
    assert returned == [] and statuses()["overdue"] == "published"
    assert "overdue" in [case.slug for case in board.past_review_date]
    app.config["AUTO_RETURN_OVERDUE"] = True
    board, returned = dashboard_after_overdue(TODAY)
    db.session.commit()
    assert [case.slug for case in returned] == ["overdue"]
    assert [case.slug for case in board.in_review] == ["overdue"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.case_id == cases["overdue"].id))
    assert event is not None and event.detail.endswith("(run by opening the dashboard)")


def test_the_dashboard_page_says_which_cases_went_back(app: Flask, login, make_case) -> None:
    make_case(slug="stale", title="A stale case", review_by=date.today() - timedelta(days=3))
    client = login("curator")
    assert "went back to review" not in client.get("/curate/").get_data(as_text=True)
    app.config["AUTO_RETURN_OVERDUE"] = True
    html = client.get("/curate/").get_data(as_text=True)
    assert "1 published case went back to review just now" in html and "A stale case" in html
    assert "went back to review" not in client.get("/curate/").get_data(as_text=True)
    assert statuses()["stale"] == "review"


def test_the_command_moves_cases_when_the_setting_is_on(app: Flask, runner, make_case) -> None:
    make_case(slug="stale", title="A stale case", review_by=date.today() - timedelta(days=3))
    result = runner.invoke(args=["return-overdue"])
    assert result.exit_code == 0 and "AUTO_RETURN_OVERDUE is off" in result.output
    assert statuses()["stale"] == "published"
    app.config["AUTO_RETURN_OVERDUE"] = True
    result = runner.invoke(args=["return-overdue"])
    assert result.exit_code == 0, result.output
    assert "1 case(s) went back to review" in result.output and "stale" in result.output
    db.session.expire_all()
    assert statuses()["stale"] == "review"


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("on", True), ("0", False), ("no", False)])
def test_the_setting_reads_from_the_environment(value: str, expected: bool) -> None:
    assert environment_overrides({"AUTO_RETURN_OVERDUE": value})["AUTO_RETURN_OVERDUE"] is expected


def test_a_switch_that_is_neither_on_nor_off_stops_the_start_with_its_name() -> None:
    # Before, any unknown word read as the setting's default ("maybe" left the rule off).
    with pytest.raises(RuntimeError, match="AUTO_RETURN_OVERDUE must be on or off"):
        environment_overrides({"AUTO_RETURN_OVERDUE": "maybe"})


def test_the_manage_page_says_an_automatic_move_was_automatic(cases, login) -> None:
    # The history said "published → review by someone".
    return_overdue_to_review(TODAY)
    db.session.commit()
    html = login("curator").get("/curate/cases/overdue").get_data(as_text=True)
    assert "<strong>published → review</strong> automatically (review date passed)," in html
    assert "by someone" not in html
