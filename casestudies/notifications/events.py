"""The events that tell people something, one function per event, each called by the
service that makes the change, in its transaction: a change rolled back tells nobody.

The text is built from titles, names, report reasons and curators' notes: never from a
reflection, a CPD entry or a reader's report text."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from casestudies.extensions import db
from casestudies.models import Case, CaseReport, Guide, GuideCase, User
from casestudies.notifications import kinds
from casestudies.notifications.services import curators, notify, path_for

REPORT_REASONS = {
    "out-of-date": "out of date",
    "factual-error": "a factual error",
    "identifies-someone": "identifies someone",
    "broken-link": "a broken link",
    "accessibility": "an accessibility problem",
    "other": "another problem",
}


def _users(ids: Iterable[int | None]) -> list[User]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return []
    return list(db.session.scalars(select(User).where(User.id.in_(wanted)).order_by(User.id)))


def review_requested(case: Case, actor: User | None, authors: Iterable[int], *, change: bool) -> None:
    """A case (or a change to a published case) was sent for review: curators other than
    whoever wrote or sent it."""
    what = "A change to" if change else "The case"
    notify(
        curators(excluding=[actor.id if actor else None, *authors]),
        kinds.REVIEW_REQUESTED,
        title=f"{what} “{case.title}” waits for review",
        body=f"Sent for review by {actor.name if actor else 'the command line'}.",
        link=path_for("curate.manage", slug=case.slug),
    )


def review_outcome(
    case: Case, actor: User, authors: Iterable[int], *, published: bool, note: str = "", change: bool
) -> None:
    """A curator published or returned a case or a change: whoever wrote or sent it, with
    the reviewer's note."""
    what = f"Your change to “{case.title}”" if change else f"“{case.title}”"
    outcome = "was published" if published else "went back to draft"
    body = f"{actor.name} {'published' if published else 'returned'} it."
    if note:
        body += f" Their note: {note}"
    notify(
        [user for user in _users(authors) if user.id != actor.id],
        kinds.REVIEW_OUTCOME,
        title=f"{what} {outcome}",
        body=body,
        link=path_for("curate.manage", slug=case.slug),
    )


def problem_reported(report: CaseReport) -> None:
    """A reader reported a problem: every curator but the reader."""
    about = f"“{report.case.title}”" if report.case is not None else (report.page or "a page")
    notify(
        curators(excluding=[report.reporter_id]),
        kinds.PROBLEM_REPORTED,
        title=f"A reader reported {REPORT_REASONS.get(report.reason, 'a problem')}: {about}",
        body="The report waits in the curators’ queue.",
        link=path_for("reports.resolve", report_id=report.id),
    )


def report_resolved(report: CaseReport, resolver: User, outcome_label: str) -> None:
    """A curator resolved a report: the reader who sent it, with the curator's note."""
    if report.reporter is None or report.reporter_id == resolver.id:
        return
    about = f"“{report.case.title}”" if report.case is not None else (report.page or "a page")
    notify(
        [report.reporter],
        kinds.REPORT_RESOLVED,
        title=f"The problem you reported with {about} was resolved: {outcome_label}",
        body=f"The curator’s note: {report.resolution_note or ''}",
        link=path_for("reports.mine"),
    )


# What happened to a case a guide uses: the title's few words, and the body's sentence.
CASE_CHANGES: dict[str, tuple[str, str]] = {
    "changed": ("was changed", "A curator published a new version of it."),
    "imported": ("was changed", "A new version of it was imported and published."),
    "unpublished": ("was unpublished", "Learners can no longer read it."),
    "back-to-review": (
        "went back to review",
        "Its review date passed: learners can’t read it until a curator publishes it again.",
    ),
}
CHUNK = 500  # case ids in one query


def case_changed(case: Case, actor: User | None, what: str) -> None:
    """A case left the library or changed: each facilitator with a guide or handout that
    uses it (not the curator who did it). `what`: a key of CASE_CHANGES."""
    cases_changed([case], actor, what)


def cases_changed(cases: list[Case], actor: User | None, what: str) -> None:
    """As case_changed, for many cases at once (an import): one query per CHUNK cases."""
    by_id = {case.id: case for case in cases}
    ids = sorted(by_id)
    short, sentence = CASE_CHANGES[what]
    for start in range(0, len(ids), CHUNK):
        uses = db.session.execute(
            select(Guide, GuideCase.case_id)
            .join(GuideCase, GuideCase.guide_id == Guide.id)
            .where(GuideCase.case_id.in_(ids[start : start + CHUNK]))
            .distinct()
            .order_by(GuideCase.case_id, Guide.id)
        ).all()
        for guide, case_id in uses:
            if actor is not None and guide.author_id == actor.id:
                continue
            case = by_id[case_id]
            used_in = "your guide and handout" if guide.is_handout_on else "your guide"
            notify(
                [guide.author],
                kinds.GUIDE_CASE_CHANGED,
                title=f"“{case.title}”, used in {used_in} “{guide.title}”, {short}",
                body=sentence,
                link=path_for("guides.builder", guide_id=guide.id),
            )


def status_changed(case: Case, from_status: str, to_status: str, actor: User, comment: str) -> None:
    """The workflow moved a case (curation/workflow.py `change_status`)."""
    from casestudies.cases.vocab import Status
    from casestudies.curation.workflow import review_blockers

    if to_status == Status.REVIEW:
        review_requested(case, actor, review_blockers(case), change=False)
    elif from_status == Status.REVIEW:
        published = to_status == Status.PUBLISHED
        review_outcome(case, actor, review_blockers(case), published=published, note=comment, change=False)
    if from_status == Status.PUBLISHED and to_status != Status.PUBLISHED:
        case_changed(case, actor, "unpublished")


def pending_change_moved(case: Case, action: str, actor: User, comment: str, authors: Iterable[int]) -> None:
    """A pending change to a published case was submitted, published or returned
    (curation/pending.py `act`); `authors`: who wrote or sent it, taken before the move."""
    from casestudies.curation.pending import PUBLISH, RETURN, SUBMIT

    if action == SUBMIT:
        review_requested(case, actor, authors, change=True)
    elif action in (PUBLISH, RETURN):
        review_outcome(case, actor, authors, published=action == PUBLISH, note=comment, change=True)
        if action == PUBLISH:
            case_changed(case, actor, "changed")
