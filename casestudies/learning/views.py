"""My learning: saved cases and reading lists, collections (themes), and the private
reflection notebook with its exports. Thin: each view calls the services in lists.py,
collections.py, notebook.py and exports.py."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from casestudies.database import discard_changes
from casestudies.extensions import db
from casestudies.guides.handouts import handouts_opened_by
from casestudies.learning import collections, exports, lists, notebook
from casestudies.learning.cpd_totals import NMC_HOURS, NMC_PARTICIPATORY_HOURS, cpd_totals
from casestudies.learning.forms import (
    ActionForm,
    AddCollectionCaseForm,
    CollectionForm,
    CpdForm,
    ListTitleForm,
    ReflectionForm,
    SaveCaseForm,
)
from casestudies.markdown import render_markdown
from casestudies.models import Case, Role
from casestudies.paging import page_holding, page_of
from casestudies.params import parse_page, safe_local_target
from casestudies.policy import requires

bp = Blueprint("learning", __name__)
NOTEBOOK_PAGE_SIZE = 20  # reflections, and CPD entries, on a page of the notebook
COLLECTION_PAGE_SIZE = 20


@bp.app_context_processor
def _learning_helpers() -> dict[str, Any]:
    def reading_list_choices() -> list:
        """The signed-in user's lists, for "Save" (one query per request)."""
        if "reading_list_choices" not in g:
            g.reading_list_choices = lists.list_choices(current_user) if current_user.is_authenticated else []
        return g.reading_list_choices

    def saved_case_ids() -> set[int]:
        """The cases in the signed-in user's lists, shown as "Saved" (one query per request)."""
        if "saved_case_ids" not in g:
            g.saved_case_ids = lists.saved_case_ids(current_user) if current_user.is_authenticated else set()
        return g.saved_case_ids

    return {
        "reading_list_choices": reading_list_choices,
        "saved_case_ids": saved_case_ids,
        "can_share_lists": lists.can_share_lists,
    }


def _notebook_vocabulary() -> dict[str, Any]:
    return {
        "months": notebook.MONTHS,
        "questions": notebook.NMC_QUESTIONS,
        "themes": notebook.CODE_THEMES,
        "methods": notebook.CPD_METHODS,
    }


def _check_csrf() -> None:
    if not ActionForm().validate_on_submit():
        abort(400)


def _direction() -> str:
    direction = request.form.get("direction", "")
    if direction not in ("up", "down"):
        abort(400)
    return direction


# -- saved cases and reading lists ---------------------------------------------------------
def _own_list(list_id: int):
    return lists.get_own_list(list_id, current_user)


@bp.get("/my/lists")
@requires(Role.LEARNER)
def reading_lists() -> str:
    return render_template("learning/lists.html", lists=lists.lists_of(current_user), form=ListTitleForm())


@bp.post("/my/lists")
@requires(Role.LEARNER)
def new_list():
    form = ListTitleForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        reading_list = lists.create_list(current_user, form.title.data or "")
    except lists.ListError as exc:
        discard_changes()
        form.title.errors = [str(exc)]
        return render_template("learning/lists.html", lists=lists.lists_of(current_user), form=form), 400
    flash(f"List “{reading_list.title}” created.")
    return redirect(url_for("learning.reading_list", list_id=reading_list.id))


@bp.post("/my/lists/save")
@requires(Role.LEARNER)
def save_case() -> Response:
    form = SaveCaseForm()
    case_id, list_id = form.parsed()
    if not form.validate_on_submit() or case_id is None:
        abort(400)
    back = safe_local_target(form.next.data)
    try:
        reading_list, added = lists.save_case(
            current_user, case_id, list_id=list_id, new_title=form.new_title.data or ""
        )
    except lists.ListError as exc:
        discard_changes()
        flash(f"{exc}.")
        return redirect(back or url_for("learning.reading_lists"))
    link = url_for("learning.reading_list", list_id=reading_list.id)
    if added:
        flash(Markup('Saved to <a href="{}">{}</a>.').format(link, reading_list.title))
    else:
        flash(Markup('Already in <a href="{}">{}</a>.').format(link, reading_list.title))
    return redirect(back or link)


@bp.get("/my/lists/<int:list_id>")
@requires(Role.LEARNER)
def reading_list(list_id: int) -> str:
    found = _own_list(list_id)
    form = ListTitleForm(data={"title": found.title})
    return _list_page(found, form)


def _list_page(found, form: ListTitleForm) -> str:
    pagination = page_of(lists.shown_items(found), parse_page(request.args.get("page")), lists.PAGE_SIZE)
    return render_template("learning/list.html", reading_list=found, pagination=pagination, form=form)


def _item_url(list_id: int, index: int, item_id: int | None = None) -> str:
    """The page of the list that shows the item at `index`, scrolled to it."""
    page = page_holding(index, lists.PAGE_SIZE)
    anchor = f"item-{item_id}" if item_id is not None else "items"
    return url_for("learning.reading_list", list_id=list_id, page=page if page > 1 else None, _anchor=anchor)


@bp.post("/my/lists/<int:list_id>/rename")
@requires(Role.LEARNER)
def rename_list(list_id: int):
    found = _own_list(list_id)
    form = ListTitleForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        lists.rename_list(found, form.title.data or "")
    except lists.ListError as exc:
        discard_changes()
        found = _own_list(list_id)
        form.title.errors = [str(exc)]
        return _list_page(found, form), 400
    flash("The list was renamed.")
    return redirect(url_for("learning.reading_list", list_id=list_id))


@bp.post("/my/lists/<int:list_id>/move")
@requires(Role.LEARNER)
def move_list(list_id: int) -> Response:
    found = _own_list(list_id)
    _check_csrf()
    lists.move_list(found, _direction())
    return redirect(url_for("learning.reading_lists", _anchor=f"list-{list_id}"))


@bp.post("/my/lists/<int:list_id>/items/<int:item_id>/move")
@requires(Role.LEARNER)
def move_item(list_id: int, item_id: int) -> Response:
    found = _own_list(list_id)
    _check_csrf()
    lists.move_item(found, item_id, _direction())
    return redirect(_item_url(list_id, lists.item_index(found, item_id), item_id))


@bp.post("/my/lists/<int:list_id>/items/<int:item_id>/remove")
@requires(Role.LEARNER)
def remove_item(list_id: int, item_id: int) -> Response:
    found = _own_list(list_id)
    _check_csrf()
    removed = lists.remove_item(found, item_id)
    undo = {
        "text": f"“{removed.title}” removed from the list.",
        "action": url_for("learning.restore_item", list_id=list_id),
        "token": lists.undo_token(removed),
        "label": f"Undo: put “{removed.title}” back",
    }
    flash(undo, "undo")
    return redirect(_item_url(list_id, min(removed.position, len(found.items) - 1)))


@bp.post("/my/lists/<int:list_id>/items/restore")
@requires(Role.LEARNER)
def restore_item(list_id: int) -> Response:
    found = _own_list(list_id)
    _check_csrf()
    try:
        removed = lists.restore_item(found, request.form.get("token", ""))
    except lists.ListError as exc:
        discard_changes()
        flash(f"{exc}.")
        return redirect(url_for("learning.reading_list", list_id=list_id))
    flash(f"“{removed.title}” is back in the list.")
    index = next((i for i, item in enumerate(found.items) if item.case_id == removed.case_id), 0)
    return redirect(_item_url(list_id, index, found.items[index].id if found.items else None))


@bp.route("/my/lists/<int:list_id>/delete", methods=["GET", "POST"])
@requires(Role.LEARNER)
def delete_list(list_id: int):
    found = _own_list(list_id)
    if request.method == "GET":
        return render_template("learning/delete_list.html", reading_list=found, form=ActionForm())
    _check_csrf()
    title = found.title
    lists.delete_list(found)
    flash(f"List “{title}” deleted.")
    return redirect(url_for("learning.reading_lists"))


@bp.post("/my/lists/<int:list_id>/sharing")
@requires(Role.FACILITATOR)
def list_sharing(list_id: int) -> Response:
    found = _own_list(list_id)
    _check_csrf()
    action = request.form.get("action")
    if action == "share":
        lists.share_list(found, current_user)
        flash("Anyone signed in can now read this list with its link.")
    elif action == "stop":
        lists.stop_sharing(found, current_user)
        flash("The list is no longer shared. Its old link does not work any more.")
    else:
        abort(400)
    return redirect(url_for("learning.reading_list", list_id=list_id, _anchor="sharing"))


@bp.get("/reading-lists/<token>")
@requires(Role.LEARNER)
def shared_list(token: str) -> str:
    found = lists.get_shared_list(token)
    pagination = page_of(lists.shown_items(found), parse_page(request.args.get("page")), lists.PAGE_SIZE)
    return render_template("learning/shared_list.html", reading_list=found, pagination=pagination)


@bp.post("/reading-lists/<token>/copy")
@requires(Role.LEARNER)
def copy_shared_list(token: str) -> Response:
    _check_csrf()
    copy = lists.copy_shared_list(current_user, lists.get_shared_list(token))
    flash(f"A copy of “{copy.title}” is now in your lists, with {len(copy.items)} cases.")
    return redirect(url_for("learning.reading_list", list_id=copy.id))


# -- collections -------------------------------------------------------------------------------
@bp.get("/collections/<slug>")
@requires(Role.LEARNER)
def collection(slug: str) -> str:
    view = collections.collection_for_reader(slug)
    cards = page_of(view.cards, parse_page(request.args.get("page")), COLLECTION_PAGE_SIZE)
    intro = render_markdown(view.collection.introduction)
    return render_template("learning/collection.html", view=view, cards=cards, intro=intro)


def _collection(collection_id: int):
    return collections.get_collection(collection_id)


@bp.get("/curate/collections")
@requires(Role.CURATOR)
def manage_collections() -> str:
    return render_template("learning/collections.html", collections=collections.all_collections(), form=ActionForm())


@bp.route("/curate/collections/new", methods=["GET", "POST"])
@requires(Role.CURATOR)
def new_collection():
    form = CollectionForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("learning/collection_form.html", form=form, found=None), status
    try:
        created = collections.create_collection(form.details())
    except collections.CollectionError as exc:
        discard_changes()
        form.title.errors = [str(exc)]
        return render_template("learning/collection_form.html", form=form, found=None), 400
    flash(f"Collection “{created.title}” created. Add its cases below.")
    return redirect(url_for("learning.edit_collection", collection_id=created.id))


def _edit_page(found, form: CollectionForm, add_form: AddCollectionCaseForm, status: int = 200):
    page = render_template(
        "learning/collection_form.html", form=form, add_form=add_form, found=found, action_form=ActionForm()
    )
    return page, status


@bp.route("/curate/collections/<int:collection_id>", methods=["GET", "POST"])
@requires(Role.CURATOR)
def edit_collection(collection_id: int):
    found = _collection(collection_id)
    if request.method == "GET":
        form = CollectionForm(
            data={"title": found.title, "introduction": found.introduction, "is_featured": found.is_featured}
        )
        return _edit_page(found, form, AddCollectionCaseForm(formdata=None))
    form = CollectionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        collections.update_collection(found, form.details())
    except collections.CollectionError as exc:
        discard_changes()
        form.title.errors = [str(exc)]
        return _edit_page(_collection(collection_id), form, AddCollectionCaseForm(formdata=None), 400)
    flash("The collection was saved.")
    return redirect(url_for("learning.edit_collection", collection_id=collection_id))


@bp.post("/curate/collections/<int:collection_id>/cases")
@requires(Role.CURATOR)
def add_collection_case(collection_id: int):
    found = _collection(collection_id)
    add_form = AddCollectionCaseForm()
    if not add_form.validate_on_submit():
        abort(400)
    try:
        case = collections.add_case(found, (add_form.slug.data or "")[:300], current_user)
    except collections.CollectionError as exc:
        discard_changes()
        add_form.slug.errors = [str(exc)]
        found = _collection(collection_id)
        form = CollectionForm(
            formdata=None,
            data={"title": found.title, "introduction": found.introduction, "is_featured": found.is_featured},
        )
        return _edit_page(found, form, add_form, 400)
    flash(f"“{case.title}” added.")
    return redirect(url_for("learning.edit_collection", collection_id=collection_id, _anchor="cases"))


@bp.post("/curate/collections/<int:collection_id>/cases/<int:item_id>/move")
@requires(Role.CURATOR)
def move_collection_case(collection_id: int, item_id: int) -> Response:
    found = _collection(collection_id)
    _check_csrf()
    collections.move_case(found, item_id, _direction())
    return redirect(url_for("learning.edit_collection", collection_id=collection_id, _anchor=f"item-{item_id}"))


@bp.post("/curate/collections/<int:collection_id>/cases/<int:item_id>/remove")
@requires(Role.CURATOR)
def remove_collection_case(collection_id: int, item_id: int) -> Response:
    found = _collection(collection_id)
    _check_csrf()
    title = collections.remove_case(found, item_id)
    flash(f"“{title}” removed from the collection.")
    return redirect(url_for("learning.edit_collection", collection_id=collection_id, _anchor="cases"))


@bp.route("/curate/collections/<int:collection_id>/delete", methods=["GET", "POST"])
@requires(Role.CURATOR)
def delete_collection(collection_id: int):
    found = _collection(collection_id)
    if request.method == "GET":
        return render_template("learning/delete_collection.html", found=found, form=ActionForm())
    _check_csrf()
    title = found.title
    collections.delete_collection(found)
    flash(f"Collection “{title}” deleted.")
    return redirect(url_for("learning.manage_collections"))


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
    _check_csrf()
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
    _check_csrf()
    notebook.delete_cpd_entry(found, current_user)
    flash("The CPD log entry was deleted.")
    return redirect(url_for("learning.notebook_home", _anchor="cpd"))


@bp.route("/my/notebook/delete", methods=["GET", "POST"])
@requires(Role.LEARNER)
def delete_notebook():
    if request.method == "GET":
        return render_template("learning/delete_notebook.html", form=ActionForm())
    _check_csrf()
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
