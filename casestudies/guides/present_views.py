"""The presenter view of a guide (/guides/<id>/present): the projected window, and the
facilitator's window with the notes. Both hold the whole plan when they load and ask for
nothing after (assets/js/present.js runs the clock and keeps the two windows together).
Who may open them is the guides' rule (guides/access.py): the author by id, and
facilitators and curators through the share link."""

from __future__ import annotations

from flask import render_template, url_for
from flask_login import current_user

from casestudies.guides import access
from casestudies.guides import plan as timed_plan
from casestudies.guides.presenting import presenter_items
from casestudies.guides.views import bp
from casestudies.models import Guide, Role
from casestudies.policy import requires


def _present(guide: Guide, *, with_notes: bool, urls: dict[str, str]) -> str:
    plan = timed_plan.plan_guide(guide)
    return render_template(
        "guides/present.html",
        guide=guide,
        plan=plan,
        items=presenter_items(plan),
        with_notes=with_notes,
        urls=urls,
    )


def _own_urls(guide_id: int) -> dict[str, str]:
    return {
        "back": url_for("guides.builder", guide_id=guide_id),
        "projected": url_for("guides.present", guide_id=guide_id),
        "notes": url_for("guides.present_notes", guide_id=guide_id),
    }


def _shared_urls(token: str) -> dict[str, str]:
    return {
        "back": url_for("guides.shared", token=token),
        "projected": url_for("guides.shared_present", token=token),
        "notes": url_for("guides.shared_present_notes", token=token),
    }


@bp.get("/<int:guide_id>/present")
@requires(Role.FACILITATOR)
def present(guide_id: int) -> str:
    guide = access.get_guide_for_viewer(guide_id, current_user)
    return _present(guide, with_notes=False, urls=_own_urls(guide.id))


@bp.get("/<int:guide_id>/present/notes")
@requires(Role.FACILITATOR)
def present_notes(guide_id: int) -> str:
    guide = access.get_guide_for_viewer(guide_id, current_user)
    return _present(guide, with_notes=True, urls=_own_urls(guide.id))


@bp.get("/shared/<token>/present")
@requires(Role.FACILITATOR)
def shared_present(token: str) -> str:
    guide = access.get_shared_guide(token, current_user)
    return _present(guide, with_notes=False, urls=_shared_urls(token))


@bp.get("/shared/<token>/present/notes")
@requires(Role.FACILITATOR)
def shared_present_notes(token: str) -> str:
    guide = access.get_shared_guide(token, current_user)
    return _present(guide, with_notes=True, urls=_shared_urls(token))
