"""Curators' services: the editor, the review workflow, history, the bin, the dashboard.

Every function that changes data leaves the commit to its caller (one per request) and
records what it did in the audit log, in the same transaction.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from casestudies.audit import services as audit
from casestudies.curation.duplicates import PossibleDuplicate, possible_duplicates
from casestudies.curation.revisions import case_to_data, normalised, save_case_data, working_data
from casestudies.extensions import db
from casestudies.models import (
    Case,
    CaseRevision,
    CaseStateChange,
    Dimension,
    Role,
    SearchLog,
    Tag,
    User,
    case_dimension,
    utcnow,
)
from casestudies.params import parse_minutes
from casestudies.slugs import slugify
from casestudies.transfer.casefile import (
    CaseData,
    CaseFileError,
    PlanStepData,
    QuestionData,
    TeachingNotesData,
    dump_case_file,
    parse_case_file,
)
from casestudies.vocab import CONSENT_LABELS, LEADERSHIP_DIMENSIONS, Status

BIN_DAYS = 30

# Which moves the workflow allows, and what a button calls them.
TRANSITIONS: dict[tuple[str, str], str] = {
    (Status.DRAFT, Status.REVIEW): "Submit for review",
    (Status.REVIEW, Status.PUBLISHED): "Publish",
    (Status.REVIEW, Status.DRAFT): "Request changes",
    (Status.PUBLISHED, Status.DRAFT): "Unpublish",
}


class CurationError(ValueError):
    """A rule refused the change; the message is for the user."""


class EditConflict(CurationError):
    def __init__(self, case: Case) -> None:
        super().__init__(
            f"Someone else saved this case while you were editing it (it is now at version {case.version}). "
            "Your changes have not been saved; they are still in the form below."
        )
        self.current_version = case.version


class PossibleDuplicates(CurationError):
    """The case looks like one already in the library; nothing is saved until the curator
    confirms (the editor sends back the ids shown, as `duplicates_seen`)."""

    def __init__(self, duplicates: list[PossibleDuplicate]) -> None:
        super().__init__("This case may already be in the library")
        self.duplicates = duplicates


# -- the editor ------------------------------------------------------------------------------------
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
                f"Suggested plan, line {number}: start with the minutes (1 to 240), then the activity, "
                "for example “10 Read the case”"
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
        """The case as its editor opens it: a published case's pending change, if it has one."""
        data = working_data(case)
        return cls(
            title=data.title,
            slug=data.slug,
            summary=data.summary,
            seat=data.seat,
            setting=data.setting or "",
            dimensions=list(data.dimensions),
            tags=", ".join(data.tags),
            consent=data.consent,
            review_by=data.review_by.isoformat() if data.review_by else "",
            body=data.body,
            questions=[QuestionInput(q.text, q.notes or "", str(q.minutes or "")) for q in data.questions],
            version=case.version,
            teaching_notes=TeachingNotesInput.from_data(data.teaching_notes),
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
        consent = "not-needed"  # checked no further: the error above stops the save
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
                name = "questions-0-text"
            elif name == "teaching_notes":
                name = _teaching_field(problem.message)
            errors.setdefault(name, []).append(_sentence(problem.message))
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


def _teaching_field(message: str) -> str:
    """The editor field of a teaching-note problem ("teaching_notes plan step 2 ...")."""
    words = message.split()
    name = words[1] if len(words) > 1 and words[0] == "teaching_notes" else "synopsis"
    return "tn-" + (name if name in TeachingNotesInput.FIELDS else "synopsis")


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:]


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
    data, errors = validate_case_input(form, status=case.status, slug=case.slug)
    if data is None:
        return False, errors
    if case.status == Status.PUBLISHED and data.consent == "pending":
        return False, {"consent": ["A published case can't have consent pending: unpublish it first"]}
    before = working_data(case)
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


# -- workflow --------------------------------------------------------------------------------------
def available_transitions(case: Case) -> list[tuple[str, str]]:
    return [(to, label) for (frm, to), label in TRANSITIONS.items() if frm == case.status]


def review_blockers(case: Case) -> dict[int, list[str]]:
    """Who may not publish the case under the two-person rule, and why: the author of its
    current content (the latest revision the workflow did not write: a column, never read
    from the text) and whoever sent it for review."""
    blockers: dict[int, list[str]] = {}
    revisions = list(
        db.session.scalars(
            select(CaseRevision).where(CaseRevision.case_id == case.id).order_by(CaseRevision.number.desc())
        )
    )
    for revision in revisions:
        if revision.is_status_change:
            continue  # only the status moved: look further back for the content's author
        if revision.author_id is not None:
            blockers[revision.author_id] = ["you wrote its current revision"]
        break
    sent = db.session.scalar(
        select(CaseStateChange)
        .where(CaseStateChange.case_id == case.id, CaseStateChange.to_status == Status.REVIEW)
        .order_by(CaseStateChange.id.desc())
        .limit(1)
    )
    if sent is not None and sent.actor_id is not None:
        blockers.setdefault(sent.actor_id, []).append("you sent it for review")
    return blockers


def two_person_rule_applies() -> bool:
    return bool(current_app.config.get("TWO_PERSON_REVIEW", True))


def publish_blocker(case: Case, actor: User) -> str | None:
    """Why the two-person rule stops this actor publishing the case, or None."""
    if not two_person_rule_applies() or case.status != Status.REVIEW:
        return None
    reasons = review_blockers(case).get(actor.id)
    if not reasons:
        return None
    return "Another curator must publish this case: " + " and ".join(reasons).replace(" and you ", " and ")


def change_status(case: Case, to_status: str, actor: User, comment: str = "", override_reason: str = "") -> None:
    if not actor.has_role(Role.CURATOR):
        raise CurationError("Only curators can move cases between states")
    if case.is_deleted:
        raise CurationError("This case is in the bin: restore it first")
    if (case.status, to_status) not in TRANSITIONS:
        raise CurationError(f"A case can't move from {case.status} to {to_status}")
    comment = comment.strip()
    override_reason = override_reason.strip()
    if to_status == Status.DRAFT and not comment:
        raise CurationError("Say what needs to change: a comment is required when a case goes back to draft")
    if to_status == Status.PUBLISHED and case.consent == "pending":
        raise CurationError("This case can't be published while consent is pending")
    if len(comment) > 2000 or len(override_reason) > 2000:
        raise CurationError("The comment must be 2,000 characters or fewer")
    overridden = None
    if to_status == Status.PUBLISHED:
        overridden = publish_blocker(case, actor)
        if overridden is not None:
            if not actor.can_override_review():
                raise CurationError(overridden)
            if not override_reason:
                raise CurationError(
                    f"{overridden}. To publish it yourself as an admin, "
                    "give the reason for overriding the two-person rule"
                )
    label = TRANSITIONS[(case.status, to_status)]
    history_comment = comment
    if overridden is not None:
        history_comment = f"Two-person rule overridden by an admin: {override_reason}" + (
            f" ({comment})" if comment else ""
        )
    db.session.add(
        CaseStateChange(
            case_id=case.id,
            from_status=case.status,
            to_status=to_status,
            comment=history_comment or None,
            actor=actor,
        )
    )
    # Unpublishing keeps the live text as the draft; a pending change stays in the history.
    data = replace(case_to_data(case), status=to_status)
    summary = f"{label}" + (f": {history_comment}" if history_comment else "")
    save_case_data(data, actor=actor, case=case, summary=summary[:200], direct=True, status_change=True)
    audit.record(actor, "review-override" if overridden is not None else "state", case=case, detail=summary)


def state_history(case: Case) -> list[CaseStateChange]:
    return list(
        db.session.scalars(
            select(CaseStateChange).where(CaseStateChange.case_id == case.id).order_by(CaseStateChange.id.desc())
        )
    )


# -- history ---------------------------------------------------------------------------------------
def get_revision(case: Case, number: int) -> CaseRevision:
    revision = db.session.scalar(
        select(CaseRevision).where(CaseRevision.case_id == case.id, CaseRevision.number == number)
    )
    if revision is None:
        raise LookupError(number)
    return revision


def revision_data(revision: CaseRevision) -> CaseData:
    return parse_case_file(revision.content.encode("utf-8"), f"revision-{revision.number}.md")


def restore_revision(case: Case, number: int, actor: User) -> None:
    """Save an old revision's content as a new revision. The case keeps its current status:
    restoring never publishes or unpublishes (that is the workflow's job)."""
    revision = get_revision(case, number)
    old = revision_data(revision)
    if case.status == Status.PUBLISHED and old.consent == "pending":
        raise CurationError("That revision has consent pending, so it can't be restored while the case is published")
    data = replace(old, status=case.status, slug=case.slug)
    save_case_data(data, actor=actor, case=case, summary=f"Restored revision {number}")
    audit.record(actor, "revision-restore", case=case, detail=f"Restored revision {number}")


@dataclass(frozen=True)
class DiffPiece:
    kind: str  # "same", "added", "removed"
    text: str


@dataclass(frozen=True)
class FieldDiff:
    label: str
    pieces: list[DiffPiece]


def _word_diff(before: str, after: str) -> list[DiffPiece]:
    """Word-level differences, keeping the white space as it was."""
    a, b = re.findall(r"\S+|\s+", before), re.findall(r"\S+|\s+", after)
    pieces: list[DiffPiece] = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(DiffPiece("same", "".join(a[a1:a2])))
        else:
            if a2 > a1:
                pieces.append(DiffPiece("removed", "".join(a[a1:a2])))
            if b2 > b1:
                pieces.append(DiffPiece("added", "".join(b[b1:b2])))
    return pieces


def _questions_text(data: CaseData) -> str:
    lines = []
    for number, q in enumerate(data.questions, start=1):
        line = f"{number}. {q.text}"
        if q.notes:
            line += f" [notes: {q.notes}]"
        if q.minutes:
            line += f" [{q.minutes} min]"
        lines.append(line)
    return "\n".join(lines)


def _teaching_notes_text(data: CaseData) -> str:
    notes = TeachingNotesInput.from_data(data.teaching_notes)
    return "\n".join(
        f"{name.replace('_', ' ').capitalize()}: {getattr(notes, name)}"
        for name in TeachingNotesInput.FIELDS
        if getattr(notes, name)
    )


def diff_revisions(case: Case, first: int, second: int) -> list[FieldDiff]:
    """Every field that differs between two revisions, as word-level pieces."""
    a, b = revision_data(get_revision(case, first)), revision_data(get_revision(case, second))
    fields = [
        ("Title", a.title, b.title),
        ("Summary", a.summary, b.summary),
        ("Seat", a.seat, b.seat),
        ("Care setting", a.setting or "", b.setting or ""),
        ("Leadership dimensions", ", ".join(a.dimensions), ", ".join(b.dimensions)),
        ("Tags", ", ".join(a.tags), ", ".join(b.tags)),
        ("Status", a.status, b.status),
        ("Consent", CONSENT_LABELS.get(a.consent, a.consent), CONSENT_LABELS.get(b.consent, b.consent)),
        ("Review by", str(a.review_by or ""), str(b.review_by or "")),
        ("Questions", _questions_text(a), _questions_text(b)),
        ("Teaching notes", _teaching_notes_text(a), _teaching_notes_text(b)),
        ("Text", a.body, b.body),
    ]
    return [FieldDiff(label, _word_diff(x, y)) for label, x, y in fields if x != y]


# -- the bin ---------------------------------------------------------------------------------------
def delete_case(case: Case, actor: User, reason: str = "") -> None:
    """Move a case to the bin. A published case is unpublished first, with a reason: that is
    the only way a live case goes offline."""
    if case.is_deleted:
        raise CurationError("This case is already in the bin")
    if case.status == Status.PUBLISHED:
        if not reason.strip():
            raise CurationError("This case is published: say why it is leaving the library")
        change_status(case, Status.DRAFT, actor, f"Moved to the bin: {reason.strip()}")
    case.deleted_at = utcnow()
    audit.record(actor, "delete", case=case, detail=f"Moved to the bin for {BIN_DAYS} days")


def restore_case(case: Case, actor: User) -> None:
    if not case.is_deleted:
        raise CurationError("This case is not in the bin")
    case.deleted_at = None
    audit.record(actor, "restore", case=case, detail="Restored from the bin")


def binned_cases() -> list[Case]:
    return list(db.session.scalars(select(Case).where(Case.is_deleted).order_by(Case.deleted_at.desc())))


def get_binned_case(case_id: int) -> Case:
    case = db.session.get(Case, case_id)
    if case is None or not case.is_deleted:
        raise LookupError(case_id)
    return case


def purge_expired(now: datetime | None = None, actor: User | None = None) -> int:
    """Delete for good the cases that have been in the bin longer than BIN_DAYS."""
    cutoff = (now or utcnow()) - timedelta(days=BIN_DAYS)
    expired = db.session.scalars(select(Case).where(Case.is_deleted, Case.deleted_at < cutoff)).all()
    for case in expired:
        audit.record(actor, "purge", case=case, detail=f"Deleted for good after {BIN_DAYS} days in the bin")
        db.session.delete(case)
    return len(expired)


def bin_expiry(case: Case) -> datetime | None:
    return case.deleted_at + timedelta(days=BIN_DAYS) if case.deleted_at else None


# -- dashboard and coverage ------------------------------------------------------------------------
EMPTY_SEARCH_DAYS = 30  # the dashboard's gaps: zero-result searches of the last 30 days


@dataclass(frozen=True)
class Dashboard:
    in_review: list[Case]
    drafts_by_author: list[tuple[str, list[Case]]]
    past_review_date: list[Case]  # overdue: the review date has passed
    without_questions: list[Case]
    without_dimensions: list[Case]
    empty_searches: list[tuple[str, int]]
    due_for_review: list[Case] = field(default_factory=list)  # review date within REVIEW_DUE_DAYS
    today: date = field(default_factory=date.today)

    def days_until_review(self, case: Case) -> int | None:
        return (case.review_by - self.today).days if case.review_by else None


REVIEW_DUE_DAYS = 30


def dashboard(today: date | None = None) -> Dashboard:
    today = today or date.today()
    live = select(Case).where(~Case.is_deleted).options(selectinload(Case.author))
    in_review = db.session.scalars(live.where(Case.status == Status.REVIEW).order_by(Case.updated_at)).all()
    drafts = db.session.scalars(live.where(Case.status == Status.DRAFT).order_by(Case.title)).all()
    by_author: dict[str, list[Case]] = {}
    for case in drafts:
        by_author.setdefault(case.author.name if case.author else "Imported (no author)", []).append(case)
    past = db.session.scalars(live.where(Case.review_by < today).order_by(Case.review_by, Case.title)).all()
    due = db.session.scalars(
        live.where(Case.review_by >= today, Case.review_by <= today + timedelta(days=REVIEW_DUE_DAYS)).order_by(
            Case.review_by, Case.title
        )
    ).all()
    published = live.where(Case.status == Status.PUBLISHED)
    no_questions = db.session.scalars(published.where(~Case.questions.any()).order_by(Case.title)).all()
    no_dimensions = db.session.scalars(
        published.where(~Case.id.in_(select(case_dimension.c.case_id))).order_by(Case.title)
    ).all()
    since = utcnow().date() - timedelta(days=EMPTY_SEARCH_DAYS)
    searches = func.sum(SearchLog.count)
    rows = db.session.execute(
        select(SearchLog.query, searches)
        .where(SearchLog.day >= since)
        .group_by(SearchLog.query)
        .order_by(searches.desc(), SearchLog.query)
        .limit(50)
    ).all()
    return Dashboard(
        list(in_review),
        sorted(by_author.items()),
        list(past),
        list(no_questions),
        list(no_dimensions),
        [(q, n) for q, n in rows],
        list(due),
        today,
    )


@dataclass(frozen=True)
class Coverage:
    seats: list[str]
    dimensions: tuple[str, ...]
    counts: Counter[tuple[str, str]]

    def total_for_seat(self, seat: str) -> int:
        return sum(self.counts[(seat, d)] for d in self.dimensions)


def coverage() -> Coverage:
    """Published cases per seat and leadership dimension."""
    rows = db.session.execute(
        select(Case.seat, Dimension.name, func.count())
        .select_from(Case)
        .join(case_dimension)
        .join(Dimension)
        .where(Case.is_published)
        .group_by(Case.seat, Dimension.name)
    ).all()
    seats = sorted(
        set(db.session.scalars(select(Case.seat).where(Case.is_published))),
        key=str.casefold,
    )
    return Coverage(seats, LEADERSHIP_DIMENSIONS, Counter({(s, d): n for s, d, n in rows}))


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
        raise LookupError(slug)
    return case
