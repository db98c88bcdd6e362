"""The job table: the queue and the record of every job, in the app's own database."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from casestudies.extensions import db
from casestudies.models.base import utcnow

QUEUED, RUNNING, FINISHED, FAILED, REFUSED = "queued", "running", "finished", "failed", "refused"
STATES = (QUEUED, RUNNING, FAILED, REFUSED, FINISHED)


def new_token() -> str:
    return secrets.token_urlsafe(16)


class Job(db.Model):
    """One piece of slow work. `queued` until a runner claims it; `running` while a runner
    holds its lease (`locked_until`, renewed while it works: a runner that dies stops
    renewing and another takes the job over); then `finished`, `failed` (after its last
    attempt, with the error) or `refused` (the work can't be done, e.g. a PDF over the
    render budget: remembered, never retried by itself)."""

    __tablename__ = "job"
    __table_args__ = (Index("ix_job_state_run_after", "state", "run_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The address of its progress page and status: not guessable, unlike the id.
    token: Mapped[str] = mapped_column(String(32), unique=True, default=new_token)
    kind: Mapped[str] = mapped_column(String(40))
    # Jobs with the same key do the same work (e.g. a PDF of the same content): a finished
    # one's result, or a refusal, answers for all of them.
    key: Mapped[str | None] = mapped_column(String(120), index=True)
    # Whose job it is (a private result, e.g. a notebook PDF, is theirs alone); None: shared.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    payload: Mapped[str] = deferred(mapped_column(Text, default="{}"))
    state: Mapped[str] = mapped_column(String(10), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    run_after: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(200))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(200), default="")
    result: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
