"""A case's suggested plan (from its teaching notes) added to a guide as segments, around
the case's questions: reading and a welcome before them, everything else after, plenary and
close last. A step of a kind the session already has (a welcome, a plenary, a close, a
reading time for this case, or a step of the same name) is merged into the segment that is
there rather than added twice. The session's time is never silently overrun: the result
says by how much the session now runs over its length."""

from __future__ import annotations

import re
from dataclasses import dataclass

from casestudies.cases import PlanStepData, is_case_available
from casestudies.guides.editing import MAX_SEGMENTS, TITLE_MAX, GuideError, _item, touch
from casestudies.guides.plan import (
    plan_guide,
    plan_rows,
    segment_title,
    short_title,
    teaching_notes,
    unavailable_notice,
)
from casestudies.models import Guide, GuideCase, GuideSegment
from casestudies.ordering import renumber

# Words that say what a step is, tried in this order on its lower-cased text (the first
# match wins: "Close: what would you do on Monday?" is a close, not a discussion).
_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("break", re.compile(r"\b(break|coffee|tea|lunch)\b")),
    ("close", re.compile(r"\b(close|closing|wrap[- ]?up|final word|takeaways?|sum(?:mary|marise|up))\b")),
    ("plenary", re.compile(r"\b(plenary|whole[- ]group|whole[- ]room|report(?:s|ing)? back|debrief|full group)\b")),
    ("welcome", re.compile(r"\b(welcome|introductions?|ice[- ]?breaker)\b")),
    ("reading", re.compile(r"\b(read|reading|re-read)\b")),
)
BEFORE_KINDS = ("welcome", "reading")  # before the case's questions
LAST_KINDS = ("plenary", "close")  # after everything else the plan adds
SESSION_KINDS = ("welcome", "plenary", "close")  # one of each in a session


def step_kind(step: PlanStepData) -> str:
    """The kind of segment a step of a suggested plan is ("activity" when none fits)."""
    text = step.activity.lower()
    for kind, pattern in _KINDS:
        if pattern.search(text):
            return kind
    return "activity"


@dataclass(frozen=True)
class SuggestedPlanResult:
    added: list[GuideSegment]
    merged: list[tuple[str, GuideSegment]]  # (the step's text, the segment already there)
    total_minutes: int
    duration_minutes: int | None

    @property
    def over_by(self) -> int:
        if self.duration_minutes is None:
            return 0
        return max(0, self.total_minutes - self.duration_minutes)

    def message(self) -> str:
        """What happened, in one paragraph for the flash message."""
        parts = []
        if self.added:
            minutes = sum(segment.minutes for segment in self.added)
            parts.append(
                f"The case’s suggested plan was placed around its questions: {len(self.added)} "
                f"segment{'' if len(self.added) == 1 else 's'} added, {minutes} minutes."
            )
        else:
            parts.append("The case’s suggested plan added no segment: the session already has every step.")
        if self.merged:
            names = ", ".join(f"“{short_title(seg_title)}”" for seg_title in _merged_titles(self.merged))
            parts.append(f"Already in the session, so kept as they are: {names}.")
        if self.over_by:
            parts.append(
                f"The session now runs {self.over_by} minute{'' if self.over_by == 1 else 's'} over its "
                f"{self.duration_minutes} minutes ({self.total_minutes} planned): shorten or remove something."
            )
        elif self.duration_minutes is not None:
            parts.append(f"The plan still fits the {self.duration_minutes}-minute session.")
        return " ".join(parts)


def _merged_titles(merged: list[tuple[str, GuideSegment]]) -> list[str]:
    seen: list[str] = []
    for _step, segment in merged:
        title = segment_title(segment)
        if title not in seen:
            seen.append(title)
    return seen


def _existing(guide: Guide, item: GuideCase, kind: str, label: str) -> GuideSegment | None:
    """The segment already in the session that this step would repeat, if any."""
    for segment in guide.segments:
        if segment.label.strip().lower() == label.strip().lower():
            return segment
        if kind in SESSION_KINDS and segment.kind == kind:
            return segment
        if kind == "reading" and segment.kind == "reading" and segment.guide_case_id == item.id:
            return segment
    return None


def add_suggested_plan(guide: Guide, item_id: int) -> SuggestedPlanResult:
    """Add the steps of the case's suggested plan as segments, placed around the case:
    welcome and reading steps just before it, other steps just after it, and plenary and
    close steps after those; steps the session already has are merged (see _existing)."""
    item = _item(guide, item_id)
    if not is_case_available(item.case):
        raise GuideError(unavailable_notice(item))
    notes = teaching_notes(item.case)
    if notes is None or not notes.plan:
        raise GuideError(f"“{item.case_title}” has no suggested plan")
    before: list[GuideSegment] = []
    after: list[GuideSegment] = []
    last: list[GuideSegment] = []
    merged: list[tuple[str, GuideSegment]] = []
    for step in notes.plan:
        kind = step_kind(step)
        label = short_title(step.activity, TITLE_MAX)
        there = _existing(guide, item, kind, label) or next(
            (s for s in before + after + last if s.kind == kind and kind in SESSION_KINDS), None
        )
        if there is not None:
            merged.append((step.activity, there))
            continue
        segment = GuideSegment(
            kind=kind,
            label=label,
            minutes=step.minutes,
            position=0,
            item=item if kind == "reading" else None,
        )
        (before if kind in BEFORE_KINDS else last if kind in LAST_KINDS else after).append(segment)
    added = before + after + last
    if len(guide.segments) + len(added) > MAX_SEGMENTS:
        raise GuideError(f"A guide can hold at most {MAX_SEGMENTS} segments")
    rows = plan_rows(guide)
    at = rows.index(item)
    # Plenary and close go after what follows the case already up to the next case, so a
    # reading time or group work set after the case stays before them.
    end = at + 1
    while end < len(rows) and isinstance(rows[end], GuideSegment) and rows[end].kind not in LAST_KINDS:
        end += 1
    rows = rows[:at] + before + [item] + after + rows[at + 1 : end] + last + rows[end:]
    guide.segments.extend(added)
    renumber(rows)
    guide.segments.sort(key=lambda segment: segment.position)
    guide.items.sort(key=lambda row: row.position)
    touch(guide)
    plan = plan_guide(guide)
    return SuggestedPlanResult(added, merged, plan.total_minutes, guide.duration_minutes)
