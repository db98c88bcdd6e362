"""The review workflow: the moves between draft, review and published, and the two-person
rule (another curator publishes what one wrote or sent for review)."""

from __future__ import annotations

from dataclasses import replace

from flask import current_app
from sqlalchemy import select

from casestudies.audit import services as audit
from casestudies.cases.revisions import case_to_data, save_case_data
from casestudies.cases.vocab import Status
from casestudies.curation.errors import CurationError, check_consent
from casestudies.extensions import db
from casestudies.models import Case, CaseRevision, CaseStateChange, Role, User
from casestudies.notifications import events as notify

# Which moves the workflow allows, and what a button calls them.
TRANSITIONS: dict[tuple[str, str], str] = {
    (Status.DRAFT, Status.REVIEW): "Submit for review",
    (Status.REVIEW, Status.PUBLISHED): "Publish",
    (Status.REVIEW, Status.DRAFT): "Request changes",
    (Status.PUBLISHED, Status.DRAFT): "Unpublish",
}


def available_transitions(case: Case) -> list[tuple[str, str]]:
    return [(to, label) for (frm, to), label in TRANSITIONS.items() if frm == case.status]


def review_blockers(case: Case) -> dict[int, list[str]]:
    """Who may not publish the case under the two-person rule, and why: the author of its
    current content (the latest revision the workflow did not write: a column, never read
    from the text) and whoever sent it for review."""
    blockers: dict[int, list[str]] = {}
    revisions = list(
        db.session.scalars(
            select(CaseRevision).where(CaseRevision.case_id == case.id).order_by(CaseRevision.number.desc())
        )
    )
    for revision in revisions:
        if revision.is_status_change:
            continue  # only the status moved: look further back for the content's author
        if revision.author_id is not None:
            blockers[revision.author_id] = ["you wrote its current revision"]
        break
    sent = db.session.scalar(
        select(CaseStateChange)
        .where(CaseStateChange.case_id == case.id, CaseStateChange.to_status == Status.REVIEW)
        .order_by(CaseStateChange.id.desc())
        .limit(1)
    )
    if sent is not None and sent.actor_id is not None:
        blockers.setdefault(sent.actor_id, []).append("you sent it for review")
    return blockers


def two_person_rule_applies() -> bool:
    return bool(current_app.config.get("TWO_PERSON_REVIEW", True))


def publish_blocker(case: Case, actor: User) -> str | None:
    """Why the two-person rule stops this actor publishing the case, or None."""
    if not two_person_rule_applies() or case.status != Status.REVIEW:
        return None
    reasons = review_blockers(case).get(actor.id)
    if not reasons:
        return None
    return "Another curator must publish this case: " + " and ".join(reasons).replace(" and you ", " and ")


def change_status(case: Case, to_status: str, actor: User, comment: str = "", override_reason: str = "") -> None:
    if not actor.has_role(Role.CURATOR):
        raise CurationError("Only curators can move cases between states")
    if case.is_deleted:
        raise CurationError("This case is in the bin: restore it first")
    if (case.status, to_status) not in TRANSITIONS:
        raise CurationError(f"A case can't move from {case.status} to {to_status}")
    comment = comment.strip()
    override_reason = override_reason.strip()
    if to_status == Status.DRAFT and not comment:
        raise CurationError("Say what needs to change: a comment is required when a case goes back to draft")
    check_consent(to_status, case.consent)
    if len(comment) > 2000 or len(override_reason) > 2000:
        raise CurationError("The comment must be 2,000 characters or fewer")
    overridden = None
    if to_status == Status.PUBLISHED:
        overridden = publish_blocker(case, actor)
        if overridden is not None:
            if not actor.can_override_review():
                raise CurationError(overridden)
            if not override_reason:
                raise CurationError(
                    f"{overridden}. To publish it yourself as an admin, "
                    "give the reason for overriding the two-person rule"
                )
    from_status, label = case.status, TRANSITIONS[(case.status, to_status)]
    history_comment = comment
    if overridden is not None:
        history_comment = f"Two-person rule overridden by an admin: {override_reason}" + (
            f" ({comment})" if comment else ""
        )
    db.session.add(
        CaseStateChange(
            case_id=case.id, from_status=case.status, to_status=to_status, comment=history_comment or None, actor=actor
        )
    )
    # Unpublishing keeps the live text as the draft; a pending change stays in the history.
    data = replace(case_to_data(case), status=to_status)
    summary = f"{label}" + (f": {history_comment}" if history_comment else "")
    save_case_data(data, actor=actor, case=case, summary=summary[:200], direct=True, status_change=True)
    audit.record(actor, "review-override" if overridden is not None else "state", case=case, detail=summary)
    notify.status_changed(case, from_status, to_status, actor, comment)


def state_history(case: Case) -> list[CaseStateChange]:
    return list(
        db.session.scalars(
            select(CaseStateChange).where(CaseStateChange.case_id == case.id).order_by(CaseStateChange.id.desc())
        )
    )
