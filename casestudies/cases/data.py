"""A case as plain data: what the editor validates, the case-file format reads and writes,
and the revision writer stores."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from casestudies.cases.vocab import DEFAULT_CONSENT, DEFAULT_STATUS


@dataclass(frozen=True)
class QuestionData:
    text: str
    notes: str | None = None
    minutes: int | None = None


@dataclass(frozen=True)
class PlanStepData:
    minutes: int
    activity: str


@dataclass(frozen=True)
class TeachingNotesData:
    """A case's teaching note (facilitators only). Empty texts are None, empty lists ()."""

    synopsis: str | None = None
    objectives: tuple[str, ...] = ()
    suits: str | None = None
    opening_question: str | None = None
    plan: tuple[PlanStepData, ...] = ()
    board_plan: str | None = None
    key_points: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return self == TeachingNotesData()


@dataclass(frozen=True)
class CaseData:
    title: str
    slug: str
    summary: str
    seat: str
    body: str
    setting: str | None = None
    dimensions: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    questions: tuple[QuestionData, ...] = ()
    status: str = DEFAULT_STATUS
    consent: str = DEFAULT_CONSENT
    review_by: datetime.date | None = None
    updated: datetime.date | None = None
    teaching_notes: TeachingNotesData | None = None  # None: the file has none
