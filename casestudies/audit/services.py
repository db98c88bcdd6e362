"""The audit log: every change to cases, tags and accounts, with who and when.

Services call record() inside their own transaction, so an event is stored exactly when
the change it describes is committed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import delete, select, update

from casestudies.extensions import db
from casestudies.models import AuditEvent, Case, User, utcnow
from casestudies.paging import paginate

ACTIONS = (
    "create",
    "edit",
    "state",
    "review-override",
    "change-submit",
    "change-publish",
    "change-return",
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
    "user-details",
    "user-sign-in-method",
    "share-end",
    "report-create",
    "report-resolve",
    "sign-in",
    "sign-in-failed",
    "sign-out",
    "session-end",
    "sign-in-refused",
    "export",
    "list-share",
    "list-unshare",
    "handout-on",
    "handout-off",
    "password-reset",
    "search-term-add",
    "search-term-remove",
    "promotion-add",
    "promotion-remove",
    "wanted-add",
    "wanted-remove",
)


def _user_label(user: User | None) -> str:
    return f"{user.name} <{user.email}>" if user is not None else "system (command line)"


def record(
    actor: User | None, action: str, *, case: Case | None = None, detail: str = "", actor_label: str | None = None
) -> AuditEvent:
    """`actor_label` names someone who is not an account (a failed sign-in's email as typed)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        actor_label=(actor_label if actor_label is not None else _user_label(actor))[:300],
        action=action,
        case_id=case.id if case is not None else None,
        case_label=f"{case.title} ({case.slug})" if case is not None else None,
        detail=detail[:2000],
    )
    db.session.add(event)
    return event


# Repeats of one event (refused sign-ins for one account from one address; throttled ones
# from one address) within this window are counted on one row, so a client sending
# thousands of refused requests adds a handful of rows, not thousands.
REPEAT_WINDOW = timedelta(minutes=15)


def record_repeated(action: str, key: str, *, detail: str, actor_label: str) -> AuditEvent:
    """record(), or one more on the count of the row with the same action and `key` that
    began within REPEAT_WINDOW (its detail is kept: it describes the first)."""
    key = key[:400]
    since = utcnow() - REPEAT_WINDOW
    event = db.session.scalar(
        select(AuditEvent)
        .where(AuditEvent.action == action, AuditEvent.repeat_key == key, AuditEvent.created_at >= since)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    if event is None:
        event = record(None, action, detail=detail, actor_label=actor_label)
        event.repeat_key = key
        event.count = 1
        return event
    # Counted in SQL, not in Python: parallel requests each add their one.
    db.session.execute(
        update(AuditEvent).where(AuditEvent.id == event.id).values(count=AuditEvent.count + 1),
        execution_options={"synchronize_session": False},
    )
    db.session.expire(event, ["count"])
    return event


def prune_events() -> int:
    """Delete events older than AUDIT_RETENTION_DAYS (default two years). Returns how many."""
    cutoff = utcnow() - timedelta(days=int(current_app.config["AUDIT_RETENTION_DAYS"]))
    result = db.session.execute(delete(AuditEvent).where(AuditEvent.created_at < cutoff))
    return int(result.rowcount)


@dataclass(frozen=True)
class AuditFilters:
    actor_id: int | None = None
    case_id: int | None = None
    action: str | None = None
    since: date | None = None
    until: date | None = None


def _events_query(filters: AuditFilters):
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
    return query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())


def list_events(filters: AuditFilters, page: int = 1, per_page: int = 50) -> Pagination:
    return paginate(_events_query(filters), page, per_page)


# -- CSV export ------------------------------------------------------------------------------------
CSV_HEADER = ("id", "when (UTC)", "who", "who (account id)", "action", "case", "case (id)", "detail", "times")
# A spreadsheet reads a cell starting with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> str:
    """A cell's text that a spreadsheet shows as text: a leading = + - @ tab or carriage
    return is prefixed with a single quote (OWASP's advice for CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def events_csv(filters: AuditFilters, actor: User, batch: int = 1000) -> Iterator[str]:
    """The filtered log as CSV, a batch of rows at a time, newest first. The export itself
    is recorded (before the first row, in the request's transaction)."""
    record(actor, "export", detail=f"Audit log exported as CSV{_describe(filters)}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    query = _events_query(filters)
    offset = 0
    while True:
        events = db.session.scalars(query.limit(batch).offset(offset)).all()
        for event in events:
            writer.writerow(
                [
                    csv_safe(value)
                    for value in (
                        event.id,
                        event.created_at.isoformat(sep=" ", timespec="seconds"),
                        event.actor_label,
                        event.actor_id,
                        event.action,
                        event.case_label,
                        event.case_id,
                        event.detail,
                        event.count,
                    )
                ]
            )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(events) < batch:
            return
        offset += batch


def _describe(filters: AuditFilters) -> str:
    parts = [
        f"{name}={value}"
        for name, value in (
            ("person", filters.actor_id),
            ("case", filters.case_id),
            ("action", filters.action),
            ("since", filters.since),
            ("until", filters.until),
        )
        if value not in (None, "")
    ]
    return f" (filters: {', '.join(parts)})" if parts else ""
