"""The curators' workspace: the editor, the workflow, history, the bin, dashboard, coverage."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from casestudies import curation
from casestudies.audit.services import AuditFilters, list_events
from casestudies.curation import CaseInput, CurationError, EditConflict, QuestionInput
from casestudies.extensions import db
from casestudies.indexing import catch_up, check_index
from casestudies.insights.recording import record_search_page
from casestudies.library.services import search_cases
from casestudies.models import AuditEvent, Case, CaseStateChange, utcnow

from .conftest import ensure_user


@pytest.fixture
def curator(app: Flask):
    return ensure_user("curator")


def good_input(**overrides) -> CaseInput:
    values = {
        "title": "The ward clerk who fixed the phones",
        "summary": "A ward clerk redesigns how calls reach the ward.",
        "seat": "Ward clerk",
        "setting": "Acute hospital",
        "dimensions": ["Engaging the team"],
        "tags": "communication, Patient Experience",
        "consent": "not-needed",
        "review_by": "2027-05-01",
        "body": "## The situation\n\nCalls went unanswered.\n",
        "questions": [QuestionInput("Why did calls go unanswered?", "Steer to systems", "10")],
    }
    values.update(overrides)
    return CaseInput(**values)


def second_curator():
    """Another curator: the two-person rule keeps the one who sent a case for review from publishing it."""
    return ensure_user("curator", email="second-curator@example.org")


def new_case(curator, **overrides) -> Case:
    case, errors = curation.create_case(good_input(**overrides), curator)
    assert errors == {}
    db.session.commit()
    return case


# -- the editor ---------------------------------------------------------------------------------------
def test_a_new_case_is_a_draft_with_a_revision_and_an_audit_event(curator) -> None:
    case = new_case(curator)
    assert case.status == "draft" and case.slug == "the-ward-clerk-who-fixed-the-phones"
    assert [t.name for t in case.tags] == ["communication", "Patient Experience"]
    assert case.questions[0].minutes == 10 and case.questions[0].notes == "Steer to systems"
    assert len(case.revisions) == 1 and case.revisions[0].author == curator
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.case_id == case.id)) == "create"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": ""}, "title", "title"),
        ({"title": "x" * 201}, "title", "200"),
        ({"summary": ""}, "summary", "summary"),
        ({"seat": ""}, "seat", "seat"),
        ({"setting": "y" * 81}, "setting", "80"),
        ({"tags": "ok, " + "t" * 51}, "tags", "50"),
        ({"body": "   "}, "body", "body"),
        ({"consent": "maybe"}, "consent", "consent"),
        ({"slug": "Not A Slug!"}, "slug", "slug"),
        ({"review_by": "2027-02-30"}, "review_by", "date"),
        ({"questions": [QuestionInput("Q?", "", "0")]}, "questions-0-minutes", "1 to 240"),
        ({"questions": [QuestionInput("Q?", "", "ten")]}, "questions-0-minutes", "whole number"),
        ({"questions": [QuestionInput("", "notes without a question", "")]}, "questions-0-text", "question"),
    ],
)
def test_the_editor_applies_the_case_format_rules_per_field(curator, overrides, field: str, message: str) -> None:
    case, errors = curation.create_case(good_input(**overrides), curator)
    assert case is None
    assert field in errors, errors
    assert message.lower() in " ".join(errors[field]).lower()
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_a_taken_slug_is_refused_even_when_the_case_is_in_the_bin(curator) -> None:
    case = new_case(curator)
    curation.delete_case(case, curator, "Leaving the library")
    db.session.commit()
    again, errors = curation.create_case(good_input(), curator)
    assert again is None and "bin" in errors["slug"][0]


def test_an_edit_saves_a_new_revision_and_reindexes(curator) -> None:
    case = new_case(curator)
    form = CaseInput.from_case(case)
    form.body = "## The situation\n\nThe phones rang like a zanzibarish alarm.\n"
    changed, errors = curation.update_case(case, form, curator)
    db.session.commit()
    assert changed and errors == {}
    assert [r.number for r in case.revisions] == [1, 2]
    assert case.revisions[-1].summary == "Edited text"
    catch_up()
    assert [i.case.slug for i in search_cases(curator, "zanzibarish").items] == [case.slug]
    catch_up()
    assert check_index().is_clean


def test_saving_without_changes_makes_no_revision(curator) -> None:
    case = new_case(curator)
    changed, _ = curation.update_case(case, CaseInput.from_case(case), curator)
    assert not changed and len(case.revisions) == 1


def test_the_later_of_two_concurrent_saves_is_refused(curator) -> None:
    case = new_case(curator)
    first, second = CaseInput.from_case(case), CaseInput.from_case(case)
    first.title, second.title = "First editor's title", "Second editor's title"
    curation.update_case(case, first, curator)
    db.session.commit()
    with pytest.raises(EditConflict):
        curation.update_case(case, second, curator)
    db.session.rollback()
    assert case.title == "First editor's title"


# -- workflow ---------------------------------------------------------------------------------------
def test_draft_review_published_and_back(curator) -> None:
    case = new_case(curator)
    learner = ensure_user("learner")
    curation.change_status(case, "review", curator)
    db.session.commit()
    catch_up()
    assert search_cases(learner, "ward clerk phones").total == 0
    curation.change_status(case, "published", second_curator())
    db.session.commit()
    catch_up()
    assert [i.case.slug for i in search_cases(learner, "phones").items] == [case.slug]
    with pytest.raises(CurationError, match="comment"):
        curation.change_status(case, "draft", curator, "")
    curation.change_status(case, "draft", curator, "changes requested: add a quote")
    db.session.commit()
    catch_up()
    assert search_cases(learner, "phones").total == 0
    changes = db.session.scalars(select(CaseStateChange).order_by(CaseStateChange.id)).all()
    assert [(c.from_status, c.to_status) for c in changes] == [
        ("draft", "review"),
        ("review", "published"),
        ("published", "draft"),
    ]
    assert changes[-1].comment == "changes requested: add a quote" and changes[-1].actor == curator


def test_moves_outside_the_workflow_are_refused(curator) -> None:
    case = new_case(curator)
    with pytest.raises(CurationError):
        curation.change_status(case, "published", curator)  # draft -> published skips review
    with pytest.raises(CurationError):
        curation.change_status(case, "archived", curator)


def test_a_case_with_consent_pending_cannot_be_published(curator) -> None:
    case = new_case(curator, consent="pending")
    curation.change_status(case, "review", curator)
    with pytest.raises(CurationError, match="consent is pending"):
        curation.change_status(case, "published", second_curator())


def test_facilitators_cannot_change_state(curator) -> None:
    case = new_case(curator)
    with pytest.raises(CurationError):
        curation.change_status(case, "review", ensure_user("facilitator"))


# -- history ------------------------------------------------------------------------------------------
def test_diff_and_restore(curator) -> None:
    case = new_case(curator)
    form = CaseInput.from_case(case)
    form.body = "## The situation\n\nCalls went to voicemail.\n"
    form.questions.append(QuestionInput("What changed?"))
    curation.update_case(case, form, curator)
    db.session.commit()
    changes = {c.label: c.pieces for c in curation.diff_revisions(case, 1, 2)}
    assert set(changes) == {"Text", "Questions"}
    assert ("removed", "unanswered.") in [(p.kind, p.text) for p in changes["Text"]]
    assert any(p.kind == "added" and "voicemail." in p.text for p in changes["Text"])
    curation.restore_revision(case, 1, curator)
    db.session.commit()
    assert case.version == 3 and "unanswered" in case.body and len(case.questions) == 1
    assert case.revisions[-1].summary == "Restored revision 1"


def test_restoring_never_changes_the_status(curator) -> None:
    case = new_case(curator)
    curation.change_status(case, "review", curator)
    curation.change_status(case, "published", second_curator())
    db.session.commit()
    curation.restore_revision(case, 1, curator)  # revision 1 was a draft
    db.session.commit()
    assert case.status == "published"


# -- the bin ------------------------------------------------------------------------------------------
def test_delete_moves_to_the_bin_and_restore_brings_it_back(curator, login) -> None:
    case = new_case(curator)
    curation.change_status(case, "review", curator)
    curation.change_status(case, "published", second_curator())
    db.session.commit()
    learner = ensure_user("learner")
    with pytest.raises(CurationError, match="published: say why"):
        curation.delete_case(case, curator)  # a live case goes offline only by unpublishing, with a reason
    curation.delete_case(case, curator, "Consent withdrawn")
    db.session.commit()
    last = curation.state_history(case)[0]
    assert (last.from_status, last.to_status, last.comment) == (
        "published",
        "draft",
        "Moved to the bin: Consent withdrawn",
    )
    catch_up()
    assert search_cases(learner, "phones").total == 0 and search_cases(curator, "phones").total == 0
    assert login("curator").get(f"/cases/{case.slug}").status_code == 404
    catch_up()
    assert check_index().is_clean
    curation.restore_case(case, curator)
    db.session.commit()
    catch_up()
    assert case.status == "draft"  # unpublished on its way to the bin: back as a draft
    assert search_cases(learner, "phones").total == 0 and search_cases(curator, "phones").total == 1
    catch_up()
    assert check_index().is_clean


def test_the_bin_is_emptied_after_thirty_days(curator) -> None:
    old, recent = new_case(curator), new_case(curator, title="Another one")
    curation.delete_case(old, curator, "Leaving the library")
    curation.delete_case(recent, curator, "Leaving the library")
    old.deleted_at = utcnow() - timedelta(days=31)
    db.session.commit()
    assert curation.purge_expired() == 1
    db.session.commit()
    assert [c.title for c in curation.binned_cases()] == ["Another one"]
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "purge")) is not None


# -- dashboard and coverage -----------------------------------------------------------------------------
def test_dashboard_lists_the_work_to_do(curator, make_case) -> None:
    from flask import current_app

    current_app.config["GAP_MIN_SEARCHERS"] = 1  # one reader's searches, listed
    new_case(curator, title="A draft")
    in_review = new_case(curator, title="In review")
    curation.change_status(in_review, "review", curator)
    make_case(slug="overdue", title="Overdue", review_by=date(2020, 1, 1))
    make_case(slug="bare", title="Bare", questions=(), dimensions=())
    learner = ensure_user("learner")
    for _ in range(3):
        catch_up()
        record_search_page(learner, search_cases(learner, "gerontology"))
    catch_up()
    record_search_page(learner, search_cases(learner, "Gerontology"))
    db.session.commit()
    board = curation.dashboard()
    assert [c.title for c in board.in_review] == ["In review"]
    assert board.drafts_by_author == [
        ("Test curator", [db.session.scalar(select(Case).where(Case.title == "A draft"))])
    ]
    assert [c.slug for c in board.past_review_date] == ["overdue"]
    assert [c.slug for c in board.without_questions] == ["bare"]
    assert [c.slug for c in board.without_dimensions] == ["bare"]
    assert board.empty_searches == [("gerontology", 4)]


def test_curators_searches_are_not_listed(curator) -> None:
    from flask import current_app

    current_app.config["GAP_MIN_SEARCHERS"] = 1  # so that only the curators' rule hides it
    catch_up()
    record_search_page(curator, search_cases(curator, "gerontology"))
    assert curation.dashboard().empty_searches == []


def test_coverage_counts_published_cases_by_seat_and_dimension(make_case) -> None:
    make_case(slug="a", seat="Porter", dimensions=("Leading with care", "Engaging the team"))
    make_case(slug="b", seat="Porter", dimensions=("Leading with care",))
    make_case(slug="c", seat="Porter", dimensions=("Holding to account",), status="draft")
    grid = curation.coverage()
    assert grid.seats == ["Porter"]
    assert grid.counts[("Porter", "Leading with care")] == 2
    assert grid.counts[("Porter", "Engaging the team")] == 1
    assert grid.counts[("Porter", "Holding to account")] == 0


def test_every_change_is_in_the_audit_log(curator) -> None:
    case = new_case(curator)
    curation.change_status(case, "review", curator)
    curation.delete_case(case, curator, "Leaving the library")
    curation.restore_case(case, curator)
    db.session.commit()
    listed = list_events(AuditFilters(case_id=case.id))
    events = listed.items
    assert listed.total == 4
    assert [e.action for e in reversed(events)] == ["create", "state", "delete", "restore"]
    assert all(e.actor_id == curator.id for e in events)


# -- the pages ----------------------------------------------------------------------------------------
def test_the_editor_form_keeps_what_was_typed_when_a_save_is_refused(login, curator) -> None:
    client = login("curator")
    response = client.post(
        "/curate/cases/new",
        data={"title": "", "summary": "My careful summary", "seat": "Porter", "body": "My long text",
              "q-0-text": "My question?", "q-0-notes": "", "q-0-minutes": "999", "action": "save"},
    )  # fmt: skip
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in html and "My careful summary" in html and "My long text" in html
    assert "My question?" in html and "999" in html


def test_question_rows_are_added_moved_and_removed_without_saving(login, curator) -> None:
    client = login("curator")
    data = {"title": "T", "q-0-text": "First", "q-1-text": "Second", "action": "up-1"}
    html = client.post("/curate/cases/new", data=data).get_data(as_text=True)
    assert html.index("Second") < html.index("First")
    html = client.post("/curate/cases/new", data={**data, "action": "add-question"}).get_data(as_text=True)
    assert 'name="q-2-text"' in html
    html = client.post("/curate/cases/new", data={**data, "action": "remove-0"}).get_data(as_text=True)
    assert "First" not in html and "Second" in html
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_preview_renders_with_the_sanitising_renderer(login, curator) -> None:
    html = (
        login("curator")
        .post(
            "/curate/cases/new",
            data={"title": "T", "body": "## Hello\n\n<script>alert(1)</script>", "action": "preview"},
        )
        .get_data(as_text=True)
    )
    assert "<h2>Hello</h2>" in html and "<script>alert(1)</script>" not in html


def test_a_conflicting_save_answers_409_with_a_link_to_the_other_version(login, curator) -> None:
    case = new_case(curator)
    form = {"title": "Mine", "summary": case.summary, "seat": case.seat, "body": case.body, "consent": case.consent,
            "version": str(case.version - 1 if case.version > 1 else 99), "action": "save"}  # fmt: skip
    response = login("curator").post(f"/curate/cases/{case.slug}/edit", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "changed by someone else" in html and f'href="/cases/{case.slug}"' in html and "Mine" in html


def test_pages_render(login, curator, make_case) -> None:
    case = new_case(curator)
    client = login("curator")
    for url in ("/curate/", "/curate/coverage", "/curate/bin", f"/curate/cases/{case.slug}",
                f"/curate/cases/{case.slug}/history", f"/curate/cases/{case.slug}/edit",
                f"/curate/cases/{case.slug}/delete", f"/curate/cases/{case.slug}/diff?a=1&b=1"):  # fmt: skip
        assert client.get(url).status_code == 200, url
    assert client.get(f"/curate/cases/{case.slug}/diff?a=1&b=99").status_code == 400
    assert client.get("/curate/cases/no-such/edit").status_code == 404
