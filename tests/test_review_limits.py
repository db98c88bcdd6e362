"""Issue 28: a role change ends the shares the new role can't own, and per-user volume
limits on problem reports, reflections and CPD entries."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from casestudies.accounts import oidc
from casestudies.accounts import services as accounts
from casestudies.curation.revisions import save_case_data
from casestudies.extensions import db
from casestudies.guides import services as guides
from casestudies.learning import lists
from casestudies.models import AuditEvent, Guide, ReadingList, Role

from .conftest import app_context_for, case_data, ensure_user, make_test_app
from .oidc_fixtures import oidc_settings


def _shares_of(user, case):  # type: ignore[no-untyped-def]
    reading_list, _ = lists.save_case(user, case.id, list_id=None, new_title="For the cohort")
    token = lists.share_list(reading_list, user)
    guide, _ = guides.create_guide(user, guides.GuideDetails(title="Session one"), first_case_id=case.id)
    guides.share_guide(guide)
    guides.update_handout(guide, user, "on")
    db.session.commit()
    return reading_list, token, guide


def test_a_demoted_facilitator_s_shares_end_and_are_audited(app: Flask, login, make_case) -> None:  # type: ignore[no-untyped-def]
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


def test_a_promotion_or_a_curator_keeps_their_shares(app: Flask, make_case) -> None:  # type: ignore[no-untyped-def]
    facilitator = ensure_user("facilitator")
    reading_list, _, guide = _shares_of(facilitator, make_case())
    accounts.change_role(facilitator, Role.CURATOR, ensure_user("admin"))
    db.session.commit()
    assert reading_list.share_token is not None and guide.share_token is not None and guide.is_handout_on


def test_single_sign_on_groups_demoting_a_user_end_their_shares(tmp_path, migrated_db_template) -> None:  # type: ignore[no-untyped-def]
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
