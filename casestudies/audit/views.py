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
    events, total, page = [], 0, 1
    if not query.errors:
        page = _page_arg()
        events, total = list_events(query.filters, page, AUDIT_PER_PAGE)
    return (
        render_template(
            "audit/log.html",
            query=query,
            events=events,
            total=total,
            page=page,
            pages=max(1, -(-total // AUDIT_PER_PAGE)),
            people=person_choices(),
            cases=case_choices(),
            actions=ACTION_LABELS,
            per_page=AUDIT_PER_PAGE,
        ),
        400 if query.errors else 200,
    )
