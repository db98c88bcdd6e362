"""Handouts for learners: the participant edition of a guide opened by a link, between
optional dates, and the learners' record of the handouts they opened ("My sessions")."""

from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy import select

from casestudies.audit import services as audit
from casestudies.errors import Refused
from casestudies.extensions import db
from casestudies.guides.access import guide_query
from casestudies.guides.editing import GuideError, touch
from casestudies.models import Guide, HandoutVisit, User, utcnow


class HandoutUnavailable(Refused):
    """The handout can't be opened now; the message says why and `status` is the answer:
    404 for an unknown link, 410 once switched off or closed, 403 before it opens. The
    guides blueprint answers it with the handout's own page, not the generic error page."""


def handout_state(guide: Guide, today: date | None = None) -> str:
    """ "off", "not-yet", "closed" or "open"."""
    today = today or utcnow().date()
    if not guide.is_handout_on or guide.handout_token is None:
        return "off"
    if guide.handout_opens_on is not None and today < guide.handout_opens_on:
        return "not-yet"
    if guide.handout_closes_on is not None and today > guide.handout_closes_on:
        return "closed"
    return "open"


def update_handout(
    guide: Guide, actor: User, action: str, opens_on: date | None = None, closes_on: date | None = None
) -> None:
    """ "on": give learners the participant edition by link (the same link each time it is
    switched on again), open from opens_on to closes_on inclusive, either optional; "off":
    the link stops working at once; "dates": change the dates only. Switching on or off is
    recorded in the audit log."""
    if opens_on is not None and closes_on is not None and closes_on < opens_on:
        raise GuideError("The closing date must be on or after the opening date")
    if action not in ("on", "off", "dates"):
        raise GuideError("Choose whether to switch the handout on or off")
    if action != "off":
        guide.handout_opens_on, guide.handout_closes_on = opens_on, closes_on
    if action == "on" and not guide.is_handout_on:
        guide.handout_token = guide.handout_token or secrets.token_urlsafe(24)
        guide.is_handout_on = True
        audit.record(actor, "handout-on", detail=f"Handout of guide {guide.id} “{guide.title}” switched on")
    elif action == "off" and guide.is_handout_on:
        guide.is_handout_on = False
        audit.record(actor, "handout-off", detail=f"Handout of guide {guide.id} “{guide.title}” switched off")
    touch(guide)


def saved_message(guide: Guide, action: str, today: date | None = None) -> str:
    """What the facilitator is told after switching the handout on or off or changing its
    dates: when learners can open it, not just that it is on."""
    state = handout_state(guide, today)
    if state == "off":
        return "The handout is switched off: its link no longer opens it."
    until = f" until {_long_date(guide.handout_closes_on)}" if guide.handout_closes_on else ""
    if state == "not-yet":
        return (
            f"{'The handout is on. ' if action == 'on' else 'The handout’s dates were saved. '}"
            f"Learners can open it from {_long_date(guide.handout_opens_on)}{until} with the handout link."
        )
    if state == "closed":
        return (
            f"The handout is on, but it closed on {_long_date(guide.handout_closes_on)}: learners cannot open it. "
            "Change the closing date to reopen it."
        )
    return f"Learners can now open the participant edition{until} with the handout link."


def open_handout(token: str, user: User, today: date | None = None) -> Guide:
    """The guide whose handout this link is, for any signed-in user while it is on and open;
    the visit is recorded (see handouts_opened_by). HandoutUnavailable otherwise: 404 for an
    unknown link, 410 once switched off or closed, 403 before it opens."""
    guide = None
    if token and len(token) <= 64:
        guide = db.session.scalar(guide_query().where(Guide.handout_token == token))
    if guide is None or guide.handout_token is None or not secrets.compare_digest(guide.handout_token, token):
        raise HandoutUnavailable("There is no handout at this address. Check the link you were given.", status=404)
    state = handout_state(guide, today)
    what = f"This is the handout for “{guide.title}”: the cases and questions of a session, for its learners."
    if state == "off":
        raise HandoutUnavailable(
            f"{what} The facilitator who shared it has switched it off. They can switch it on again.", status=410
        )
    if state == "not-yet":
        raise HandoutUnavailable(
            f"{what} It opens on {_long_date(guide.handout_opens_on)}. Come back then.",
            status=403,
        )
    if state == "closed":
        raise HandoutUnavailable(
            f"{what} It closed on {_long_date(guide.handout_closes_on)}. The facilitator who shared it can reopen "
            "it by changing its dates.",
            status=410,
        )
    _record_visit(guide, user)
    return guide


def _long_date(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _record_visit(guide: Guide, user: User) -> None:
    visit = db.session.scalar(
        select(HandoutVisit).where(HandoutVisit.guide_id == guide.id, HandoutVisit.user_id == user.id)
    )
    if visit is None:
        db.session.add(HandoutVisit(guide=guide, user=user))
    else:
        visit.last_opened_at = utcnow()
    db.session.flush()


def handouts_opened_by(user: User) -> list[Guide]:
    """The guides whose handouts the user has opened, the most recently opened first
    (including handouts switched off or closed since: see handout_state)."""
    return list(
        db.session.scalars(
            select(Guide)
            .join(HandoutVisit, HandoutVisit.guide_id == Guide.id)
            .where(HandoutVisit.user_id == user.id)
            .order_by(HandoutVisit.last_opened_at.desc(), HandoutVisit.id.desc())
        )
    )
