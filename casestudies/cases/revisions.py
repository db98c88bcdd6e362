"""The revision writer: the only code that writes a case's content, keeping a revision of
every save that changes something. Editor, import, tag changes and restores all come here."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from casestudies.cases.data import CaseData, PlanStepData, QuestionData, TeachingNotesData
from casestudies.cases.vocab import LEADERSHIP_DIMENSIONS
from casestudies.extensions import db
from casestudies.models import Case, CaseRevision, Dimension, Question, Tag, TeachingNote, User
from casestudies.transfer.casefile.dump import dump_case_file


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
) -> tuple[Case, bool]:
    """Create or update a case from validated case data, keeping a revision of every save
    that changes something. Returns the case and whether anything changed.

    The caller commits (once, at the end of its unit of work).
    """
    data = normalised(data)
    if case is not None and is_unchanged(case, data):
        return case, False
    if case is None:
        case = Case(author=actor, version=0)
        db.session.add(case)
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
    record_revision(case, actor=actor, summary=summary, data=data)
    db.session.flush()
    return case, True


def record_revision(case: Case, *, actor: User | None, summary: str, data: CaseData | None = None) -> CaseRevision:
    """Record the case as it now is (or as `data`, already normalised) as a new revision;
    old revisions are never edited."""
    content = dump_case_file(data if data is not None else normalised(case_to_data(case)))
    case.version = (case.version or 0) + 1
    revision = CaseRevision(case=case, number=case.version, content=content, summary=summary[:200], author=actor)
    db.session.add(revision)
    return revision
