"""Discussion guides: a facilitator's session plan built from cases and their questions, and
its two printed editions (participant handout, facilitator edition).

Every rule about guides lives here, callable without HTTP: who may read or change a guide,
which cases may be added, how minutes add up to a timed plan, sharing and duplication, and
what a guide shows of a case that has since been unpublished. Functions that change data
leave the commit to their caller (one per request).

Access: a guide belongs to its author. Others read it only through its share link (an
unguessable token), and only while it is shared; everything else answers "not found", so
the existence of someone else's guide is not revealed.

Cases are never copied into a guide: it always shows the case's current published text.
A case that is no longer published (unpublished, in the bin, or purged) is shown by the
title it had when it was added, with a notice, and none of its text or questions.
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from casestudies.audit import services as audit
from casestudies.cases import MINUTES_MAX, MINUTES_MIN, TeachingNotesData, is_case_available
from casestudies.cases.revisions import teaching_notes_data
from casestudies.extensions import db
from casestudies.models import Case, Guide, GuideCase, GuideQuestion, GuideSegment, HandoutVisit, Role, User, utcnow
from casestudies.ordering import move_row, renumber
from casestudies.params import parse_int, parse_minutes
from casestudies.slugs import slugify

DEFAULT_QUESTION_MINUTES = 10  # for a case question without suggested minutes
MINUTES_RANGE = (MINUTES_MIN, MINUTES_MAX)  # minutes for one question
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
READING_WORDS_PER_MINUTE = 200

# Kinds of segment -> (name, default minutes). "activity" is a line of a suggested plan.
SEGMENT_KINDS: dict[str, tuple[str, int]] = {
    "welcome": ("Welcome and introductions", 10),
    "reading": ("Reading time", 10),
    "small-group": ("Small-group work", 20),
    "break": ("Break", 15),
    "plenary": ("Plenary", 20),
    "close": ("Close", 5),
    "activity": ("Activity", 10),
}

# URL value -> (file-name part, heading)
EDITIONS: dict[str, tuple[str, str]] = {
    "participant": ("participant-handout", "Participant handout"),
    "facilitator": ("facilitator-edition", "Facilitator edition"),
}


class GuideNotFound(LookupError):
    """No such guide for this user (a 404: whether it exists is not revealed)."""


class GuideError(ValueError):
    """A rule refused the change; the message is for the user."""


# -- who may do what -----------------------------------------------------------------------
def can_build_guides(user: User | None) -> bool:
    """Facilitators and above build guides (and read guides shared with them)."""
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.has_role(Role.FACILITATOR))


def _guide_query():  # type: ignore[no-untyped-def]
    return select(Guide).options(
        selectinload(Guide.segments),
        selectinload(Guide.items).selectinload(GuideCase.questions),
        selectinload(Guide.items)
        .selectinload(GuideCase.case)
        .options(
            selectinload(Case.questions),
            selectinload(Case.dimensions),
            selectinload(Case.teaching_note),  # type: ignore[attr-defined]
        ),
    )


def get_guide_for_viewer(guide_id: int, user: User) -> Guide:
    """The guide with this id if the user is its author; GuideNotFound otherwise. By id,
    only authors reach a guide: others need its share link (get_shared_guide)."""
    guide = db.session.scalar(_guide_query().where(Guide.id == guide_id))
    if guide is None or not can_build_guides(user) or guide.author_id != user.id:
        raise GuideNotFound(guide_id)
    return guide


def get_shared_guide(token: str, user: User) -> Guide:
    """The guide shared under this link, for any facilitator or above; GuideNotFound if the
    link is unknown or sharing was stopped."""
    if not token or len(token) > 64 or not can_build_guides(user):
        raise GuideNotFound(token)
    guide = db.session.scalar(_guide_query().where(Guide.share_token == token))
    if guide is None or guide.share_token is None or not secrets.compare_digest(guide.share_token, token):
        raise GuideNotFound(token)
    return guide


def guides_of(user: User) -> list[Guide]:
    """The user's own guides, most recently changed first."""
    return list(
        db.session.scalars(
            _guide_query().where(Guide.author_id == user.id).order_by(Guide.updated_at.desc(), Guide.id.desc())
        )
    )


def guide_choices(user: User) -> list:  # type: ignore[type-arg]
    """(id, title) of the user's guides, most recently changed first: for "Add to guide"."""
    if not can_build_guides(user):
        return []
    return list(
        db.session.execute(
            select(Guide.id, Guide.title)
            .where(Guide.author_id == user.id)
            .order_by(Guide.updated_at.desc(), Guide.id.desc())
        )
    )


# -- the timed plan ------------------------------------------------------------------------
def unavailable_notice(item: GuideCase) -> str:
    if item.case is None:
        return (
            f"“{item.case_title}” has been removed from the library. Its text and questions are left out of this guide."
        )
    return (
        f"“{item.case_title}” is no longer published, so its text and questions are left out of this guide "
        "(and of its timings) until it is published again."
    )


@dataclass(frozen=True)
class PlannedQuestion:
    question: GuideQuestion
    number: int
    text: str
    notes: str | None
    minutes: int
    starts_at: int  # minutes from the start of the session
    is_own: bool
    is_changed: bool  # a case question no longer in the case in this wording


@dataclass(frozen=True)
class PlannedCase:
    item: GuideCase
    number: int
    title: str
    case: Case | None  # None unless the case is available (published now)
    notice: str | None
    questions: list[PlannedQuestion]
    unused: list  # the case's current questions not chosen (Question rows)
    minutes: int
    starts_at: int

    @property
    def is_available(self) -> bool:
        return self.case is not None


@dataclass(frozen=True)
class PlannedSegment:
    segment: GuideSegment
    title: str
    minutes: int
    starts_at: int
    number: int  # among the session's segments

    is_segment = True


PlannedCase.is_segment = False  # type: ignore[attr-defined]


@dataclass(frozen=True)
class GuidePlan:
    guide: Guide
    cases: list[PlannedCase]
    total_minutes: int
    start_time: time | None
    duration_minutes: int | None
    unavailable: list[PlannedCase] = field(default_factory=list)
    # Cases and segments in the order of the session.
    entries: list[PlannedCase | PlannedSegment] = field(default_factory=list)

    def clock(self, offset: int) -> str:
        """A time in the session: the clock time from the start time, else time elapsed."""
        if self.start_time is None:
            return f"{offset // 60}:{offset % 60:02d}"
        moment = datetime.combine(date(2000, 1, 1), self.start_time) + timedelta(minutes=offset)
        return moment.strftime("%H:%M")

    @property
    def has_clock(self) -> bool:
        return self.start_time is not None

    @property
    def ends(self) -> str:
        return self.clock(self.total_minutes)

    @property
    def is_over(self) -> bool:
        return self.duration_minutes is not None and self.total_minutes > self.duration_minutes

    @property
    def over_by(self) -> int:
        return max(0, self.total_minutes - (self.duration_minutes or self.total_minutes))

    @property
    def minutes_left(self) -> int:
        return max(0, (self.duration_minutes or 0) - self.total_minutes)

    @property
    def question_count(self) -> int:
        return sum(len(c.questions) for c in self.cases)

    @property
    def segments(self) -> list[PlannedSegment]:
        return [e for e in self.entries if isinstance(e, PlannedSegment)]


def segment_title(segment: GuideSegment) -> str:
    """ "Reading time: The porter…" for a reading time; the label, else the kind's name."""
    name = segment.label or SEGMENT_KINDS.get(segment.kind, ("Segment", 0))[0]
    if segment.kind == "reading" and segment.item is not None and not segment.label:
        return f"{name}: {segment.item.case_title}"
    return name


def reading_minutes(case: Case) -> int:
    """Minutes to read a case at about READING_WORDS_PER_MINUTE words a minute (at least 1)."""
    words = len(f"{case.summary} {case.body}".split())
    return max(MINUTES_MIN, min(MINUTES_MAX, math.ceil(words / READING_WORDS_PER_MINUTE)))


def plan_rows(guide: Guide) -> list[GuideCase | GuideSegment]:
    """The guide's cases and segments in the order of the session."""
    rows: list[GuideCase | GuideSegment] = [*guide.items, *guide.segments]
    return sorted(rows, key=lambda row: (row.position, isinstance(row, GuideSegment)))


def plan_guide(guide: Guide) -> GuidePlan:
    """The guide as it reads now: cases and segments in order, cases with their chosen
    questions, each timed from the start of the session. Unavailable cases keep their
    place but add no time."""
    cases: list[PlannedCase] = []
    entries: list[PlannedCase | PlannedSegment] = []
    offset = 0
    for row in plan_rows(guide):
        if isinstance(row, GuideSegment):
            entries.append(
                PlannedSegment(
                    segment=row,
                    title=segment_title(row),
                    minutes=row.minutes,
                    starts_at=offset,
                    number=sum(1 for e in entries if isinstance(e, PlannedSegment)) + 1,
                )
            )
            offset += row.minutes
            continue
        item = row
        number = len(cases) + 1
        case = item.case if is_case_available(item.case) else None
        planned_questions: list[PlannedQuestion] = []
        unused: list = []
        starts_at = offset
        if case is not None:
            current = {q.text: q for q in case.questions}
            chosen = set()
            for q_number, question in enumerate(item.questions, start=1):
                source = None if question.is_own else current.get(question.text)
                if source is not None:
                    chosen.add(source.text)
                planned_questions.append(
                    PlannedQuestion(
                        question=question,
                        number=q_number,
                        text=question.text,
                        notes=question.notes if question.is_own else (source.notes if source else None),
                        minutes=question.minutes,
                        starts_at=offset,
                        is_own=question.is_own,
                        is_changed=not question.is_own and source is None,
                    )
                )
                offset += question.minutes
            unused = [q for q in case.questions if q.text not in chosen]
        planned = PlannedCase(
            item=item,
            number=number,
            title=case.title if case is not None else item.case_title,
            case=case,
            notice=None if case is not None else unavailable_notice(item),
            questions=planned_questions,
            unused=unused,
            minutes=offset - starts_at,
            starts_at=starts_at,
        )
        cases.append(planned)
        entries.append(planned)
    return GuidePlan(
        guide=guide,
        cases=cases,
        total_minutes=offset,
        start_time=guide.start_time,
        duration_minutes=guide.duration_minutes,
        unavailable=[c for c in cases if not c.is_available],
        entries=entries,
    )


def objectives_list(guide: Guide) -> list[str]:
    """The learning objectives, one per line (list markers typed by habit are dropped)."""
    lines = [line.strip().lstrip("-*•").strip() for line in guide.objectives.splitlines()]
    return [line for line in lines if line]


# -- changing a guide ----------------------------------------------------------------------
@dataclass(frozen=True)
class GuideDetails:
    """A guide's own fields, already parsed (see guide_forms.GuideForm.details())."""

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


def _touch(guide: Guide) -> None:
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
    _touch(guide)


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
    _touch(guide)
    return item


def move_case(guide: Guide, item_id: int, direction: str) -> bool:
    """Move a case up or down; False when it is already first or last."""
    item = _item(guide, item_id)
    moved = _move_in_plan(guide, item, direction)
    if moved:
        _touch(guide)
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
    _touch(guide)
    return item.case.title if is_case_available(item.case) else item.case_title


def _short_title(title: str, limit: int = 40) -> str:
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


def _minutes_error(number: int, title: str, q_number: int, message: str) -> str:
    """E.g. "Case 2 ‘The porter…’, question 3: enter the minutes as a whole number from 1 to 240"."""
    return f"Case {number} ‘{_short_title(title)}’, question {q_number}: {message[:1].lower()}{message[1:]}"


def update_plan(
    guide: Guide, minutes: dict[int, str], action: str, segment_minutes: dict[int, str] | None = None
) -> dict[str, str]:
    """Save every minutes value typed in the timed plan (all cases and segments at once),
    then apply the button pressed: "save"; "up-<id>", "down-<id>", "remove-<id>" (a chosen
    question); "use-<id>" (one of a case's current questions not yet chosen);
    "case-up-<id>", "case-down-<id>", "case-remove-<id>" (a case); "segment-up-<id>", "segment-down-<id>",
    "segment-remove-<id>" (a segment). Returns errors by field id ("minutes-<question id>",
    "segment-<segment id>"), each naming its case and question or its segment; when there
    are any, nothing changes."""
    segment_minutes = segment_minutes or {}
    errors: dict[str, str] = {}
    parsed: dict[int, int] = {}
    for number, item in enumerate(guide.items, start=1):
        if not is_case_available(item.case):
            continue
        for q_number, question in enumerate(item.questions, start=1):
            if question.id in minutes:
                try:
                    parsed[question.id] = parse_minutes(minutes[question.id])
                except ValueError as exc:
                    errors[f"minutes-{question.id}"] = _minutes_error(number, item.case_title, q_number, str(exc))
    parsed_segments: dict[int, int] = {}
    for segment in guide.segments:
        if segment.id in segment_minutes:
            try:
                parsed_segments[segment.id] = parse_minutes(segment_minutes[segment.id])
            except ValueError as exc:
                message = str(exc)
                errors[f"segment-{segment.id}"] = (
                    f"‘{_short_title(segment_title(segment))}’: {message[:1].lower()}{message[1:]}"
                )
    if errors:
        return errors
    for item in guide.items:
        for question in item.questions:
            if question.id in parsed:
                question.minutes = parsed[question.id]
    for segment in guide.segments:
        if segment.id in parsed_segments:
            segment.minutes = parsed_segments[segment.id]
    _apply_plan_action(guide, action)
    _touch(guide)
    return {}


def _apply_plan_action(guide: Guide, action: str) -> None:
    if action == "save":
        return
    parts = action.split("-")
    scope = parts.pop(0) if parts[0] in ("case", "segment") else "question"
    kind, number = parts if len(parts) == 2 else ("", "")
    chosen_id = parse_int(number)
    if chosen_id is None:
        raise GuideError("Choose what to do with the plan")
    if scope == "case" and kind in ("up", "down"):
        _move_in_plan(guide, _item(guide, chosen_id), kind)
    elif scope == "case" and kind == "remove":
        remove_case(guide, chosen_id)
    elif scope == "segment" and kind in ("up", "down", "remove"):
        segment = next((seg for seg in guide.segments if seg.id == chosen_id), None)
        if segment is None:
            raise GuideNotFound(chosen_id)
        if kind == "remove":
            guide.segments.remove(segment)
            _renumber_plan(guide)
        else:
            _move_in_plan(guide, segment, kind)
    elif scope == "question" and kind in ("up", "down", "remove"):
        item, target = _chosen_question(guide, chosen_id)
        index = item.questions.index(target)
        if kind == "remove":
            item.questions.remove(target)
            renumber(item.questions)
        else:
            move_row(item.questions, index, kind)
    elif scope == "question" and kind == "use":
        item, source = _unchosen_question(guide, chosen_id)
        if any(not q.is_own and q.text == source.text for q in item.questions):
            raise GuideError("That question is already in the guide")
        _append_question(item, source.text, None, source.minutes or DEFAULT_QUESTION_MINUTES, is_own=False)
    else:
        raise GuideError("Choose what to do with the plan")


def _chosen_question(guide: Guide, question_id: int) -> tuple[GuideCase, GuideQuestion]:
    for item in guide.items:
        if not is_case_available(item.case):
            continue
        for question in item.questions:
            if question.id == question_id:
                return item, question
    raise GuideNotFound(question_id)


def _unchosen_question(guide: Guide, question_id: int):  # type: ignore[no-untyped-def]
    for item in guide.items:
        if item.case is not None and is_case_available(item.case):
            for question in item.case.questions:
                if question.id == question_id:
                    return item, question
    raise GuideNotFound(question_id)


def update_questions(guide: Guide, item_id: int, minutes: dict[int, str], action: str) -> dict[str, str]:
    """update_plan, reached from one case's part of the builder: the case must be shown."""
    item = _item(guide, item_id)
    if not is_case_available(item.case):
        raise GuideError(unavailable_notice(item))
    return update_plan(guide, minutes, action)


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
    parse_minutes(str(minutes))
    _check_text_total(guide_text_length(guide) + len(text) + len(notes))
    question = _append_question(item, text, notes or None, minutes, is_own=True)
    _touch(guide)
    return question


def add_segment(
    guide: Guide, kind: str, *, minutes: int | None = None, label: str = "", item_id: int | None = None
) -> GuideSegment:
    """A segment at the end of the session. A reading time names one of the guide's cases
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
    try:
        parse_minutes(str(minutes))
    except ValueError as exc:
        raise GuideError(str(exc)) from None
    segment = GuideSegment(kind=kind, label=label, minutes=minutes, position=_next_position(guide), item=item)
    guide.segments.append(segment)
    _touch(guide)
    return segment


def teaching_notes(case: Case | None) -> TeachingNotesData | None:
    """A case's teaching note, for facilitators' pages only (guides are theirs alone)."""
    return teaching_notes_data(case.teaching_note) if case is not None else None  # type: ignore[attr-defined]


def add_suggested_plan(guide: Guide, item_id: int) -> list[GuideSegment]:
    """The steps of the case's suggested plan (its teaching note) as segments, right after
    the case: a starting point the facilitator then moves, changes or removes."""
    item = _item(guide, item_id)
    if not is_case_available(item.case):
        raise GuideError(unavailable_notice(item))
    notes = teaching_notes(item.case)
    if notes is None or not notes.plan:
        raise GuideError(f"“{item.case_title}” has no suggested plan")
    if len(guide.segments) + len(notes.plan) > MAX_SEGMENTS:
        raise GuideError(f"A guide can hold at most {MAX_SEGMENTS} segments")
    rows = plan_rows(guide)
    at = rows.index(item) + 1
    added = [
        GuideSegment(kind="activity", label=_short_title(step.activity, TITLE_MAX), minutes=step.minutes, position=0)
        for step in notes.plan
    ]
    rows[at:at] = added
    guide.segments.extend(added)
    renumber(rows)
    guide.segments.sort(key=lambda segment: segment.position)
    guide.items.sort(key=lambda row: row.position)
    _touch(guide)
    return added


def share_guide(guide: Guide) -> str:
    """Share read-only by link; returns the link's token (the same one while shared)."""
    if guide.share_token is None:
        guide.share_token = secrets.token_urlsafe(24)
        guide.shared_at = utcnow()
    return guide.share_token


def stop_sharing(guide: Guide) -> None:
    """The old link stops working at once; sharing again makes a new link."""
    guide.share_token = None
    guide.shared_at = None


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
    _touch(guide)


# -- handouts for learners -------------------------------------------------------------------
class HandoutUnavailable(LookupError):
    """The handout can't be opened now; `status` is the HTTP answer and the message says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def handout_state(guide: Guide, today: date | None = None) -> str:
    """ "off", "not-yet", "closed" or "open"."""
    today = today or utcnow().date()
    if not guide.is_handout_on or guide.handout_token is None:
        return "off"
    if guide.handout_opens_on is not None and today < guide.handout_opens_on:
        return "not-yet"
    if guide.handout_closes_on is not None and today > guide.handout_closes_on:
        return "closed"
    return "open"


def update_handout(
    guide: Guide, actor: User, action: str, opens_on: date | None = None, closes_on: date | None = None
) -> None:
    """ "on": give learners the participant edition by link (the same link each time it is
    switched on again), open from opens_on to closes_on inclusive, either optional; "off":
    the link stops working at once; "dates": change the dates only. Switching on or off is
    recorded in the audit log."""
    if opens_on is not None and closes_on is not None and closes_on < opens_on:
        raise GuideError("The closing date must be on or after the opening date")
    if action not in ("on", "off", "dates"):
        raise GuideError("Choose whether to switch the handout on or off")
    if action != "off":
        guide.handout_opens_on, guide.handout_closes_on = opens_on, closes_on
    if action == "on" and not guide.is_handout_on:
        guide.handout_token = guide.handout_token or secrets.token_urlsafe(24)
        guide.is_handout_on = True
        audit.record(actor, "handout-on", detail=f"Handout of guide {guide.id} “{guide.title}” switched on")
    elif action == "off" and guide.is_handout_on:
        guide.is_handout_on = False
        audit.record(actor, "handout-off", detail=f"Handout of guide {guide.id} “{guide.title}” switched off")
    _touch(guide)


def open_handout(token: str, user: User, today: date | None = None) -> Guide:
    """The guide whose handout this link is, for any signed-in user while it is on and open;
    the visit is recorded (see handouts_opened_by). HandoutUnavailable otherwise: 404 for an
    unknown link, 410 once switched off or closed, 403 before it opens."""
    guide = None
    if token and len(token) <= 64:
        guide = db.session.scalar(_guide_query().where(Guide.handout_token == token))
    if guide is None or guide.handout_token is None or not secrets.compare_digest(guide.handout_token, token):
        raise HandoutUnavailable(404, "There is no handout at this address. Check the link you were given.")
    state = handout_state(guide, today)
    if state == "off":
        raise HandoutUnavailable(410, "This handout has been withdrawn by the session’s facilitator.")
    if state == "not-yet":
        raise HandoutUnavailable(
            403,
            f"This handout opens on {_long_date(guide.handout_opens_on)}. Come back then.",  # type: ignore[arg-type]
        )
    if state == "closed":
        raise HandoutUnavailable(410, f"This handout closed on {_long_date(guide.handout_closes_on)}.")  # type: ignore[arg-type]
    _record_visit(guide, user)
    return guide


def _long_date(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _record_visit(guide: Guide, user: User) -> None:
    visit = db.session.scalar(
        select(HandoutVisit).where(HandoutVisit.guide_id == guide.id, HandoutVisit.user_id == user.id)
    )
    if visit is None:
        db.session.add(HandoutVisit(guide=guide, user=user))
    else:
        visit.last_opened_at = utcnow()
    db.session.flush()


def handouts_opened_by(user: User) -> list[Guide]:
    """The guides whose handouts the user has opened, the most recently opened first
    (including handouts switched off or closed since: see handout_state)."""
    return list(
        db.session.scalars(
            select(Guide)
            .join(HandoutVisit, HandoutVisit.guide_id == Guide.id)
            .where(HandoutVisit.user_id == user.id)
            .order_by(HandoutVisit.last_opened_at.desc(), HandoutVisit.id.desc())
        )
    )


# -- printing ------------------------------------------------------------------------------
def edition_filename(guide: Guide, edition: str) -> str:
    """E.g. "quality-improvement-afternoon-participant-handout.pdf"."""
    part, _ = EDITIONS[edition]
    return f"{slugify(guide.title, 60) or 'guide'}-{part}.pdf"


def _static_fetcher(base_url: str, static_dir: Path):  # type: ignore[no-untyped-def]
    """A WeasyPrint URL fetcher that serves the app's own static files and nothing else:
    no network, no other file. data: URLs are decoded in memory."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    prefix = base_url.rstrip("/") + "/static/"
    root = static_dir.resolve()

    class StaticOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):  # type: ignore[no-untyped-def]
            if url.startswith("data:"):
                return super().fetch(url, headers)
            path = urlsplit(url).path
            if not url.startswith(prefix) or ".." in path.split("/"):
                raise ValueError(f"not one of the app's static files: {url[:200]}")
            file = (root / path.removeprefix("/static/")).resolve()
            if not file.is_relative_to(root) or not file.is_file():
                raise ValueError(f"no such static file: {url[:200]}")
            mime = {".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}.get(file.suffix, "")
            return URLFetcherResponse(url, file.read_bytes(), {"Content-Type": mime} if mime else {})

    return StaticOnlyFetcher(allowed_protocols={"data"})


# The site stylesheet, parsed once per process (and again when the build changes it):
# parsing it is most of the cost of a PDF. Its url()s resolve against a fixed internal
# address, so the parsed sheet does not depend on the request's Host.
_stylesheets: dict[int, object] = {}
_stylesheets_lock = threading.Lock()
STYLESHEET = "build/css/main.css"
STYLESHEET_BASE = "https://every-seat.invalid/"


def _stylesheet(static_dir: Path):  # type: ignore[no-untyped-def]
    from weasyprint import CSS

    path = static_dir / STYLESHEET
    key = path.stat().st_mtime_ns
    with _stylesheets_lock:
        if key not in _stylesheets:
            _stylesheets.clear()
            # nhsuk-frontend's screen media queries and newer properties are unknown to
            # WeasyPrint, which would log a warning for each; they are expected, so quiet.
            logger = logging.getLogger("weasyprint")
            level = logger.level
            logger.setLevel(logging.ERROR)
            try:
                _stylesheets[key] = CSS(
                    string=path.read_text("utf-8"),
                    base_url=STYLESHEET_BASE + "static/" + STYLESHEET,
                    url_fetcher=_static_fetcher(STYLESHEET_BASE, static_dir),
                )
            finally:
                logger.setLevel(level)
        return _stylesheets[key]


def render_pdf(html: str, *, base_url: str, static_dir: Path) -> bytes:
    """The print view's HTML as a PDF. The HTML is the print view rendered with
    `for_pdf=True`, which leaves out the link to the site stylesheet: it is applied here,
    parsed once. Nothing outside the app's static folder is ever fetched."""
    from weasyprint import HTML

    document = HTML(string=html, base_url=base_url, url_fetcher=_static_fetcher(base_url, static_dir))
    # pdf/ua-1: a tagged PDF (structure tree, MarkInfo) whose viewers show the <title>.
    return document.write_pdf(stylesheets=[_stylesheet(static_dir)], pdf_variant="pdf/ua-1")
