"""Flask-WTF forms for discussion guides (CSRF included). They check and parse what was
typed; the rules about guides themselves live in the guides' service modules (editing.py
above all)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time
from typing import ClassVar

from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, StringField, TextAreaField
from wtforms.utils import unset_value
from wtforms.validators import DataRequired, Length, ValidationError

from casestudies.cases import is_case_available
from casestudies.guides.editing import DURATION_RANGE, QUESTION_MAX, TEXT_MAX, TITLE_MAX, GuideDetails
from casestudies.guides.plan import MINUTES_RANGE, SEGMENT_KINDS, segment_title, short_title
from casestudies.models import Guide
from casestudies.params import parse_int, parse_minutes

_TIME = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")


def parse_time(value: str) -> time | None:
    """ "14:30" or "9.05" -> a time; "" -> None; anything else -> ValueError."""
    value = value.strip()
    if not value:
        return None
    match = _TIME.match(value)
    if not match:
        raise ValueError("Enter the start time as hours and minutes on the 24-hour clock, for example 14:30")
    return time(int(match[1]), int(match[2]))


def parse_duration(value: str) -> int | None:
    if not value.strip():
        return None
    low, high = DURATION_RANGE
    return parse_minutes(value, low=low, high=high, what="the duration in minutes")


def _parsed_by(parse):
    def check(_form, field) -> None:
        try:
            parse(field.data or "")
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    return check


def question_orders(formdata) -> dict[int, list[int]]:
    """Each case's questions as the page reordered them (fields qorder-<case id>: question
    ids separated by commas); cases whose questions were not moved are left out."""
    orders: dict[int, list[int]] = {}
    for name in formdata:
        prefix, _, number = name.partition("-")
        item_id = parse_int(number)
        value = (formdata.get(name) or "").strip()
        if prefix != "qorder" or item_id is None or not value or len(value) > 4000:
            continue
        ids = [parse_int(part.strip()) for part in value.split(",") if part.strip()]
        orders[item_id] = [question_id for question_id in ids if question_id is not None]
    return orders


class DateInputField(Field):
    """A date typed in the NHS design system's date input: three boxes named <name>-day,
    <name>-month and <name>-year. `data` is the date (None when all three are blank);
    `parts` what was typed, shown again beside an error; `what` names the date in its
    messages ("The opening date must be a real date")."""

    def __init__(self, label: str = "", validators=None, *, what: str = "The date", **kwargs) -> None:
        super().__init__(label, validators, **kwargs)
        self.what = what
        self.parts: dict[str, str] = {"day": "", "month": "", "year": ""}
        self.error_part: str | None = None  # the box to mark (None: all three)

    def process(self, formdata, data=unset_value, extra_filters=None) -> None:
        self.process_errors = []
        if data is unset_value:
            data = self.default() if callable(self.default) else self.default
        self.object_data = data
        self.data = data if isinstance(data, date) else None
        if self.data is not None:
            self.parts = {"day": str(self.data.day), "month": str(self.data.month), "year": str(self.data.year)}
        if formdata is not None:
            self.parts = {part: (formdata.get(f"{self.name}-{part}") or "").strip()[:10] for part in self.parts}

    def pre_validate(self, form) -> None:
        self.data, self.error_part = None, None
        typed = {part: value for part, value in self.parts.items() if value}
        if not typed:
            return
        for part in ("day", "month", "year"):
            if part not in typed:
                self.error_part = part
                raise ValidationError(f"{self.what} must include a {part}")
        if not all(value.isdigit() for value in typed.values()):
            raise ValidationError(f"{self.what} must be a real date, in numbers, for example 3 3 2027")
        if len(typed["year"]) != 4:
            self.error_part = "year"
            raise ValidationError(f"{self.what}: the year must include 4 numbers")
        try:
            self.data = date(int(typed["year"]), int(typed["month"]), int(typed["day"]))
        except ValueError:
            raise ValidationError(f"{self.what} must be a real date") from None


class GuideForm(FlaskForm):
    title = StringField(
        "Title", validators=[DataRequired("Enter a title for the guide"), Length(max=TITLE_MAX)], default=""
    )
    audience = StringField("Audience (optional)", validators=[Length(max=TITLE_MAX)], default="")
    session_on = DateInputField("Date (optional)", what="The date of the session")
    start_time = StringField("Start time (optional)", validators=[_parsed_by(parse_time)], default="")
    duration_minutes = StringField("Duration in minutes (optional)", validators=[_parsed_by(parse_duration)])
    objectives = TextAreaField("Learning objectives (optional)", validators=[Length(max=TEXT_MAX)], default="")
    introduction = TextAreaField("Introduction (optional)", validators=[Length(max=TEXT_MAX)], default="")
    ground_rules = TextAreaField("Ground rules (optional)", validators=[Length(max=TEXT_MAX)], default="")
    opening_remarks = TextAreaField("Opening remarks (optional)", validators=[Length(max=TEXT_MAX)], default="")
    closing_remarks = TextAreaField("Closing remarks (optional)", validators=[Length(max=TEXT_MAX)], default="")
    case_id = HiddenField()  # a case to add to a new guide

    @classmethod
    def for_guide(cls, guide) -> GuideForm:
        return cls(
            data={
                "title": guide.title,
                "audience": guide.audience,
                "session_on": guide.session_on,
                "start_time": guide.start_time.strftime("%H:%M") if guide.start_time else "",
                "duration_minutes": str(guide.duration_minutes or ""),
                "objectives": guide.objectives,
                "introduction": guide.introduction,
                "ground_rules": guide.ground_rules,
                "opening_remarks": guide.opening_remarks,
                "closing_remarks": guide.closing_remarks,
            }
        )

    def details(self) -> GuideDetails:
        """The parsed values (after validate_on_submit())."""
        return GuideDetails(
            title=self.title.data or "",
            audience=self.audience.data or "",
            session_on=self.session_on.data,
            start_time=parse_time(self.start_time.data or ""),
            duration_minutes=parse_duration(self.duration_minutes.data or ""),
            objectives=self.objectives.data or "",
            introduction=self.introduction.data or "",
            opening_remarks=self.opening_remarks.data or "",
            closing_remarks=self.closing_remarks.data or "",
            ground_rules=self.ground_rules.data or "",
        )

    def first_case_id(self) -> int | None:
        value = (self.case_id.data or "").strip()
        return parse_int(value)


class MinutesField(StringField):
    """Minutes typed by a person, parsed once when the form is validated: `number` is the
    whole number (None when left blank), `data` the text as typed, shown again beside an
    error. Blank is refused only by a DataRequired validator."""

    number: int | None = None

    def pre_validate(self, form) -> None:
        self.number = None
        if (self.data or "").strip():
            try:
                self.number = parse_minutes(self.data or "")
            except ValueError as exc:
                raise ValidationError(str(exc)) from None


class OwnQuestionForm(FlaskForm):
    text = TextAreaField("Your question", validators=[DataRequired("Enter your question"), Length(max=QUESTION_MAX)])
    notes = TextAreaField("Facilitator notes (optional)", validators=[Length(max=QUESTION_MAX)], default="")
    minutes = MinutesField(
        "Minutes",
        validators=[DataRequired(f"Enter the minutes, from {MINUTES_RANGE[0]} to {MINUTES_RANGE[1]}")],
        default="10",
    )


class HowItWentForm(FlaskForm):
    how_it_went = TextAreaField("How it went", validators=[Length(max=TEXT_MAX)], default="")


class AddCaseForm(FlaskForm):
    """ "Add to guide" on a case page or a search result: the case, and the guide ("new" for
    a new one)."""

    case_id = HiddenField(validators=[DataRequired()])
    guide = HiddenField(default="new")  # a <select> or a hidden input in the page
    next = HiddenField()

    def parsed(self) -> tuple[int | None, int | None]:
        """(case id, guide id or None for a new guide); a case id of None is not valid."""
        case = (self.case_id.data or "").strip()
        guide = (self.guide.data or "new").strip()
        return (
            parse_int(case),
            parse_int(guide),
        )


class GuideActionForm(FlaskForm):
    """Buttons (move, remove, share, duplicate, delete): the CSRF token is the point."""


def _typed(formdata, field: str) -> dict[int, str]:
    """The text typed in each field named <field>-<row id>."""
    typed: dict[int, str] = {}
    for name in formdata:
        prefix, _, number = name.partition("-")
        row_id = parse_int(number)
        if prefix == field and row_id is not None:
            typed[row_id] = formdata.get(name, "")[:10]
    return typed


@dataclass(frozen=True)
class PlanMinutes:
    """The minutes of the timed plan's form: typed (by question id, by segment id), parsed
    for the services (the same keys, whole numbers), and the errors by field id, each naming
    its case and question or its segment."""

    typed: dict[int, str]
    typed_segments: dict[int, str]
    questions: dict[int, int]
    segments: dict[int, int]
    errors: dict[str, str]


def plan_minutes(formdata, guide: Guide, *, segments: bool = True) -> PlanMinutes:
    """Parse the minutes typed for each chosen question of the guide's available cases
    (fields minutes-<question id>) and, with `segments`, for each segment (segment-<segment
    id>; shown again whatever `segments`). Fields of other rows are left out; a value for an
    unavailable case is not read."""
    typed, typed_segments = _typed(formdata, "minutes"), _typed(formdata, "segment")
    errors: dict[str, str] = {}
    questions: dict[int, int] = {}
    for number, item in enumerate(guide.items, start=1):
        if not is_case_available(item.case):
            continue
        for q_number, question in enumerate(item.questions, start=1):
            if question.id in typed:
                try:
                    questions[question.id] = parse_minutes(typed[question.id])
                except ValueError as exc:
                    where = f"Case {number} ‘{short_title(item.case_title)}’, question {q_number}"
                    errors[f"minutes-{question.id}"] = _after(where, str(exc))
    parsed_segments: dict[int, int] = {}
    for segment in guide.segments if segments else []:
        if segment.id in typed_segments:
            try:
                parsed_segments[segment.id] = parse_minutes(typed_segments[segment.id])
            except ValueError as exc:
                errors[f"segment-{segment.id}"] = _after(f"‘{short_title(segment_title(segment))}’", str(exc))
    return PlanMinutes(typed, typed_segments, questions, parsed_segments, errors)


def _after(where: str, message: str) -> str:
    """E.g. "Case 2 ‘The porter…’, question 3: enter the minutes as a whole number from 1 to 240"."""
    return f"{where}: {message[:1].lower()}{message[1:]}"


class SegmentForm(FlaskForm):
    """A segment added to the session: its kind, the case for a reading time, minutes
    (blank: suggested) and an optional name."""

    # <select>s in the page; the service refuses a kind or case that is not one of these.
    segment_kind = StringField("Kind of segment", default="welcome")
    segment_case = StringField("Case to read (for reading time)", default="")
    kind_choices: ClassVar[list[tuple[str, str]]] = [(k, v[0]) for k, v in SEGMENT_KINDS.items() if k != "activity"]
    item_choices: list[tuple[str, str]]  # set by the view: the guide's cases
    # Names unlike the own-question form's, which shares the page.
    segment_minutes = MinutesField("Minutes (optional)", default="")  # blank: suggested
    segment_label = StringField("Name (optional)", validators=[Length(max=TITLE_MAX)], default="")
    # "end", or "before:<row key>" / "after:<row key>" (guides.sequence.place_choices).
    segment_place = StringField("Where in the session", validators=[Length(max=40)], default="end")
    place_choices: list[tuple[str, str]]  # set by the view

    def is_typed(self) -> bool:
        """A name or minutes typed in the box: a segment meant to be added, whichever button
        of the plan is pressed."""
        return bool((self.segment_minutes.data or "").strip() or (self.segment_label.data or "").strip())


def own_question_form(item_id: int, formdata=None) -> OwnQuestionForm:
    """The "Add a question of your own" fields of one case: in the builder's one plan form,
    so named for their case ("own-<item id>-text", ...). The plan form's CSRF token is
    checked by the view."""
    return OwnQuestionForm(formdata=formdata, prefix=f"own-{item_id}", meta={"csrf": False})


def typed_own_questions(formdata, guide: Guide) -> dict[int, OwnQuestionForm]:
    """The own questions typed (text not blank) in each available case's box, by case id:
    any button of the plan adds them, so a typed question is never thrown away."""
    forms = {}
    for item in guide.items:
        if is_case_available(item.case) and (formdata.get(f"own-{item.id}-text") or "").strip():
            forms[item.id] = own_question_form(item.id, formdata)
    return forms


def plan_order(formdata) -> list[str] | None:
    """The session's order as the page changed it (drag and drop or the keyboard): row keys
    separated by commas; None when the page did not change it."""
    value = (formdata.get("order") or "").strip()
    if not value or len(value) > 4000:
        return None
    return [key.strip() for key in value.split(",") if key.strip()]


class HandoutForm(FlaskForm):
    """Switching the learners' handout on or off, with optional open and close dates (the
    NHS date input: day, month and year)."""

    opens_on = DateInputField("Opens on (optional)", what="The opening date")
    closes_on = DateInputField("Closes after (optional)", what="The closing date")

    @classmethod
    def for_guide(cls, guide) -> HandoutForm:
        return cls(formdata=None, data={"opens_on": guide.handout_opens_on, "closes_on": guide.handout_closes_on})

    def dates(self) -> tuple[date | None, date | None]:
        """The parsed dates (after validate_on_submit())."""
        return self.opens_on.data, self.closes_on.data
