"""The revision writer: the only code that writes a case's content, keeping a revision of
every save that changes something. Editor, import, tag changes and restores all come here."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from casestudies.cases.data import CaseData, PlanStepData, QuestionData, TeachingNotesData
from casestudies.cases.vocab import LEADERSHIP_DIMENSIONS, Status
from casestudies.extensions import db
from casestudies.models import Case, CaseRevision, Dimension, Question, Tag, TeachingNote, User
from casestudies.transfer.casefile.dump import dump_case_file
from casestudies.transfer.casefile.parse import parse_case_file


# -- case files ----------------------------------------------------------------------------
def case_to_data(case: Case) -> CaseData:
    return CaseData(
        title=case.title,
        slug=case.slug,
        summary=case.summary,
        seat=case.seat,
        setting=case.setting,
        dimensions=tuple(d.name for d in case.dimensions),
        tags=tuple(t.name for t in case.tags),
        questions=tuple(QuestionData(q.text, q.notes, q.minutes) for q in case.questions),
        status=case.status,
        consent=case.consent,
        review_by=case.review_by,
        updated=case.updated_on,
        body=case.body,
        teaching_notes=teaching_notes_data(case.teaching_note),
    )


# A teaching note's lists are stored one item a line; a plan step as "<minutes> <activity>".
def teaching_notes_data(note: TeachingNote | None) -> TeachingNotesData | None:
    if note is None:
        return None

    def lines(text: str) -> tuple[str, ...]:
        return tuple(line.strip() for line in text.splitlines() if line.strip())

    steps = []
    for line in lines(note.suggested_plan):
        minutes, _, activity = line.partition(" ")
        steps.append(PlanStepData(int(minutes), activity.strip()))
    data = TeachingNotesData(
        synopsis=note.synopsis or None,
        objectives=lines(note.objectives),
        suits=note.suits or None,
        opening_question=note.opening_question or None,
        plan=tuple(steps),
        board_plan=note.board_plan or None,
        key_points=lines(note.key_points),
    )
    return None if data.is_empty() else data


def _apply_teaching_notes(case: Case, data: TeachingNotesData | None) -> None:
    if data is None or data.is_empty():
        case.teaching_note = None
        return
    note = case.teaching_note or TeachingNote()
    note.synopsis = data.synopsis or ""
    note.objectives = "\n".join(data.objectives)
    note.suits = data.suits or ""
    note.opening_question = data.opening_question or ""
    note.suggested_plan = "\n".join(f"{step.minutes} {step.activity}" for step in data.plan)
    note.board_plan = data.board_plan or ""
    note.key_points = "\n".join(data.key_points)
    case.teaching_note = note


def normalised(data: CaseData) -> CaseData:
    """The data as the library stores it: tags in alphabetical order and dimensions in the
    order of the Healthcare Leadership Model (the database keeps sets, not sequences), so
    that an unchanged file compares equal to its stored case."""
    order = {name: i for i, name in enumerate(LEADERSHIP_DIMENSIONS)}
    return replace(
        data,
        tags=tuple(sorted(data.tags, key=str.casefold)),
        dimensions=tuple(sorted(data.dimensions, key=lambda d: order.get(d, len(order)))),
    )


def is_unchanged(case: Case, data: CaseData) -> bool:
    return dump_case_file(case_to_data(case)) == dump_case_file(normalised(data))


# -- changing ------------------------------------------------------------------------------
def _tags_for(names: tuple[str, ...]) -> list[Tag]:
    keys = [name.casefold() for name in names]
    existing = {tag.key: tag for tag in db.session.scalars(select(Tag).where(Tag.key.in_(keys)))}
    tags = []
    for name, key in zip(names, keys, strict=True):
        tag = existing.get(key)
        if tag is None:
            tag = Tag(name=name, key=key)
            db.session.add(tag)
            existing[key] = tag
        tags.append(tag)
    return tags


def _dimensions_for(names: tuple[str, ...]) -> list[Dimension]:
    by_name = {d.name: d for d in db.session.scalars(select(Dimension))}
    return [by_name[name] for name in names]


def save_case_data(
    data: CaseData,
    *,
    actor: User | None,
    case: Case | None = None,
    summary: str = "Saved",
    direct: bool = False,
    pending_status: str | None = None,
    status_change: bool = False,
) -> tuple[Case, bool]:
    """Create or update a case from validated case data, keeping a revision of every save
    that changes something. Returns the case and whether anything changed.

    A published case's row is its live revision, what learners read: a change to it is
    recorded as a pending revision (`pending_status`: kept, or a draft) and the row is left
    alone, unless `direct` (the workflow publishing or unpublishing, or a publication an
    admin confirmed). `status_change` marks a revision the workflow wrote (only the status
    moved), so the two-person rule knows its actor wrote no content.

    The caller commits (once, at the end of its unit of work).
    """
    data = normalised(data)
    if case is not None and case.status == Status.PUBLISHED and not direct:
        return stage_change(case, data, actor=actor, summary=summary, pending_status=pending_status)
    if case is not None and is_unchanged(case, data):
        return case, False
    if case is None:
        case = Case(author=actor, version=0)
        db.session.add(case)
    _write_row(case, data)
    revision = record_revision(case, actor=actor, summary=summary, data=data)
    revision.is_status_change = status_change
    case.pending_revision_number = None
    case.pending_status = None
    db.session.flush()
    return case, True


def _write_row(case: Case, data: CaseData) -> None:
    case.slug = data.slug
    case.title = data.title
    case.summary = data.summary
    case.seat = data.seat
    case.setting = data.setting
    case.body = data.body
    case.status = data.status
    case.consent = data.consent
    case.review_by = data.review_by
    case.updated_on = data.updated
    case.tags = _tags_for(data.tags)
    case.dimensions = _dimensions_for(data.dimensions)
    case.questions = [
        Question(position=i, text=q.text, notes=q.notes, minutes=q.minutes) for i, q in enumerate(data.questions)
    ]
    _apply_teaching_notes(case, data.teaching_notes)


def record_revision(case: Case, *, actor: User | None, summary: str, data: CaseData | None = None) -> CaseRevision:
    """Record the case's row as it now is (or as `data`, already normalised) as a new
    revision; old revisions are never edited. For a published case it is the live one."""
    content = dump_case_file(data if data is not None else normalised(case_to_data(case)))
    revision = _new_revision(case, content, actor=actor, summary=summary)
    case.live_revision_number = revision.number if case.status == Status.PUBLISHED else None
    return revision


def _new_revision(case: Case, content: str, *, actor: User | None, summary: str) -> CaseRevision:
    case.version = (case.version or 0) + 1
    revision = CaseRevision(case=case, number=case.version, content=content, summary=summary[:200], author=actor)
    db.session.add(revision)
    return revision


# -- live and pending revisions --------------------------------------------------------------
def revision_numbered(case: Case, number: int) -> CaseRevision | None:
    return db.session.scalar(select(CaseRevision).where(CaseRevision.case_id == case.id, CaseRevision.number == number))


def pending_revision(case: Case) -> CaseRevision | None:
    """The change waiting for a second curator, if a published case has one."""
    if case.status != Status.PUBLISHED or case.pending_revision_number is None:
        return None
    return revision_numbered(case, case.pending_revision_number)


def working_data(case: Case) -> CaseData:
    """What a curator edits: a published case's pending change if it has one, else its row."""
    pending = pending_revision(case)
    if pending is None:
        return case_to_data(case)
    return parse_case_file(pending.content.encode("utf-8"), f"revision-{pending.number}.md")


def stage_change(
    case: Case, data: CaseData, *, actor: User | None, summary: str, pending_status: str | None = None
) -> tuple[Case, bool]:
    """Record a change to a published case as its pending revision, leaving the row (the
    live revision) as it is. A change while one is in review keeps it in review."""
    data = normalised(replace(data, status=Status.PUBLISHED))
    content = dump_case_file(data)
    if case.live_revision_number is None:  # published before live revisions were kept
        record_revision(case, actor=None, summary="The live revision")
    if content == dump_case_file(normalised(working_data(case))):
        pending = pending_revision(case)
        if pending is not None and pending_status == Status.REVIEW and case.pending_status != Status.REVIEW:
            case.pending_status = pending_status  # an import sends the same draft change for review
            pending.submitted_by = actor
        return case, False
    revision = _new_revision(case, content, actor=actor, summary=summary)
    status = pending_status or case.pending_status or Status.DRAFT
    if status == Status.REVIEW:
        revision.submitted_by = actor
    case.pending_revision_number = revision.number
    case.pending_status = status
    db.session.flush()
    return case, True


def apply_revision(case: Case, revision: CaseRevision) -> None:
    """Make a published case's pending revision its live one: the row takes its content
    (and the search journal its row, as the flush writes the case)."""
    data = parse_case_file(revision.content.encode("utf-8"), f"revision-{revision.number}.md")
    _write_row(case, normalised(replace(data, status=Status.PUBLISHED)))
    case.live_revision_number = revision.number
    case.pending_revision_number = None
    case.pending_status = None
    db.session.flush()
