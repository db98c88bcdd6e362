"""The presenter view's items: a guide's timed plan as one thing at a time for the room.

Each segment is one item, and each question of an available case is one item, in the order
and with the minutes of the timed plan (guides/plan.py). The projected window shows an
item's title and minutes; only the facilitator's window gets its notes. A case without
chosen questions, or no longer published, adds no time to the plan and has no item.
"""

from __future__ import annotations

from dataclasses import dataclass

from casestudies.guides.plan import GuidePlan, PlannedCase, teaching_notes


@dataclass(frozen=True)
class PresenterItem:
    number: int  # 1-based, in the order of the session
    kind: str  # "segment" or "question"
    title: str  # the segment's title, or the whole question
    context: str  # what it belongs to: "Case 2 of 3: …, question 1 of 4", or "Segment"
    minutes: int
    starts_at: int  # minutes from the start of the session
    planned_clock: str  # the planned start: a clock time, or time elapsed
    notes: str | None  # facilitator-only
    # Facilitator-only, from the case's teaching note, on its first question.
    opening_question: str | None
    key_points: tuple[str, ...]


def presenter_items(plan: GuidePlan) -> list[PresenterItem]:
    items: list[PresenterItem] = []
    available = [c for c in plan.cases if c.is_available]
    for entry in plan.entries:
        if entry.is_segment:
            items.append(
                PresenterItem(
                    number=len(items) + 1,
                    kind="segment",
                    title=entry.title,
                    context="Segment",
                    minutes=entry.minutes,
                    starts_at=entry.starts_at,
                    planned_clock=plan.clock(entry.starts_at),
                    notes=None,
                    opening_question=None,
                    key_points=(),
                )
            )
            continue
        case: PlannedCase = entry
        if not case.is_available:
            continue
        note = teaching_notes(case.case)
        position = available.index(case) + 1
        for question in case.questions:
            first = note if question.number == 1 else None
            items.append(
                PresenterItem(
                    number=len(items) + 1,
                    kind="question",
                    title=question.text,
                    context=(
                        f"Case {position} of {len(available)}: {case.title}, "
                        f"question {question.number} of {len(case.questions)}"
                    ),
                    minutes=question.minutes,
                    starts_at=question.starts_at,
                    planned_clock=plan.clock(question.starts_at),
                    notes=question.notes,
                    opening_question=first.opening_question if first is not None else None,
                    key_points=first.key_points if first is not None else (),
                )
            )
    return items
