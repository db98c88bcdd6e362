"""Changing a discussion guide: its details, its cases and chosen questions, its segments,
duplicating it and the notes on how it went. Every change is checked here, callable without
HTTP, and flushed; the request commits. Minutes arrive as whole numbers (the builder's form
parses what was typed, with its messages naming the case and question).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from casestudies.cases import is_case_available
from casestudies.errors import Refused
from casestudies.extensions import db
from casestudies.guides import sequence
from casestudies.guides.access import GuideNotFound, can_build_guides
from casestudies.guides.plan import (
    DEFAULT_QUESTION_MINUTES,
    MINUTES_RANGE,
    SEGMENT_KINDS,
    plan_rows,
    reading_minutes,
    unavailable_notice,
)
from casestudies.models import Case, Guide, GuideCase, GuideQuestion, GuideSegment, User, utcnow
from casestudies.ordering import move_row, renumber
from casestudies.params import parse_int

DURATION_RANGE = (5, 600)  # minutes for the whole session
MAX_CASES = 12  # a day's session at most; bounds the work of printing
MAX_QUESTIONS = 20  # per case in a guide
TITLE_MAX = 200
TEXT_MAX = 20_000
QUESTION_MAX = 2_000
# All of a guide's own text together (details, own questions and notes, segment names):
# what bounds the work of printing it, with MAX_CASES and MAX_QUESTIONS.
GUIDE_TEXT_MAX = 60_000
MAX_SEGMENTS = 40


class GuideError(Refused):
    """A rule refused the change; the message is for the user (a 400 unless a view shows it)."""


@dataclass(frozen=True)
class GuideDetails:
    """A guide's own fields, already parsed (see guides.forms.GuideForm.details())."""

    title: str
    audience: str = ""
    session_on: date | None = None
    start_time: time | None = None
    duration_minutes: int | None = None
    objectives: str = ""
    introduction: str = ""
    opening_remarks: str = ""
    closing_remarks: str = ""
    ground_rules: str = ""


def _check_details(details: GuideDetails) -> None:
    if not details.title.strip():
        raise GuideError("Enter a title for the guide")
    if len(details.title) > TITLE_MAX or len(details.audience) > TITLE_MAX:
        raise GuideError(f"Titles and audiences are at most {TITLE_MAX} characters")
    if details.duration_minutes is not None and not (
        DURATION_RANGE[0] <= details.duration_minutes <= DURATION_RANGE[1]
    ):
        raise GuideError(f"The duration must be from {DURATION_RANGE[0]} to {DURATION_RANGE[1]} minutes")
    for text in (
        details.objectives,
        details.introduction,
        details.opening_remarks,
        details.closing_remarks,
        details.ground_rules,
    ):
        if len(text) > TEXT_MAX:
            raise GuideError(f"Each text is at most {TEXT_MAX} characters")


def guide_text_length(guide: Guide, details: GuideDetails | None = None) -> int:
    """The characters of the guide's own text (with `details` instead of its current ones)."""
    d = details or guide
    fields = (d.title, d.audience, d.objectives, d.introduction, d.opening_remarks, d.closing_remarks, d.ground_rules)
    own = sum(len(text or "") for text in fields)
    questions = sum(len(q.text) + len(q.notes or "") for item in guide.items for q in item.questions if q.is_own)
    return own + questions + sum(len(segment.label) for segment in guide.segments)


def _check_text_total(length: int) -> None:
    if length > GUIDE_TEXT_MAX:
        raise GuideError(
            f"A guide’s own text is at most {GUIDE_TEXT_MAX:,} characters in all (with this change it would be "
            f"{length:,}). Shorten some of its texts or questions"
        )


def _apply_details(guide: Guide, details: GuideDetails) -> None:
    guide.title = details.title.strip()
    guide.audience = details.audience.strip()
    guide.session_on = details.session_on
    guide.start_time = details.start_time
    guide.duration_minutes = details.duration_minutes
    guide.objectives = details.objectives.strip()
    guide.introduction = details.introduction.strip()
    guide.opening_remarks = details.opening_remarks.strip()
    guide.closing_remarks = details.closing_remarks.strip()
    guide.ground_rules = details.ground_rules.strip()


def touch(guide: Guide) -> None:
    """Every change to a guide ends here: it is dated and flushed (the request commits)."""
    guide.updated_at = utcnow()
    db.session.flush()


def create_guide(author: User, details: GuideDetails, *, first_case_id: int | None = None) -> tuple[Guide, str | None]:
    """A new guide of the author's. With first_case_id, that case is added to it when it
    may be; if not (it was unpublished meanwhile), the guide is still made and the second
    value says why the case was left out."""
    if not can_build_guides(author):
        raise GuideError("Only facilitators can build guides")
    _check_details(details)
    guide = Guide(author=author, title="", items=[], segments=[])
    _check_text_total(guide_text_length(guide, details))
    _apply_details(guide, details)
    db.session.add(guide)
    problem = None
    if first_case_id is not None:
        try:
            add_case(guide, first_case_id)
        except GuideError as exc:
            problem = str(exc)
    db.session.flush()
    return guide, problem


def update_guide(guide: Guide, details: GuideDetails) -> None:
    _check_details(details)
    _check_text_total(guide_text_length(guide, details))
    _apply_details(guide, details)
    touch(guide)


def delete_guide(guide: Guide) -> None:
    db.session.delete(guide)
    db.session.flush()


def _item(guide: Guide, item_id: int) -> GuideCase:
    for item in guide.items:
        if item.id == item_id:
            return item
    raise GuideNotFound(item_id)


def _renumber_plan(guide: Guide) -> None:
    renumber(plan_rows(guide))


def _move_in_plan(guide: Guide, row: GuideCase | GuideSegment, direction: str) -> bool:
    """Move a case or a segment one place up or down in the session (past a case or a
    segment alike)."""
    rows = plan_rows(guide)
    moved = move_row(rows, rows.index(row), direction)
    if moved:
        guide.items.sort(key=lambda item: item.position)
        guide.segments.sort(key=lambda segment: segment.position)
    return moved


def _next_position(guide: Guide) -> int:
    return max((row.position for row in plan_rows(guide)), default=-1) + 1


def add_case(guide: Guide, case_id: int) -> GuideCase:
    """Add a published case at the end of the guide, with all its questions chosen at
    their suggested minutes (DEFAULT_QUESTION_MINUTES where none is suggested)."""
    case = db.session.get(Case, case_id)
    if case is None or not is_case_available(case):
        raise GuideError("Only published cases can be added to a guide")
    if any(item.case_id == case.id for item in guide.items):
        raise GuideError(f"“{case.title}” is already in “{guide.title}”")
    if len(guide.items) >= MAX_CASES:
        raise GuideError(f"A guide can hold at most {MAX_CASES} cases")
    item = GuideCase(
        case=case,
        case_title=case.title,
        position=_next_position(guide),
        questions=[
            GuideQuestion(
                position=i, text=q.text, notes=None, minutes=q.minutes or DEFAULT_QUESTION_MINUTES, is_own=False
            )
            for i, q in enumerate(case.questions[:MAX_QUESTIONS])
        ],
    )
    guide.items.append(item)
    touch(guide)
    return item


def move_case(guide: Guide, item_id: int, direction: str) -> bool:
    """Move a case up or down; False when it is already first or last."""
    item = _item(guide, item_id)
    moved = _move_in_plan(guide, item, direction)
    if moved:
        touch(guide)
    return moved


def remove_case(guide: Guide, item_id: int) -> str:
    """Remove a case (and its chosen questions) from the guide; returns its title."""
    item = _item(guide, item_id)
    guide.items.remove(item)
    for segment in guide.segments:
        if segment.guide_case_id == item.id:
            segment.guide_case_id = None
            segment.item = None
    _renumber_plan(guide)
    touch(guide)
    return item.case.title if is_case_available(item.case) else item.case_title


def update_plan(
    guide: Guide,
    minutes: dict[int, int],
    action: str,
    segment_minutes: dict[int, int] | None = None,
    order: list[str] | None = None,
    question_orders: dict[int, list[int]] | None = None,
) -> str:
    """Save the minutes of the timed plan (all cases and segments at once; by question id
    and segment id, as parsed by guides.forms.plan_minutes) and the order of the session
    when one is sent (keys as guides.sequence.row_key makes them) and of each case's
    questions sent (question ids by case id), then apply the button
    pressed: "save"; "up-<id>", "down-<id>", "remove-<id>" (a chosen question); "use-<id>"
    (one of a case's current questions not yet chosen); "case-up-<id>", "case-down-<id>",
    "case-remove-<id>" (a case); "segment-up-<id>", "segment-down-<id>",
    "segment-remove-<id>" (a segment). Minutes of questions in unavailable cases are left as
    they are. Returns the id of the element of the builder to show next."""
    segment_minutes = segment_minutes or {}
    for item in guide.items:
        if not is_case_available(item.case):
            continue
        for question in item.questions:
            if question.id in minutes:
                question.minutes = _checked_minutes(minutes[question.id])
    for segment in guide.segments:
        if segment.id in segment_minutes:
            segment.minutes = _checked_minutes(segment_minutes[segment.id])
    try:
        if order is not None:
            sequence.apply_order(guide, order)
        for item_id, question_ids in (question_orders or {}).items():
            sequence.apply_question_order(shown_case(guide, item_id), question_ids)
    except sequence.OrderRefused as exc:
        raise GuideError(str(exc)) from None
    anchor = _apply_plan_action(guide, action)
    touch(guide)
    return anchor


def _checked_minutes(minutes: int) -> int:
    """A guard for callers other than the builder's forms, which tell the person what to type."""
    if not MINUTES_RANGE[0] <= minutes <= MINUTES_RANGE[1]:
        raise GuideError(f"Minutes are whole numbers from {MINUTES_RANGE[0]} to {MINUTES_RANGE[1]}")
    return minutes


def _apply_plan_action(guide: Guide, action: str) -> str:
    """Apply one button of the plan; the id of the element to show next."""
    if action == "save":
        return "cases"
    parts = action.split("-")
    scope = parts.pop(0) if parts[0] in ("case", "segment") else "question"
    kind, number = parts if len(parts) == 2 else ("", "")
    chosen_id = parse_int(number)
    if chosen_id is None:
        raise GuideError("Choose what to do with the plan")
    if scope == "case" and kind in ("up", "down"):
        _move_in_plan(guide, _item(guide, chosen_id), kind)
        return f"item-{chosen_id}"
    if scope == "case" and kind == "remove":
        remove_case(guide, chosen_id)
        return "cases"
    if scope == "segment" and kind in ("up", "down", "remove"):
        segment = next((seg for seg in guide.segments if seg.id == chosen_id), None)
        if segment is None:
            raise GuideNotFound(chosen_id)
        if kind == "remove":
            guide.segments.remove(segment)
            _renumber_plan(guide)
            return "cases"
        _move_in_plan(guide, segment, kind)
        return f"segment-row-{chosen_id}"
    if scope == "question" and kind in ("up", "down", "remove"):
        item, target = _chosen_question(guide, chosen_id)
        index = item.questions.index(target)
        if kind == "remove":
            item.questions.remove(target)
            renumber(item.questions)
            return f"item-{item.id}"
        move_row(item.questions, index, kind)
        return f"question-{chosen_id}"
    if scope == "question" and kind == "use":
        item, source = _unchosen_question(guide, chosen_id)
        if any(not q.is_own and q.text == source.text for q in item.questions):
            raise GuideError("That question is already in the guide")
        question = _append_question(item, source.text, None, source.minutes or DEFAULT_QUESTION_MINUTES, is_own=False)
        db.session.flush()
        return f"question-{question.id}"
    raise GuideError("Choose what to do with the plan")


def _chosen_question(guide: Guide, question_id: int) -> tuple[GuideCase, GuideQuestion]:
    for item in guide.items:
        if not is_case_available(item.case):
            continue
        for question in item.questions:
            if question.id == question_id:
                return item, question
    raise GuideNotFound(question_id)


def _unchosen_question(guide: Guide, question_id: int):
    for item in guide.items:
        if item.case is not None and is_case_available(item.case):
            for question in item.case.questions:
                if question.id == question_id:
                    return item, question
    raise GuideNotFound(question_id)


def shown_case(guide: Guide, item_id: int) -> GuideCase:
    """The guide's case with this id when its part of the builder is shown (the case is
    available); GuideNotFound or GuideError (the notice) otherwise."""
    item = _item(guide, item_id)
    if not is_case_available(item.case):
        raise GuideError(unavailable_notice(item))
    return item


def update_questions(guide: Guide, item_id: int, minutes: dict[int, int], action: str) -> None:
    """update_plan, reached from one case's part of the builder: the case must be shown."""
    shown_case(guide, item_id)
    update_plan(guide, minutes, action)


def _append_question(item: GuideCase, text: str, notes: str | None, minutes: int, *, is_own: bool) -> GuideQuestion:
    if len(item.questions) >= MAX_QUESTIONS:
        raise GuideError(f"A case in a guide can have at most {MAX_QUESTIONS} questions")
    question = GuideQuestion(position=len(item.questions), text=text, notes=notes, minutes=minutes, is_own=is_own)
    item.questions.append(question)
    return question


def add_own_question(guide: Guide, item_id: int, text: str, notes: str, minutes: int) -> GuideQuestion:
    """A question of the facilitator's own, after the chosen ones of that case."""
    item = _item(guide, item_id)
    if not is_case_available(item.case):
        raise GuideError(unavailable_notice(item))
    text, notes = text.strip(), notes.strip()
    if not text:
        raise GuideError("Enter the question")
    if len(text) > QUESTION_MAX or len(notes) > QUESTION_MAX:
        raise GuideError(f"Questions and notes are at most {QUESTION_MAX} characters")
    _checked_minutes(minutes)
    _check_text_total(guide_text_length(guide) + len(text) + len(notes))
    question = _append_question(item, text, notes or None, minutes, is_own=True)
    touch(guide)
    return question


def add_segment(
    guide: Guide,
    kind: str,
    *,
    minutes: int | None = None,
    label: str = "",
    item_id: int | None = None,
    where: str = sequence.END,
) -> GuideSegment:
    """A segment at the end of the session, or before or after a case or segment (`where`:
    see guides.sequence.insert_at). A reading time names one of the guide's cases
    and, without minutes, takes the case's reading_minutes; other kinds without minutes
    take their default."""
    if kind not in SEGMENT_KINDS:
        raise GuideError("Choose a kind of segment")
    label = label.strip()
    if len(label) > TITLE_MAX:
        raise GuideError(f"A segment's name is at most {TITLE_MAX} characters")
    if len(guide.segments) >= MAX_SEGMENTS:
        raise GuideError(f"A guide can hold at most {MAX_SEGMENTS} segments")
    _check_text_total(guide_text_length(guide) + len(label))
    item = None
    if kind == "reading":
        if item_id is None:
            raise GuideError("Choose the case to read")
        item = _item(guide, item_id)
        if item.case is None or not is_case_available(item.case):
            raise GuideError(unavailable_notice(item))
    if minutes is None:
        minutes = reading_minutes(item.case) if item is not None and item.case is not None else SEGMENT_KINDS[kind][1]
    _checked_minutes(minutes)
    segment = GuideSegment(kind=kind, label=label, minutes=minutes, position=_next_position(guide), item=item)
    try:
        sequence.insert_at(guide, [segment], where)
    except sequence.OrderRefused as exc:
        raise GuideError(str(exc)) from None
    guide.segments.append(segment)
    guide.segments.sort(key=lambda row: row.position)
    touch(guide)
    return segment


def duplicate_guide(guide: Guide, user: User) -> Guide:
    """A copy of a guide the user can see, as a new guide of the user's own. Copied: the
    details, cases and chosen questions with their minutes and notes. Not copied: the
    session date (a copy is for another session), the share link, and the "how it went"
    notes (the author's own)."""
    if not can_build_guides(user):
        raise GuideError("Only facilitators can build guides")
    copy = Guide(
        author=user,
        title=_copy_title(guide.title),
        audience=guide.audience,
        session_on=None,
        start_time=guide.start_time,
        duration_minutes=guide.duration_minutes,
        objectives=guide.objectives,
        introduction=guide.introduction,
        opening_remarks=guide.opening_remarks,
        closing_remarks=guide.closing_remarks,
        ground_rules=guide.ground_rules,
        items=[
            GuideCase(
                case_id=item.case_id,
                case_title=item.case_title,
                position=item.position,
                questions=[
                    GuideQuestion(position=q.position, text=q.text, notes=q.notes, minutes=q.minutes, is_own=q.is_own)
                    for q in item.questions
                ],
            )
            for item in guide.items
        ],
    )
    items_by_id = {item.id: copied for item, copied in zip(guide.items, copy.items, strict=True)}
    copy.segments = [
        GuideSegment(
            kind=segment.kind,
            label=segment.label,
            minutes=segment.minutes,
            position=segment.position,
            item=items_by_id.get(segment.guide_case_id) if segment.guide_case_id is not None else None,
        )
        for segment in guide.segments
    ]
    db.session.add(copy)
    db.session.flush()
    return copy


def _copy_title(title: str) -> str:
    copied = f"Copy of {title}"
    return copied if len(copied) <= TITLE_MAX else copied[: TITLE_MAX - 1] + "…"


def save_how_it_went(guide: Guide, text: str) -> None:
    """The author's notes after the session (never shown through the share link)."""
    if len(text) > TEXT_MAX:
        raise GuideError(f"The notes are at most {TEXT_MAX} characters")
    guide.how_it_went = text.strip()
    guide.how_it_went_at = utcnow() if guide.how_it_went else None
    touch(guide)
