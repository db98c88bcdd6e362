"""Each server's job runner: threads in the one process that holds the server's runner
lock (JOBS_DIR/runner.lock, casestudies/background/lock.py: the server's background process
holds it; a second one waits and takes over if the first dies), as the search indexer is
elected. The runner claims due jobs from the shared job table, renews the lease of those
it runs (a heartbeat), and leaves the outcome on the job. Renders also take one of the
server's RENDER_CONCURRENCY slots.

Resting: a worker thread that found nothing due waits on the database watch
(casestudies/background/watch.py) and the next due time (a retry's backoff, a lease that
runs out), not on a query every JOB_POLL_SECONDS.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from pathlib import Path

from flask import Flask

from casestudies.background.lock import ServerLock
from casestudies.background.watch import get_watch
from casestudies.extensions import db
from casestudies.jobs import queue

LOCK_FILE = "runner.lock"
ELECTION_RETRY_S = 2.0
PRUNE_EVERY_BEATS = 180  # with the default lease of 60 s: about once an hour
IDLE_MAX_S = 60.0  # an idle worker claims at least this often (clock changes, missed wake-ups)
log = logging.getLogger(__name__)


def runner_name(app: Flask) -> str:
    label = app.config.get("SERVER_NAME_LABEL") or socket.gethostname()
    return f"{label}:{os.getpid()}:{Path(app.config['JOBS_DIR']).resolve()}"[:200]


def render_slots(app: Flask) -> threading.BoundedSemaphore:
    """At most RENDER_CONCURRENCY renders at a time in this process (the server's runner)."""
    return app.extensions["job_render_slots"]


class Runner:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.directory = Path(app.config["JOBS_DIR"])
        self.name = runner_name(app)
        self.lease = float(app.config["JOB_LEASE_SECONDS"])
        self.poll = float(app.config["JOB_POLL_SECONDS"])
        self.threads = int(app.config["JOB_THREADS"])
        self._lock = ServerLock(self.directory / LOCK_FILE)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._workers: list[threading.Thread] = []
        self._running: set[int] = set()
        self._running_lock = threading.Lock()

    # -- election ---------------------------------------------------------------------------
    def try_lead(self) -> bool:
        return self._lock.acquire()

    def resign(self) -> None:
        self._lock.release()

    @property
    def leads(self) -> bool:
        return self._lock.held

    # -- running ----------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._lead, name=f"job-runner {self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming; a job under way finishes if it can within `timeout` (one that
        can't is taken over by a runner once its lease runs out)."""
        self._stop.set()
        get_watch(self.app).close()  # wakes resting workers; a later wait opens it again
        for thread in [self._thread, *self._workers]:
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout)
        self._thread, self._workers = None, []
        self.resign()

    def _lead(self) -> None:
        while not self._stop.is_set():
            if self.try_lead():
                break
            self._stop.wait(ELECTION_RETRY_S)
        if self._stop.is_set():
            return
        log.info("job runner %s leads with %d threads", self.name, self.threads)
        self._workers = [
            threading.Thread(target=self._work, name=f"job-worker {i}", daemon=True) for i in range(self.threads)
        ]
        for worker in self._workers:
            worker.start()
        # The heartbeat: renew the lease of every job this runner holds; now and then, prune.
        beats = 0
        while not self._stop.wait(self.lease / 3):
            self._renew()
            beats += 1
            if beats % PRUNE_EVERY_BEATS == 1:
                self._prune()

    def _prune(self) -> None:
        with self.app.app_context():
            try:
                queue.prune(
                    float(self.app.config["JOB_KEEP_FINISHED_DAYS"]), float(self.app.config["JOB_KEEP_FAILED_DAYS"])
                )
            except Exception:
                db.session.rollback()
                log.exception("could not prune old jobs")
            finally:
                db.session.remove()

    def _renew(self) -> None:
        with self._running_lock:
            held = set(self._running)
        if not held:
            return
        with self.app.app_context():
            for job_id in held:
                try:
                    queue.renew(job_id, self.name, self.lease)
                except Exception:
                    db.session.rollback()
                    log.exception("could not renew the lease of job %s", job_id)

    def _work(self) -> None:
        failures = 0
        watch = get_watch(self.app)
        while not self._stop.is_set():
            token = watch.token()  # before the claim: a job enqueued from now on wakes it
            try:
                did = self.run_one()
                failures = 0
            except Exception:
                failures += 1
                log.exception("job runner %s: claiming failed", self.name)
                self._stop.wait(min(30.0, 0.5 * 2**failures))
                continue
            if not did:
                self._rest(token)

    def _rest(self, token: int) -> None:
        """Until a commit since `token`, or the next job's due time, or IDLE_MAX_S."""
        watch = get_watch(self.app)
        try:
            with self.app.app_context():
                due_in = queue.seconds_until_due()
                db.session.remove()
        except Exception:
            log.exception("job runner %s: could not read when the next job is due", self.name)
            due_in = self.poll
        until = time.monotonic() + min(IDLE_MAX_S, due_in if due_in is not None else IDLE_MAX_S)
        while not self._stop.is_set():
            remaining = until - time.monotonic()
            if remaining <= 0 or watch.wait(token, remaining):
                return

    def run_one(self) -> bool:
        """Claim and do one due job; False if none was due."""
        with self.app.app_context():
            with self._running_lock:
                running = set(self._running)
            job_id = queue.claim(self.name, self.lease, running=running)
            if job_id is None:
                return False
            with self._running_lock:
                self._running.add(job_id)
            try:
                state = queue.execute(
                    job_id, self.name, retry_base_seconds=float(self.app.config["JOB_RETRY_BASE_SECONDS"])
                )
                log.info("job %s: %s (runner %s)", job_id, state, self.name)
            finally:
                with self._running_lock:
                    self._running.discard(job_id)
                db.session.remove()
            return True

    def run_until_empty(self, limit: int = 10_000) -> int:
        """Do due jobs in this thread until none is due (the CLI, tests). How many ran."""
        done = 0
        while done < limit and self.run_one():
            done += 1
        return done
