"""Report a problem with a case (every signed-in reader), "My reports", and the curators'
queue under /curate/reports. Thin: read the form, call one service, flash, redirect."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from casestudies.database import discard_changes
from casestudies.forms import CsrfOnlyForm
from casestudies.library.services import get_case_for_viewer
from casestudies.models import Role
from casestudies.params import safe_local_target
from casestudies.policy import public, requires
from casestudies.reports import accessibility
from casestudies.reports import services as reports
from casestudies.reports.services import OUTCOMES, REASONS, ReportError, ReportInput, ResolutionInput

bp = Blueprint("reports", __name__)


@bp.route("/cases/<slug>/report", methods=["GET", "POST"])
@requires(Role.LEARNER)
def new(slug: str):
    case = get_case_for_viewer(slug, current_user)
    form = ReportInput()
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not CsrfOnlyForm().validate_on_submit():
            abort(400)
        form = ReportInput(request.form.get("reason", "")[:30], request.form.get("text", ""))
        report, errors = reports.report_problem(case, current_user, form)
        if report is not None:
            flash("Thank you: your report was sent to the curators. You can follow it under “My reports”.")
            return redirect(url_for("reports.mine"))
    return (
        render_template(
            "reports/new.html", case=case, form=form, errors=errors, reasons=REASONS, csrf_form=CsrfOnlyForm()
        ),
        400 if errors else 200,
    )


@bp.get("/my-reports")
@requires(Role.LEARNER)
def mine() -> str:
    return render_template(
        "reports/mine.html", items=reports.reports_by(current_user), reasons=REASONS, outcomes=OUTCOMES
    )


@bp.get("/curate/reports")
@requires(Role.CURATOR)
def queue() -> str:
    return render_template(
        "reports/queue.html",
        items=reports.open_reports(),
        resolved=reports.recently_resolved(),
        reasons=REASONS,
        outcomes=OUTCOMES,
    )


@bp.route("/curate/reports/<int:report_id>", methods=["GET", "POST"])
@requires(Role.CURATOR)
def resolve(report_id: int):
    report = reports.get_report(report_id)
    form = ResolutionInput()
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not CsrfOnlyForm().validate_on_submit():
            abort(400)
        form = ResolutionInput(request.form.get("outcome", "")[:30], request.form.get("note", ""))
        try:
            errors = reports.resolve_report(report, current_user, form)
        except ReportError as exc:
            discard_changes()
            report = reports.get_report(report_id)
            errors = {"outcome": str(exc)}
        if not errors:
            flash(f"Report {report.id} resolved: {OUTCOMES[report.outcome or '']}. The reader can see the outcome.")
            return redirect(url_for("reports.queue"))
    return (
        render_template(
            "reports/resolve.html",
            report=report,
            form=form,
            errors=errors,
            reasons=REASONS,
            outcomes=OUTCOMES,
            csrf_form=CsrfOnlyForm(),
        ),
        400 if errors else 200,
    )


@bp.get("/accessibility")
@public
def accessibility_statement() -> str:
    return render_template("reports/accessibility.html", tested=accessibility.TESTED_PAGES)


@bp.route("/accessibility/report", methods=["GET", "POST"])
@requires(Role.LEARNER)
def accessibility_problem():
    """Report an accessibility problem; `page` is the path of the page it was met on."""
    page = safe_local_target(request.values.get("page", "")) or ""
    text, errors = "", {}
    if request.method == "POST":
        if not CsrfOnlyForm().validate_on_submit():
            abort(400)
        text = request.form.get("text", "")
        report, errors = accessibility.report_accessibility_problem(current_user, page, text)
        if report is not None:
            flash("Thank you: your report was sent to the curators. You can follow it under “My reports”.")
            return redirect(url_for("reports.mine"))
    return (
        render_template(
            "reports/accessibility_problem.html", page=page, text=text, errors=errors, csrf_form=CsrfOnlyForm()
        ),
        400 if errors else 200,
    )
