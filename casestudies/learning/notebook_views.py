"""My learning: the private reflection notebook and its exports, on the learning blueprint
(views.py). Thin: each view calls the services in notebook.py and exports.py."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from casestudies.database import discard_changes
from casestudies.extensions import db
from casestudies.forms import require_csrf
from casestudies.guides.handouts import handouts_opened_by
from casestudies.learning import exports, notebook
from casestudies.learning.cpd_totals import NMC_HOURS, NMC_PARTICIPATORY_HOURS, cpd_totals
from casestudies.learning.forms import (
    ActionForm,
    CpdForm,
    ReflectionForm,
)
from casestudies.learning.views import bp
from casestudies.models import Case, Role
from casestudies.paging import page_of
from casestudies.params import parse_page
from casestudies.policy import requires

NOTEBOOK_PAGE_SIZE = 20  # reflections, and CPD entries, on a page of the notebook


def _notebook_vocabulary() -> dict[str, Any]:
    return {
        "months": notebook.MONTHS,
        "questions": notebook.NMC_QUESTIONS,
        "themes": notebook.CODE_THEMES,
        "methods": notebook.CPD_METHODS,
    }


# -- the reflection notebook -------------------------------------------------------------------
def _own_reflection(reflection_id: int):
    return notebook.get_own_reflection(reflection_id, current_user)


def _own_entry(entry_id: int):
    return notebook.get_own_cpd_entry(entry_id, current_user)


@bp.get("/my/notebook")
@requires(Role.LEARNER)
def notebook_home() -> str:
    entries = notebook.cpd_entries_of(current_user)
    return render_template(
        "learning/notebook.html",
        reflections=notebook.reflections_page(current_user, parse_page(request.args.get("page")), NOTEBOOK_PAGE_SIZE),
        entries=page_of(entries, parse_page(request.args.get("cpd_page")), NOTEBOOK_PAGE_SIZE),
        totals=cpd_totals([opened.entry for opened in entries], date.today()),
        **_cpd_vocabulary(),
    )


def _cpd_vocabulary() -> dict[str, Any]:
    return {
        "cpd_methods": notebook.CPD_METHODS,
        "format_hours": notebook.format_hours,
        "nmc_hours": NMC_HOURS,
        "nmc_participatory_hours": NMC_PARTICIPATORY_HOURS,
    }


def _reflection_page(form: ReflectionForm, found, case: Case | None, status: int = 200):
    sessions = handouts_opened_by(current_user)
    page = render_template(
        "learning/reflection_form.html", form=form, found=found, case=case, sessions=sessions, **_notebook_vocabulary()
    )
    return page, status


def _linked_case(case_id: str | None) -> Case | None:
    from casestudies.params import parse_int

    number = parse_int(case_id or "")
    case = db.session.get(Case, number) if number is not None else None
    return case if case is not None and current_user.can_view_case(case) else None


def _save_reflection(form: ReflectionForm, found):
    data = form.parsed(request.form.getlist("themes"))
    try:
        saved = notebook.save_reflection(current_user, data, found)
    except notebook.NotebookError as exc:
        discard_changes()
        for name, message in exc.errors.items():
            field = getattr(form, name, None) or form.title
            field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
        found = _own_reflection(found.id) if found is not None else None
        return _reflection_page(form, found, _linked_case(form.case_id.data), 400)
    flash("Your reflection was saved.")
    return redirect(url_for("learning.reflection", reflection_id=saved.id))


@bp.route("/my/notebook/reflections/new", methods=["GET", "POST"])
@requires(Role.LEARNER)
def new_reflection():
    if request.method == "GET":
        kind = request.args.get("form") or notebook.last_kind(current_user)  # the writer's last choice
        form = ReflectionForm(
            formdata=None,
            data={
                "kind": kind if kind in notebook.KINDS else "nmc",
                "case_id": request.args.get("case", "")[:10],
                "guide_id": request.args.get("session", "")[:10],
            },
        )
        return _reflection_page(form, None, _linked_case(form.case_id.data))
    form = ReflectionForm()
    if not form.validate_on_submit():
        abort(400)
    return _save_reflection(form, None)


@bp.get("/my/notebook/reflections/<int:reflection_id>")
@requires(Role.LEARNER)
def reflection(reflection_id: int) -> str:
    opened = notebook.open_reflection(_own_reflection(reflection_id))
    return render_template("learning/reflection.html", opened=opened, **_notebook_vocabulary())


@bp.route("/my/notebook/reflections/<int:reflection_id>/edit", methods=["GET", "POST"])
@requires(Role.LEARNER)
def edit_reflection(reflection_id: int):
    found = _own_reflection(reflection_id)
    if request.method == "GET":
        return _reflection_page(ReflectionForm.for_reflection(notebook.open_reflection(found)), found, found.case)
    form = ReflectionForm()
    if not form.validate_on_submit():
        abort(400)
    return _save_reflection(form, found)


@bp.route("/my/notebook/reflections/<int:reflection_id>/delete", methods=["GET", "POST"])
@requires(Role.LEARNER)
def delete_reflection(reflection_id: int):
    found = _own_reflection(reflection_id)
    if request.method == "GET":
        opened = notebook.open_reflection(found)
        return render_template("learning/delete_reflection.html", opened=opened, form=ActionForm())
    require_csrf()
    notebook.delete_reflection(found, current_user)
    flash("The reflection was deleted.")
    return redirect(url_for("learning.notebook_home"))


def _cpd_page(form: CpdForm, found, status: int = 200):
    return (
        render_template(
            "learning/cpd_form.html",
            form=form,
            found=found,
            reflections=notebook.reflections_of(current_user),
            **_notebook_vocabulary(),
        ),
        status,
    )


def _save_cpd(form: CpdForm, found):
    data = form.parsed(request.form.getlist("reflections"))
    try:
        notebook.save_cpd_entry(current_user, data, found)
    except notebook.NotebookError as exc:
        discard_changes()
        for name, message in exc.errors.items():
            target = {"done_on": "day", "reflection_ids": "topic"}.get(name, name)
            getattr(form, target).errors = [message]
        return _cpd_page(form, _own_entry(found.id) if found is not None else None, 400)
    flash("Your CPD log was saved.")
    return redirect(url_for("learning.notebook_home", _anchor="cpd"))


@bp.route("/my/notebook/cpd/new", methods=["GET", "POST"])
@requires(Role.LEARNER)
def new_cpd():
    if request.method == "GET":
        return _cpd_page(CpdForm(formdata=None), None)
    form = CpdForm()
    if not form.validate_on_submit():
        abort(400)
    return _save_cpd(form, None)


@bp.route("/my/notebook/cpd/<int:entry_id>/edit", methods=["GET", "POST"])
@requires(Role.LEARNER)
def edit_cpd(entry_id: int):
    found = _own_entry(entry_id)
    if request.method == "GET":
        return _cpd_page(CpdForm.for_entry(notebook.open_cpd_entry(found)), found)
    form = CpdForm()
    if not form.validate_on_submit():
        abort(400)
    return _save_cpd(form, found)


@bp.route("/my/notebook/cpd/<int:entry_id>/delete", methods=["GET", "POST"])
@requires(Role.LEARNER)
def delete_cpd(entry_id: int):
    found = _own_entry(entry_id)
    if request.method == "GET":
        opened = notebook.open_cpd_entry(found)
        return render_template("learning/delete_cpd.html", opened=opened, form=ActionForm())
    require_csrf()
    notebook.delete_cpd_entry(found, current_user)
    flash("The CPD log entry was deleted.")
    return redirect(url_for("learning.notebook_home", _anchor="cpd"))


@bp.route("/my/notebook/delete", methods=["GET", "POST"])
@requires(Role.LEARNER)
def delete_notebook():
    if request.method == "GET":
        return render_template("learning/delete_notebook.html", form=ActionForm())
    require_csrf()
    if request.form.get("confirm") != "yes":
        return render_template("learning/delete_notebook.html", form=ActionForm(), not_confirmed=True), 400
    reflections, entries = notebook.delete_notebook(current_user)
    flash(f"Your notebook was deleted for good (reflections: {reflections}, CPD log entries: {entries}).")
    return redirect(url_for("learning.notebook_home"))


# -- exports (the owner's own notebook only) ---------------------------------------------------
def _download(content: bytes | str, mimetype: str, what: str, extension: str) -> Response:
    from casestudies.models import utcnow

    filename = exports.export_filename(current_user.name, what, extension, utcnow().date())
    return Response(content, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/my/notebook/reflective-accounts.pdf")
@requires(Role.LEARNER)
def export_pdf() -> Response:
    from casestudies.jobs.renders import pdf_response
    from casestudies.models import utcnow

    html = render_template(
        "learning/accounts_print.html",
        reflections=notebook.reflections_of(current_user),
        entries=notebook.cpd_entries_of(current_user),
        questions=notebook.NMC_QUESTIONS,
        for_pdf=True,
    )
    # Rendered as a job, within the PDF budget, sealed and private to its owner.
    filename = exports.export_filename(current_user.name, "reflective-accounts", "pdf", utcnow().date())
    return pdf_response(html, filename, owner=current_user)


@bp.get("/my/notebook/reflective-accounts.docx")
@requires(Role.LEARNER)
def export_docx() -> Response:
    document = exports.accounts_docx(current_user.name, notebook.reflections_of(current_user))
    mimetype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    return _download(document, mimetype, "reflective-accounts", "docx")


@bp.get("/my/notebook/cpd-log.csv")
@requires(Role.LEARNER)
def export_csv() -> Response:
    return _download(exports.cpd_csv(notebook.cpd_entries_of(current_user)), "text/csv", "cpd-log", "csv")


@bp.get("/my/data.json")
@requires(Role.LEARNER)
def export_my_data() -> Response:
    data = json.dumps(notebook.my_data(current_user), ensure_ascii=False, indent=2)
    return _download(data, "application/json", "every-seat-data", "json")
