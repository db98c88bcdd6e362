"""The bin: a deleted case waits BIN_DAYS before it is deleted for good, and can be restored
until then."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from casestudies.audit import services as audit
from casestudies.curation.errors import CurationError, CurationNotFound
from casestudies.extensions import db
from casestudies.models import Case, User, utcnow

BIN_DAYS = 30


def delete_case(case: Case, actor: User) -> None:
    if case.is_deleted:
        raise CurationError("This case is already in the bin")
    case.deleted_at = utcnow()
    audit.record(actor, "delete", case=case, detail=f"Moved to the bin for {BIN_DAYS} days")


def restore_case(case: Case, actor: User) -> None:
    if not case.is_deleted:
        raise CurationError("This case is not in the bin")
    case.deleted_at = None
    audit.record(actor, "restore", case=case, detail="Restored from the bin")


def binned_cases() -> list[Case]:
    return list(db.session.scalars(select(Case).where(Case.is_deleted).order_by(Case.deleted_at.desc())))


def get_binned_case(case_id: int) -> Case:
    case = db.session.get(Case, case_id)
    if case is None or not case.is_deleted:
        raise CurationNotFound(case_id)
    return case


def purge_expired(now: datetime | None = None, actor: User | None = None) -> int:
    """Delete for good the cases that have been in the bin longer than BIN_DAYS."""
    cutoff = (now or utcnow()) - timedelta(days=BIN_DAYS)
    expired = db.session.scalars(select(Case).where(Case.is_deleted, Case.deleted_at < cutoff)).all()
    for case in expired:
        audit.record(actor, "purge", case=case, detail=f"Deleted for good after {BIN_DAYS} days in the bin")
        db.session.delete(case)
    return len(expired)


def bin_expiry(case: Case) -> datetime | None:
    return case.deleted_at + timedelta(days=BIN_DAYS) if case.deleted_at else None
