"""The tags page: every tag with its number of cases; rename, merge, delete an unused tag."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField

from casestudies.curation import tags
from casestudies.curation.tags import TagError, TagNameTaken
from casestudies.database import discard_changes
from casestudies.models import Role
from casestudies.params import parse_int
from casestudies.policy import requires

bp = Blueprint("tags", __name__, url_prefix="/tags")


class RenameForm(FlaskForm):
    name = StringField("New name")


class MergeForm(FlaskForm):
    into = StringField("Merge into")
    confirm = BooleanField("Confirm")


class DeleteForm(FlaskForm):
    """Empty: the CSRF token is the point; the page itself is the confirmation."""


def _cases(count: int) -> str:
    return f"{count} case{'s' if count != 1 else ''}"


@bp.get("/")
@requires(Role.CURATOR)
def index() -> str:
    return render_template("tags/index.html", uses=tags.list_tags())


@bp.route("/<int:tag_id>/rename", methods=["GET", "POST"])
@requires(Role.CURATOR)
def rename(tag_id: int):
    tag = tags.get_tag(tag_id)
    form = RenameForm()
    if request.method == "GET":
        form.name.data = tag.name
        return render_template("tags/rename.html", tag=tag, use=tags.tag_use(tag), form=form)
    if not form.validate_on_submit():
        abort(400)
    old = tag.name
    try:
        changed = tags.rename_tag(tag, form.name.data or "", current_user)
    except TagError as exc:
        discard_changes()
        tag = tags.get_tag(tag_id)
        other = exc.other if isinstance(exc, TagNameTaken) else None
        return (
            render_template("tags/rename.html", tag=tag, use=tags.tag_use(tag), form=form, error=str(exc), other=other),
            400,
        )
    if tag.name == old:
        flash("The name is the same as before, so nothing changed.")
    else:
        flash(f"Renamed “{old}” to “{tag.name}” on {_cases(len(changed))}.")
    return redirect(url_for("tags.index"))


@bp.route("/<int:tag_id>/merge", methods=["GET", "POST"])
@requires(Role.CURATOR)
def merge(tag_id: int):
    source = tags.get_tag(tag_id)
    form = MergeForm()
    if request.method == "GET":
        form.into.data = request.args.get("into", "")
    others = [use for use in tags.list_tags() if use.tag.id != source.id]

    def page(errors: dict[str, str], status: int):
        return (
            render_template(
                "tags/merge.html", tag=source, use=tags.tag_use(source), others=others, form=form, errors=errors
            ),
            status,
        )

    if request.method == "GET":
        return page({}, 200)
    if not form.validate_on_submit():
        abort(400)
    errors = {}
    target = None
    try:
        target = tags.get_tag(parse_int(form.into.data) or 0)
    except (ValueError, LookupError):
        errors["into"] = "Choose the tag to merge into"
    if not form.confirm.data:
        errors["confirm"] = "Tick the box to confirm the merge"
    if errors or target is None:
        return page(errors, 400)
    name = source.name
    try:
        changed = tags.merge_tags(source, target, current_user)
    except TagError as exc:
        discard_changes()
        return page({"into": str(exc)}, 400)
    flash(f"Merged “{name}” into “{target.name}”: {_cases(len(changed))} changed, and “{name}” is gone.")
    return redirect(url_for("tags.index"))


@bp.route("/<int:tag_id>/delete", methods=["GET", "POST"])
@requires(Role.CURATOR)
def delete(tag_id: int):
    tag = tags.get_tag(tag_id)
    form = DeleteForm()
    if request.method == "GET":
        return render_template("tags/delete.html", tag=tag, use=tags.tag_use(tag), form=form)
    if not form.validate_on_submit():
        abort(400)
    name = tag.name
    try:
        tags.delete_tag(tag, current_user)
    except TagError as exc:
        discard_changes()
        tag = tags.get_tag(tag_id)
        return render_template("tags/delete.html", tag=tag, use=tags.tag_use(tag), form=form, error=str(exc)), 400
    flash(f"Deleted the unused tag “{name}”.")
    return redirect(url_for("tags.index"))
