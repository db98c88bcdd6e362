"""The order of a guide's session: where a new segment goes ("before" or "after" a chosen
case or segment, else at the end) and a whole new order sent at once (the builder's
drag-and-drop and keyboard reordering, saved with the plan). Rows are named by keys such
as "case-3" and "segment-7" (the ids of GuideCase and GuideSegment rows)."""

from __future__ import annotations

from casestudies.guides.plan import plan_rows, segment_title
from casestudies.models import Guide, GuideCase, GuideSegment
from casestudies.ordering import renumber

END = "end"


class OrderRefused(ValueError):
    """The order or place sent does not match the guide (it changed meanwhile)."""


def row_key(row: GuideCase | GuideSegment) -> str:
    return f"{'segment' if isinstance(row, GuideSegment) else 'case'}-{row.id}"


def _sort_collections(guide: Guide) -> None:
    guide.items.sort(key=lambda item: item.position)
    guide.segments.sort(key=lambda segment: segment.position)


def _settle(guide: Guide, rows: list[GuideCase | GuideSegment]) -> None:
    """Number rows in this order; sort the ORM collections in place (assigning them would
    delete an orphan that is only changing place)."""
    renumber(rows)
    _sort_collections(guide)


def insert_at(guide: Guide, new_rows: list[GuideCase | GuideSegment], where: str = END) -> None:
    """Put rows new to the session's order (already in the guide's collections, or about to
    be) before or after the row named by `where` ("before:case-3", "after:segment-7"), or at
    the end for "end" or ""."""
    rows = [row for row in plan_rows(guide) if all(row is not new for new in new_rows)]
    index = _index_for(rows, where)
    rows[index:index] = new_rows
    _settle(guide, rows)


def _index_for(rows: list[GuideCase | GuideSegment], where: str) -> int:
    if where in ("", END):
        return len(rows)
    side, _, key = where.partition(":")
    keys = [row_key(row) for row in rows]
    if side not in ("before", "after") or key not in keys:
        raise OrderRefused("The place chosen for the segment is no longer in the session. Choose it again")
    return keys.index(key) + (1 if side == "after" else 0)


def apply_order(guide: Guide, keys: list[str]) -> bool:
    """Put the session in the order of `keys` (every case and segment once); False when it
    was already in that order. OrderRefused when the keys are not exactly the guide's rows."""
    rows = plan_rows(guide)
    by_key = {row_key(row): row for row in rows}
    if sorted(keys) != sorted(by_key):
        raise OrderRefused(
            "The session changed since the page was loaded, so the new order was not saved. Reload the page and "
            "order it again"
        )
    if keys == [row_key(row) for row in rows]:
        return False
    _settle(guide, [by_key[key] for key in keys])
    return True


def apply_question_order(item: GuideCase, question_ids: list[int]) -> bool:
    """Put a case's chosen questions in the order of `question_ids` (each once); False when
    they were already in that order. OrderRefused when the ids are not exactly its questions."""
    by_id = {question.id: question for question in item.questions}
    if sorted(question_ids) != sorted(by_id):
        raise OrderRefused(
            f"The questions of “{item.case_title}” changed since the page was loaded, so their new order was not "
            "saved. Reload the page and order them again"
        )
    if question_ids == [question.id for question in item.questions]:
        return False
    renumber([by_id[question_id] for question_id in question_ids])
    item.questions.sort(key=lambda question: question.position)
    return True


def shown_questions(questions: list, question_ids: list[int] | None) -> list:
    """A case's planned questions (PlannedQuestion) in the order typed in the page when it
    is shown again unsaved; as they are when the ids no longer match."""
    by_id = {planned.question.id: planned for planned in questions}
    if not question_ids or sorted(question_ids) != sorted(by_id):
        return questions
    return [by_id[question_id] for question_id in question_ids]


def place_choices(guide: Guide) -> list[tuple[str, str]]:
    """Where a new segment can go, for the builder's menu: the end first (the default), then
    before or after each case and segment of the session."""
    choices = [(END, "At the end of the session")]
    for row in plan_rows(guide):
        name = row.case_title if isinstance(row, GuideCase) else segment_title(row)
        short = name if len(name) <= 60 else name[:59].rstrip() + "…"
        choices.append((f"before:{row_key(row)}", f"Before “{short}”"))
        choices.append((f"after:{row_key(row)}", f"After “{short}”"))
    return choices


def shown_order(entries: list, keys: list[str] | None) -> list:
    """The plan's entries (PlannedCase, PlannedSegment) in the order typed in the page (by
    row keys) when it is shown again unsaved; as they are when the keys no longer match."""
    by_key = {row_key(entry.item if hasattr(entry, "item") else entry.segment): entry for entry in entries}
    if not keys or sorted(keys) != sorted(by_key):
        return entries
    return [by_key[key] for key in keys]
