"""The guide's details take the session's date in the NHS design system's date input (day,
month and year boxes), the one macro and field the handout's dates use: never a
year-month-day text box or the browser's date picker (mm/dd/yyyy in some locales)."""

from __future__ import annotations

import re
from datetime import date

from flask import Flask

from casestudies.extensions import db
from casestudies.models import Guide

from .conftest import ensure_user
from .test_guides import make_guide


def _boxes(html: str, name: str) -> list[str]:
    return re.findall(rf'<input[^>]*name="{name}-(day|month|year)"', html)


def test_the_session_date_is_typed_as_day_month_and_year_and_saved(app: Flask, login) -> None:
    client = login("facilitator")
    page = client.get("/guides/new").get_data(as_text=True)
    assert _boxes(page, "session_on") == ["day", "month", "year"]
    assert 'type="date"' not in page and "2027-03-01" not in page
    response = client.post(
        "/guides/new",
        data={"title": "Flow", "session_on-day": "3", "session_on-month": "3", "session_on-year": "2027"},
    )
    assert response.status_code == 302
    guide = db.session.scalars(db.select(Guide).filter_by(title="Flow")).one()
    assert guide.session_on == date(2027, 3, 3)
    # Shown again in its three boxes to change it; blank boxes clear it.
    page = client.get(f"/guides/{guide.id}/edit").get_data(as_text=True)
    for part, value in (("day", "3"), ("month", "3"), ("year", "2027")):
        assert re.search(rf'name="session_on-{part}"[^>]*value="{value}"', page), part
    client.post(f"/guides/{guide.id}/edit", data={"title": "Flow"})
    db.session.expire_all()
    assert db.session.get(Guide, guide.id).session_on is None


def test_a_wrong_session_date_is_explained_beside_its_box_and_nothing_is_saved(app: Flask, login) -> None:
    guide = make_guide(ensure_user("facilitator"), title="Flow")
    client = login("facilitator")
    response = client.post(
        f"/guides/{guide.id}/edit",
        data={"title": "Flow changed", "session_on-day": "31", "session_on-year": "2027"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "The date of the session must include a month" in page
    assert 'href="#session_on-month"' in page  # the error summary goes to the missing box
    assert re.search(r'name="session_on-day"[^>]*value="31"', page)  # what was typed stays
    response = client.post(
        f"/guides/{guide.id}/edit",
        data={"title": "Flow changed", "session_on-day": "31", "session_on-month": "2", "session_on-year": "2027"},
    )
    assert response.status_code == 400
    assert "The date of the session must be a real date" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Guide, guide.id).title == "Flow"
