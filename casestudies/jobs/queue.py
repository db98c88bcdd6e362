"""The queue's operations on the job table: enqueue (inside the caller's transaction),
claim (one runner wins), finish, retry with backoff, fail; and what the admin page reads.

Claiming is a conditional UPDATE (`... WHERE id = ? AND state = 'queued'`): of two
runners that pick the same row, the database lets exactly one change it. On PostgreSQL
the candidates are also read with SKIP LOCKED, so runners don't queue behind each other.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, text, update

from casestudies.errors import Refused
from casestudies.extensions import db
from casestudies.models import User, utcnow
from casestudies.models.jobs import FAILED, FINISHED, QUEUED, REFUSED, RUNNING, Job

BACKOFF_CAP_SECONDS = 3600.0
CHANNEL = "job_queue"  # casestudies/background/watch.py listens on it


class JobRefused(Exception):
    """The work can't be done (not a passing failure): the job is `refused` with this
    message for the user, and isn't retried."""


@dataclass(frozen=True)
class Handler:
    run: Callable[[Job, dict[str, Any]], bytes | None]
    max_attempts: int


HANDLERS: dict[str, Handler] = {}
Work = Callable[..., bytes | None]


def handler(kind: str, *, max_attempts: int = 5) -> Callable[[Work], Work]:
    """Register the function that does jobs of `kind`: f(job, payload) -> result or None."""

    def register(run: Work) -> Work:
        HANDLERS[kind] = Handler(run, max_attempts)
        return run

    return register


def enqueue(
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    key: str | None = None,
    owner: User | None = None,
    label: str = "",
    max_attempts: int | None = None,
) -> Job:
    """A new queued job, flushed in the caller's transaction: it exists if and only if the
    caller's change commits (nothing is sent or made for a change that rolled back)."""
    if kind not in HANDLERS:
        raise KeyError(f"no handler for jobs of kind {kind!r}")
    job = Job(
        kind=kind,
        key=key,
        owner_id=owner.id if owner is not None else None,
        payload=json.dumps(payload or {}),
        label=label[:200],
        max_attempts=max_attempts or HANDLERS[kind].max_attempts,
        run_after=utcnow(),
    )
    db.session.add(job)
    db.session.flush()
    _notify()
    return job


def _notify() -> None:
    """PostgreSQL: wake the runners' database watch when this transaction commits."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


def seconds_until_due() -> float | None:
    """How long until a job becomes claimable without any new commit (a retry's backoff,
    a running job's lease that runs out); None when none will."""
    now = utcnow()
    due = [
        db.session.scalar(select(func.min(Job.run_after)).where(Job.state == QUEUED)),
        db.session.scalar(select(func.min(Job.locked_until)).where(Job.state == RUNNING)),
    ]
    db.session.rollback()
    times = [moment for moment in due if moment is not None]
    return max(0.0, (min(times) - now).total_seconds()) if times else None


def _claimable(now: datetime):
    return or_(
        and_(Job.state == QUEUED, Job.run_after <= now),
        and_(Job.state == RUNNING, Job.locked_until < now),  # its runner stopped renewing
    )


def claim(
    runner: str, lease_seconds: float, kinds: set[str] | None = None, *, running: Collection[int] = ()
) -> int | None:
    """Take the next due job for `runner` and commit; its id, or None if none is due.
    `running`: the jobs this runner is doing now, never taken over by it (their lease may
    have lapsed on a stalled heartbeat: another runner may take them, not this one's own
    next thread, whose outcome would count as the first's)."""
    session = db.session
    now = utcnow()
    query = select(Job.id).where(_claimable(now)).order_by(Job.run_after, Job.id).limit(8)
    if kinds is not None:
        query = query.where(Job.kind.in_(kinds))
    if running:
        query = query.where(Job.id.not_in(list(running)))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    for job_id in session.scalars(query).all():
        taken = session.execute(
            update(Job)
            .where(Job.id == job_id, _claimable(now))
            .values(
                state=RUNNING,
                locked_by=runner,
                locked_until=now + timedelta(seconds=lease_seconds),
                attempts=Job.attempts + 1,
                started_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount == 1:
            session.commit()
            return job_id
    session.commit()
    return None


def renew(job_id: int, runner: str, lease_seconds: float) -> bool:
    """Extend the lease of a job this runner holds (its heartbeat); False if it lost it."""
    renewed = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.locked_by == runner, Job.state == RUNNING)
        .values(locked_until=utcnow() + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return renewed.rowcount == 1


def _held(job_id: int, runner: str):
    return update(Job).where(Job.id == job_id, Job.locked_by == runner, Job.state == RUNNING)


def backoff_seconds(attempts: int, base: float) -> float:
    """base, 2 base, 4 base, ... after the 1st, 2nd, 3rd failed attempt, at most an hour."""
    return min(base * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS)


def execute(job_id: int, runner: str, *, retry_base_seconds: float) -> str:
    """Do the claimed job; commit its outcome together with the handler's own changes, and
    only while this runner still holds it (a runner whose lease was taken over changes
    nothing). Returns the job's new state."""
    session = db.session
    job = session.get(Job, job_id)
    if job is None:
        return "gone"
    if job.attempts > job.max_attempts:  # its runners died on every attempt
        return _give_up(job_id, runner, f"Stopped: its worker ended {job.attempts - 1} times while running it.")
    registered = HANDLERS.get(job.kind)
    try:
        if registered is None:
            raise JobRefused(f"No handler for jobs of kind {job.kind!r} on this server.")
        result = registered.run(job, json.loads(job.payload))
    except JobRefused as refused:
        session.rollback()
        return _end(job_id, runner, REFUSED, error=str(refused))
    except Exception:
        session.rollback()
        error = traceback.format_exc(limit=8)[-4000:]
        job = session.get(Job, job_id)
        if job is not None and job.attempts < job.max_attempts:
            wait = backoff_seconds(job.attempts, retry_base_seconds)
            done = session.execute(
                _held(job_id, runner).values(
                    state=QUEUED,
                    error=error,
                    locked_by=None,
                    locked_until=None,
                    run_after=utcnow() + timedelta(seconds=wait),
                )
            )
            session.commit()
            return QUEUED if done.rowcount == 1 else "lost"
        return _end(job_id, runner, FAILED, error=error)
    return _end(job_id, runner, FINISHED, result=result)


def _end(job_id: int, runner: str, state: str, *, error: str | None = None, result: bytes | None = None) -> str:
    values: dict[str, Any] = {"state": state, "finished_at": utcnow(), "locked_until": None}
    if state == FINISHED:
        values["result"] = result
        values["error"] = None
        # A finished job keeps no input (a PDF's HTML can be megabytes); a failed or refused
        # one keeps it, to be tried again from the admins' page.
        values["payload"] = "{}"
    else:
        values["error"] = error
    done = db.session.execute(_held(job_id, runner).values(**values).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        db.session.rollback()  # taken over meanwhile: the other runner's outcome stands
        return "lost"
    db.session.commit()
    return state


def _give_up(job_id: int, runner: str, error: str) -> str:
    return _end(job_id, runner, FAILED, error=error)


# -- reading and retrying (the admin page, progress pages) -----------------------------------
def job_by_token(token: str) -> Job | None:
    if not token or len(token) > 32:
        return None
    return db.session.scalar(select(Job).where(Job.token == token))


def latest_with_key(key: str) -> Job | None:
    return db.session.scalar(select(Job).where(Job.key == key).order_by(Job.id.desc()).limit(1))


def counts() -> dict[str, int]:
    rows = db.session.execute(select(Job.state, func.count()).group_by(Job.state)).all()
    return {state: int(n) for state, n in rows}


def jobs_in(state: str | None, limit: int = 100) -> list[Job]:
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if state:
        query = query.where(Job.state == state)
    return list(db.session.scalars(query))


class NotRetryable(Refused):
    pass


def retry(job_id: int) -> Job:
    """Queue a failed or refused job again, from its first attempt (the admin page)."""
    from casestudies.errors import NotFound

    job = db.session.get(Job, job_id)
    if job is None:
        raise NotFound()
    if job.state not in (FAILED, REFUSED):
        raise NotRetryable("Only a failed or refused job can be tried again.", status=409)
    job.state, job.attempts, job.run_after = QUEUED, 0, utcnow()
    job.locked_by = job.locked_until = job.finished_at = None
    db.session.flush()
    _notify()
    return job


def prune(finished_days: float, failed_days: float) -> int:
    """Delete finished jobs (and their results) older than `finished_days`, and failed or
    refused ones older than `failed_days` (a refusal is remembered that long). How many."""
    from sqlalchemy import delete

    now = utcnow()
    gone = db.session.execute(
        delete(Job).where(
            or_(
                and_(Job.state == FINISHED, Job.finished_at < now - timedelta(days=finished_days)),
                and_(Job.state.in_((FAILED, REFUSED)), Job.finished_at < now - timedelta(days=failed_days)),
            )
        )
    )
    db.session.commit()
    return int(gone.rowcount or 0)
