"""Issue 28: a role change ends the shares the new role can't own, and per-user volume
limits on problem reports, reflections and CPD entries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from casestudies.accounts import oidc
from casestudies.accounts import services as accounts
from casestudies.cases.revisions import save_case_data
from casestudies.extensions import db
from casestudies.guides import access, editing, handouts
from casestudies.learning import limits, lists, notebook
from casestudies.models import AuditEvent, CaseReport, Guide, ReadingList, Reflection, Role, utcnow
from casestudies.reports import services as reports

from .conftest import app_context_for, case_data, ensure_user, make_test_app
from .oidc_fixtures import oidc_settings


def _shares_of(user, case):
    reading_list, _ = lists.save_case(user, case.id, list_id=None, new_title="For the cohort")
    token = lists.share_list(reading_list, user)
    guide, _ = editing.create_guide(user, editing.GuideDetails(title="Session one"), first_case_id=case.id)
    access.share_guide(guide)
    handouts.update_handout(guide, user, "on")
    db.session.commit()
    return reading_list, token, guide


def test_a_demoted_facilitator_s_shares_end_and_are_audited(app: Flask, login, make_case) -> None:
    case = make_case()
    facilitator = ensure_user("facilitator")
    reading_list, token, guide = _shares_of(facilitator, case)
    other = login("learner")
    shared_url = _shared_list_url(app, token)
    assert other.get(shared_url).status_code == 200
    admin_client = login("admin")
    response = admin_client.post(f"/admin/users/{facilitator.id}/role", data={"role": "learner"})
    assert response.status_code == 302
    db.session.expire_all()
    reading_list, guide = db.session.get(ReadingList, reading_list.id), db.session.get(Guide, guide.id)
    assert reading_list.share_token is None and guide.share_token is None and not guide.is_handout_on
    ended = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "share-end")).all()
    assert len(ended) == 3 and all(event.actor_id == ensure_user("admin").id for event in ended)
    assert reading_list.title in " ".join(event.detail for event in ended)
    assert other.get(shared_url).status_code == 404


def _shared_list_url(app: Flask, token: str) -> str:
    with app.test_request_context():
        from flask import url_for

        return url_for("learning.shared_list", token=token)


def test_a_promotion_or_a_curator_keeps_their_shares(app: Flask, make_case) -> None:
    facilitator = ensure_user("facilitator")
    reading_list, _, guide = _shares_of(facilitator, make_case())
    accounts.change_role(facilitator, Role.CURATOR, ensure_user("admin"))
    db.session.commit()
    assert reading_list.share_token is not None and guide.share_token is not None and guide.is_handout_on


def test_single_sign_on_groups_demoting_a_user_end_their_shares(tmp_path, migrated_db_template) -> None:
    app = make_test_app(tmp_path, migrated_db_template, **oidc_settings("http://127.0.0.1:9"))
    with app_context_for(app):
        claims = {"iss": "http://127.0.0.1:9", "sub": "fay", "email": "fay@trust.example", "email_verified": True}
        fay = oidc.account_for({**claims, "groups": ["grp-facilitators"]})
        case, _ = save_case_data(case_data(), actor=None)
        db.session.commit()
        reading_list, _, guide = _shares_of(fay, case)
        oidc.account_for({**claims, "groups": ["grp-staff"]})
        db.session.commit()
        assert fay.role == Role.LEARNER
        assert reading_list.share_token is None and guide.share_token is None and not guide.is_handout_on


# -- volume limits -------------------------------------------------------------------------------
def test_a_reader_sends_at_most_ten_reports_an_hour(app: Flask, login, make_case) -> None:
    case = make_case()
    client = login("learner")
    text = "The second paragraph names the ward. " * 50
    answers = [
        client.post(f"/cases/{case.slug}/report", data={"reason": "other", "text": text[:2000]}) for _ in range(12)
    ]
    assert [answer.status_code for answer in answers] == [302] * 10 + [400, 400]
    refused = answers[-1].get_data(as_text=True)
    assert "10 reports in the last hour" in refused and "The second paragraph" in refused  # the text is kept
    assert db.session.scalar(select(func.count()).select_from(CaseReport)) == 10


def test_a_reader_has_at_most_thirty_open_reports(app: Flask, make_case) -> None:
    case, learner = make_case(), ensure_user("learner")
    long_ago = utcnow() - timedelta(days=2)
    for _ in range(30):
        db.session.add(CaseReport(case=case, reporter=learner, reason="other", text="x", created_at=long_ago))
    db.session.commit()
    report, errors = reports.report_problem(case, learner, reports.ReportInput("other", "One more"))
    assert report is None and "30 reports waiting" in errors["text"]


def _reflection(title: str = "A reflection") -> notebook.ReflectionInput:
    return notebook.ReflectionInput(kind="free", title=title, body="What I learned")


def test_reflections_and_cpd_entries_have_a_daily_and_a_total_limit(app: Flask, monkeypatch) -> None:
    learner = ensure_user("learner")
    for n in range(limits.MAX_NEW_PER_DAY):
        notebook.save_reflection(learner, _reflection(f"Reflection {n}"))
    with pytest.raises(notebook.NotebookError, match="in the last 24 hours"):
        notebook.save_reflection(learner, _reflection())
    edited = db.session.scalars(select(Reflection)).first()
    notebook.save_reflection(learner, _reflection("Edited"), edited)  # editing is never limited
    db.session.execute(update(Reflection).values(created_at=utcnow() - timedelta(days=2)))
    notebook.save_reflection(learner, _reflection())  # a new day
    monkeypatch.setattr(limits, "MAX_REFLECTIONS", limits.MAX_NEW_PER_DAY + 1)
    with pytest.raises(notebook.NotebookError, match="the most it can keep"):
        notebook.save_reflection(learner, _reflection())

    entry = notebook.CpdInput(date(2026, 1, 5), "reading", "1", False, None, "Topic")
    for _ in range(limits.MAX_NEW_PER_DAY):
        notebook.save_cpd_entry(learner, entry)
    with pytest.raises(notebook.NotebookError, match="in the last 24 hours"):
        notebook.save_cpd_entry(learner, entry)


def test_the_cpd_page_shows_the_limit_and_keeps_what_was_typed(app: Flask, login, monkeypatch) -> None:
    monkeypatch.setattr(limits, "MAX_CPD_ENTRIES", 0)
    client = login("learner")
    response = client.post(
        "/my/notebook/cpd/new",
        data={"day": "28", "month": "2", "year": "2026", "method": "reading", "hours": "1", "topic": "Kept topic"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "the most it can keep" in page and "Kept topic" in page
