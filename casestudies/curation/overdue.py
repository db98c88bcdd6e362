"""Overdue review dates: with AUTO_RETURN_OVERDUE on, a published case whose review date
has passed goes back to review, so a curator checks it before it is read as current.

Run by `flask return-overdue` (meant for cron) and whenever a curator opens the dashboard,
so a library without cron still catches up the first time someone looks.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from flask import current_app
from sqlalchemy import select, update

from casestudies.audit import services as audit
from casestudies.cases.revisions import case_to_data, save_case_data
from casestudies.cases.vocab import Status
from casestudies.curation.dashboard import Dashboard, dashboard
from casestudies.extensions import db
from casestudies.models import Case, CaseStateChange
from casestudies.notifications import events as notify

SYSTEM_LABEL = "system (review date passed)"


def auto_return_enabled() -> bool:
    return bool(current_app.config.get("AUTO_RETURN_OVERDUE", False))


AUTOMATIC_LABEL = "automatically (review date passed)"


def return_overdue_to_review(today: date | None = None, *, run_by: str = "the command line") -> list[Case]:
    """Send every published case whose review date is before `today` back to review, with
    a state change, a revision and an audit event each. Returns the cases moved."""
    today = today or date.today()
    overdue = db.session.scalars(
        select(Case)
        .where(Case.status == Status.PUBLISHED, ~Case.is_deleted, Case.review_by < today)
        .order_by(Case.review_by, Case.id)
    ).all()
    moved = []
    for case in overdue:
        # Claims the case: a second server doing the same at the same moment waits for this
        # row, then finds it no longer published and leaves it alone.
        claimed = db.session.execute(
            update(Case)
            .where(Case.id == case.id, Case.status == Status.PUBLISHED)
            .values(status=Status.REVIEW)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not claimed:
            continue
        comment = f"Its review date ({case.review_by:%-d %B %Y}) has passed: back to review automatically"
        db.session.add(
            CaseStateChange(
                case_id=case.id,
                from_status=Status.PUBLISHED,
                to_status=Status.REVIEW,
                comment=comment,
                actor=None,
                actor_label=AUTOMATIC_LABEL,
            )
        )
        save_case_data(
            replace(case_to_data(case), status=Status.REVIEW),
            actor=None,
            case=case,
            summary=f"Back to review: {comment}",
            direct=True,  # the setting's own deliberate step (AUTO_RETURN_OVERDUE)
            status_change=True,
        )
        audit.record(None, "state", case=case, detail=f"{comment} (run by {run_by})", actor_label=SYSTEM_LABEL)
        notify.case_changed(case, None, "back-to-review")
        moved.append(case)
    return moved


def dashboard_after_overdue(today: date | None = None) -> tuple[Dashboard, list[Case]]:
    """The curators' dashboard, once overdue cases have gone back to review (when the
    setting is on); and the cases that just went."""
    returned = return_overdue_to_review(today, run_by="opening the dashboard") if auto_return_enabled() else []
    return dashboard(today), returned
