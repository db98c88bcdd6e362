""" "Was this case useful?": a reader's answer and optional comment, kept with their role
and the seat they choose to give, never with who they are."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from casestudies.errors import Refused
from casestudies.extensions import db
from casestudies.insights.recording import READ_SEEN, _digest, today
from casestudies.models import Case, CaseFeedback, User

MAX_COMMENT = 1000


class FeedbackRefused(Refused):
    pass


@dataclass(frozen=True)
class FeedbackInput:
    answer: str  # "yes" or "no"
    comment: str = ""
    seat: str = ""


def seat_choices() -> list[str]:
    """The seats of published cases: what a reader may say they are."""
    return sorted(set(db.session.scalars(select(Case.seat).where(Case.is_published).distinct())), key=str.casefold)


def record_feedback(viewer: User, case: Case, data: FeedbackInput) -> dict[str, str]:
    """The answer saved, or the problems by field. One answer per reader, case and day,
    checked by a digest that is gone once the day is (as reads are)."""
    errors: dict[str, str] = {}
    if data.answer not in ("yes", "no"):
        errors["useful"] = "Choose Yes or No."
    if len(data.comment) > MAX_COMMENT:
        errors["comment"] = f"Keep the comment to {MAX_COMMENT} characters or fewer."
    seat = data.seat.strip()
    if seat and seat not in seat_choices():
        errors["seat"] = "Choose a seat from the list, or leave it blank."
    if errors:
        return errors
    if not case.is_published:
        raise FeedbackRefused("Only published cases take answers.", status=400)
    day = today()
    digest = _digest(day, "feedback", case.id, viewer.id)[:32]
    first = db.session.execute(READ_SEEN, {"day": day, "digest": digest}).first()
    if first is None:
        raise FeedbackRefused("You have answered for this case today already: thank you.", status=409)
    db.session.add(
        CaseFeedback(
            case_id=case.id,
            day=day,
            is_useful=data.answer == "yes",
            comment=data.comment.strip(),
            role=viewer.role.value,
            seat=seat,
        )
    )
    return {}
