"""Pending changes to a published case: submitting, publishing and returning them.

A published case's row is its live revision, what learners, search, guides, handouts,
lists and downloads read. The editor, restoring a revision and imports write a pending
revision instead (cases/revisions.py, `stage_change`); it goes live only when a curator
who neither wrote nor sent any of it publishes it (an admin may override, with a reason).
Returning a change keeps the live text and the change, as a draft, in the history.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from casestudies.audit import services as audit
from casestudies.cases.revisions import apply_revision, pending_revision
from casestudies.cases.vocab import Status
from casestudies.curation.errors import CurationError
from casestudies.curation.history import FieldDiff, diff_revisions
from casestudies.curation.workflow import two_person_rule_applies
from casestudies.extensions import db
from casestudies.models import Case, CaseRevision, Role, User
from casestudies.notifications import events as notify
from casestudies.transfer.casefile import parse_case_file

SUBMIT, PUBLISH, RETURN = "submit-change", "publish-change", "return-change"
ACTIONS: dict[str, str] = {
    SUBMIT: "Submit the change for review",
    PUBLISH: "Publish the change",
    RETURN: "Return the change",
}
DONE: dict[str, str] = {
    SUBMIT: "The change to “{title}” is in review. Learners still read the live text.",
    PUBLISH: "The change to “{title}” is published: learners now read it.",
    RETURN: "The change to “{title}” went back to draft. Learners still read the live text.",
}


class NoPendingChange(CurationError):
    def __init__(self) -> None:
        super().__init__("This case has no change waiting: there is nothing to submit, publish or return")


def available_actions(case: Case) -> list[tuple[str, str]]:
    if case.status != Status.PUBLISHED or case.pending_revision_number is None:
        return []
    if case.pending_status == Status.REVIEW:
        return [(PUBLISH, ACTIONS[PUBLISH]), (RETURN, ACTIONS[RETURN])]
    return [(SUBMIT, ACTIONS[SUBMIT])]


def change_revisions(case: Case) -> list[CaseRevision]:
    """The revisions that make up the pending change: every one after the live revision."""
    if case.pending_revision_number is None:
        return []
    return list(
        db.session.scalars(
            select(CaseRevision)
            .where(
                CaseRevision.case_id == case.id,
                CaseRevision.number > (case.live_revision_number or 0),
                CaseRevision.number <= case.pending_revision_number,
            )
            .order_by(CaseRevision.number)
        )
    )


def change_blockers(case: Case) -> dict[int, list[str]]:
    """Who may not publish the pending change, and why: everyone who wrote a revision of it
    or sent it for review (columns of the revisions, never read from their text)."""
    blockers: dict[int, list[str]] = {}
    for revision in change_revisions(case):
        if revision.author_id is not None and not revision.is_status_change:
            reasons = blockers.setdefault(revision.author_id, [])
            if "you wrote it" not in reasons:
                reasons.insert(0, "you wrote it")
        if revision.submitted_by_id is not None:
            reasons = blockers.setdefault(revision.submitted_by_id, [])
            if "you sent it for review" not in reasons:
                reasons.append("you sent it for review")
    return blockers


def publish_blocker(case: Case, actor: User) -> str | None:
    """Why the two-person rule stops this actor publishing the pending change, or None."""
    if not two_person_rule_applies() or case.pending_status != Status.REVIEW:
        return None
    reasons = change_blockers(case).get(actor.id)
    if not reasons:
        return None
    return "Another curator must publish this change: " + " and ".join(reasons)


def act(case: Case, action: str, actor: User, comment: str = "", override_reason: str = "") -> str:
    """Submit, publish or return the pending change; returns what to tell the curator."""
    if not actor.has_role(Role.CURATOR):
        raise CurationError("Only curators can submit, publish or return a change")
    if case.is_deleted:
        raise CurationError("This case is in the bin: restore it first")
    revision = pending_revision(case)
    if revision is None:
        raise NoPendingChange()
    if action not in dict(available_actions(case)):
        raise CurationError(
            "This change is not in review" if action in (PUBLISH, RETURN) else "This change is already in review"
        )
    comment, override_reason = comment.strip(), override_reason.strip()
    if len(comment) > 2000 or len(override_reason) > 2000:
        raise CurationError("The comment must be 2,000 characters or fewer")
    detail = f"Revision {revision.number}" + (f": {comment}" if comment else "")
    authors = list(change_blockers(case))  # before publishing, which ends the change
    if action == SUBMIT:
        case.pending_status = Status.REVIEW
        revision.submitted_by = actor
        audit.record(actor, "change-submit", case=case, detail=f"Sent for review: {detail}")
    elif action == RETURN:
        if not comment:
            raise CurationError("Say what needs to change: a comment is required when a change goes back")
        case.pending_status = Status.DRAFT
        audit.record(actor, "change-return", case=case, detail=f"Returned: {detail}")
    else:
        _publish(case, revision, actor, detail, override_reason)
    notify.pending_change_moved(case, action, actor, comment, authors)
    db.session.flush()
    return DONE[action].format(title=case.title)


def _publish(case: Case, revision: CaseRevision, actor: User, detail: str, override_reason: str) -> None:
    data = parse_case_file(revision.content.encode("utf-8"), f"revision-{revision.number}.md")
    if data.consent == "pending":
        raise CurationError("This change can't be published while consent is pending")
    blocker = publish_blocker(case, actor)
    if blocker is not None:
        if not actor.can_override_review():
            raise CurationError(blocker)
        if not override_reason:
            raise CurationError(
                f"{blocker}. To publish it yourself as an admin, give the reason for overriding the two-person rule"
            )
        detail = f"{detail}. Two-person rule overridden by an admin: {override_reason}"
    apply_revision(case, revision)
    audit.record(
        actor, "review-override" if blocker is not None else "change-publish", case=case, detail=f"Published: {detail}"
    )


def live_diff(case: Case) -> list[FieldDiff]:
    """The pending change against the live revision, field by field."""
    if case.pending_revision_number is None or case.live_revision_number is None:
        return []
    return diff_revisions(case, case.live_revision_number, case.pending_revision_number)


@dataclass(frozen=True)
class PendingChanges:
    in_review: list[Case]
    drafts: list[Case]


def pending_changes() -> PendingChanges:
    """Published cases with a change waiting (the curators' dashboard)."""
    rows = db.session.scalars(
        select(Case)
        .where(Case.is_published, Case.pending_revision_number.is_not(None))
        .options(selectinload(Case.author))
        .order_by(Case.title)
    ).all()
    return PendingChanges(
        [case for case in rows if case.pending_status == Status.REVIEW],
        [case for case in rows if case.pending_status != Status.REVIEW],
    )
