"""The weekly digest: the cases published or updated in the last 7 days in the seats (a
case's `seat`) and themes (curators' collections) a learner chose."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from casestudies.cases.vocab import Status
from casestudies.extensions import db
from casestudies.models import AuditEvent, Case, CaseStateChange, Collection, CollectionCase, DigestTopic

# The audit actions that put a new version of a published case live (curation/pending.py).
UPDATE_ACTIONS = ("change-publish", "review-override")


@dataclass(frozen=True)
class DigestCase:
    slug: str
    title: str
    seat: str
    is_new: bool


def seat_choices() -> list[str]:
    """The seats of the library's published cases, for the preferences form."""
    return list(db.session.scalars(select(Case.seat).where(Case.is_published).distinct().order_by(Case.seat)))


def theme_choices() -> list[Collection]:
    """The curators' themes (collections), for the preferences form."""
    return list(db.session.scalars(select(Collection).order_by(Collection.title)))


def recent_cases(since: datetime) -> dict[int, bool]:
    """Published cases that went live or changed since then: id -> whether it is new."""
    published = set(
        db.session.scalars(
            select(CaseStateChange.case_id).where(
                CaseStateChange.to_status == Status.PUBLISHED, CaseStateChange.created_at >= since
            )
        )
    )
    # Cases made published at once (an import that publishes) have no state change.
    published |= set(db.session.scalars(select(Case.id).where(Case.is_published, Case.created_at >= since)))
    updated = set(
        db.session.scalars(
            select(AuditEvent.case_id).where(
                AuditEvent.action.in_(UPDATE_ACTIONS),
                AuditEvent.created_at >= since,
                AuditEvent.case_id.is_not(None),
            )
        )
    )
    live = set(db.session.scalars(select(Case.id).where(Case.is_published, Case.id.in_(published | updated))))
    return {case_id: case_id in published for case_id in live}


def cases_for(user_id: int, recent: dict[int, bool]) -> list[DigestCase]:
    """The recent cases in the person's seats and themes, new ones first."""
    if not recent:
        return []
    topics = db.session.scalars(select(DigestTopic).where(DigestTopic.user_id == user_id)).all()
    seats = {t.seat for t in topics if t.seat}
    themes = {t.collection_id for t in topics if t.collection_id}
    if not seats and not themes:
        return []
    in_themes = (
        set(
            db.session.scalars(
                select(CollectionCase.case_id).where(
                    CollectionCase.collection_id.in_(themes), CollectionCase.case_id.in_(recent)
                )
            )
        )
        if themes
        else set()
    )
    rows = db.session.scalars(select(Case).where(Case.id.in_(recent)).order_by(Case.title)).all()
    chosen = [case for case in rows if case.seat in seats or case.id in in_themes]
    return sorted(
        (DigestCase(case.slug, case.title, case.seat, recent[case.id]) for case in chosen),
        key=lambda item: (not item.is_new, item.title.casefold()),
    )


def week_key(today: date) -> str:
    year, week, _ = today.isocalendar()
    return f"weekly-digest:{year}-W{week:02d}"


def window_start(today: date) -> datetime:
    return datetime.combine(today - timedelta(days=7), datetime.min.time())
