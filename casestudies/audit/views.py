"""The audit log page (curators and admins)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from casestudies.audit.filters import ACTION_LABELS, case_choices, parse_audit_args, person_choices
from casestudies.audit.services import list_events
from casestudies.models import Role
from casestudies.params import parse_page
from casestudies.policy import requires

bp = Blueprint("audit", __name__)
AUDIT_PER_PAGE = 50


def _page_arg() -> int:
    return parse_page(request.args.get("page"), last=100_000)


@bp.get("/audit")
@requires(Role.CURATOR)
def log():  # type: ignore[no-untyped-def]
    query = parse_audit_args(request.args)
    events = None if query.errors else list_events(query.filters, _page_arg(), AUDIT_PER_PAGE)
    return (
        render_template(
            "audit/log.html",
            query=query,
            events=events,
            people=person_choices(),
            cases=case_choices(),
            actions=ACTION_LABELS,
        ),
        400 if query.errors else 200,
    )
