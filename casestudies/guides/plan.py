"""A guide's timed plan as it reads now: its cases and segments in order, each question
timed from the start of the session.

Cases are never copied into a guide: it always shows the case's current published text.
A case that is no longer published (unpublished, in the bin, or purged) is shown by the
title it had when it was added, with a notice, and none of its text or questions; it adds
no time. The minutes themselves are typed in the builder and parsed by its form
(guides/forms.py, with params.parse_minutes); here they are only added up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from casestudies.cases import MINUTES_MAX, MINUTES_MIN, TeachingNotesData, is_case_available
from casestudies.cases.revisions import teaching_notes_data
from casestudies.models import Case, Guide, GuideCase, GuideQuestion, GuideSegment

DEFAULT_QUESTION_MINUTES = 10  # for a case question without suggested minutes
MINUTES_RANGE = (MINUTES_MIN, MINUTES_MAX)  # minutes for one question or segment
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


PlannedCase.is_segment = False


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


def teaching_notes(case: Case | None) -> TeachingNotesData | None:
    """A case's teaching note, for facilitators' pages only (guides are theirs alone)."""
    return teaching_notes_data(case.teaching_note) if case is not None else None


def short_title(title: str, limit: int = 40) -> str:
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"
