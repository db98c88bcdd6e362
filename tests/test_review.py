"""The two-person rule, consent without a default, review dates and the workflow's wording."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from casestudies.curation import services as curation
from casestudies.curation.services import CaseInput, CurationError
from casestudies.extensions import db
from casestudies.models import AuditEvent, Case, CaseStateChange

from .conftest import ensure_user
from .test_curation import good_input, new_case


@pytest.fixture
def curator(app: Flask):  # type: ignore[no-untyped-def]
    return ensure_user("curator")


@pytest.fixture
def second(app: Flask):  # type: ignore[no-untyped-def]
    return ensure_user("curator", email="second-curator@example.org")


@pytest.fixture
def admin(app: Flask):  # type: ignore[no-untyped-def]
    return ensure_user("admin")


def in_review(author, sender=None) -> Case:  # type: ignore[no-untyped-def]
    case = new_case(author)
    curation.change_status(case, "review", sender or author)
    db.session.commit()
    return case


# -- 1. the two-person rule: service ----------------------------------------------------------------
def test_the_curator_who_sent_a_case_for_review_cannot_publish_it(curator, second) -> None:  # type: ignore[no-untyped-def]
    case = in_review(second, sender=curator)
    with pytest.raises(CurationError, match="Another curator must publish this case: you sent it for review"):
        curation.change_status(case, "published", curator)


def test_the_author_of_the_current_revision_cannot_publish_it(curator, second) -> None:  # type: ignore[no-untyped-def]
    case = in_review(curator, sender=second)  # curator wrote it, second sent it: neither may publish
    with pytest.raises(CurationError, match="you wrote its current revision"):
        curation.change_status(case, "published", curator)
    with pytest.raises(CurationError, match="you sent it for review"):
        curation.change_status(case, "published", second)
    third = ensure_user("curator", email="third-curator@example.org")
    curation.change_status(case, "published", third)
    db.session.commit()
    assert case.status == "published"


def test_an_edit_during_review_makes_its_author_the_one_who_cannot_publish(curator, second) -> None:  # type: ignore[no-untyped-def]
    case = in_review(curator)
    form = CaseInput.from_case(case)
    form.summary = "A ward clerk redesigns how every call reaches the ward."
    curation.update_case(case, form, second)
    db.session.commit()
    assert curation.review_blockers(case) == {
        second.id: ["you wrote its current revision"],
        curator.id: ["you sent it for review"],
    }
    third = ensure_user("curator", email="third-curator@example.org")
    assert curation.publish_blocker(case, third) is None


def test_a_curator_who_only_wrote_an_older_revision_may_publish(curator, second) -> None:  # type: ignore[no-untyped-def]
    case = new_case(curator)
    form = CaseInput.from_case(case)
    form.summary = "Rewritten by the second curator."
    curation.update_case(case, form, second)
    curation.change_status(case, "review", second)
    db.session.commit()
    curation.change_status(case, "published", curator)
    assert case.status == "published"


def test_an_admin_overrides_with_a_reason_that_is_recorded(admin) -> None:  # type: ignore[no-untyped-def]
    case = in_review(admin)
    with pytest.raises(CurationError, match="give the reason"):
        curation.change_status(case, "published", admin)
    curation.change_status(case, "published", admin, override_reason="Only reviewer on leave; urgent fix")
    db.session.commit()
    assert case.status == "published"
    change = db.session.scalars(select(CaseStateChange).order_by(CaseStateChange.id.desc())).first()
    assert change.to_status == "published"
    assert change.comment == "Two-person rule overridden by an admin: Only reviewer on leave; urgent fix"
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == "review-override" and "Only reviewer on leave" in event.detail


def test_a_curator_cannot_override_even_with_a_reason(curator) -> None:  # type: ignore[no-untyped-def]
    case = in_review(curator)
    with pytest.raises(CurationError, match="Another curator"):
        curation.change_status(case, "published", curator, override_reason="I am sure")


def test_the_setting_turns_the_rule_off_for_a_team_of_one(app: Flask, curator) -> None:  # type: ignore[no-untyped-def]
    app.config["TWO_PERSON_REVIEW"] = False
    case = in_review(curator)
    assert curation.publish_blocker(case, curator) is None
    curation.change_status(case, "published", curator)
    assert case.status == "published"


def test_the_setting_reads_from_the_environment() -> None:
    from casestudies.config import default_config, environment_overrides

    assert default_config("/tmp")["TWO_PERSON_REVIEW"] is True
    assert environment_overrides({"TWO_PERSON_REVIEW": "0"})["TWO_PERSON_REVIEW"] is False
    assert environment_overrides({"TWO_PERSON_REVIEW": "1"})["TWO_PERSON_REVIEW"] is True


# -- 1. the two-person rule: routes ----------------------------------------------------------------
def test_the_manage_page_explains_why_publish_is_not_offered(login, curator, second) -> None:  # type: ignore[no-untyped-def]
    case = in_review(curator)
    html = login("curator").get(f"/curate/cases/{case.slug}").get_data(as_text=True)
    assert 'value="published"' not in html
    assert "The Publish button is not offered to you" in html
    assert "Another curator must publish this case: you wrote its current revision and sent it for review." in html
    other = login("curator").application.test_client()
    html = login_as(other, second).get(f"/curate/cases/{case.slug}").get_data(as_text=True)
    assert 'value="published"' in html and "not offered" not in html


def login_as(client, user):  # type: ignore[no-untyped-def]
    from .conftest import PASSWORD

    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return client


def test_posting_publish_anyway_is_refused_at_the_route(login, curator) -> None:  # type: ignore[no-untyped-def]
    case = in_review(curator)
    response = login("curator").post(f"/curate/cases/{case.slug}/status", data={"to": "published"})
    assert response.status_code == 400
    assert "Another curator must publish this case" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "review"


def test_an_admin_sees_the_reason_field_and_overrides_at_the_route(login, admin) -> None:  # type: ignore[no-untyped-def]
    case = in_review(admin)
    client = login("admin")
    html = client.get(f"/curate/cases/{case.slug}").get_data(as_text=True)
    assert 'name="override_reason"' in html and 'value="published"' in html
    assert client.post(f"/curate/cases/{case.slug}/status", data={"to": "published"}).status_code == 400
    response = client.post(
        f"/curate/cases/{case.slug}/status", data={"to": "published", "override_reason": "Team of one this week"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "published"


# -- 3. consent has no default ---------------------------------------------------------------------------
def test_a_new_case_without_a_consent_choice_gets_a_field_error(curator) -> None:  # type: ignore[no-untyped-def]
    case, errors = curation.create_case(good_input(consent=""), curator)
    assert case is None
    assert errors == {"consent": ["Choose whether consent was obtained, is not needed or is still pending"]}


def test_the_editor_preselects_no_consent_and_refuses_a_save_without_one(login, curator) -> None:  # type: ignore[no-untyped-def]
    client = login("curator")
    html = client.get("/curate/cases/new").get_data(as_text=True)
    assert 'name="consent"' in html and "checked" not in html.split('name="consent"', 1)[1].split("</fieldset>")[0]
    data = {"title": "A title", "summary": "S", "seat": "Porter", "body": "Text", "q-0-text": "Q?", "action": "save"}
    response = client.post("/curate/cases/new", data=data)
    assert response.status_code == 400
    assert "Choose whether consent was obtained" in response.get_data(as_text=True)
    response = client.post("/curate/cases/new", data={**data, "consent": "obtained"})
    assert response.status_code == 302


# -- 7. wording ---------------------------------------------------------------------------------------------
def test_the_workflow_says_in_review_and_consent_in_words(login, curator) -> None:  # type: ignore[no-untyped-def]
    case = new_case(curator)
    client = login("curator")
    response = client.post(f"/curate/cases/{case.slug}/status", data={"to": "review"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "is now in review" in html and "is now review" not in html
    assert "Consent not needed" in html and ">not-needed<" not in html
