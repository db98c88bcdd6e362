"""The guide builder's one form: every button of the timed plan sends everything typed in
it (every question's and segment's minutes, and the session's order when it was changed in
the page), which is saved first; then the button's own change is applied. So no button
throws away a typed minute. Views parse the form (guides/forms.py) and call `submit`."""

from __future__ import annotations

from dataclasses import dataclass

from casestudies.guides import editing, suggested
from casestudies.guides.plan import plan_rows, segment_title
from casestudies.guides.sequence import END, row_key
from casestudies.models import Guide


@dataclass(frozen=True)
class PlanAction:
    """A button of the plan itself: "save", a move, a removal or "use" (see
    editing.update_plan)."""

    action: str = "save"


@dataclass(frozen=True)
class NewSegment:
    kind: str
    minutes: int | None = None
    label: str = ""
    item_id: int | None = None
    where: str = END


@dataclass(frozen=True)
class NewQuestion:
    item_id: int
    text: str
    notes: str
    minutes: int


@dataclass(frozen=True)
class SuggestedPlan:
    item_id: int


@dataclass(frozen=True)
class TypedPlan:
    """What the plan's form holds, parsed: minutes by question id and by segment id, the
    order of the session (guides.sequence.row_key keys) when the page changed it, own
    questions typed in any case's box and a segment typed in the new-segment box (a name
    or minutes typed): both added whichever button was pressed."""

    questions: dict[int, int]
    segments: dict[int, int]
    order: list[str] | None = None
    new_questions: tuple[NewQuestion, ...] = ()
    new_segment: NewSegment | None = None
    question_orders: dict[int, list[int]] | None = None  # question ids by case id, when moved


Change = PlanAction | NewSegment | NewQuestion | SuggestedPlan


class SegmentRefused(editing.GuideError):
    """The segment typed in the new-segment box was refused (shown beside its box)."""


@dataclass(frozen=True)
class Outcome:
    """What to tell the person (None: nothing to add) and the builder's element to show."""

    message: str | None
    anchor: str


def submit(guide: Guide, typed: TypedPlan, change: Change, *, item_id: int | None = None) -> Outcome:
    """Save everything typed, then apply the change. `item_id`: the case whose part of the
    builder was used, which must be shown (its case published). GuideError (the request
    rolls back, so nothing is half saved) when a rule refuses the typed values or the
    change."""
    if item_id is not None:
        editing.shown_case(guide, item_id)
    action = change.action if isinstance(change, PlanAction) else "save"
    anchor = editing.update_plan(guide, typed.questions, action, typed.segments, typed.order, typed.question_orders)
    kept = 0
    for question in typed.new_questions:
        # A question typed for a case this button removed goes with it.
        if question != change and any(item.id == question.item_id for item in guide.items):
            editing.add_own_question(guide, question.item_id, question.text, question.notes, question.minutes)
            kept += 1
    also = []
    if kept:
        also.append(f"The question{'s' if kept > 1 else ''} you typed {'were' if kept > 1 else 'was'} added too.")
    if typed.new_segment is not None and typed.new_segment != change:
        segment = _typed_segment(guide, typed.new_segment)
        if segment is not None:
            also.append(f"The segment you typed, “{segment_title(segment)}”, was added too.")
    outcome = _apply(guide, change, anchor)
    if also:
        text = " ".join(also)
        return Outcome(f"{outcome.message} {text}" if outcome.message else text, outcome.anchor)
    return outcome


def _typed_segment(guide: Guide, typed: NewSegment):
    """Add the segment typed in its box when another button was pressed; None when the
    case it was to read went with that button. A place next to a row that button removed
    becomes the end of the session."""
    if typed.item_id is not None and all(item.id != typed.item_id for item in guide.items):
        return None
    keys = {row_key(row) for row in plan_rows(guide)}
    where = typed.where if typed.where.partition(":")[2] in keys else END
    try:
        return editing.add_segment(
            guide, typed.kind, minutes=typed.minutes, label=typed.label, item_id=typed.item_id, where=where
        )
    except editing.GuideError as exc:
        raise SegmentRefused(str(exc)) from None


def _apply(guide: Guide, change: Change, anchor: str) -> Outcome:
    if isinstance(change, PlanAction):
        return Outcome(_action_message(change.action), anchor)
    if isinstance(change, NewSegment):
        segment = editing.add_segment(
            guide, change.kind, minutes=change.minutes, label=change.label, item_id=change.item_id, where=change.where
        )
        return Outcome(
            f"“{segment_title(segment)}” added to the session ({segment.minutes} minutes).",
            f"segment-row-{segment.id}",
        )
    if isinstance(change, NewQuestion):
        question = editing.add_own_question(guide, change.item_id, change.text, change.notes, change.minutes)
        return Outcome("Your question was added.", f"question-{question.id}")
    result = suggested.add_suggested_plan(guide, change.item_id)
    return Outcome(result.message(), f"item-{change.item_id}")


def _action_message(action: str) -> str | None:
    if action == "save":
        return "The timed plan was saved."
    if action.startswith("case-remove-"):
        return "The case was removed from the guide. The minutes you typed were saved."
    if action.startswith("segment-remove-"):
        return "The segment was removed from the session. The minutes you typed were saved."
    return None
