"""The reflection notebook and CPD log: the only code that reads or changes them.

Private to their owner: every function takes the owner and reaches only the owner's rows;
there is no function that lists or reads another user's entries, whatever the caller's
role (admins included). Every word a learner writes is sealed (sealing.py) before it is
stored; nothing here logs, audits or indexes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import selectinload

from casestudies.errors import NotFound, Refused
from casestudies.extensions import db
from casestudies.guides.handouts import handouts_opened_by
from casestudies.learning import limits
from casestudies.learning.sealing import cipher_for, reseal, seal, unseal
from casestudies.models import (
    AuditEvent,
    Case,
    CaseReport,
    CpdEntry,
    Guide,
    ReadingList,
    ReadingListItem,
    Reflection,
    User,
    cpd_entry_reflection,
    utcnow,
)
from casestudies.paging import RankedPage, paginate

KINDS = {"nmc": "NMC reflective account", "free": "Free-form reflection"}
# The four themes of the NMC Code.
CODE_THEMES = {
    "people": "Prioritise people",
    "effective": "Practise effectively",
    "safety": "Preserve safety",
    "trust": "Promote professionalism and trust",
}
# The NMC form's questions, in its order: (field, question).
NMC_QUESTIONS = (
    (
        "nature",
        "What was the nature of the CPD activity and/or practice-related feedback and/or event or experience "
        "in your practice?",
    ),
    (
        "learned",
        "What did you learn from the CPD activity and/or feedback and/or event or experience in your practice?",
    ),
    ("changed", "How did you change or improve your practice as a result?"),
    ("relevance", "How is this relevant to the Code?"),
)
CPD_METHODS = {
    "reading": "Reading (a case study, article or guidance)",
    "discussion": "Case discussion or group session",
    "course": "Course or workshop",
    "e-learning": "E-learning",
    "conference": "Conference or seminar",
    "supervision": "Clinical supervision, coaching or mentoring",
    "reflection": "Reflective practice",
    "other": "Other",
}
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
TITLE_MAX = 200
TEXT_MAX = 10_000
TOPIC_MAX = 300
HOURS_MAX = Decimal(200)
EARLIEST_YEAR = 1990


class NotebookNotFound(NotFound):
    """Not one of this user's entries (a 404, whoever asks)."""


class NotebookError(Refused):
    """A rule refused the entry: {field: message}, for the form."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


# -- reflections ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ReflectionInput:
    kind: str
    title: str
    nature: str = ""
    learned: str = ""
    changed: str = ""
    relevance: str = ""
    body: str = ""  # the free form's text
    themes: tuple[str, ...] = ()
    activity_month: int | None = None
    activity_year: int | None = None
    case_id: int | None = None
    guide_id: int | None = None  # a session whose handout the writer opened


@dataclass(frozen=True)
class OpenReflection:
    """A reflection with its sealed words opened: for its owner's eyes only."""

    reflection: Reflection
    text: ReflectionInput

    @property
    def id(self) -> int:
        return self.reflection.id

    @property
    def kind_label(self) -> str:
        return KINDS[self.text.kind]

    @property
    def theme_labels(self) -> list[str]:
        return [CODE_THEMES[key] for key in self.text.themes if key in CODE_THEMES]

    @property
    def when(self) -> str:
        return month_label(self.text.activity_month, self.text.activity_year)

    @property
    def case(self) -> Case | None:
        return self.reflection.case

    @property
    def session(self) -> Guide | None:
        return self.reflection.guide


def month_label(month: int | None, year: int | None) -> str:
    if year is None:
        return ""
    return f"{MONTHS[month - 1]} {year}" if month else str(year)


def _reflection_query(owner: User):
    return (
        select(Reflection)
        .where(Reflection.owner_id == owner.id)
        .options(selectinload(Reflection.case), selectinload(Reflection.guide))
    )


def get_own_reflection(reflection_id: int, owner: User) -> Reflection:
    reflection = db.session.scalar(_reflection_query(owner).where(Reflection.id == reflection_id))
    if reflection is None:
        raise NotebookNotFound(reflection_id)
    return reflection


def open_reflection(reflection: Reflection) -> OpenReflection:
    words = unseal(reflection.sealed)
    text = ReflectionInput(
        kind=reflection.kind,
        title=str(words.get("title", "")),
        nature=str(words.get("nature", "")),
        learned=str(words.get("learned", "")),
        changed=str(words.get("changed", "")),
        relevance=str(words.get("relevance", "")),
        body=str(words.get("body", "")),
        themes=tuple(str(theme) for theme in words.get("themes", [])),
        activity_month=reflection.activity_month,
        activity_year=reflection.activity_year,
        case_id=reflection.case_id,
        guide_id=reflection.guide_id,
    )
    return OpenReflection(reflection, text)


def last_kind(owner: User) -> str:
    """The form ("nmc" or "free") of the owner's most recently written reflection: a new one
    opens in it. "nmc" for a first reflection."""
    kind = db.session.scalar(
        select(Reflection.kind)
        .where(Reflection.owner_id == owner.id)
        .order_by(Reflection.created_at.desc(), Reflection.id.desc())
        .limit(1)
    )
    return kind if kind in KINDS else "nmc"


def _reflections_in_order(owner: User):
    """The owner's reflections, the most recent learning first."""
    return _reflection_query(owner).order_by(
        Reflection.activity_year.desc().nulls_last(),
        Reflection.activity_month.desc().nulls_last(),
        Reflection.created_at.desc(),
        Reflection.id.desc(),
    )


def reflections_of(owner: User) -> list[OpenReflection]:
    return [open_reflection(row) for row in db.session.scalars(_reflections_in_order(owner))]


def reflections_page(owner: User, page: int, per_page: int) -> RankedPage:
    """One page of the owner's reflections, decrypting only those it shows."""
    rows = paginate(_reflections_in_order(owner), page, per_page)
    opened = [open_reflection(row) for row in rows.items]
    return RankedPage(opened, total=rows.total or 0, page=rows.page, per_page=per_page)


def _check_reflection(owner: User, data: ReflectionInput) -> tuple[ReflectionInput, Case | None]:
    errors: dict[str, str] = {}
    if data.kind not in KINDS:
        errors["kind"] = "Choose the NMC reflective account or the free form"
    title = " ".join(data.title.split())
    if not title:
        errors["title"] = "Enter a title (for you: it is never shown to anyone else)"
    elif len(title) > TITLE_MAX:
        errors["title"] = f"The title is at most {TITLE_MAX} characters"
    for name in ("nature", "learned", "changed", "relevance", "body"):
        if len(getattr(data, name)) > TEXT_MAX:
            errors[name] = f"This answer is at most {TEXT_MAX:,} characters"
    if data.kind == "nmc" and not any(getattr(data, name).strip() for name, _ in NMC_QUESTIONS):
        errors["nature"] = "Answer at least one of the four questions"
    if data.kind == "free" and not data.body.strip():
        errors["body"] = "Write your reflection"
    if any(theme not in CODE_THEMES for theme in data.themes):
        errors["themes"] = "Choose themes of the Code from the list"
    this_year = utcnow().year
    if data.activity_month is not None and not 1 <= data.activity_month <= 12:
        errors["activity_month"] = "Choose a month from the list"
    if data.activity_year is not None and not EARLIEST_YEAR <= data.activity_year <= this_year + 1:
        errors["activity_year"] = f"Enter a year from {EARLIEST_YEAR} to {this_year + 1}"
    if data.activity_month is not None and data.activity_year is None:
        errors["activity_year"] = "Enter the year as well as the month"
    case = None
    if data.case_id is not None:
        case = db.session.get(Case, data.case_id)
        if case is None or not owner.can_view_case(case):
            errors["case_id"] = "That case is not in the library"
    if data.guide_id is not None and data.guide_id not in {guide.id for guide in handouts_opened_by(owner)}:
        errors["guide_id"] = "Choose one of the sessions whose handout you opened"
    if errors:
        raise NotebookError(errors)
    return ReflectionInput(
        kind=data.kind,
        title=title,
        nature=data.nature.strip(),
        learned=data.learned.strip(),
        changed=data.changed.strip(),
        relevance=data.relevance.strip(),
        body=data.body.strip(),
        themes=tuple(key for key in CODE_THEMES if key in data.themes),
        activity_month=data.activity_month,
        activity_year=data.activity_year,
        case_id=data.case_id,
        guide_id=data.guide_id,
    ), case


def _sealed_words(data: ReflectionInput) -> str:
    words: dict[str, Any] = {"title": data.title, "themes": list(data.themes)}
    if data.kind == "nmc":
        words.update({name: getattr(data, name) for name, _ in NMC_QUESTIONS})
    else:
        words["body"] = data.body
    return seal(words)


def save_reflection(owner: User, data: ReflectionInput, reflection: Reflection | None = None) -> Reflection:
    """Create a reflection, or change one of the owner's."""
    if reflection is not None and reflection.owner_id != owner.id:
        raise NotebookNotFound(reflection.id)
    data, case = _check_reflection(owner, data)
    if reflection is None:
        if problem := limits.new_reflection_problem(owner):
            raise NotebookError({"title": problem})
        reflection = Reflection(owner_id=owner.id)
        db.session.add(reflection)
    else:
        # A case that became unavailable since stays linked when the link is kept.
        case = case or reflection.case
    reflection.kind = data.kind
    reflection.case_id = case.id if case is not None else None
    reflection.guide_id = data.guide_id
    reflection.activity_month = data.activity_month
    reflection.activity_year = data.activity_year
    reflection.sealed = _sealed_words(data)
    reflection.updated_at = utcnow()
    db.session.flush()
    return reflection


def delete_reflection(reflection: Reflection, owner: User) -> None:
    if reflection.owner_id != owner.id:
        raise NotebookNotFound(reflection.id)
    db.session.delete(reflection)
    db.session.flush()


# -- the CPD log ---------------------------------------------------------------------------
@dataclass(frozen=True)
class CpdInput:
    done_on: date | None
    method: str
    hours: str
    is_participatory: bool
    code_theme: str | None
    topic: str
    notes: str = ""
    reflection_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class OpenCpdEntry:
    entry: CpdEntry
    topic: str
    notes: str
    reflections: list[OpenReflection] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.entry.id

    @property
    def hours(self) -> str:
        return format_hours(self.entry.minutes)

    @property
    def method_label(self) -> str:
        return CPD_METHODS.get(self.entry.method, self.entry.method)

    @property
    def theme_label(self) -> str:
        return CODE_THEMES.get(self.entry.code_theme or "", "")


def format_hours(minutes: int) -> str:
    hours = Decimal(minutes) / 60
    return f"{hours.quantize(Decimal('0.01')).normalize():f}"


def parse_hours(text: str) -> int | None:
    """Minutes for hours typed as "1.5" or "1,5" (at most two decimals), None if not hours."""
    text = text.strip().replace(",", ".")
    if not text or len(text) > 8:
        return None
    try:
        hours = Decimal(text)
    except InvalidOperation:
        return None
    if not hours.is_finite() or hours <= 0 or hours > HOURS_MAX or hours.as_tuple().exponent < -2:
        return None
    return int((hours * 60).to_integral_value())


def _cpd_query(owner: User):
    return (
        select(CpdEntry)
        .where(CpdEntry.owner_id == owner.id)
        .options(selectinload(CpdEntry.reflections).selectinload(Reflection.case))
    )


def get_own_cpd_entry(entry_id: int, owner: User) -> CpdEntry:
    entry = db.session.scalar(_cpd_query(owner).where(CpdEntry.id == entry_id))
    if entry is None:
        raise NotebookNotFound(entry_id)
    return entry


def open_cpd_entry(entry: CpdEntry) -> OpenCpdEntry:
    words = unseal(entry.sealed)
    return OpenCpdEntry(
        entry,
        str(words.get("topic", "")),
        str(words.get("notes", "")),
        [open_reflection(r) for r in entry.reflections],
    )


def cpd_entries_of(owner: User) -> list[OpenCpdEntry]:
    rows = db.session.scalars(_cpd_query(owner).order_by(CpdEntry.done_on.desc(), CpdEntry.id.desc()))
    return [open_cpd_entry(row) for row in rows]


def save_cpd_entry(owner: User, data: CpdInput, entry: CpdEntry | None = None) -> CpdEntry:
    if entry is not None and entry.owner_id != owner.id:
        raise NotebookNotFound(entry.id)
    errors: dict[str, str] = {}
    if data.done_on is None:
        errors["done_on"] = "Enter the date as day, month and year"
    elif not date(EARLIEST_YEAR, 1, 1) <= data.done_on <= utcnow().date():
        errors["done_on"] = "The date must be in the past"
    if data.method not in CPD_METHODS:
        errors["method"] = "Choose a method from the list"
    minutes = parse_hours(data.hours)
    if minutes is None:
        errors["hours"] = f"Enter the hours as a number from 0.01 to {HOURS_MAX}, for example 1.5"
    if data.code_theme and data.code_theme not in CODE_THEMES:
        errors["code_theme"] = "Choose a theme of the Code from the list"
    topic = " ".join(data.topic.split())
    if not topic:
        errors["topic"] = "Enter the topic"
    elif len(topic) > TOPIC_MAX:
        errors["topic"] = f"The topic is at most {TOPIC_MAX} characters"
    if len(data.notes) > TEXT_MAX:
        errors["notes"] = f"The notes are at most {TEXT_MAX:,} characters"
    reflections = []
    if data.reflection_ids:
        reflections = list(
            db.session.scalars(
                select(Reflection).where(Reflection.owner_id == owner.id, Reflection.id.in_(data.reflection_ids))
            )
        )
        if len(reflections) != len(set(data.reflection_ids)):
            errors["reflection_ids"] = "Choose reflections from your own notebook"
    if entry is None and (problem := limits.new_cpd_entry_problem(owner)):
        errors.setdefault("topic", problem)
    if errors:
        raise NotebookError(errors)
    if entry is None:
        entry = CpdEntry(owner_id=owner.id)
        db.session.add(entry)
    entry.done_on = data.done_on
    entry.method = data.method
    entry.minutes = minutes
    entry.is_participatory = data.is_participatory
    entry.code_theme = data.code_theme or None
    entry.sealed = seal({"topic": topic, "notes": data.notes.strip()})
    entry.reflections = reflections
    entry.updated_at = utcnow()
    db.session.flush()
    return entry


def delete_cpd_entry(entry: CpdEntry, owner: User) -> None:
    if entry.owner_id != owner.id:
        raise NotebookNotFound(entry.id)
    db.session.delete(entry)
    db.session.flush()


# -- the whole notebook --------------------------------------------------------------------
def delete_notebook(owner: User) -> tuple[int, int]:
    """Delete every reflection and CPD entry of the owner, for good. Returns the counts."""
    entry_ids = select(CpdEntry.id).where(CpdEntry.owner_id == owner.id)
    reflection_ids = select(Reflection.id).where(Reflection.owner_id == owner.id)
    db.session.execute(
        delete(cpd_entry_reflection).where(
            cpd_entry_reflection.c.cpd_entry_id.in_(entry_ids)
            | cpd_entry_reflection.c.reflection_id.in_(reflection_ids)
        )
    )
    entries = db.session.execute(delete(CpdEntry).where(CpdEntry.owner_id == owner.id)).rowcount
    reflections = db.session.execute(delete(Reflection).where(Reflection.owner_id == owner.id)).rowcount
    db.session.expire_all()
    return reflections, entries


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def my_data(owner: User) -> dict[str, Any]:
    """Everything the app holds about the user, as plain data for a JSON download."""
    lists = db.session.scalars(
        select(ReadingList)
        .where(ReadingList.owner_id == owner.id)
        .options(selectinload(ReadingList.items).selectinload(ReadingListItem.case))
        .order_by(ReadingList.position, ReadingList.id)
    )
    reports = db.session.scalars(select(CaseReport).where(CaseReport.reporter_id == owner.id).order_by(CaseReport.id))
    guides = db.session.scalars(select(Guide).where(Guide.author_id == owner.id).order_by(Guide.id))
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.actor_id == owner.id).order_by(AuditEvent.id))
    return {
        "exported_at": _iso(utcnow()),
        "account": {
            "email": owner.email,
            "name": owner.name,
            "role": owner.role.value,
            "created_at": _iso(owner.created_at),
            "is_active": owner.is_active,
        },
        "reading_lists": [
            {
                "title": reading_list.title,
                "shared": reading_list.is_shared,
                "created_at": _iso(reading_list.created_at),
                "cases": [
                    {
                        "title": item.case_title,
                        "slug": item.case.slug if item.case else None,
                        "saved_at": _iso(item.added_at),
                    }
                    for item in reading_list.items
                ],
            }
            for reading_list in lists
        ],
        "reflections": [
            {
                "form": KINDS[opened.text.kind],
                "title": opened.text.title,
                "when": opened.when,
                "case": opened.case.title if opened.case else None,
                "session": opened.session.title if opened.session else None,
                **(
                    {question: getattr(opened.text, name) for name, question in NMC_QUESTIONS}
                    if opened.text.kind == "nmc"
                    else {"reflection": opened.text.body}
                ),
                "themes of the Code": opened.theme_labels,
                "created_at": _iso(opened.reflection.created_at),
                "updated_at": _iso(opened.reflection.updated_at),
            }
            for opened in reflections_of(owner)
        ],
        "cpd_log": [
            {
                "date": _iso(opened.entry.done_on),
                "method": opened.method_label,
                "topic": opened.topic,
                "hours": opened.hours,
                "participatory": opened.entry.is_participatory,
                "theme of the Code": opened.theme_label or None,
                "notes": opened.notes,
                "reflections": [r.text.title for r in opened.reflections],
            }
            for opened in cpd_entries_of(owner)
        ],
        "problem_reports": [
            {
                "case_id": report.case_id,
                "reason": report.reason,
                "text": report.text,
                "created_at": _iso(report.created_at),
            }
            for report in reports
        ],
        "discussion_guides": [
            {
                "title": guide.title,
                "audience": guide.audience,
                "how_it_went": guide.how_it_went,
                "created_at": _iso(guide.created_at),
            }
            for guide in guides
        ],
        "activity_log": [
            {"when": _iso(event.created_at), "action": event.action, "case": event.case_label, "detail": event.detail}
            for event in events
        ],
    }


# -- key rotation --------------------------------------------------------------------------
def reseal_everything(keys: list[str]) -> int:
    """Re-encrypt every reflection and CPD entry under keys[0] (the others only decrypt).
    Returns how many rows were re-encrypted; the caller commits."""
    cipher = cipher_for(keys)
    count = 0
    for model in (Reflection, CpdEntry):
        rows = db.session.execute(select(model.id, model.sealed, model.updated_at)).all()
        for row_id, sealed, updated_at in rows:
            # updated_at is given so that re-encryption does not count as the writer's change.
            db.session.execute(
                update(model).where(model.id == row_id).values(sealed=reseal(sealed, cipher), updated_at=updated_at)
            )
            count += 1
    db.session.expire_all()
    return count
