"""The curators' workspace: dashboard, coverage, the case editor, workflow, history, bin."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from casestudies import curation
from casestudies.cases.vocab import CONSENT_LABELS, CONSENTS, LEADERSHIP_DIMENSIONS, STATUS_PHRASES, Status
from casestudies.curation import overdue, pending
from casestudies.curation.editor import CaseInput, QuestionInput
from casestudies.curation.errors import CurationError, EditConflict, PossibleDuplicates
from casestudies.curation.forms import apply_question_action, parse_case_editor
from casestudies.database import discard_changes
from casestudies.forms import CsrfOnlyForm
from casestudies.markdown import render_markdown
from casestudies.models import Case, Role
from casestudies.params import parse_int
from casestudies.policy import requires
from casestudies.reports import services as reports
from casestudies.reports.services import count_open_reports

bp = Blueprint("curate", __name__, url_prefix="/curate")


@bp.app_template_global("consent_label")
def consent_label(value: str) -> str:
    """A consent value in words ("Consent not needed"), never its stored form."""
    return CONSENT_LABELS.get(value, value)


def _editor(
    form: CaseInput, *, case: Case | None, errors=None, preview=None, conflict=None, duplicates=None, status=200
):
    return (
        render_template(
            "curate/edit.html",
            form=form,
            case=case,
            errors=errors or {},
            preview=preview,
            conflict=conflict,
            duplicates=duplicates or [],
            known=curation.known_values(),
            dimensions=LEADERSHIP_DIMENSIONS,
            consents=CONSENTS,
            csrf_form=CsrfOnlyForm(),
        ),
        status,
    )


@bp.get("/")
@requires(Role.CURATOR)
def dashboard() -> str:
    board, returned = overdue.dashboard_after_overdue()
    return render_template(
        "curate/dashboard.html",
        board=board,
        returned=returned,
        changes=pending.pending_changes(),
        review_due_days=curation.REVIEW_DUE_DAYS,
        open_reports=count_open_reports(),
    )


@bp.get("/coverage")
@requires(Role.CURATOR)
def coverage() -> str:
    return render_template("curate/coverage.html", grid=curation.coverage())


@bp.route("/cases/new", methods=["GET", "POST"])
@requires(Role.CURATOR)
def new_case():
    if request.method == "GET":
        return _editor(CaseInput(questions=[QuestionInput()]), case=None)
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    form, action = parse_case_editor(request.form)
    if apply_question_action(form, action):
        return _editor(form, case=None)
    if action == "preview":
        return _editor(form, case=None, preview=render_markdown(form.body))
    try:
        case, errors = curation.create_case(form, current_user)
    except PossibleDuplicates as found:
        return _editor(form, case=None, duplicates=found.duplicates)
    if case is None:
        return _editor(form, case=None, errors=errors, status=400)
    flash(f"Draft “{case.title}” created.")
    return redirect(url_for("curate.manage", slug=case.slug))


@bp.route("/cases/<slug>/edit", methods=["GET", "POST"])
@requires(Role.CURATOR)
def edit_case(slug: str):
    case = curation.get_case_for_curator(slug)
    if request.method == "GET":
        return _editor(CaseInput.from_case(case), case=case)
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    form, action = parse_case_editor(request.form)
    if apply_question_action(form, action):
        return _editor(form, case=case)
    if action == "preview":
        return _editor(form, case=case, preview=render_markdown(form.body))
    try:
        changed, errors = curation.update_case(case, form, current_user)
    except EditConflict as conflict:
        discard_changes()
        return _editor(form, case=case, conflict=conflict, status=409)
    except PossibleDuplicates as found:
        return _editor(form, case=case, duplicates=found.duplicates)
    if errors:
        return _editor(form, case=case, errors=errors, status=400)
    if not changed:
        flash("Nothing had changed, so no new revision was made.")
    elif case.pending_revision_number is not None:
        flash(
            "Saved as a change waiting for review. "
            "Learners still read the live text until another curator publishes it."
        )
    else:
        flash("Saved.")
    return redirect(url_for("curate.manage", slug=case.slug))


def _manage(case: Case, status: int = 200, **extra):
    has_change = case.pending_revision_number is not None and case.status == Status.PUBLISHED
    blocker = (
        pending.publish_blocker(case, current_user) if has_change else curation.publish_blocker(case, current_user)
    )
    transitions = pending.available_actions(case) + curation.available_transitions(case)
    if blocker is not None and not current_user.can_override_review():
        transitions = [(to, label) for to, label in transitions if to not in (Status.PUBLISHED, pending.PUBLISH)]
    return (
        render_template(
            "curate/manage.html",
            case=case,
            transitions=transitions,
            publish_blocker=blocker,
            open_reports=reports.open_report_count(case),
            history=curation.state_history(case),
            change=pending.live_diff(case) if has_change else None,
            csrf_form=CsrfOnlyForm(),
            **extra,
        ),
        status,
    )


@bp.get("/cases/<slug>")
@requires(Role.CURATOR)
def manage(slug: str):
    return _manage(curation.get_case_for_curator(slug))


@bp.post("/cases/<slug>/status")
@requires(Role.CURATOR)
def change_status(slug: str):
    case = curation.get_case_for_curator(slug)
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    to_status = request.form.get("to", "")
    done = None
    try:
        if to_status in pending.ACTIONS:  # a published case's pending change
            done = pending.act(
                case,
                to_status,
                current_user,
                request.form.get("comment", ""),
                override_reason=request.form.get("override_reason", ""),
            )
        else:
            curation.change_status(
                case,
                to_status,
                current_user,
                request.form.get("comment", ""),
                override_reason=request.form.get("override_reason", ""),
            )
    except CurationError as exc:
        discard_changes()
        return _manage(
            curation.get_case_for_curator(slug),
            400,
            error=str(exc),
            comment=request.form.get("comment", ""),
            override_reason=request.form.get("override_reason", ""),
            attempted=to_status,
        )
    flash(done or f"“{case.title}” {STATUS_PHRASES.get(case.status, 'is now ' + case.status)}.")
    return redirect(url_for("curate.manage", slug=case.slug))


@bp.route("/cases/<slug>/delete", methods=["GET", "POST"])
@requires(Role.CURATOR)
def delete_case(slug: str):
    case = curation.get_case_for_curator(slug)
    form = CsrfOnlyForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        reason = request.form.get("reason", "")
        try:
            curation.delete_case(case, current_user, reason)
        except CurationError as exc:
            discard_changes()
            return (
                render_template(
                    "curate/delete.html",
                    case=case,
                    csrf_form=form,
                    days=curation.BIN_DAYS,
                    error=str(exc),
                    reason=reason,
                ),
                400,
            )
        flash(f"“{case.title}” moved to the bin. You can restore it for {curation.BIN_DAYS} days.")
        return redirect(url_for("curate.bin"))
    return render_template("curate/delete.html", case=case, csrf_form=form, days=curation.BIN_DAYS)


@bp.get("/cases/<slug>/history")
@requires(Role.CURATOR)
def history(slug: str) -> str:
    case = curation.get_case_for_curator(slug)
    return render_template("curate/history.html", case=case, csrf_form=CsrfOnlyForm())


@bp.get("/cases/<slug>/diff")
@requires(Role.CURATOR)
def diff(slug: str):
    case = curation.get_case_for_curator(slug)
    try:
        first, second = parse_int(request.args.get("a")), parse_int(request.args.get("b"))
        if first is None or second is None:
            raise LookupError("two revision numbers")
        changes = curation.diff_revisions(case, first, second)
    except (ValueError, LookupError):
        return render_template("error.html", code=400, title="Choose two revisions to compare", message=None), 400
    return render_template("curate/diff.html", case=case, first=first, second=second, changes=changes)


@bp.post("/cases/<slug>/revisions/<int:number>/restore")
@requires(Role.CURATOR)
def restore_revision(slug: str, number: int) -> Response:
    case = curation.get_case_for_curator(slug)
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    try:
        curation.restore_revision(case, number, current_user)
    except CurationError as exc:
        discard_changes()
        flash(str(exc))
        return redirect(url_for("curate.history", slug=slug))
    if case.pending_revision_number == case.version:
        flash(
            f"Revision {number} restored as revision {case.version}, a change waiting for review: "
            "learners still read the live text until another curator publishes it."
        )
    else:
        flash(f"Revision {number} restored as revision {case.version}.")
    return redirect(url_for("curate.history", slug=slug))


@bp.get("/bin")
@requires(Role.CURATOR)
def bin() -> str:
    return render_template(
        "curate/bin.html", cases=curation.binned_cases(), expiry=curation.bin_expiry, csrf_form=CsrfOnlyForm()
    )


@bp.post("/bin/<int:case_id>/restore")
@requires(Role.CURATOR)
def restore_case(case_id: int) -> Response:
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    case = curation.get_binned_case(case_id)
    curation.restore_case(case, current_user)
    flash(f"“{case.title}” restored.")
    return redirect(url_for("curate.manage", slug=case.slug))
