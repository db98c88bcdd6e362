"""The audit log: every change to cases, tags and accounts, with who and when.

Services call record() inside their own transaction, so an event is stored exactly when
the change it describes is committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select

from casestudies.extensions import db
from casestudies.models import AuditEvent, Case, User
from casestudies.paging import paginate

ACTIONS = (
    "create",
    "edit",
    "state",
    "review-override",
    "import",
    "delete",
    "restore",
    "purge",
    "revision-restore",
    "tag-rename",
    "tag-merge",
    "tag-delete",
    "user-create",
    "user-role",
    "user-active",
    "user-password",
)


def _user_label(user: User | None) -> str:
    return f"{user.name} <{user.email}>" if user is not None else "system (command line)"


def record(actor: User | None, action: str, *, case: Case | None = None, detail: str = "") -> AuditEvent:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        actor_label=_user_label(actor),
        action=action,
        case_id=case.id if case is not None else None,
        case_label=f"{case.title} ({case.slug})" if case is not None else None,
        detail=detail[:2000],
    )
    db.session.add(event)
    return event


@dataclass(frozen=True)
class AuditFilters:
    actor_id: int | None = None
    case_id: int | None = None
    action: str | None = None
    since: date | None = None
    until: date | None = None


def list_events(filters: AuditFilters, page: int = 1, per_page: int = 50) -> Pagination:
    query = select(AuditEvent)
    if filters.actor_id is not None:
        query = query.where(AuditEvent.actor_id == filters.actor_id)
    if filters.case_id is not None:
        query = query.where(AuditEvent.case_id == filters.case_id)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.since:
        query = query.where(AuditEvent.created_at >= datetime.combine(filters.since, datetime.min.time()))
    if filters.until:
        query = query.where(
            AuditEvent.created_at < datetime.combine(filters.until + timedelta(days=1), datetime.min.time())
        )
    return paginate(query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()), page, per_page)
