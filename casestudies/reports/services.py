"""Reports of problems with cases: a reader reports, a curator resolves, the reader sees the
outcome. Services change the session and flush; the request commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from casestudies import curation
from casestudies.audit import services as audit
from casestudies.cases.vocab import Status
from casestudies.errors import NotFound, Refused
from casestudies.extensions import db
from casestudies.models import Case, CaseReport, User, utcnow
from casestudies.notifications import events as notify

REASONS: dict[str, str] = {
    "out-of-date": "Out of date",
    "factual-error": "Factual error",
    "identifies-someone": "Identifies someone",
    "broken-link": "Broken link",
    "accessibility": "Accessibility problem",
    "other": "Other",
}
OUTCOMES: dict[str, str] = {
    "fixed": "Fixed",
    "no-action": "No action needed",
    "unpublished": "Unpublished",
}
MAX_TEXT = 2000
# Per reader: enough for a careful reader, too few to flood the curators' queue.
MAX_REPORTS_PER_HOUR = 10
MAX_OPEN_REPORTS = 30

FieldErrors = dict[str, str]


class ReportError(Refused):
    """A rule refused the change; the message is for the user."""


@dataclass
class ReportInput:
    reason: str = ""
    text: str = ""


@dataclass
class ResolutionInput:
    outcome: str = ""
    note: str = ""


def _volume_problem(reporter: User) -> str | None:
    """Why the reader can't send another report now, or None."""
    mine = CaseReport.reporter_id == reporter.id
    open_count = db.session.scalar(select(func.count()).where(mine, CaseReport.outcome.is_(None))) or 0
    if open_count >= MAX_OPEN_REPORTS:
        return (
            f"You have {open_count} reports waiting for the curators, the most at a time: "
            "you can send another once some are resolved (see “My reports”)"
        )
    since = utcnow() - timedelta(hours=1)
    recent = db.session.scalar(select(func.count()).where(mine, CaseReport.created_at >= since)) or 0
    if recent >= MAX_REPORTS_PER_HOUR:
        return f"You have sent {recent} reports in the last hour, the most for an hour: try again later"
    return None


def report_problem(case: Case, reporter: User, form: ReportInput) -> tuple[CaseReport | None, FieldErrors]:
    """A reader's report of a problem with a case they can see."""
    if not reporter.can_report_problem(case):
        raise NotFound(case.slug)  # as if the case did not exist
    errors: FieldErrors = {}
    if form.reason not in REASONS:
        errors["reason"] = "Choose what is wrong with the case"
    text = form.text.strip()
    if not text:
        errors["text"] = "Say what the problem is"
    elif len(text) > MAX_TEXT:
        errors["text"] = f"Use {MAX_TEXT:,} characters or fewer"
    if not errors and (problem := _volume_problem(reporter)):
        errors["text"] = problem
    if errors:
        return None, errors
    report = CaseReport(case=case, reporter=reporter, reason=form.reason, text=text)
    db.session.add(report)
    db.session.flush()
    audit.record(reporter, "report-create", case=case, detail=f"Report {report.id}: {REASONS[form.reason]}")
    notify.problem_reported(report)
    return report, {}


def resolve_report(report: CaseReport, resolver: User, form: ResolutionInput) -> FieldErrors:
    """Resolve an open report with an outcome and a note for the reader. "Unpublished" takes
    a published case out of the library (back to draft, the note as the workflow comment)."""
    if not resolver.can_resolve_reports():
        raise ReportError("Only curators can resolve reports")
    if not report.is_open:
        raise ReportError("This report has already been resolved")
    errors: FieldErrors = {}
    if form.outcome not in OUTCOMES:
        errors["outcome"] = "Choose what was done"
    note = form.note.strip()
    if not note:
        errors["note"] = "Write a note for the person who reported it"
    elif len(note) > MAX_TEXT:
        errors["note"] = f"Use {MAX_TEXT:,} characters or fewer"
    case = report.case
    if case is None and form.outcome == "unpublished":
        errors["outcome"] = "This report is about a page, not a case: there is nothing to unpublish"
    if errors:
        return errors
    if case is not None and form.outcome == "unpublished" and case.status == Status.PUBLISHED and not case.is_deleted:
        try:
            curation.change_status(case, Status.DRAFT, resolver, f"Unpublished after report {report.id}: {note}")
        except curation.CurationError as exc:
            raise ReportError(str(exc)) from None
    report.outcome = form.outcome
    report.resolution_note = note
    report.resolver = resolver
    report.resolved_at = utcnow()
    audit.record(resolver, "report-resolve", case=case, detail=f"Report {report.id}: {OUTCOMES[form.outcome]}: {note}")
    notify.report_resolved(report, resolver, OUTCOMES[form.outcome])
    db.session.flush()
    return {}


def count_open_reports() -> int:
    return db.session.scalar(select(func.count()).select_from(CaseReport).where(CaseReport.outcome.is_(None))) or 0


def open_reports() -> list[CaseReport]:
    """The curators' queue: open reports, oldest first."""
    return list(
        db.session.scalars(
            select(CaseReport)
            .where(CaseReport.outcome.is_(None))
            .options(selectinload(CaseReport.case), selectinload(CaseReport.reporter))
            .order_by(CaseReport.created_at, CaseReport.id)
        )
    )


def recently_resolved(limit: int = 20) -> list[CaseReport]:
    return list(
        db.session.scalars(
            select(CaseReport)
            .where(CaseReport.outcome.is_not(None))
            .options(selectinload(CaseReport.case), selectinload(CaseReport.resolver))
            .order_by(CaseReport.resolved_at.desc(), CaseReport.id.desc())
            .limit(limit)
        )
    )


def reports_by(reporter: User) -> list[CaseReport]:
    """A reader's own reports, newest first, with their outcomes."""
    return list(
        db.session.scalars(
            select(CaseReport)
            .where(CaseReport.reporter_id == reporter.id)
            .options(selectinload(CaseReport.case))
            .order_by(CaseReport.created_at.desc(), CaseReport.id.desc())
        )
    )


def open_report_count(case: Case) -> int:
    query = select(func.count()).where(CaseReport.case_id == case.id, CaseReport.outcome.is_(None))
    return db.session.scalar(query) or 0


def get_report(report_id: int) -> CaseReport:
    report = db.session.get(CaseReport, report_id)
    if report is None:
        raise NotFound(report_id)
    return report
