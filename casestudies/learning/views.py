"""My learning: saved cases and reading lists, collections (themes), and the private
reflection notebook with its exports. Thin: each view calls the services in lists.py,
collections.py, notebook.py and exports.py."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from casestudies.database import discard_changes
from casestudies.forms import require_csrf
from casestudies.learning import collections, lists
from casestudies.learning.forms import (
    ActionForm,
    AddCollectionCaseForm,
    CollectionForm,
    ListTitleForm,
    SaveCaseForm,
)
from casestudies.markdown import render_markdown
from casestudies.models import Role
from casestudies.paging import page_holding, page_of
from casestudies.params import parse_page, safe_local_target
from casestudies.policy import requires

bp = Blueprint("learning", __name__)
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
    require_csrf()
    lists.move_list(found, _direction())
    return redirect(url_for("learning.reading_lists", _anchor=f"list-{list_id}"))


@bp.post("/my/lists/<int:list_id>/items/<int:item_id>/move")
@requires(Role.LEARNER)
def move_item(list_id: int, item_id: int) -> Response:
    found = _own_list(list_id)
    require_csrf()
    lists.move_item(found, item_id, _direction())
    return redirect(_item_url(list_id, lists.item_index(found, item_id), item_id))


@bp.post("/my/lists/<int:list_id>/items/<int:item_id>/remove")
@requires(Role.LEARNER)
def remove_item(list_id: int, item_id: int) -> Response:
    found = _own_list(list_id)
    require_csrf()
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
    require_csrf()
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
    require_csrf()
    title = found.title
    lists.delete_list(found)
    flash(f"List “{title}” deleted.")
    return redirect(url_for("learning.reading_lists"))


@bp.post("/my/lists/<int:list_id>/sharing")
@requires(Role.FACILITATOR)
def list_sharing(list_id: int) -> Response:
    found = _own_list(list_id)
    require_csrf()
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
    require_csrf()
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
    require_csrf()
    collections.move_case(found, item_id, _direction())
    return redirect(url_for("learning.edit_collection", collection_id=collection_id, _anchor=f"item-{item_id}"))


@bp.post("/curate/collections/<int:collection_id>/cases/<int:item_id>/remove")
@requires(Role.CURATOR)
def remove_collection_case(collection_id: int, item_id: int) -> Response:
    found = _collection(collection_id)
    require_csrf()
    title = collections.remove_case(found, item_id)
    flash(f"“{title}” removed from the collection.")
    return redirect(url_for("learning.edit_collection", collection_id=collection_id, _anchor="cases"))


@bp.route("/curate/collections/<int:collection_id>/delete", methods=["GET", "POST"])
@requires(Role.CURATOR)
def delete_collection(collection_id: int):
    found = _collection(collection_id)
    if request.method == "GET":
        return render_template("learning/delete_collection.html", found=found, form=ActionForm())
    require_csrf()
    title = found.title
    collections.delete_collection(found)
    flash(f"Collection “{title}” deleted.")
    return redirect(url_for("learning.manage_collections"))


# The notebook's routes are on this blueprint too.
from casestudies.learning import notebook_views  # noqa: E402, F401
