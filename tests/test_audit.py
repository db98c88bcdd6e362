"""The audit log page: every change, filterable by person, case, kind and dates, paginated."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from casestudies.audit import services as audit
from casestudies.audit.filters import ACTION_LABELS, parse_audit_args
from casestudies.curation import tags
from casestudies.extensions import db
from casestudies.models import AuditEvent, Tag, utcnow

from .conftest import ensure_user


def rows(response) -> str:
    """The table of events only (the filter form lists every kind of change too)."""
    page = response.get_data(as_text=True)
    return page.split("<table", 1)[1] if "<table" in page else ""


def test_every_action_has_a_label() -> None:
    assert set(ACTION_LABELS) == set(audit.ACTIONS)


def test_the_filters_are_read_from_the_url_with_a_message_for_each_bad_one() -> None:
    query = parse_audit_args(
        {"person": "3", "case": "7", "action": "import", "since": "2026-01-01", "until": "2026-02-01"}
    )
    assert not query.errors
    assert (query.filters.actor_id, query.filters.case_id, query.filters.action) == (3, 7, "import")
    query = parse_audit_args({"person": "x", "case": "-1", "action": "hack", "since": "2026-02-30", "until": ""})
    assert set(query.errors) == {"person", "case", "action", "since"}
    query = parse_audit_args({"since": "2026-03-01", "until": "2026-02-01"})
    assert "after" in query.errors["until"]


def test_the_log_lists_changes_by_people_and_filters_them(app: Flask, login, make_case) -> None:
    client = login("curator")
    curator, admin = ensure_user("curator"), ensure_user("admin")
    porter = make_case(slug="porter-lounge", tags=("flow",))
    clerk = make_case(slug="clerk-phones", title="The ward clerk", tags=("phones",))
    tags.rename_tag(db.session.get(Tag, porter.tags[0].id), "patient flow", curator)
    audit.record(admin, "user-role", detail="someone: learner → curator")
    db.session.commit()

    page = rows(client.get("/audit"))
    assert "Tag renamed" in page and "Tag “flow” renamed to “patient flow”" in page
    assert "Role changed" in page and "Test admin" in page

    page = rows(client.get(f"/audit?person={admin.id}"))
    assert "Role changed" in page and "Tag renamed" not in page

    page = rows(client.get(f"/audit?case={porter.id}"))
    assert "Tag renamed" in page and "Role changed" not in page and "clerk-phones" not in page

    response = client.get("/audit?action=tag-rename")
    assert "1 change" in response.get_data(as_text=True) and "Role changed" not in rows(response)
    assert clerk.id  # made, but no event names it here

    today = utcnow().date()
    assert "Tag renamed" in rows(client.get(f"/audit?since={today}&until={today}"))
    page = client.get(f"/audit?until={today - timedelta(days=1)}").get_data(as_text=True)
    assert "No changes match these filters" in page and "<table" not in page


def test_bad_filters_are_a_400_with_the_values_kept(login) -> None:
    response = login("curator").get("/audit?since=yesterday&action=import")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "nhsuk-error-summary" in page and "must be a real date" in page
    assert 'value="yesterday"' in page and '<option value="import" selected' in page


def test_the_log_is_paginated_newest_first(app: Flask, login) -> None:
    client = login("curator")
    admin = ensure_user("admin")
    for number in range(60):
        audit.record(admin, "user-role", detail=f"change number {number:02d}")
    db.session.commit()
    first = client.get("/audit?action=user-role").get_data(as_text=True)
    assert "60 changes, showing 1 to 50" in first and "change number 59" in first and "change number 09" not in first
    second = client.get("/audit?action=user-role&page=2").get_data(as_text=True)
    assert "change number 09" in second and "change number 59" not in second
    assert 'href="/audit?action=user-role&amp;page=1"' in second  # the filters stay in the links


def test_events_outlive_the_case_they_name(app: Flask, login, make_case) -> None:
    case = make_case(slug="soon-gone", title="Soon gone")
    audit.record(ensure_user("curator"), "delete", case=case, detail="Moved to the bin")
    db.session.commit()
    case_id = case.id
    db.session.delete(case)
    db.session.commit()
    page = login("curator").get(f"/audit?case={case_id}").get_data(as_text=True)
    assert "Soon gone (soon-gone)" in page
    assert db.session.query(AuditEvent).filter_by(case_id=case_id).count() == 1
