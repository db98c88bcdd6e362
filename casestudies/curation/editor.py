"""The case editor: the form as typed, its validation by the case format's own rules,
and saving a new case or a new revision; the values the editor suggests."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from casestudies.audit import services as audit
from casestudies.cases.data import CaseData, PlanStepData, QuestionData, TeachingNotesData
from casestudies.cases.limits import MINUTES_MAX, MINUTES_MIN
from casestudies.cases.revisions import case_to_data, normalised, save_case_data, teaching_notes_data
from casestudies.cases.vocab import DEFAULT_CONSENT, LEADERSHIP_DIMENSIONS, Status
from casestudies.curation.duplicates import possible_duplicates
from casestudies.curation.errors import CurationNotFound, EditConflict, PossibleDuplicates, sentence
from casestudies.extensions import db
from casestudies.models import Case, Tag, User
from casestudies.params import parse_minutes
from casestudies.slugs import slugify
from casestudies.transfer.casefile import CaseFileError, dump_case_file, parse_case_file


@dataclass
class QuestionInput:
    text: str = ""
    notes: str = ""
    minutes: str = ""


@dataclass
class TeachingNotesInput:
    """The teaching note's fields as typed (lists one item a line; plan lines "10 Activity")."""

    synopsis: str = ""
    objectives: str = ""
    suits: str = ""
    opening_question: str = ""
    plan: str = ""
    board_plan: str = ""
    key_points: str = ""

    FIELDS = ("synopsis", "objectives", "suits", "opening_question", "plan", "board_plan", "key_points")

    @classmethod
    def from_data(cls, data: TeachingNotesData | None) -> TeachingNotesInput:
        if data is None:
            return cls()
        return cls(
            synopsis=data.synopsis or "",
            objectives="\n".join(data.objectives),
            suits=data.suits or "",
            opening_question=data.opening_question or "",
            plan="\n".join(f"{step.minutes} {step.activity}" for step in data.plan),
            board_plan=data.board_plan or "",
            key_points="\n".join(data.key_points),
        )


_PLAN_LINE = re.compile(r"^(\d{1,3})\s*(?:minutes?|mins?)?\s*[-–:|]?\s*(\S.*)$")


def parse_teaching_notes(notes: TeachingNotesInput, errors: FieldErrors) -> TeachingNotesData | None:
    """The teaching note from the editor's fields; a plan line that is not "<minutes> <activity>"
    is an error beside the plan field."""

    def lines(text: str) -> tuple[str, ...]:
        return tuple(line.strip() for line in text.splitlines() if line.strip())

    steps = []
    for number, line in enumerate(lines(notes.plan), start=1):
        match = _PLAN_LINE.match(line)
        try:
            minutes = parse_minutes(match.group(1)) if match else None
        except ValueError:
            minutes = None
        if match is None or minutes is None:
            errors.setdefault("tn-plan", []).append(
                f"Suggested plan, line {number}: start with the minutes ({MINUTES_MIN} to {MINUTES_MAX}), "
                "then the activity, for example “10 Read the case”"
            )
            continue
        steps.append(PlanStepData(minutes, match.group(2).strip()))
    data = TeachingNotesData(
        synopsis=notes.synopsis.strip() or None,
        objectives=lines(notes.objectives),
        suits=notes.suits.strip() or None,
        opening_question=notes.opening_question.strip() or None,
        plan=tuple(steps),
        board_plan=notes.board_plan.strip() or None,
        key_points=lines(notes.key_points),
    )
    return None if data.is_empty() else data


@dataclass
class CaseInput:
    """What the editor form holds, as typed: nothing is lost when a save is refused."""

    title: str = ""
    slug: str = ""
    summary: str = ""
    seat: str = ""
    setting: str = ""
    dimensions: list[str] = field(default_factory=list)
    tags: str = ""
    consent: str = ""  # no default: the curator must choose (see validate_case_input)
    review_by: str = ""
    body: str = ""
    questions: list[QuestionInput] = field(default_factory=list)
    version: int | None = None
    duplicates_seen: frozenset[int] = frozenset()  # possible duplicates shown, saved anyway
    teaching_notes: TeachingNotesInput = field(default_factory=TeachingNotesInput)

    @classmethod
    def from_case(cls, case: Case) -> CaseInput:
        return cls(
            title=case.title,
            slug=case.slug,
            summary=case.summary,
            seat=case.seat,
            setting=case.setting or "",
            dimensions=[d.name for d in case.dimensions],
            tags=", ".join(t.name for t in case.tags),
            consent=case.consent,
            review_by=case.review_by.isoformat() if case.review_by else "",
            body=case.body,
            questions=[QuestionInput(q.text, q.notes or "", str(q.minutes or "")) for q in case.questions],
            version=case.version,
            teaching_notes=TeachingNotesInput.from_data(teaching_notes_data(case.teaching_note)),  # type: ignore[attr-defined]
        )

    def tag_list(self) -> tuple[str, ...]:
        return tuple(t.strip() for t in re.split(r"[,\n]", self.tags) if t.strip())


FieldErrors = dict[str, list[str]]
_TOP_KEY = re.compile(r"^([a-z_]+):")


def _field_of_line(text: str, line: int) -> str:
    """The case-file key a problem's line belongs to, so the editor can show the message
    beside the right field."""
    lines = text.split("\n")
    closing = next((i + 1 for i, value in enumerate(lines) if i > 0 and value == "---"), len(lines))
    if line >= closing:  # the closing fence or after: the body
        return "body"
    key = "title"
    for value in lines[: max(0, line)]:
        match = _TOP_KEY.match(value)
        if match:
            key = match.group(1)
    return key


def validate_case_input(
    form: CaseInput, *, status: str, slug: str | None = None
) -> tuple[CaseData | None, FieldErrors]:
    """Check the editor's input with the case format's own rules (the same parser that
    checks imported files), and return the case data or the problems per field."""
    errors: FieldErrors = {}
    questions = []
    rows: list[int] = []  # the editor's row of the case file's question 1, 2, ...
    for index, question in enumerate(form.questions):
        minutes: int | None = None
        if question.minutes.strip():
            try:
                minutes = parse_minutes(question.minutes)
            except ValueError as exc:
                errors.setdefault(f"questions-{index}-minutes", []).append(str(exc))
        if not question.text.strip() and not question.notes.strip() and minutes is None:
            continue  # an empty row is not a question
        if not question.text.strip():
            errors.setdefault(f"questions-{index}-text", []).append("Enter the question, or remove this row")
        questions.append(QuestionData(question.text, question.notes.strip() or None, minutes))
        rows.append(index)
    review_by: date | None = None
    if form.review_by.strip():
        try:
            review_by = date.fromisoformat(form.review_by.strip())
        except ValueError:
            errors.setdefault("review_by", []).append("Review date must be a real date, like 2027-03-01")
    consent = form.consent.strip()
    if not consent:
        errors.setdefault("consent", []).append(
            "Choose whether consent was obtained, is not needed or is still pending"
        )
        consent = DEFAULT_CONSENT  # checked no further: the error above stops the save
    chosen = {d.casefold() for d in form.dimensions}
    candidate = CaseData(
        title=form.title,
        slug=slug or form.slug.strip() or slugify(form.title),
        summary=form.summary,
        seat=form.seat,
        setting=form.setting.strip() or None,
        dimensions=tuple(d for d in LEADERSHIP_DIMENSIONS if d.casefold() in chosen),
        tags=form.tag_list(),
        questions=tuple(questions),
        status=status,
        consent=consent,
        review_by=review_by,
        updated=date.today(),
        body=form.body if form.body.strip() else "",
        teaching_notes=parse_teaching_notes(form.teaching_notes, errors),
    )
    if any(d.casefold() not in {x.casefold() for x in LEADERSHIP_DIMENSIONS} for d in form.dimensions):
        errors.setdefault("dimensions", []).append("Choose dimensions from the list")
    text = dump_case_file(candidate)
    try:
        data = parse_case_file(text.encode("utf-8"), "editor")
    except CaseFileError as exc:
        for problem in exc.problems:
            name = _field_of_line(text, problem.line)
            if name == "questions":
                name = question_field(problem.message, rows)
                if name in errors:
                    continue  # the row's own check already said what is wrong with it
            elif name == "teaching_notes":
                name = _teaching_field(problem.message)
            errors.setdefault(name, []).append(sentence(problem.message))
        return None, in_form_order(errors)
    if errors:
        return None, in_form_order(errors)
    return data, errors


# The editor's fields from top to bottom; the question rows come after them. A case-file
# key that is no field of its own ("status", "updated") is shown at the title.
EDITOR_FIELD_ORDER = ("title", "status", "updated", "slug", "summary", "seat", "setting", "dimensions", "tags",
                      "consent", "review_by", "body")  # fmt: skip
_QUESTION_PARTS = ("text", "notes", "minutes")


def in_form_order(errors: FieldErrors) -> FieldErrors:
    """The problems in the order of the editor's fields, so the error summary reads as the
    form does; a field this list doesn't know keeps its place after the others."""

    def position(item: tuple[int, str]) -> tuple[int, int, int, int]:
        arrival, name = item
        if name in EDITOR_FIELD_ORDER:
            return (0, EDITOR_FIELD_ORDER.index(name), 0, 0)
        _, row, part = name.split("-", 2) if name.startswith("questions-") and name.count("-") == 2 else ("", "", "")
        if row.isdigit() and part in _QUESTION_PARTS:
            return (1, int(row), _QUESTION_PARTS.index(part), 0)
        return (2, 0, 0, arrival)

    ordered = sorted(enumerate(errors), key=position)
    return {name: errors[name] for _, name in ordered}


_QUESTION_PROBLEM = re.compile(r"question (\d+)(?: (text|notes|minutes))?")


def question_field(message: str, rows: list[int]) -> str:
    """The editor field of a case-file problem with a question ("question 2 text must not be
    empty" is about the second question written, which is the editor's row rows[1])."""
    match = _QUESTION_PROBLEM.match(message)
    if match is None or not 1 <= int(match.group(1)) <= len(rows):
        return "questions-0-text"
    return f"questions-{rows[int(match.group(1)) - 1]}-{match.group(2) or 'text'}"


def _teaching_field(message: str) -> str:
    """The editor field of a teaching-note problem ("teaching_notes plan step 2 ...")."""
    words = message.split()
    name = words[1] if len(words) > 1 and words[0] == "teaching_notes" else "synopsis"
    return "tn-" + (name if name in TeachingNotesInput.FIELDS else "synopsis")


def _slug_taken(slug: str, other_than: int | None = None) -> Case | None:
    query = select(Case).where(Case.slug == slug)
    if other_than is not None:
        query = query.where(Case.id != other_than)
    return db.session.scalar(query)


def create_case(form: CaseInput, actor: User) -> tuple[Case | None, FieldErrors]:
    """Save the editor's input as a new draft. Raises PossibleDuplicates when its title or
    text looks like a case's that the curator has not yet been shown."""
    data, errors = validate_case_input(form, status=Status.DRAFT)
    if data is None:
        return None, errors
    existing = _slug_taken(data.slug)
    if existing is not None:
        where = "a case in the bin" if existing.is_deleted else f"“{existing.title}”"
        return None, {"slug": [f"The web address {data.slug} is already used by {where}. Choose another."]}
    duplicates = possible_duplicates(data, already_seen=form.duplicates_seen)
    if duplicates:
        raise PossibleDuplicates(duplicates)
    case, _ = save_case_data(data, actor=actor, summary="Created")
    audit.record(actor, "create", case=case)
    return case, {}


def update_case(case: Case, form: CaseInput, actor: User) -> tuple[bool, FieldErrors]:
    """Save the editor's input as a new revision. Raises EditConflict when the case was
    saved by someone else since the form was opened (optimistic locking), and
    PossibleDuplicates when a changed title or text looks like another case's."""
    if form.version is None or form.version != case.version:
        raise EditConflict(case)
    # A published case with consent pending is refused here, by the case-file reader (cases.rules).
    data, errors = validate_case_input(form, status=case.status, slug=case.slug)
    if data is None:
        return False, errors
    before = case_to_data(case)
    if _wording_changed(before, normalised(data)):
        duplicates = possible_duplicates(data, exclude=case.id, already_seen=form.duplicates_seen)
        if duplicates:
            raise PossibleDuplicates(duplicates)
    data = replace(data, updated=before.updated if _same_but_date(before, data) else data.updated)
    _, changed = save_case_data(data, actor=actor, case=case, summary=_edit_summary(before, normalised(data)))
    if changed:
        audit.record(actor, "edit", case=case, detail=_edit_summary(before, normalised(data)))
    return changed, {}


def _wording_changed(before: CaseData, after: CaseData) -> bool:
    """Whether an edit touches what duplicates are found by: a change of tags alone does not
    ask about duplicates again."""
    return (before.title, before.summary, before.body) != (after.title, after.summary, after.body)


def _same_but_date(before: CaseData, after: CaseData) -> bool:
    return replace(before, updated=None) == replace(normalised(after), updated=None)


def _edit_summary(before: CaseData, after: CaseData) -> str:
    labels = {
        "title": "title", "summary": "summary", "seat": "seat", "setting": "setting", "dimensions": "dimensions",
        "tags": "tags", "questions": "questions", "consent": "consent", "review_by": "review date", "body": "text",
        "teaching_notes": "teaching notes",
    }  # fmt: skip
    changed = [label for name, label in labels.items() if getattr(before, name) != getattr(after, name)]
    return ("Edited " + ", ".join(changed))[:200] if changed else "Saved without changes"


def known_values() -> dict[str, list[str]]:
    """Existing seats, settings and tags, suggested by the editor."""
    live = ~Case.is_deleted
    return {
        "seat": sorted(set(db.session.scalars(select(Case.seat).where(live))), key=str.casefold),
        "setting": sorted(
            set(db.session.scalars(select(Case.setting).where(live, Case.setting.is_not(None)))), key=str.casefold
        ),
        "tag": list(db.session.scalars(select(Tag.name).order_by(Tag.key))),
    }


def get_case_for_curator(slug: str) -> Case:
    case = db.session.scalar(
        select(Case)
        .where(Case.slug == slug, ~Case.is_deleted)
        .options(selectinload(Case.tags), selectinload(Case.dimensions), selectinload(Case.questions))
    )
    if case is None:
        raise CurationNotFound(slug)
    return case
