"""The two-person rule, consent without a default, review dates and the workflow's wording."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from casestudies import curation
from casestudies.curation import CaseInput, CurationError
from casestudies.extensions import db
from casestudies.jobs import run_jobs
from casestudies.models import AuditEvent, Case, CaseStateChange

from .conftest import ensure_user
from .test_curation import good_input, new_case


@pytest.fixture
def curator(app: Flask):
    return ensure_user("curator")


@pytest.fixture
def second(app: Flask):
    return ensure_user("curator", email="second-curator@example.org")


@pytest.fixture
def admin(app: Flask):
    return ensure_user("admin")


def in_review(author, sender=None) -> Case:
    case = new_case(author)
    curation.change_status(case, "review", sender or author)
    db.session.commit()
    return case


# -- 1. the two-person rule: service ----------------------------------------------------------------
def test_the_curator_who_sent_a_case_for_review_cannot_publish_it(curator, second) -> None:
    case = in_review(second, sender=curator)
    with pytest.raises(CurationError, match="Another curator must publish this case: you sent it for review"):
        curation.change_status(case, "published", curator)


def test_the_author_of_the_current_revision_cannot_publish_it(curator, second) -> None:
    case = in_review(curator, sender=second)  # curator wrote it, second sent it: neither may publish
    with pytest.raises(CurationError, match="you wrote its current revision"):
        curation.change_status(case, "published", curator)
    with pytest.raises(CurationError, match="you sent it for review"):
        curation.change_status(case, "published", second)
    third = ensure_user("curator", email="third-curator@example.org")
    curation.change_status(case, "published", third)
    db.session.commit()
    assert case.status == "published"


def test_an_edit_during_review_makes_its_author_the_one_who_cannot_publish(curator, second) -> None:
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


def test_a_curator_who_only_wrote_an_older_revision_may_publish(curator, second) -> None:
    case = new_case(curator)
    form = CaseInput.from_case(case)
    form.summary = "Rewritten by the second curator."
    curation.update_case(case, form, second)
    curation.change_status(case, "review", second)
    db.session.commit()
    curation.change_status(case, "published", curator)
    assert case.status == "published"


def test_an_admin_overrides_with_a_reason_that_is_recorded(admin) -> None:
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


def test_a_curator_cannot_override_even_with_a_reason(curator) -> None:
    case = in_review(curator)
    with pytest.raises(CurationError, match="Another curator"):
        curation.change_status(case, "published", curator, override_reason="I am sure")


def test_the_setting_turns_the_rule_off_for_a_team_of_one(app: Flask, curator) -> None:
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
def test_the_manage_page_explains_why_publish_is_not_offered(login, curator, second) -> None:
    case = in_review(curator)
    html = login("curator").get(f"/curate/cases/{case.slug}").get_data(as_text=True)
    assert 'value="published"' not in html
    assert "The Publish button is not offered to you" in html
    assert "Another curator must publish this case: you wrote its current revision and sent it for review." in html
    other = login("curator").application.test_client()
    html = login_as(other, second).get(f"/curate/cases/{case.slug}").get_data(as_text=True)
    assert 'value="published"' in html and "not offered" not in html


def login_as(client, user):
    from .conftest import PASSWORD

    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return client


def test_posting_publish_anyway_is_refused_at_the_route(login, curator) -> None:
    case = in_review(curator)
    response = login("curator").post(f"/curate/cases/{case.slug}/status", data={"to": "published"})
    assert response.status_code == 400
    assert "Another curator must publish this case" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "review"


def test_an_admin_sees_the_reason_field_and_overrides_at_the_route(login, admin) -> None:
    case = in_review(admin)
    client = login("admin")
    html = client.get(f"/curate/cases/{case.slug}").get_data(as_text=True)
    assert 'name="override_reason"' in html and 'value="published"' in html
    refused = client.post(f"/curate/cases/{case.slug}/status", data={"to": "published"})
    assert refused.status_code == 400
    assert 'href="#override_reason"' in refused.get_data(as_text=True)  # the summary links to the reason
    response = client.post(
        f"/curate/cases/{case.slug}/status", data={"to": "published", "override_reason": "Team of one this week"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "published"


# -- 3. consent has no default ---------------------------------------------------------------------------
def test_a_new_case_without_a_consent_choice_gets_a_field_error(curator) -> None:
    case, errors = curation.create_case(good_input(consent=""), curator)
    assert case is None
    assert errors == {"consent": ["Choose whether consent was obtained, is not needed or is still pending"]}


def test_the_editor_preselects_no_consent_and_refuses_a_save_without_one(login, curator) -> None:
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
def test_the_workflow_says_in_review_and_consent_in_words(login, curator) -> None:
    case = new_case(curator)
    client = login("curator")
    response = client.post(f"/curate/cases/{case.slug}/status", data={"to": "review"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "is now in review" in html and "is now review" not in html
    assert "Consent not needed" in html and ">not-needed<" not in html


# -- 2. import: files marked published arrive in review --------------------------------------------------
def _published_file(**overrides):
    from casestudies.transfer.casefile import BundleFile, dump_case_file

    from .conftest import case_data

    data = case_data(**overrides)
    return BundleFile(f"{data.slug}.md", dump_case_file(data).encode("utf-8"))


def test_a_file_marked_published_arrives_in_review(curator) -> None:
    from casestudies.transfer.services import import_cases

    report = import_cases([_published_file()], actor=curator)
    db.session.commit()
    case = db.session.scalar(select(Case).where(Case.slug == "porter-discharge-lounge"))
    assert case.status == "review" and report.to_review == ["porter-discharge-lounge.md"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "import"))
    assert event.detail == "Created from porter-discharge-lounge.md; marked published: arrived in review"
    # The same file again changes nothing; the importer may not publish it (two-person rule).
    again = import_cases([_published_file()], actor=curator)
    assert again.unchanged == ["porter-discharge-lounge.md"] and again.to_review == []
    with pytest.raises(CurationError, match="you wrote its current revision"):
        curation.change_status(case, "published", curator)


def test_an_update_to_a_published_case_waits_as_a_change_in_review_and_the_same_file_is_unchanged(curator) -> None:
    from casestudies.transfer.services import import_cases

    import_cases([_published_file()], actor=None, publish=True)
    db.session.commit()
    assert import_cases([_published_file()], actor=curator).unchanged == ["porter-discharge-lounge.md"]
    report = import_cases([_published_file(summary="A new summary, not yet reviewed.")], actor=curator)
    db.session.commit()
    assert report.pending == ["porter-discharge-lounge.md"] and report.updated == [] and report.to_review == []
    case = db.session.scalar(select(Case).where(Case.slug == "porter-discharge-lounge"))
    assert (case.status, case.pending_status) == ("published", "review")
    assert case.summary != "A new summary, not yet reviewed."  # learners read the live text


def test_an_admin_confirms_publication_and_it_is_recorded(admin, curator) -> None:
    from casestudies.transfer.services import import_cases

    with pytest.raises(PermissionError):
        import_cases([_published_file()], actor=curator, publish=True)
    report = import_cases([_published_file()], actor=admin, publish=True)
    db.session.commit()
    assert report.to_review == []
    assert db.session.scalar(select(Case.status).where(Case.slug == "porter-discharge-lounge")) == "published"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "import"))
    assert event.actor_id == admin.id
    assert event.detail.endswith("published as marked (publication confirmed by an admin)")


def test_drafts_are_imported_as_drafts_whatever_publish_says(admin) -> None:
    from casestudies.transfer.services import import_cases

    import_cases([_published_file(status="draft")], actor=admin, publish=True)
    assert db.session.scalar(select(Case.status)) == "draft"


def test_the_command_line_import_arrives_in_review_unless_publish_is_given(app: Flask, tmp_path) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    file = _published_file()
    (folder / file.name).write_bytes(file.data)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import", str(folder)])
    assert result.exit_code == 0, result.output
    assert "1 file(s) marked published arrived in review (give --publish" in result.output
    assert db.session.scalar(select(Case.status)) == "review"
    (folder / file.name).write_bytes(_published_file(summary="Changed and trusted.").data)
    result = runner.invoke(args=["import", "--publish", str(folder)])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.scalar(select(Case.status)) == "published"
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.actor_id is None and event.detail.endswith("published as marked (command line --publish)")


def _upload(client, file):
    import io

    return client.post(
        "/transfer/upload",
        data={"files": [(io.BytesIO(file.data), file.name)]},
        content_type="multipart/form-data",
    )


def _token(page: str) -> str:
    return page.split('name="upload" value="')[1].split('"')[0]


@pytest.fixture
def uploads(app: Flask, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")


def test_only_an_admin_is_offered_the_publish_checkbox(login, uploads) -> None:
    page = _upload(login("curator"), _published_file()).get_data(as_text=True)
    assert 'name="publish"' not in page
    assert "1 file is marked published. Unless publication is confirmed, it arrives in review" in page
    page = _upload(login("admin"), _published_file()).get_data(as_text=True)
    assert 'name="publish"' in page and "Publish the files marked published" in page


def test_a_curator_cannot_confirm_publication_at_the_route(login, uploads) -> None:
    client = login("curator")
    token = _token(_upload(client, _published_file()).get_data(as_text=True))
    assert client.post("/transfer/import", data={"upload": token, "publish": "y"}).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_an_admin_ticks_the_box_and_the_files_stay_published(login, uploads) -> None:
    client = login("admin")
    token = _token(_upload(client, _published_file()).get_data(as_text=True))
    assert client.post("/transfer/import", data={"upload": token, "publish": "y"}).status_code == 302
    run_jobs()
    assert db.session.scalar(select(Case.status)) == "published"


def test_an_admin_who_leaves_the_box_unticked_sends_them_to_review(login, uploads) -> None:
    client = login("admin")
    token = _token(_upload(client, _published_file()).get_data(as_text=True))
    assert client.post("/transfer/import", data={"upload": token}).status_code == 302
    run_jobs()
    assert db.session.scalar(select(Case.status)) == "review"


# -- 4. review dates on the dashboard ----------------------------------------------------------------------
def test_the_dashboard_lists_cases_due_for_review_within_30_days_and_overdue(make_case) -> None:
    today = date(2027, 3, 1)
    make_case(slug="overdue", title="Overdue", review_by=today - timedelta(days=1))
    make_case(slug="due-today", title="Due today", review_by=today)
    make_case(slug="due-soon", title="Due soon", review_by=today + timedelta(days=30))
    make_case(slug="later", title="Later", review_by=today + timedelta(days=31))
    make_case(slug="no-date", title="No date", review_by=None)
    board = curation.dashboard(today)
    assert [c.slug for c in board.past_review_date] == ["overdue"]
    assert [c.slug for c in board.due_for_review] == ["due-today", "due-soon"]
    assert [board.days_until_review(c) for c in board.due_for_review] == [0, 30]


def test_the_dashboard_page_shows_both_lists(login, make_case) -> None:
    make_case(slug="overdue", title="Overdue case", review_by=date.today() - timedelta(days=3))
    make_case(slug="soon", title="Soon case", review_by=date.today() + timedelta(days=1))
    html = login("curator").get("/curate/").get_data(as_text=True)
    assert "Overdue for review (1)" in html and "Due for review in the next 30 days (1)" in html
    assert "3 days overdue" in html and "in 1 day)" in html


def test_the_diff_shows_consent_in_words(curator) -> None:
    case = new_case(curator)
    form = CaseInput.from_case(case)
    form.consent = "obtained"
    curation.update_case(case, form, curator)
    db.session.commit()
    [consent] = [c for c in curation.diff_revisions(case, 1, 2) if c.label == "Consent"]
    assert "".join(p.text for p in consent.pieces if p.kind != "added") == "Consent not needed"
    assert "".join(p.text for p in consent.pieces if p.kind != "removed") == "Consent obtained"
