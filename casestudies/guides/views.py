"""Discussion guides: the builder, sharing, print views and PDFs (the rules are in guides/access.py,
plan.py, editing.py, handouts.py and render.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from casestudies.database import discard_changes
from casestudies.extensions import db
from casestudies.forms import require_csrf
from casestudies.guides import access, editing, handouts, render, sequence
from casestudies.guides import builder as plan_form
from casestudies.guides import plan as timed_plan
from casestudies.guides.editing import GuideError
from casestudies.guides.forms import (
    AddCaseForm,
    GuideForm,
    HandoutForm,
    HowItWentForm,
    OwnQuestionForm,
    PlanMinutes,
    SegmentForm,
    own_question_form,
    plan_minutes,
    plan_order,
    question_orders,
    typed_own_questions,
)
from casestudies.guides.handouts import HandoutUnavailable
from casestudies.guides.pdf import PdfRefused, pdf_download
from casestudies.guides.render import EDITIONS
from casestudies.markdown import render_markdown
from casestudies.models import Case, Guide, Role
from casestudies.params import parse_int, safe_local_target
from casestudies.policy import requires

bp = Blueprint("guides", __name__, url_prefix="/guides")

EDITION = "<any(participant, facilitator):edition>"


@bp.app_context_processor
def _guide_helpers() -> dict[str, Any]:
    def guide_choices() -> list:
        """The signed-in user's guides, for "Add to guide" (one query per request)."""
        if "guide_choices" not in g:
            g.guide_choices = access.guide_choices(current_user)
        return g.guide_choices

    return {
        "can_build_guides": access.can_build_guides,
        "guide_choices": guide_choices,
        "long_date": _long_date,
    }


def _long_date(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _own(guide_id: int) -> Guide:
    return access.get_guide_for_viewer(guide_id, current_user)


def _shared(token: str) -> Guide:
    return access.get_shared_guide(token, current_user)


def _builder(guide: Guide, status: int = 200, **state: Any) -> tuple[str, int]:
    typed_order = state.get("typed_order")
    return (
        render_template(
            "guides/builder.html",
            guide=guide,
            plan=timed_plan.plan_guide(guide),
            entries=sequence.shown_order(timed_plan.plan_guide(guide).entries, typed_order),
            typed_order=",".join(typed_order) if typed_order else "",
            typed_question_orders=state.get("typed_question_orders", {}),
            shown_questions=sequence.shown_questions,
            objectives=timed_plan.objectives_list(guide),
            md=render_markdown,
            minute_errors=state.get("minute_errors", {}),
            typed_minutes=state.get("typed_minutes", {}),
            typed_segments=state.get("typed_segments", {}),
            segment_form=state.get("segment_form") or _segment_form(guide),
            typed_own=state.get("typed_own", {}),
            own_form_item=state.get("own_form_item"),
            plan_error=state.get("plan_error"),
            limits={"minutes": timed_plan.MINUTES_RANGE},
            notes_of=timed_plan.teaching_notes,
            handout_form=state.get("handout_form") or HandoutForm.for_guide(guide),
            handout_state=handouts.handout_state(guide),
        ),
        status,
    )


def _segment_form(guide: Guide, form: SegmentForm | None = None) -> SegmentForm:
    form = form or SegmentForm(formdata=None)
    form.item_choices = [("", "Not a reading time")] + [
        (str(item.id), item.case_title) for item in guide.items if timed_plan.is_case_available(item.case)
    ]
    form.place_choices = sequence.place_choices(guide)
    return form


def _to_builder(guide: Guide, anchor: str | None = None) -> Response:
    return redirect(url_for("guides.builder", guide_id=guide.id, _anchor=anchor))


# -- list, create, change, delete ----------------------------------------------------------
@bp.get("/")
@requires(Role.FACILITATOR)
def index() -> str:
    mine = access.guides_of(current_user)
    return render_template("guides/index.html", plans=[timed_plan.plan_guide(guide) for guide in mine])


def _details_page(form: GuideForm, guide: Guide | None, case: Case | None, status: int = 200) -> tuple[str, int]:
    return render_template("guides/details.html", form=form, guide=guide, case=case), status


@bp.route("/new", methods=["GET", "POST"])
@requires(Role.FACILITATOR)
def new():
    form = GuideForm()
    if request.method == "GET":
        form.case_id.data = request.args.get("case", "")[:10]
    case_id = form.first_case_id()
    case = db.session.get(Case, case_id) if case_id is not None else None
    case = case if timed_plan.is_case_available(case) else None
    if not form.validate_on_submit():
        return _details_page(form, None, case, 400 if request.method == "POST" else 200)
    try:
        guide, problem = editing.create_guide(current_user, form.details(), first_case_id=case_id)
    except GuideError as exc:
        form.title.errors = [str(exc)]
        return _details_page(form, None, case, 400)
    flash(f"Guide “{guide.title}” created." + (f" {problem}." if problem else ""))
    return _to_builder(guide)


@bp.get("/<int:guide_id>")
@requires(Role.FACILITATOR)
def builder(guide_id: int):
    return _builder(_own(guide_id))


@bp.route("/<int:guide_id>/edit", methods=["GET", "POST"])
@requires(Role.FACILITATOR)
def edit(guide_id: int):
    guide = _own(guide_id)
    form = GuideForm() if request.method == "POST" else GuideForm.for_guide(guide)
    if not form.validate_on_submit():
        return _details_page(form, guide, None, 400 if request.method == "POST" else 200)
    try:
        editing.update_guide(guide, form.details())
    except GuideError as exc:
        discard_changes()
        form.title.errors = [str(exc)]
        return _details_page(form, _own(guide_id), None, 400)
    flash("The guide’s details were saved.")
    return _to_builder(guide)


@bp.route("/<int:guide_id>/delete", methods=["GET", "POST"])
@requires(Role.FACILITATOR)
def delete(guide_id: int):
    guide = _own(guide_id)
    if request.method == "GET":
        return render_template("guides/delete.html", guide=guide)
    require_csrf()
    title = guide.title
    editing.delete_guide(guide)
    flash(f"Guide “{title}” deleted.")
    return redirect(url_for("guides.index"))


# -- cases and questions -------------------------------------------------------------------
@bp.post("/add-case")
@requires(Role.FACILITATOR)
def add_case() -> Response:
    form = AddCaseForm()
    case_id, guide_id = form.parsed()
    if not form.validate_on_submit() or case_id is None:
        abort(400)
    if guide_id is None:  # "a new guide": its details first, with the case carried along
        return redirect(url_for("guides.new", case=case_id))
    guide = _own(guide_id)
    back = safe_local_target(form.next.data)
    try:
        item = editing.add_case(guide, case_id)
    except GuideError as exc:
        discard_changes()
        flash(str(exc) + ".")
        return redirect(back or url_for("guides.builder", guide_id=guide_id))
    link = url_for("guides.builder", guide_id=guide.id, _anchor=f"item-{item.id}")
    flash(Markup('“{}” added to <a href="{}">{}</a>.').format(item.case_title, link, guide.title))
    return redirect(back or link)


@bp.post("/<int:guide_id>/cases/<int:item_id>/move")
@requires(Role.FACILITATOR)
def move_case(guide_id: int, item_id: int) -> Response:
    guide = _own(guide_id)
    require_csrf()
    direction = request.form.get("direction", "")
    if direction not in ("up", "down"):
        abort(400)
    editing.move_case(guide, item_id, direction)
    return _to_builder(guide, f"item-{item_id}")


@bp.post("/<int:guide_id>/cases/<int:item_id>/remove")
@requires(Role.FACILITATOR)
def remove_case(guide_id: int, item_id: int) -> Response:
    guide = _own(guide_id)
    require_csrf()
    title = editing.remove_case(guide, item_id)
    flash(f"“{title}” removed from the guide.")
    return _to_builder(guide, "cases")


def _typed_state(
    guide: Guide, minutes: PlanMinutes, own_forms: dict[int, OwnQuestionForm], segment_form: SegmentForm
) -> dict[str, Any]:
    """What was typed in the plan's form, to show it again when it is refused."""
    return {
        "minute_errors": minutes.errors,
        "typed_minutes": minutes.typed,
        "typed_segments": minutes.typed_segments,
        "typed_own": own_forms,
        "segment_form": _segment_form(guide, segment_form),
        "typed_order": plan_order(request.form),
        "typed_question_orders": question_orders(request.form),
    }


def _change(
    button: str, item_id: int | None, own_forms: dict[int, OwnQuestionForm], segment_form: SegmentForm
) -> plan_form.Change | None:
    """The change of the button pressed, parsed from its own fields (None when they are
    refused: their form holds the errors)."""
    if button == "question" and item_id is not None:
        form = own_forms[item_id]
        if not form.validate():
            return None
        return plan_form.NewQuestion(item_id, form.text.data or "", form.notes.data or "", form.minutes.number or 0)
    if button == "segment":
        return _new_segment(segment_form)
    if button == "suggested" and item_id is not None:
        return plan_form.SuggestedPlan(item_id)
    return plan_form.PlanAction(request.form.get("action", "save")[:40])


def _new_segment(form: SegmentForm) -> plan_form.NewSegment | None:
    """The segment of the new-segment box (None when its fields are refused: the form holds
    the errors)."""
    if not form.validate():
        return None
    return plan_form.NewSegment(
        kind=form.segment_kind.data or "",
        minutes=form.segment_minutes.number,
        label=form.segment_label.data or "",
        item_id=parse_int(form.segment_case.data or ""),
        where=(form.segment_place.data or "end").strip(),
    )


def _submit(guide_id: int, button: str = "plan", item_id: int | None = None):
    """Every button of the plan: check the token, parse everything typed, then save it all
    and apply the button's change (builder.submit); shown again, unsaved, when refused."""
    guide = _own(guide_id)
    require_csrf()
    minutes = plan_minutes(request.form, guide, segments=not (button == "plan" and item_id is not None))
    own_forms = typed_own_questions(request.form, guide)
    if button == "question" and item_id is not None:
        editing.shown_case(guide, item_id)  # a 404 or the case's notice before reading its box
        own_forms[item_id] = own_question_form(item_id, request.form)
    own_ok = all(form.validate() for item, form in own_forms.items() if item != item_id or button != "question")
    segment_form = SegmentForm(formdata=request.form, meta={"csrf": False})
    change = _change(button, item_id, own_forms, segment_form)
    # A name or minutes typed in the new-segment box: that segment is added whichever
    # button was pressed (Enter in a field presses the plan's first button, "Save").
    typed_segment = _new_segment(segment_form) if button != "segment" and segment_form.is_typed() else None
    segment_ok = typed_segment is not None or button == "segment" or not segment_form.is_typed()
    if minutes.errors or not own_ok or not segment_ok or change is None:
        return _builder(guide, 400, own_form_item=item_id, **_typed_state(guide, minutes, own_forms, segment_form))
    typed = plan_form.TypedPlan(
        questions=minutes.questions,
        segments=minutes.segments,
        order=plan_order(request.form),
        question_orders=question_orders(request.form),
        new_questions=tuple(
            plan_form.NewQuestion(item, form.text.data or "", form.notes.data or "", form.minutes.number or 0)
            for item, form in own_forms.items()
        ),
        new_segment=typed_segment,
    )
    try:
        outcome = plan_form.submit(guide, typed, change, item_id=item_id)
    except GuideError as exc:
        discard_changes()
        guide = _own(guide_id)
        state = _typed_state(guide, minutes, own_forms, segment_form)
        if button == "segment" or isinstance(exc, plan_form.SegmentRefused):
            segment_form.segment_kind.errors = [str(exc)]
            return _builder(guide, 400, **state)
        where = f"#own-{item_id}-text" if button == "question" else "#cases"
        return _builder(guide, 400, own_form_item=item_id, plan_error=(str(exc), where), **state)
    if outcome.message:
        flash(outcome.message)
    return _to_builder(guide, outcome.anchor)


@bp.post("/<int:guide_id>/plan")
@requires(Role.FACILITATOR)
def update_plan(guide_id: int):
    """The one form of the whole timed plan: every minutes field of every case at once,
    then the button pressed (save, move, remove, use)."""
    return _submit(guide_id)


@bp.post("/<int:guide_id>/cases/<int:item_id>/questions")
@requires(Role.FACILITATOR)
def update_questions(guide_id: int, item_id: int):
    return _submit(guide_id, "plan", item_id)


@bp.post("/<int:guide_id>/cases/<int:item_id>/questions/new")
@requires(Role.FACILITATOR)
def add_question(guide_id: int, item_id: int):
    """ "Add your question": the plan's form, with this case's question box."""
    return _submit(guide_id, "question", item_id)


@bp.post("/<int:guide_id>/segments")
@requires(Role.FACILITATOR)
def add_segment(guide_id: int):
    """ "Add the segment": the plan's form, with the new segment's fields."""
    return _submit(guide_id, "segment")


@bp.post("/<int:guide_id>/cases/<int:item_id>/suggested-plan")
@requires(Role.FACILITATOR)
def add_suggested_plan(guide_id: int, item_id: int):
    """ "Add the case's suggested plan": the plan's form, then the plan's steps."""
    return _submit(guide_id, "suggested", item_id)


# -- sharing, duplicating, after the session -----------------------------------------------
@bp.post("/<int:guide_id>/sharing")
@requires(Role.FACILITATOR)
def sharing(guide_id: int) -> Response:
    guide = _own(guide_id)
    require_csrf()
    action = request.form.get("action")
    if action == "share":
        access.share_guide(guide)
        message = "Anyone signed in as a facilitator or curator can now read this guide with its link."
    elif action == "stop":
        access.stop_sharing(guide)
        message = "The guide is no longer shared. Its old link does not work any more."
    else:
        abort(400)
    flash(message)
    return _to_builder(guide, "sharing")


@bp.post("/<int:guide_id>/handout")
@requires(Role.FACILITATOR)
def handout_settings(guide_id: int):
    guide = _own(guide_id)
    form = HandoutForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return _builder(guide, 400, handout_form=form)
    action = request.form.get("action", "")[:10]
    try:
        handouts.update_handout(guide, current_user, action, *form.dates())
    except GuideError as exc:
        discard_changes()
        form.closes_on.errors = [str(exc)]
        return _builder(_own(guide_id), 400, handout_form=form)
    flash(handouts.saved_message(guide, action))
    return _to_builder(guide, "handout")


def _duplicate(guide: Guide) -> Response:
    require_csrf()
    copy = editing.duplicate_guide(guide, current_user)
    flash(f"“{copy.title}” is your own copy: change it as you like.")
    return _to_builder(copy)


@bp.post("/<int:guide_id>/duplicate")
@requires(Role.FACILITATOR)
def duplicate(guide_id: int) -> Response:
    return _duplicate(_own(guide_id))


@bp.route("/<int:guide_id>/how-it-went", methods=["GET", "POST"])
@requires(Role.FACILITATOR)
def how_it_went(guide_id: int):
    guide = _own(guide_id)
    form = HowItWentForm() if request.method == "POST" else HowItWentForm(data={"how_it_went": guide.how_it_went})
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("guides/how_it_went.html", guide=guide, form=form), status
    editing.save_how_it_went(guide, form.how_it_went.data or "")
    flash("Your notes on how it went were saved.")
    return _to_builder(guide, "how-it-went")


# -- print views and PDFs ------------------------------------------------------------------
def _print_html(
    guide: Guide, edition: str, *, token: str | None, for_pdf: bool, handout_token: str | None = None
) -> str:
    if handout_token is not None:
        urls = {
            "back": url_for("guides.handout", token=handout_token),
            "back_label": "Back to the handout",
            "pdf": url_for("guides.handout_pdf", token=handout_token),
            "other": {},
        }
    elif token is None:
        urls = {
            "back": url_for("guides.builder", guide_id=guide.id),
            "pdf": url_for("guides.pdf", guide_id=guide.id, edition=edition),
            "other": {e: url_for("guides.print_view", guide_id=guide.id, edition=e) for e in EDITIONS},
        }
    else:
        urls = {
            "back": url_for("guides.shared", token=token),
            "pdf": url_for("guides.shared_pdf", token=token, edition=edition),
            "other": {e: url_for("guides.shared_print", token=token, edition=e) for e in EDITIONS},
        }
    return render_template(
        "guides/print.html",
        guide=guide,
        plan=timed_plan.plan_guide(guide),
        objectives=timed_plan.objectives_list(guide),
        edition=edition,
        edition_title=EDITIONS[edition][1],
        is_facilitator=edition == "facilitator",
        md=render_markdown,
        urls=urls,
        for_pdf=for_pdf,
        academy=current_app.config["ACADEMY_NAME"],
        # The participant edition never has teaching notes, whatever the template does.
        notes_of=timed_plan.teaching_notes if edition == "facilitator" else (lambda case: None),
    )


def _pdf(guide: Guide, edition: str, token: str | None, handout_token: str | None = None) -> Response:
    html = _print_html(guide, edition, token=token, for_pdf=True, handout_token=handout_token)
    return pdf_download(html, render.edition_filename(guide, edition))


@bp.app_errorhandler(PdfRefused)
def _pdf_refused(exc: PdfRefused) -> tuple[str, int]:
    """Too large to render within the budget: a page saying so (never a worker timeout)."""
    return render_template("guides/pdf_refused.html", message=str(exc)), 422


@bp.get(f"/<int:guide_id>/print/{EDITION}")
@requires(Role.FACILITATOR)
def print_view(guide_id: int, edition: str) -> str:
    return _print_html(_own(guide_id), edition, token=None, for_pdf=False)


@bp.get(f"/<int:guide_id>/pdf/{EDITION}")
@requires(Role.FACILITATOR)
def pdf(guide_id: int, edition: str) -> Response:
    return _pdf(_own(guide_id), edition, None)


# -- through the share link ----------------------------------------------------------------
@bp.get("/shared/<token>")
@requires(Role.FACILITATOR)
def shared(token: str) -> str:
    guide = _shared(token)
    return render_template(
        "guides/shared.html",
        guide=guide,
        token=token,
        plan=timed_plan.plan_guide(guide),
        objectives=timed_plan.objectives_list(guide),
        md=render_markdown,
    )


@bp.get(f"/shared/<token>/print/{EDITION}")
@requires(Role.FACILITATOR)
def shared_print(token: str, edition: str) -> str:
    return _print_html(_shared(token), edition, token=token, for_pdf=False)


@bp.get(f"/shared/<token>/pdf/{EDITION}")
@requires(Role.FACILITATOR)
def shared_pdf(token: str, edition: str) -> Response:
    return _pdf(_shared(token), edition, token)


@bp.post("/shared/<token>/duplicate")
@requires(Role.FACILITATOR)
def shared_duplicate(token: str) -> Response:
    return _duplicate(_shared(token))


# -- handouts for learners -----------------------------------------------------------------
def _handout(token: str) -> Guide:
    """The guide of an open handout (the visit recorded); HandoutUnavailable otherwise."""
    return handouts.open_handout(token, current_user)


@bp.app_errorhandler(HandoutUnavailable)
def _handout_unavailable(exc: HandoutUnavailable) -> tuple[str, int]:
    """Not open (yet, or any more) or unknown: a page saying why, with the refusal's status."""
    return render_template("guides/handout_unavailable.html", message=str(exc)), exc.status


@bp.get("/handout/<token>")
@requires(Role.LEARNER)
def handout(token: str) -> str:
    guide = _handout(token)
    return render_template(
        "guides/handout.html", guide=guide, token=token, plan=timed_plan.plan_guide(guide), md=render_markdown
    )


@bp.get("/handout/<token>/print")
@requires(Role.LEARNER)
def handout_print(token: str) -> str:
    return _print_html(_handout(token), "participant", token=None, for_pdf=False, handout_token=token)


@bp.get("/handout/<token>/pdf")
@requires(Role.LEARNER)
def handout_pdf(token: str) -> Response:
    return _pdf(_handout(token), "participant", None, handout_token=token)


@bp.get("/my-sessions")
@requires(Role.LEARNER)
def my_sessions() -> str:
    opened = handouts.handouts_opened_by(current_user)
    return render_template(
        "guides/my_sessions.html", sessions=[(guide, handouts.handout_state(guide)) for guide in opened]
    )
