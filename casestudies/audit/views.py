"""The audit log page (curators and admins)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template, request, stream_with_context
from flask_login import current_user
from werkzeug.wrappers import Response

from casestudies.audit.filters import ACTION_LABELS, case_choices, parse_audit_args, person_choices
from casestudies.audit.services import events_csv, list_events
from casestudies.models import Role
from casestudies.params import parse_page
from casestudies.policy import requires

bp = Blueprint("audit", __name__)
AUDIT_PER_PAGE = 50


def _page_arg() -> int:
    return parse_page(request.args.get("page"), last=100_000)


@bp.get("/audit")
@requires(Role.CURATOR)
def log():
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


@bp.get("/audit/export.csv")
@requires(Role.CURATOR)
def export_csv():
    """The log with the page's filters, as CSV (cells safe from formula injection)."""
    query = parse_audit_args(request.args)
    if query.errors:
        return log()
    rows = events_csv(query.filters, current_user)
    first = next(rows)  # records the export now, inside the request's one commit
    body = stream_with_context(_chain(first, rows))  # later batches read in the request's context
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="every-seat-audit-{date.today().isoformat()}.csv"'},
    )


def _chain(first: str, rest):
    yield first
    yield from rest
