"""Handouts: the participant edition given to learners by link, switched on and off, open
between optional dates, listed under "My sessions"; and a single case printed by a learner."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from casestudies.extensions import db
from casestudies.guides import editing, handouts
from casestudies.guides.editing import GuideError
from casestudies.guides.handouts import HandoutUnavailable
from casestudies.models import AuditEvent, utcnow

from . import test_guides
from .conftest import ensure_user
from .test_guides import make_guide
from .test_teaching_notes import NOTES

two_cases = test_guides.two_cases  # the fixture, shared


@pytest.fixture
def handout_guide(two_cases, make_case):
    facilitator = ensure_user("facilitator")
    guide = make_guide(
        facilitator,
        *two_cases,
        start_time=time(14, 0),
        objectives="Objective only the facilitator sees",
        opening_remarks="Opening remarks only the facilitator sees",
        introduction="Welcome, everyone.",
    )
    editing.add_segment(guide, "welcome")
    handouts.update_handout(guide, facilitator, "on")
    db.session.commit()
    return guide


def test_switching_a_handout_on_and_off_is_audited_and_keeps_its_link(app: Flask, handout_guide) -> None:
    guide, facilitator = handout_guide, ensure_user("facilitator")
    token = guide.handout_token
    assert token and handouts.handout_state(guide) == "open"
    handouts.update_handout(guide, facilitator, "off")
    assert handouts.handout_state(guide) == "off"
    handouts.update_handout(guide, facilitator, "on")
    db.session.commit()
    assert guide.handout_token == token
    actions = list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions.count("handout-on") == 2 and actions.count("handout-off") == 1
    with pytest.raises(GuideError, match="closing date must be on or after"):
        handouts.update_handout(guide, facilitator, "dates", date(2027, 3, 2), date(2027, 3, 1))


def test_a_handout_opens_only_while_on_and_between_its_dates(app: Flask, handout_guide) -> None:
    guide, learner, facilitator = handout_guide, ensure_user("learner"), ensure_user("facilitator")
    token = guide.handout_token
    today = date(2027, 3, 10)
    handouts.update_handout(guide, facilitator, "dates", date(2027, 3, 11), date(2027, 3, 20))
    with pytest.raises(HandoutUnavailable) as caught:
        handouts.open_handout(token, learner, today)
    assert caught.value.status == 403 and "opens on 11 March 2027" in str(caught.value)
    assert handouts.open_handout(token, learner, date(2027, 3, 11)) is guide
    assert handouts.open_handout(token, learner, date(2027, 3, 20)) is guide
    with pytest.raises(HandoutUnavailable) as caught:
        handouts.open_handout(token, learner, date(2027, 3, 21))
    assert caught.value.status == 410 and "closed on 20 March 2027" in str(caught.value)
    # What it is, and who can reopen it: never "ask for a new link".
    assert f"the handout for “{guide.title}”" in str(caught.value)
    assert "The facilitator who shared it can reopen it by changing its dates" in str(caught.value)
    handouts.update_handout(guide, facilitator, "off")
    with pytest.raises(HandoutUnavailable) as caught:
        handouts.open_handout(token, learner, date(2027, 3, 12))
    assert caught.value.status == 410 and "has switched it off" in str(caught.value)
    for bad in ("", "nope", "x" * 65):
        with pytest.raises(HandoutUnavailable) as caught:
            handouts.open_handout(bad, learner, today)
        assert caught.value.status == 404


def test_handouts_opened_by_lists_the_guides_newest_first(app: Flask, handout_guide, make_case) -> None:
    learner, facilitator = ensure_user("learner"), ensure_user("facilitator")
    other = make_guide(facilitator, title="Second session")
    handouts.update_handout(other, facilitator, "on")
    assert handouts.handouts_opened_by(learner) == []
    handouts.open_handout(handout_guide.handout_token, learner)
    db.session.commit()
    handouts.open_handout(other.handout_token, learner)
    db.session.commit()
    assert handouts.handouts_opened_by(learner) == [other, handout_guide]
    visit_time = utcnow() + timedelta(seconds=5)
    from casestudies.models import HandoutVisit

    db.session.scalar(select(HandoutVisit).where(HandoutVisit.guide_id == handout_guide.id)).last_opened_at = visit_time
    db.session.commit()
    assert handouts.handouts_opened_by(learner) == [handout_guide, other]
    assert handouts.handouts_opened_by(facilitator) == []


def test_role_by_route_for_handouts(app: Flask, login, handout_guide) -> None:
    guide = handout_guide
    token = guide.handout_token
    client = login("learner")
    page = client.get(f"/guides/handout/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert (
        "The porter and the lounge" in html and "What did the porter notice?" in html and "Welcome, everyone." in html
    )
    for hidden in (
        "Porter steer",
        "Clerk steer",
        "Objective only",
        "Opening remarks only",
        "minutes",
        "14:00",
        "Welcome and introductions",
    ):
        assert hidden not in html, hidden
    printed = client.get(f"/guides/handout/{token}/print").get_data(as_text=True)
    assert "Porter steer" not in printed and "facilitator edition" not in printed.lower()
    # Not the facilitator edition, the builder, or the share link.
    for path in (f"/guides/{guide.id}", f"/guides/{guide.id}/print/facilitator", f"/guides/{guide.id}/pdf/facilitator"):
        assert client.get(path).status_code == 403, path
    mine = client.get("/guides/my-sessions").get_data(as_text=True)
    assert "Speaking up: an afternoon for ward managers" in mine and f"/guides/handout/{token}" in mine
    # Switched off: a clear page, 410; the session stays listed, without its link.
    facilitator = login("facilitator")
    response = facilitator.post(f"/guides/{guide.id}/handout", data={"action": "off"})
    assert response.status_code == 302
    client = login("learner")
    response = client.get(f"/guides/handout/{token}")
    assert response.status_code == 410 and "The facilitator who shared it has switched it off" in response.get_data(
        as_text=True
    )
    assert "new link" not in response.get_data(as_text=True)
    assert response.mimetype == "text/html"  # a page, not text
    assert client.get(f"/guides/handout/{token}/pdf").status_code == 410
    mine = client.get("/guides/my-sessions").get_data(as_text=True)
    assert "Withdrawn" in mine and f"/guides/handout/{token}" not in mine
    assert client.get("/guides/handout/not-a-token").status_code == 404
    # Dates through the builder: a closing date before the opening date is refused, kept.
    facilitator = login("facilitator")
    response = facilitator.post(
        f"/guides/{guide.id}/handout",
        data={"action": "on"} | typed_date("opens_on", 2, 3, 2027) | typed_date("closes_on", 1, 3, 2027),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "closing date must be on or after" in html
    assert typed_value(html, "closes_on-day") == "1" and typed_value(html, "opens_on-month") == "3"
    yesterday = utcnow().date() - timedelta(days=1)
    facilitator.post(
        f"/guides/{guide.id}/handout",
        data={"action": "on"} | typed_date("closes_on", yesterday.day, yesterday.month, yesterday.year),
    )
    assert login("learner").get(f"/guides/handout/{token}").status_code == 410


def typed_value(html: str, name: str) -> str | None:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    value = re.search(r'value="([^"]*)"', tag[0]) if tag else None
    return value[1] if value else None


def typed_date(name: str, day: int | str, month: int | str, year: int | str) -> dict[str, str]:
    """A date as typed in the NHS date input's three boxes."""
    return {f"{name}-day": str(day), f"{name}-month": str(month), f"{name}-year": str(year)}


def test_handout_dates_are_typed_as_day_month_and_year(app: Flask, login, handout_guide) -> None:
    guide = handout_guide
    facilitator = login("facilitator")
    page = facilitator.get(f"/guides/{guide.id}").get_data(as_text=True)
    for part in ("day", "month", "year"):
        assert f'name="opens_on-{part}"' in page and f'name="closes_on-{part}"' in page
    assert 'type="date"' not in page and "2027-03-01" not in page  # no mm/dd/yyyy picker, no ISO hint
    for typed, message in [
        (typed_date("opens_on", 31, 2, 2027), "The opening date must be a real date"),
        (typed_date("opens_on", 3, "", 2027), "The opening date must include a month"),
        (typed_date("closes_on", 3, 3, 27), "The closing date: the year must include 4 numbers"),
        (typed_date("closes_on", "x", 3, 2027), "The closing date must be a real date"),
    ]:
        response = facilitator.post(f"/guides/{guide.id}/handout", data={"action": "dates"} | typed)
        html = response.get_data(as_text=True)
        assert response.status_code == 400 and message in html, message
        assert 'class="nhsuk-error-summary' in html
    # Opening later: the facilitator is told when learners can open it, not "can now open".
    response = facilitator.post(
        f"/guides/{guide.id}/handout", data={"action": "dates"} | typed_date("opens_on", 3, 3, 2999)
    )
    assert response.status_code == 302
    builder = facilitator.get(f"/guides/{guide.id}").get_data(as_text=True)
    assert "Learners can open it from 3 March 2999 with the handout link." in builder
    assert "can now open" not in builder
    assert [typed_value(builder, f"opens_on-{part}") for part in ("day", "month", "year")] == ["3", "3", "2999"]


def test_a_learner_prints_a_single_case_without_notes(app: Flask, login, make_case) -> None:
    case = make_case(teaching_notes=NOTES)
    client = login("learner")
    assert f"/cases/{case.slug}/print" in client.get(f"/cases/{case.slug}").get_data(as_text=True)
    html = client.get(f"/cases/{case.slug}/print").get_data(as_text=True)
    assert case.title in html and "What did the porter notice that others missed?" in html
    assert "Secret facilitator steer" not in html and "Read the case alone" not in html


def test_deleting_a_guide_deletes_its_handout_visits(app: Flask, handout_guide) -> None:
    learner = ensure_user("learner")
    handouts.open_handout(handout_guide.handout_token, learner)
    db.session.commit()
    editing.delete_guide(handout_guide)
    db.session.commit()
    assert handouts.handouts_opened_by(learner) == []
    from casestudies.models import HandoutVisit

    assert db.session.scalars(select(HandoutVisit)).all() == []


# -- a reflection on a session ----------------------------------------------------------------
def test_a_reflection_names_a_session_only_if_its_writer_opened_the_handout(app: Flask, handout_guide) -> None:
    from casestudies.learning import notebook

    learner = ensure_user("learner")
    words = {"kind": "free", "title": "After the session", "body": "What I took away."}
    with pytest.raises(notebook.NotebookError) as refused:
        notebook.save_reflection(learner, notebook.ReflectionInput(**words, guide_id=handout_guide.id))
    assert "guide_id" in refused.value.errors  # not opened yet: no link to someone else's guide
    handouts.open_handout(handout_guide.handout_token, learner)
    reflection = notebook.save_reflection(learner, notebook.ReflectionInput(**words, guide_id=handout_guide.id))
    db.session.commit()
    assert notebook.open_reflection(reflection).session is handout_guide
    assert notebook.my_data(learner)["reflections"][0]["session"] == handout_guide.title
    # The facilitator who wrote the guide gains no way in: the reflection stays its writer's.
    with pytest.raises(notebook.NotebookNotFound):
        notebook.get_own_reflection(reflection.id, ensure_user("facilitator"))


def test_the_handout_offers_a_reflection_on_its_session(app: Flask, login, handout_guide) -> None:
    learner = login("learner")
    handout = learner.get(f"/guides/handout/{handout_guide.handout_token}").get_data(as_text=True)
    link = f"/my/notebook/reflections/new?session={handout_guide.id}"
    assert link in handout
    form = learner.get(link).get_data(as_text=True)
    assert f'<option value="{handout_guide.id}" selected>{handout_guide.title}</option>' in form
    answer = learner.post(
        "/my/notebook/reflections/new",
        data={"kind": "free", "title": "On the session", "body": "Notes to self.", "guide_id": str(handout_guide.id)},
    )
    assert answer.status_code == 302
    page = learner.get(answer.headers["Location"]).get_data(as_text=True)
    assert f"On the session “{handout_guide.title}”" in page
    refused = learner.post(
        "/my/notebook/reflections/new",
        data={"kind": "free", "title": "Elsewhere", "body": "Notes.", "guide_id": "99999"},
    )
    assert refused.status_code == 400
    assert "Choose one of the sessions whose handout you opened" in refused.get_data(as_text=True)
